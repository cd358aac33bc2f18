"""Zeiler & Fergus deconvnet projections (ECCV 2014), for every architecture of the zoo.

A feature's activation is projected back to pixel space: all other activations of the layer are set to
zero and the signal runs down through the network — unpooling with the switches recorded in the forward
pass, rectifying, and filtering with the transposed forward filters (biases not used).

Two formulations, written here because no library offers the first and captum's version of the second
misses functional ReLUs and ReLU6 (see :mod:`cnnviz.explain.rectifiers`):

- ``"zf"`` — the paper's procedure, layer by layer, for plain ``features`` stacks of convolution, ReLU,
  max-pooling, local response normalisation (passed through, as ZF did), batch normalisation (its linear
  part: the per-channel scale) and dropout: ``lenet5``, ``alexnet``, ``alexnet2012``, ``zfnet``, ``vgg*``.
  Where pooling windows overlap (AlexNet's 3×3/2), signals that share a switch add up: that is the
  transpose of the pooling, the same as its gradient.
- ``"backward"`` — the gradient of the seeded activations with respect to the input, with every
  rectifier's backward replaced by rectification of the signal (Springenberg et al. 2015). It works for
  any graph (Inception branches, residual additions, dense concatenations, squeeze-and-excitation) and
  equals ``"zf"`` where both apply (``tests/test_deconvnet.py``).

``"guided"`` (guided backpropagation) is the same backward pass with the guided rule. It answers a different
question and is shown as a different method, as are the class maps of :mod:`cnnviz.explain.classmaps`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.explain.graphs import channels_by_peak, layer_module, layer_output, private_graph, run_to_layer
from cnnviz.explain.rectifiers import RectifierRule
from cnnviz.models.loading import LoadedModel

METHODS = ("auto", "zf", "backward", "guided")
STRONGEST_COUNT = 9
_ZF_LAYERS = (nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.LocalResponseNorm, nn.BatchNorm2d, nn.Dropout, nn.Identity)


@dataclass(frozen=True)
class Projection:
    """One feature projected to pixel space.

    ``pixels``: C×H×W float32 at the network's input resolution (the preprocessed crop), raw values;
    ``position``: (row, column) of the projected activation in the layer's map, or None for the whole map;
    ``activation``: the activation that was projected (the map's maximum for a whole map).
    """

    layer: str
    channel: int
    position: tuple[int, int] | None
    activation: float
    method: str
    pixels: np.ndarray


@dataclass(frozen=True)
class Projections(Sequence[Projection]):
    """The projections of ``layer``'s chosen channels by ``method`` (the formulation used), in the order
    asked for (the nine strongest channels first by default); indexable like a tuple of :class:`Projection`."""

    layer: str
    method: str
    items: tuple[Projection, ...]

    def __getitem__(self, index):
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Selection:
    """A channel of the layer, and the unit to keep: ``(row, column)``, None for the strongest one, or
    ``"map"`` for the whole map (rectified)."""

    channel: int
    unit: tuple[int, int] | str | None = None


def zf_applies(net: LoadedModel, layer: str) -> bool:
    """True when ``layer`` sits in a plain ``features`` stack the paper's procedure walks layer by layer."""
    features = getattr(net.model, "features", None)
    if not isinstance(features, nn.Sequential) or not layer.startswith("features."):
        return False
    key = layer.split(".", 1)[1]
    if "." in key or key not in features._modules:
        return False
    modules = list(features._modules.values())
    stop = list(features._modules).index(key)
    return all(type(m) in _ZF_LAYERS for m in modules[: stop + 1])


def project(
    net: LoadedModel,
    image: Image.Image,
    layer: str,
    channels: Sequence[int] | None = None,
    whole_map: bool = False,
    method: str = "auto",
) -> Projections:
    """Deconvnet projections of ``layer``'s ``channels`` (default: the nine strongest on this image).

    By default each channel's single strongest activation is projected, as ZF did; ``whole_map`` projects
    the channel's whole (rectified) map. ``method``: ``"auto"`` (``"zf"`` where it applies, else
    ``"backward"``), ``"zf"``, ``"backward"`` or ``"guided"``.
    """
    x = net.to_input(net.preprocess(image))
    if channels is None:
        channels = channels_by_peak(layer_output(net, x, layer), STRONGEST_COUNT)
    unit = "map" if whole_map else None
    return project_tensor(net, x, layer, [Selection(int(c), unit) for c in channels], method)


def project_tensor(
    net: LoadedModel, x: torch.Tensor, layer: str, selections: Sequence[Selection], method: str = "auto"
) -> Projections:
    """Projections of ``selections`` of ``layer`` for one preprocessed input ``x`` (1×C×H×W)."""
    if method not in METHODS:
        raise CnnvizError("method_choice", choices=", ".join(METHODS), method=method)
    layer_module(net.model, layer, net.spec.display)
    if not selections:
        raise CnnvizError("no_channels")
    if method == "auto":
        method = "zf" if zf_applies(net, layer) else "backward"
    if method == "zf" and not zf_applies(net, layer):
        raise CnnvizError("zf_needs_plain", layer=layer, arch=net.spec.display)
    x = x.detach().float()
    if method == "zf":
        output, pixels = _zf(net, x, layer, selections)
    else:
        output, pixels = _backward(net, x, layer, selections, "guided" if method == "guided" else "deconvnet")
    units = (_unit(output, s) for s in selections)
    items = tuple(
        Projection(layer, s.channel, unit, value, method, p)
        for s, (unit, value), p in zip(selections, units, pixels, strict=True)
    )
    return Projections(layer, method, items)


def _unit(output: torch.Tensor, selection: Selection) -> tuple[tuple[int, int] | None, float]:
    """The projected unit's (row, column) — None for a whole map — and its activation."""
    channels = output.shape[1]
    if not 0 <= selection.channel < channels:
        raise CnnvizError("channel_range", last=channels - 1, channel=selection.channel)
    plane = output[0, selection.channel]
    if selection.unit == "map":
        return None, float(plane.max())
    if selection.unit is None:
        flat = int(plane.argmax())
        row, col = divmod(flat, plane.shape[1])
    else:
        row, col = selection.unit
        if not (0 <= row < plane.shape[0] and 0 <= col < plane.shape[1]):
            raise CnnvizError("unit_outside", row=row, col=col, height=plane.shape[0], width=plane.shape[1])
    return (int(row), int(col)), float(plane[row, col])


def _seeds(output: torch.Tensor, selections: Sequence[Selection]) -> torch.Tensor:
    """N×C×H×W: for each selection, the layer's activations with everything else set to zero."""
    output = output.detach().float()
    seeds = torch.zeros((len(selections), *output.shape[1:]), dtype=output.dtype, device=output.device)
    for i, selection in enumerate(selections):
        unit, _ = _unit(output, selection)
        if unit is None:
            seeds[i, selection.channel] = output[0, selection.channel].clamp(min=0)
        else:
            seeds[i, selection.channel, unit[0], unit[1]] = output[0, selection.channel, unit[0], unit[1]]
    return seeds


def _zf(net: LoadedModel, x: torch.Tensor, layer: str, selections) -> tuple[torch.Tensor, np.ndarray]:
    """The paper's deconvnet: forward with switches, then unpool / rectify / transposed filters."""
    features: nn.Sequential = net.model.features
    keys = list(features._modules)
    modules = list(features._modules.values())[: keys.index(layer.split(".", 1)[1]) + 1]
    shapes, switches = [], {}
    with torch.inference_mode():
        h = x
        for i, module in enumerate(modules):
            shapes.append(h.shape)
            if isinstance(module, nn.MaxPool2d):
                h, switches[i] = F.max_pool2d(
                    h,
                    module.kernel_size,
                    module.stride,
                    module.padding,
                    module.dilation,
                    ceil_mode=module.ceil_mode,
                    return_indices=True,
                )
            else:
                h = module(h)
        output = h.float().clone()
        signal = _seeds(output, selections)
        for i in reversed(range(len(modules))):
            signal = _transpose(modules[i], signal, shapes[i], switches.get(i))
    return output, signal.cpu().numpy().astype(np.float32)


def _transpose(module: nn.Module, signal: torch.Tensor, in_shape: torch.Size, switches) -> torch.Tensor:
    """One deconvnet layer: the signal at ``module``'s output mapped to its input (shape ``in_shape``)."""
    if isinstance(module, nn.Conv2d):
        size = (signal.shape[-2] - 1) * np.array(module.stride) - 2 * np.array(module.padding)
        size += np.array(module.dilation) * (np.array(module.kernel_size) - 1) + 1
        extra = tuple(int(v) for v in np.array(in_shape[-2:]) - size)
        return F.conv_transpose2d(
            signal,
            module.weight.float(),
            None,
            module.stride,
            module.padding,
            extra,
            module.groups,
            module.dilation,
        )
    if isinstance(module, nn.ReLU):
        return signal.clamp(min=0)
    if isinstance(module, nn.MaxPool2d):
        n, c = signal.shape[:2]
        index = switches.flatten(2).expand(n, -1, -1)
        out = signal.new_zeros(n, c, in_shape[-2] * in_shape[-1])
        return out.scatter_add_(2, index, signal.flatten(2)).view(n, c, *in_shape[-2:])
    if isinstance(module, nn.BatchNorm2d):
        scale = torch.rsqrt(module.running_var.float() + module.eps)
        if module.weight is not None:
            scale = scale * module.weight.float()
        return signal * scale.view(1, -1, 1, 1)
    return signal  # local response normalisation, dropout, identity: passed through


def _backward(net: LoadedModel, x: torch.Tensor, layer: str, selections, rule: str):
    """The backward formulation: gradients of the seeded activations with rectifiers under ``rule``."""
    graph = private_graph(net.model)
    x = x.clone().requires_grad_()
    with torch.enable_grad(), RectifierRule(rule):
        output = run_to_layer(graph, x, layer, net.spec.display)
    if output.dim() != 4:
        raise CnnvizError("no_spatial_output", layer=layer, shape=str(tuple(output.shape)))
    seeds = _seeds(output, selections).to(output.dtype)
    pixels = []
    for i in range(len(selections)):
        (grad,) = torch.autograd.grad(output, x, seeds[i : i + 1], retain_graph=i < len(selections) - 1)
        pixels.append(grad[0].float().cpu().numpy())
    return output.detach().float(), np.stack(pixels).astype(np.float32)
