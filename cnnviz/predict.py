"""Top-k classification of one image."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from PIL import Image

from cnnviz.errors import CnnvizError
from cnnviz.models.loading import LoadedModel


@dataclass(frozen=True)
class ClassScore:
    """One row of a top-k list: ``prob`` is the softmax probability (0–1) of class ``index``."""

    rank: int
    index: int
    label: str
    prob: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Prediction:
    """Top-k scores and ``crop``, the exact picture the network saw (H×W×3 or H×W uint8, before normalisation)."""

    scores: tuple[ClassScore, ...]
    crop: np.ndarray


def check_top(top: int, num_classes: int) -> None:
    """Raise :class:`CnnvizError` unless 1 ≤ ``top`` ≤ ``num_classes``."""
    if not 1 <= top <= num_classes:
        raise CnnvizError("top_range", limit=num_classes, top=top)


def at_most(net: LoadedModel, top: int = 5) -> int:
    """``top``, or the network's class count when it has fewer classes (a three-class checkpoint)."""
    return min(top, len(net.categories))


def top_k(loaded: LoadedModel, batch: torch.Tensor, top: int = 5) -> tuple[ClassScore, ...]:
    """Top-``top`` classes for a preprocessed 1×C×H×W tensor (on any device)."""
    check_top(top, len(loaded.categories))
    with torch.inference_mode():
        logits = loaded.model(loaded.to_input(batch))
        probs, indices = logits.float().softmax(dim=1)[0].topk(top)
    pairs = zip(probs.tolist(), indices.tolist(), strict=True)
    return tuple(
        ClassScore(rank=rank, index=index, label=loaded.categories[index], prob=prob)
        for rank, (prob, index) in enumerate(pairs, start=1)
    )


def predict(loaded: LoadedModel, image: Image.Image, top: int = 5) -> Prediction:
    """Preprocess ``image`` as the weights expect and return the top-``top`` classes with the crop seen."""
    crop = loaded.preprocess.crop_image(image)
    scores = top_k(loaded, loaded.preprocess.normalise(crop), top)
    return Prediction(scores=scores, crop=np.asarray(crop))
