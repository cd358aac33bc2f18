"""LeNet-5 reads a row of digits in one pass (LeCun et al. 1998, section VII: the network replicated over a
wide input), through its fully convolutional twin.

A row is 32 px high and any width; the twin gives ten class probabilities for every 32-px window, 4 px
apart (LeNet-5's total stride). :func:`read_row` decodes them the simple way: the most probable digit at
each position, then non-max suppression over positions (the most confident window wins, windows closer
than :data:`SUPPRESSION_PX` to it are dropped), read left to right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from cnnviz.digits import digit_arrays, ink_of, lenet_input, split_indices
from cnnviz.explain.twin import convolutional_twin
from cnnviz.models.loading import LoadedModel

ROW_LENGTH = 5  # digits in a composed row
MAX_GAP_PX = 8  # extra blank columns between composed digits (0 to this)
MIN_CONFIDENCE = 0.5  # a window must be at least this sure of its digit to be read
SUPPRESSION_PX = 24  # windows closer than this to a more confident one are suppressed (a digit is 28 px wide)
BACKGROUND = -1.0  # LeNet-5's normalised value of paper (ink is +1)
EDGE_PX = 16  # blank columns added at both ends of a drawn row, so a window can centre its first and last digit


@dataclass(frozen=True)
class DigitRow:
    """A row for LeNet-5: ``canvas`` 1×1×32×W normalised float32 (ink bright), and for a composed row the
    true ``digits`` and the left edge of each digit's 32-px field (px)."""

    canvas: torch.Tensor
    digits: tuple[int, ...] = ()
    starts: tuple[int, ...] = ()

    @property
    def text(self) -> str:
        return "".join(str(d) for d in self.digits)


@dataclass(frozen=True)
class RowReading:
    """What LeNet-5 read: ``probabilities`` 10×P (P windows, window p covers px [4p, 4p + 32)), the
    windows kept after suppression (``kept``, left to right) and the digits they read (``text``)."""

    probabilities: np.ndarray
    stride: int
    window: int
    kept: tuple[int, ...]
    text: str

    @property
    def confidence(self) -> np.ndarray:
        """Per window, the probability of its most probable digit (P)."""
        return self.probabilities.max(axis=0)


def held_out_row(seed: int, length: int = ROW_LENGTH) -> DigitRow:
    """``length`` digits drawn at random (``seed``) from LeNet-5's held-out split, side by side with
    0–:data:`MAX_GAP_PX` blank columns between their 32-px fields."""
    rng = np.random.default_rng(seed)
    images, labels = digit_arrays()
    chosen = rng.choice(split_indices()[1], size=length, replace=False)
    fields = lenet_input(images[chosen])  # length×1×32×32
    pieces, starts, x = [], [], 0
    for index, field in enumerate(fields):
        if index:
            gap = int(rng.integers(0, MAX_GAP_PX + 1))
            pieces.append(torch.full((1, 32, gap), BACKGROUND))
            x += gap
        starts.append(x)
        pieces.append(field)
        x += 32
    canvas = torch.cat(pieces, dim=2).unsqueeze(0)
    return DigitRow(canvas, tuple(int(labels[i]) for i in chosen), tuple(starts))


def row_from_drawing(rgba: np.ndarray) -> DigitRow | None:
    """A drawing of a row of digits (light strokes, any size) as LeNet-5 sees digits: the ink's height
    scaled to a 32-px bitmap, thresholded, counted in 4×4 blocks (the digits' 8×8 resolution), then
    made 28 px high and padded by 2 px above and below, as :mod:`cnnviz.digits` does to one digit, and by
    :data:`EDGE_PX` at both ends. None when empty."""
    ink = ink_of(rgba)
    rows, cols = np.nonzero(ink > 0.2)
    if rows.size == 0:
        return None
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    scale = 32 / (bottom - top)
    width = max(4, round((right - left) * scale / 4) * 4)
    crop = Image.fromarray(ink[top:bottom, left:right].astype(np.float32))
    bitmap = np.asarray(crop.resize((width, 32), Image.BOX)) > 0.5
    blocks = bitmap.reshape(8, 4, width // 4, 4).sum(axis=(1, 3)).astype(np.float32)
    small = torch.from_numpy(blocks / 16.0)[None, None]
    tall = torch.nn.functional.interpolate(small, size=(28, width * 7 // 8), mode="bilinear", align_corners=False)
    padded = torch.nn.functional.pad(tall.clamp(0, 1), (EDGE_PX, EDGE_PX, 2, 2))
    return DigitRow((padded - 0.5) / 0.5)


def read_row(net: LoadedModel, row: DigitRow) -> RowReading:
    """LeNet-5's reading of ``row`` in one pass of its twin (``net`` must be LeNet-5)."""
    twin = convolutional_twin(net)
    with torch.inference_mode():
        logits = twin(net.to_input(row.canvas)).float()
    probabilities = torch.softmax(logits, dim=1)[0, :, 0].cpu().numpy()  # 10×P
    kept = suppressed(probabilities.max(axis=0), twin.stride)
    text = "".join(str(int(probabilities[:, p].argmax())) for p in kept)
    return RowReading(probabilities, twin.stride, twin.window, kept, text)


def suppressed(confidence: np.ndarray, stride: int) -> tuple[int, ...]:
    """Non-max suppression over positions: the windows (indices, left to right) that are at least
    :data:`MIN_CONFIDENCE` sure and have no more confident kept window within :data:`SUPPRESSION_PX`."""
    kept: list[int] = []
    for p in np.argsort(-confidence, kind="stable"):
        if confidence[p] < MIN_CONFIDENCE:
            break
        if all(abs(int(p) - q) * stride >= SUPPRESSION_PX for q in kept):
            kept.append(int(p))
    return tuple(sorted(kept))


def reading_errors(truth: str, read: str) -> int:
    """Digits misread, missed or read in excess: the edit (Levenshtein) distance between the strings."""
    previous = list(range(len(read) + 1))
    for i, a in enumerate(truth, start=1):
        current = [i]
        for j, b in enumerate(read, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


def row_accuracy(net: LoadedModel, rows: int = 200, first_seed: int = 0) -> float:
    """Fraction of the digits of ``rows`` composed rows (seeds ``first_seed`` …) that LeNet-5 reads
    correctly: 1 − (substituted + missed + extra digits) / digits, the character accuracy of OCR (0–1)."""
    total = errors = 0
    for seed in range(first_seed, first_seed + rows):
        row = held_out_row(seed)
        errors += reading_errors(row.text, read_row(net, row).text)
        total += len(row.digits)
    return max(0.0, 1 - errors / total)
