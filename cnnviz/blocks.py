"""The first lecture's building blocks on a photo (deck 001): the convolution worked by hand on the deck's own
numbers, a filter slid over the photo with stride, padding and dilation, ReLU and pooling.

torch does the arithmetic (``torch.nn.functional.conv2d``, ``max_pool2d``, ``avg_pool2d``), exactly as a
network computes it: cross-correlation, the kernel not flipped. This module names the kernels, shapes the
photo into the input they take (0–1 per colour channel, or the luminance), checks the settings before any
work, and returns arrays and records for the page and the command line. Written here rather than taken from
a library: no library offers the deck's worked example term by term or the classic kernels by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz.errors import CnnvizError

# The classic kernels, as a student types them (rows top to bottom); cross-correlated, as torch does.
KERNELS: dict[str, tuple[tuple[float, ...], ...]] = {
    "sobel-x": ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)),  # vertical edges: dark to bright from left to right
    "sobel-y": ((-1, -2, -1), (0, 0, 0), (1, 2, 1)),  # horizontal edges: dark to bright from top to bottom
    "blur": ((1 / 16, 2 / 16, 1 / 16), (2 / 16, 4 / 16, 2 / 16), (1 / 16, 2 / 16, 1 / 16)),  # Gaussian, σ ≈ 0.85
    "sharpen": ((0, -1, 0), (-1, 5, -1), (0, -1, 0)),
}
MAX_KERNEL = 15  # px per side of a typed kernel
MAX_STRIDE, MAX_PADDING, MAX_DILATION = 64, 64, 16
POOLS = ("max", "avg")
LUMINANCE = (0.299, 0.587, 0.114)  # ITU-R BT.601, as Pillow's "L" mode weighs R, G, B

# Deck 001's worked example: a 3×3 input and a 2×2 filter, then ReLU.
DECK_INPUT = ((1, 3, 1), (0, -1, 1), (2, 2, -1))
DECK_KERNEL = ((1, 2), (0, -1))

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def kernel(spec: str) -> np.ndarray:
    """The kernel ``spec`` names (one of :data:`KERNELS`) or spells (``"a,b,c;d,e,f;g,h,i"``: rows
    separated by semicolons, numbers by commas, every row as long, at most :data:`MAX_KERNEL` per side),
    as a float32 k×l array. :class:`CnnvizError` for anything else."""
    if spec in KERNELS:
        return np.array(KERNELS[spec], dtype=np.float32)
    shown = str(spec)[:60]
    if len(spec) > 4000:
        raise CnnvizError("kernel_text", kernel=shown, names=", ".join(KERNELS))
    rows = [[cell.strip() for cell in row.split(",")] for row in spec.strip().split(";")]
    if not all(_NUMBER.match(cell) for row in rows for cell in row):
        raise CnnvizError("kernel_text", kernel=shown, names=", ".join(KERNELS))
    if len({len(row) for row in rows}) != 1:
        raise CnnvizError("kernel_rows", kernel=shown)
    values = np.array([[float(cell) for cell in row] for row in rows], dtype=np.float32)
    if max(values.shape) > MAX_KERNEL or not np.isfinite(values).all():
        raise CnnvizError("kernel_size", kernel=shown, limit=MAX_KERNEL)
    return values


def photo_input(image: Image.Image, grey: bool = False) -> np.ndarray:
    """``image`` as a convolution's input: C×H×W float32 from 0 to 1, its three colour channels, or with
    ``grey`` one channel of luminance (:data:`LUMINANCE`)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
    if grey:
        return np.tensordot(np.array(LUMINANCE, dtype=np.float32), rgb, axes=1)[None]
    return np.ascontiguousarray(rgb)


def output_side(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """The output's side by the deck's formula, ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1 (px)."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def _check(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CnnvizError("conv_setting", setting=name, low=low, high=high, value=str(value)[:20])


def convolve(x: np.ndarray, weights: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1) -> np.ndarray:
    """Each channel of ``x`` (C×H×W) cross-correlated with ``weights`` (k×l), zero-padded by ``padding`` px on
    every side, with ``stride`` and ``dilation``: C×H'×W' float32, H' and W' by :func:`output_side`.
    :class:`CnnvizError` for a setting out of range or a kernel wider than the padded input."""
    _check("stride", stride, 1, MAX_STRIDE)
    _check("padding", padding, 0, MAX_PADDING)
    _check("dilation", dilation, 1, MAX_DILATION)
    channels, height, width = x.shape
    reach = [dilation * (side - 1) + 1 for side in weights.shape]
    if reach[0] > height + 2 * padding or reach[1] > width + 2 * padding:
        raise CnnvizError(
            "kernel_too_large",
            kernel=f"{reach[0]}×{reach[1]}",
            input=f"{height + 2 * padding}×{width + 2 * padding}",
        )
    filters = torch.from_numpy(np.ascontiguousarray(weights, dtype=np.float32)).expand(channels, 1, *weights.shape)
    with torch.inference_mode():
        out = F.conv2d(
            torch.from_numpy(x)[None], filters, stride=stride, padding=padding, dilation=dilation, groups=channels
        )
    return out[0].numpy()


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), elementwise."""
    return np.maximum(x, 0, dtype=np.float32)


def pool(x: np.ndarray, kind: str, size: int, stride: int | None = None) -> np.ndarray:
    """Each channel of ``x`` (C×H×W) max- or average-pooled (``kind`` "max" or "avg") over ``size``×``size``
    windows every ``stride`` px (default: ``size``, windows side by side), no padding: C×H'×W' float32."""
    if kind not in POOLS:
        raise CnnvizError("pool_kind", kind=str(kind)[:20], choices=", ".join(POOLS))
    stride = size if stride is None else stride
    _check("pool-size", size, 1, MAX_STRIDE)
    _check("pool-stride", stride, 1, MAX_STRIDE)
    if size > min(x.shape[1:]):
        raise CnnvizError("pool_too_large", size=size, input=f"{x.shape[1]}×{x.shape[2]}")
    pooling = F.max_pool2d if kind == "max" else F.avg_pool2d
    with torch.inference_mode():
        return pooling(torch.from_numpy(np.ascontiguousarray(x))[None], size, stride)[0].numpy()


@dataclass(frozen=True)
class WorkedCell:
    """One output cell of the worked example: its place, each (input, weight) product's factors, the sum."""

    row: int
    column: int
    terms: tuple[tuple[float, float], ...]
    total: float

    def sum_text(self) -> str:
        """The cell's sum as the deck writes it: ``1×1 + 3×2 + 0×0 + (−1)×(−1) = 8``."""

        def number(value: float) -> str:
            shown = f"{value:g}".replace("-", "−")
            return f"({shown})" if value < 0 else shown

        total = f"{self.total:g}".replace("-", "−")
        return " + ".join(f"{number(a)}×{number(w)}" for a, w in self.terms) + f" = {total}"


@dataclass(frozen=True)
class WorkedExample:
    """Deck 001's convolution by hand: the input, the kernel, each output cell with its terms, the output
    and the output after ReLU (all lists of rows)."""

    input: tuple[tuple[float, ...], ...]
    kernel: tuple[tuple[float, ...], ...]
    cells: tuple[WorkedCell, ...]
    output: list[list[float]]
    after_relu: list[list[float]]

    def as_dict(self) -> dict:
        """The example as the CLI's JSON prints it."""
        return {
            "input": [list(r) for r in self.input],
            "kernel": [list(r) for r in self.kernel],
            "output": self.output,
            "relu": self.after_relu,
        }


def worked_example(
    values: tuple[tuple[float, ...], ...] = DECK_INPUT, weights: tuple[tuple[float, ...], ...] = DECK_KERNEL
) -> WorkedExample:
    """The convolution of ``values`` by ``weights`` (stride 1, no padding) cell by cell, checked against
    torch's (the deck's example by default: ``[[8, 4], [−4, 2]]``, after ReLU ``[[8, 4], [0, 2]]``)."""
    x, w = np.array(values, dtype=np.float32), np.array(weights, dtype=np.float32)
    rows, columns = x.shape[0] - w.shape[0] + 1, x.shape[1] - w.shape[1] + 1
    cells = []
    for r in range(rows):
        for c in range(columns):
            window = x[r : r + w.shape[0], c : c + w.shape[1]]
            terms = tuple((float(a), float(b)) for a, b in zip(window.ravel(), w.ravel(), strict=True))
            cells.append(WorkedCell(r, c, terms, float(sum(a * b for a, b in terms))))
    by_hand = np.array([cell.total for cell in cells], dtype=np.float32).reshape(rows, columns)
    by_torch = convolve(x[None], w)[0]
    if not np.array_equal(by_hand, by_torch):  # small whole numbers: exact in float32
        raise AssertionError(f"the sums by hand {by_hand.tolist()} differ from torch's {by_torch.tolist()}")
    output = [[_plain(v) for v in row] for row in by_hand.tolist()]
    after = [[_plain(v) for v in row] for row in relu(by_hand).tolist()]
    return WorkedExample(values, weights, tuple(cells), output, after)


def _plain(value: float) -> float | int:
    """A whole number as an int (the deck writes 8, not 8.0)."""
    return int(value) if float(value).is_integer() else value
