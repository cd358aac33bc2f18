"""The result every class-evidence method returns: where in the input the evidence for one class lies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.explain.graphs import private_graph
from cnnviz.models.loading import LoadedModel


@dataclass(frozen=True)
class ClassMap:
    """Evidence for class ``target`` found by ``method``, at the network's input resolution.

    ``values``: H×W float32, ≥ 0, unnormalised, in the method's own units (see each method);
    ``pixels``: the C×H×W signed attribution in input space, or None for methods that explain a layer
    (Grad-CAM); ``layer``: the layer a layer method used; ``error``: for methods that approximate an
    integral, |sum of attributions − (logit at the input − logit at the baseline)|, in logits, and
    ``steps`` the number of points the integral took.
    """

    method: str
    target: int
    values: np.ndarray
    pixels: np.ndarray | None = None
    layer: str | None = None
    error: float | None = None
    steps: int | None = None


def checked_target(logits: torch.Tensor, target: int | None) -> int:
    """``target`` (default: the top-1 of ``logits``, 1×K), checked to be a class of the network."""
    target = int(logits.argmax()) if target is None else int(target)
    if not 0 <= target < logits.shape[1]:
        raise CnnvizError("target_range", last=logits.shape[1] - 1, target=target)
    return target


def explained_input(
    net: LoadedModel, image: Image.Image, target: int | None
) -> tuple[torch.Tensor, nn.Module, torch.Tensor, int]:
    """What every class map starts from: the preprocessed input (1×C×H×W float32), a private graph of the
    model, its logits on the input (1×K, no gradient) and the checked target class (default: the top-1)."""
    x = net.to_input(net.preprocess(image)).float()
    graph = private_graph(net.model)
    with torch.no_grad():
        logits = graph(x)
    return x, graph, logits, checked_target(logits, target)
