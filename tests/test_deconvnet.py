"""Deconvnet projections: the paper's procedure against the backward formulation and captum, every
architecture's conv stages, the default model on a cat, and shared models under threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import cnnviz
from cnnviz.explain.deconvnet import Selection, project, project_tensor, zf_applies
from cnnviz.explain.graphs import channels_by_peak, layer_output
from cnnviz.explain.rectifiers import RectifierRule
from cnnviz.layers import conv_stages
from tests.conftest import CAT_CLASSES, architecture_sweep, cat_on_grey


def _relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(a).max())


def _input(net: cnnviz.LoadedModel, image: Image.Image, side: int | None) -> torch.Tensor:
    """``image`` as the network's input, resized to ``side`` px when given: the procedures are the same at any
    size, and VGG-16 at 224 px took 31 s of CI's time for the agreement below."""
    x = net.to_input(net.preprocess(image))
    return x if side is None else F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)


def _agreement(net: cnnviz.LoadedModel, image: Image.Image, layer: str, whole_map: bool, side: int | None) -> float:
    x = _input(net, image, side)
    unit = "map" if whole_map else None
    selections = [Selection(c, unit) for c in channels_by_peak(layer_output(net, x, layer), 3)]
    paper = project_tensor(net, x, layer, selections, "zf")
    backward = project_tensor(net, x, layer, selections, "backward")
    assert [p.method for p in paper] == ["zf"] * 3 and [p.method for p in backward] == ["backward"] * 3
    for p in paper:
        assert np.isfinite(p.pixels).all() and np.abs(p.pixels).max() > 0
    return max(_relative_difference(p.pixels, q.pixels) for p, q in zip(paper, backward, strict=True))


@pytest.mark.parametrize(
    ("arch", "layers", "side"),
    [
        pytest.param(  # VGG's switches and ReLUs, as VGG-16-BN's below and ZFNet's: under -m slow
            "vgg16", ["features.3", "features.16", "features.29", "features.30"], 112, marks=pytest.mark.slow
        ),  # early, middle, last ReLU, pool
        ("alexnet", ["features.1", "features.4", "features.7", "features.11", "features.12"], None),
        ("alexnet2012", ["features.relu1", "features.norm2", "features.relu4", "features.pool5"], None),  # LRN
        ("zfnet", ["features.pool1", "features.relu3", "features.pool5"], None),
        ("vgg16_bn", ["features.5", "features.43"], 112),  # batch normalisation: early and last stage
    ],
)
def test_paper_procedure_and_backward_formulation_agree(arch, layers, side, chelsea):
    """At the network's input size (VGG-16 at 112 px: a 3×3 map at its last pool still has switches)."""
    net = cnnviz.load(arch, device="cpu")
    for layer in layers:
        for whole_map in (False, True):
            assert _agreement(net, chelsea, layer, whole_map, side) < 1e-5, (layer, whole_map)


def test_the_rectifier_rule_is_what_makes_it_a_deconvnet(chelsea):
    """The plain gradient of the same unit differs: the agreement above is not vacuous."""
    net = cnnviz.load("vgg16", device="cpu")
    x = _input(net, chelsea, 112).float()
    layer = "features.22"
    projection = project_tensor(net, x, layer, [Selection(channels_by_peak(layer_output(net, x, layer), 1)[0])])[0]
    x_grad = x.clone().requires_grad_()
    with torch.enable_grad():
        output = net.model.features[:23](x_grad)
    seed = torch.zeros_like(output)
    row, col = projection.position
    seed[0, projection.channel, row, col] = projection.activation
    (gradient,) = torch.autograd.grad(output, x_grad, seed)
    assert _relative_difference(projection.pixels[0], gradient[0].numpy()) > 0.5


@pytest.mark.parametrize(
    ("arch", "layer", "side"),
    [("vgg16", "features.22", 112), ("alexnet", "features.9", None), ("resnet18", "layer2", None)],
)
def test_backward_formulation_and_guided_match_captum(arch, layer, side, chelsea):
    """captum's NeuronDeconvolution / NeuronGuidedBackprop give the gradient of one unit; ours seeds the
    unit with its activation, so the two differ by exactly that factor (VGG-16 at 112 px, as above)."""
    from captum.attr import NeuronDeconvolution, NeuronGuidedBackprop

    from cnnviz.explain.graphs import private_graph

    net = cnnviz.load(arch, device="cpu")
    x = _input(net, chelsea, side).float()
    channel = channels_by_peak(layer_output(net, x, layer), 1)[0]
    for method, captum_class in (("backward", NeuronDeconvolution), ("guided", NeuronGuidedBackprop)):
        ours = project_tensor(net, x, layer, [Selection(channel)], method)[0]
        graph = private_graph(net.model)
        for module in graph.modules():
            if hasattr(module, "inplace"):
                module.inplace = False  # captum's hooks need out-of-place ReLUs
        theirs = captum_class(graph, graph.get_submodule(layer)).attribute(
            x.clone().requires_grad_(), neuron_selector=(channel, *ours.position)
        )
        assert _relative_difference(ours.pixels, theirs[0].detach().numpy() * ours.activation) < 1e-4, method


def test_rule_covers_functional_reused_and_clipped_rectifiers():
    """A block with a reused ReLU module, a functional ReLU, ReLU6 and SiLU: every one is replaced."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.relu = nn.ReLU(inplace=True)
            self.relu6 = nn.ReLU6(inplace=True)

        def forward(self, x):
            y = self.relu(self.conv(x))
            y = self.relu(y - 0.1)  # the same module again
            y = F.relu(y - 0.2, inplace=True)
            return F.silu(self.relu6(y * 3))

    torch.manual_seed(0)
    block = Block().eval()
    x = torch.randn(1, 3, 8, 8, requires_grad=True)
    with RectifierRule("deconvnet") as rule:
        out = block(x)
    assert rule.rectifier_calls == 5
    seed = torch.randn_like(out)
    (ours,) = torch.autograd.grad(out, x, seed)
    # by hand: rectify the signal at every rectifier, transpose everything else
    signal = seed.clamp(min=0)  # silu
    signal = (signal.clamp(min=0) * 3).clamp(min=0).clamp(min=0).clamp(min=0)  # relu6, ×3, relu, relu, relu
    (expected,) = torch.autograd.grad(block.conv(x), x, signal)
    torch.testing.assert_close(ours, expected)


@pytest.mark.parametrize("arch", architecture_sweep({"vgg16": "vgg11"}))  # VGG-11's layers, deeper
def test_every_architecture_projects_every_conv_stage(chelsea, arch):
    """Every architecture (a deeper sibling with the same layers as one checked here: under ``-m slow``)."""
    net = cnnviz.load(arch, device="cpu")
    x = net.to_input(net.preprocess(chelsea))
    side = net.preprocess.input_size
    for layer in conv_stages(arch):
        channel = channels_by_peak(layer_output(net, x, layer), 1)[0]
        (projection,) = project_tensor(net, x, layer, [Selection(channel)])
        assert projection.method == ("zf" if zf_applies(net, layer) else "backward")
        assert projection.pixels.shape == (net.spec.in_channels, side, side), (arch, layer)
        assert np.isfinite(projection.pixels).all(), (arch, layer)
        assert np.abs(projection.pixels).max() > 0, (arch, layer)


def test_default_model_projects_late_channels_onto_the_cat(lite0):
    canvas, rows, cols = cat_on_grey()
    assert cnnviz.predict(lite0, canvas).scores[0].index in CAT_CLASSES
    area = (rows.stop * cols.stop) / 224**2
    for layer in ("blocks.5.3", "blocks.6.0", "bn2"):
        map_side = layer_output(lite0, lite0.to_input(lite0.preprocess(canvas)), layer).shape[-1]
        for method, share in (("backward", 1.5 * area), ("guided", 0.9)):
            projections = project(lite0, canvas, layer, method=method)
            assert len(projections) == 9 and (projections.layer, projections.method) == (layer, method)
            on_cat = []
            for p in projections:
                row, col = p.position  # the strongest unit sits on the cat …
                assert row * 224 / map_side < rows.stop and col * 224 / map_side < cols.stop, (layer, p)
                energy = (p.pixels.astype(np.float64) ** 2).sum(axis=0)
                on_cat.append(energy[rows, cols].sum() / energy.sum())
            assert np.mean(on_cat) > share, (layer, method, on_cat)  # … and projects onto it


def test_errors_are_clear(lite0, chelsea):
    with pytest.raises(cnnviz.CnnvizError, match="no layer"):
        project(lite0, chelsea, "blocks.99")
    with pytest.raises(cnnviz.CnnvizError, match="Channel must be between 0 and"):
        project(lite0, chelsea, "bn2", channels=[5000])
    with pytest.raises(cnnviz.CnnvizError, match="no spatial output"):
        project(lite0, chelsea, "classifier")
    with pytest.raises(cnnviz.CnnvizError, match="plain convolution"):
        project(lite0, chelsea, "bn2", method="zf")
    with pytest.raises(cnnviz.CnnvizError, match="Method must be"):
        project(lite0, chelsea, "bn2", method="magic")


def test_shared_model_under_threads_gives_the_serial_results(lite0, chelsea, coffee):
    """Deconvnet, guided backprop and plain prediction at once on one shared model: exactly the serial
    results, and the shared model carries no hooks afterwards."""
    jobs = [
        ("predict", chelsea),
        ("deconv", chelsea),
        ("guided", coffee),
        ("predict", coffee),
        ("deconv", coffee),
        ("guided", chelsea),
    ] * 3

    def run(job):
        kind, image = job
        if kind == "predict":
            return np.array([s.prob for s in cnnviz.predict(lite0, image, top=5).scores])
        method = "backward" if kind == "deconv" else "guided"
        return np.stack([p.pixels for p in project(lite0, image, "blocks.5.3", channels=[1, 2], method=method)])

    serial = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        parallel = list(pool.map(run, jobs))
    for job, expected, got in zip(jobs, serial, parallel, strict=True):
        np.testing.assert_array_equal(expected, got, err_msg=job[0])
    hooks = [m for m in lite0.model.modules() if m._forward_hooks or m._forward_pre_hooks or m._backward_hooks]
    assert not hooks
