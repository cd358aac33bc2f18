"""The bundled LeNet-5: trained on scikit-learn's digits, measured on the held-out split."""

from __future__ import annotations

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

import cnnviz
from cnnviz.digits import accuracy, digit_split, split_indices
from cnnviz.gallery import DIGIT_INDEX, gallery_image


def test_held_out_accuracy_is_at_least_97_percent():
    net = cnnviz.load("lenet5", device="cpu")
    split = digit_split()
    assert len(split.test_labels) == 450  # 25 % of 1,797, never seen in training
    assert accuracy(net.model, split.test_images, split.test_labels) >= 0.97


def test_about_sixty_thousand_parameters():
    assert 55_000 <= cnnviz.get_spec("lenet5").parameter_count() <= 65_000


def test_a_photo_of_dark_ink_on_paper_is_read_like_the_training_digits():
    """A held-out digit drawn dark on white at 10× size goes through the page's preprocessing."""
    net = cnnviz.load("lenet5", device="cpu")
    digits = load_digits()
    held_out = split_indices()[1][:20]
    correct = 0
    for i in held_out:
        ink = (digits.images[i] / 16.0 * 255).astype(np.uint8)
        paper = Image.fromarray(255 - ink).resize((80, 80), Image.NEAREST).convert("RGB")
        correct += cnnviz.predict(net, paper, top=1).scores[0].index == digits.target[i]
    assert correct >= 18


def test_gallery_digit_is_a_held_out_three_that_lenet5_reads():
    assert DIGIT_INDEX in split_indices()[1]
    assert load_digits().target[DIGIT_INDEX] == 3
    net = cnnviz.load("lenet5", device="cpu")
    top = cnnviz.predict(net, gallery_image("digit"), top=1).scores[0]
    assert top.label == "3" and top.prob > 0.9
