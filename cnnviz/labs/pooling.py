"""The pooling-or-stride lab (deck 004, question 3: "if pooling shrinks the map, why not just another
convolution?"): two small networks of the same depth trained on the handwritten digits, one shrinking
its maps with 2×2 max pooling after each convolution, the other with the same convolutions at stride 2
(Springenberg, Dosovitskiy, Brox & Riedmiller 2015, "Striving for Simplicity: The All Convolutional Net",
the "Strided-CNN" variant).

Both have three 3×3 convolutions (16, 32, 64 channels, ReLU) and a linear classifier on the globally
averaged 4×4 map, so their parameters are identical; the strided one computes each convolution at a
quarter of the positions. They are trained with the same seeds, data order and optimiser on the 32×32
digits LeNet-5 reads, then tested on the held-out digits as they are and shifted by 1–3 px (the small
translations max pooling is said to absorb). Each kind is trained with several seeds and the figures
are their means. Written by hand: no library ships these toy nets or this comparison.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.digits import digit_split
from cnnviz.errors import CnnvizError
from cnnviz.explain.progress import Progress, report
from cnnviz.models.bundled import asset_path

KINDS = ("pool", "stride")
SHIFTS = (0, 1, 2, 3)  # px, in each of the four directions
WIDTHS = (16, 32, 64)
BATCH = 64
BACKGROUND = -1.0  # the digits' paper in the normalised input: what a shift brings in at the edge
PRECOMPUTED = asset_path("pooling_lab_default.json")


@dataclass(frozen=True)
class PoolingSettings:
    """One lab run: epochs, Adam learning rate, how many seeds per kind (the figures are their means)."""

    epochs: int = 15
    learning_rate: float = 0.003
    seeds: int = 3

    def check(self) -> None:
        """Raise :class:`CnnvizError` for settings the lab does not offer."""
        if not (1 <= self.epochs <= 60 and 0 < self.learning_rate <= 0.1 and 1 <= self.seeds <= 5):
            raise CnnvizError("pooling_params")


@dataclass
class PoolingRun:
    """One kind of network over the seeds: parameters, MACs per image, training seconds (all seeds),
    held-out accuracy per seed, and the mean held-out accuracy for each shift in :data:`SHIFTS`."""

    kind: str
    params: int
    macs: int
    seconds: float
    accuracy_per_seed: list[float]
    shifted_accuracy: list[float]

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.accuracy_per_seed))

    def shift_loss(self, shift: int) -> float:
        """Accuracy lost (fraction of digits) when the test digits move by ``shift`` px."""
        return self.shifted_accuracy[0] - self.shifted_accuracy[SHIFTS.index(shift)]


@dataclass
class PoolingLab:
    """The two runs of a lab, max pooling and stride 2."""

    settings: PoolingSettings
    runs: list[PoolingRun] = field(default_factory=list)

    def run(self, kind: str) -> PoolingRun:
        return next(r for r in self.runs if r.kind == kind)

    def to_json(self) -> str:
        return json.dumps({"settings": asdict(self.settings), "runs": [asdict(r) for r in self.runs]})

    @classmethod
    def from_json(cls, text: str) -> PoolingLab:
        data = json.loads(text)
        return cls(PoolingSettings(**data["settings"]), [PoolingRun(**r) for r in data["runs"]])


class DownsamplingNet(nn.Module):
    """Three 3×3 convolutions on a 1×32×32 digit, each halving the map: by 2×2 max pooling after it
    (``kind="pool"``) or by its own stride of 2 (``kind="stride"``); then global average pooling and a
    linear layer to 10 classes."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        stride = 2 if kind == "stride" else 1
        layers: list[nn.Module] = []
        channels = 1
        for width in WIDTHS:
            layers += [nn.Conv2d(channels, width, 3, stride=stride, padding=1), nn.ReLU()]
            if kind == "pool":
                layers.append(nn.MaxPool2d(2))
            channels = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=(2, 3)))


def macs_per_image(model: nn.Module) -> int:
    """Multiply-accumulates of one 1×32×32 forward pass, counted by torch's FLOP counter (FLOPs / 2)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 1, 32, 32))
    return counter.get_total_flops() // 2


def shifted(images: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``images`` (N×1×H×W) moved ``dy`` px down and ``dx`` px right, the edge filled with paper."""
    out = torch.full_like(images, BACKGROUND)
    height, width = images.shape[-2:]
    out[..., max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = images[
        ..., max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
    ]
    return out


def _accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(images).argmax(1) == labels).float().mean())


def shift_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, shift: int) -> float:
    """Accuracy on ``images`` moved ``shift`` px up, down, left and right (the mean of the four)."""
    if shift == 0:
        return _accuracy(model, images, labels)
    moves = ((shift, 0), (-shift, 0), (0, shift), (0, -shift))
    return float(np.mean([_accuracy(model, shifted(images, dy, dx), labels) for dy, dx in moves]))


def train_one(settings: PoolingSettings, kind: str, seed: int, step: Callable[[], None] | None = None):
    """One network of ``kind`` trained with ``seed``: (model in eval mode, training seconds)."""
    split = digit_split()
    torch.manual_seed(seed)
    order = torch.Generator().manual_seed(seed)
    model = DownsamplingNet(kind).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    start = time.perf_counter()
    for _ in range(settings.epochs):
        for batch in torch.randperm(len(split.train_labels), generator=order).split(BATCH):
            loss = F.cross_entropy(model(split.train_images[batch]), split.train_labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if step:
                step()
    return model.eval(), time.perf_counter() - start


def total_steps(settings: PoolingSettings) -> int:
    """Optimiser steps of a whole lab (both kinds, every seed), for a progress bar."""
    return len(KINDS) * settings.seeds * settings.epochs * -(-len(digit_split().train_labels) // BATCH)


def pooling_lab(settings: PoolingSettings, progress: Progress | None = None) -> PoolingLab:
    """Train both kinds with every seed and test them on shifted digits; ``progress`` counts steps."""
    settings.check()
    split = digit_split()
    total, done = total_steps(settings), 0

    def step() -> None:
        nonlocal done
        done += 1
        report(progress, done, total)

    lab = PoolingLab(settings)
    for kind in KINDS:
        accuracies, per_shift, seconds = [], [], 0.0
        for seed in range(settings.seeds):
            model, spent = train_one(settings, kind, seed, step)
            seconds += spent
            accuracies.append(_accuracy(model, split.test_images, split.test_labels))
            per_shift.append([shift_accuracy(model, split.test_images, split.test_labels, s) for s in SHIFTS])
        probe = DownsamplingNet(kind)
        lab.runs.append(
            PoolingRun(
                kind=kind,
                params=sum(p.numel() for p in probe.parameters()),
                macs=macs_per_image(probe),
                seconds=seconds,
                accuracy_per_seed=accuracies,
                shifted_accuracy=[float(v) for v in np.mean(per_shift, axis=0)],
            )
        )
    return lab


def precomputed_default() -> PoolingLab | None:
    """The default lab as ``scripts/precompute_pooling_lab.py`` shipped it (None if missing or stale)."""
    if not PRECOMPUTED.exists():
        return None
    lab = PoolingLab.from_json(PRECOMPUTED.read_text())
    return lab if lab.settings == PoolingSettings() else None
