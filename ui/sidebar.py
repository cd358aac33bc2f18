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
from ui.text import CATALOGUES, LANGUAGE_NAMES, error_text, labeller, language_from_locale, t

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


def init_session() -> None:
    """On a session's first run: language, architecture and gallery photo from the link's query
    (``?lang=pt&arch=vgg16&image=coffee``), else the language from the browser."""
    if st.session_state.get("_initialised"):
        return
    st.session_state["_initialised"] = True
    query = st.query_params
    lang = query.get("lang")
    st.session_state["lang"] = lang if lang in CATALOGUES else language_from_locale(st.context.locale)
    if query.get("arch") in cnnviz.ARCHITECTURES:
        st.session_state["arch"] = query["arch"]
    if query.get("image") in GALLERY:
        st.session_state["source"] = "gallery"
        st.session_state["gallery"] = query["image"]


def _share(choices: Choices) -> None:
    """Keep the choices in the URL, so the address bar is always a link to this exact view."""
    shared = {"lang": st.session_state["lang"], "arch": choices.arch}
    if choices.image_digest and choices.image_digest.startswith("gallery:"):
        shared["image"] = choices.image_name
    for key, value in shared.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    if "image" not in shared and "image" in st.query_params:
        del st.query_params["image"]


MAX_SESSION_UPLOADS = 20


@st.cache_data(max_entries=len(GALLERY), show_spinner=False)
def gallery_photo(name: str) -> Image.Image:
    """Gallery photo ``name``, decoded once per process."""
    return gallery_image(name)


def session_uploads() -> dict[str, Image.Image]:
    """The photos this session uploaded or took that decoded, by file name (the latest
    ``MAX_SESSION_UPLOADS``): with the gallery, the image set the top-9 search looks through."""
    return {name: image for name, image in st.session_state.get("_uploads", {}).values()}


def _remember_upload(digest: str, name: str, image: Image.Image) -> None:
    uploads = st.session_state.setdefault("_uploads", {})
    uploads.pop(digest, None)
    uploads[digest] = (f"{name} ({digest[:6]})", image)
    while len(uploads) > MAX_SESSION_UPLOADS:
        uploads.pop(next(iter(uploads)))


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def decode_upload(digest: str, _data: bytes) -> tuple[Image.Image | None, cnnviz.ImageInputError | None]:
    """The decoded upload (or the reason it was refused), cached by its SHA-256 so reruns skip decoding."""
    try:
        return cnnviz.load_image(_data), None
    except cnnviz.ImageInputError as exc:
        return None, exc


# Page settings kept while their page is not drawn (another page, or no image yet): Streamlit drops a
# widget's state on the first run that does not draw it, unless the value is re-assigned in that run.
PAGE_SETTINGS = ("deconv_layer", "deconv_channel", "deconv_whole", "occl_window", "occl_stride", "occl_fill",
                 "occl_layer")  # fmt: skip


def keep_page_settings() -> None:
    for key in PAGE_SETTINGS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def render_sidebar() -> Choices:
    """Draw the shared sidebar and return the current choices (page settings are kept, see above)."""
    keep_page_settings()
    names = list(cnnviz.ARCHITECTURES)
    with st.sidebar:
        st.selectbox(t("sidebar.language"), list(CATALOGUES), format_func=LANGUAGE_NAMES.get, key="lang")
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
            t("sidebar.source"), SOURCES, format_func=labeller("source.{}"), horizontal=True, key="source"
        )
        image, name, digest, error = None, None, None, None
        if source == "gallery":
            describe = labeller("gallery.{}")
            name = st.selectbox(
                t("sidebar.gallery_pick"),
                list(GALLERY),
                format_func=lambda n: f"{n} — {describe(n)}",
                key="gallery",
            )
            image, digest = gallery_photo(name), f"gallery:{name}"
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
                image, refused = decode_upload(digest, data)
                error = error_text(refused) if refused is not None else None
                if image is not None:
                    _remember_upload(digest, name, image)
        best_available = t("sidebar.device_auto")
        device = st.selectbox(
            t("sidebar.device"),
            _devices(),
            format_func=lambda d: best_available if d == "auto" else d,
            key="device",
        )
    choices = Choices(arch, device, image, name, digest, error)
    _share(choices)
    return choices
