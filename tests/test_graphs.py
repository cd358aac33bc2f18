"""Private graphs: same tensors as the shared model; hooks, flags and child swaps stay private."""

from __future__ import annotations

import torch
from torch import nn

import cnnviz
from cnnviz.explain.graphs import private_graph


def test_a_private_graph_shares_tensors_and_keeps_changes_to_itself(chelsea):
    net = cnnviz.load("efficientnet_lite0", device="cpu")
    x = net.to_input(net.preprocess(chelsea))
    graph = private_graph(net.model)
    shared = dict(net.model.named_parameters())
    assert all(tensor is shared[name] for name, tensor in graph.named_parameters())
    assert all(a is b for a, b in zip(graph.buffers(), net.model.buffers(), strict=True))

    seen = []
    graph.blocks[2].register_forward_hook(lambda module, inputs, output: seen.append(output.shape))
    graph.classifier = nn.Identity()
    graph.train()
    inplace = net.model.bn2.act.inplace
    graph.bn2.act.inplace = not inplace
    assert not net.model.training and not net.model.blocks[2]._forward_hooks
    assert isinstance(net.model.classifier, nn.Linear) and net.model.bn2.act.inplace is inplace
    with torch.inference_mode():
        assert net.model(x).shape == (1, 1000) and not seen
        assert graph.eval()(x).shape == (1, 1280)
    assert seen


def test_a_module_used_twice_stays_one_module():
    relu = nn.ReLU()
    model = nn.Sequential(nn.Conv2d(1, 1, 1), relu, nn.Conv2d(1, 1, 1), relu)
    graph = private_graph(model)
    assert graph[1] is graph[3] and graph[1] is not relu
