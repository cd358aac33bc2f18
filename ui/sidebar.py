"""The sidebar every page shares: architecture, image and device, kept in ``st.session_state``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st
import torch
from PIL import Image

import cnnviz
from cnnviz.gallery import GALLERY, gallery_image
from cnnviz.images import MAX_BYTES
from ui.text import t

SOURCES = ("gallery", "upload", "camera")


@dataclass(frozen=True)
class Choices:
    """What the user picked: architecture name, device (``"auto"`` or a torch device string), image."""

    arch: str
    device: str
    image: Image.Image | None
    image_name: str | None
    image_digest: str | None
    image_error: str | None


def _devices() -> list[str]:
    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


@st.cache_data(max_entries=len(GALLERY), show_spinner=False)
def _gallery(name: str) -> Image.Image:
    return gallery_image(name)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _decode(digest: str, _data: bytes) -> tuple[Image.Image | None, str | None]:
    """The decoded upload (or the reason it was refused), cached by its SHA-256 so reruns skip decoding."""
    try:
        return cnnviz.load_image(_data), None
    except cnnviz.ImageInputError as exc:
        return None, str(exc)


def render_sidebar() -> Choices:
    """Draw the shared sidebar and return the current choices."""
    names = list(cnnviz.ARCHITECTURES)
    with st.sidebar:
        arch = st.selectbox(
            t("sidebar.arch"),
            names,
            index=names.index(cnnviz.DEFAULT_ARCH),
            format_func=lambda n: f"{cnnviz.ARCHITECTURES[n].display} ({cnnviz.ARCHITECTURES[n].year})",
            help=t("sidebar.arch_help"),
            key="arch",
        )
        st.subheader(t("sidebar.image"))
        source = st.radio(
            t("sidebar.source"), SOURCES, format_func=lambda s: t(f"source.{s}"), horizontal=True, key="source"
        )
        image, name, digest, error = None, None, None, None
        if source == "gallery":
            name = st.selectbox(
                t("sidebar.gallery_pick"), list(GALLERY), format_func=lambda n: f"{n} — {GALLERY[n]}", key="gallery"
            )
            image, digest = _gallery(name), f"gallery:{name}"
        else:
            if source == "upload":
                upload = st.file_uploader(
                    t("sidebar.upload"), type=None, key="upload", max_upload_size=MAX_BYTES // 2**20
                )
            else:
                upload = st.camera_input(t("sidebar.camera"), key="camera")
            if upload is not None:
                data = upload.getvalue()
                digest = hashlib.sha256(data).hexdigest()
                name = upload.name
                image, error = _decode(digest, data)
        device = st.selectbox(
            t("sidebar.device"),
            _devices(),
            format_func=lambda d: t("sidebar.device_auto") if d == "auto" else d,
            key="device",
        )
    return Choices(arch, device, image, name, digest, error)
