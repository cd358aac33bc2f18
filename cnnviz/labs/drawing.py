"""The draw-a-digit lab: a drawing becomes a digit as the bundled LeNet-5 was trained on it, and every
layer's output is kept for display, the way CNN Explainer shows its network.

scikit-learn's digits were made from 32×32 black-and-white bitmaps, each digit scaled to fill its box,
then counted in 4×4 blocks to 8×8 (ink 0–16). :func:`digit_from_drawing` does the same to a drawing:
crop to the ink, centre in a square, scale to 32×32, threshold, count 4×4 blocks. Written by hand: it is
that dataset's own preprocessing, which no library provides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from cnnviz.digits import ink_of, lenet_input
from cnnviz.models.loading import LoadedModel

INK_THRESHOLD = 0.2  # fraction of full ink below which a pixel is paper
# LeNet-5's module after which each map or vector is shown, as the paper names the layers.
STAGES = {
    "C1": "features.relu1",
    "S2": "features.s2",
    "C3": "features.relu3",
    "S4": "features.s4",
    "C5": "features.relu5",
    "F6": "classifier.relu6",
}


def digit_from_drawing(rgba: np.ndarray) -> np.ndarray | None:
    """The drawing as an 8×8 digit with ink 0–16, like ``load_digits().images``; None when nothing is drawn."""
    ink = ink_of(rgba)
    rows, cols = np.nonzero(ink > INK_THRESHOLD)
    if rows.size == 0:
        return None
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    side = max(bottom - top, right - left)
    square = np.zeros((side, side), np.float32)
    y, x = (side - (bottom - top)) // 2, (side - (right - left)) // 2
    square[y : y + bottom - top, x : x + right - left] = ink[top:bottom, left:right]
    bitmap = np.asarray(Image.fromarray(square).resize((32, 32), Image.BOX)) > 0.5
    return bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3)).astype(np.float32)


@dataclass(frozen=True)
class LeNetTrace:
    """One digit through LeNet-5: the input (32×32, normalised), each stage's output (C1 6×28×28,
    S2 6×14×14, C3 16×10×10, S4 16×5×5, C5 120, F6 84) and the ten probabilities (0–1)."""

    input: np.ndarray
    stages: dict[str, np.ndarray]
    probabilities: np.ndarray

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())


def trace_lenet(net: LoadedModel, digit_8x8: np.ndarray) -> LeNetTrace:
    """Run ``digit_8x8`` (ink 0–16) through the shared LeNet-5 and keep every stage's output. Walks the
    two ``nn.Sequential`` stacks module by module, so no hook touches the shared model."""
    x = lenet_input(digit_8x8[None]).to(net.device)
    wanted = {module: stage for stage, module in STAGES.items()}
    stages: dict[str, np.ndarray] = {}
    with torch.inference_mode():
        h = x
        for part in ("features", "classifier"):
            for name, module in getattr(net.model, part).named_children():
                h = module(h)
                if f"{part}.{name}" in wanted:
                    stages[wanted[f"{part}.{name}"]] = h[0].float().cpu().numpy()
        probabilities = h.float().softmax(1)[0].cpu().numpy()
    stages["C5"] = stages["C5"].reshape(-1)  # 120×1×1: C5 is a convolution covering the whole S4 map
    return LeNetTrace(x[0, 0].cpu().numpy(), stages, probabilities)
