"""Incremental occlusion (Krypton) gives the full computation's numbers, layer by layer, for the whole zoo."""

from __future__ import annotations

import copy
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

import cnnviz
from cnnviz.explain.incremental import IncrementalGraph
from cnnviz.explain.occlusion import fill_tensor, grid_positions, occlusion
from cnnviz.explain.regions import Sliding
from cnnviz.explain.tracing import trace
from cnnviz.gallery import gallery_image
from tests.conftest import architecture_sweep


def _default_corners(side: int) -> tuple[int, torch.Tensor]:
    """The page's default window and six of its positions: the four corners (each pair of borders the
    padding touches), the middle, and one off the corners by a stride (positions between the grid's ends)."""
    window, stride = min(32, side // 2), min(8, side // 4)
    positions = grid_positions(side, window, stride)
    first, middle, last = int(positions[0]), int(positions[len(positions) // 2]), int(positions[-1])
    picks = [(first, first), (first, last), (last, first), (last, last), (middle, middle)]
    picks += [(int(positions[1]), int(positions[-2]))]
    return window, torch.tensor(picks)


def _full_run(graph: torch.fx.GraphModule, batch: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every node's output for ``batch``, computed in full."""
    values: dict[str, torch.Tensor] = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, node):
            values[node.name] = result = super().run_node(node)
            return result

    Recorder(graph).run(batch)
    return values


@pytest.mark.parametrize(
    ("arch", "weights"),
    # VGG-16 repeats VGG-11's layers deeper, ResNet-50 SE-ResNet-50's bottlenecks without the excitation,
    # Xception MobileNet-v2's depthwise and pointwise convolutions with residual additions
    [
        *architecture_sweep({"vgg16": "vgg11", "resnet50": "seresnet50", "xception": "mobilenet_v2"}, "auto"),
        ("lenet5", "random"),
        ("efficientnet_lite0", "random"),
    ],
)
def test_every_layer_equals_the_full_computation(arch, weights):
    """Each architecture at the page's default window, with its offline weights (real for LeNet-5 and
    Lite0, seeded random for the rest; those two also random), on a real photo: every node of the graph
    — every layer, not only the logits, which random weights can leave nearly flat — holds the same
    values for six occluded copies (corners, middle, one a stride off the corners) as the full
    computation (relative 1e-4), and the probabilities are within 1e-5 of the model's own."""
    net = cnnviz.load(arch, weights=weights, device="cpu")
    image = gallery_image("digit" if arch == "lenet5" else "chelsea")
    x = net.to_input(net.preprocess(image))
    side = x.shape[-1]
    window, corners = _default_corners(side)
    fill = fill_tensor(x[0], "mean", net.preprocess.mean, net.preprocess.std)
    occluded = x.expand(len(corners), -1, -1, -1).clone()
    for i, (top, left) in enumerate(corners.tolist()):
        occluded[i, :, top : top + window, left : left + window] = fill[:, top : top + window, left : left + window]
    squares = torch.stack(
        [occluded[i, :, t : t + window, lft : lft + window] for i, (t, lft) in enumerate(corners.tolist())]
    )
    with torch.inference_mode():
        graph = IncrementalGraph(net.model, x)
        ours: dict[str, torch.Tensor] = {}
        logits, _ = graph.run(squares, corners[:, 0], corners[:, 1], every_node=ours)
        full = _full_run(trace(net.model), occluded)
        clean = _full_run(trace(net.model), x)
    assert graph.computed_share, "nothing was computed incrementally"
    assert min(graph.computed_share.values()) < 0.6  # the first layers recompute only part of their maps
    changed = 0
    for name, value in full.items():
        if name not in ours or not isinstance(value, torch.Tensor) or value.dim() == 0:
            continue
        mine = ours[name]
        scale = max(1.0, float(value.abs().max()))
        # within the absolute tolerance everywhere (one pass), else the full test (allclose: several passes)
        close = float((mine - value).abs().max()) <= 1e-5 * scale
        assert close or torch.allclose(mine, value, rtol=1e-4, atol=1e-5 * scale), name
        if value.shape[0] == len(corners) and clean[name].shape[1:] == value.shape[1:]:
            changed += bool((value - clean[name]).abs().max() > 1e-3 * scale)
    assert changed >= 5  # the squares change the network's maps: the comparison is not of equal clean maps
    output = next(node for node in reversed(trace(net.model).graph.nodes) if node.op == "output").args[0].name
    with torch.inference_mode():  # the traced graph is the model itself (its logits on the clean photo) …
        np.testing.assert_allclose(clean[output].numpy(), net.model(x).numpy(), rtol=1e-5, atol=1e-5)
    assert (logits.softmax(1) - full[output].softmax(1)).abs().max() <= 1e-5  # … so these are the model's


SHARPEN = {"alexnet": 3000.0, "resnet18": 100.0}  # random weights: the last layer's scale (see below)


@pytest.mark.parametrize(
    ("arch", "layer"),
    [("efficientnet_lite0", "blocks.3"), ("resnet18", "layer2.1"), ("alexnet", "features.7")],
)
def test_maps_a_b_c_equal_the_full_method(arch, layer, chelsea):
    """The three ZF maps of a whole (coarse, 8×8) grid are the same by either method (a, c within 1e-5 of
    each other's scale; b identical): a network with real weights, a residual one and a plain
    convolution / pooling stack (AlexNet; VGG-16's every layer is checked above). Random weights leave the
    softmax nearly uniform, which would make map (a) flat and its comparison empty: their last layer is
    scaled (a private copy) until the occluded probabilities spread (AlexNet 0.44, ResNet-18 0.04)."""
    net = cnnviz.load(arch, device="cpu")
    if arch in SHARPEN:
        net = replace(net, model=copy.deepcopy(net.model))
        last = [m for m in net.model.modules() if isinstance(m, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.weight.mul_(SHARPEN[arch])
    kwargs = dict(window=48, stride=24, layer=layer, batch_size=5)
    full = occlusion(net, chelsea, method="full", **kwargs)
    fast = occlusion(net, chelsea, method="incremental", **kwargs)
    assert np.abs(fast.probability - full.probability).max() <= 1e-5
    assert (fast.argmax == full.argmax).all()
    assert np.allclose(fast.activation, full.activation, rtol=1e-5, atol=1e-5 * np.abs(full.activation).max())
    assert fast.channel == full.channel
    assert np.ptp(full.activation) > 0 and np.ptp(full.probability) > 0.01


def test_sliding_arithmetic_matches_pytorch_on_odd_layers():
    """Changed outputs found by Sliding contain every output pixel a changed input pixel changes, for
    strides above the kernel, dilation, and padding (checked against a real convolution)."""
    cases = [(3, 1, 1, 1), (3, 2, 1, 1), (1, 2, 1, 0), (5, 3, 2, 2), (2, 4, 1, 0), (7, 2, 1, 3)]
    for kernel, stride, dilation, padding in cases:
        rule = Sliding(kernel, stride, dilation, padding)
        size = 29
        conv = torch.nn.Conv1d(1, 1, kernel, stride, padding, dilation, bias=False)
        torch.nn.init.constant_(conv.weight, 1.0)
        base = torch.rand(1, 1, size)
        outputs = conv(base).shape[-1]
        for start in range(0, size - 3):
            bumped = base.clone()
            bumped[..., start : start + 3] += 1.0
            diff = (conv(bumped) - conv(base)).abs()[0, 0] > 0
            first, count = rule.changed_outputs(torch.tensor([start]), 3, outputs)
            inside = torch.zeros(outputs, dtype=torch.bool)
            inside[int(first) : int(first) + count] = True
            assert not (diff & ~inside).any(), (kernel, stride, dilation, padding, start)


@pytest.mark.parametrize("tracing", ["incremental graph", "block diagram"])
def test_tracing_does_not_disturb_other_threads(lite0, coffee, tracing):
    """fx patches nn.Module for the whole process while it traces: predictions on the same shared
    parameters in other threads must still come out right meanwhile, whether the trace is occlusion's
    graph or the Layers page's drawing of a block (a session switching network while the previous run
    still drew its diagram once met fx's tracer in its own forward pass)."""
    from cnnviz.diagram import block_dot
    from cnnviz.layers import layer_table

    table = layer_table("efficientnet_lite0", 224)
    spec = cnnviz.get_spec("efficientnet_lite0")
    traces = {
        "incremental graph": lambda: trace(lite0.model),
        "block diagram": lambda: block_dot(spec, "blocks.1.0", table),
    }
    expected = [s.index for s in cnnviz.predict(lite0, coffee).scores]
    stop, failures = threading.Event(), []

    def predict_repeatedly():
        while not stop.is_set():
            try:
                if [s.index for s in cnnviz.predict(lite0, coffee).scores] != expected:
                    failures.append("different top-5")
            except Exception as exc:  # any failure in the other thread is the finding
                failures.append(repr(exc))

    workers = [threading.Thread(target=predict_repeatedly) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        for _ in range(15):
            assert traces[tracing]() is not None
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert failures == []


def test_tracings_in_several_threads_at_once_all_succeed(lite0):
    """Two heavy-work queues (a CPU and a GPU one, or CNNVIZ_HEAVY_SLOTS > 1) may trace the same model at
    the same time: each trace must come out whole (overlapping ones used to undo each other's patches)."""
    reference = len(trace(lite0.model).graph.nodes)
    counts, failures = [], []

    def trace_twice():
        try:
            counts.extend(len(trace(lite0.model).graph.nodes) for _ in range(2))
        except Exception as exc:  # any failure in a thread is the finding
            failures.append(repr(exc))

    threads = [threading.Thread(target=trace_twice) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert counts == [reference] * 6
