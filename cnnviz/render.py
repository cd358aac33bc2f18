"""Pictures of maps: a value grid coloured and laid over the picture the network saw."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from PIL import Image


def colourise(values: np.ndarray, cmap: str = "inferno", low: float | None = None, high: float | None = None):
    """``values`` (H×W floats) as H×W×3 uint8 through a matplotlib colormap, scaled to [low, high]."""
    low = float(np.min(values)) if low is None else low
    high = float(np.max(values)) if high is None else high
    scaled = np.zeros_like(values, dtype=np.float64) if high <= low else (values - low) / (high - low)
    return (colormaps[cmap](np.clip(scaled, 0, 1))[..., :3] * 255).astype(np.uint8)


def overlay(picture: np.ndarray, values: np.ndarray, alpha: float = 0.55, **colour) -> np.ndarray:
    """``values`` coloured and blended over ``picture`` (H×W×3 or H×W uint8) at the picture's size."""
    rgb = picture if picture.ndim == 3 else np.repeat(picture[..., None], 3, axis=2)
    heat = colourise(values, **colour)
    if heat.shape[:2] != rgb.shape[:2]:
        heat = np.asarray(Image.fromarray(heat).resize(rgb.shape[1::-1], Image.BILINEAR))
    return (rgb * (1 - alpha) + heat * alpha).astype(np.uint8)
