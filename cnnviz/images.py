"""Safe decoding of untrusted images with Pillow, in memory bounded by what the networks see.

Every upload is treated as hostile. Before any pixel is decoded, the file's size, format, sides, aspect
ratio and the memory its decoder would need are checked from the header, so bombs are refused cheaply.
Decoding then goes through a reduce step: JPEG files are decoded directly at 1/2, 1/4 or 1/8 scale
(libjpeg's scaled decoding, Pillow's ``draft``), every other format is decoded whole and at once scaled
*down* to at most :data:`KEPT_PIXELS` pixels; nothing is ever scaled up here. Only the first frame of an
animation is used, EXIF orientation is applied and every mode becomes 8-bit RGB (alpha composited on
white). Anything wrong raises :class:`ImageInputError` with a message a student understands.

The memory figures (bytes) follow Pillow's layout: 1 byte per pixel for ``1``/``L``/``P``, 2 for 16-bit
grey, 4 for everything else (RGB is stored as 4 bytes per pixel).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from cnnviz.errors import ImageInputError

MAX_BYTES = 25 * 1024 * 1024
MIN_SIDE = 8
MAX_ASPECT = 10  # long side / short side: every network here sees a centred square, so at least 1/10 of it
MAX_SIDE = 65_000  # px; also keeps every picture within the JPEG and PNG encoders' 65 535 px limit
KEPT_PIXELS = 1_200_000  # the decoded image a caller gets (4.8 MB); its short side stays ≥ 346 px at 10:1
REFERENCE_PHOTO = (4000, 3000)  # an ordinary 12-megapixel photo
FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF", "MPO"}
FORMAT_NAMES = "JPEG, PNG, WebP, BMP, GIF or TIFF"

# Measured with bench/memory.py. Bytes per pixel: of a decoded frame in Pillow's mode (default 4); held
# beside it by a format's decoder (libtiff's strip buffers); of decoding, where a decoder holds more for a
# while (libwebp's animation decoder keeps its canvas, the previous canvas and a copy of the frame); of
# converting a strip of rows (the widest case: 16-bit grey through numpy's float64). Plus a constant for
# libjpeg's and zlib's working state.
_FRAME_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
_HELD_BYTES = {"TIFF": 0.25}
_DECODER_STATE = {"JPEG": 1_500_000, "MPO": 1_500_000, "PNG": 1_000_000}  # bytes
_DECODING_BYTES = {"WEBP": 18}
_STRIP_BYTES = 40


def load_image(
    source: bytes | str | Path, *, max_bytes: int = MAX_BYTES, budget: int | None = None, kept_pixels: int = KEPT_PIXELS
) -> Image.Image:
    """Decode ``source`` (raw bytes or a file path) into an upright 8-bit RGB PIL image of at most
    ``kept_pixels`` pixels (larger images are scaled down, keeping their aspect ratio).

    Refused with :class:`ImageInputError`: files over ``max_bytes`` bytes, sides under :data:`MIN_SIDE` or
    over :data:`MAX_SIDE` px, aspect ratios over :data:`MAX_ASPECT`, and files whose decoding would need
    more than ``budget`` bytes (:func:`decode_cost`; default :data:`DECODE_BUDGET`).
    """
    data = _read(source, max_bytes)
    image = _open(data)
    _check_header(image, DECODE_BUDGET if budget is None else budget, kept_pixels)
    try:
        return _decode(image, kept_pixels)
    except ImageInputError:
        raise
    except Exception as exc:  # truncated data, bad compression streams, broken EXIF
        raise ImageInputError("truncated", reason=type(exc).__name__) from None


def kept_size(width: int, height: int, kept_pixels: int = KEPT_PIXELS) -> tuple[int, int]:
    """The size (px) an image of ``width`` × ``height`` is reduced to: unchanged when it has at most
    ``kept_pixels`` pixels, else scaled down with its aspect ratio to fit."""
    if width * height <= kept_pixels:
        return width, height
    scale = math.sqrt(kept_pixels / (width * height))
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def decode_cost(image: Image.Image, kept_pixels: int = KEPT_PIXELS) -> int:
    """Bytes the decoder and the reduce step need at their peak for the opened (not yet loaded) ``image``.

    While decoding: JPEG holds the frame at the scale libjpeg decodes it (the smallest of 1/1, 1/2, 1/4,
    1/8 that still holds the kept size) and, for a progressive file, the whole image's DCT coefficients
    (2 bytes each, 64 per 8×8 block per component, at full resolution whatever the scale); other formats
    hold the whole frame at the bytes per pixel their decoder needs (:data:`_DECODING_BYTES`). After
    decoding: the frame in Pillow's mode plus the reduce step (:func:`_reduce_cost`). Written here because
    Pillow only counts pixels (``MAX_IMAGE_PIXELS``), not what its codecs hold; ``bench/memory.py`` checks
    the estimate against measured peaks.
    """
    layers = getattr(image, "layer", None) if image.info.get("progressive") else None
    if image.info.get("progressive") and not layers:
        layers = [("", 1, 1, 0)] * len(image.getbands())
    return _cost(image.format, image.mode, image.size, layers, kept_pixels)


def _cost(fmt: str, mode: str, size: tuple[int, int], layers: list | None, kept_pixels: int) -> int:
    """:func:`decode_cost` from the header's values; ``layers`` are a progressive JPEG's components as
    (id, horizontal sampling, vertical sampling, …), None for anything else."""
    width, height = size
    target = kept_size(width, height, kept_pixels)
    converted = mode not in ("RGB", "L")
    if fmt in ("JPEG", "MPO"):
        scale = _jpeg_scale(size, target)
        size = (-(-width // scale), -(-height // scale))
        frame = size[0] * size[1] * (1 if mode == "L" else 4)
        decoding = frame
        if layers:
            if not all(1 <= layer[1] <= 4 and 1 <= layer[2] <= 4 for layer in layers):
                raise ValueError("JPEG sampling factors must be 1 to 4")
            h_max, v_max = max(layer[1] for layer in layers), max(layer[2] for layer in layers)
            blocks = sum(math.ceil(width * h / h_max / 8) * math.ceil(height * v / v_max / 8) for _, h, v, *_ in layers)
            decoding += blocks * 64 * 2
    else:
        frame = round(width * height * (_FRAME_BYTES.get(mode, 4) + _HELD_BYTES.get(fmt, 0)))
        decoding = round(width * height * _DECODING_BYTES.get(fmt, 0)) or frame
    return _DECODER_STATE.get(fmt, 0) + max(decoding, _reduce_cost(frame, size, target, converted))


def _reduce_factor(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The integer box reduction applied before the final filter, which then scales by less than 2."""
    return max(1, min(size[0] // target[0], size[1] // target[1]))


def _strip_rows(factor: int) -> int:
    """Rows converted at a time: a multiple of the reduction ``factor``, about 64."""
    return factor * max(1, 64 // factor)


def _reduce_cost(frame: int, size: tuple[int, int], target: tuple[int, int], converted: bool) -> int:
    """Peak bytes of turning a decoded frame (``frame`` bytes, ``size`` px) into the RGB ``target`` picture.

    While the frame is held: the box-reduced picture and, for modes other than RGB and L, the strip being
    converted (:data:`_STRIP_BYTES` per pixel). After it is released: the reduced picture, the
    antialiasing resize's target-width × reduced-height intermediate and its result. When the frame is
    already the target: the copies of compositing alpha on white (4 × 4 bytes per pixel).
    """
    if size == target:
        return frame + size[0] * size[1] * 4 * 4
    factor = _reduce_factor(size, target)
    reduced = -(-size[0] // factor) * -(-size[1] // factor) * 4
    strip = size[0] * _strip_rows(factor) * _STRIP_BYTES if converted else 0
    resize = (target[0] * -(-size[1] // factor) + target[0] * target[1]) * 4
    return max(frame + reduced + strip, reduced + resize)


def _jpeg_scale(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The libjpeg scale denominator (1, 2, 4 or 8) Pillow's ``draft`` picks to still hold ``target``."""
    ratio = min(size[0] // target[0], size[1] // target[1])
    return next(scale for scale in (8, 4, 2, 1) if scale <= ratio) if ratio >= 1 else 1


# The memory budget of one decode (bytes): what an ordinary 12-megapixel RGB photo needs in the costliest of
# its common encodings (PNG, TIFF, baseline or progressive 4:2:0 JPEG). WebP is not among them: libwebp
# holds four copies of a frame, so a WebP photo is accepted up to about 3 megapixels.
_PROGRESSIVE_420 = [(1, 2, 2, 0), (2, 1, 1, 1), (3, 1, 1, 1)]
DECODE_BUDGET = max(
    _cost(fmt, "RGB", REFERENCE_PHOTO, layers, KEPT_PIXELS)
    for fmt, layers in (("PNG", None), ("TIFF", None), ("JPEG", None), ("JPEG", _PROGRESSIVE_420))
)


def _open(data: bytes) -> Image.Image:
    """The image header, parsed (no pixels decoded), of a supported format."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageInputError("not_image", formats=FORMAT_NAMES) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        limit_mp = Image.MAX_IMAGE_PIXELS / 1e6
        raise ImageInputError("too_many_pixels", limit_mp=limit_mp) from None
    except Exception as exc:  # Pillow raises many types for malformed headers
        raise ImageInputError("damaged", reason=type(exc).__name__) from None
    if image.format not in FORMATS:
        raise ImageInputError("format", format=image.format, formats=FORMAT_NAMES)
    return image


def _check_header(image: Image.Image, budget: int, kept_pixels: int) -> None:
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        raise ImageInputError("too_small", width=width, height=height, min_side=MIN_SIDE)
    if max(width, height) > MAX_SIDE:
        raise ImageInputError("too_long", width=width, height=height, max_side=MAX_SIDE)
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageInputError(
            "aspect", width=width, height=height, ratio=max(width, height) / min(width, height), max_ratio=MAX_ASPECT
        )
    try:
        need = decode_cost(image, kept_pixels)
    except Exception as exc:  # header values no encoder writes (a sampling factor of 0, say)
        raise ImageInputError("damaged", reason=type(exc).__name__) from None
    if need > budget:
        raise ImageInputError(
            "too_much_memory",
            need_mb=need / 1e6,
            limit_mb=budget / 1e6,
            reference_mp=_reference_mp(),
            size=f"{width}×{height}",
        )


def _reference_mp() -> int:
    return round(REFERENCE_PHOTO[0] * REFERENCE_PHOTO[1] / 1e6)


def _decode(image: Image.Image, kept_pixels: int) -> Image.Image:
    """The first frame, decoded at the smallest scale that still holds the kept size, reduced, upright, RGB.
    Each step closes the picture it replaces, so that Pillow frees it at once."""
    image.seek(0)
    target = kept_size(*image.size, kept_pixels)
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    if image.format in ("JPEG", "MPO"):
        image.draft(image.mode if image.mode in ("L", "RGB") else None, target)
    image.load()
    if image.size != target:
        image = _replace(image, _reduce(image, _reduce_factor(image.size, target)))
        image = _replace(image, image.resize(target, Image.Resampling.LANCZOS))
    if orientation and orientation != 1:
        image.getexif()[ExifTags.Base.Orientation] = orientation
        image = _replace(image, ImageOps.exif_transpose(image))
    return _replace(image, to_rgb(image))


def _reduce(image: Image.Image, factor: int) -> Image.Image:
    """``image`` box-reduced by ``factor``, as RGB (L for grey). Other modes are converted a strip of rows
    at a time, so no full-size converted copy exists (an RGBA frame, for one, would be copied whole to
    premultiply its alpha); the strips' rows are a multiple of ``factor``, so the result equals
    converting the whole frame first."""
    if image.mode in ("RGB", "L"):
        return image.reduce(factor) if factor > 1 else image
    grey = image.mode in ("1", "I", "F") or image.mode.startswith("I;16")
    value_range = image.getextrema() if image.mode in ("I", "F") else None
    rows = _strip_rows(factor)
    reduced = Image.new("L" if grey else "RGB", (-(-image.width // factor), -(-image.height // factor)))
    for top in range(0, image.height, rows):
        strip = to_rgb(image.crop((0, top, image.width, min(top + rows, image.height))), value_range)
        strip = strip.convert("L") if grey else strip
        reduced.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return reduced


def _replace(old: Image.Image, new: Image.Image) -> Image.Image:
    """``new``, with ``old``'s pixels released (Pillow frees a closed image's memory at once)."""
    if new is not old:
        old.close()
    return new


def pixel_digest(image: Image.Image) -> str:
    """The full SHA-256 (hex) of an image's mode, size and pixels: a content key for decoded images."""
    digest = hashlib.sha256(f"{image.mode}:{image.width}x{image.height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def to_rgb(image: Image.Image, value_range: tuple[float, float] | None = None) -> Image.Image:
    """Any Pillow mode as 8-bit RGB: 16-bit grey by its full range, 32-bit grey by ``value_range`` (default:
    its own finite minimum and maximum), alpha and palette transparency composited on white."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        image = Image.fromarray(_to_uint8(np.asarray(image), value_range), mode="L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _to_uint8(array: np.ndarray, value_range: tuple[float, float] | None = None) -> np.ndarray:
    """Grey values wider than 8 bits to 0–255: 16-bit data by its full range, other data by ``value_range``
    (default: its own finite minimum and maximum)."""
    values = array.astype(np.float64)
    if array.dtype.kind == "u" and array.dtype.itemsize == 2:
        scaled = values / 257.0
    else:
        finite = values[np.isfinite(values)]
        if value_range is not None:
            low, high = (float(v) for v in value_range)
        else:
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        scaled = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
    return np.clip(np.nan_to_num(np.rint(scaled)), 0, 255).astype(np.uint8)


def _read(source: bytes | str | Path, max_bytes: int) -> bytes:
    """The file's bytes: only regular files are opened (devices, FIFOs and sockets are refused before
    reading), and never more than ``max_bytes`` + 1 bytes are read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        data = read_regular_file(Path(source), max_bytes)
    if not data:
        raise ImageInputError("empty")
    if len(data) > max_bytes:
        raise too_big_error(len(data), max_bytes)
    return data


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """At most ``max_bytes`` bytes of the regular file ``path``; anything else (missing, a folder, a device,
    a FIFO, a socket, too large) raises :class:`ImageInputError` with one sentence."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageInputError("no_file", path=str(path)) from None
    except OSError as exc:
        raise ImageInputError("unreadable", path=str(path), reason=exc.strerror or str(exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageInputError("folder", path=str(path))
    if not stat.S_ISREG(info.st_mode):
        raise ImageInputError("not_regular", path=str(path))
    if info.st_size > max_bytes:
        raise too_big_error(info.st_size, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped after the first look
                raise ImageInputError("not_regular", path=str(path))
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ImageInputError("unreadable", path=str(path), reason=exc.strerror or str(exc)) from None
    if len(data) > max_bytes:
        raise too_big_error(len(data), max_bytes)
    return data


def too_big_error(size: int, max_bytes: int) -> ImageInputError:
    """The refusal of a file of ``size`` bytes over the ``max_bytes`` limit."""
    return ImageInputError("too_big", size_mb=size / 2**20, limit_mb=max_bytes / 2**20)
