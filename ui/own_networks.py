"""Your own network on the page: a checkpoint for the chosen architecture, or a whole network as an ONNX
file with the preprocessing the user types (and optionally its class names), uploaded in the sidebar and
loaded for this browser session only.

Loaded networks live in one process-wide store bounded in bytes (``CNNVIZ_OWN_MODELS_MB`` of parameters
and buffers, least recently used out), keyed by the session that uploaded them: no other session can reach
one, not even by its name or with the same file (it loads its own). An evicted network is loaded again
from the upload the session still holds. When a session ends, its networks go with it (a finalizer on a
token kept in the session's state). The network's name carries the checkpoint's SHA-256
(:mod:`cnnviz.models.own`), so heavy results are cached under that digest and never mix with another
network's.

An upload is written to a private temporary folder only for the time of the load (the engine reads paths
and measures the file before ``torch.load(weights_only=True)``), one load at a time per process.
"""

from __future__ import annotations

import collections
import os
import re
import tempfile
import threading
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path

import streamlit as st

import cnnviz
from cnnviz.models.onnx_file import SIZE_RANGE, preprocessing_for
from cnnviz.models.preprocess import IMAGENET_MEAN, IMAGENET_STD, Preprocessing
from ui.uploads import release_free_memory

OWN_MODELS_BYTES = max(1, int(os.environ.get("CNNVIZ_OWN_MODELS_MB", "1024"))) * 2**20
CHECKPOINT_UPLOAD_MB = max(1, int(os.environ.get("CNNVIZ_CHECKPOINT_MB", "300")))  # the upload widget's limit
LABELS_UPLOAD_MB = 1
CHECKPOINT_TYPES = ("pt", "pth", "safetensors", "onnx")
IMAGENET_TEXT = (", ".join(map(str, IMAGENET_MEAN)), ", ".join(map(str, IMAGENET_STD)))  # as the fields show them
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_LOADING = threading.BoundedSemaphore(1)  # a load holds the upload, the state dict and the model at once


def model_bytes(net: cnnviz.LoadedModel) -> int:
    """Bytes of the network's parameters and buffers."""
    tensors = [*net.model.parameters(), *net.model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


class OwnNetworks:
    """Networks by (owner, name, device), at most ``max_bytes`` together, least recently used out."""

    def __init__(self, max_bytes: int = OWN_MODELS_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: collections.OrderedDict[tuple, tuple[cnnviz.LoadedModel, int]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def put(self, owner: int, net: cnnviz.LoadedModel, device: str) -> None:
        size = model_bytes(net)
        with self._lock:
            self._entries[(owner, net.spec.name, device)] = (net, size)
            self._entries.move_to_end((owner, net.spec.name, device))
            while self.held_bytes() > self.max_bytes and len(self._entries) > 1:
                self._entries.popitem(last=False)  # a session still using it holds its own reference

    def get(self, owner: int, name: str, device: str) -> cnnviz.LoadedModel | None:
        with self._lock:
            entry = self._entries.get((owner, name, device))
            if entry is None:
                return None
            self._entries.move_to_end((owner, name, device))
            return entry[0]

    def drop(self, owner: int) -> None:
        """Forget every network of ``owner`` (its session ended)."""
        with self._lock:
            for key in [key for key in self._entries if key[0] == owner]:
                del self._entries[key]

    def held_bytes(self) -> int:
        return sum(size for _, size in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


STORE = OwnNetworks()


class _Owner:
    """A session's token: the store's entries of that session are dropped when it is collected."""


def _owner() -> int:
    token = st.session_state.get("_own_owner")
    if token is None:
        token = st.session_state["_own_owner"] = _Owner()
        weakref.finalize(token, STORE.drop, id(token))
    return id(token)


def is_own(arch: str) -> bool:
    """True for a checkpoint's network (``ARCH@sha256:…``)."""
    return "@sha256:" in arch


def own_model(arch: str, device: str) -> cnnviz.LoadedModel | None:
    """This session's network ``arch`` on ``device``, loaded again from its upload if it was evicted;
    None when this session has no such network."""
    net = STORE.get(_owner(), arch, device)
    if net is not None:
        return net
    upload = st.session_state.get("_own_upload")
    if upload is None or upload.name != arch:
        return None
    return _load(upload.base, upload.weights, upload.labels, device, upload.settings)


@dataclass(frozen=True)
class OwnFile:
    """A file's name and bytes, read as Streamlit's uploads are (``name``, ``getvalue()``)."""

    name: str
    data: bytes = field(repr=False)
    file_id: str = ""

    def getvalue(self) -> bytes:
        return self.data


@dataclass(frozen=True)
class OnnxSettings:
    """An ONNX upload's preprocessing as typed: the input side in px, the mean and the std as text (one
    number per channel, separated by commas), and the resize's interpolation."""

    size: int
    mean: str
    std: str
    interpolation: str = "bilinear"

    def preprocessing(self) -> Preprocessing:
        """The record; :class:`cnnviz.WeightsError` (``onnx_preprocessing``) for text that is not numbers."""
        try:
            mean, std = ([float(part) for part in text.split(",")] for text in (self.mean[:80], self.std[:80]))
        except ValueError:
            raise cnnviz.WeightsError("onnx_preprocessing", low=SIZE_RANGE[0], high=SIZE_RANGE[1]) from None
        return preprocessing_for(self.size, mean, std, self.interpolation)


def is_onnx_upload(upload) -> bool:
    """True when the uploaded file's name ends in ``.onnx``."""
    return Path(upload.name).suffix.lower() == ".onnx"


@dataclass(frozen=True)
class _Upload:
    """What this session uploaded, to load it again: the architecture, the files' ids and the name."""

    base: str
    weights: object  # Streamlit's UploadedFile, or an OwnFile the transfer lab made
    labels: object | None
    name: str
    key: tuple
    settings: OnnxSettings | None = None


def attach(base: str, weights, labels, device: str, settings: OnnxSettings | None = None) -> tuple[str, str | None]:
    """The name of the network ``base`` with checkpoint upload ``weights`` (or of ONNX upload ``weights``
    with preprocessing ``settings``; and names upload ``labels``), loaded for this session on ``device``;
    or ``(base, message)`` when it cannot be loaded."""
    from ui.text import error_text

    key = (base, weights.file_id, getattr(labels, "file_id", None), settings)
    known = st.session_state.get("_own_upload")
    if known is not None and known.key == key:
        return known.name, None
    refused = st.session_state.get("_own_refused")
    if refused is not None and refused[0] == key:
        return base, refused[1]
    try:
        net = _load(base, weights, labels, device, settings)
    except cnnviz.CnnvizError as exc:
        st.session_state["_own_refused"] = (key, error_text(exc))
        st.session_state.pop("_own_upload", None)
        return base, error_text(exc)
    st.session_state["_own_upload"] = _Upload(base, weights, labels, net.spec.name, key, settings)
    return net.spec.name, None


def adopt(base: str, weights: OwnFile, labels: OwnFile | None, device: str) -> str:
    """Make ``weights`` (and ``labels``) this session's own network, as if uploaded in the sidebar, until
    the session uploads another or forgets it (the transfer lab's "Explain this network"); its name.
    :class:`cnnviz.CnnvizError` when it cannot be loaded."""
    net = _load(base, weights, labels, device)
    key = ("made", base, weights.file_id)
    st.session_state["_own_upload"] = _Upload(base, weights, labels, net.spec.name, key)
    st.session_state.pop("_own_refused", None)
    st.session_state["_pending_arch"] = base  # the sidebar shows the architecture on its next run
    return net.spec.name


def adopted(base: str | None = None) -> str | None:
    """The name of the network this session adopted (not uploaded), when it is one of ``base`` (any
    architecture when None); else None."""
    upload = st.session_state.get("_own_upload")
    if upload is None or upload.key[0] != "made" or base not in (None, upload.base):
        return None
    return upload.name


def forget() -> None:
    """No checkpoint in the sidebar: this session's networks leave the store."""
    st.session_state.pop("_own_upload", None)
    st.session_state.pop("_own_refused", None)
    if "_own_owner" in st.session_state:
        STORE.drop(_owner())


def _load(base: str, weights, labels, device: str, settings: OnnxSettings | None = None) -> cnnviz.LoadedModel:
    preprocessing = settings.preprocessing() if settings is not None else None  # refused before any file work
    with _LOADING, tempfile.TemporaryDirectory(prefix="cnnviz-own-") as folder:
        weights_path = Path(folder) / _safe_name(weights.name, "checkpoint.pt")
        weights_path.write_bytes(weights.getvalue())
        labels_path = None
        if labels is not None:
            labels_path = Path(folder) / "labels.txt"
            labels_path.write_bytes(labels.getvalue())
        where = None if device == "auto" else device
        if weights_path.suffix == ".onnx":
            net = cnnviz.load(f"onnx:{weights_path}", labels=labels_path, device=where, preprocessing=preprocessing)
        else:
            net = cnnviz.load(base, weights=str(weights_path), labels=labels_path, device=where)
    digest = net.spec.name.split("@sha256:")[1][:16]
    shown = f"{weights_path.name} (SHA-256 {digest}…)"  # not the server's folder
    net = replace(net, weights_detail=shown, weights_note=("file", {"file": shown}))
    STORE.put(_owner(), net, device)
    release_free_memory()  # the file's copy and the state dict are gone: their pages go back to the system
    return net


def _safe_name(name: str, fallback: str) -> str:
    """The upload's file name with only letters, digits, ``.``, ``_`` and ``-``, at most 60 characters (it
    becomes part of the network's display name); its suffix is kept, since it says the format."""
    suffix = Path(name).suffix.lower()
    if suffix not in {f".{kind}" for kind in CHECKPOINT_TYPES}:
        return fallback
    stem = _SAFE_NAME.sub("_", Path(name).stem)[:50] or "checkpoint"
    return f"{stem}{suffix}"
