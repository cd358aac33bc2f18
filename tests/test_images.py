"""Safe image input: every format and mode a student may upload, and a corpus of bad files."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnviz import images
from cnnviz.errors import ImageInputError
from cnnviz.images import DECODE_BUDGET, KEPT_PIXELS, MAX_ASPECT, decode_cost, kept_size, load_image, pixel_digest
from tests.conftest import encode


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF"])
def test_every_supported_format_decodes_to_rgb(chelsea, fmt):
    image = load_image(encode(chelsea, fmt))
    assert image.mode == "RGB"
    assert image.size == chelsea.size


def test_file_path_and_bytes_give_the_same_pixels(tmp_path, chelsea):
    path = tmp_path / "chelsea.png"
    chelsea.save(path)
    assert np.array_equal(np.asarray(load_image(path)), np.asarray(load_image(path.read_bytes())))


def test_exif_orientation_is_applied(chelsea):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    image = load_image(encode(chelsea, "JPEG", exif=exif.tobytes()))
    assert image.size == (chelsea.height, chelsea.width)


def test_sixteen_bit_grey_is_rescaled_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 64, dtype=np.uint16), (32, 1))
    data = encode(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    rgb = np.asarray(load_image(data))
    assert rgb.shape == (32, 64, 3)
    assert rgb[0, 0].tolist() == [0, 0, 0]
    assert rgb[0, -1].tolist() == [255, 255, 255]
    assert 120 <= rgb[0, 32, 0] <= 135  # mid-grey stays mid-grey


def test_cmyk_jpeg_becomes_rgb(chelsea):
    image = load_image(encode(chelsea.convert("CMYK"), "JPEG", quality=95))
    assert image.mode == "RGB"
    difference = np.abs(np.asarray(image, dtype=int) - np.asarray(chelsea, dtype=int)).mean()
    assert difference < 12


def test_palette_gif_transparency_is_composited_on_white():
    palette_image = Image.new("P", (16, 16), 0)
    palette_image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette_image.paste(1, (0, 0, 8, 16))  # left half blue, right half red
    data = encode(palette_image, "GIF", transparency=0)
    rgb = np.asarray(load_image(data))
    assert rgb[0, 0].tolist() == [0, 0, 255]
    assert rgb[0, 15].tolist() == [255, 255, 255]  # the transparent red became white


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "1", "I;16"])
def test_odd_modes_become_rgb(chelsea, mode):
    source = chelsea.convert("L").convert(mode) if mode in ("1", "I;16") else chelsea.convert(mode)
    assert load_image(encode(source, "PNG" if mode != "1" else "BMP")).mode == "RGB"


def test_rgba_alpha_is_composited_on_white():
    transparent = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert np.asarray(load_image(encode(transparent, "PNG"))).min() == 255


def test_animation_uses_its_first_frame():
    frames = [Image.new("RGB", (12, 12), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert np.asarray(load_image(data))[6, 6].tolist() == [255, 0, 0]


# --- the bad-input corpus: each raises ImageInputError with a message a student can act on ---


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims ``width`` × ``height`` pixels."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    body = zlib.compress(row * 64)  # far fewer rows than claimed: the file stays small
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _progressive_jpeg(width: int, height: int) -> bytes:
    """A flat progressive 4:4:4 JPEG: small on disk, but libjpeg keeps every coefficient of it."""
    return encode(Image.new("RGB", (width, height), (90, 120, 200)), "JPEG", progressive=True, subsampling=0)


def _zero_sampling_jpeg(chelsea) -> bytes:
    """A progressive JPEG whose component claims a sampling factor of 0 (found by tests/test_fuzz.py)."""
    data = bytearray(encode(chelsea.convert("L").resize((16, 16)), "JPEG", progressive=True))
    frame = data.index(b"\xff\xc2")  # SOF2: length, precision, height, width, components, then each component
    data[frame + 11] = 0x00  # the first component's sampling factors
    return bytes(data)


def _truncated_jpeg(chelsea) -> bytes:
    data = encode(chelsea, "JPEG")
    return data[: len(data) // 2]


BAD_INPUTS = {
    "zero bytes": (lambda c: b"", "empty"),
    "text file": (lambda c: b"Just some notes, not a photo.\n" * 10, "not an image"),
    "truncated JPEG": (_truncated_jpeg, "truncated or damaged"),
    "1x1 PNG": (lambda c: encode(Image.new("RGB", (1, 1)), "PNG"), "1×1"),
    "PNG bomb 100000x100000": (lambda c: _bomb_png(100_000, 100_000), "megapixels"),
    "PNG bomb 20000x20000": (lambda c: _bomb_png(20_000, 20_000), "megapixels"),
    "PNG bomb 9000x9000": (lambda c: _bomb_png(9_000, 9_000), "MB of memory"),
    "8x120000 PNG of 1 KB": (lambda c: encode(Image.new("L", (8, 120_000)), "PNG"), "longer than 65,000"),
    "8x60000 PNG (aspect 7500)": (lambda c: encode(Image.new("L", (8, 60_000)), "PNG"), "at most 10 times"),
    "60000x8 PNG (aspect 7500)": (lambda c: encode(Image.new("L", (60_000, 8)), "PNG"), "at most 10 times"),
    "progressive 4:4:4 JPEG, 20000x2000": (lambda c: _progressive_jpeg(20_000, 2_000), "MB of memory"),
    "progressive JPEG, sampling factor 0": (_zero_sampling_jpeg, "damaged"),
    "RGBA PNG of 16 megapixels": (lambda c: encode(Image.new("RGBA", (4_000, 4_000)), "PNG"), "MB of memory"),
    "ICO (not a photo format)": (lambda c: encode(c.resize((32, 32)), "ICO"), "not supported"),
    "corrupt PNG body": (lambda c: encode(c, "PNG")[:60] + b"\x00" * 400, "damaged"),
}


# Refusals read from the header alone: the pixels of these files are never decoded.
HEADER_REFUSALS = ("1×1", "megapixels", "MB of memory", "longer than 65,000", "at most 10 times")


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_one_error_type_with_a_clear_message(chelsea, case, monkeypatch):
    make, expected = BAD_INPUTS[case]
    data = make(chelsea)
    decoded = []
    decode = images._decode
    monkeypatch.setattr(images, "_decode", lambda *args: decoded.append(args) or decode(*args))
    with pytest.raises(ImageInputError) as caught:
        load_image(data)
    assert expected in str(caught.value)
    assert "Traceback" not in str(caught.value)
    if expected in HEADER_REFUSALS:
        assert decoded == []  # bombs are refused from the header, never decoded


def test_bomb_refused_before_decoding_even_under_a_generous_limit():
    with pytest.raises(ImageInputError, match="megapixels"):
        load_image(_bomb_png(20_000, 20_000), budget=10 * DECODE_BUDGET)


def test_file_size_limit_is_enforced(tmp_path, chelsea):
    data = encode(chelsea, "PNG")
    with pytest.raises(ImageInputError, match="limit is"):
        load_image(data, max_bytes=len(data) - 1)
    path = tmp_path / "big.png"
    path.write_bytes(data)
    with pytest.raises(ImageInputError, match="limit is"):
        load_image(path, max_bytes=len(data) - 1)


def test_missing_file_and_folder_are_clear_errors(tmp_path):
    with pytest.raises(ImageInputError, match="no file"):
        load_image(tmp_path / "missing.jpg")
    with pytest.raises(ImageInputError, match="folder"):
        load_image(tmp_path)


# --- memory bounded by what the network sees ---


def test_large_photos_are_scaled_down_to_the_kept_size_never_up(chelsea):
    big = chelsea.resize((2000, 1500))
    for fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        image = load_image(encode(big, fmt))
        assert image.size == kept_size(2000, 1500) and image.width * image.height <= KEPT_PIXELS, fmt
        assert abs(image.width / image.height - 4 / 3) < 0.01
    assert load_image(encode(chelsea, "PNG")).size == chelsea.size  # small enough: untouched
    tall = load_image(encode(Image.new("RGB", (40, 400)), "PNG"))
    assert tall.size == (40, 400)  # short side 40 px: the network's preprocessing scales it, not the decoder


def test_reduced_photo_still_looks_like_the_photo(chelsea):
    reduced = load_image(encode(chelsea.resize((4000, 2660)), "PNG"))
    again = np.asarray(reduced.resize(chelsea.size), dtype=float)
    assert np.abs(again - np.asarray(chelsea, dtype=float)).mean() < 6


def test_exif_orientation_survives_the_reduce_step(chelsea):
    exif = Image.Exif()
    exif[0x0112] = 6
    image = load_image(encode(chelsea.resize((4000, 3000)), "JPEG", exif=exif.tobytes()))
    assert image.size == kept_size(3000, 4000)


@pytest.mark.parametrize("ratio", [MAX_ASPECT, MAX_ASPECT + 1])
def test_aspect_limit_is_checked_before_decoding(ratio):
    data = encode(Image.new("RGB", (30 * ratio, 30), "white"), "PNG")
    if ratio <= MAX_ASPECT:
        assert load_image(data).size == (30 * ratio, 30)
    else:
        with pytest.raises(ImageInputError, match=f"at most {MAX_ASPECT} times") as caught:
            load_image(data)
        assert caught.value.key == "aspect"


def test_an_ordinary_12_megapixel_photo_fits_the_budget_in_every_common_encoding(chelsea):
    photo = chelsea.resize((4000, 3000))
    encodings = [
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("PNG", {"compress_level": 1}),
        ("WEBP", {"method": 0}),
        ("TIFF", {"compression": "tiff_deflate"}),
    ]
    costs = {}
    for fmt, params in encodings:
        data = encode(photo, fmt, **params)
        costs[fmt, tuple(params)] = decode_cost(Image.open(io.BytesIO(data)))
        if fmt != "WEBP":  # libwebp holds four frames: WebP is taken up to about 3 megapixels
            assert costs[fmt, tuple(params)] <= DECODE_BUDGET, (fmt, params)
            assert load_image(data).size == kept_size(*photo.size)
    assert max(cost for (fmt, _), cost in costs.items() if fmt != "WEBP") == DECODE_BUDGET


def test_jpeg_is_decoded_at_a_reduced_scale(chelsea):
    big = Image.open(io.BytesIO(encode(chelsea.resize((8000, 6000)), "JPEG")))
    assert decode_cost(big) < 8000 * 6000  # decoded at 1/4 scale: far less than one byte per pixel
    assert load_image(encode(chelsea.resize((8000, 6000)), "JPEG")).size == kept_size(8000, 6000)


def test_devices_and_pipes_are_refused_before_reading(tmp_path):
    import os
    import threading

    with pytest.raises(ImageInputError, match="not a regular file") as caught:
        load_image("/dev/zero")
    assert caught.value.key == "not_regular"
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    outcome = []

    def read_the_fifo():
        try:
            load_image(fifo)
        except ImageInputError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read_the_fifo, daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert outcome and outcome[0].key == "not_regular"


def test_pixel_digest_is_the_full_sha256_of_the_content(chelsea):
    digest = pixel_digest(chelsea)
    assert len(digest) == 64 and digest == pixel_digest(chelsea.copy())
    changed = chelsea.copy()
    changed.putpixel((0, 0), (0, 0, 0) if chelsea.getpixel((0, 0)) != (0, 0, 0) else (1, 1, 1))
    assert pixel_digest(changed) != digest
