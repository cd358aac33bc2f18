"""Safe decoding of untrusted images with Pillow.

Every upload is treated as hostile: the byte size and the pixel count are checked before any pixel is
decoded (so decompression bombs are refused cheaply), only known formats are accepted, only the first
frame of an animation is used, EXIF orientation is applied and every mode becomes 8-bit RGB (alpha is
composited on white). Anything wrong raises :class:`ImageInputError` with a message a student understands.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnviz.errors import ImageInputError

MAX_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 50_000_000
MIN_SIDE = 8
FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF", "MPO"}
FORMAT_NAMES = "JPEG, PNG, WebP, BMP, GIF or TIFF"


def load_image(source: bytes | str | Path, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode ``source`` (raw bytes or a file path) into an 8-bit RGB PIL image, upright.

    Limits: at most ``max_bytes`` bytes of file and ``max_pixels`` pixels (width × height); sides of at
    least :data:`MIN_SIDE` px.
    """
    data = _read(source, max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageInputError(
            f"This file is not an image cnnviz can read: please use a {FORMAT_NAMES} file.", "not_image",
            formats=FORMAT_NAMES,
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except Exception as exc:  # Pillow raises many types for malformed headers
        raise ImageInputError(
            f"This image file is damaged and cannot be opened ({type(exc).__name__}).", "damaged",
            reason=type(exc).__name__,
        ) from None
    if image.format not in FORMATS:
        raise ImageInputError(
            f"{image.format} images are not supported: please use a {FORMAT_NAMES} file.", "format",
            format=image.format, formats=FORMAT_NAMES,
        )
    width, height = image.size
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels, width, height)
    if min(width, height) < MIN_SIDE:
        raise ImageInputError(
            f"This image is only {width}×{height} pixels: it needs to be at least {MIN_SIDE}×{MIN_SIDE}.",
            "too_small", width=width, height=height, min_side=MIN_SIDE,
        )
    try:
        image.seek(0)
        image.load()
        image = ImageOps.exif_transpose(image)
        return to_rgb(image)
    except ImageInputError:
        raise
    except Exception as exc:  # truncated data, bad compression streams, broken EXIF
        raise ImageInputError(
            f"This image file is truncated or damaged and cannot be decoded ({type(exc).__name__}). "
            "Try saving it again or use another photo.", "truncated", reason=type(exc).__name__,
        ) from None


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode as 8-bit RGB: 16/32-bit grey rescaled, alpha and palette transparency on white."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        image = Image.fromarray(_to_uint8(np.asarray(image)), mode="L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """16-bit (or wider) grey values to 0–255: 16-bit data by its full range, other data by min/max."""
    values = array.astype(np.float64)
    if np.issubdtype(array.dtype, np.integer) and values.min() >= 0 and values.max() <= 65535:
        scaled = values / 257.0
    else:
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _read(source: bytes | str | Path, max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise _too_big(size, max_bytes)
            data = path.read_bytes()
        except ImageInputError:
            raise
        except IsADirectoryError:
            raise ImageInputError(f"{path} is a folder, not an image file.") from None
        except FileNotFoundError:
            raise ImageInputError(f"There is no file {path}.") from None
        except OSError as exc:
            raise ImageInputError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if not data:
        raise ImageInputError("The file is empty (0 bytes): please choose a photo.", "empty")
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes)
    return data


def _too_big(size: int, max_bytes: int) -> ImageInputError:
    return ImageInputError(
        f"This file is {size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB. Please use a smaller photo.",
        "too_big", size_mb=size / 2**20, limit_mb=max_bytes / 2**20,
    )


def _too_many_pixels(max_pixels: int, width: int | None = None, height: int | None = None) -> ImageInputError:
    size = f" ({width}×{height} pixels)" if width else ""
    return ImageInputError(
        f"This image is too large{size}: the limit is {max_pixels / 1e6:.0f} megapixels. Please use a smaller photo.",
        "too_many_pixels", limit_mp=max_pixels / 1e6,
    )
