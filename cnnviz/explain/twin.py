"""A classifier's fully convolutional twin, built from the same weights (Long, Shelhamer & Darrell 2015).

The lectures' recipe (deck 003, "Fully Convolutional Networks"): a dense layer that reads a C×k×k map is a
convolution with C×k×k filters and valid padding; the dense layers after it are 1×1 convolutions. Run on a
larger photo, the twin slides the whole classifier over it in one pass and gives one prediction per
window of the network's own input size, ``stride`` pixels apart (the network's total stride).

- AlexNet, ZFNet, VGG (FC6 reads the last k×k map): FC6 → a k×k convolution, FC7 / FC8 → 1×1; the
  adaptive pooling before the classifier (an identity at the network's own size) is removed.
- Networks that end in global average pooling (GoogLeNet, ResNet, DenseNet, MobileNet, EfficientNet …):
  the linear classifier is applied as a 1×1 convolution *before* the pooling, which gives the class
  activation map of Zhou et al. 2016 (:attr:`ConvolutionalTwin.class_activation`); an average over each
  k×k window of it (k: the last map's side at the network's own size) then equals the network's logits on
  that window, because averaging and a linear layer commute.
- LeNet-5 already ends in a convolution that reads its whole 5×5 map (C5); F6 and the output become 1×1.

The twin is found on the model's torch.fx graph (:func:`cnnviz.explain.tracing.trace`), not per
architecture: the head starts after the last node with spatial (or a transformer's token) axes, and must be
a chain of pooling, flatten, dropout, linear layers and activations. torchvision and timm have no such
conversion, hence this module. The twin's convolutions are views of the linear layers' weight tensors, so
it costs no weight memory.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from cnnviz.errors import CnnvizError
from cnnviz.explain.tracing import trace
from cnnviz.models.loading import LoadedModel

GROW = 64  # px added to the input to measure the total stride (a multiple of every usual stride: 4 … 32)
_FLATTENS = {torch.flatten, "flatten", "view", "reshape"}
_POOLS = (nn.AdaptiveAvgPool2d,)
_POOL_FUNCTIONS = {F.adaptive_avg_pool2d, torch.mean, "mean"}
_DROPOUTS = (nn.Dropout, nn.Identity)  # layers that pass values through at inference
_DROPOUT_FUNCTIONS = {F.dropout}
_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.SiLU, nn.Hardswish, nn.GELU, nn.Tanh, nn.Sigmoid)
_ACTIVATION_FUNCTIONS = {F.relu: nn.ReLU, torch.relu: nn.ReLU}


@dataclass(frozen=True)
class TwinLayer:
    """One layer of the twin's head: its name in the original network, what it was, what it became."""

    name: str
    original: str
    twin: str


class ConvolutionalTwin(nn.Module):
    """``body`` (the network up to its last spatial map), ``head`` (the classifier as convolutions) and,
    for global-average-pooling networks, ``window_mean`` (a k×k average with stride 1).

    ``forward(x)`` maps an N×C×H×W input to N×K×R×C' logits, one column of K logits per window of
    ``window`` px placed every ``stride`` px; at the network's own input size R = C' = 1 and the column
    is the network's logits.
    """

    def __init__(
        self, body: nn.Module, head: nn.Sequential, window_mean: nn.Module | None, window: int, stride: int, layers
    ) -> None:
        super().__init__()
        self.body = body
        self.head = head
        self.window_mean = window_mean
        self.window = window
        self.stride = stride
        self.layers: tuple[TwinLayer, ...] = tuple(layers)

    @property
    def global_pooling(self) -> bool:
        """True for networks whose classifier follows global average pooling (they have a CAM)."""
        return self.window_mean is not None

    def class_activation(self, x: torch.Tensor) -> torch.Tensor:
        """The head applied at every position of the last map: N×K×h×w logits (for global-pooling networks
        the class activation maps of Zhou et al. 2016, bias included)."""
        return self.head(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.class_activation(x)
        return scores if self.window_mean is None else self.window_mean(scores)


_TWINS: weakref.WeakKeyDictionary[nn.Module, ConvolutionalTwin] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def convolutional_twin(net: LoadedModel) -> ConvolutionalTwin:
    """The twin of ``net``'s model, built once per model and shared (it holds no per-session state)."""
    with _LOCK:
        twin = _TWINS.get(net.model)
    if twin is None:
        twin = _build(net)
        with _LOCK:
            _TWINS.setdefault(net.model, twin)
            twin = _TWINS[net.model]
    return twin


def _build(net: LoadedModel) -> ConvolutionalTwin:
    arch = net.spec.display
    side = net.preprocess.input_size
    sample = net.to_input(torch.zeros(1, net.preprocess.channels, side, side))
    try:
        graph = trace(net.model)
        with torch.no_grad():
            ShapeProp(graph).propagate(sample)
    except Exception as exc:  # fx cannot trace data-dependent control flow: the network has no twin
        raise CnnvizError("no_twin_trace", arch=arch, reason=type(exc).__name__) from None
    nodes = [node for node in graph.graph.nodes if node.op != "output"]
    wide = [n for n in nodes if n.op not in ("placeholder", "get_attr") and len(_shape(n)) >= 3]
    if not wide or len(_shape(nodes[-1])) != 2:
        raise CnnvizError("no_twin", arch=arch)
    last_map = wide[-1]  # the head starts after the last node with spatial (or token) axes
    if _normalised_after_global_pool(graph, last_map):
        raise CnnvizError("no_twin_nonlinear", arch=arch)
    last_map = _global_pool_before(graph, last_map)
    while _is_pool(graph, last_map) or _is_dropout(graph, last_map):
        last_map = last_map.args[0]
    if len(_shape(last_map)) != 4:  # a transformer's tokens (N × tokens × C), not a map
        raise CnnvizError("no_twin_tokens", arch=arch)
    _, channels, height, width = _shape(last_map)
    head_nodes = nodes[nodes.index(last_map) + 1 :]
    channels_last = _reads_channels_last(graph, head_nodes, _shape(last_map))
    if channels_last:  # timm's Swin and Sequencer keep N × H × W × C maps: the head then reads C
        height, width, channels = channels, height, width
    global_pooling = any(_is_pool(graph, n) and _shape(n)[-2:] != (height, width) for n in head_nodes)
    layers, modules = _convert_head(graph, head_nodes, channels, 1 if global_pooling else height, net)
    if channels_last:
        modules.insert(0, _ChannelsFirst())
    if global_pooling and any(isinstance(m, _ACTIVATIONS) for m in modules):
        raise CnnvizError("no_twin_nonlinear", arch=arch)
    window_mean = nn.AvgPool2d((height, width), stride=1) if global_pooling else None
    body = _truncated(graph, last_map)
    stride = _measured_stride(body, net, height)
    return ConvolutionalTwin(body, nn.Sequential(*modules), window_mean, side, stride, layers)


class _ChannelsFirst(nn.Module):
    """N × H × W × C → N × C × H × W, so the head's convolutions read a channels-last body's map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2)


def _reads_channels_last(graph: torch.fx.GraphModule, head_nodes: list, shape: tuple[int, ...]) -> bool:
    """True when the head's first linear layer reads the map's last axis, not its second: the map is
    stored N × H × W × C."""
    for node in head_nodes:
        module = graph.get_submodule(node.target) if node.op == "call_module" else None
        if isinstance(module, nn.Linear):
            return module.in_features == shape[3] != shape[1]
    return False


def _global_pool_before(graph: torch.fx.GraphModule, node: torch.fx.Node) -> torch.fx.Node:
    """The global pooling that 1×1 layers after it lead to (DLA's and HGNet's classifiers are 1×1
    convolutions on the pooled map), so the head starts there; else ``node``."""
    start = node
    while (
        _shape(node)[-2:] == (1, 1)
        and len(_shape(node)) == 4
        and not _is_pool(graph, node)
        and isinstance(next(iter(node.args), None), torch.fx.Node)
    ):
        node = node.args[0]
    if node is not start and _is_pool(graph, node) and _shape(node.args[0])[-2:] != (1, 1):
        return node
    return start


def _normalised_after_global_pool(graph: torch.fx.GraphModule, node: torch.fx.Node) -> bool:
    """True when ``node`` is computed from a global pooling by layers that keep its values per image and
    are not dropouts (ConvNeXt's head: pool, then a layer norm): the pooling would sit inside the twin's
    body and leave one window at any size."""
    values = math.prod(_shape(node)[1:])
    changed = False
    while (
        not _is_pool(graph, node)
        and isinstance(next(iter(node.args), None), torch.fx.Node)
        and math.prod(_shape(node.args[0])[1:]) == values
    ):
        changed = changed or not _is_dropout(graph, node)
        node = node.args[0]
    return changed and _is_pool(graph, node) and math.prod(_shape(node.args[0])[1:]) != values


def _shape(node: torch.fx.Node) -> tuple[int, ...]:
    meta = node.meta.get("tensor_meta")
    return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else ()


def _is_pool(graph: torch.fx.GraphModule, node: torch.fx.Node) -> bool:
    if node.op == "call_module":
        return isinstance(graph.get_submodule(node.target), _POOLS)
    return node.target in _POOL_FUNCTIONS


def _is_dropout(graph: torch.fx.GraphModule, node: torch.fx.Node) -> bool:
    if node.op == "call_module":
        return isinstance(graph.get_submodule(node.target), _DROPOUTS)
    return node.target in _DROPOUT_FUNCTIONS


def _convert_head(graph, head_nodes, channels: int, side: int, net: LoadedModel):
    """The head's layers as convolutions: (records for the page, modules in order)."""
    layers: list[TwinLayer] = []
    modules: list[nn.Module] = []
    previous = None
    for node in head_nodes:
        module = graph.get_submodule(node.target) if node.op == "call_module" else None
        if previous is not None and (not node.args or node.args[0] is not previous):
            raise CnnvizError("no_twin_branch", arch=net.spec.display, node=_label(node, module))
        previous = node
        if (
            _is_pool(graph, node)
            or _is_dropout(graph, node)
            or node.target in _FLATTENS
            or isinstance(module, nn.Flatten)
        ):
            continue
        if isinstance(module, nn.Linear):
            conv = _linear_as_conv(module, channels, side)
            layers.append(TwinLayer(node.target, _describe(module), _describe(conv)))
            modules.append(conv)
            channels, side = module.out_features, 1
        elif isinstance(module, (nn.Conv2d, *_ACTIVATIONS)):
            modules.append(module)
            channels = module.out_channels if isinstance(module, nn.Conv2d) else channels
        elif node.target in _ACTIVATION_FUNCTIONS:
            modules.append(_ACTIVATION_FUNCTIONS[node.target]())
        else:
            raise CnnvizError("no_twin_layer", arch=net.spec.display, node=_label(node, module))
    return layers, modules


def _label(node: torch.fx.Node, module: nn.Module | None) -> str:
    """How a student finds the node in the layer table: the module's name and type, else the operation."""
    return f"{node.target} ({type(module).__name__})" if module is not None else node.name


def _linear_as_conv(linear: nn.Linear, channels: int, side: int) -> nn.Conv2d:
    """``linear`` (reading a flattened C×side×side map) as a side×side convolution sharing its weights."""
    if linear.in_features != channels * side * side:
        raise ValueError(f"{linear} does not read a {channels}×{side}×{side} map")
    with torch.device("meta"):
        conv = nn.Conv2d(channels, linear.out_features, side, bias=linear.bias is not None)
    conv.weight = nn.Parameter(linear.weight.view(linear.out_features, channels, side, side), requires_grad=False)
    if linear.bias is not None:
        conv.bias = nn.Parameter(linear.bias, requires_grad=False)
    return conv


def _describe(module: nn.Module) -> str:
    if isinstance(module, nn.Linear):
        return f"Linear({module.in_features:,} → {module.out_features:,})"
    k = module.kernel_size
    return f"Conv2d({module.in_channels:,} → {module.out_channels:,}, {k[0]}×{k[1]})"


def _truncated(graph: torch.fx.GraphModule, last: torch.fx.Node) -> torch.fx.GraphModule:
    """The part of ``graph`` that computes ``last``, as its own graph module (same submodules)."""
    body = torch.fx.Graph()
    copies: dict[torch.fx.Node, torch.fx.Node] = {}
    for node in graph.graph.nodes:
        copies[node] = body.node_copy(node, lambda n: copies[n])
        if node is last:
            break
    body.output(copies[last])
    module = torch.fx.GraphModule(graph, body)
    module.graph.eliminate_dead_code()
    module.recompile()
    return module


def _measured_stride(body: torch.fx.GraphModule, net: LoadedModel, height: int) -> int:
    """The network's total stride in input px, measured: its last map grows by ``GROW / stride`` rows when
    the input grows by :data:`GROW` px (32 for VGG: 7 → 9 rows from 224 to 288 px). The layer table's
    receptive-field jumps cannot see every downsampling (Swin and FastViT merge patches by reshaping), and
    a network that runs only at its own size (attention over a fixed grid: BoTNet, GC ViT) has no twin."""
    side = net.preprocess.input_size
    larger = net.to_input(torch.zeros(1, net.preprocess.channels, side + GROW, side + GROW))
    try:
        with torch.inference_mode():
            grown = body(larger).shape[-2]
    except Exception:  # an assertion or a reshape that needs the network's own size
        raise CnnvizError("no_twin_size", arch=net.spec.display, size=side) from None
    if grown <= height:
        raise CnnvizError("no_twin_size", arch=net.spec.display, size=side)
    return round(GROW / (grown - height))
