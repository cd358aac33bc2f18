"""Pictures a page shows, encoded once per process: ``st.image`` encodes a picture or array on every run of every
session (JPEG, then opens the bytes again to check the width). A class that follows one lecturer draws the same
pictures a hundred times at once; encoding them was about a fifth of each Predict run (py-spy, 40 sessions).

:func:`encoded` encodes as Streamlit would (JPEG at quality 90, PNG where there is transparency, at most
:data:`MAX_WIDTH` pixels wide, the widest Streamlit shows) and keeps the bytes by the picture's key, so
``st.image`` only stores them. Written here: Streamlit caches the bytes it serves, not the encoding.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import streamlit as st
from PIL import Image

from ui.results import ResultCache

MAX_WIDTH = 2 * 730  # px: Streamlit's MAXIMUM_CONTENT_WIDTH, beyond which it resizes a picture itself
MAX_PICTURES = 128
MAX_PICTURE_BYTES = 64 * 2**20


@st.cache_resource
def _pictures() -> ResultCache:
    return ResultCache(MAX_PICTURES, None, max_bytes=MAX_PICTURE_BYTES)


def encoded(key: tuple, make: Callable[[], Image.Image | np.ndarray], width: int | None = None) -> bytes:
    """The picture ``make()`` draws (a PIL image or a uint8 array) as the bytes ``st.image`` shows at ``width``
    px (None: as wide as the page allows), drawn and encoded once per ``key`` and width (``key`` must name
    the picture's content: a photo's SHA-256, a result's key)."""
    return _pictures().get_or_compute((*key, width), lambda: encode(make(), width))[0]


def encode(picture: Image.Image | np.ndarray, width: int | None = None) -> bytes:
    """JPEG at quality 90 (PNG with transparency), at most ``width`` (else :data:`MAX_WIDTH`) px wide."""
    image = Image.fromarray(picture) if isinstance(picture, np.ndarray) else picture
    widest = min(width or MAX_WIDTH, MAX_WIDTH)
    if image.width > widest:
        image = image.resize((widest, round(image.height * widest / image.width)), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        image.save(buffer, format="PNG")
    else:
        (image if image.mode in ("RGB", "L") else image.convert("RGB")).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def crop_picture(net, image: Image.Image, digest: str) -> bytes:
    """The crop ``net`` sees of the photo whose SHA-256 is ``digest`` (before normalisation, in RGB), as every
    page shows it beside its results."""
    key = ("crop", net.spec.name, repr(net.preprocess), digest)
    return encoded(key, lambda: np.asarray(net.preprocess.crop_image(image).convert("RGB")))
