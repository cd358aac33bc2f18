"""Top-9 patches (Zeiler & Fergus 2014, Fig. 2): where in a set of images one channel fires most, each
strongest activation shown as the image patch its unit sees next to its deconvnet projection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz.errors import CnnvizError
from cnnviz.explain.deconvnet import Selection, project_tensor
from cnnviz.explain.graphs import layer_output
from cnnviz.explain.progress import Progress, report
from cnnviz.layers import receptive_field
from cnnviz.models.loading import LoadedModel

PATCH_COUNT = 9
MAX_IMAGES = 200


@dataclass(frozen=True)
class Patch:
    """One strong activation: ``image`` (its name in the set), ``unit`` (row, column) in the layer's map,
    ``activation``; ``box`` (top, left, bottom, right; input px, end exclusive) is the unit's receptive
    field clipped to the network's input, ``crop`` the preprocessed picture inside it (h×w×3 uint8) and
    ``projection`` the deconvnet projection of this one activation inside it (C×h×w float32)."""

    image: str
    unit: tuple[int, int]
    activation: float
    box: tuple[int, int, int, int]
    crop: np.ndarray
    projection: np.ndarray
    method: str


@dataclass(frozen=True)
class TopPatches(Sequence[Patch]):
    """The strongest activations of ``layer``'s ``channel`` over ``searched`` images, strongest first;
    indexable like a tuple of :class:`Patch` (empty when the channel never fires)."""

    layer: str
    channel: int
    searched: int
    items: tuple[Patch, ...]

    def __getitem__(self, index):
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)


def unit_box(
    side: int, map_side: int, unit: tuple[int, int], field: tuple[int, int] | None
) -> tuple[int, int, int, int]:
    """The receptive field (``field`` = (height, width) px; None = the whole input) of ``unit`` of a
    ``map_side`` map on a ``side`` px input, centred on the unit's position scaled to the input and clipped
    to the input."""
    sizes = (side, side) if field is None else tuple(min(f, side) for f in field)
    step = side / map_side
    top, left = (round((u + 0.5) * step - size / 2) for u, size in zip(unit, sizes, strict=True))
    top, left = (min(max(v, 0), side - size) for v, size in zip((top, left), sizes, strict=True))
    return top, left, top + sizes[0], left + sizes[1]


def top_patches(
    net: LoadedModel,
    images: Mapping[str, Image.Image],
    layer: str,
    channel: int,
    count: int = PATCH_COUNT,
    progress: Progress | None = None,
) -> TopPatches:
    """The ``count`` strongest activations of ``layer``'s ``channel`` over ``images``, strongest first.

    Each image contributes its local maxima (3×3 neighbourhoods), so one image may give several patches
    at different places. ``progress`` counts images (see :mod:`cnnviz.explain.progress`).
    """
    if not images:
        raise CnnvizError("no_images")
    if len(images) > MAX_IMAGES:
        raise CnnvizError("too_many_images", limit=MAX_IMAGES, count=len(images))
    inputs = {name: net.to_input(net.preprocess(image)) for name, image in images.items()}
    candidates: list[tuple[float, str, tuple[int, int]]] = []
    map_side = 0
    for done, (name, x) in enumerate(inputs.items(), start=1):
        output = layer_output(net, x, layer)
        if not 0 <= channel < output.shape[1]:
            raise CnnvizError("channel_range", last=output.shape[1] - 1, channel=channel)
        plane = output[0, channel]
        map_side = plane.shape[-1]
        peaks = (plane == F.max_pool2d(plane[None, None], 3, 1, 1)[0, 0]) & (plane > 0)
        values = plane[peaks]
        rows, cols = torch.nonzero(peaks, as_tuple=True)
        for i in values.argsort(descending=True)[:count].tolist():
            candidates.append((float(values[i]), name, (int(rows[i]), int(cols[i]))))
        report(progress, done, len(inputs))
    chosen = sorted(candidates, key=lambda c: -c[0])[:count]
    side = net.preprocess.input_size
    try:
        field = receptive_field(net.spec, layer, side)
    except CnnvizError:
        field = None  # a module inside a collapsed block: show the whole input
    patches = []
    for value, name, unit in chosen:
        projection = project_tensor(net, inputs[name], layer, [Selection(channel, unit)])[0]
        top, left, bottom, right = unit_box(side, map_side, unit, field)
        picture = np.asarray(net.preprocess.crop_image(images[name]).convert("RGB"))
        patches.append(
            Patch(
                image=name,
                unit=unit,
                activation=value,
                box=(top, left, bottom, right),
                crop=picture[top:bottom, left:right].copy(),
                projection=projection.pixels[:, top:bottom, left:right].copy(),
                method=projection.method,
            )
        )
    return TopPatches(layer, channel, len(inputs), tuple(patches))
