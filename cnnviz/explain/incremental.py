"""Exact incremental inference for occlusion (Nakandala, Kumar & Papakonstantinou, SIGMOD 2019, "Krypton").

Every layer's output for the clean image is kept once. For a batch of occluded copies, each layer of the
model's torch.fx graph recomputes only the rectangle of its output that the grey square can change,
reading the unchanged context around it from the clean activations (:mod:`cnnviz.explain.regions`):

- convolutions (any kernel, stride, padding, dilation, groups; timm's TensorFlow-"same" ones) and max /
  average pooling grow the rectangle by their kernel and shrink it by their stride;
- per-pixel layers (activations, batch norm in eval mode, LRN, dropout in eval mode, arithmetic with a
  constant) pass it through;
- residual additions, products and channel concatenations take the bounding box of their inputs';
- everything else — global pooling, squeeze-and-excitation gates, flatten, fully connected layers — gets
  the full maps (the rectangle pasted into a copy of the clean map), and the rest of the graph runs in
  full from there. So do layers whose rectangle covers more than ``switch`` of their output.

Written by hand because neither PyTorch nor captum has incremental inference; the graph comes from
torch.fx, so every architecture is handled by the same rules and none by a copy of its own.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.fx
import torch.nn.functional as F
import torchvision.ops
from timm.layers import BatchNormAct2d, Conv2dSame
from torch import nn

from cnnviz.explain.regions import Patch, Sliding, pair, same_padding, union
from cnnviz.explain.tracing import module_outputs, trace

# Above this share of a layer's output area a rectangle is computed as the full map: gathering windows
# then costs more than it saves (measured with ``python -m bench.occlusion --switch``; see docs/benchmarks.md).
SWITCH_SHARE = 0.7

POINTWISE_MODULES = (
    nn.ReLU,
    nn.ReLU6,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.Mish,
    nn.Identity,
    nn.Dropout,
    nn.Dropout2d,
    nn.LocalResponseNorm,  # across channels, which a rectangle holds all of
)
POINTWISE_FUNCTIONS = {
    F.relu,
    torch.relu,
    F.relu6,
    F.silu,
    F.hardswish,
    F.gelu,
    torch.sigmoid,
    torch.tanh,
    F.dropout,
    torchvision.ops.stochastic_depth,
}
ARITHMETIC = {operator.add, operator.mul, operator.sub, operator.truediv, torch.add, torch.mul}
MERGING = {operator.add, operator.mul, operator.sub, torch.add, torch.mul}  # two changed maps: their union
ARITHMETIC_METHODS = {"add", "mul", "sub", "div", "relu", "sigmoid", "contiguous"}


class Dense:
    """A value with one entry per occluded image (N first), computed in full."""

    def __init__(self, value) -> None:
        self.value = value


@dataclass(frozen=True)
class SlidingLayer:
    """A convolution or pooling: how it reads each axis, the padding value, and the layer without its
    padding (applied to windows that already hold it)."""

    rows: Sliding
    cols: Sliding
    pad_value: float
    run: Callable[[torch.Tensor], torch.Tensor]


def _max_pool_args(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return locals()


def _avg_pool_args(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
):
    return locals()


def _sliding(kernel, stride, dilation, padding) -> tuple[Sliding, Sliding]:
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = pair(kernel), pair(stride), pair(dilation), pair(padding)
    return Sliding(kh, sh, dh, ph), Sliding(kw, sw, dw, pw)


def _conv_layer(conv: nn.Conv2d, size: tuple[int, int]) -> SlidingLayer | None:
    if conv.padding_mode != "zeros":
        return None
    kernel, stride, dilation = conv.kernel_size, conv.stride, conv.dilation
    if isinstance(conv, Conv2dSame):
        padding = tuple(same_padding(size[i], kernel[i], stride[i], dilation[i]) for i in range(2))
    elif conv.padding == "same":
        padding = tuple((dilation[i] * (kernel[i] - 1)) // 2 for i in range(2))
    elif conv.padding == "valid":
        padding = (0, 0)
    else:
        padding = conv.padding
    rows, cols = _sliding(kernel, stride, dilation, padding)
    return SlidingLayer(
        rows, cols, 0.0, lambda x: F.conv2d(x, conv.weight, conv.bias, stride, 0, dilation, conv.groups)
    )


def _max_pool_layer(args: dict) -> SlidingLayer | None:
    if args["return_indices"]:
        return None
    kernel, dilation = args["kernel_size"], args["dilation"]
    stride = args["stride"] or kernel  # ceil mode: the last window may pass the end, which -inf padding matches
    rows, cols = _sliding(kernel, stride, dilation, args["padding"])
    return SlidingLayer(rows, cols, -torch.inf, lambda x: F.max_pool2d(x, kernel, stride, 0, dilation))


def _avg_pool_layer(args: dict, size: tuple[int, int]) -> SlidingLayer | None:
    kernel, stride, padding = (
        pair(args["kernel_size"]),
        pair(args["stride"] or args["kernel_size"]),
        pair(args["padding"]),
    )
    uneven = any((size[i] + 2 * padding[i] - kernel[i]) % stride[i] for i in range(2))
    if args["divisor_override"] or (args["ceil_mode"] and uneven) or (any(padding) and not args["count_include_pad"]):
        return None  # border windows divide by fewer pixels than the kernel's: computed in full
    rows, cols = _sliding(kernel, stride, 1, padding)
    return SlidingLayer(rows, cols, 0.0, lambda x: F.avg_pool2d(x, kernel, stride, 0))


def _module_args(module: nn.Module, signature: Callable) -> dict:
    """A pooling module's settings as the arguments of its functional form."""
    return {name: getattr(module, name) for name in inspect.signature(signature).parameters if name != "input"}


class IncrementalGraph:
    """A model ready for incremental occlusion of one clean input (batch of one, on the model's device)."""

    def __init__(self, model: nn.Module, clean_input: torch.Tensor, switch: float | None = None) -> None:
        self.graph = trace(model)
        self.fixed_shapes = clean_input.device.type == "cuda"  # see Sliding.changed_outputs
        self.switch = SWITCH_SHARE if switch is None else switch
        self.modules = dict(self.graph.named_modules())
        self.clean: dict[torch.fx.Node, object] = {}
        self._padded: dict[tuple, torch.Tensor] = {}
        self.layer_nodes = module_outputs(self.graph)
        self.computed_share: dict[str, float] = {}  # per node: output share recomputed in the last batch
        self.first_full: str | None = None  # the first node the last batch computed in full
        env = self.clean
        for node in self.graph.graph.nodes:
            if node.op == "placeholder":
                env[node] = clean_input
            elif node.op == "output":
                self.clean_output = torch.fx.node.map_arg(node.args[0], lambda n: env[n])
            else:
                env[node] = self._call(node, *torch.fx.node.map_arg((node.args, node.kwargs), lambda n: env[n]))

    def _call(self, node: torch.fx.Node, args, kwargs):
        if node.op == "get_attr":
            return operator.attrgetter(node.target)(self.graph)
        if node.op == "call_module":
            return self.modules[node.target](*args, **kwargs)
        if node.op == "call_function":
            return node.target(*args, **kwargs)
        return getattr(args[0], node.target)(*args[1:], **kwargs)

    def run(
        self,
        values: torch.Tensor,
        top: torch.Tensor,
        left: torch.Tensor,
        keep: str | None = None,
        every_node: dict | None = None,
    ) -> tuple[torch.Tensor, object]:
        """The output for N occluded copies of the clean input that differ from it in rectangles
        ``values`` (N×C×h×w) at rows ``top`` and columns ``left`` (int64, CPU); and the full output of
        module ``keep`` (a Patch or a Dense) when one is named. ``every_node``, when given, receives each
        node's name → its full value (to check every layer against the full computation)."""
        env: dict[torch.fx.Node, object] = {}
        kept_node = self.layer_nodes[keep] if keep is not None else None
        kept = None
        self.computed_share = {}
        self.first_full = None
        for node in self.graph.graph.nodes:
            if node.op == "placeholder":
                env[node] = Patch(self.clean[node], values, top, left)
            elif node.op == "output":
                output = torch.fx.node.map_arg(node.args[0], lambda n: env[n])
                return _full(output), kept
            else:
                args, kwargs = torch.fx.node.map_arg((node.args, node.kwargs), lambda n: env[n])
                env[node] = self._step(node, args, kwargs)
                if every_node is not None:
                    every_node[node.name] = _full(env[node])
                if node is kept_node:
                    kept = env[node]
        raise AssertionError("graph without output")

    def _step(self, node: torch.fx.Node, args, kwargs):
        changing = [a for a in _flat(args, kwargs) if isinstance(a, (Patch, Dense))]
        if not changing:
            return self.clean[node]  # depends on nothing the square touches
        if all(isinstance(a, Patch) for a in changing):
            result = self._incremental(node, args, kwargs, changing)
            if result is not None:
                return result
            self.first_full = self.first_full or node.name
        return Dense(self._call(node, _dense(args), _dense(kwargs)))

    def _incremental(self, node, args, kwargs, patches: list[Patch]) -> Patch | None:
        """The node's output as a Patch, or None when it has to be computed in full."""
        target = self.modules[node.target] if node.op == "call_module" else node.target
        if len(patches) == 1 and args and args[0] is patches[0]:
            patch = patches[0]
            layer = self._sliding_layer(node, target, args, kwargs, patch)
            if layer is not None:
                return self._slide(node, layer, patch)
            if self._pointwise(node, target, args, kwargs):
                rest = _flat(args[1:], kwargs)
                if all(_constant_per_pixel(a) for a in rest):
                    return Patch(
                        self.clean[node], self._call(node, (patch.values, *args[1:]), kwargs), patch.top, patch.left
                    )
        if (
            node.op == "call_function"
            and target in MERGING
            and len(args) == 2
            and not kwargs
            and all(isinstance(a, Patch) for a in args)
        ):
            return self._merge(node, list(args), lambda a, b: target(a, b))
        if node.op == "call_function" and target is torch.cat:
            tensors, dim = args[0], args[1] if len(args) > 1 else kwargs.get("dim", 0)
            if dim in (1, -3) and isinstance(tensors, (list, tuple)) and all(isinstance(a, Patch) for a in tensors):
                return self._merge(node, list(tensors), lambda *parts: torch.cat(parts, 1))
        return None

    def _pointwise(self, node, target, args, kwargs) -> bool:
        if node.op == "call_module":
            if isinstance(target, BatchNormAct2d):
                return _eval_norm(target) and isinstance(target.act, POINTWISE_MODULES) and not target.drop.training
            if isinstance(target, nn.BatchNorm2d):
                return _eval_norm(target)
            return isinstance(target, POINTWISE_MODULES) and not target.training
        if node.op == "call_function":
            if target in (F.dropout, torchvision.ops.stochastic_depth):
                bound = inspect.signature(target).bind(*args, **kwargs)
                bound.apply_defaults()
                return bound.arguments["training"] is False
            return target in POINTWISE_FUNCTIONS or target in ARITHMETIC
        return node.target in ARITHMETIC_METHODS

    def _sliding_layer(self, node, target, args, kwargs, patch: Patch) -> SlidingLayer | None:
        size = tuple(patch.clean.shape[-2:])
        if node.op == "call_module" and not kwargs and len(args) == 1:
            if isinstance(target, nn.Conv2d):
                return _conv_layer(target, size)
            if isinstance(target, nn.MaxPool2d):
                return _max_pool_layer(_module_args(target, _max_pool_args))
            if isinstance(target, nn.AvgPool2d):
                return _avg_pool_layer(_module_args(target, _avg_pool_args), size)
        if node.op == "call_function" and target is F.max_pool2d:
            return _max_pool_layer(_max_pool_args(*args, **kwargs))
        if node.op == "call_function" and target in (F.avg_pool2d, torch._C._nn.avg_pool2d):
            return _avg_pool_layer(_avg_pool_args(*args, **kwargs), size)
        return None

    def _slide(self, node, layer: SlidingLayer, patch: Patch) -> Patch | None:
        out = self.clean[node]
        height, width = patch.clean.shape[-2:]
        out_h, out_w = out.shape[-2:]
        top, rows = layer.rows.changed_outputs(patch.top, patch.size[0], out_h, self.fixed_shapes)
        left, cols = layer.cols.changed_outputs(patch.left, patch.size[1], out_w, self.fixed_shapes)
        share = rows * cols / (out_h * out_w)
        self.computed_share[node.name] = share
        if share > self.switch:
            return None
        before = (layer.rows.before, layer.cols.before)
        after = (layer.rows.padding_after(height, out_h), layer.cols.padding_after(width, out_w))
        key = (node.name, before, after, layer.pad_value)
        padded_clean = self._padded.get(key)
        if padded_clean is None:
            padded_clean = F.pad(patch.clean, (before[1], after[1], before[0], after[0]), value=layer.pad_value)
            self._padded[key] = padded_clean
        padded = Patch(padded_clean, patch.values, patch.top + before[0], patch.left + before[1])
        row_start, row_count = layer.rows.input_span(top, rows)
        col_start, col_count = layer.cols.input_span(left, cols)
        windows = padded.window(row_start, col_start, (row_count, col_count))
        return Patch(out, layer.run(windows), top, left)

    def _merge(self, node, patches: list[Patch], combine) -> Patch | None:
        top, left, size = union(patches)
        out = self.clean[node]
        share = size[0] * size[1] / (out.shape[-2] * out.shape[-1])
        self.computed_share[node.name] = share
        if share > self.switch:
            return None
        return Patch(out, combine(*[p.window(top, left, size) for p in patches]), top, left)


def _eval_norm(norm: nn.BatchNorm2d) -> bool:
    return not norm.training and norm.running_mean is not None


def _constant_per_pixel(value) -> bool:
    """A number, or a tensor the same at every pixel (no height or width beyond 1)."""
    if isinstance(value, torch.Tensor):
        return value.numel() == 1 or (value.dim() == 4 and value.shape[0] == value.shape[2] == value.shape[3] == 1)
    return not isinstance(value, (Patch, Dense, list, tuple, dict))


def _flat(args, kwargs) -> list:
    items: list = []
    torch.fx.node.map_aggregate((args, kwargs), lambda a: items.append(a) or a)
    return items


def _full(value):
    if isinstance(value, Patch):
        return value.dense()
    if isinstance(value, Dense):
        return value.value
    return value


def _dense(value):
    return torch.fx.node.map_aggregate(value, _full)
