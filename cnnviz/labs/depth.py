"""The vanishing-gradient lab: plain and residual networks of the same width, shallow and deep, trained on
the 8×8 handwritten digits (He, Zhang, Ren & Sun 2016, "Deep Residual Learning", Fig. 1 and §4.2).

A network of depth ``d`` has ``d − 1`` 3×3 convolutions and one fully connected layer, like He et al.'s
CIFAR nets (6n + 2 layers): a stem convolution, then (d − 2) / 2 blocks of two convolutions, each followed
by batch norm (optional) and ReLU; a residual block adds its input before the last ReLU, a plain one does
not. Everything else (width, initialisation, data, optimiser, seeds) is the same for both kinds, so any gap
between them comes from the shortcuts alone. Written by hand: no library ships these toy nets.
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

from cnnviz.digits import digits_8x8, split_indices
from cnnviz.errors import CnnvizError
from cnnviz.explain.progress import Progress, report
from cnnviz.models.bundled import asset_path

DEPTHS = tuple(range(8, 57, 6))  # 8, 14, …, 56: He et al.'s 6n + 2
PRECOMPUTED = asset_path("depth_lab_default.json")
BATCH = 64


@dataclass(frozen=True)
class DepthSettings:
    """One lab run: the two depths compared, channels per layer, epochs, batch norm, SGD learning rate."""

    shallow: int = 20
    deep: int = 56
    width: int = 16
    epochs: int = 10
    batch_norm: bool = True
    learning_rate: float = 0.05
    seed: int = 0

    def check(self) -> None:
        """Raise :class:`CnnvizError` for settings the lab does not offer."""
        if self.shallow not in DEPTHS or self.deep not in DEPTHS or self.shallow >= self.deep:
            raise CnnvizError("depth_depths", low=DEPTHS[0], high=DEPTHS[-1])
        if not (4 <= self.width <= 64 and 1 <= self.epochs <= 50 and 0 < self.learning_rate <= 1):
            raise CnnvizError("depth_params")


@dataclass
class DepthRun:
    """One trained network: its depth and kind, the gradient norm of each weighted layer's weights (input
    side first) at initialisation and after training, the training loss of every step, and final errors."""

    depth: int
    residual: bool
    gradients_at_init: list[float]
    gradients_trained: list[float]
    step_losses: list[float]
    steps_per_epoch: int
    train_error: float  # fraction of the training digits misclassified after training
    test_error: float  # fraction of the held-out digits misclassified
    seconds: float

    def final_loss(self) -> float:
        """Mean training loss over the last epoch."""
        return float(np.mean(self.step_losses[-self.steps_per_epoch :]))


@dataclass
class DepthLab:
    """The four runs of a lab: plain and residual at the shallow and the deep depth."""

    settings: DepthSettings
    runs: list[DepthRun] = field(default_factory=list)

    def run(self, depth: int, residual: bool) -> DepthRun:
        return next(r for r in self.runs if r.depth == depth and r.residual == residual)

    def to_json(self) -> str:
        return json.dumps({"settings": asdict(self.settings), "runs": [asdict(r) for r in self.runs]})

    @classmethod
    def from_json(cls, text: str) -> DepthLab:
        data = json.loads(text)
        return cls(DepthSettings(**data["settings"]), [DepthRun(**r) for r in data["runs"]])


class _Block(nn.Module):
    def __init__(self, width: int, batch_norm: bool, residual: bool) -> None:
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=not batch_norm)
        self.norm1 = nn.BatchNorm2d(width) if batch_norm else nn.Identity()
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=not batch_norm)
        self.norm2 = nn.BatchNorm2d(width) if batch_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm2(self.conv2(F.relu(self.norm1(self.conv1(x)))))
        return F.relu(x + y if self.residual else y)


class DepthNet(nn.Module):
    """``depth`` weighted layers on a 1×8×8 digit: stem conv, (depth − 2) / 2 blocks, global pool, linear."""

    def __init__(self, depth: int, width: int, residual: bool, batch_norm: bool) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1, bias=not batch_norm),
            nn.BatchNorm2d(width) if batch_norm else nn.Identity(),
            nn.ReLU(),
        )
        self.blocks = nn.Sequential(*[_Block(width, batch_norm, residual) for _ in range((depth - 2) // 2)])
        self.head = nn.Linear(width, 10)
        for module in self.modules():  # He initialisation, as in the paper
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))

    def weighted_layers(self) -> list[nn.Module]:
        """The convolutions and the linear layer, input side first."""
        return [m for m in self.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def gradient_norms(model: DepthNet, images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """‖∂loss/∂W‖₂ of every weighted layer (input side first) for the cross-entropy of one batch."""
    model.zero_grad()
    F.cross_entropy(model(images), labels).backward()
    norms = [float(layer.weight.grad.norm()) for layer in model.weighted_layers()]
    model.zero_grad()
    return norms


def _settle_batch_norm(model: nn.Module, images: torch.Tensor) -> None:
    """Batch-norm statistics averaged over all of ``images`` with the final weights ("precise BN"): the
    running averages kept during training lag behind weights that are still moving, which distorts the
    errors of plain deep nets most."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average
    with torch.no_grad():
        for batch in images.split(BATCH):
            model(batch)


def _errors(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        wrong = (model(images).argmax(1) != labels).float().mean()
    model.train()
    return float(wrong)


def train_one(
    settings: DepthSettings, depth: int, residual: bool, progress: Callable[[int], None] | None = None
) -> DepthRun:
    """Build, measure and train one network; ``progress(steps_done)`` after every SGD step."""
    images, labels = digits_8x8()
    train_idx, test_idx = (torch.from_numpy(i) for i in split_indices())
    torch.manual_seed(settings.seed)
    order_generator = torch.Generator().manual_seed(settings.seed)
    model = DepthNet(depth, settings.width, residual, settings.batch_norm).train()
    probe = train_idx[:256]  # a fixed batch for the gradient norms
    at_init = gradient_norms(model, images[probe], labels[probe])
    optimiser = torch.optim.SGD(model.parameters(), lr=settings.learning_rate, momentum=0.9, weight_decay=1e-4)
    start = time.perf_counter()
    losses: list[float] = []
    for _ in range(settings.epochs):
        for batch in train_idx[torch.randperm(len(train_idx), generator=order_generator)].split(BATCH):
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
            if progress:
                progress(1)
    trained = gradient_norms(model, images[probe], labels[probe])
    _settle_batch_norm(model, images[train_idx])
    return DepthRun(
        depth=depth,
        residual=residual,
        gradients_at_init=at_init,
        gradients_trained=trained,
        step_losses=losses,
        steps_per_epoch=-(-len(train_idx) // BATCH),
        train_error=_errors(model, images[train_idx], labels[train_idx]),
        test_error=_errors(model, images[test_idx], labels[test_idx]),
        seconds=time.perf_counter() - start,
    )


def total_steps(settings: DepthSettings) -> int:
    """SGD steps of a whole lab (four networks), for a progress bar."""
    return 4 * settings.epochs * -(-len(split_indices()[0]) // BATCH)


def depth_lab(settings: DepthSettings, progress: Progress | None = None) -> DepthLab:
    """Train plain and residual networks at both depths; ``progress(done, total)`` counts SGD steps."""
    settings.check()
    total, done = total_steps(settings), 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        report(progress, done, total)

    lab = DepthLab(settings)
    for depth in (settings.shallow, settings.deep):
        for residual in (False, True):
            lab.runs.append(train_one(settings, depth, residual, step))
    return lab


def precomputed_default() -> DepthLab | None:
    """The default lab as ``scripts/precompute_depth_lab.py`` shipped it (None if the file is missing)."""
    if not PRECOMPUTED.exists():
        return None
    lab = DepthLab.from_json(PRECOMPUTED.read_text())
    return lab if lab.settings == DepthSettings() else None
