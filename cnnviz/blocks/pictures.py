"""Pictures for the building blocks: a map in grey, a photo made small enough to send, an output unit's
receptive field drawn on the photo with a close-up of the kernel's taps, and max pooling's windows with the
unit that won each."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from cnnviz.blocks.operations import ReceptiveField

MARK = (230, 30, 30)  # the receptive field, the taps and the winners
GRID = (60, 140, 255)  # pooling windows


def grey_picture(values: np.ndarray) -> np.ndarray:
    """A map (H×W) as H×W×3 uint8 from its smallest value (black) to its largest (white)."""
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return np.repeat((scaled * 255).round().astype(np.uint8)[..., None], 3, axis=2)


def magnitude_picture(values: np.ndarray, top: float) -> np.ndarray:
    """A non-negative map (H×W) as H×W×3 uint8 on a fixed scale: 0 black, ``top`` or more white (so float
    rounding in a map of zeros stays black)."""
    scaled = np.clip(values / top, 0, 1) if top > 0 else np.zeros_like(values)
    return np.repeat((scaled * 255).round().astype(np.uint8)[..., None], 3, axis=2)


def fitted(picture: np.ndarray, longest: int) -> Image.Image:
    """``picture`` (H×W×3 uint8) brought to about ``longest`` px on its longer side: reduced by area
    averaging, or enlarged a whole number of times, each unit a sharp square (a 28 px map stays readable)."""
    image = Image.fromarray(picture)
    scale = longest / max(image.size)
    if scale >= 2:
        factor = int(scale)
        return image.resize((image.width * factor, image.height * factor), Image.NEAREST)
    if scale >= 1:
        return image
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BOX)


def field_on_photo(photo: np.ndarray, field: ReceptiveField, longest: int) -> Image.Image:
    """The photo (H×W×3 uint8) reduced to ``longest`` px with ``field``'s box drawn on it (at least 7 px
    wide, so a 3×3 field stays visible on a large photo)."""
    shown = fitted(photo, longest)
    scale = shown.width / photo.shape[1]
    centre_x = (field.left + field.right + 1) / 2 * scale
    centre_y = (field.top + field.bottom + 1) / 2 * scale
    half_w = max(field.size[1] * scale, 7) / 2
    half_h = max(field.size[0] * scale, 7) / 2
    draw = ImageDraw.Draw(shown)
    draw.rectangle((centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h), outline=MARK, width=2)
    return shown


def field_close_up(photo: np.ndarray, field: ReceptiveField, margin: int = 2, zoom: int | None = None) -> Image.Image:
    """The photo's pixels around ``field`` (``margin`` px each side), each pixel a square of ``zoom`` px
    (chosen to make the picture about 240 px), the padding's zeros black, each tap of the kernel outlined."""
    top, left = field.top - margin, field.left - margin
    bottom, right = field.bottom + margin, field.right + margin
    height, width = photo.shape[:2]
    crop = np.zeros((bottom - top + 1, right - left + 1, 3), dtype=np.uint8)
    rows, columns = slice(max(top, 0), min(bottom, height - 1) + 1), slice(max(left, 0), min(right, width - 1) + 1)
    if rows.stop > rows.start and columns.stop > columns.start:  # else the field and its margin lie in the padding
        crop[rows.start - top : rows.stop - top, columns.start - left : columns.stop - left] = photo[rows, columns]
    zoom = zoom or max(4, 240 // max(crop.shape[:2]))
    shown = Image.fromarray(crop).resize((crop.shape[1] * zoom, crop.shape[0] * zoom), Image.NEAREST)
    draw = ImageDraw.Draw(shown)
    for r, c in field.taps:
        y, x = (r - top) * zoom, (c - left) * zoom
        draw.rectangle((x, y, x + zoom - 1, y + zoom - 1), outline=MARK, width=max(1, zoom // 8))
    return shown


def pooling_close_up(
    values: np.ndarray,
    winners: np.ndarray | None,
    size: int,
    stride: int,
    first: tuple[int, int] = (0, 0),
    windows: int = 4,
    zoom: int = 24,
) -> Image.Image:
    """``windows``×``windows`` pooling windows of the map ``values`` (H×W) from window ``first`` (row, column
    of the pooled map) in grey, each unit a square of ``zoom`` px, the windows outlined and, for max pooling
    (``winners``: H'×W'×2, the unit in ``values`` that won each window), the winners marked (not in a window
    of equal values, where the first unit wins only by the tie rule)."""
    pooled_rows = (values.shape[0] - size) // stride + 1
    pooled_columns = (values.shape[1] - size) // stride + 1
    i0, j0 = min(first[0], max(pooled_rows - windows, 0)), min(first[1], max(pooled_columns - windows, 0))
    rows, columns = min(windows, pooled_rows - i0), min(windows, pooled_columns - j0)
    top, left = i0 * stride, j0 * stride
    height, width = (rows - 1) * stride + size, (columns - 1) * stride + size
    crop = grey_picture(values[top : top + height, left : left + width])
    shown = Image.fromarray(crop).resize((width * zoom, height * zoom), Image.NEAREST)
    draw = ImageDraw.Draw(shown)
    for i in range(rows):
        for j in range(columns):
            y, x = i * stride * zoom, j * stride * zoom
            draw.rectangle((x, y, x + size * zoom - 1, y + size * zoom - 1), outline=GRID, width=2)
            window = values[top + i * stride : top + i * stride + size, left + j * stride : left + j * stride + size]
            if winners is not None and window.max() > window.min():  # a window of equal values has no winner
                r, c = winners[i0 + i, j0 + j]
                cy, cx = (r - top + 0.5) * zoom, (c - left + 0.5) * zoom
                draw.ellipse((cx - zoom / 4, cy - zoom / 4, cx + zoom / 4, cy + zoom / 4), fill=MARK)
    return shown
