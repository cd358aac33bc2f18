"""The model zoo: every lecture architecture is registered, described, and runs at its input size."""

from __future__ import annotations

import pytest
import torch

import cnnviz
from cnnviz.zoo import ARCHITECTURES, DEFAULT_ARCH, get_spec

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
