"""Cascading model randomisation (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018): re-draw the
network's weights block by block from the logits down, recompute each method's map after every block, and
measure how much of the original map is left. A map that barely changes while the network becomes random
shows the photo's edges, not what the network learnt.

The blocks are the network's parameterised modules, containers opened (a VGG's convolutions and linear
layers, a ResNet's residual blocks, an EfficientNet's inverted-residual blocks), in reverse order. Each is
re-drawn with its layers' own initialisation (``reset_parameters``; a batch norm's running statistics reset
too), seeded, on a private copy of the model: the shared model is never touched. Similarity to the
trained network's map, as in the paper: Spearman's rank correlation of the absolute values (scipy) and
SSIM (scikit-image) of the maps scaled to 0–1. Quantus's ``ModelParameterRandomisation`` does the same
walk on its own copy of the model; cnnviz walks itself so the maps it shows are its own methods' and every
depth's map can be drawn.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
import torch
from PIL import Image
from torch import nn

from cnnviz.explain.progress import Progress, report
from cnnviz.models.loading import LoadedModel
from cnnviz.trust.evidence import evidence_map

RANDOMISATION = "randomisation"  # the check's name on the command line
SEED = 0
TRAINED = "none"  # the first entry of every result: the trained network against itself
# Integrated Gradients' points at every depth: fixed, since a random network's attributions may never add
# up within the method's own 5 % (it would go to 512 points at each of twenty depths); 16 keeps Lite0's
# whole grid within a minute on two CPU cores (bench/trust.py)
INTEGRAL_STEPS = 16
# A map whose mean rank correlation with the trained network's map stays at least this while the top half
# of the blocks (the classifier and the layers nearest it, where the classes are learnt) is random keeps its
# picture: it fails the check. Adebayo et al. read their figures by eye; 0.5 separates them as they read them
# (on Lite0 and the cat, guided backpropagation's mean is 0.97, Grad-CAM's 0.23). Once the first layers are
# random too every map changes: guided backpropagation's picture is the first layers' edge detectors.
KEPT_SIMILARITY = 0.5


@dataclass(frozen=True)
class Randomisation:
    """Each method's map at each depth and its similarity to the trained network's. ``layers``: the block
    re-drawn last at each depth (:data:`TRAINED` first, then from the logits down, each step adding one
    block); ``maps[method][depth]``: H×W; ``spearman`` and ``ssim`` likewise, 1.0 at depth 0."""

    target: int
    layers: tuple[str, ...]
    maps: dict[str, list[np.ndarray]]
    spearman: dict[str, list[float]]
    ssim: dict[str, list[float]]

    def as_dict(self, method: str) -> dict:
        """One method's figures as the CLI's JSON prints them."""
        return {
            "method": method,
            "target": self.target,
            "layers": list(self.layers),
            "spearman": self.spearman[method],
            "ssim": self.ssim[method],
        }

    def top_half_similarity(self, method: str) -> float:
        """``method``'s mean Spearman over the depths where at most the top half of the blocks is random."""
        top = self.spearman[method][1 : 1 + -(-(len(self.layers) - 1) // 2)]
        return float(np.mean(top)) if top else 1.0

    def keeps_its_picture(self, method: str) -> bool:
        """Whether ``method``'s map stays like the trained network's while the top half of the blocks is
        random (:meth:`top_half_similarity` ≥ :data:`KEPT_SIMILARITY`): the check failed."""
        return self.top_half_similarity(method) >= KEPT_SIMILARITY

    def shrunk(self, side: int) -> Randomisation:
        """The same record with every map reduced to ``side``×``side`` px (area average): what a page shows
        and keeps in a shared cache (a 224 px map of every depth of a method is 20 MB in float32)."""
        import torch.nn.functional as F

        def small(values: np.ndarray) -> np.ndarray:
            tensor = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))[None, None]
            return F.adaptive_avg_pool2d(tensor, side)[0, 0].numpy()

        maps = {method: [small(values) for values in depths] for method, depths in self.maps.items()}
        return replace(self, maps=maps)


def blocks(model: nn.Module) -> list[str]:
    """The names of ``model``'s blocks in forward order: modules with parameters of their own or below,
    ``nn.Sequential`` and ``nn.ModuleList`` containers opened."""
    found: list[str] = []

    def visit(module: nn.Module, prefix: str) -> None:
        for name, child in module.named_children():
            full = f"{prefix}{name}"
            if next(child.parameters(), None) is None:
                continue
            if isinstance(child, (nn.Sequential, nn.ModuleList)) or type(child) is nn.Module:
                visit(child, f"{full}.")
            else:
                found.append(full)

    visit(model, "")
    return found


def redraw(block: nn.Module, seed: int) -> None:
    """Every layer of ``block`` with its own initialisation, drawn from ``seed``."""
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        for module in block.modules():
            if hasattr(module, "reset_running_stats"):
                module.reset_running_stats()
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()


def cascading_randomisation(
    net: LoadedModel,
    image: Image.Image,
    methods: tuple[str, ...],
    target: int,
    depth: int | None = None,
    progress: Progress | None = None,
) -> Randomisation:
    """Each of ``methods``' evidence for class ``target`` on ``image`` as ``net``'s blocks are re-drawn one
    by one from the logits down (see the module), down to ``depth`` blocks (default: all). ``progress``
    counts maps."""
    model = copy.deepcopy(net.model)
    private = replace(net, model=model)
    order = [TRAINED, *reversed(blocks(model))][: None if depth is None else depth + 1]
    maps: dict[str, list[np.ndarray]] = {method: [] for method in methods}
    total, done = len(order) * len(methods), 0
    for step, name in enumerate(order):
        if name != TRAINED:
            redraw(model.get_submodule(name), SEED + step)
        for method in methods:
            maps[method].append(evidence_map(private, image, method, target, steps=INTEGRAL_STEPS))
            done += 1
            report(progress, done, total)
    spearman = {m: [rank_correlation(maps[m][0], later) for later in maps[m]] for m in methods}
    ssim = {m: [structural_similarity(maps[m][0], later) for later in maps[m]] for m in methods}
    return Randomisation(target, tuple(order), maps, spearman, ssim)


def rank_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rank correlation of the two maps' absolute values (0 when either is constant)."""
    from scipy.stats import spearmanr

    a, b = np.abs(first).reshape(-1), np.abs(second).reshape(-1)
    if a.min() == a.max() or b.min() == b.max():
        return 0.0
    return float(spearmanr(a, b).statistic)


def structural_similarity(first: np.ndarray, second: np.ndarray) -> float:
    """SSIM of the two maps' absolute values, each scaled to 0–1 by its largest value (scikit-image,
    7 px windows, data range 1)."""
    from skimage.metrics import structural_similarity as ssim

    return float(ssim(_scaled(first), _scaled(second), data_range=1.0))


def _scaled(values: np.ndarray) -> np.ndarray:
    values = np.abs(values).astype(np.float64)
    top = values.max()
    return values / top if top > 0 else values


def similarity_figure(result: Randomisation, method: str, path) -> None:
    """``method``'s Spearman and SSIM against depth as a PNG chart at ``path``."""
    from cnnviz.trust.charts import saved_chart

    with saved_chart(path) as axes:
        depths = range(len(result.layers))
        axes.plot(depths, result.spearman[method], "o-", label="Spearman rank correlation")
        axes.plot(depths, result.ssim[method], "s--", label="SSIM")
        axes.set_xticks(list(depths), result.layers, rotation=90, fontsize=7)
        axes.set(ylabel=f"similarity to the trained {method} map", title="cascading randomisation")
        axes.set_ylim(-0.2, 1.05)
