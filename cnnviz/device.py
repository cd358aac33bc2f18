"""Choice of the compute device: CUDA when present, else Apple MPS, else CPU; ``CNNVIZ_DEVICE`` overrides."""

from __future__ import annotations

import os

import torch

from cnnviz.errors import CnnvizError

DEVICE_ENV = "CNNVIZ_DEVICE"


def select_device(requested: str | None = None) -> torch.device:
    """Return the device to run on.

    ``requested`` (or the ``CNNVIZ_DEVICE`` environment variable) may be ``"cpu"``, ``"cuda"``,
    ``"cuda:N"`` or ``"mps"``; an unavailable choice raises :class:`CnnvizError` rather than failing later.
    """
    choice = requested or os.environ.get(DEVICE_ENV, "").strip()
    if not choice or choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except RuntimeError as exc:
        raise CnnvizError("unknown_device", device=choice) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise CnnvizError("no_cuda", device=choice)
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise CnnvizError("no_such_gpu", device=choice, count=torch.cuda.device_count())
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise CnnvizError("no_mps", device=choice)
    if device.type not in {"cpu", "cuda", "mps"}:
        raise CnnvizError("unsupported_device", device=choice)
    return device


def describe_device(device: torch.device) -> str:
    """A short human description, e.g. ``"CUDA: NVIDIA H100 80GB HBM3"`` or ``"CPU (2 threads)"``."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"
