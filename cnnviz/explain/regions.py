"""Changed regions of feature maps, for incremental occlusion (Nakandala et al., SIGMOD 2019, "Krypton").

A :class:`Patch` is a batch of feature maps that equal one clean map except in one rectangle per image;
all rectangles of a batch have the same size, so a layer runs once on a gathered batch of windows. The
arithmetic is written here because no library tracks changed regions through a network: torch.fx gives
the graph, and these functions say which output pixels of a layer an input rectangle can change and which
input pixels those outputs read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Patch:
    """N feature maps: ``clean`` (1×C×H×W) everywhere except rows ``top[n] : top[n] + h`` and columns
    ``left[n] : left[n] + w`` of map ``n``, which hold ``values[n]`` (N×C×h×w). ``top`` and ``left`` are
    int64 CPU tensors (pixels of this map)."""

    clean: torch.Tensor
    values: torch.Tensor
    top: torch.Tensor
    left: torch.Tensor

    @property
    def size(self) -> tuple[int, int]:
        return self.values.shape[-2], self.values.shape[-1]

    def dense(self) -> torch.Tensor:
        """The N full maps (N×C×H×W)."""
        n = self.values.shape[0]
        full = self.clean.expand(n, -1, -1, -1).clone()
        rows, cols = _spans(self.top, self.size[0], full.device), _spans(self.left, self.size[1], full.device)
        index = torch.arange(n, device=full.device)[:, None, None]
        full[index, :, rows[:, :, None], cols[:, None, :]] = self.values.permute(0, 2, 3, 1)
        return full

    def window(self, top: torch.Tensor, left: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Rows ``top[n] : top[n] + size[0]`` and columns ``left[n] : …`` of each full map (N×C×h×w), read
        from ``clean`` or ``values``; the rectangle must lie inside the map."""
        device = self.values.device
        rows, cols = _spans(top, size[0], device), _spans(left, size[1], device)
        # Gathered pixel by pixel as height × width × channels, so that the windows come out channels-last.
        around = self.clean[0].permute(1, 2, 0)[rows[:, :, None], cols[:, None, :]]
        h, w = self.size
        inner_rows = rows - self.top.to(device)[:, None]
        inner_cols = cols - self.left.to(device)[:, None]
        inside = ((inner_rows >= 0) & (inner_rows < h))[:, :, None] & ((inner_cols >= 0) & (inner_cols < w))[:, None, :]
        index = torch.arange(len(top), device=device)[:, None, None]
        changed = self.values.permute(0, 2, 3, 1)[
            index, inner_rows.clamp(0, h - 1)[:, :, None], inner_cols.clamp(0, w - 1)[:, None, :]
        ]
        return torch.where(inside[..., None], changed, around).permute(0, 3, 1, 2)


def _spans(start: torch.Tensor, length: int, device: torch.device) -> torch.Tensor:
    return start.to(device)[:, None] + torch.arange(length, device=device)


@dataclass(frozen=True)
class Sliding:
    """How a sliding-window layer (convolution, pooling) reads its input along one axis: output ``o``
    reads padded-input pixels ``o·stride + j·dilation`` for ``j < kernel``; ``before`` pixels of padding
    precede the input."""

    kernel: int
    stride: int
    dilation: int
    before: int

    @property
    def reach(self) -> int:
        """Pixels one output reads, end to end."""
        return (self.kernel - 1) * self.dilation + 1

    def changed_outputs(
        self, start: torch.Tensor, length: int, outputs: int, fixed: bool = False
    ) -> tuple[torch.Tensor, int]:
        """Output pixels that input pixels ``start[n] : start[n] + length`` can change: a common count (at
        least 1, at most ``outputs``) and each image's first output, kept inside the map. ``fixed`` takes
        the most any alignment can change, so the count depends on ``length`` alone and every batch meets
        the same shapes (cuDNN plans each new shape, for seconds with some networks); otherwise the count
        is the most this batch needs (less work: VGG-16's map took 10.5 s instead of 11.2 s on 2 CPU cores).
        """
        first = torch.div(start + self.before - (self.reach - 1) + self.stride - 1, self.stride, rounding_mode="floor")
        if fixed:
            count = min(outputs, -(-(length + self.reach - 1) // self.stride))
        else:
            last = torch.div(start + length - 1 + self.before, self.stride, rounding_mode="floor").clamp(0, outputs - 1)
            count = min(outputs, max(1, int((last - first.clamp(0, outputs - 1)).max()) + 1))
        return first.clamp(0, outputs - count), count

    def input_span(self, first: torch.Tensor, count: int) -> tuple[torch.Tensor, int]:
        """The padded-input pixels that outputs ``first[n] : first[n] + count`` read."""
        return first * self.stride, (count - 1) * self.stride + self.reach

    def padding_after(self, size: int, outputs: int) -> int:
        """Pixels of padding the last output reads beyond the input (0 if it reads none)."""
        return max(0, (outputs - 1) * self.stride + self.reach - self.before - size)


def union(patches: list[Patch]) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
    """The smallest common-size rectangle per image that holds every patch's rectangle, inside the map."""
    height, width = patches[0].clean.shape[-2:]
    corners = []
    for axis, extent in ((0, height), (1, width)):
        starts = torch.stack([p.top if axis == 0 else p.left for p in patches])
        ends = torch.stack([(p.top if axis == 0 else p.left) + p.size[axis] for p in patches])
        first = starts.min(0).values
        length = int(min(extent, int((ends.max(0).values - first).max())))
        corners.append((first.clamp(max=extent - length), length))
    (top, h), (left, w) = corners
    return top, left, (h, w)


def pair(value) -> tuple[int, int]:
    """``3`` or ``(3, 3)`` as ``(3, 3)``."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> int:
    """Padding before the input of TensorFlow's "same" convolution (timm's ``Conv2dSame``), px."""
    total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2
