"""Safe image input: every format and mode a student may upload, and a corpus of bad files."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnviz.errors import ImageInputError
from cnnviz.images import MAX_PIXELS, load_image
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


def _truncated_jpeg(chelsea) -> bytes:
    data = encode(chelsea, "JPEG")
    return data[: len(data) // 2]


BAD_INPUTS = {
    "zero bytes": (lambda c: b"", "empty"),
    "text file": (lambda c: b"Just some notes, not a photo.\n" * 10, "not an image"),
    "truncated JPEG": (_truncated_jpeg, "truncated or damaged"),
    "1x1 PNG": (lambda c: encode(Image.new("RGB", (1, 1)), "PNG"), "1×1"),
    "PNG bomb 100000x100000": (lambda c: _bomb_png(100_000, 100_000), "too large"),
    "PNG bomb 20000x20000": (lambda c: _bomb_png(20_000, 20_000), "too large"),
    "ICO (not a photo format)": (lambda c: encode(c.resize((32, 32)), "ICO"), "not supported"),
    "corrupt PNG body": (lambda c: encode(c, "PNG")[:60] + b"\x00" * 400, "damaged"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_one_error_type_with_a_clear_message(chelsea, case):
    make, expected = BAD_INPUTS[case]
    start = time.perf_counter()
    with pytest.raises(ImageInputError) as caught:
        load_image(make(chelsea))
    assert expected in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert time.perf_counter() - start < 2.0  # bombs are refused from the header, never decoded


def test_bomb_refused_before_decoding_even_under_a_generous_limit():
    with pytest.raises(ImageInputError, match="too large"):
        load_image(_bomb_png(20_000, 20_000), max_pixels=MAX_PIXELS)


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
