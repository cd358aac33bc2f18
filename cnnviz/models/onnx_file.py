"""An ONNX file as a network: ``onnx:PATH`` opens wherever a zoo name does (``cnnviz.load``, ``--arch``, the
sidebar's "My network" upload).

The file is converted by ``onnx2torch`` into a ``torch.fx`` graph of ordinary modules (``nn.Conv2d``,
``nn.ReLU``, ``nn.MaxPool2d`` …), so the views that read a network's modules or trace its graph (layer
tables, deconvnet, class maps, incremental occlusion, the twin) work on it as on a zoo network. The
exporter side is the user's (``torch.onnx.export``, tf2onnx …); ``onnx2torch`` is the converter the field
uses for the other direction, and the only one that yields an fx graph rather than a runtime session.

A model file is a program with data, so it is measured before anything of it runs:

1. its size in bytes, against the caller's budget;
2. it is parsed (protobuf) without following external-data references: a tensor stored in another file
   (``data_location = EXTERNAL``, anywhere in the graph or its subgraphs) refuses the file, so no path a
   model names is ever opened;
3. one image input (N×C×H×W, 1 or 3 channels) and a classifier output (N×classes);
4. every operator must have an ``onnx2torch`` converter (the refusal lists those that have none);
5. ONNX's own shape inference, with the input fixed to 1×C×S×S, must know the shape of every tensor: each
   intermediate tensor and all of them together fit :data:`ACTIVATION_BYTES`, and the convolutions' and
   matrix products' multiply-adds fit :data:`MAX_MULTIPLY_ADDS`. This is the meta-device check of a graph:
   shapes only, before any tensor is allocated; a tensor whose size depends on data (``NonZero``, a
   ``Range`` of computed bounds) has no known shape and refuses the file;
6. the converted graph's first forward pass runs node by node under a clock (:data:`FORWARD_SECONDS`).

Two rewrites make common exports convertible, and change no number: ``torch.onnx.export`` deduplicates
equal initializers (an untrained network's zero biases) behind ``Identity`` nodes, and some exporters
store weights as ``Constant`` nodes; ``onnx2torch`` reads a convolution's weights from initializers only,
so both become initializers. (``onnxoptimizer`` has such passes, but it is a compiled dependency for a few
lines.)
"""

from __future__ import annotations

import copy
import hashlib
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import fx, nn

from cnnviz.errors import WeightsError
from cnnviz.models.preprocess import IMAGENET_MEAN, IMAGENET_STD, Preprocessing
from cnnviz.models.zoo import IMAGENET, ONNX_PREFIX, ArchSpec

PREFIX = ONNX_PREFIX
FAMILY = "onnx"
SUFFIX = ".onnx"
ONNX_BYTES = 1 * 2**30  # bytes: the largest file opened (VGG-19 in float32 is 548 MB; protobuf stops at 2 GiB)
ACTIVATION_BYTES = 2 * 2**30  # bytes: every tensor of one forward pass at batch 1 (VGG-16's: about 0.1 GB)
MAX_MULTIPLY_ADDS = 100 * 10**9  # per image; VGG-19 at 224 px needs 19.6 billion
FORWARD_SECONDS = 20.0  # s: the first forward pass at batch 1 (VGG-16 takes about 0.3 s on 2 CPU cores)
DEFAULT_SIZE = 224  # px: the input side when the file does not fix it
RESIZE_RATIO = 256 / 224  # resize before the centre crop, as ImageNet evaluation does
SIZE_RANGE = (32, 1024)  # px: input sides accepted from a user
CHANNELS = (1, 3)
INTERPOLATIONS = ("bilinear", "bicubic")  # the resize a user may give (timm's EfficientNets use bicubic)
SMALL_CONSTANT = 64  # elements: the largest computed constant folded before the shapes are checked
FOLD_ROUNDS = 8  # fold, infer again, fold what became known … (Lite0's padding needs 2 rounds)
# Operators folded when all their inputs are known small constants (element-wise arithmetic and the
# shape-building ones whose outputs are no larger than their inputs, or checked first).
FOLDABLE = frozenset(
    {
        "Abs",
        "Add",
        "And",
        "Cast",
        "Ceil",
        "Clip",
        "Concat",
        "ConstantOfShape",
        "Div",
        "Equal",
        "Flatten",
        "Floor",
        "Gather",
        "Greater",
        "Identity",
        "Less",
        "Max",
        "Min",
        "Mod",
        "Mul",
        "Neg",
        "Not",
        "Or",
        "Pow",
        "Range",
        "Reciprocal",
        "Reshape",
        "Round",
        "Shape",
        "Sign",
        "Slice",
        "Sqrt",
        "Squeeze",
        "Sub",
        "Transpose",
        "Unsqueeze",
        "Where",
    }
)
FOLDED_OPERATORS = frozenset({"If"})  # an If on a known condition becomes its branch (no converter needed)
GREY_MEAN, GREY_STD = (0.449,), (0.226,)  # ImageNet's three channels averaged, for a grey network
_FLOAT = 1  # onnx.TensorProto.FLOAT
_EXTERNAL = 1  # onnx.TensorProto.EXTERNAL


def is_onnx_name(name: object) -> bool:
    """True for ``onnx:PATH``."""
    return isinstance(name, str) and name.startswith(PREFIX)


def preprocessing_for(
    size: int = DEFAULT_SIZE, mean=IMAGENET_MEAN, std=IMAGENET_STD, interpolation: str = INTERPOLATIONS[0]
) -> Preprocessing:
    """The preprocessing a user gives an ONNX file: the shorter side resized to ``size`` × 256/224 with
    ``interpolation`` (one of :data:`INTERPOLATIONS`), a centre crop of ``size`` px, then ``mean``/``std`` per
    channel (on the 0–1 scale; one value for a grey network). :class:`WeightsError` for values a network
    cannot have been trained with."""
    mean, std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
    fine = (
        isinstance(size, int)
        and SIZE_RANGE[0] <= size <= SIZE_RANGE[1]
        and len(mean) == len(std)
        and len(mean) in CHANNELS
        and all(math.isfinite(m) and -10 <= m <= 10 for m in mean)
        and all(math.isfinite(s) and 1e-3 <= s <= 10 for s in std)
        and interpolation in INTERPOLATIONS
    )
    if not fine:
        raise WeightsError("onnx_preprocessing", low=SIZE_RANGE[0], high=SIZE_RANGE[1])
    return Preprocessing(
        resize=round(size * RESIZE_RATIO),
        crop=size,
        mean=mean,
        std=std,
        interpolation=interpolation,
        grayscale=len(mean) == 1,
    )


@dataclass(frozen=True)
class OnnxGraph:
    """A checked ONNX file: the parsed model (input fixed to 1×C×S×S), its class count and its digest."""

    model: object  # onnx.ModelProto
    channels: int
    size: int
    classes: int
    digest: str  # the SHA-256 of the file's bytes, as hex


def read_onnx(path: Path, budget: int = ONNX_BYTES, size: int | None = None) -> OnnxGraph:
    """The ONNX file ``path`` parsed and checked (steps 1–5 of the module's list) with its input side at
    ``size`` px (the file's own when it fixes one; else ``size`` or :data:`DEFAULT_SIZE`). Every refusal
    is one :class:`WeightsError` sentence; nothing of the file has run."""
    import onnx
    from google.protobuf.message import DecodeError

    if not path.is_file():
        raise WeightsError("onnx_missing", file=path.name)
    length = path.stat().st_size
    if length > budget:
        raise WeightsError("onnx_too_big", file=path.name, size=length, budget=budget)
    data = path.read_bytes()
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError, OSError) as exc:
        raise WeightsError("onnx_unreadable", file=path.name, reason=type(exc).__name__) from None
    if not model.graph.node:
        raise WeightsError("onnx_unreadable", file=path.name, reason="no graph")
    if any(tensor.data_location == _EXTERNAL or tensor.external_data for tensor in _tensors(model.graph)):
        raise WeightsError("onnx_external", file=path.name)
    _inline_constants(model.graph)
    image_input, channels, own_size = _image_input(model, path.name)
    _check_operators(model, path.name, FOLDED_OPERATORS)
    side = own_size or size or DEFAULT_SIZE
    if not own_size and not SIZE_RANGE[0] <= side <= SIZE_RANGE[1]:
        raise WeightsError("onnx_preprocessing", low=SIZE_RANGE[0], high=SIZE_RANGE[1])
    _fix_input(image_input, channels, side)
    _forget_shapes(model.graph)
    inferred = _folded(model, path.name)
    _check_operators(inferred, path.name)  # what folding left of the operators above
    _check_costs(inferred, path.name)
    classes = _classes(inferred, path.name)
    return OnnxGraph(inferred, channels, side, classes, hashlib.sha256(data).hexdigest())


def _tensors(graph):
    """Every tensor stored in ``graph`` and its subgraphs: initializers, sparse initializers' parts and
    node attributes."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("sparse_tensor"):
                yield attribute.sparse_tensor.values
            if attribute.HasField("g"):
                yield from _tensors(attribute.g)
            for subgraph in attribute.graphs:
                yield from _tensors(subgraph)


def _inline_constants(graph) -> None:
    """``Constant`` nodes holding a tensor, and ``Identity`` nodes of an initializer, become initializers
    (see the module docstring)."""
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    kept = []
    for node in graph.node:
        source = None
        if node.op_type == "Constant" and not node.domain and len(node.attribute) == 1:
            attribute = node.attribute[0]
            source = attribute.t if attribute.name == "value" and attribute.HasField("t") else None
        elif node.op_type == "Identity" and not node.domain and node.input[0] in initializers:
            source = initializers[node.input[0]]
        if source is None:
            kept.append(node)
            continue
        tensor = copy.deepcopy(source)
        tensor.name = node.output[0]
        graph.initializer.append(tensor)
        initializers[tensor.name] = tensor
    if len(kept) < len(graph.node):
        del graph.node[:]
        graph.node.extend(kept)


def _image_input(model, file: str):
    """The graph's one image input, its channels and its fixed side in px (None when not fixed)."""
    stored = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in stored]
    if len(inputs) != 1 or not model.graph.output:
        raise WeightsError("onnx_not_classifier", file=file, found=f"{len(inputs)} inputs")
    value = inputs[0]
    tensor_type = value.type.tensor_type
    dims = [dim.dim_value if dim.HasField("dim_value") else None for dim in tensor_type.shape.dim]
    if tensor_type.elem_type != _FLOAT or len(dims) != 4 or dims[1] not in CHANNELS or dims[0] not in (None, 1):
        raise WeightsError("onnx_not_classifier", file=file, found=_shape_text(dims))
    height, width = dims[2], dims[3]
    if height is not None and width is not None:
        if height != width or not SIZE_RANGE[0] <= height <= SIZE_RANGE[1]:
            raise WeightsError("onnx_not_classifier", file=file, found=_shape_text(dims))
        return value, dims[1], height
    return value, dims[1], None


def _shape_text(dims) -> str:
    return "an input of shape " + "×".join("?" if d is None else str(d) for d in dims)


def _fix_input(value, channels: int, side: int) -> None:
    shape = value.type.tensor_type.shape
    for dim, fixed in zip(shape.dim, (1, channels, side, side), strict=True):
        dim.Clear()
        dim.dim_value = fixed


def _forget_shapes(graph) -> None:
    """Drop the shapes the file declares past its input (an exporter's symbolic batch size, or a wrong
    claim), so that inference works every one out from the fixed input."""
    del graph.value_info[:]
    for value in graph.output:
        value.type.tensor_type.ClearField("shape")


def _check_operators(model, file: str, folded: frozenset = frozenset()) -> None:
    """Every node of the main graph has an ``onnx2torch`` converter for its opset (or is of a kind in
    ``folded``, checked again once folding had its chance), else the refusal names those that have none."""
    from onnx2torch.node_converters.registry import get_converter

    opsets = {entry.domain: entry.version for entry in model.opset_import}
    missing = []
    for node in model.graph.node:
        domain = node.domain if node.domain != "ai.onnx" else ""
        if not domain and node.op_type in folded:
            continue
        try:
            get_converter(operation_type=node.op_type, version=opsets.get(domain, 1), domain=domain)
        except NotImplementedError:
            name = f"{domain}.{node.op_type}" if domain else node.op_type
            if name not in missing:
                missing.append(name)
    if missing:
        raise WeightsError("onnx_operators", file=file, operators=", ".join(missing[:8]), count=len(missing))


def _inferred(model, file: str):
    """``model`` with every intermediate tensor's shape inferred by ONNX (strict: an inconsistent graph is
    refused), constants propagated so computed shapes (``Shape`` → ``Concat`` → ``Reshape``) are known."""
    from onnx.shape_inference import InferenceError, infer_shapes

    try:
        return infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except (InferenceError, ValueError, RuntimeError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise WeightsError("onnx_shapes", file=file, reason=reason) from None


def _folded(model, file: str):
    """``model`` shape-inferred, with its small computations of constants folded into initializers until
    nothing changes; the inferred model.

    Exporters compute things like "same" padding from the input's shape at run time (``Shape`` →
    ``Ceil``, ``Clip``, ``Div`` → ``Pad``), and ONNX's data propagation does not follow float arithmetic,
    so the shapes after such a ``Pad`` stay unknown. With the input fixed, those values are constants:
    nodes of :data:`FOLDABLE` kinds whose inputs are all known and small are evaluated by ONNX's own
    reference implementation (``onnx.reference``, numpy) and become initializers. Only tensors of at most
    :data:`SMALL_CONSTANT` elements are folded, and sizes are checked before a ``ConstantOfShape`` or
    ``Range`` is evaluated, so no folding allocates more than that. (onnx-simplifier folds constants too,
    through onnxruntime, a large runtime cnnviz does not otherwise need.)"""
    for _ in range(FOLD_ROUNDS):
        inferred = _inferred(model, file)
        if not _fold_once(model, inferred):
            return inferred
    return _inferred(model, file)


def _fold_once(model, inferred) -> bool:
    """Fold what can be folded now (see :func:`_folded`); whether anything was."""
    import numpy as np
    from onnx import numpy_helper

    values = {value.name: value for value in [*inferred.graph.value_info, *inferred.graph.input]}
    known = {
        tensor.name: numpy_helper.to_array(tensor)
        for tensor in model.graph.initializer
        if math.prod(tensor.dims) <= SMALL_CONSTANT
    }
    kept, folded = [], False
    for node in model.graph.node:
        value = None
        if node.op_type == "Shape" and not node.domain and len(node.output) == 1:
            shape = _known_shape(values[node.input[0]]) if node.input[0] in values else None
            if shape is not None:
                start, end = _attribute(node, "start", 0), _attribute(node, "end", len(shape))
                value = np.array(shape[start:end], dtype=np.int64)
        elif node.op_type == "If" and not node.domain and node.input[0] in known:
            kept.extend(_branch_taken(node, bool(known[node.input[0]].reshape(-1)[0]), model.graph))
            folded = True
            continue
        elif _foldable(node, known):
            value = _evaluate(node, known)
        if value is None or value.size > SMALL_CONSTANT:
            kept.append(node)
            continue
        known[node.output[0]] = value
        model.graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
        folded = True
    if folded:
        del model.graph.node[:]
        model.graph.node.extend(kept)
    return folded


def _branch_taken(node, condition: bool, graph) -> list:
    """The nodes of the branch an ``If`` node takes on a known ``condition`` (an exporter's test of a shape,
    e.g. in local response normalisation), writing the ``If``'s outputs; the branch's initializers join
    ``graph``'s."""
    from onnx import helper

    branch = next(a.g for a in node.attribute if a.name == ("then_branch" if condition else "else_branch"))
    renamed = {out.name: name for out, name in zip(branch.output, node.output, strict=True)}
    graph.initializer.extend(branch.initializer)
    nodes = []
    for inner in branch.node:
        copied = copy.deepcopy(inner)
        for index, name in enumerate(copied.output):
            copied.output[index] = renamed.get(name, name)
        for index, name in enumerate(copied.input):
            copied.input[index] = renamed.get(name, name)
        nodes.append(copied)
    written = {name for inner in nodes for name in inner.output}
    for out, name in zip(branch.output, node.output, strict=True):
        if name not in written:  # the branch passes an outer value through
            nodes.append(helper.make_node("Identity", [out.name], [name]))
    return nodes


def _attribute(node, name: str, default: int) -> int:
    return next((attribute.i for attribute in node.attribute if attribute.name == name), default)


def _foldable(node, known: dict) -> bool:
    if node.op_type not in FOLDABLE or node.domain or len(node.output) != 1:
        return False
    inputs = [name for name in node.input if name]
    if not inputs or not all(name in known for name in inputs):
        return False
    if node.op_type == "ConstantOfShape":
        return math.prod(int(d) for d in known[inputs[0]].reshape(-1)) <= SMALL_CONSTANT
    if node.op_type == "Range":
        start, limit, delta = (float(known[name]) for name in inputs)
        return delta != 0 and math.isfinite(start + limit + delta) and abs((limit - start) / delta) <= SMALL_CONSTANT
    return True


def _evaluate(node, known: dict):
    """``node``'s output from its known inputs, by ``onnx.reference``; None when it cannot be computed."""
    from onnx.reference import ReferenceEvaluator

    try:
        (value,) = ReferenceEvaluator(node).run(None, {name: known[name] for name in node.input if name})
    except Exception:  # an operator the reference does not know, or inputs it rejects: the node is kept
        return None
    return value


def _known_shape(value) -> tuple[int, ...] | None:
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    dims = tensor_type.shape.dim
    if not all(dim.HasField("dim_value") and dim.dim_value >= 0 for dim in dims):
        return None
    return tuple(dim.dim_value for dim in dims)


def _classes(model, file: str) -> int:
    shape = _known_shape(model.graph.output[0])
    if shape is None or len(shape) != 2 or shape[0] != 1 or shape[1] < 2:
        found = "an output of unknown shape" if shape is None else "an output of shape " + "×".join(map(str, shape))
        raise WeightsError("onnx_not_classifier", file=file, found=found)
    return shape[1]


def _check_costs(model, file: str) -> None:
    """A refusal when a tensor's shape is unknown, or when the bytes of every tensor a forward pass makes
    or the multiply-adds of its convolutions and matrix products (at batch 1) exceed their budgets."""
    import onnx

    values = {value.name: value for value in [*model.graph.value_info, *model.graph.output]}
    total = 0
    for node in model.graph.node:
        for name in node.output:
            if not name:
                continue
            value = values.get(name)
            shape = _known_shape(value) if value is not None else None
            if shape is None:
                raise WeightsError("onnx_unknown_shape", file=file, tensor=name[:80], node=node.op_type)
            item = onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type).itemsize
            total += math.prod(shape) * item
            if total > ACTIVATION_BYTES:
                raise WeightsError("onnx_memory", file=file, size=total, budget=ACTIVATION_BYTES)
    multiply_adds = _multiply_adds(model, values)
    if multiply_adds > MAX_MULTIPLY_ADDS:
        raise WeightsError("onnx_compute", file=file, count=multiply_adds, budget=MAX_MULTIPLY_ADDS)


def _multiply_adds(model, values) -> int:
    """Multiply-adds of ``Conv`` (output elements × kernel elements × input channels per group), ``Gemm``
    and ``MatMul`` (output elements × the shared dimension), from inferred shapes."""
    shapes = {name: _known_shape(value) for name, value in values.items()}
    shapes.update({tensor.name: tuple(tensor.dims) for tensor in model.graph.initializer})
    for value in model.graph.input:
        shapes.setdefault(value.name, _known_shape(value))
    total = 0
    for node in model.graph.node:
        out = shapes.get(node.output[0]) if node.output else None
        if not out:
            continue
        if node.op_type in ("Conv", "ConvTranspose") and len(node.input) > 1 and shapes.get(node.input[1]):
            weight = shapes[node.input[1]]
            total += math.prod(out) * math.prod(weight[1:])
        elif node.op_type in ("Gemm", "MatMul") and shapes.get(node.input[0]):
            total += math.prod(out) * shapes[node.input[0]][-1]
    return total


def to_module(graph: OnnxGraph, file: str) -> fx.GraphModule:
    """The checked graph as an ``fx.GraphModule`` (``onnx2torch.convert``), on the CPU in eval mode."""
    from onnx2torch import convert

    try:
        module = convert(graph.model)
    except (NotImplementedError, KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise WeightsError("onnx_convert", file=file, reason=type(exc).__name__) from None
    return module.eval()


def timed_forward(module: fx.GraphModule, inputs: torch.Tensor, file: str, seconds: float | None = None):
    """``module(inputs)`` node by node, refused once it has run longer than ``seconds`` (default
    :data:`FORWARD_SECONDS`)."""
    seconds = FORWARD_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + seconds

    class _Clocked(fx.Interpreter):
        def run_node(self, node):
            if time.monotonic() > deadline:
                raise WeightsError("onnx_slow", file=file, seconds=seconds)
            return super().run_node(node)

    try:
        with torch.no_grad():
            return _Clocked(module).run(inputs)
    except WeightsError:
        raise
    except Exception as exc:  # an operator that fails on real values: the file is refused, not the server
        raise WeightsError("onnx_convert", file=file, reason=type(exc).__name__) from None


def onnx_network(
    path: Path, preprocessing: Preprocessing | None = None, named: bool = False, budget: int = ONNX_BYTES
) -> tuple[ArchSpec, nn.Module]:
    """The network of ONNX file ``path`` and its spec (registered under the file's SHA-256 and the
    preprocessing, so results never mix). ``preprocessing`` defaults to ImageNet's at the file's own input
    side; ``named``: class names will be given, so 1,000 outputs are not taken for ImageNet's classes."""
    from cnnviz.models.own import OWN, register

    graph = read_onnx(path, budget, preprocessing.input_size if preprocessing else None)
    preprocessing = _fitted(preprocessing, graph, path.name)
    module = to_module(graph, path.name)
    probe = torch.zeros(1, graph.channels, graph.size, graph.size)
    output = timed_forward(module, probe, path.name)
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (1, graph.classes):
        raise WeightsError("onnx_not_classifier", file=path.name, found="an output that is not one row of scores")
    settings = hashlib.sha256(repr(preprocessing).encode()).hexdigest()[:8]
    skeleton = _skeleton(module)
    imagenet = graph.classes == 1000 and not named
    spec = ArchSpec(
        name=f"{FAMILY}@sha256:{graph.digest[:16]}-{settings}",
        display=f"{path.stem[:50]} (ONNX)",
        family=FAMILY,
        year=0,
        paper=_provenance(graph.model, path.name),
        builder=lambda: copy.deepcopy(skeleton),
        preprocessing=preprocessing,
        labels=IMAGENET if imagenet else OWN,
        num_classes=None if imagenet else graph.classes,
    )
    return register(spec), module


def export(model: nn.Module, path: Path, channels: int = 3, side: int = 224) -> None:
    """``model`` (on the CPU; put in the default memory format, in place) as ONNX file ``path`` for a
    1×``channels``×``side``×``side`` input, as a user exports one: ``torch.onnx.export``'s TorchScript
    exporter, opset 17 (its deprecation notice silenced)."""
    import warnings

    model.to(memory_format=torch.contiguous_format)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, channels, side, side),), str(path), dynamo=False, opset_version=17)


def _skeleton(module: nn.Module) -> nn.Module:
    """A copy of ``module`` for the spec's builder (layer tables, diagrams: shapes only): its tensors on the
    meta device, except small constants whose values the converted modules read as numbers (a ``Pad``'s
    integer pads, a ``Clip``'s scalar bounds; a scalar on the CPU mixes with meta tensors)."""
    skeleton = copy.deepcopy(module)
    for owner in skeleton.modules():
        for name, tensor in list(owner._parameters.items()):
            if tensor is not None:
                owner._parameters[name] = nn.Parameter(tensor.to("meta"), requires_grad=tensor.requires_grad)
        for name, tensor in list(owner._buffers.items()):
            number = tensor is not None and tensor.numel() <= SMALL_CONSTANT
            if tensor is not None and not (number and (tensor.dim() == 0 or not tensor.is_floating_point())):
                owner._buffers[name] = tensor.to("meta")
    return skeleton


def _fitted(preprocessing: Preprocessing | None, graph: OnnxGraph, file: str) -> Preprocessing:
    """The user's preprocessing at the graph's input side and channels (ImageNet's by default)."""
    if preprocessing is None:
        mean, std = (IMAGENET_MEAN, IMAGENET_STD) if graph.channels == 3 else (GREY_MEAN, GREY_STD)
        return preprocessing_for(graph.size, mean, std)
    if preprocessing.channels != graph.channels:
        raise WeightsError("onnx_channels", file=file, channels=graph.channels, given=preprocessing.channels)
    if preprocessing.input_size == graph.size:
        return preprocessing
    return replace(preprocessing, crop=graph.size, resize=round(graph.size * RESIZE_RATIO))


def _provenance(model, file: str) -> str:
    """``ONNX file NAME (opset N, exported by PRODUCER VERSION)``."""
    opset = max((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), default=0)
    producer = " ".join(part for part in (model.producer_name, model.producer_version) if part)[:60]
    return f"ONNX file {file} (opset {opset}" + (f", exported by {producer})" if producer else ")")
