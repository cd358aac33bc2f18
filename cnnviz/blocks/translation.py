"""Deck 001's argument for pooling, measured: a convolution is equivariant to translation (shift the photo by
k px and its map shifts by k/stride units), while a prediction should be invariant (the same classes). The
photo is shifted, then compared through one convolution, through ReLU and max pooling, and through a whole
network. Written here: no library measures this; torch does the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from cnnviz.blocks.operations import convolve, pool, relu
from cnnviz.models.loading import LoadedModel
from cnnviz.predict import ClassScore, at_most


def shifted(picture: np.ndarray, shift: int) -> np.ndarray:
    """``picture`` (…×H×W, channels first) moved ``shift`` px to the right; the uncovered left band repeats
    the first column, so no new edge appears."""
    if shift == 0:
        return picture.copy()
    band = np.repeat(picture[..., :1], shift, axis=-1)
    return np.concatenate([band, picture[..., :-shift]], axis=-1)


def shifted_picture(image: Image.Image, shift: int) -> Image.Image:
    """A PIL picture moved ``shift`` px to the right (see :func:`shifted`)."""
    pixels = np.asarray(image)
    moved = shifted(np.moveaxis(pixels, -1, 0), shift) if pixels.ndim == 3 else shifted(pixels, shift)
    return Image.fromarray(np.ascontiguousarray(np.moveaxis(moved, 0, -1) if pixels.ndim == 3 else moved))


@dataclass(frozen=True)
class ShiftedMaps:
    """One convolution's map of a photo and of the photo shifted ``shift`` px to the right.

    ``map_shift`` = shift / stride, in output units; ``aligned_difference`` is the largest difference
    between the shifted photo's map and the photo's map moved by the nearest whole number of units, as a
    share of the map's largest magnitude (0 up to rounding when the shift is a multiple of the stride);
    ``conv_change``, ``relu_change`` and ``pooled_change`` compare the two maps unmoved, at the same places:
    as the convolution gives them, after ReLU, and after ReLU and max pooling (the mean absolute change as a
    share of the mean magnitude). Only units whose input
    lies inside the photo in both are compared (``columns`` of the map)."""

    shift: int
    stride: int
    map_shift: float
    aligned_difference: float
    conv_change: float
    relu_change: float
    pooled_change: float
    columns: int
    first: int  # the first column of the map compared
    before: np.ndarray = field(repr=False)  # the photo's map, C×H'×W'
    after: np.ndarray = field(repr=False)  # the shifted photo's map

    @property
    def units(self) -> int:
        """The whole number of output units the map is moved back by."""
        return round(self.shift / self.stride)

    def close_up(self, side: int = 96) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """About ``side``×``side`` units around the strongest unit compared (the channels' mean): the photo's
        map, the shifted photo's map at the same places, and |the shifted photo's map − the photo's map moved
        by :attr:`units`|."""
        before, after = self.before.mean(axis=0), self.after.mean(axis=0)
        rows, columns = min(side, before.shape[0]), min(side, self.columns)
        compared = np.abs(before[:, self.first : self.first + self.columns])
        row, column = np.unravel_index(int(np.argmax(compared)), compared.shape)
        top = int(np.clip(row - rows // 2, 0, before.shape[0] - rows))
        left = self.first + int(np.clip(column - columns // 2, 0, self.columns - columns))
        window = (slice(top, top + rows), slice(left, left + columns))
        moved = before[top : top + rows, left - self.units : left - self.units + columns]
        return before[window], after[window], np.abs(after[window] - moved)

    @property
    def aligned(self) -> bool:
        """True when the shift is a whole number of output units."""
        return self.shift % self.stride == 0


def shifted_maps(
    x: np.ndarray,
    weights: np.ndarray,
    shift: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    pool_size: int = 2,
    before: np.ndarray | None = None,
) -> ShiftedMaps:
    """Compare the convolution of ``x`` (C×H×W) and of ``x`` shifted ``shift`` px to the right (see
    :class:`ShiftedMaps`); ``before``, when given, is the convolution of ``x`` with these settings already
    computed."""
    if before is None:
        before = convolve(x, weights, stride, padding, dilation)
    after = convolve(shifted(x, shift), weights, stride, padding, dilation)
    reach = dilation * (weights.shape[-1] - 1) + 1
    width = x.shape[-1]
    # Output columns that read only photo pixels, never the repeated band or the padding, in both pictures.
    inside = [
        j for j in range(after.shape[-1]) if j * stride - padding >= shift and j * stride - padding + reach <= width
    ]
    units = round(shift / stride)
    inside = [j for j in inside if j - units >= 0]
    if len(inside) < pool_size:
        raise ValueError(f"a shift of {shift} px leaves fewer than {pool_size} columns of the map to compare")
    first, last = inside[0], inside[-1] + 1
    scale = float(np.abs(before).max()) or 1.0
    aligned_difference = float(np.abs(after[..., first:last] - before[..., first - units : last - units]).max())
    same_before, same_after = before[..., first:last], after[..., first:last]
    pooled_before = pool(relu(same_before), "max", pool_size)
    pooled_after = pool(relu(same_after), "max", pool_size)
    return ShiftedMaps(
        shift=shift,
        stride=stride,
        map_shift=shift / stride,
        aligned_difference=aligned_difference / scale,
        conv_change=_relative_change(same_before, same_after),
        relu_change=_relative_change(relu(same_before), relu(same_after)),
        pooled_change=_relative_change(pooled_before, pooled_after),
        columns=last - first,
        first=first,
        before=before,
        after=after,
    )


def _relative_change(before: np.ndarray, after: np.ndarray) -> float:
    """Mean |after − before| over mean |before| (0 when both are zero)."""
    magnitude = float(np.abs(before).mean())
    return float(np.abs(after - before).mean()) / magnitude if magnitude > 0 else 0.0


@dataclass(frozen=True)
class ShiftedPrediction:
    """A network's top classes for its input picture and for that picture shifted ``shift`` px to the right
    (input px): ``overlap`` classes in both lists, whether the first class is kept, and the total variation
    between the two probability vectors (half the sum of |p − p′| over every class, 0–1)."""

    shift: int
    before: tuple[ClassScore, ...]
    after: tuple[ClassScore, ...]
    total_variation: float

    @property
    def overlap(self) -> int:
        return len({s.index for s in self.before} & {s.index for s in self.after})

    @property
    def top1_kept(self) -> bool:
        return self.before[0].index == self.after[0].index


def shifted_prediction(net: LoadedModel, image: Image.Image, shift: int, top: int = 5) -> ShiftedPrediction:
    """``net``'s top-``top`` for the picture it sees of ``image`` and for that picture shifted ``shift`` px
    (both in one batch)."""
    crop = net.preprocess.crop_image(image)
    batch = torch.cat([net.preprocess.normalise(crop), net.preprocess.normalise(shifted_picture(crop, shift))])
    with torch.inference_mode():
        probabilities = net.model(net.to_input(batch)).float().softmax(dim=1).cpu()
    top = at_most(net, top)

    def scores(row: torch.Tensor) -> tuple[ClassScore, ...]:
        values, indices = row.topk(top)
        return tuple(
            ClassScore(rank=rank, index=index, label=net.categories[index], prob=prob)
            for rank, (prob, index) in enumerate(zip(values.tolist(), indices.tolist(), strict=True), start=1)
        )

    return ShiftedPrediction(
        shift=shift,
        before=scores(probabilities[0]),
        after=scores(probabilities[1]),
        total_variation=float((probabilities[0] - probabilities[1]).abs().sum() / 2),
    )
