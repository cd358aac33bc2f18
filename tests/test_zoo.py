"""The model zoo: every lecture architecture is registered, described, and runs at its input size."""

from __future__ import annotations

import re

import pytest
import torch

import cnnviz
from cnnviz.models.zoo import ARCHITECTURES, DEFAULT_ARCH, get_spec

LECTURE_NAMES = [
    "lenet5",
    "alexnet",
    "alexnet2012",
    "zfnet",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "googlenet",
    "inception_v3",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "densenet121",
    "densenet169",
    "densenet201",
    "xception",
    "seresnet50",
    "mobilenet_v2",
    "efficientnet_b0",
    "efficientnet_lite0",
]


def test_registry_holds_exactly_the_lecture_architectures():
    assert list(ARCHITECTURES) == LECTURE_NAMES
    assert DEFAULT_ARCH == "efficientnet_lite0"


@pytest.mark.parametrize("name", LECTURE_NAMES)
def test_spec_carries_its_facts(name):
    spec = get_spec(name)
    assert 1998 <= spec.year <= 2020
    assert spec.paper and spec.family and spec.display
    assert spec.input_size in (32, 224, 227, 299)
    assert spec.labels in ("imagenet-1k", "digits")
    assert len(spec.preprocessing.mean) == spec.in_channels


def test_lecture_numbers_are_data():
    assert get_spec("alexnet2012").lecture.top5_error == 15.3
    assert get_spec("zfnet").lecture.top5_error == 11.7
    assert get_spec("vgg16").lecture.top5_error == 7.3
    assert get_spec("googlenet").lecture.top5_error == 6.6
    assert get_spec("resnet152").lecture.top5_error == 3.57
    assert get_spec("seresnet50").lecture.top5_error == 2.25
    assert get_spec("vgg16").lecture.keras_params == 138.4


# The deck lines each lecture figure is quoted from (../shared/seeds; the figure as the slide prints it).
DECK_LINES = {
    ("003", 193): "Supervision (Toronto)\t15.3\tClarifai (NYU spinoff)\t11.7\tGoogLeNet\t6.6",
    ("003", 194): "ISI (Tokyo)\t26.1\tNUS (singapore)\t12.9\tVGG (Oxford)\t7.3",
    ("004", 302): "- ILSVRC'15 classification winner (3.57% top 5 error)",
    ("003", 1085): "- Arquitectura ganadora de ILSRV 2017 (2.25% Top-5 error)",
    ("004", 415): "Inception-v3\t4.20",
}
# What each figure was measured on, as its source must say.
MEASURED_ON = {
    "alexnet": "ensemble of 7 networks",
    "alexnet2012": "ensemble of 7 networks",
    "zfnet": "average of several networks",
    "googlenet": "7 networks with 144 crops each",
    "inception_v3": "one Inception v3",
    "seresnet50": "ensemble of SENets",
    **{name: "ensemble of 7 networks" for name in ARCHITECTURES if name.startswith("vgg")},
    **{name: "ensemble of 6 ResNets" for name in ARCHITECTURES if name.startswith("resnet")},
}


@pytest.mark.parametrize("name", [n for n, spec in ARCHITECTURES.items() if spec.lecture.top5_error is not None])
def test_every_lecture_figure_names_what_it_was_measured_on_and_where_it_is_quoted(name):
    facts = get_spec(name).lecture
    assert MEASURED_ON[name] in facts.top5_source
    deck, first, second = re.search(r"deck (\d{3}), lines? (\d+)(?: and (\d+))?", facts.top5_source).groups()
    quoted = [DECK_LINES[(deck, int(n))] for n in (first, second) if n and (deck, int(n)) in DECK_LINES]
    assert any(f"{facts.top5_error:g}" in q or f"{facts.top5_error:.2f}" in q for q in quoted), quoted


def test_the_single_network_results_are_not_passed_off_as_the_ensembles():
    """Krizhevsky et al. 2012, Table 2: one CNN 18.2 % top-5 (validation), 5 CNNs 16.4 %, 7 CNNs 15.3 % (test)."""
    alexnet = get_spec("alexnet2012").lecture.top5_source
    assert "One network: 18.2% on the validation set" in alexnet and "16.4% (line 445) is the 5-network" in alexnet
    assert "One network with one crop: 10.07%" in get_spec("googlenet").lecture.top5_source
    for name in ("resnet18", "resnet34", "vgg11", "vgg13", "seresnet50"):
        assert "alone" in get_spec(name).lecture.top5_source, name


def test_paper_layouts_where_the_zoo_defines_its_own():
    assert get_spec("alexnet2012").input_size == 227
    alexnet = get_spec("alexnet2012").build()
    convs = [m for m in alexnet.features if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [96, 256, 384, 384, 256]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]
    zfnet = get_spec("zfnet").build()
    assert (zfnet.features.conv1.kernel_size, zfnet.features.conv1.stride) == ((7, 7), (2, 2))
    assert zfnet.features.conv2.stride == (2, 2)
    lenet_shapes = []
    x = torch.zeros(1, 1, 32, 32)
    for name, layer in get_spec("lenet5").build().features.named_children():
        x = layer(x)
        lenet_shapes.append((name, tuple(x.shape[1:])))
    assert ("c1", (6, 28, 28)) in lenet_shapes and ("c3", (16, 10, 10)) in lenet_shapes
    assert ("c5", (120, 1, 1)) in lenet_shapes


@pytest.mark.parametrize("name", LECTURE_NAMES)
def test_every_architecture_builds_and_runs_at_its_input_size(name):
    net = cnnviz.load(name, weights="random", device="cpu")
    spec = net.spec
    with torch.inference_mode():
        out = net.model(torch.zeros(1, spec.in_channels, spec.input_size, spec.input_size))
    assert out.shape == (1, len(net.categories))
    assert torch.isfinite(out).all()
    assert sum(p.numel() for p in net.model.parameters()) == spec.parameter_count()


def test_random_weights_are_the_same_for_everyone():
    first = get_spec("resnet18").build().state_dict()
    second = get_spec("resnet18").build().state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    other = get_spec("resnet34").build().state_dict()
    assert not torch.equal(first["conv1.weight"], other["conv1.weight"])


def test_unknown_architecture_lists_the_valid_names():
    with pytest.raises(cnnviz.UnknownArchitectureError, match="efficientnet_lite0"):
        get_spec("resnet9000")


def test_a_sibling_is_checked_by_default_and_of_the_same_family():
    """``same_layers_as`` moves a network's layer-by-layer tests under ``-m slow``: the sibling it names must
    be a shallower member of its family whose tests run by default."""
    for name, spec in ARCHITECTURES.items():
        if spec.same_layers_as:
            sibling = ARCHITECTURES[spec.same_layers_as]
            assert sibling.family == spec.family and sibling.same_layers_as is None, name
            assert sibling.parameter_count() < spec.parameter_count() or name.endswith("_bn"), name
