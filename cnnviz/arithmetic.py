"""Convolution arithmetic as the lectures teach it, with the invalid cases explained.

Output size (N − F + 2P)/S + 1, parameters (F·F·C_in + 1)·C_out, multiply-accumulates, the 1×1
bottleneck and the stacked-3×3 comparison. Every function returns plain numbers; ``tests/`` checks them
against real ``torch.nn.Conv2d`` layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnviz.errors import CnnvizError

MAX_SIDE = 100_000
MAX_CHANNELS = 1_000_000


@dataclass(frozen=True)
class ConvResult:
    """One convolution layer: output side (px), parameters, MACs, and why the geometry is odd if it is."""

    out_size: int
    exact: bool
    formula: str
    params: int
    weights: int
    macs: int
    warning: str = ""


def _check(name: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise CnnvizError("arith_range", name=name, low=low, high=high, value=value)
    return value


def conv_layer(n: int, f: int, p: int, s: int, c_in: int, c_out: int, groups: int = 1) -> ConvResult:
    """A convolution with F×F filters, stride S and padding P on an N×N×C_in input, C_out filters."""
    n, f = _check("Input size N", n, 1, MAX_SIDE), _check("Filter size F", f, 1, MAX_SIDE)
    p, s = _check("Padding P", p, 0, MAX_SIDE), _check("Stride S", s, 1, MAX_SIDE)
    c_in = _check("Input channels", c_in, 1, MAX_CHANNELS)
    c_out = _check("Filters (output channels)", c_out, 1, MAX_CHANNELS)
    groups = _check("Groups", groups, 1, MAX_CHANNELS)
    if c_in % groups or c_out % groups:
        raise CnnvizError("arith_groups", groups=groups, c_in=c_in, c_out=c_out)
    span = n - f + 2 * p
    if span < 0:
        raise CnnvizError("arith_filter", f=f, n=n, p=p, padded=n + 2 * p)
    out = span // s + 1
    exact = span % s == 0
    formula = f"({n} − {f} + 2·{p})/{s} + 1 = {span}/{s} + 1 = {span / s + 1:g}"
    warning = ""
    if not exact:
        formula += f" → {out}"
        warning = (
            f"{span}/{s} is not a whole number: the filter does not tile the input evenly. Frameworks round "
            f"down, so the last {span % s} px of the padded input are never covered. Choose N, F, P and S "
            f"so that S divides N − F + 2P (for example P = {_suggest_padding(n, f, s)})."
        )
    weights = f * f * (c_in // groups) * c_out
    return ConvResult(
        out_size=out,
        exact=exact,
        formula=formula,
        params=weights + c_out,
        weights=weights,
        macs=out * out * c_out * f * f * (c_in // groups),
        warning=warning,
    )


def _suggest_padding(n: int, f: int, s: int) -> int:
    for pad in range(0, f + s):
        if (n - f + 2 * pad) % s == 0 and n - f + 2 * pad >= 0:
            return pad
    return 0


@dataclass(frozen=True)
class Comparison:
    """Two ways to the same output: parameters (weights only) and MACs of each, and their ratios."""

    direct_weights: int
    direct_macs: int
    factored_weights: int
    factored_macs: int

    @property
    def weight_ratio(self) -> float:
        return self.direct_weights / self.factored_weights

    @property
    def mac_ratio(self) -> float:
        return self.direct_macs / self.factored_macs


def bottleneck(n: int = 56, c_in: int = 256, c_mid: int = 64, f: int = 3, c_out: int = 256) -> Comparison:
    """An F×F convolution C_in → C_out on N×N (same padding) vs a 1×1 reduction to C_mid first.

    The lectures' example: 56×56×256 → 1×1×64 → 56×56×64, a 4× reduction before the costly filter.
    """
    direct = conv_layer(n, f, f // 2, 1, c_in, c_out)
    reduce = conv_layer(n, 1, 0, 1, c_in, c_mid)
    after = conv_layer(n, f, f // 2, 1, c_mid, c_out)
    return Comparison(direct.weights, direct.macs, reduce.weights + after.weights, reduce.macs + after.macs)


def stacked_3x3(channels: int, layers: int = 3, n: int = 56) -> tuple[int, Comparison]:
    """``layers`` stacked 3×3 convolutions vs one filter with the same receptive field (2·layers + 1).

    Returns (receptive field in px, comparison): three 3×3 layers see 7×7 with 27C² weights, one 7×7 49C².
    """
    channels = _check("Channels", channels, 1, MAX_CHANNELS)
    layers = _check("Layers", layers, 1, 100)
    field = 2 * layers + 1
    single = conv_layer(n, field, field // 2, 1, channels, channels)
    one = conv_layer(n, 3, 1, 1, channels, channels)
    return field, Comparison(single.weights, single.macs, layers * one.weights, layers * one.macs)


@dataclass(frozen=True)
class TransposedResult:
    """A transposed convolution ("deconvolution", the layer FCN uses to make maps larger): output side
    o = S(N − 1) + F − 2P + output padding, in px, and the formula with the numbers filled in."""

    out_size: int
    formula: str


def transposed_conv(n: int, f: int, p: int, s: int, output_padding: int = 0) -> TransposedResult:
    """The output side of a transposed convolution on an N×N map (``torch.nn.ConvTranspose2d``'s rule)."""
    n, f = _check("Input size N", n, 1, MAX_SIDE), _check("Filter size F", f, 1, MAX_SIDE)
    p, s = _check("Padding P", p, 0, MAX_SIDE), _check("Stride S", s, 1, MAX_SIDE)
    output_padding = _check("Output padding", output_padding, 0, MAX_SIDE)
    if output_padding >= s:
        raise CnnvizError("arith_output_padding", output_padding=output_padding, s=s)
    out = s * (n - 1) + f - 2 * p + output_padding
    if out < 1:
        raise CnnvizError("arith_transposed_empty", out=out)
    extra = f" + {output_padding}" if output_padding else ""
    formula = f"{s}·({n} − 1) + {f} − 2·{p}{extra} = {out}"
    return TransposedResult(out, formula)


@dataclass(frozen=True)
class YoloGrid:
    """YOLO's output, counted: an S×S grid (input side / total stride), ``boxes`` boxes per cell with
    ``per_box`` numbers each (4 coordinates + objectness), ``classes`` class probabilities per cell."""

    input_side: int
    stride: int
    boxes: int
    per_box: int
    classes: int

    @property
    def side(self) -> int:
        return self.input_side // self.stride

    @property
    def per_cell(self) -> int:
        return self.boxes * self.per_box + self.classes

    @property
    def total(self) -> int:
        return self.side * self.side * self.per_cell


# Deck 003, "You Only Look Once": 45 numbers per cell, 5 boxes with 4 coordinates and an objectness score,
# 20 PASCAL VOC class probabilities. The grid side is YOLOv2's (Redmon & Farhadi 2017): a 416-px input and
# a total stride of 32 give 13×13 cells.
YOLO_DECK = YoloGrid(input_side=416, stride=32, boxes=5, per_box=5, classes=20)
