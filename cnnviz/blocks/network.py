"""The building blocks inside the chosen network: its first convolution's learnt filters slid over the photo,
its first batch normalisation with the statistics it learnt, and what one dense layer would cost in place of
that convolution (deck 001's 120 million parameters). Read from the model's own modules in one forward pass
that stops at the batch normalisation; written here because no library shows a network's layers this way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from cnnviz.blocks.operations import photo_input
from cnnviz.explain.activations import first_layer_filters
from cnnviz.explain.graphs import private_graph
from cnnviz.models.loading import LoadedModel


def normalised_photo(net: LoadedModel, image: Image.Image, channels: int) -> np.ndarray:
    """``image`` at its own size as ``net`` normalises its input (its mean and std per channel), with
    ``channels`` 3 (colour) or 1 (luminance, for a grey network): C×H×W float32."""
    x = photo_input(image, grey=channels == 1)
    mean = np.array(net.preprocess.mean[:channels], dtype=np.float32)[:, None, None]
    std = np.array(net.preprocess.std[:channels], dtype=np.float32)[:, None, None]
    return (x - mean) / std


@dataclass(frozen=True)
class BatchNorm:
    """A batch normalisation layer on one photo: ``before`` is its input (C×H×W), ``after`` its normalisation
    with the statistics it learnt, (x − running mean) / √(running var + eps) × weight + bias (an activation
    some libraries fuse into the layer is left out); the per-channel statistics as vectors of C."""

    layer: str
    running_mean: np.ndarray
    running_var: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    eps: float
    before: np.ndarray
    after: np.ndarray


@dataclass(frozen=True)
class FirstLayers:
    """The network's input shape (C, H, W), its first convolution (module name, output shape, parameters with
    the bias) and its first batch normalisation (None when it has none), for one photo."""

    input_shape: tuple[int, int, int]
    conv_layer: str
    conv_output: tuple[int, int, int]
    conv_parameters: int
    batch_norm: BatchNorm | None

    def dense_parameters(self, inputs: int, units: int) -> int:
        """Parameters of one fully connected layer from ``inputs`` values to ``units`` (weights and biases)."""
        return inputs * units + units

    @property
    def dense_same_output(self) -> int:
        """Parameters of a dense layer giving the first convolution's output from the network's input."""
        return self.dense_parameters(int(np.prod(self.input_shape)), int(np.prod(self.conv_output)))


class _Reached(Exception):
    """Raised by a hook to stop the forward pass once the layers wanted have run."""


def first_layers(net: LoadedModel, image: Image.Image) -> FirstLayers:
    """:class:`FirstLayers` of ``net`` on the picture it sees of ``image``."""
    conv_name = first_layer_filters(net).layer
    graph = private_graph(net.model)
    conv = graph.get_submodule(conv_name)
    norm_name = next((n for n, m in net.model.named_modules() if isinstance(m, nn.BatchNorm2d)), None)
    seen: dict[str, torch.Tensor] = {}

    def conv_output(_module, _inputs, output):
        seen["conv"] = output
        if norm_name is None:
            raise _Reached

    def norm_input(_module, inputs):
        seen["norm"] = inputs[0]
        raise _Reached

    handles = [conv.register_forward_hook(conv_output)]
    if norm_name is not None:
        handles.append(graph.get_submodule(norm_name).register_forward_pre_hook(norm_input))
    x = net.to_input(net.preprocess(image))
    try:
        with torch.inference_mode():
            graph(x)
    except _Reached:
        pass
    finally:
        for handle in handles:
            handle.remove()
    module = net.model.get_submodule(conv_name)
    return FirstLayers(
        input_shape=tuple(x.shape[1:]),
        conv_layer=conv_name,
        conv_output=tuple(seen["conv"].shape[1:]),
        conv_parameters=sum(p.numel() for p in module.parameters()),
        batch_norm=None if "norm" not in seen else _batch_norm(norm_name, net.model.get_submodule(norm_name), seen),
    )


def _batch_norm(name: str, layer: nn.BatchNorm2d, seen: dict[str, torch.Tensor]) -> BatchNorm:
    before = seen["norm"].float()
    channels = before.shape[1]
    mean = layer.running_mean if layer.running_mean is not None else torch.zeros(channels)
    var = layer.running_var if layer.running_var is not None else torch.ones(channels)
    weight = layer.weight if layer.weight is not None else torch.ones(channels)
    bias = layer.bias if layer.bias is not None else torch.zeros(channels)
    with torch.inference_mode():
        after = F.batch_norm(before, mean, var, weight, bias, training=False, eps=layer.eps)

    def numpy(t: torch.Tensor) -> np.ndarray:
        return t.detach().float().cpu().numpy()

    return BatchNorm(
        layer=name,
        running_mean=numpy(mean),
        running_var=numpy(var),
        weight=numpy(weight),
        bias=numpy(bias),
        eps=float(layer.eps),
        before=numpy(before[0]),
        after=numpy(after[0]),
    )
