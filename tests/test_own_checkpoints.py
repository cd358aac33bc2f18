"""Your own checkpoint and classes: any class count read from the classifier, names from a file, the usual
wrappers understood, ``.safetensors`` too, each checkpoint its own network; mismatches and bad names files
refused in one sentence; the command line's ``--weights FILE --labels FILE``.

The real network here is the bundled EfficientNet-Lite0 cut down to three of its ImageNet classes (its
real classifier rows for tabby cat, teapot and espresso): a three-class checkpoint whose answers are known
from the full network's logits.
"""

from __future__ import annotations

import json

import pytest
import timm
import torch
import torchvision.models

import cnnviz
from cnnviz.errors import CnnvizError, WeightsError
from cnnviz.explain.keys import result_key
from cnnviz.explain.methods import METHODS
from cnnviz.layers import layer_table
from cnnviz.models.own import LABELS_BYTES, OWN
from cnnviz.models.weights import WeightsSource
from tests.conftest import CLASSES


def _expected(lite0, image) -> torch.Tensor:
    """The full network's logits of the three classes, as probabilities among themselves."""
    with torch.inference_mode():
        logits = lite0.model(lite0.to_input(lite0.preprocess(image)))[0, list(CLASSES.values())]
    return logits.softmax(0)


def test_a_three_class_checkpoint_predicts_with_its_own_names(three_classes, lite0, chelsea):
    net = cnnviz.load("efficientnet_lite0", weights=str(three_classes / "mine.pt"), labels=three_classes / "names.txt")
    assert net.weights_source is WeightsSource.FILE and net.spec.labels == OWN and net.spec.classes == 3
    assert net.categories == tuple(CLASSES) and net.class_names("pt") == tuple(CLASSES)
    scores = cnnviz.predict(net, chelsea, 3).scores
    expected = _expected(lite0, chelsea)
    assert scores[0].label == "my cat"
    assert [s.prob for s in scores] == pytest.approx(sorted(expected.tolist(), reverse=True), abs=1e-5)
    assert layer_table(net.spec).layers[-1].out_shape == (3,)
    assert cnnviz.get_spec(net.spec.name) is net.spec  # registered under its digest


def test_safetensors_give_the_same_network_and_names_default_to_class_numbers(three_classes, lite0, coffee):
    net = cnnviz.load("efficientnet_lite0", weights=str(three_classes / "mine.safetensors"), device="cpu")
    assert net.categories == ("class 0", "class 1", "class 2")
    scores = cnnviz.predict(net, coffee, 3).scores
    assert scores[0].label == "class 2"  # espresso
    assert [s.prob for s in scores] == pytest.approx(sorted(_expected(lite0, coffee).tolist(), reverse=True), abs=1e-5)


def test_two_checkpoints_of_one_architecture_never_share_results(three_classes):
    pt = cnnviz.load("efficientnet_lite0", weights=str(three_classes / "mine.pt"), device="cpu")
    safetensors = cnnviz.load("efficientnet_lite0", weights=str(three_classes / "mine.safetensors"), device="cpu")
    assert pt.spec.name != safetensors.spec.name and pt.spec.name.startswith("efficientnet_lite0@sha256:")
    assert result_key("occlusion", pt, "photo") != result_key("occlusion", safetensors, "photo")


def test_explanations_target_the_checkpoints_classes(three_classes, chelsea):
    net = cnnviz.load("efficientnet_lite0", weights=str(three_classes / "mine.pt"), labels=three_classes / "names.txt")
    cam = METHODS["classmap"].run(net, chelsea, method="gradcam", target=2)
    assert cam.target == 2 and cam.values.max() > 0
    with pytest.raises(CnnvizError) as refused:
        METHODS["classmap"].run(net, chelsea, method="gradcam", target=3)
    assert refused.value.key == "target_range"


@pytest.mark.parametrize(
    ("name", "build", "classes"),
    [
        ("torchvision:squeezenet1_1", lambda: torchvision.models.squeezenet1_1(num_classes=4), 4),  # a 1×1 conv head
        ("timm:convnext_atto", lambda: timm.create_model("convnext_atto", num_classes=5), 5),  # head.fc
        ("resnet18", lambda: torchvision.models.resnet18(num_classes=2), 2),  # a zoo name
    ],
)
def test_library_and_zoo_architectures_take_their_class_count_from_the_checkpoint(
    name, build, classes, tmp_path, chelsea
):
    path = tmp_path / "ck.pth"
    torch.save(build().state_dict(), path)
    net = cnnviz.load(name, weights=str(path), device="cpu")
    assert net.spec.classes == classes and len(net.categories) == classes
    assert len(cnnviz.predict(net, chelsea, classes).scores) == classes
    assert layer_table(net.spec).layers[-1].out_shape[0] == classes


def test_a_checkpoint_of_another_architecture_names_what_does_not_fit(tmp_path):
    other = tmp_path / "resnet34.pt"
    torch.save(torchvision.models.resnet34(num_classes=3).state_dict(), other)
    with pytest.raises(WeightsError) as refused:
        cnnviz.load("resnet18", weights=str(other), device="cpu")
    assert refused.value.key == "weights_missing" and "layer1.2" in str(refused.value)
    state = torchvision.models.resnet18(num_classes=3).state_dict()
    state["layer1.0.conv1.weight"] = torch.zeros(64, 64, 5, 5)
    torch.save(state, tmp_path / "reshaped.pt")
    with pytest.raises(WeightsError) as refused:
        cnnviz.load("resnet18", weights=str(tmp_path / "reshaped.pt"), device="cpu")
    assert refused.value.key == "weights_shape"
    assert "layer1.0.conv1.weight" in str(refused.value) and "(64, 64, 5, 5)" in str(refused.value)
    assert "(64, 64, 3, 3)" in str(refused.value)


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (b"cat\ndog\n", "labels_count"),  # two names for three classes
        (b"cat\ndog\nteapot\nkettle\n", "labels_count"),
        (b"cat\n\xff\xfe\x00\nteapot\n", "labels_file"),  # not UTF-8
        (b"cat\n\ndog\n", "labels_file"),  # a blank name in the middle
        (b"cat\ndog\n" + b"x" * 500 + b"\n", "labels_file"),  # a name over 200 characters
        (b"cat\n![dog](http://example.org/x.png)\nteapot\n", "labels_file"),  # a picture in Markdown
        (b"cat\n" * (LABELS_BYTES // 4 + 1), "labels_file"),  # over the size limit
    ],
)
def test_bad_names_files_are_refused_in_one_sentence(three_classes, tmp_path, names, key):
    (tmp_path / "names.txt").write_bytes(names)
    with pytest.raises(WeightsError) as refused:
        cnnviz.load("efficientnet_lite0", weights=str(three_classes / "mine.pt"), labels=tmp_path / "names.txt")
    assert refused.value.key == key and "\n" not in str(refused.value)


def test_names_need_a_checkpoint_and_a_truncated_safetensors_file_is_refused(three_classes, tmp_path):
    with pytest.raises(WeightsError) as refused:
        cnnviz.load("efficientnet_lite0", labels=three_classes / "names.txt")
    assert refused.value.key == "labels_without_weights"
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes((three_classes / "mine.safetensors").read_bytes()[:100_000])
    with pytest.raises(WeightsError) as refused:
        cnnviz.load("efficientnet_lite0", weights=str(cut))
    assert refused.value.key == "unsafe_weights"


def test_the_command_line_takes_a_checkpoint_and_its_names(cli, three_classes, chelsea, tmp_path):
    photo = tmp_path / "chelsea.png"
    chelsea.save(photo)
    ck, names = str(three_classes / "mine.pt"), str(three_classes / "names.txt")
    predicted = cli("predict", str(photo), "--weights", ck, "--labels", names, "--top", "3", "--json")
    assert predicted.returncode == 0, predicted.stderr
    assert next(row["label"] for row in json.loads(predicted.stdout)) == "my cat"
    too_many = cli("predict", str(photo), "--weights", ck, "--labels", names, "--top", "4")
    assert too_many.returncode == 2 and len(too_many.stderr.splitlines()) == 1
    alone = cli("predict", str(photo), "--labels", names)
    assert alone.returncode == 2 and "checkpoint" in alone.stderr and len(alone.stderr.splitlines()) == 1
