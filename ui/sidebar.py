"""The sidebar every page shares: architecture, image and device, kept in ``st.session_state``."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch
from PIL import Image

import cnnviz
from cnnviz.gallery import GALLERY, gallery_image
from cnnviz.images import MAX_BYTES, pixel_digest, too_big_error
from cnnviz.models.library import library_names
from cnnviz.models.onnx_file import DEFAULT_SIZE, INTERPOLATIONS, SIZE_RANGE
from ui import class_mode, links, prepare
from ui.own_networks import (
    CHECKPOINT_TYPES,
    CHECKPOINT_UPLOAD_MB,
    IMAGENET_TEXT,
    LABELS_UPLOAD_MB,
    OnnxSettings,
    adopted,
    attach,
    forget,
    is_onnx_upload,
)
from ui.text import LANGUAGES, error_text, labeller, language_from_locale, literal, t
from ui.uploads import decode_upload, remember

# The upload widget takes files up to twice the decoder's limit, so a file just over it reaches the page
# and is refused there with a message (larger ones are refused by the widget itself).
UPLOAD_WIDGET_MB = 2 * MAX_BYTES // 2**20

SOURCES = ("gallery", "upload", "camera")
TRANSLATED_CHOICES = ("source", "gallery", "own_onnx_interpolation")  # widgets whose option labels are translated
OTHER = "other"  # the architecture choice that opens the search over torchvision's and timm's classifiers
OTHER_DEFAULT = "torchvision:regnet_y_400mf"  # a small network no zoo entry has, offered first


@dataclass(frozen=True)
class Choices:
    """What the user picked: architecture name, device (``"auto"`` or a torch device string), image, and
    the SHA-256 of the image's content (the uploaded bytes, or a gallery photo's pixels)."""

    arch: str  # a zoo or library name, or this session's own network (``ARCH@sha256:…``)
    device: str
    image: Image.Image | None
    image_name: str | None
    image_digest: str | None
    image_error: str | None
    from_gallery: bool = False
    linked_arch: str | None = None  # what the link names: the architecture, never a session's own network


def _devices() -> list[str]:
    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def init_session() -> None:
    """On a session's first run: language, architecture and gallery photo from the link's query
    (``?lang=pt&arch=vgg16&image=coffee``), else the language from the browser; bad values fall back to
    the defaults with a notice (:mod:`ui.links`)."""
    if st.session_state.get("_initialised"):
        return
    st.session_state["_initialised"] = True
    links.check_names()
    links.note_lost_computation()
    lang = links.read("lang", links.choice(LANGUAGES))
    st.session_state["lang"] = lang if lang is not None else language_from_locale(st.context.locale)
    arch = links.read("arch", links.architecture)
    if arch in cnnviz.ARCHITECTURES:
        st.session_state["arch"] = arch
    elif arch is not None:
        st.session_state["arch"], st.session_state["library_arch"] = OTHER, arch
    image = links.read("image", links.choice(GALLERY))
    if image is not None:
        st.session_state["source"] = "gallery"
        st.session_state["gallery"] = image
    class_mode.read_link()
    prepare.fill_from_link()


def _share(choices: Choices) -> None:
    """Keep the choices in the URL, so the address bar is always a link to this exact view."""
    links.write(
        {
            "lang": st.session_state["lang"],
            "arch": choices.linked_arch or choices.arch,
            "image": choices.image_name if choices.from_gallery else None,
        }
    )


@st.cache_resource(max_entries=len(GALLERY), show_spinner=False)
def gallery_photo(name: str) -> Image.Image:
    """Gallery photo ``name``, decoded once per process and shared, not copied (``st.cache_data`` unpickled a
    copy on every run of every session: read-only, as every photo a page is given; drawing goes on copies)."""
    return gallery_image(name)


@st.cache_data(max_entries=len(GALLERY), show_spinner=False)
def gallery_digest(name: str) -> str:
    """The SHA-256 of gallery photo ``name``'s pixels."""
    return pixel_digest(gallery_photo(name))


def render_sidebar() -> Choices:
    """Draw the shared sidebar and return the current choices (every page's settings are kept, see
    :func:`ui.links.keep_page_settings`)."""
    links.keep_page_settings()
    links.keep(TRANSLATED_CHOICES)  # their labels change with the language, which would reset them
    pending = st.session_state.pop("_pending_arch", None)  # a network made on a page, for this architecture
    if pending in cnnviz.ARCHITECTURES:
        st.session_state["arch"] = pending
    names = [*cnnviz.ARCHITECTURES, OTHER]
    with st.sidebar:
        st.selectbox(t("sidebar.language"), list(LANGUAGES), format_func=LANGUAGES.get, key="lang")
        default = {} if "arch" in st.session_state else {"index": names.index(cnnviz.DEFAULT_ARCH)}
        arch = st.selectbox(
            t("sidebar.arch"),
            names,
            **default,  # a link's architecture is already in the session state
            format_func=_arch_label,
            help=t("sidebar.arch_help"),
            key="arch",
        )
        if arch == OTHER:
            arch = _library_network()
        linked_arch, arch = arch, _own_checkpoint(arch)
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
            image, digest = gallery_photo(name), gallery_digest(name)
        else:
            image, name, digest, error = _uploaded(source)
        if (lecturers := class_mode.shared_photo()) is not None:
            st.caption(t("classroom.lecturer_photo"))
            digest, image = lecturers
            name, error, source = t("classroom.lecturer_photo_name"), None, "class"
        best_available = t("sidebar.device_auto")
        device = st.selectbox(
            t("sidebar.device"),
            _devices(),
            format_func=lambda d: best_available if d == "auto" else d,
            key="device",
        )
    choices = Choices(
        arch, device, image, name, digest, error, from_gallery=source == "gallery", linked_arch=linked_arch
    )
    _share(choices)
    return choices


def _arch_label(name: str) -> str:
    if name == OTHER:
        return t("sidebar.other")
    return f"{cnnviz.ARCHITECTURES[name].display} ({cnnviz.ARCHITECTURES[name].year})"


def _library_network() -> str:
    """The "Other network" search: any of torchvision's and timm's ImageNet-1k classifiers by name (typing
    filters the list), with the library's preprocessing and the zoo's weights chain."""
    names = library_names()
    default = {} if "library_arch" in st.session_state else {"index": names.index(OTHER_DEFAULT)}
    return st.selectbox(
        t("sidebar.library", count=len(names)),
        names,
        **default,
        format_func=lambda name: "{1} ({0})".format(*name.split(":", 1)),
        help=t("sidebar.library_help"),
        key="library_arch",
    )


def _own_checkpoint(arch: str) -> str:
    """ "My network": a state dict for ``arch`` (any class count) or a whole network as an ONNX file (with
    its preprocessing), and optionally its class names; the name of this session's network built from
    them, or ``arch`` when nothing (or nothing usable) is uploaded, with the reason drawn."""
    display = cnnviz.get_spec(arch).display
    uploaded = st.session_state.get("own_weights") is not None or adopted() is not None
    with st.expander(t("sidebar.own"), expanded=uploaded):
        weights = st.file_uploader(
            t("sidebar.own_weights", arch=display),
            type=list(CHECKPOINT_TYPES),
            key="own_weights",
            max_upload_size=CHECKPOINT_UPLOAD_MB,
            help=t("sidebar.own_weights_help", limit=CHECKPOINT_UPLOAD_MB),
        )
        labels = st.file_uploader(
            t("sidebar.own_labels"),
            type=["txt"],
            key="own_labels",
            max_upload_size=LABELS_UPLOAD_MB,
            help=t("sidebar.own_labels_help"),
        )
        if weights is None and (made := adopted(arch)) is not None:
            st.caption(t("sidebar.own_made", arch=cnnviz.get_spec(made).display, classes=cnnviz.get_spec(made).classes))
            if not st.button(t("sidebar.own_forget"), key="own_forget"):
                return made
        if weights is None:
            forget()
            return arch
        onnx = is_onnx_upload(weights)
        settings = _onnx_settings() if onnx else None
        loading = t("sidebar.own_onnx_loading", file=weights.name) if onnx else t("sidebar.own_loading", arch=display)
        with st.spinner(loading):
            name, problem = attach(arch, weights, labels, st.session_state.get("device", "auto"), settings)
        if problem is not None:
            st.error(problem)
        elif onnx:
            spec = cnnviz.get_spec(name)
            st.caption(t("sidebar.own_onnx_loaded", arch=spec.display, classes=spec.classes, size=spec.input_size))
        else:
            st.caption(t("sidebar.own_loaded", arch=display, classes=cnnviz.get_spec(name).classes))
    return name


def _onnx_settings() -> OnnxSettings:
    """An ONNX file's preprocessing as the user types it: the input side and the normalisation."""
    size = st.number_input(
        t("sidebar.own_onnx_size"),
        min_value=SIZE_RANGE[0],
        max_value=SIZE_RANGE[1],
        value=DEFAULT_SIZE,
        step=1,
        help=t("sidebar.own_onnx_size_help"),
        key="own_onnx_size",
    )
    norm = t("sidebar.own_onnx_norm_help")
    mean = st.text_input(t("sidebar.own_onnx_mean"), value=IMAGENET_TEXT[0], help=norm, key="own_onnx_mean")
    std = st.text_input(t("sidebar.own_onnx_std"), value=IMAGENET_TEXT[1], help=norm, key="own_onnx_std")
    interpolation = st.selectbox(
        t("sidebar.own_onnx_interpolation"),
        INTERPOLATIONS,
        format_func=labeller("sidebar.own_onnx_{}"),
        help=t("sidebar.own_onnx_interpolation_help"),
        key="own_onnx_interpolation",
    )
    return OnnxSettings(int(size), mean, std, interpolation)


def _uploaded(source: str) -> tuple[Image.Image | None, str | None, str | None, str | None]:
    """The upload or camera photo: (image, name, SHA-256, error text). A file over the size limit is
    refused with a message and the widget is cleared, so its bytes are not kept in the session."""
    generation = st.session_state.setdefault("_upload_generation", 0)
    if source == "upload":
        upload = st.file_uploader(
            t("sidebar.upload"),
            type=None,
            key=f"upload{generation or ''}",
            max_upload_size=UPLOAD_WIDGET_MB,
            help=t("sidebar.upload_help", limit=MAX_BYTES // 2**20),
        )
    else:
        upload = st.camera_input(t("sidebar.camera"), key="camera")
    if upload is None:  # a refusal stays on the page until the next file
        return None, None, None, st.session_state.get("_upload_refused")
    st.session_state.pop("_upload_refused", None)
    if upload.size > MAX_BYTES:
        refused = error_text(too_big_error(upload.size, MAX_BYTES))
        st.session_state["_upload_refused"] = f"{literal(upload.name)}: {refused}"
        st.session_state["_upload_generation"] = generation + 1
        st.rerun()
    decoded = decode_upload(upload.getvalue())
    if decoded.error is not None:
        return None, upload.name, decoded.digest, error_text(decoded.error)
    remember(decoded, upload.name, reserved=GALLERY)
    return decoded.image, upload.name, decoded.digest, None
