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


def projection_image(pixels: np.ndarray, percentile: float = 99.5) -> np.ndarray:
    """A projection (C×H×W floats) as H×W×3 uint8, contrast-normalised as in ZF's figures: each channel's
    mean becomes mid grey and ±(the ``percentile`` of |value|) black or white; one channel shows grey."""
    centred = pixels - pixels.mean(axis=(1, 2), keepdims=True)
    scale = float(np.percentile(np.abs(centred), percentile))
    shown = 0.5 + centred / (2 * scale) if scale > 0 else np.full_like(centred, 0.5)
    rgb = np.clip(shown, 0, 1).transpose(1, 2, 0)
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    return (rgb * 255).round().astype(np.uint8)


def signed_picture(values: np.ndarray) -> np.ndarray:
    """A convolution's output (C×H×W, C 1 or 3) as an H×W×3 uint8 picture: 0 is mid grey, the largest
    magnitude black or white, one scale for all channels (a grey output shows grey)."""
    top = float(np.abs(values).max())
    shown = 0.5 + values / (2 * top) if top > 0 else np.full_like(values, 0.5)
    rgb = np.repeat(shown, 3, axis=0) if shown.shape[0] == 1 else shown
    return (np.clip(rgb, 0, 1).transpose(1, 2, 0) * 255).round().astype(np.uint8)


def energy_map(pixels: np.ndarray) -> np.ndarray:
    """Where a projection (C×H×W) puts its signal: the sum of squares over channels (H×W)."""
    return (pixels.astype(np.float64) ** 2).sum(axis=0)


def heat_image(values: np.ndarray, cmap: str = "inferno") -> np.ndarray:
    """A non-negative map (H×W) as H×W×3 uint8, 0 to its maximum."""
    return colourise(values, cmap=cmap, low=0.0, high=max(float(values.max()), 1e-12))


def tile_grid(tiles: list[np.ndarray], columns: int, zoom: int = 1, gap: int = 2, background: int = 255) -> np.ndarray:
    """Equal-sized H×W×3 uint8 ``tiles`` laid out in rows of ``columns``, each pixel repeated ``zoom``
    times per side (nearest neighbour, so kernels stay sharp), ``gap`` px apart."""
    if not tiles:
        raise ValueError("no tiles")
    big = [np.kron(t, np.ones((zoom, zoom, 1), dtype=t.dtype)) if zoom > 1 else t for t in tiles]
    height, width = big[0].shape[:2]
    rows = -(-len(big) // columns)
    grid = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, 3), background, np.uint8)
    for i, tile in enumerate(big):
        r, c = divmod(i, columns)
        grid[r * (height + gap) : r * (height + gap) + height, c * (width + gap) : c * (width + gap) + width] = tile
    return grid


def class_map_image(picture: np.ndarray, values: np.ndarray, percentile: float = 99.5) -> np.ndarray:
    """A class map (H×W, ≥ 0) in the jet colour map over ``picture``, its scale topping out at the
    ``percentile`` of the values, so a few hot pixels (saliency's) do not darken the rest."""
    high = max(float(np.percentile(values, percentile)), 1e-12)
    return overlay(picture, values, low=0.0, high=high, cmap="jet")


def boxes_image(picture: Image.Image, boxes, colour: tuple[int, int, int] = (255, 40, 40), width: int = 3):
    """``picture`` (any mode) as RGB with each box's rectangle (``corners`` x0, y0, x1, y1 in its px) and,
    where it has one, its label and score written at its top-left corner; returns H×W×3 uint8."""
    from PIL import ImageDraw

    canvas = picture.convert("RGB")
    draw = ImageDraw.Draw(canvas)
    for box in boxes:
        x0, y0, x1, y1 = box.corners
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=colour, width=width)
        if getattr(box, "label", ""):
            text = f"{box.label} {box.score:.2f}"
            left, top, right, bottom = draw.textbbox((x0 + width, y0 + width), text)
            draw.rectangle((left - 1, top - 1, right + 1, bottom + 1), fill=colour)
            draw.text((x0 + width, y0 + width), text, fill=(255, 255, 255))
    return np.asarray(canvas)


def grid_overlay(picture: Image.Image, values: np.ndarray, window: int, stride: int, **colour) -> np.ndarray:
    """A coarse R×C grid of window scores (window ``window`` px every ``stride`` px, from the top-left) laid
    over ``picture`` at its own px: upsampled by FCN's bilinear transposed convolution, placed on the
    windows' centres, the photo's margins taking the nearest value; returns H×W×3 uint8."""
    from cnnviz.explain.localize import upsampled

    big = upsampled(values, stride)
    margin = (window - stride) // 2
    height, width = picture.size[1], picture.size[0]
    pad = ((margin, max(0, height - margin - big.shape[0])), (margin, max(0, width - margin - big.shape[1])))
    full = np.pad(big, pad, mode="edge")[:height, :width]
    return overlay(np.asarray(picture.convert("RGB")), full, **colour)
