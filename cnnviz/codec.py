"""Results as bytes and back without pickle, so a result cache shared between servers (Redis) can hand one
server's occlusion map to another and a forged or damaged entry can do nothing but be refused.

An entry is ``MAGIC``, the length of a JSON description (8 bytes, big-endian), the description, then an
uncompressed ``.npz`` archive holding the arrays. The description names only plain values (None, bools,
numbers, strings, lists, tuples, dicts), arrays and tensors by their place in the archive, and records:
dataclasses, named tuples and enums defined in the ``cnnviz`` package (any other class is refused).
Arrays are read with ``allow_pickle=False``; archive members must be stored, not compressed, so the bytes
read can never exceed the entry's size.

Written here because the standard formats each miss one part: JSON has no arrays, ``.npz`` has no
records, and pickle runs whatever the bytes ask for.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import io
import json
import zipfile
from typing import Any

import numpy as np
import torch

MAGIC = b"CNNVIZ-RESULT-1\n"
PACKAGE = "cnnviz"


class CodecError(ValueError):
    """A value that cannot be written as an entry, or bytes that are not a valid entry (a server's
    problem, logged, never shown to a student: hence not a :class:`~cnnviz.errors.CnnvizError`)."""


def encode(value: Any) -> bytes:
    """``value`` as an entry (bytes); :class:`CodecError` for what the format does not hold."""
    arrays: dict[str, np.ndarray] = {}
    description = json.dumps(_describe(value, arrays), separators=(",", ":")).encode()
    archive = io.BytesIO()
    np.savez(archive, **arrays)
    return MAGIC + len(description).to_bytes(8, "big") + description + archive.getvalue()


def decode(entry: bytes, max_bytes: int) -> Any:
    """The value an entry holds; :class:`CodecError` if it is longer than ``max_bytes``, malformed, or names
    anything outside the format."""
    if len(entry) > max_bytes:
        raise CodecError(f"cache entry of {len(entry):,} bytes is over the limit of {max_bytes:,}")
    if not entry.startswith(MAGIC) or len(entry) < len(MAGIC) + 8:
        raise CodecError("not a cnnviz result entry")
    start = len(MAGIC) + 8
    length = int.from_bytes(entry[len(MAGIC) : start], "big")
    if length > len(entry) - start:
        raise CodecError("truncated cache entry")
    try:
        description = json.loads(entry[start : start + length])
        arrays = _read_archive(entry[start + length :])
        return _build(description, arrays)
    except CodecError:
        raise
    except Exception as exc:  # whatever a forged entry provokes is a refusal, not a crash
        raise CodecError(f"malformed cache entry: {type(exc).__name__}") from exc


def _describe(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return {"enum": _class_name(type(value)), "value": _describe(value.value, arrays)}
    if isinstance(value, int | float):
        return value
    if isinstance(value, torch.Tensor):
        return {"tensor": _store(value.detach().cpu().numpy(), arrays)}
    if isinstance(value, np.ndarray | np.generic):
        if np.asarray(value).dtype.hasobject:
            raise CodecError("arrays of Python objects cannot be cached between servers")
        return {"array": _store(np.asarray(value), arrays), "scalar": isinstance(value, np.generic)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _describe(getattr(value, f.name), arrays) for f in dataclasses.fields(value)}
        return {"record": _class_name(type(value)), "fields": fields}
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        return {"named": _class_name(type(value)), "items": [_describe(v, arrays) for v in value]}
    if isinstance(value, list | tuple):
        return {"list" if isinstance(value, list) else "tuple": [_describe(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"pairs": [[_describe(k, arrays), _describe(v, arrays)] for k, v in value.items()]}
    raise CodecError(f"a {type(value).__name__} cannot be cached between servers")


def _store(array: np.ndarray, arrays: dict[str, np.ndarray]) -> str:
    name = f"a{len(arrays)}"
    arrays[name] = array
    return name


def _class_name(cls: type) -> str:
    if not cls.__module__.startswith(f"{PACKAGE}."):
        raise CodecError(f"{cls.__module__}.{cls.__qualname__} is not a cnnviz record")
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(name: str, kind: str) -> type:
    module_name, _, qualname = str(name).partition(":")
    if not module_name.startswith(f"{PACKAGE}.") or not qualname.isidentifier():
        raise CodecError(f"cache entry names {name!r}, which is not a cnnviz record")
    cls = getattr(importlib.import_module(module_name), qualname, None)
    fits = {
        "record": lambda c: dataclasses.is_dataclass(c),
        "named": lambda c: issubclass(c, tuple) and hasattr(c, "_fields"),
        "enum": lambda c: issubclass(c, enum.Enum),
    }[kind]
    if not isinstance(cls, type) or cls.__module__ != module_name or not fits(cls):
        raise CodecError(f"cache entry names {name!r}, which is not a cnnviz {kind}")
    return cls


def _read_archive(data: bytes) -> dict[str, np.ndarray]:
    arrays = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(data):
                raise CodecError("cache entry holds a compressed or oversized array")
            with archive.open(info) as member:
                arrays[info.filename.removesuffix(".npy")] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


def _build(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if not isinstance(node, dict) or len(node) == 0:
        raise CodecError("malformed cache entry")
    if "array" in node:
        array = arrays[node["array"]]
        return array[()] if node.get("scalar") else array
    if "tensor" in node:
        return torch.from_numpy(np.array(arrays[node["tensor"]]))
    if "list" in node:
        return [_build(v, arrays) for v in node["list"]]
    if "tuple" in node:
        return tuple(_build(v, arrays) for v in node["tuple"])
    if "pairs" in node:
        return {_build(k, arrays): _build(v, arrays) for k, v in node["pairs"]}
    if "enum" in node:
        return _class(node["enum"], "enum")(_build(node["value"], arrays))
    if "named" in node:
        return _class(node["named"], "named")(*[_build(v, arrays) for v in node["items"]])
    if "record" in node:
        cls = _class(node["record"], "record")
        values = {name: _build(v, arrays) for name, v in node["fields"].items()}
        known = {f.name: f for f in dataclasses.fields(cls)}
        if set(values) != set(known):
            raise CodecError(f"cache entry's fields do not match {cls.__qualname__}")
        record = cls(**{name: v for name, v in values.items() if known[name].init})
        for name, v in values.items():
            if not known[name].init:
                object.__setattr__(record, name, v)
        return record
    raise CodecError("malformed cache entry")
