"""Layer tables: shapes, parameters, multiply-accumulates, activation memory and receptive field per layer.

One forward pass on the ``meta`` device (no memory, no arithmetic) with forward hooks on every module
gives the rows in execution order. Multiply-accumulates come from ``torch.utils.flop_counter`` (which
counts 2 FLOPs per MAC, biases not counted); receptive fields are propagated through every torch op by
:class:`_ReceptiveFieldMode`, written here because no library does it for arbitrary graphs
(branches, residual additions and concatenations take the largest field of their inputs).

Conventions: ``macs`` = multiply-accumulates, FLOPs ≈ 2 × MACs; ``act_bytes`` = output elements × 4
(fp32), per image; ``rf`` is the (height, width) of the receptive field in input pixels and ``jump`` the
(vertical, horizontal) distance in input pixels between neighbouring output units, kept apart because
asymmetric kernels (Inception v3's 1×7 and 7×1) widen one axis at a time; ``rf = None`` means the whole
image (after global pooling and fully connected layers; squeeze-and-excitation gates do not count, see
:class:`_ReceptiveFieldMode`).

Checked against Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks"
(Distill 2019; table in ``google-research/receptive_field``) for AlexNet, VGG-16 and Inception v3. ResNets
differ from that table by design: torchvision's ResNet v1.5 strides in the first block of a stage (in its
3×3 convolution), TF-slim's ResNet v1 in the last block, so slim's fields are larger from ``block1`` on.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field

import pandas as pd
import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.errors import CnnvizError
from cnnviz.models.zoo import ArchSpec, get_spec

CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
BYTES_PER_ELEMENT = 4  # fp32
MIN_INPUT, MAX_INPUT = 16, 1024
TABLE_FORMATS = ("table", "csv", "json")  # how `cnnviz layers` prints a table


@dataclass
class LayerRow:
    """One executed layer (or, with ``is_block``, one collapsed block).

    ``module`` is the module's name in the model and ``call`` which use of it this row is (a module used
    twice, such as a shared ReLU, has rows for calls 1 and 2); ``name`` is the label people read, the
    module name with ``(call n)`` from the second call on. Code uses ``module`` and ``call``, never ``name``.
    """

    name: str
    type: str
    module: str = ""
    call: int = 1
    block: str = ""
    is_block: bool = False
    kernel: str = ""
    stride: str = ""
    padding: str = ""
    groups: int | None = None
    out_shape: tuple[int, ...] = ()
    params: int = 0
    weights: int = 0
    macs: int = 0
    act_elems: int = 0
    act_bytes: int = 0
    allocates: bool = True
    rf: tuple[int, int] | None = None  # (height, width), input px
    jump: tuple[int, int] | None = None  # (vertical, horizontal), input px

    def __post_init__(self) -> None:
        if not self.module:
            self.module = self.name

    def as_dict(self) -> dict:
        row = asdict(self)
        row["out_shape"] = list(self.out_shape)
        return row


@dataclass
class LayerTable:
    """Rows of an architecture at one input size; ``layers`` are leaves, ``blocks`` the collapsible groups."""

    arch: str
    input_size: int
    in_channels: int
    layers: list[LayerRow]
    blocks: dict[str, LayerRow] = field(default_factory=dict)
    counted_macs: int = 0  # torch.utils.flop_counter's total / 2, functional ops outside modules included

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.layers)

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates of the whole forward pass, as ``torch.utils.flop_counter`` counts them."""
        return self.counted_macs

    @property
    def input_elems(self) -> int:
        return self.in_channels * self.input_size**2

    @property
    def total_act_elems(self) -> int:
        """Elements of every tensor the forward pass allocates, the input included (in-place layers, views
        and identities reuse their input and are not counted again)."""
        return self.input_elems + sum(r.act_elems for r in self.layers if r.allocates)

    def rows(self, expand: set[str] | bool = False) -> list[LayerRow]:
        """Execution-order rows with each block collapsed to one row, except blocks in ``expand``
        (``True`` expands every block)."""
        if expand is True:
            return list(self.layers)
        expanded = expand or set()
        out: list[LayerRow] = []
        shown: set[str] = set()
        for row in self.layers:
            if not row.block or row.block in expanded:
                out.append(row)
            elif row.block not in shown:
                shown.add(row.block)
                out.append(self.blocks[row.block])
        return out

    def frame(self, expand: set[str] | bool = False, totals: bool = True) -> pd.DataFrame:
        """The table as a DataFrame, optionally with a ``Total`` row at the end."""
        frame = pd.DataFrame([r.as_dict() for r in self.rows(expand)])
        if totals:
            total = {
                "name": "Total",
                "type": "",
                "params": self.total_params,
                "weights": sum(r.weights for r in self.layers),
                "macs": self.total_macs,
                "act_elems": self.total_act_elems,
                "act_bytes": self.total_act_elems * BYTES_PER_ELEMENT,
            }
            frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
        return frame


DISPLAY_COLUMNS = (
    "name",
    "type",
    "kernel",
    "stride",
    "padding",
    "groups",
    "out_shape",
    "params",
    "weights",
    "macs",
    "act_elems",
    "act_bytes",
    "rf",
    "jump",
    "block",
)


def display_frame(table: LayerTable, expand: set[str] | bool = False) -> pd.DataFrame:
    """The table for people: shapes as ``C×H×W``; ``rf`` and ``jump`` in pixels, ``H×W`` where the axes
    differ, ``"global"`` for the whole image; a ``Total`` row."""
    frame = table.frame(expand)
    layer = frame["name"] != "Total"
    frame["out_shape"] = frame["out_shape"].map(lambda s: "×".join(map(str, s)) if isinstance(s, list) else "")
    for column in ("rf", "jump"):
        frame[column] = [
            square_or_pair(tuple(v) if isinstance(v, (list, tuple)) else None) if is_layer else ""
            for v, is_layer in zip(frame[column], layer, strict=True)
        ]
    frame["jump"] = frame["jump"].replace("global", "")
    frame["groups"] = frame["groups"].astype("Int64")
    for column in ("kernel", "stride", "padding", "block", "type"):
        frame[column] = frame[column].fillna("")
    return frame[list(DISPLAY_COLUMNS)]


def _size(value) -> int:
    return max(value) if isinstance(value, (tuple, list)) else int(value)


def _hw(value) -> tuple[int, int]:
    """A size given as one int or per axis, as (height, width); a 1-D op's one size stands for both."""
    if isinstance(value, (tuple, list)):
        values = [int(v) for v in value][-2:]
        return (values[0], values[-1])
    return (int(value), int(value))


def square_or_pair(value: tuple[int, int] | None) -> str:
    """``"195"`` for a square (195, 195), ``"351×159"`` (height × width) otherwise, ``"global"`` for None."""
    if value is None:
        return "global"
    return str(value[0]) if value[0] == value[1] else f"{value[0]}×{value[1]}"


def _pair(value) -> str:
    if isinstance(value, (tuple, list)):
        return "×".join(str(v) for v in value) if len(set(value)) > 1 else str(value[0])
    return str(value)


def _kernel_text(value) -> str:
    if isinstance(value, (tuple, list)):
        return "×".join(str(v) for v in value)
    return f"{value}×{value}"


def _geometry(module: nn.Module) -> dict:
    """Kernel, stride, padding and groups of convolution and pooling layers, as text."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return dict(
            kernel=_kernel_text(module.kernel_size),
            stride=_pair(module.stride),
            padding=_pair(module.padding) if not isinstance(module.padding, str) else module.padding,
            groups=module.groups,
        )
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        return dict(
            kernel=_kernel_text(module.kernel_size),
            stride=_pair(module.stride),
            padding=_pair(module.padding),
        )
    return {}


class _ReceptiveFieldMode(TorchFunctionMode):
    """Propagates (receptive field, jump), each as (height, width), through every torch op of a forward pass.

    For a convolution or pooling with kernel k, dilation d and stride s along an axis:
    ``rf' = rf + d(k − 1) · jump`` and ``jump' = jump · s``. Ops that mix all positions (linear layers,
    global pooling, means over the spatial axes) make the field global (``None``). Every other op takes
    the largest field and jump of its inputs, axis by axis, which is exact for branches that are added or
    concatenated. A 1×1 tensor broadcast onto a feature map (a squeeze-and-excitation gate) is left out of
    that maximum: it re-weights channels with global context but does not widen the field of any unit.
    """

    GLOBAL = (None, None)

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[int, tuple] = {}
        self._alive: list[torch.Tensor] = []  # keeps ids unique while the pass runs

    def mark(self, tensor: torch.Tensor, value: tuple) -> None:
        self.fields[id(tensor)] = value
        self._alive.append(tensor)

    def lookup(self, tensor) -> tuple | None:
        return self.fields.get(id(tensor)) if isinstance(tensor, torch.Tensor) else None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        tensors = [t for t in _flatten(args) + _flatten(list(kwargs.values())) if self.lookup(t)]
        if not tensors:
            return out
        spatial = [t for t in tensors if t.dim() > 2 and t.shape[2:].numel() > 1]
        if spatial and len(spatial) < len(tensors):
            tensors = spatial  # a broadcast 1×1 gate (squeeze-and-excitation) scales channels, not the field
        inputs = [self.lookup(t) for t in tensors]
        if any(f == self.GLOBAL for f in inputs):
            result = self.GLOBAL
        else:
            result = tuple(tuple(max(f[part][axis] for f in inputs) for axis in (0, 1)) for part in (0, 1))
        name = getattr(func, "__name__", "")
        if result != self.GLOBAL:
            result = self._through(name, args, kwargs, result, out)
        for tensor in _flatten([out]):
            if isinstance(tensor, torch.Tensor) and tensor.dim() >= 1:
                self.mark(tensor, result)
        return out

    @staticmethod
    def _widen(field_in, kernel, stride, dilation=(1, 1)):
        (rf_h, rf_w), (jump_h, jump_w) = field_in
        return (
            (rf_h + dilation[0] * (kernel[0] - 1) * jump_h, rf_w + dilation[1] * (kernel[1] - 1) * jump_w),
            (jump_h * stride[0], jump_w * stride[1]),
        )

    def _through(self, name, args, kwargs, field_in, out):
        if name in ("conv1d", "conv2d", "conv3d"):
            weight = args[1] if len(args) > 1 else kwargs["weight"]
            stride = _hw(_arg(args, kwargs, 3, "stride", 1))
            dilation = _hw(_arg(args, kwargs, 5, "dilation", 1))
            return self._widen(field_in, _hw(tuple(weight.shape[2:])), stride, dilation)
        if name in ("max_pool2d", "avg_pool2d", "_max_pool2d", "max_pool2d_with_indices", "lp_pool2d"):
            kernel = _hw(_arg(args, kwargs, 1, "kernel_size", 1))
            stride = _arg(args, kwargs, 2, "stride", None)
            stride = kernel if stride in (None, [], ()) else _hw(stride)
            dilation = _hw(_arg(args, kwargs, 4, "dilation", 1)) if "max" in name else (1, 1)
            return self._widen(field_in, kernel, stride, dilation)
        if name in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
            source = args[0]
            out_tensor = out[0] if isinstance(out, tuple) else out
            if out_tensor.shape[-1] == 1 and out_tensor.shape[-2] == 1:
                return self.GLOBAL
            sides = list(zip(source.shape[-2:], out_tensor.shape[-2:], strict=True))
            kernel = tuple(max(math.ceil(i / o), 1) for i, o in sides)
            stride = tuple(max(i // o, 1) for i, o in sides)
            return self._widen(field_in, kernel, stride)
        if name in ("linear", "matmul", "mm", "addmm", "bmm", "einsum"):
            return self.GLOBAL
        if name in ("mean", "sum", "amax", "amin", "max", "std", "var"):
            source = args[0]
            result = out[0] if isinstance(out, tuple) else out
            spatial_in = source.shape[2:].numel() if source.dim() > 2 else 1
            spatial_out = result.shape[2:].numel() if result.dim() > 2 else 1
            if isinstance(result, torch.Tensor) and spatial_in > 1 and spatial_out == 1:
                return self.GLOBAL
        return field_in


def _arg(args, kwargs, index, name, default):
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _flatten(items) -> list:
    flat = []
    for item in items:
        if isinstance(item, (list, tuple)):
            flat.extend(_flatten(item))
        else:
            flat.append(item)
    return flat


def _block_of(model: nn.Module) -> dict[str, str]:
    """Module name → name of its top-most block ('' when none).

    A block is a module with children whose class is not a plain container (Sequential, ModuleList,
    ModuleDict): a residual block, an Inception module, a dense block, a conv-bn-act unit.
    """
    owner: dict[str, str] = {"": ""}
    for name, module in model.named_modules():
        if not name:
            continue
        parent = name.rsplit(".", 1)[0] if "." in name else ""
        inherited = owner.get(parent, "")
        is_block = bool(list(module.children())) and type(module) not in CONTAINERS
        owner[name] = inherited or (name if is_block else "")
    return owner


def build_table(model: nn.Module, input_size: int, in_channels: int = 3, arch: str = "") -> LayerTable:
    """The layer table of ``model`` for a 1×``in_channels``×``input_size``×``input_size`` input.

    ``model`` should live on the ``meta`` device (see :func:`layer_table`); real tensors work too.
    """
    device = next(model.parameters(), torch.empty(0, device="meta")).device
    owner = _block_of(model)
    rows: list[LayerRow] = []
    blocks: dict[str, LayerRow] = {}
    seen_params: set[str] = set()
    calls: dict[str, int] = {}
    counter = FlopCounterMode(display=False)
    fields = _ReceptiveFieldMode()
    flops_before: dict[int, list[int]] = {}

    def total_flops() -> int:
        return counter.get_total_flops()

    def pre_hook(module, inputs):
        flops_before.setdefault(id(module), []).append(total_flops())
        if id(module) in row_modules:
            slots.setdefault(id(module), []).append(len(rows))
            rows.append(None)  # reserved: rows follow the order in which layers start

    def make_hook(name: str, module: nn.Module, is_block: bool):
        def hook(mod, inputs, output):
            macs = (total_flops() - flops_before[id(mod)].pop()) // 2
            slot = slots[id(mod)].pop() if id(mod) in row_modules else None
            tensor = output[0] if isinstance(output, (tuple, list)) else output
            if not isinstance(tensor, torch.Tensor):
                return
            rf, jump = fields.lookup(tensor) or (None, None)
            shape = tuple(tensor.shape[1:])
            elems = math.prod(shape)
            if is_block:
                blocks[name] = LayerRow(
                    name=name,
                    type=type(mod).__name__,
                    is_block=True,
                    out_shape=shape,
                    macs=macs,
                    params=sum(p.numel() for p in mod.parameters()),
                    weights=sum(p.numel() for n, p in mod.named_parameters() if not n.endswith("bias")),
                    rf=rf,
                    jump=jump,
                )
            if slot is None:
                return
            count = calls.get(name, 0) + 1
            calls[name] = count
            own = [(n, p) for n, p in mod.named_parameters(recurse=False)]
            fresh = name not in seen_params
            seen_params.add(name)
            first_input = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
            allocates = not (first_input is not None and (tensor is first_input or tensor._base is first_input))
            rows[slot] = LayerRow(
                name=call_label(name, count),
                type=type(mod).__name__,
                module=name,
                call=count,
                block=owner.get(name, ""),
                out_shape=shape,
                params=sum(p.numel() for _, p in own) if fresh else 0,
                weights=sum(p.numel() for n, p in own if not n.endswith("bias")) if fresh else 0,
                macs=macs,
                act_elems=elems,
                act_bytes=elems * BYTES_PER_ELEMENT,
                allocates=allocates,
                rf=rf,
                jump=jump,
                **_geometry(mod),
            )

        return hook

    handles = []
    row_modules: set[int] = set()
    slots: dict[int, list[int]] = {}
    for name, module in model.named_modules():
        if not name:
            continue
        computes = not list(module.children()) or any(True for _ in module.parameters(recurse=False))
        is_block = owner.get(name) == name
        if not (computes or is_block):
            continue  # plain containers and inner modules without own weights get no row
        if computes:
            row_modules.add(id(module))
        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(make_hook(name, module, is_block)))
    x = torch.zeros(1, in_channels, input_size, input_size, device=device)
    try:
        with torch.no_grad(), counter, fields:
            fields.mark(x, ((1, 1), (1, 1)))
            model(x)
    except RuntimeError as exc:
        raise CnnvizError("cannot_run", arch=arch or "The model", size=input_size, reason=str(exc)) from None
    finally:
        for handle in handles:
            handle.remove()
    rows = [row for row in rows if row is not None]  # layers whose output was not a tensor
    _keep_own_macs(rows)
    for name, block in blocks.items():
        members = [r for r in rows if r.block == name]
        block.act_elems = sum(r.act_elems for r in members if r.allocates)
        block.act_bytes = block.act_elems * BYTES_PER_ELEMENT
    return LayerTable(
        arch=arch,
        input_size=input_size,
        in_channels=in_channels,
        layers=rows,
        blocks=blocks,
        counted_macs=counter.get_total_flops() // 2,
    )


def call_label(module: str, call: int) -> str:
    """The row label people read: ``module``, or ``"module (call n)"`` from its second use on."""
    return module if call == 1 else f"{module} (call {call})"


def _keep_own_macs(rows: list[LayerRow]) -> None:
    """A row whose module also has rows below it (a norm + activation unit) keeps only its own MACs."""
    for row in sorted(rows, key=lambda r: r.module.count("."), reverse=True):
        prefix = row.module + "."
        row.macs -= sum(r.macs for r in rows if r.module.startswith(prefix))


def layer_table(arch: str | ArchSpec, input_size: int | None = None) -> LayerTable:
    """The layer table of zoo architecture ``arch`` at ``input_size`` px (default: its own input size).

    Tables are memoised per (architecture, size) and shared: treat them as read-only.
    """
    spec = arch if isinstance(arch, ArchSpec) else get_spec(arch)
    size = spec.input_size if input_size is None else int(input_size)
    if not MIN_INPUT <= size <= MAX_INPUT:
        raise CnnvizError("input_range", low=MIN_INPUT, high=MAX_INPUT, size=size)
    return _memoised_table(spec.name, size)


@functools.lru_cache(maxsize=128)
def _memoised_table(name: str, size: int) -> LayerTable:
    spec = get_spec(name)
    model = spec.build_empty().requires_grad_(False)  # FlopCounterMode hooks gradients of any that require them
    return build_table(model, size, spec.in_channels, spec.name)


def spatial_layers(arch: str | ArchSpec, input_size: int | None = None) -> list[str]:
    """Module names (blocks collapsed) whose output is a spatial map of at least 2×2, in execution order:
    the layers whose feature maps can be shown, occluded or projected. Adaptive pools are left out (at
    the model's own input size they pass the map through unchanged), and so are maps whose receptive field
    is unknown (computed from no pixel of the photo, or a tuple such as PiT's stages return)."""
    names: list[str] = []
    for row in layer_table(arch, input_size).rows():
        name = row.module
        adaptive = row.type.startswith("Adaptive")
        from_photo = row.rf is not None  # XCiT's positional encoding has a map the photo never reaches
        if len(row.out_shape) == 3 and row.out_shape[-1] >= 2 and not adaptive and from_photo and name not in names:
            names.append(name)
    return names


def conv_stages(arch: str | ArchSpec, input_size: int | None = None) -> list[str]:
    """The last spatial layer at each resolution (ZF's "layers 1–5"), in execution order."""
    table = layer_table(arch, input_size)
    sides = {row.module: row.out_shape[-1] for row in table.rows() if len(row.out_shape) == 3}
    names = spatial_layers(arch, input_size)
    return [
        name
        for name, after in zip(names, [*names[1:], None], strict=False)
        if after is None or sides[after] != sides[name]
    ]


def last_stage(arch: str | ArchSpec, input_size: int | None = None) -> str:
    """The last convolutional stage (ZF's layer 5), where maps are explained by default;
    :class:`CnnvizError` for a network with no spatial map after its first layer (a vision transformer)."""
    stages = conv_stages(arch, input_size)
    if not stages:
        spec = get_spec(arch) if isinstance(arch, str) else arch
        raise CnnvizError("no_maps", arch=spec.display)
    return stages[-1]


def receptive_field(arch: str | ArchSpec, layer: str, input_size: int | None = None) -> tuple[int, int] | None:
    """(Height, width) of the receptive field of one unit of ``layer`` in input pixels (None: the whole
    image)."""
    table = layer_table(arch, input_size)
    if layer in table.blocks:
        return table.blocks[layer].rf
    for row in table.layers:
        if row.module == layer and row.call == 1:
            return row.rf
    raise CnnvizError("no_layer", arch=table.arch, layer=layer)
