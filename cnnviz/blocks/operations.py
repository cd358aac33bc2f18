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
    separated by semicolons or lines, numbers by commas or spaces, every row as long, at most
    :data:`MAX_KERNEL` per side), as a float32 k×l array. :class:`CnnvizError` for anything else."""
    if spec in KERNELS:
        return np.array(KERNELS[spec], dtype=np.float32)
    shown = str(spec)[:60].replace("\n", "; ")
    if len(spec) > 4000:
        raise CnnvizError("kernel_text", kernel=shown, names=", ".join(KERNELS))
    rows = [_cells(row) for row in re.split(r"[;\n]", spec.strip()) if row.strip()]
    if not rows or not all(_NUMBER.match(cell) for row in rows for cell in row):
        raise CnnvizError("kernel_text", kernel=shown, names=", ".join(KERNELS))
    if len({len(row) for row in rows}) != 1:
        raise CnnvizError("kernel_rows", kernel=shown)
    values = np.array([[float(cell) for cell in row] for row in rows], dtype=np.float32)
    if max(values.shape) > MAX_KERNEL or not np.isfinite(values).all():
        raise CnnvizError("kernel_size", kernel=shown, limit=MAX_KERNEL)
    return values


def spelled_kernel(values: np.ndarray) -> str:
    """``values`` (k×l) spelled as :func:`kernel` reads them, ``"a,b,c;d,e,f"``, each number the shortest
    decimal that reads back to the same float32: ``kernel(spelled_kernel(v))`` equals ``v`` exactly."""
    return ";".join(",".join(_shortest(np.float32(v)) for v in row) for row in values)


def _shortest(value: np.float32) -> str:
    """The shorter of ``value``'s positional and scientific spellings that read back to it as a float32."""
    positional = np.format_float_positional(value, unique=True, trim="-")
    scientific = np.format_float_scientific(value, unique=True, trim="-")
    return min(positional, scientific, key=len)


def _cells(row: str) -> list[str]:
    """A typed row's numbers: separated by commas, or else by spaces."""
    return [cell.strip() for cell in row.split(",")] if "," in row else row.split()


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
    every side, with ``stride`` and ``dilation``: C×H'×W' float32, H' and W' by :func:`output_side`. A
    network's filter (``weights`` C×k×l, one slice per input channel) gives one map, the sum over the
    channels, as a network's layer computes it: 1×H'×W'. :class:`CnnvizError` for a setting out of range or
    a kernel wider than the padded input."""
    _check("stride", stride, 1, MAX_STRIDE)
    _check("padding", padding, 0, MAX_PADDING)
    _check("dilation", dilation, 1, MAX_DILATION)
    channels, height, width = x.shape
    reach = [dilation * (side - 1) + 1 for side in weights.shape[-2:]]
    if reach[0] > height + 2 * padding or reach[1] > width + 2 * padding:
        raise CnnvizError(
            "kernel_too_large",
            kernel=f"{reach[0]}×{reach[1]}",
            input=f"{height + 2 * padding}×{width + 2 * padding}",
        )
    filters = torch.from_numpy(np.ascontiguousarray(weights, dtype=np.float32))
    if filters.dim() == 3:  # one filter across every channel
        filters, groups = filters[None], 1
    else:
        filters, groups = filters.expand(channels, 1, *weights.shape), channels
    with torch.inference_mode():
        out = F.conv2d(
            torch.from_numpy(np.ascontiguousarray(x))[None],
            filters,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
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


ACTIVATIONS = ("relu", "sigmoid", "tanh")


@dataclass(frozen=True)
class Activated:
    """One map through one activation function: the output, the share of units at exactly zero (0–1), and
    the gradient each unit passes back (the function's derivative at the unit): its mean and its largest
    value over the map. ``largest_possible`` is the derivative's bound anywhere (ReLU 1, sigmoid 1/4, tanh 1):
    through ``n`` such layers a gradient is at most that to the ``n``th power."""

    name: str
    output: np.ndarray
    zero_share: float
    mean_gradient: float
    max_gradient: float
    largest_possible: float


def activated(x: np.ndarray, name: str) -> Activated:
    """``x`` through ``name`` (one of :data:`ACTIVATIONS`), with torch's functions and their derivatives."""
    values = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if name == "relu":
        output, gradient, bound = F.relu(values), (values > 0).float(), 1.0
    elif name == "sigmoid":
        output = torch.sigmoid(values)
        gradient, bound = output * (1 - output), 0.25
    elif name == "tanh":
        output = torch.tanh(values)
        gradient, bound = 1 - output * output, 1.0
    else:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, not {name!r}")
    return Activated(
        name=name,
        output=output.numpy(),
        zero_share=float((output == 0).float().mean()),
        mean_gradient=float(gradient.mean()),
        max_gradient=float(gradient.max()),
        largest_possible=bound,
    )


@dataclass(frozen=True)
class Dropped:
    """A map with units dropped as a network's dropout layer does at training time: each unit zeroed with
    probability ``p``, the survivors scaled by 1/(1 − p), so the map's mean is kept on average; at test time
    the layer passes the map unchanged. ``dropped_share`` is the share actually zeroed (0–1)."""

    output: np.ndarray
    p: float
    dropped_share: float
    mean_before: float
    mean_after: float


def dropout(x: np.ndarray, p: float, seed: int = 0) -> Dropped:
    """``x`` with units dropped with probability ``p`` (0 ≤ p < 1): ``torch.nn.Dropout``'s training-time
    rule (zero, or scale by 1/(1 − p)). The mask is drawn from a generator seeded with ``seed`` rather than
    by ``F.dropout``, which draws from the process's global random state that every session shares."""
    if not 0 <= p < 1:
        raise ValueError(f"the dropout probability must be from 0 to below 1, not {p}")
    values = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    generator = torch.Generator().manual_seed(seed)
    kept = torch.rand(values.shape, generator=generator) >= p
    output = torch.where(kept, values / (1 - p), torch.zeros(()))
    return Dropped(
        output=output.numpy(),
        p=p,
        dropped_share=float((~kept).float().mean()),
        mean_before=float(values.mean()),
        mean_after=float(output.mean()),
    )


def max_pool_winners(x: np.ndarray, size: int, stride: int | None = None) -> np.ndarray:
    """Which unit won each window of max pooling over the map ``x`` (H×W): H'×W'×2 (row, column) in ``x``,
    from ``F.max_pool2d``'s indices (ties: the first in the window)."""
    stride = size if stride is None else stride
    values = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None, None]
    with torch.inference_mode():
        _, indices = F.max_pool2d(values, size, stride, return_indices=True)
    flat = indices[0, 0].numpy()
    return np.stack(np.divmod(flat, x.shape[1]), axis=-1)


@dataclass(frozen=True)
class ReceptiveField:
    """The input pixels one output unit reads: the box ``top``…``bottom``, ``left``…``right`` (input px,
    inclusive; negative or past the edge where it reaches into the padding) and the kernel's taps inside it,
    ``dilation`` px apart."""

    top: int
    left: int
    bottom: int
    right: int
    taps: tuple[tuple[int, int], ...]

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) in input px."""
        return self.bottom - self.top + 1, self.right - self.left + 1


def receptive_field(
    row: int, column: int, kernel_shape: tuple[int, int], stride: int = 1, padding: int = 0, dilation: int = 1
) -> ReceptiveField:
    """The input pixels output unit (``row``, ``column``) of one convolution reads."""
    top, left = row * stride - padding, column * stride - padding
    rows = [top + dilation * i for i in range(kernel_shape[0])]
    columns = [left + dilation * j for j in range(kernel_shape[1])]
    return ReceptiveField(top, left, rows[-1], columns[-1], tuple((r, c) for r in rows for c in columns))
