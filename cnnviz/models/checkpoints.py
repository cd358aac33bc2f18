"""A user's checkpoint measured before it is loaded, then loaded with ``torch.load(weights_only=True)``.

``weights_only=True`` stops code in a pickle, not memory bombs: torch inflates every record of a zip
checkpoint to the size its directory declares, so a 2 MB file holding one deflated 2 GiB storage (or a
deflated 1 GiB ``data.pkl``) takes gigabytes and tens of seconds before anything can refuse it. No torch
option bounds this (``mmap=True`` maps stored storages but still inflates ``data.pkl`` and deflated
records), so the zip directory is read here first: the declared sizes are what torch will allocate, and
a file whose records declare more than the budget is refused before any record is inflated.

A legacy (non-zip) checkpoint stores its tensors uncompressed, so its own size bounds what it holds; it
goes through the same ``weights_only=True`` load. torch's warnings (which name the server's paths) are
kept off stderr and the page: the refusal is one line of ours.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import torch

from cnnviz.errors import WeightsError

PICKLE_BUDGET = 64 * 2**20  # bytes: the pickle of a state dict is kilobytes (DenseNet-201's: about 100 KB)
SLACK_BYTES = 16 * 2**20  # bytes over the tensors: names, versions, alignment, a small optimiser state
TENSOR_FACTOR = 3  # a checkpoint may also hold an optimiser's two moments per parameter (Adam)


def budget_bytes(parameters: int) -> int:
    """The largest checkpoint (uncompressed bytes) accepted for a network of ``parameters`` float32
    parameters: room for the weights, buffers and an optimiser state, plus :data:`SLACK_BYTES`."""
    return TENSOR_FACTOR * 4 * parameters + SLACK_BYTES


def declared_bytes(path: Path) -> int | None:
    """What the records of zip checkpoint ``path`` declare, uncompressed, in bytes (None: not a zip file).
    Raises :class:`WeightsError` for a pickle record over :data:`PICKLE_BUDGET`."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            records = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise WeightsError("unsafe_weights", file=path.name, reason=type(exc).__name__) from None
    for record in records:
        if record.filename.endswith(".pkl") and record.file_size > PICKLE_BUDGET:
            raise WeightsError("weights_too_big", file=path.name, size=record.file_size, budget=PICKLE_BUDGET)
    return sum(record.file_size for record in records)


def load_checkpoint(path: Path, budget: int) -> object:
    """``torch.load(path, weights_only=True)`` on the CPU once the file is measured within ``budget``
    uncompressed bytes; every failure is a one-line :class:`WeightsError`."""
    size = declared_bytes(path)
    if size is None:
        size = path.stat().st_size
    if size > budget:
        raise WeightsError("weights_too_big", file=path.name, size=size, budget=budget)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and format errors all mean the same thing to the user
        raise WeightsError("unsafe_weights", file=path.name, reason=type(exc).__name__) from None
