"""Tables from the lecture decks (../shared/seeds) as data, and their comparison with cnnviz's own tables.

Numbers are transcribed as the slides print them (rounded: "35K", "1.3M"). Where a slide disagrees with
the paper, cnnviz follows the paper; :func:`compare_with_slide` says which rows differ and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from cnnviz.layers import LayerTable
from cnnviz.texts import note


@dataclass(frozen=True)
class SlideRow:
    """One printed row: ``params`` (weights, biases not counted) and ``ops`` (multiply-adds) as printed."""

    label: str
    module: str | None
    out_shape: tuple[int, ...]
    params: float | None = None
    ops: float | None = None
    note: str = ""


ALEXNET_SLIDE_SOURCE = note("alexnet_slide_source")
ALEXNET_SLIDE = (
    SlideRow("CONV1", "features.conv1", (96, 55, 55), 35e3, 105e6),
    SlideRow("CONV2", "features.conv2", (256, 27, 27), 307e3, 223e6),
    SlideRow("CONV3", "features.conv3", (384, 13, 13), 884e3, 149e6),
    SlideRow(
        "CONV4",
        "features.conv4",
        (384, 13, 13),
        1.3e6,
        224e6,
        note("alexnet_conv4_slide"),
    ),
    SlideRow("CONV5", "features.conv5", (256, 13, 13), 442e3, 74e6),
    SlideRow("FC6", "classifier.fc6", (4096,), 37e6, 37e6),
    SlideRow("FC7", "classifier.fc7", (4096,), 16e6, 16e6),
    SlideRow("FC8", "classifier.fc8", (1000,), 4e6, 4e6),
)
ALEXNET_ORDER_NOTE = note("alexnet_order")

VGG16_SLIDE_SOURCE = note("vgg16_slide_source")
VGG16_SLIDE = (
    SlideRow("CONV3-64", "features.0", (64, 224, 224), 1_728),
    SlideRow("CONV3-64", "features.2", (64, 224, 224), 36_864),
    SlideRow("POOL2", "features.4", (64, 112, 112), 0),
    SlideRow("CONV3-128", "features.5", (128, 112, 112), 73_728),
    SlideRow("CONV3-128", "features.7", (128, 112, 112), 147_456),
    SlideRow("POOL2", "features.9", (128, 56, 56), 0),
    SlideRow("CONV3-256", "features.10", (256, 56, 56), 294_912),
    SlideRow("CONV3-256", "features.12", (256, 56, 56), 589_824),
    SlideRow("CONV3-256", "features.14", (256, 56, 56), 589_824),
    SlideRow("POOL2", "features.16", (256, 28, 28), 0),
    SlideRow("CONV3-512", "features.17", (512, 28, 28), 1_179_648),
    SlideRow("CONV3-512", "features.19", (512, 28, 28), 2_359_296),
    SlideRow("CONV3-512", "features.21", (512, 28, 28), 2_359_296),
    SlideRow("POOL2", "features.23", (512, 14, 14), 0),
    SlideRow("CONV3-512", "features.24", (512, 14, 14), 2_359_296),
    SlideRow("CONV3-512", "features.26", (512, 14, 14), 2_359_296),
    SlideRow("CONV3-512", "features.28", (512, 14, 14), 2_359_296),
    SlideRow("POOL2", "features.30", (512, 7, 7), 0),
    SlideRow("FC", "classifier.0", (4096,), 102_760_448),
    SlideRow("FC", "classifier.3", (4096,), 16_777_216),
    SlideRow("FC", "classifier.6", (1000,), 4_096_000),
)
VGG16_SLIDE_INPUT = (3, 224, 224)
VGG16_SLIDE_TOTAL_ACT = 15.2e6  # Spanish deck: "15,2M × 4 bytes ≈ 60,8MB"
VGG16_TOTAL_NOTE = note("vgg16_total")

VGG_CONFIG_PARAMS_M = {"A": 133, "B": 133, "C": 134, "D": 138, "E": 144}  # paper Table 2, millions

ILSVRC_CLASSIFICATION = {  # Spanish deck (003): top-5 error (%) of the teams, by year
    2012: [
        ("SuperVision (Toronto)", 15.3),
        ("ISI (Tokyo)", 26.1),
        ("VGG (Oxford)", 26.9),
        ("XRCE/INRIA", 27.0),
        ("UvA (Amsterdam)", 29.6),
        ("INRIA/LEAR", 33.4),
    ],
    2013: [
        ("Clarifai (NYU spin-off)", 11.7),
        ("NUS (Singapore)", 12.9),
        ("Zeiler-Fergus (NYU)", 13.5),
        ("A. Howard", 13.5),
        ("OverFeat (NYU)", 14.1),
        ("UvA (Amsterdam)", 14.2),
        ("Adobe", 15.2),
        ("VGG (Oxford)", 15.2),
        ("VGG (Oxford)", 23.0),
    ],
    2014: [
        ("GoogLeNet", 6.6),
        ("VGG (Oxford)", 7.3),
        ("MSRA", 8.0),
        ("A. Howard", 8.1),
        ("DeeperVision", 9.5),
        ("NUS-BST", 9.7),
        ("TTIC-ECP", 10.2),
        ("XYZ", 11.2),
        ("UvA", 12.1),
    ],
}


def _close(ours: float, printed: float) -> bool:
    """True when ``ours``, rounded or truncated to the digits the slide prints, is the printed number."""
    if printed == 0:
        return ours == 0
    digits = len(f"{printed:.15g}".replace(".", "").strip("0"))
    scale = 10 ** (math.floor(math.log10(abs(ours))) - digits + 1) if ours else 1
    return printed in (round(ours / scale) * scale, math.floor(ours / scale) * scale)


def compare_with_slide(table: LayerTable, slide: tuple[SlideRow, ...]) -> pd.DataFrame:
    """Slide rows next to cnnviz's rows: shape, weights and MACs, and whether each agrees (within rounding)."""
    by_name = {row.module: row for row in table.layers if row.call == 1}
    records = []
    for printed in slide:
        ours = by_name[printed.module]
        shape_ok = tuple(ours.out_shape) == printed.out_shape
        params_ok = printed.params is None or _close(ours.weights, printed.params)
        ops_ok = printed.ops is None or _close(ours.macs, printed.ops)
        records.append(
            {
                "slide": printed.label,
                "layer": printed.module,
                "slide shape": "×".join(map(str, printed.out_shape)),
                "shape": "×".join(map(str, ours.out_shape)),
                "slide weights": printed.params,
                "weights": ours.weights,
                "slide ops": printed.ops,
                "MACs": ours.macs,
                "agrees": shape_ok and params_ok and ops_ok,
                "note": printed.note,
            }
        )
    return pd.DataFrame(records)


def slide_comparison(arch: str, table: LayerTable) -> tuple[str, pd.DataFrame, list[str]] | None:
    """(source, comparison, notes) for the architectures whose table the lectures print, else None."""
    if arch == "alexnet2012" and table.input_size == 227:
        return ALEXNET_SLIDE_SOURCE, compare_with_slide(table, ALEXNET_SLIDE), [ALEXNET_ORDER_NOTE]
    if arch == "vgg16" and table.input_size == 224:
        return VGG16_SLIDE_SOURCE, compare_with_slide(table, VGG16_SLIDE), [VGG16_TOTAL_NOTE]
    return None
