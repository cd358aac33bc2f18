"""What a layer computes on one image: its feature maps with statistics, and the first layer's filters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.explain.graphs import channels_by_peak, layer_output
from cnnviz.models.loading import LoadedModel


@dataclass(frozen=True)
class ActivationMaps:
    """Feature maps of ``layer`` for one image.

    ``maps``: C×H×W float32; ``order``: channel indices, strongest single unit first (:func:`channels_by_peak`);
    ``mean`` and ``max`` over every unit; ``zero_fraction``: share of units at or below zero (0–1; after a
    ReLU these are exactly zero); ``never_active``: channels with no positive unit on this image.
    """

    layer: str
    maps: np.ndarray
    order: np.ndarray
    mean: float
    max: float
    zero_fraction: float
    never_active: tuple[int, ...]

    @property
    def channels(self) -> int:
        return self.maps.shape[0]


def activation_maps(net: LoadedModel, image: Image.Image, layer: str) -> ActivationMaps:
    """The feature maps of ``layer`` (a module name) for ``image``, strongest channels first."""
    output = layer_output(net, net.to_input(net.preprocess(image)), layer)
    maps = output[0].cpu().numpy().astype(np.float32)
    peaks = maps.reshape(maps.shape[0], -1).max(axis=1)
    order = np.array(channels_by_peak(output))
    return ActivationMaps(
        layer=layer,
        maps=maps,
        order=order,
        mean=float(maps.mean()),
        max=float(maps.max()),
        zero_fraction=float((maps <= 0).mean()),
        never_active=tuple(int(c) for c in np.flatnonzero(peaks <= 0)),
    )


@dataclass(frozen=True)
class FirstLayerFilters:
    """The learned kernels of the first convolution: ``weights`` N×C×k×k (float32, as trained),
    ``layer`` its module name, ``stride`` in input pixels."""

    layer: str
    weights: np.ndarray
    stride: int

    @property
    def kernel(self) -> int:
        return self.weights.shape[-1]

    def tiles(self) -> np.ndarray:
        """N×k×k×C in [0, 1]: zero weight is mid grey, the layer's largest |weight| is 0 or 1.

        One scale for the whole layer, so a weak filter looks weak next to a strong one.
        """
        scale = float(np.abs(self.weights).max()) or 1.0
        return np.clip(0.5 + self.weights.transpose(0, 2, 3, 1) / (2 * scale), 0.0, 1.0)


def first_layer_filters(net: LoadedModel) -> FirstLayerFilters:
    """The kernels of ``net``'s first convolution that reads the image (AlexNet 11×11, VGG 3×3, …)."""
    for name, module in net.model.named_modules():
        if isinstance(module, nn.Conv2d) and module.in_channels == net.spec.in_channels:
            weights = module.weight.detach().float().cpu().contiguous().numpy()
            return FirstLayerFilters(layer=name, weights=weights, stride=int(module.stride[0]))
    raise CnnvizError("no_first_conv", arch=net.spec.display)
