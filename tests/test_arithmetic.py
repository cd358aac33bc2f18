"""Conv arithmetic against the lectures' worked examples and against real torch.nn.Conv2d layers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnviz.arithmetic import bottleneck, conv_layer, stacked_3x3
from cnnviz.errors import CnnvizError


def test_lecture_examples():
    conv1 = conv_layer(227, 11, 0, 4, 3, 96)
    assert conv1.out_size == 55 and conv1.exact
    assert conv1.formula.startswith("(227 − 11 + 2·0)/4 + 1")
    assert conv1.params == (11 * 11 * 3 + 1) * 96 == 34_944
    assert conv_layer(55, 3, 0, 2, 96, 96).out_size == 27  # (55 − 3)/2 + 1
    assert conv_layer(112, 3, 1, 1, 64, 128).weights == 73_728  # (3·3·64)·128


@pytest.mark.parametrize(
    ("n", "f", "p", "s", "c_in", "c_out", "groups"),
    [
        (227, 11, 0, 4, 3, 96, 1),
        (27, 5, 2, 1, 96, 256, 2),
        (224, 7, 3, 2, 3, 64, 1),
        (32, 5, 0, 1, 1, 6, 1),
        (13, 3, 1, 1, 384, 384, 2),
        (224, 11, 0, 4, 3, 96, 1),
        (56, 1, 0, 1, 256, 64, 1),
        (7, 3, 0, 2, 8, 8, 8),
    ],
)
def test_agrees_with_a_real_conv_layer(n, f, p, s, c_in, c_out, groups):
    layer = nn.Conv2d(c_in, c_out, f, stride=s, padding=p, groups=groups, device="meta")
    out = layer(torch.empty(1, c_in, n, n, device="meta"))
    result = conv_layer(n, f, p, s, c_in, c_out, groups)
    assert result.out_size == out.shape[-1]
    assert result.params == sum(q.numel() for q in layer.parameters())
    assert result.macs == out.numel() * layer.weight[0].numel()


def test_filter_that_does_not_tile_is_explained():
    result = conv_layer(224, 11, 0, 4, 3, 96)
    assert not result.exact and result.out_size == 54
    assert "not a whole number" in result.warning and "round down" in result.warning


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((5, 7, 0, 1, 3, 8), "larger than the padded input"),
        ((0, 3, 0, 1, 3, 8), "Input size"),
        ((32, 3, 0, 0, 3, 8), "Stride"),
        ((32, 3, -1, 1, 3, 8), "Padding"),
        ((32, 3, 0, 1, 3, 8, 2), "divide"),
        ((10**9, 3, 0, 1, 3, 8), "Input size"),
        ((32, 3.5, 0, 1, 3, 8), "Filter size"),
    ],
)
def test_absurd_parameters_get_a_clear_message(args, message):
    with pytest.raises(CnnvizError, match=message):
        conv_layer(*args)


def test_one_by_one_bottleneck_of_the_lectures():
    comparison = bottleneck(56, 256, 64, 3, 256)
    assert comparison.direct_weights == 3 * 3 * 256 * 256
    assert comparison.factored_weights == 256 * 64 + 3 * 3 * 64 * 256
    assert comparison.mac_ratio == pytest.approx(3.6, abs=0.05)


def test_three_stacked_3x3_see_7x7_with_27_instead_of_49_c_squared():
    field, comparison = stacked_3x3(channels=64)
    assert field == 7
    assert comparison.factored_weights == 27 * 64**2
    assert comparison.direct_weights == 49 * 64**2
