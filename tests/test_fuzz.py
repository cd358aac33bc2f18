"""Property tests of the input layer (Hypothesis): whatever the bytes or the link, the only outcomes are a
good value or the one error type.

- The image decoder, on random bytes, on random bytes behind a real format's signature, and on real JPEG,
  PNG, GIF, WebP and TIFF files of every mode they hold, with EXIF orientations, then mutated: truncated,
  bytes flipped, header integers overwritten (sizes among them), PNG sizes rewritten with a valid CRC.
  Outcome: an upright 8-bit RGB image within the kept size, or :class:`ImageInputError`.
- The link parser: any name, any text. Outcome: a value in range (integers only from ASCII digits) or
  ``ValueError``.

CI runs a bounded number of cases (``FUZZ_EXAMPLES``); ``pytest -m slow tests/test_fuzz.py`` runs the
long version of each property (``LONG_EXAMPLES`` cases).
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from cnnviz.errors import ImageInputError
from cnnviz.images import KEPT_PIXELS, load_image
from ui import links
from views import deconvnet, occlusion  # noqa: F401  (they declare their link settings)

FUZZ_EXAMPLES = 150
LONG_EXAMPLES = 5000
SIGNATURES = [
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"GIF87a",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"II*\x00",
    b"MM\x00*",
    b"BM",
]
MODES = {  # the modes each format can hold, as Pillow writes them
    "JPEG": ["L", "RGB", "CMYK"],
    "PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"],
    "GIF": ["L", "P"],
    "WEBP": ["RGB", "RGBA"],
    "TIFF": ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "F"],
}


def _check(data: bytes) -> None:
    """The property: a good RGB image within the kept size, or the one error type with a message."""
    try:
        image = load_image(data)
    except ImageInputError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        event(f"refused: {exc.key}")
        return
    event("decoded")
    assert image.mode == "RGB"
    assert 1 <= image.width * image.height <= KEPT_PIXELS
    assert np.asarray(image).dtype == np.uint8


def _picture(mode: str, width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    if mode == "F":
        return Image.fromarray(rng.normal(size=(height, width)).astype(np.float32))
    if mode == "P":
        return rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return rgb.convert(mode)


@st.composite
def real_files(draw) -> bytes:
    fmt = draw(st.sampled_from(sorted(MODES)))
    mode = draw(st.sampled_from(MODES[fmt]))
    width, height = draw(st.integers(1, 80)), draw(st.integers(1, 80))
    image = _picture(mode, width, height, draw(st.integers(0, 2**16)))
    params = {}
    if fmt in ("JPEG", "PNG", "WEBP", "TIFF") and draw(st.booleans()):
        exif = Image.Exif()
        exif[0x0112] = draw(st.integers(0, 9))
        params["exif"] = exif.tobytes()
    if fmt == "JPEG":
        params["progressive"] = draw(st.booleans())
    if fmt == "TIFF":
        params["compression"] = draw(st.sampled_from([None, "tiff_deflate", "tiff_lzw", "packbits"]))
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt, **params)
    except RuntimeError:  # libtiff refuses some mode, compression and EXIF combinations: write it plainly
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
    return buffer.getvalue()


def _with_png_size(data: bytes, width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width`` × ``height``, with its CRC made valid again."""
    if not data.startswith(b"\x89PNG") or data[12:16] != b"IHDR":
        return data
    body = struct.pack(">II", width, height) + data[24:29]
    return data[:8] + data[8:12] + b"IHDR" + body + struct.pack(">I", zlib.crc32(b"IHDR" + body)) + data[33:]


@st.composite
def mutated_files(draw) -> bytes:
    data = bytearray(draw(real_files()))
    kind = draw(st.sampled_from(["none", "truncate", "flip", "integer", "png_size"]))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data)))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, min(len(data), 512) - 1))
            data[position] = draw(st.integers(0, 255))
    if kind == "integer" and len(data) > 8:
        position = draw(st.integers(0, min(len(data), 256) - 4))
        value = draw(st.sampled_from([0, 1, 7, 8, 255, 65_000, 65_535, 120_000, 2**31 - 1, 2**32 - 1]))
        data[position : position + 4] = struct.pack(draw(st.sampled_from([">I", "<I"])), value)
    if kind == "png_size":
        sides = st.sampled_from([0, 1, 8, 9, 80, 65_000, 120_000, 2**31 - 1])
        return _with_png_size(bytes(data), draw(sides), draw(sides))
    return bytes(data)


def _decoder_settings(examples: int):
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _random_bytes(data: bytes) -> None:
    _check(data)


def _signed_bytes(signature: bytes, tail: bytes) -> None:
    _check(signature + tail)


def _mutated(data: bytes) -> None:
    _check(data)


RANDOM = given(st.binary(max_size=2048))
SIGNED = given(st.sampled_from(SIGNATURES), st.binary(max_size=2048))
MUTATED = given(mutated_files())

test_random_bytes = _decoder_settings(FUZZ_EXAMPLES)(RANDOM(_random_bytes))
test_random_bytes_behind_a_signature = _decoder_settings(FUZZ_EXAMPLES)(SIGNED(_signed_bytes))
test_real_files_mutated = _decoder_settings(2 * FUZZ_EXAMPLES)(MUTATED(_mutated))
test_random_bytes_long = pytest.mark.slow(
    _decoder_settings(LONG_EXAMPLES)(given(st.binary(max_size=4096))(_random_bytes))
)
test_random_bytes_behind_a_signature_long = pytest.mark.slow(
    _decoder_settings(LONG_EXAMPLES)(given(st.sampled_from(SIGNATURES), st.binary(max_size=4096))(_signed_bytes))
)
test_real_files_mutated_long = pytest.mark.slow(_decoder_settings(4 * LONG_EXAMPLES)(given(mutated_files())(_mutated)))


def test_unmutated_real_files_always_decode():
    """The generator makes real files: without mutation every one of them decodes (or is too small)."""
    for fmt, modes in MODES.items():
        for mode in modes:
            buffer = io.BytesIO()
            _picture(mode, 40, 30, 0).save(buffer, format=fmt)
            assert load_image(buffer.getvalue()).size == (40, 30), (fmt, mode)


# --- the link parser ---

LINK_PARSERS = {
    "channel": links.integer(0, 99_999),
    "window": links.integer(4, 112),
    "stride": links.integer(2, 56),
    "whole": links.flag,
    "fill": links.choice(("mean", "black", "blur")),
    "lang": links.choice(("en", "pt", "es")),
}


def _link_property(name: str, text: str) -> None:
    parser = LINK_PARSERS.get(name, links.integer(0, 10))
    try:
        value = links.parse(name, text, parser)
    except ValueError:
        return
    assert name in links.known_names()
    if isinstance(value, bool):
        assert text in ("0", "1")
    elif isinstance(value, int):
        assert text.isascii() and text.isdigit() and len(text) <= links.MAX_DIGITS
        assert str(value) == text.lstrip("0") or value == 0
    else:
        assert value == text and len(text) <= links.MAX_TEXT


LINK_NAMES = st.sampled_from([*sorted(LINK_PARSERS), "layer", "arch", "evil", "", "channel\x00"]) | st.text(max_size=12)
LINK_TEXT = (
    st.text(max_size=40)
    | st.from_regex(r"[0-9]{1,12}", fullmatch=True)
    | st.sampled_from(["²", "١٢", "12", " 12", "1_000", "+5", "-1", "0x10", "1e3", "𝟗", "0", "1", "mean"])
)
test_link_values = settings(max_examples=4 * FUZZ_EXAMPLES)(given(LINK_NAMES, LINK_TEXT)(_link_property))
test_link_values_long = pytest.mark.slow(
    settings(max_examples=10 * LONG_EXAMPLES)(given(LINK_NAMES, LINK_TEXT)(_link_property))
)


@pytest.mark.parametrize("text", ["²", "١٢", "𝟗", " 7", "7 ", "+7", "1_0", "0x7", "12345678", "-1", ""])
def test_link_integers_are_ascii_digits_only(text):
    with pytest.raises(ValueError):
        links.parse("channel", text, links.integer(0, 10**8))
