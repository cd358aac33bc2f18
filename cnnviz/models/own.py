"""Your own network: a checkpoint for a zoo, torchvision or timm architecture with any number of classes,
and the names of those classes.

A student who fine-tunes a network on their own photos saves ``model.state_dict()``; this module reads it
(``.pt``/``.pth`` through :func:`cnnviz.models.checkpoints.load_checkpoint`, ``.safetensors`` through the
``safetensors`` library, which stores tensors as raw bytes behind a JSON header and runs nothing), unwraps
the usual containers (``{"state_dict": …}``, ``{"model": …}``, DataParallel's ``module.`` and
``torch.compile``'s ``_orig_mod.`` prefixes), reads the class count from the classifier's weight, and gives
the architecture a classifier of that size before the weights are loaded.

No library does this for an arbitrary architecture: timm's ``reset_classifier`` covers timm only, and
torchvision's builders take ``num_classes`` but the zoo's builders are fixed. The classifier is found as
the last linear (or 1×1-convolution, SqueezeNet) layer whose outputs are the architecture's classes, and
replaced by one of the same kind with the checkpoint's.

A checkpoint's network is registered under its own name, ``ARCH@sha256:DIGEST`` (the first 16 hex digits
of the file's SHA-256), so layer tables, cache keys and results of two checkpoints of one architecture
never mix; the registry holds specs only (no tensors) and forgets the least recently used beyond
:data:`REGISTRY_SIZE`.
"""

from __future__ import annotations

import collections
import hashlib
import threading
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from cnnviz.errors import WeightsError
from cnnviz.models.checkpoints import load_checkpoint
from cnnviz.models.zoo import ArchSpec

OWN = "own"  # the label set of a checkpoint's classes: its names file, or "class 0" … "class N-1"
PREFIXES = ("module.", "_orig_mod.")  # DataParallel / DistributedDataParallel, torch.compile
CONTAINERS = ("state_dict", "model_state_dict", "model", "net")  # where training scripts keep the weights
LABELS_BYTES = 1 * 2**20  # bytes: a names file of 100,000 classes of 10 characters is about 1 MB
LABEL_CHARACTERS = 200  # a class name's longest accepted length, in characters
# Characters a class name may not hold: pages show names in Markdown, where these make links, pictures,
# formulas or coloured text; a name is shown as written, never as a link or a picture.
LABEL_FORBIDDEN = frozenset("[]<>$\\")
REGISTRY_SIZE = 4096  # checkpoint specs remembered (a spec is a few hundred bytes and no tensors)
SAFETENSORS_SUFFIX = ".safetensors"

_REGISTRY: collections.OrderedDict[str, ArchSpec] = collections.OrderedDict()
_LOCK = threading.Lock()


def file_digest(path: Path) -> str:
    """The SHA-256 of the file's bytes, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_state_dict(path: Path, budget: int) -> dict[str, torch.Tensor]:
    """The tensors of checkpoint ``path`` by name, unwrapped and without training prefixes; at most
    ``budget`` bytes of data. Every failure is a one-line :class:`WeightsError`."""
    loaded = _read_safetensors(path, budget) if path.suffix == SAFETENSORS_SUFFIX else load_checkpoint(path, budget)
    for key in CONTAINERS:
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
            break
    if not isinstance(loaded, dict) or not loaded or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise WeightsError("no_state_dict", file=path.name)
    for prefix in PREFIXES:
        if all(isinstance(k, str) and k.startswith(prefix) for k in loaded):
            loaded = {k.removeprefix(prefix): v for k, v in loaded.items()}
    return loaded


def _read_safetensors(path: Path, budget: int) -> dict[str, torch.Tensor]:
    """A safetensors file holds its tensors uncompressed: its size bounds what it holds."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    size = path.stat().st_size
    if size > budget:
        raise WeightsError("weights_too_big", file=path.name, size=size, budget=budget)
    try:
        return load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise WeightsError("unsafe_weights", file=path.name, reason=type(exc).__name__) from None


def classifier_name(model: nn.Module, classes: int) -> str | None:
    """The module name of ``model``'s classifier: the last linear layer (or 1×1 convolution) with ``classes``
    outputs, in registration order (timm's ``get_classifier()`` when the model has one); None if none."""
    if hasattr(model, "get_classifier"):
        head = model.get_classifier()
        found = next((name for name, module in model.named_modules() if module is head), None)
        if found and _outputs(head) == classes:
            return found
    names = [name for name, module in model.named_modules() if _outputs(module) == classes]
    return names[-1] if names else None


def _outputs(module: nn.Module) -> int | None:
    if isinstance(module, nn.Linear):
        return module.out_features
    if isinstance(module, nn.Conv2d) and module.kernel_size == (1, 1):
        return module.out_channels
    return None


def with_classes(model: nn.Module, name: str, classes: int) -> nn.Module:
    """``model`` with its module ``name`` (a linear layer or 1×1 convolution) replaced by one with
    ``classes`` outputs (randomly initialised; the checkpoint's weights go in next)."""
    old = model.get_submodule(name)
    if isinstance(old, nn.Linear):
        new = nn.Linear(old.in_features, classes, bias=old.bias is not None)
    else:
        new = nn.Conv2d(old.in_channels, classes, 1, bias=old.bias is not None)
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, new)
    if hasattr(model, "num_classes"):  # timm keeps the count for reset_classifier and its feature helpers
        model.num_classes = classes
    return model


def _resized(model: nn.Module, classes: int, wanted: int) -> nn.Module:
    """``model`` (built with ``classes`` outputs) with a ``wanted``-way classifier."""
    return model if wanted == classes else with_classes(model, classifier_name(model, classes), wanted)


def checkpoint_classes(state: dict[str, torch.Tensor], model: nn.Module, classes: int) -> int:
    """How many classes the checkpoint's classifier has (``classes``, the architecture's, when the file has
    no tensor where the architecture's classifier is)."""
    name = classifier_name(model, classes)
    weight = state.get(f"{name}.weight") if name else None
    return int(weight.shape[0]) if weight is not None and weight.dim() in (2, 4) else classes


def read_labels(path: Path, classes: int) -> tuple[str, ...]:
    """Class names from a UTF-8 text file, one a line (blank lines at the end ignored); exactly ``classes``
    of them, each at most :data:`LABEL_CHARACTERS` characters, the file at most :data:`LABELS_BYTES`."""
    if not path.is_file() or path.stat().st_size > LABELS_BYTES:
        raise WeightsError("labels_file", file=path.name, limit=LABELS_BYTES, characters=LABEL_CHARACTERS)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WeightsError("labels_file", file=path.name, limit=LABELS_BYTES, characters=LABEL_CHARACTERS) from None
    names = [line.strip() for line in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    if any(
        not name or len(name) > LABEL_CHARACTERS or not name.isprintable() or LABEL_FORBIDDEN & set(name)
        for name in names
    ):
        raise WeightsError("labels_file", file=path.name, limit=LABELS_BYTES, characters=LABEL_CHARACTERS)
    if len(names) != classes:
        raise WeightsError("labels_count", file=path.name, found=len(names), classes=classes)
    return tuple(names)


def default_labels(classes: int) -> tuple[str, ...]:
    """``("class 0", …, "class N-1")``."""
    return tuple(f"class {index}" for index in range(classes))


def own_spec(base: ArchSpec, classes: int, digest: str, file_name: str, labels: str = OWN) -> ArchSpec:
    """The spec of ``base`` with a ``classes``-way classifier for the checkpoint with SHA-256 ``digest``,
    registered so :func:`cnnviz.models.zoo.get_spec` finds it by name. ``labels`` stays the base's label set
    for a checkpoint of the architecture's own classes that comes without names."""
    name = f"{base.name}@sha256:{digest[:16]}"
    base_classes = base.classes

    def builder() -> nn.Module:
        return _resized(base.builder(), base_classes, classes)

    spec = replace(
        base,
        name=name,
        display=f"{base.display} · {file_name}",
        builder=builder,
        labels=labels,
        num_classes=classes,
        pretrained=None,
        bundled=None,
        same_layers_as=None,
    )
    return register(spec)


def register(spec: ArchSpec) -> ArchSpec:
    """Remember ``spec`` (a user's network, named ``…@sha256:…``) so :func:`cnnviz.models.zoo.get_spec`
    finds it by name; ``spec``."""
    with _LOCK:
        _REGISTRY[spec.name] = spec
        _REGISTRY.move_to_end(spec.name)
        while len(_REGISTRY) > REGISTRY_SIZE:
            _REGISTRY.popitem(last=False)
    return spec


def checkpoint_network(base: ArchSpec, path: Path, budget: int, named: bool) -> tuple[ArchSpec, nn.Module]:
    """``base`` as checkpoint ``path`` has it (its class count; registered under the file's digest) and the
    model with the file's weights, on the CPU in eval mode. ``named``: the user gives class names, so the
    classes are the checkpoint's own even when there are as many as the architecture's. A tensor the
    architecture lacks, or of another shape, is a :class:`WeightsError` naming the first one."""
    state = read_state_dict(path, budget)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(base.seed)
        model = base.builder()
    classes = checkpoint_classes(state, model, base.classes)
    kind = OWN if named or classes != base.classes else base.labels
    spec = own_spec(base, classes, file_digest(path), path.name, kind)
    _resized(model, base.classes, classes)
    _check_fits(state, model.state_dict(), path.name, base.display)
    model.load_state_dict(state)
    return spec, model.eval()


def _check_fits(state: dict, expected: dict, file: str, arch: str) -> None:
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        raise WeightsError(
            "weights_missing",
            file=file,
            arch=arch,
            missing=len(missing),
            missing_example=str(missing[:1]),
            unexpected=len(unexpected),
            unexpected_example=str(unexpected[:1]),
        )
    for key, tensor in state.items():
        if tensor.shape != expected[key].shape:
            raise WeightsError(
                "weights_shape",
                file=file,
                arch=arch,
                tensor=key,
                found=str(tuple(tensor.shape)),
                needed=str(tuple(expected[key].shape)),
            )


def registered(name: str) -> ArchSpec | None:
    """The checkpoint spec registered under ``name``, or None."""
    with _LOCK:
        spec = _REGISTRY.get(name)
        if spec is not None:
            _REGISTRY.move_to_end(name)
        return spec
