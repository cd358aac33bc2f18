"""A model as a torch.fx graph for incremental inference: every operation one node, in execution order.

Modules whose forward fx cannot trace (timm's ``Conv2dSame`` pads by the input's size at run time) or
that are one operation for occlusion's purposes (timm's ``BatchNormAct2d``: batch norm then activation,
per pixel) stay whole, as single ``call_module`` nodes. The traced copy shares every parameter with the
model; in-place flags are turned off in the copy (an in-place ReLU would overwrite the clean activation
that incremental inference reads its context from).
"""

from __future__ import annotations

import operator
import threading

import torch.fx
from timm.layers import BatchNormAct2d, Conv2dSame
from torch import nn

from cnnviz.explain.graphs import private_graph

WHOLE_MODULES = (Conv2dSame, BatchNormAct2d)
_TRACING = threading.Lock()  # one trace at a time: two overlapping ones would undo each other's patches


class ThreadSafeTracer(torch.fx.Tracer):
    """fx's tracer, made safe to use while other threads run models: tracing patches ``nn.Module.__call__``
    and ``__getattr__`` for the whole process, so module calls and attribute reads from any other thread
    (another session's prediction, on the same shared parameters) go straight through. Trace with
    :func:`traced`, which also keeps two traces from overlapping."""

    def __init__(self) -> None:
        super().__init__()
        self._thread = threading.get_ident()

    def call_module(self, module, forward, args, kwargs):
        if threading.get_ident() != self._thread:
            return forward(*args, **kwargs)
        return super().call_module(module, forward, args, kwargs)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if threading.get_ident() != self._thread:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)


def traced(tracer: ThreadSafeTracer, module: nn.Module) -> torch.fx.Graph:
    """``module``'s graph by ``tracer``, one trace at a time in the process (two overlapping ones would undo
    each other's patches)."""
    with _TRACING:
        return tracer.trace(module)


class _Tracer(ThreadSafeTracer):
    """Keeps :data:`WHOLE_MODULES` as single nodes."""

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        return isinstance(module, WHOLE_MODULES) or super().is_leaf_module(module, qualified_name)


def trace(model: nn.Module) -> torch.fx.GraphModule:
    """``model`` (in eval mode) as a graph module of a private copy, without in-place operations."""
    copy = private_graph(model)
    for module in copy.modules():
        if getattr(module, "inplace", False):
            module.inplace = False
    graph = traced(_Tracer(), copy)
    for node in graph.nodes:
        if node.op == "call_function" and node.target is operator.iadd:
            node.target = operator.add
        if "inplace" in node.kwargs:
            node.kwargs = {**node.kwargs, "inplace": False}
    return torch.fx.GraphModule(copy, graph)


def module_outputs(graph: torch.fx.GraphModule) -> dict[str, torch.fx.Node]:
    """For every module name, the node that gives its output: its ``call_module`` node if it stayed whole,
    else the last node traced inside it."""
    outputs: dict[str, torch.fx.Node] = {}
    for node in graph.graph.nodes:
        if node.op == "call_module":
            outputs[node.target] = node
        for name in node.meta.get("nn_module_stack", {}):
            outputs[name] = node
    return outputs
