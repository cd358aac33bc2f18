"""Any image classifier of torchvision or timm by name: ``torchvision:NAME`` and ``timm:NAME`` (or
``timm:NAME.TAG``) open wherever a zoo name does in the engine and the command line (``cnnviz.load``,
``--arch``), with the library's own preprocessing config and its weights through the zoo's chain
(cached → downloaded through the library's API when online → seeded random, said plainly).

The records are the zoo's own :class:`~cnnviz.models.zoo.ArchSpec`, built from what the library publishes: the
builder, the pretrained weights' reference and the preprocessing (torchvision's ``Weights`` entry, timm's
``PretrainedCfg``). Only networks whose published head has ImageNet-1k's 1,000 classes are opened: their
classes are named from the same list as the zoo's.
"""

from __future__ import annotations

import functools
import re

import timm
import torchvision.models

from cnnviz.errors import UnknownArchitectureError
from cnnviz.models.preprocess import from_timm, from_torchvision
from cnnviz.models.zoo import IMAGENET, ArchSpec, PretrainedRef

LIBRARIES = ("torchvision", "timm")
IMAGENET_CLASSES = 1000
# A library's model name: letters, digits, "_", "-" and one "." before a timm tag, at most 100 characters.
MODEL_NAME = re.compile(r"[A-Za-z0-9_\-]{1,100}(\.[A-Za-z0-9_\-]{1,60})?")


def is_library_name(name: str) -> bool:
    """True for ``torchvision:…`` and ``timm:…`` (whether or not the library has that network)."""
    return isinstance(name, str) and name.split(":", 1)[0] in LIBRARIES and ":" in name


@functools.lru_cache(maxsize=256)
def library_spec(name: str) -> ArchSpec:
    """The spec of ``torchvision:MODEL`` or ``timm:MODEL[.TAG]``; :class:`UnknownArchitectureError` when the
    library has no such image classifier or its published head is not ImageNet-1k's."""
    library, model = name.split(":", 1)
    if not MODEL_NAME.fullmatch(model):
        raise UnknownArchitectureError("library_bad_name", library=library)
    return _torchvision_spec(model) if library == "torchvision" else _timm_spec(model)


@functools.lru_cache(maxsize=1)
def library_names() -> tuple[str, ...]:
    """Every classifier cnnviz opens by name, each once: torchvision's ImageNet-1k classifiers
    (``torchvision:NAME``) and timm's ImageNet-1k pretrained tags (``timm:NAME.TAG``), sorted."""
    torchvision_names = [
        f"torchvision:{model}"
        for model in torchvision.models.list_models(module=torchvision.models)
        if len(torchvision.models.get_model_weights(model).DEFAULT.meta["categories"]) == IMAGENET_CLASSES
    ]
    timm_names = []
    for model in timm.list_models(pretrained=True):
        cfg = timm.models.get_pretrained_cfg(model)
        if cfg is not None and cfg.num_classes == IMAGENET_CLASSES and not cfg.label_offset:
            timm_names.append(f"timm:{model}")
    return tuple(sorted(torchvision_names) + sorted(timm_names))


def canonical_name(name: str) -> str:
    """``name`` as :func:`library_names` lists it (``timm:resnet18`` → ``timm:resnet18.a1_in1k``, its default
    tag); :class:`UnknownArchitectureError` as :func:`library_spec`."""
    spec = library_spec(name)
    return name if spec.pretrained.library == "torchvision" else f"timm:{spec.pretrained.ident}"


def _torchvision_spec(model: str) -> ArchSpec:
    if model not in torchvision.models.list_models(module=torchvision.models):  # image classifiers only
        raise UnknownArchitectureError("library_unknown", library="torchvision", model=model)
    weights = torchvision.models.get_model_weights(model).DEFAULT
    classes = len(weights.meta["categories"])
    if classes != IMAGENET_CLASSES:
        raise UnknownArchitectureError("library_classes", name=f"torchvision:{model}", classes=classes)
    return ArchSpec(
        name=f"torchvision:{model}",
        display=f"{model} (torchvision)",
        family="torchvision",
        year=0,
        paper=f"torchvision.models.{model}, weights {type(weights).__name__}.{weights.name}"
        + (f" (training recipe: {weights.meta['recipe']})" if weights.meta.get("recipe") else ""),
        builder=lambda: torchvision.models.get_model(model, weights=None),
        preprocessing=from_torchvision(weights),
        labels=IMAGENET,
        pretrained=PretrainedRef("torchvision", model, f"{type(weights).__name__}.{weights.name}"),
    )


def _timm_spec(model: str) -> ArchSpec:
    architecture, tag = timm.models.split_model_name_tag(model)
    cfg = timm.models.get_pretrained_cfg(model) if timm.models.is_model(architecture) else None
    if cfg is None:
        raise UnknownArchitectureError("library_unknown", library="timm", model=model)
    if cfg.num_classes != IMAGENET_CLASSES or cfg.label_offset:
        raise UnknownArchitectureError("library_classes", name=f"timm:{model}", classes=cfg.num_classes)
    return ArchSpec(
        name=f"timm:{model}",
        display=f"{architecture}.{cfg.tag} (timm)",
        family="timm",
        year=0,
        paper=cfg.paper_name or f"timm {architecture}.{cfg.tag}" + (f" ({cfg.paper_ids})" if cfg.paper_ids else ""),
        builder=lambda: timm.create_model(architecture, pretrained=False),
        preprocessing=from_timm(cfg),
        labels=IMAGENET,
        pretrained=PretrainedRef("timm", architecture, tag or cfg.tag),
    )
