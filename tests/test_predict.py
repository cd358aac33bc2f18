"""Top-k prediction with real weights on real photos."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnviz
from cnnviz.device import select_device
from cnnviz.gallery import GALLERY, gallery_image
from tests.conftest import CAT_CLASSES, ESPRESSO


def test_chelsea_is_a_cat(lite0, chelsea):
    result = cnnviz.predict(lite0, chelsea)
    assert result.scores[0].index in CAT_CLASSES
    assert result.scores[0].label in {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}
    assert sum(s.prob for s in result.scores if s.index in CAT_CLASSES) > 0.8


def test_coffee_is_espresso(lite0, coffee):
    top = cnnviz.predict(lite0, coffee).scores[0]
    assert (top.index, top.label) == (ESPRESSO, "espresso")
    assert top.prob > 0.9


def test_scores_are_ranked_probabilities(lite0, chelsea):
    scores = cnnviz.predict(lite0, chelsea, top=10).scores
    assert [s.rank for s in scores] == list(range(1, 11))
    probs = [s.prob for s in scores]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-6


def test_crop_is_what_the_network_sees(lite0, chelsea):
    result = cnnviz.predict(lite0, chelsea)
    assert result.crop.shape == (224, 224, 3) and result.crop.dtype == np.uint8
    again = lite0.preprocess.normalise(lite0.preprocess.crop_image(chelsea))
    assert torch.equal(again, lite0.preprocess(chelsea))


@pytest.mark.parametrize("top", [0, -1, 1001])
def test_absurd_top_is_refused(lite0, chelsea, top):
    with pytest.raises(cnnviz.CnnvizError, match="between 1 and 1000"):
        cnnviz.predict(lite0, chelsea, top=top)


def test_every_gallery_photo_predicts(lite0):
    for name in GALLERY:
        assert len(cnnviz.predict(lite0, gallery_image(name)).scores) == 5


def test_device_choice_and_override(monkeypatch):
    assert select_device("cpu").type == "cpu"
    monkeypatch.setenv("CNNVIZ_DEVICE", "cpu")
    assert select_device().type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(cnnviz.CnnvizError, match="no CUDA GPU"):
            select_device("cuda")
    with pytest.raises(cnnviz.CnnvizError, match="Unknown device"):
        select_device("tpu-9000")
