"""Graphviz (DOT) block diagrams of an architecture, for ``st.graphviz_chart``.

:func:`network_dot` draws the chain of rows with blocks collapsed; :func:`block_dot` draws the inside of
one block from a ``torch.fx`` trace in which the block's direct children are the nodes, so residual
shortcuts (``+``), Inception branches and dense concatenations (``concat``) appear as real edges.
"""

from __future__ import annotations

import operator

import torch
from torch import fx, nn

from cnnviz.explain.tracing import ThreadSafeTracer, traced
from cnnviz.layers import LayerRow, LayerTable
from cnnviz.models.zoo import ArchSpec

_STYLE = 'node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=10];'
_COLOURS = {"Conv2d": "#d6e4ff", "Linear": "#ffe3c2", "MaxPool2d": "#e3f5dc", "AvgPool2d": "#e3f5dc"}


def _shape(row: LayerRow) -> str:
    return "×".join(map(str, row.out_shape))


def _quote(text: str) -> str:
    """A DOT string; ``\\n`` in ``text`` stays a DOT line break."""
    return '"' + text.replace('"', "'") + '"'


def network_dot(table: LayerTable, skip_types: tuple[str, ...] = ("ReLU", "ReLU6", "Dropout", "Flatten")) -> str:
    """The architecture as a top-to-bottom chain of rows (blocks collapsed), activations folded in."""
    lines = [
        "digraph network {",
        "rankdir=TB;",
        _STYLE,
        f'input [label="input\\n{table.in_channels}×{table.input_size}×{table.input_size}", shape=ellipse];',
    ]
    previous = "input"
    for index, row in enumerate(table.rows()):
        if row.type in skip_types:
            continue
        node = f"n{index}"
        stride = f"/{row.stride}" if row.stride not in ("", "1") else ""
        label = f"{row.name}\\n{row.type} {row.kernel} {stride}".rstrip() + f"\\n{_shape(row)}"
        colour = "#fff4cc" if row.is_block else _COLOURS.get(row.type, "#eef3fb")
        lines.append(f'{node} [label={_quote(label)}, fillcolor="{colour}"];')
        lines.append(f"{previous} -> {node};")
        previous = node
    lines.append("}")
    return "\n".join(lines)


class _ChildrenAsLeaves(ThreadSafeTracer):
    """Traces one block, keeping each of its direct children (and every standard layer) as one node; other
    sessions' forward passes go through while it traces (see :class:`ThreadSafeTracer`)."""

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        return "." not in qualified_name or super().is_leaf_module(module, qualified_name)


def block_dot(spec: ArchSpec, block_name: str, table: LayerTable) -> str | None:
    """The inside of block ``block_name`` as DOT, or None when the block cannot be traced."""
    model = spec.build_empty()
    block = model.get_submodule(block_name)
    try:
        graph = traced(_ChildrenAsLeaves(), block)
    except Exception:  # data-dependent control flow: fx cannot trace every block
        return None
    rows = {(row.module, row.call): row for row in table.layers}
    blocks = table.blocks
    lines = [f"digraph {_quote(block_name)} {{", "rankdir=TB;", _STYLE]
    names: dict[fx.Node, str] = {}
    calls: dict[str, int] = {}
    for index, node in enumerate(graph.nodes):
        if node.op == "get_attr":
            continue
        names[node] = f"n{index}"
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
        label, shape, colour = _node_label(node, block_name, rows, blocks, block, calls.get(node.target, 1))
        lines.append(f'n{index} [label={_quote(label)}, shape={shape}, fillcolor="{colour}"];')
        for source in node.all_input_nodes:
            if source in names:
                lines.append(f"{names[source]} -> n{index};")
    lines.append("}")
    return "\n".join(lines)


def _output_row(full: str, call: int, rows: dict, blocks: dict) -> LayerRow | None:
    """The row holding the output of module ``full`` at its ``call``-th use (a container: its last row);
    ``rows`` is keyed by (module, call)."""
    if (full, call) in rows:
        return rows[(full, call)]
    if (full, 1) in rows or full in blocks:
        return rows.get((full, 1)) or blocks[full]
    inner = [row for (module, _), row in rows.items() if module.startswith(full + ".")]
    return inner[-1] if inner else None


def _node_label(node: fx.Node, block_name: str, rows, blocks, block: nn.Module, call: int) -> tuple[str, str, str]:
    if node.op == "placeholder":
        return "input", "ellipse", "#ffffff"
    if node.op == "output":
        return "output", "ellipse", "#ffffff"
    if node.op == "call_module":
        full = f"{block_name}.{node.target}"
        module = block.get_submodule(node.target)
        row = _output_row(full, call, rows, blocks)
        kind = type(module).__name__
        detail = ""
        if isinstance(module, nn.Conv2d):
            detail = f" {module.kernel_size[0]}×{module.kernel_size[1]}" + (
                f"/{module.stride[0]}" if module.stride[0] > 1 else ""
            )
        shape = f"\\n{'×'.join(map(str, row.out_shape))}" if row else ""
        colour = _COLOURS.get(kind, "#fff4cc" if list(module.children()) else "#eef3fb")
        return f"{node.target}\\n{kind}{detail}{shape}", "box", colour
    target = node.target
    if target in (operator.add, torch.add) or getattr(target, "__name__", "") in ("add", "iadd", "add_"):
        return "+", "circle", "#ffd6d6"
    if target is torch.cat or getattr(target, "__name__", "") == "cat":
        return "concat", "box", "#f3dcff"
    if target in (operator.mul, torch.mul):
        return "×", "circle", "#ffd6d6"
    name = getattr(target, "__name__", str(target))
    return name, "box", "#f2f2f2"
