"""Uploads: decoded once per process in a cache bounded in bytes and time, remembered per session.

The process-wide cache (cachetools' ``TTLCache`` sized in bytes) holds only reduced images
(:data:`cnnviz.images.KEPT_PIXELS` at most), keyed by the full SHA-256 of the uploaded bytes, so a rerun
or a second session with the same file skips decoding and nobody can reach a photo without its bytes.
Each session also keeps its own recent uploads (the top-9 search looks through them); no other session
sees those.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass

import streamlit as st
from cachetools import TTLCache
from PIL import Image

import cnnviz

UPLOAD_CACHE_BYTES = max(1, int(os.environ.get("CNNVIZ_UPLOAD_CACHE_MB", "128"))) * 2**20
UPLOAD_TTL_S = max(1, int(os.environ.get("CNNVIZ_UPLOAD_TTL_S", "600")))
DECODE_SLOTS = max(1, int(os.environ.get("CNNVIZ_DECODE_SLOTS", "2")))  # decodes at once: peak ≤ slots × budget
MAX_SESSION_UPLOADS = 8
REFUSAL_BYTES = 1024  # what a cached refusal is counted as


def image_bytes(image: Image.Image) -> int:
    """Bytes Pillow holds for ``image`` (RGB is stored as 4 bytes per pixel)."""
    return image.width * image.height * (1 if image.mode in ("1", "L", "P") else 4)


@dataclass(frozen=True)
class DecodedUpload:
    """One upload: the full SHA-256 of its bytes and its decoded image, or why it was refused."""

    digest: str
    image: Image.Image | None
    error: cnnviz.ImageInputError | None


def _entry_bytes(entry: DecodedUpload) -> int:
    return image_bytes(entry.image) if entry.image is not None else REFUSAL_BYTES


class UploadCache:
    """Decoded uploads by SHA-256, at most ``max_bytes`` of pixels, each for ``ttl_s`` seconds. At most
    ``slots`` uploads are decoded at once (each within :data:`cnnviz.images.DECODE_BUDGET`), and expired
    entries are dropped by a background sweep, which also hands freed memory back to the system."""

    def __init__(
        self, max_bytes: int = UPLOAD_CACHE_BYTES, ttl_s: float = UPLOAD_TTL_S, slots: int = DECODE_SLOTS
    ) -> None:
        self._entries: TTLCache = TTLCache(maxsize=max_bytes, ttl=ttl_s, getsizeof=_entry_bytes)
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(slots)
        sweeper = threading.Thread(target=self._sweep, args=(max(1.0, ttl_s / 10),), daemon=True)
        sweeper.start()

    def decode(self, data: bytes) -> DecodedUpload:
        """``data`` decoded by :func:`cnnviz.load_image` (or refused), from the cache when it is there."""
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            found = self._entries.get(digest)
        if found is not None:
            return found
        try:
            with self._slots:
                entry = DecodedUpload(digest, cnnviz.load_image(data), None)
        except cnnviz.ImageInputError as exc:
            entry = DecodedUpload(digest, None, exc)
        with self._lock:
            self._entries[digest] = entry
        return entry

    @property
    def held_bytes(self) -> int:
        """Bytes of pixels the cache holds now (after dropping expired entries)."""
        with self._lock:
            self._entries.expire()
            return int(self._entries.currsize)

    def __len__(self) -> int:
        with self._lock:
            self._entries.expire()
            return len(self._entries)

    def _sweep(self, period_s: float) -> None:
        while True:
            time.sleep(period_s)
            with self._lock:
                self._entries.expire()
            release_free_memory()  # also what closed sessions let go: their uploads, pictures and runs


def release_free_memory() -> None:
    """Ask glibc to return freed heap memory to the system (``malloc_trim``); without it a server's
    resident size stays at its high-water mark after the pictures are gone. A no-op elsewhere."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@st.cache_resource
def upload_cache() -> UploadCache:
    """The process-wide cache of decoded uploads."""
    return UploadCache()


def decode_upload(data: bytes) -> DecodedUpload:
    """An uploaded file's bytes, decoded (or refused) once per process."""
    return upload_cache().decode(data)


def remember(upload: DecodedUpload, name: str, reserved: Collection[str] = ()) -> None:
    """Keep a decoded upload in this session (the latest :data:`MAX_SESSION_UPLOADS`). Its name is the
    file's name, made unique within the session and apart from ``reserved`` names (the gallery's); no
    part of the digest is shown."""
    uploads: dict[str, tuple[str, Image.Image]] = st.session_state.setdefault("_uploads", {})
    if upload.digest in uploads:
        uploads[upload.digest] = uploads.pop(upload.digest)
        return
    taken = {shown for shown, _ in uploads.values()} | set(reserved)
    shown, n = name, 1
    while shown in taken:
        n += 1
        shown = f"{name} ({n})"
    uploads[upload.digest] = (shown, upload.image)
    while len(uploads) > MAX_SESSION_UPLOADS:
        uploads.pop(next(iter(uploads)))


def session_uploads() -> dict[str, tuple[str, Image.Image]]:
    """This session's uploads: SHA-256 → (name shown, image), oldest first."""
    return dict(st.session_state.get("_uploads", {}))
