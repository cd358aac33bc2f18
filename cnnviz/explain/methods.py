"""Every explanation method as one record: what it explains, whether it is heavy, its parameters with their
ranges and defaults, and one calling convention.

``METHODS[name].run(net, image, progress=None, **params)`` returns the method's typed record
(``record``); ``image`` is one photo, a mapping of names to photos for a search over a set (``images ==
"set"``), or None for a method that starts from noise (``images == "none"``). A parameter left at None
takes the method's own default (the last convolutional stage for ``layer``, the top-1 class for
``target``). The CLI builds one subcommand per record, its flags from ``params`` (``cnnviz.cli``); the pages
take their method lists from the same records. Adding a method = its function, its record here, its
texts (``cnnviz/texts``), its tests; a class-map method is one line of :data:`cnnviz.explain.CLASS_MAPS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from cnnviz.explain import CLASS_MAPS, USES_LAYER
from cnnviz.explain.activations import ActivationMaps, activation_maps
from cnnviz.explain.classmap import ClassMap
from cnnviz.explain.deconvnet import METHODS as PROJECTION_METHODS
from cnnviz.explain.deconvnet import Projections, project
from cnnviz.explain.detect import CAM_FRACTION, IOU, THRESHOLD, CamBox, Detections, cam_box, sliding_windows
from cnnviz.explain.featurevis import DEFAULT_STEPS, MAX_STEPS, OBJECTIVES, FeatureVisualisation, visualize
from cnnviz.explain.localize import ClassGrid, one_pass_grid
from cnnviz.explain.occluders import METHODS as OCCLUSION_METHODS
from cnnviz.explain.occlusion import FILLS, OcclusionMaps, occlusion
from cnnviz.explain.patches import TopPatches, top_patches
from cnnviz.models.loading import LoadedModel

SEED_LIMIT = 2**63  # seeds are non-negative and below this (torch's and numpy's generators take 64 bits)
MAX_INDEX = 999_999  # class, channel: the network checks its own count; this only bounds what can be typed
MAX_PIXELS = 100_000  # px: window, stride, sizes; the network checks its own input size
EXPLAINS = ("class", "channel", "unit", "layer", "regions")
KINDS = ("whole", "share", "choice", "flag", "module")
LOCALIZE_METHODS = ("fcn", "sliding", "cam")


@dataclass(frozen=True)
class Param:
    """One parameter: its keyword (``--name`` on the command line, underscores as dashes), its ``kind``
    (``whole``: an integer from ``low`` to ``high``; ``share``: a number from 0 to 1; ``choice``: one of
    ``choices``; ``flag``: on or off; ``module``: a layer's module name), its default (None: the method
    chooses) and one line of help."""

    name: str
    kind: str
    default: Any = None
    help: str = ""
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}, not {self.kind!r}")


@dataclass(frozen=True)
class Method:
    """One explanation method: its name (the CLI's subcommand), a one-line ``summary``, what it
    ``explains`` (one of :data:`EXPLAINS`), whether it is ``heavy`` (queued with progress and Stop on a
    page), its ``params``, ``run`` (the one calling convention) and the ``record`` type it returns."""

    name: str
    summary: str
    explains: str
    heavy: bool
    params: tuple[Param, ...]
    run: Callable[..., Any]
    record: type | tuple[type, ...]
    images: str = "one"  # "one" photo, a "set" of named photos, or "none"

    def param(self, name: str) -> Param:
        """The parameter called ``name``."""
        return next(p for p in self.params if p.name == name)

    def defaults(self) -> dict[str, Any]:
        """Every parameter at its default."""
        return {p.name: p.default for p in self.params}


def default_layer(net: LoadedModel, layer: str | None) -> str:
    """``layer``, or the network's last convolutional stage (ZF's layer 5)."""
    from cnnviz.layers import last_stage

    return layer if layer is not None else last_stage(net.spec)


LAYER = Param("layer", "module", help="module name (default: the last conv stage)")
TARGET = Param("target", "whole", help="class index (default: the top-1)", low=0, high=MAX_INDEX)


def _occlusion(net, image, *, window=32, stride=8, fill="mean", target=None, layer=None, method="auto", **run):
    return occlusion(net, image, window, stride, fill, target, layer, method=method, **run)


def _projection(net, image, *, layer=None, channel=None, whole_map=False, method="auto", progress=None):
    channels = None if channel is None else [channel]
    return project(net, image, default_layer(net, layer), channels, whole_map=whole_map, method=method)


def _class_map(net, image, *, method="gradcam", target=None, layer=None, progress=None) -> ClassMap:
    where = {"layer": default_layer(net, layer)} if method in USES_LAYER else {}
    return CLASS_MAPS[method](net, image, target=target, progress=progress, **where)


def _localization(
    net, image, *, method="fcn", size=None, target=None, threshold=THRESHOLD, iou=IOU, fraction=CAM_FRACTION, **run
):
    if method == "fcn":
        return one_pass_grid(net, image, size)
    if method == "cam":
        return cam_box(net, image, target=target, fraction=fraction)
    from cnnviz.predict import at_most, predict

    classes = [target] if target is not None else [s.index for s in predict(net, image, top=at_most(net)).scores]
    return sliding_windows(net, image, classes, threshold=threshold, iou=iou)


def _visualisation(net, image, *, layer=None, channel=0, objective="channel", steps=DEFAULT_STEPS, seed=0, **run):
    return visualize(net, default_layer(net, layer), channel, steps=steps, objective=objective, seed=seed, **run)


def _patches(net, images: Mapping[str, Image.Image], *, layer=None, channel=0, progress=None) -> TopPatches:
    return top_patches(net, images, default_layer(net, layer), channel, progress=progress)


def _activations(net, image, *, layer=None, progress=None) -> ActivationMaps:
    return activation_maps(net, image, default_layer(net, layer))


METHODS = {
    method.name: method
    for method in (
        Method(
            "occlusion",
            "occlusion sensitivity maps (ZF Fig. 7)",
            explains="class",
            heavy=True,
            params=(
                Param("window", "whole", 32, "side of the grey square, input px (default 32)", 1, MAX_PIXELS),
                Param("stride", "whole", 8, "step between positions, input px (default 8)", 1, MAX_PIXELS),
                Param("fill", "choice", "mean", "what the square shows (default mean)", choices=FILLS),
                Param("target", "whole", None, "class index (default: the clean top-1)", 0, MAX_INDEX),
                Param("layer", "module", None, "module name for the strongest-channel map"),
                Param(
                    "method",
                    "choice",
                    "auto",
                    "incremental (recompute only what the square changes), full (whole images) or auto: the "
                    "faster, measured on this model and device (default); the maps are the same",
                    choices=OCCLUSION_METHODS,
                ),
            ),
            run=_occlusion,
            record=OcclusionMaps,
        ),
        Method(
            "deconv",
            "deconvnet projection of a channel (ZF 2014)",
            explains="unit",
            heavy=False,
            params=(
                LAYER,
                Param("channel", "whole", None, "channel (default: the strongest on this image)", 0, MAX_INDEX),
                Param("whole_map", "flag", False, "project the whole map, not its strongest unit"),
                Param("method", "choice", "auto", "(default auto)", choices=PROJECTION_METHODS),
            ),
            run=_projection,
            record=Projections,
        ),
        Method(
            "classmap",
            "where the evidence for a class lies",
            explains="class",
            heavy=any(m.heavy for m in CLASS_MAPS.values()),
            params=(
                Param("method", "choice", "gradcam", "(default gradcam)", choices=tuple(CLASS_MAPS)),
                TARGET,
                Param("layer", "module", None, "the module a CAM method explains (default: the last conv stage)"),
            ),
            run=_class_map,
            record=ClassMap,
        ),
        Method(
            "localize",
            "where objects are: one-pass class grid, sliding windows + NMS, CAM box",
            explains="regions",
            heavy=True,
            params=(
                Param("method", "choice", "fcn", "(default fcn)", choices=LOCALIZE_METHODS),
                Param(
                    "size",
                    "whole",
                    None,
                    "fcn: the photo's short side in px, 1–3× the input (default 1×)",
                    1,
                    MAX_PIXELS,
                ),
                Param(
                    "target",
                    "whole",
                    None,
                    "class index (default: sliding any of the top-5, cam the top-1)",
                    0,
                    MAX_INDEX,
                ),
                Param("threshold", "share", THRESHOLD, f"sliding: lowest window score (default {THRESHOLD})"),
                Param("iou", "share", IOU, f"sliding: suppression IoU (default {IOU})"),
                Param("fraction", "share", CAM_FRACTION, f"cam: share of the maximum kept (default {CAM_FRACTION})"),
            ),
            run=_localization,
            record=(ClassGrid, Detections, CamBox),
        ),
        Method(
            "visualize",
            "the image a channel responds to most, optimised from noise (Olah 2017)",
            explains="channel",
            heavy=True,
            params=(
                LAYER,
                Param("channel", "whole", 0, "channel (default 0)", 0, MAX_INDEX),
                Param("objective", "choice", "channel", "its mean, or its centre unit", choices=OBJECTIVES),
                Param("steps", "whole", DEFAULT_STEPS, f"1–{MAX_STEPS} (default {DEFAULT_STEPS})", 1, MAX_STEPS),
                Param(
                    "seed",
                    "whole",
                    0,
                    "seed of the starting noise and transforms, 0 to 2^63 − 1 (default 0)",
                    0,
                    SEED_LIMIT - 1,
                ),
            ),
            run=_visualisation,
            record=FeatureVisualisation,
            images="none",
        ),
        Method(
            "patches",
            "top-9 patches of a channel over a folder of images (ZF Fig. 2)",
            explains="channel",
            heavy=True,
            params=(LAYER, Param("channel", "whole", 0, "", 0, MAX_INDEX)),
            run=_patches,
            record=TopPatches,
            images="set",
        ),
        Method(
            "activations",
            "the feature maps of a layer (ZF's activations)",
            explains="layer",
            heavy=False,
            params=(LAYER,),
            run=_activations,
            record=ActivationMaps,
        ),
    )
}
