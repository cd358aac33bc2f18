"""The handwritten digits that ship with scikit-learn, as LeNet-5 sees them: 1×32×32, bright ink.

scikit-learn's 1,797 digits are 8×8 with ink intensity 0–16. Like LeCun's 28×28 digits centred in a
32×32 field, each is scaled to 28×28 (bilinear) and padded by 2 px; values are normalised as the LeNet-5
spec's preprocessing does ((x − 0.5) / 0.5 on the [0, 1] scale).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SPLIT_SEED = 0
TEST_FRACTION = 0.25


@dataclass(frozen=True)
class DigitSplit:
    """Train and held-out tensors: images N×1×32×32 (normalised), labels N (int64)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


@functools.cache
def digit_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits, read from disk once per process: images N×8×8 (ink 0–16) and labels N, both
    read-only (every caller shares them)."""
    bunch = load_digits()
    for array in (bunch.images, bunch.target):
        array.flags.writeable = False
    return bunch.images, bunch.target


def digits_32() -> tuple[torch.Tensor, torch.Tensor]:
    """All digits as N×1×32×32 normalised float32 images and their labels."""
    images, labels = digit_arrays()
    return lenet_input(images), torch.from_numpy(labels.astype(np.int64))


def lenet_input(images_8x8: np.ndarray) -> torch.Tensor:
    """8×8 digits with ink 0–16 (N×8×8) as LeNet-5's N×1×32×32 normalised input."""
    small = torch.from_numpy(np.asarray(images_8x8, dtype=np.float32) / 16.0).unsqueeze(1)
    big = F.interpolate(small, size=(28, 28), mode="bilinear", align_corners=False).clamp(0, 1)
    padded = F.pad(big, (2, 2, 2, 2))
    return (padded - 0.5) / 0.5


def digits_8x8() -> tuple[torch.Tensor, torch.Tensor]:
    """All digits at their native 8×8 as N×1×8×8 float32 in [−1, 1] (ink bright) and their labels."""
    images, labels = digit_arrays()
    small = torch.from_numpy(images.astype(np.float32) / 16.0).unsqueeze(1)
    return (small - 0.5) / 0.5, torch.from_numpy(labels.astype(np.int64))


def split_indices() -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``load_digits()`` of the fixed stratified split: 75 % train, 25 % held out."""
    labels = digit_arrays()[1]
    return train_test_split(np.arange(len(labels)), test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=labels)


def digit_split() -> DigitSplit:
    """The split used for training (``scripts/train_lenet5.py``) and for the accuracy test."""
    images, labels = digits_32()
    idx_train, idx_test = split_indices()
    return DigitSplit(images[idx_train], labels[idx_train], images[idx_test], labels[idx_test])


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of ``images`` that ``model`` classifies as ``labels`` (0–1)."""
    model.eval()
    with torch.inference_mode():
        predicted = model(images.to(next(model.parameters()).device)).argmax(1).cpu()
    return float((predicted == labels).float().mean())


def ink_of(rgba: np.ndarray) -> np.ndarray:
    """Ink (0–1, H×W) of a canvas picture drawn in light strokes: brightness × opacity."""
    picture = np.asarray(rgba, dtype=np.float32)
    if picture.ndim == 2:
        return picture / 255.0
    brightness = picture[..., :3].mean(axis=2) / 255.0
    opacity = picture[..., 3] / 255.0 if picture.shape[2] == 4 else 1.0
    return brightness * opacity
