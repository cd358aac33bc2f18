"""Deletion and insertion curves (Petsiuk, Das & Saenko, "RISE", BMVC 2018): does the class probability fall
when the pixels a map ranks highest are removed first, and rise when they are revealed first?

Deletion starts from the photo and replaces pixels, highest-ranked first, with the occlusion fill (the
dataset mean: 0 after normalising, :func:`cnnviz.explain.occlusion.fill_tensor`); insertion starts from that
fill and puts the photo's pixels back in the same order. Each curve is the class probability against the
share of pixels changed, at ``steps + 1`` evenly spaced shares from 0 to 1; its area (trapezoids over the
shares) is the score: low for deletion and high for insertion mean the map found the evidence. A seeded
random order of the same pixels is the baseline every map must beat.

The perturbed copies are batched (:data:`BATCH` per forward pass). The curves are written here rather than
taken from Quantus (whose ``PixelFlipping`` is deletion): they reuse the occlusion fill and the app's
batching and progress; ``tests/test_trust.py`` checks the deletion curve against Quantus's on the same
inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from cnnviz.errors import CnnvizError
from cnnviz.explain.occlusion import fill_tensor
from cnnviz.explain.progress import Progress, report
from cnnviz.models.loading import LoadedModel

KINDS = ("deletion", "insertion")
DEFAULT_STEPS = 50
STEPS_RANGE = (2, 1000)  # steps a curve may take: at least two changes; at most one per 50 px of 224²
BATCH = 16  # perturbed copies per forward pass (measured on Lite0, 2 CPU cores: 16 and 32 equally fast)
SEED = 0  # the random baseline's order


@dataclass(frozen=True)
class Curve:
    """One deletion or insertion curve of class ``target``: ``fractions`` (share of pixels changed, 0–1)
    and the class ``probabilities`` there, with the area under the curve (``auc``); the same for a
    random order of the pixels (``random_probabilities``, ``random_auc``)."""

    kind: str
    target: int
    fractions: np.ndarray
    probabilities: np.ndarray
    auc: float
    random_probabilities: np.ndarray
    random_auc: float

    def as_dict(self) -> dict:
        """The curve as the CLI's JSON prints it."""
        return {
            "kind": self.kind,
            "target": self.target,
            "fractions": [round(float(f), 6) for f in self.fractions],
            "probabilities": [float(p) for p in self.probabilities],
            "auc": self.auc,
            "random_probabilities": [float(p) for p in self.random_probabilities],
            "random_auc": self.random_auc,
        }


def check_steps(steps: int) -> int:
    """``steps``, or :class:`CnnvizError` outside :data:`STEPS_RANGE`."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not STEPS_RANGE[0] <= steps <= STEPS_RANGE[1]:
        raise CnnvizError("trust_steps", low=STEPS_RANGE[0], high=STEPS_RANGE[1], steps=str(steps)[:20])
    return steps


def perturbation_curve(
    net: LoadedModel,
    image: Image.Image,
    ranking: np.ndarray,
    kind: str,
    target: int,
    steps: int = DEFAULT_STEPS,
    progress: Progress | None = None,
) -> Curve:
    """The ``kind`` curve ("deletion" or "insertion") of class ``target`` for the pixel order of
    ``ranking`` (H×W at the network's input size, larger first; ties in reading order), beside the random
    order's. ``progress`` counts forward passes."""
    if kind not in KINDS:
        raise CnnvizError("trust_check", check=str(kind)[:40], choices=", ".join(KINDS))
    check_steps(steps)
    x = net.to_input(net.preprocess(image)).float()
    side = x.shape[-2:]
    if ranking.shape != tuple(side):
        raise ValueError(f"the ranking is {ranking.shape}, the input {tuple(side)}")
    fill = fill_tensor(x[0], "mean", net.preprocess.mean, net.preprocess.std)
    order = np.argsort(-ranking.reshape(-1), kind="stable")
    shuffled = np.random.default_rng(SEED).permutation(order.size)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.round(fractions * order.size).astype(int)
    passes = 2 * -(-len(counts) // BATCH)
    done = 0

    def probabilities(pixels: np.ndarray) -> np.ndarray:
        nonlocal done
        rank = torch.empty(order.size, dtype=torch.long)
        rank[torch.from_numpy(pixels)] = torch.arange(order.size)  # each pixel's place in the order
        rank = rank.view(1, 1, *side).to(x.device)
        found = []
        for start in range(0, len(counts), BATCH):
            chunk = torch.as_tensor(counts[start : start + BATCH], device=x.device).view(-1, 1, 1, 1)
            changed = rank < chunk  # N×1×H×W: the first `count` pixels of the order
            start_from, put = (x, fill) if kind == "deletion" else (fill, x)
            batch = torch.where(changed, put.expand(len(chunk), -1, -1, -1), start_from.expand(len(chunk), -1, -1, -1))
            with torch.inference_mode():
                found.append(net.model(batch.contiguous(memory_format=net.memory_format)).softmax(1)[:, target])
            done += 1
            report(progress, done, passes)
        return torch.cat(found).float().cpu().numpy()

    ours, baseline = probabilities(order), probabilities(shuffled)
    return Curve(kind, target, fractions, ours, _area(fractions, ours), baseline, _area(fractions, baseline))


def _area(fractions: np.ndarray, values: np.ndarray) -> float:
    """The area under ``values`` over ``fractions`` by trapezoids."""
    return float(np.sum((values[1:] + values[:-1]) * np.diff(fractions)) / 2)


def curve_figure(curve: Curve, method: str, path) -> None:
    """The curve and the random order's as a PNG chart at ``path``."""
    from cnnviz.trust.charts import saved_chart

    with saved_chart(path) as axes:
        axes.plot(curve.fractions, curve.probabilities, label=f"{method} (AUC {curve.auc:.3f})")
        axes.plot(curve.fractions, curve.random_probabilities, "--", label=f"random order (AUC {curve.random_auc:.3f})")
        verb = "removed" if curve.kind == "deletion" else "revealed"
        axes.set(xlabel=f"share of pixels {verb}", ylabel=f"probability of class {curve.target}", title=curve.kind)
        axes.set_xlim(0, 1)
        axes.set_ylim(bottom=0)
