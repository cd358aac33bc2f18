"""Private module graphs: a structural copy of a shared model whose parameters and buffers are the same
tensors, so a session can attach hooks or swap submodules without touching other sessions.

The copy is shallow module by module (each module gets its own attribute, child, parameter, buffer and
hook dictionaries; tensors are shared), written by hand because ``copy.deepcopy`` with a tensor memo
walks every attribute of every module: for EfficientNet-Lite0 that took 90 ms on an H100 server's CPU and
12 ms on the 2-core development machine, where this copy takes 3 ms. It costs no tensor memory and is
thrown away after use.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import torch
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.models.loading import LoadedModel

# The per-module dictionaries a hook, a child swap or a parameter swap writes to.
_OWN_DICTS = tuple(name for name, value in vars(nn.Module()).items() if isinstance(value, dict) and name != "_modules")


def private_graph(model: nn.Module) -> nn.Module:
    """A copy of ``model``'s modules that shares every parameter and buffer tensor with ``model``."""
    return _copy_module(model, {})


def _copy_module(module: nn.Module, copies: dict[int, nn.Module]) -> nn.Module:
    if id(module) in copies:  # a module used twice stays one module
        return copies[id(module)]
    clone = copy.copy(module)
    copies[id(module)] = clone
    for name in _OWN_DICTS:
        if name in module.__dict__:
            clone.__dict__[name] = type(module.__dict__[name])(module.__dict__[name])
    clone.__dict__["_modules"] = OrderedDict(
        (name, None if child is None else _copy_module(child, copies)) for name, child in module._modules.items()
    )
    return clone


class _ReachedLayer(Exception):
    """Raised by a forward hook to stop a forward pass once the wanted layer has run."""


def layer_module(model: nn.Module, layer: str, arch: str = "The model") -> nn.Module:
    """``model``'s submodule called ``layer``; a clear message when there is none."""
    try:
        return model.get_submodule(layer)
    except AttributeError:
        raise CnnvizError("no_layer", arch=arch, layer=layer) from None


def run_to_layer(graph: nn.Module, x: torch.Tensor, layer: str, arch: str = "The model") -> torch.Tensor:
    """The output of ``graph``'s module ``layer`` (its first call) for input ``x``; the forward pass stops
    there. Hooks go on ``graph``, so pass a :func:`private_graph` when the model is shared."""
    captured: list[torch.Tensor] = []

    def hook(module, inputs, output):
        captured.append(output[0] if isinstance(output, (tuple, list)) else output)
        raise _ReachedLayer

    handle = layer_module(graph, layer, arch).register_forward_hook(hook)
    try:
        graph(x)
    except _ReachedLayer:
        pass
    finally:
        handle.remove()
    if not captured:
        raise CnnvizError("layer_not_run", layer=layer, arch=arch)
    return captured[0]


def layer_output(net: LoadedModel, x: torch.Tensor, layer: str) -> torch.Tensor:
    """``layer``'s output (1×C×H×W, float32) for the preprocessed input ``x``, checked to be a spatial map."""
    layer_module(net.model, layer, net.spec.display)
    with torch.inference_mode():
        output = run_to_layer(private_graph(net.model), x, layer, net.spec.display)
    if output.dim() != 4:
        raise CnnvizError("no_spatial_output", layer=layer, shape=str(tuple(output.shape)))
    return output.float()


def check_channel(net: LoadedModel, layer: str, channel: int) -> int:
    """The number of channels of ``layer``'s spatial map (found from a blank input, so before any image is
    read), after checking that ``layer`` exists and has ``channel``."""
    side = net.preprocess.input_size
    blank = torch.zeros(1, net.spec.in_channels, side, side)
    channels = layer_output(net, net.to_input(blank), layer).shape[1]
    if not 0 <= channel < channels:
        raise CnnvizError("channel_range", last=channels - 1, channel=channel)
    return channels


def channels_by_peak(maps: torch.Tensor, count: int | None = None) -> list[int]:
    """Channels of a (1×)C×H×W map ordered by their single strongest unit (ZF's choice; ties: lower index
    first); the ``count`` first, or all."""
    peaks = maps.reshape(maps.shape[-3], -1).amax(dim=1)
    return [int(c) for c in peaks.argsort(descending=True, stable=True)[:count]]


def channels_by_total(maps: torch.Tensor, count: int | None = None) -> list[int]:
    """Channels of a (1×)C×H×W map ordered by their total activation (the sum over units, so also by their
    mean; ties: lower index first); the ``count`` first, or all."""
    totals = maps.reshape(maps.shape[-3], -1).double().sum(dim=1)
    return [int(c) for c in totals.argsort(descending=True, stable=True)[:count]]
