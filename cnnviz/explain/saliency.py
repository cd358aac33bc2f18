"""Gradient saliency (Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional Networks", ICLR 2014
workshop) through captum's ``Saliency``: how much each input pixel can move the class logit."""

from __future__ import annotations

import torch
from PIL import Image

from cnnviz.explain.classmap import ClassMap, explained_input
from cnnviz.explain.progress import Progress, report
from cnnviz.models.loading import LoadedModel


def saliency(
    net: LoadedModel,
    image: Image.Image,
    *,
    target: int | None = None,
    layer: str | None = None,
    progress: Progress | None = None,
) -> ClassMap:
    """|∂ logit of ``target`` / ∂ input| (default: the top-1 class). ``pixels``: the signed gradient
    (logit per unit of normalised input), C×H×W; ``values``: its largest magnitude over the colour
    channels, as in the paper. ``layer`` is not used (the method explains the input)."""
    from captum.attr import Saliency

    x, graph, _, target = explained_input(net, image, target)
    with torch.enable_grad():
        gradient = Saliency(graph).attribute(x.clone().requires_grad_(), target=target, abs=False)
    pixels = gradient[0].detach().float().cpu()
    report(progress, 1, 1)
    return ClassMap("saliency", target, pixels.abs().amax(dim=0).numpy(), pixels=pixels.numpy())
