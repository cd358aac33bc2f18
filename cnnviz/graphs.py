"""Private module graphs: a structural copy of a shared model whose parameters and buffers are the same
tensors, so a session can attach hooks or swap activation functions without touching other sessions.

Copying the module tree costs milliseconds and no tensor memory; the copy is thrown away after use.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from cnnviz.errors import CnnvizError


def private_graph(model: nn.Module) -> nn.Module:
    """A copy of ``model``'s modules that shares every parameter and buffer tensor with ``model``."""
    memo = {id(tensor): tensor for tensor in model.parameters()}
    memo.update({id(tensor): tensor for tensor in model.buffers()})
    return copy.deepcopy(model, memo)


class _ReachedLayer(Exception):
    """Raised by a forward hook to stop a forward pass once the wanted layer has run."""


def layer_module(model: nn.Module, layer: str, arch: str = "The model") -> nn.Module:
    """``model``'s submodule called ``layer``; a clear message when there is none."""
    try:
        return model.get_submodule(layer)
    except AttributeError:
        raise CnnvizError(f"{arch} has no layer {layer!r}.") from None


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
        raise CnnvizError(f"Layer {layer!r} of {arch} does not run in the forward pass.")
    return captured[0]
