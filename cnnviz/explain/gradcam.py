"""Grad-CAM (Selvaraju et al., ICCV 2017) through captum's ``LayerGradCam``: the layer's maps weighted by
the mean gradient of the class logit, rectified and upsampled to the input."""

from __future__ import annotations

import torch
from PIL import Image

from cnnviz.errors import CnnvizError
from cnnviz.explain.classmap import ClassMap, explained_input
from cnnviz.explain.graphs import layer_module
from cnnviz.explain.progress import Progress, report
from cnnviz.layers import last_stage
from cnnviz.models.loading import LoadedModel


def grad_cam(
    net: LoadedModel,
    image: Image.Image,
    *,
    layer: str | None = None,
    target: int | None = None,
    progress: Progress | None = None,
) -> ClassMap:
    """Grad-CAM of class ``target`` (default: the top-1) at ``layer`` (default: the last layer with a
    spatial map). ``values``: ReLU of the gradient-weighted sum of the layer's maps (logit per unit of
    activation), bilinearly upsampled."""
    from captum.attr import LayerAttribution, LayerGradCam

    x, graph, _, target = explained_input(net, image, target)
    if layer is None:
        layer = last_stage(net.spec, x.shape[-1])
    module = layer_module(graph, layer, net.spec.display)
    with torch.enable_grad():
        cam = LayerGradCam(graph, module).attribute(x.clone().requires_grad_(), target=target, relu_attributions=True)
    if cam.dim() != 4:
        raise CnnvizError("no_spatial_output", layer=layer, shape=str(tuple(cam.shape)))
    upsampled = LayerAttribution.interpolate(cam.detach().float(), tuple(x.shape[-2:]), "bilinear")
    report(progress, 1, 1)
    return ClassMap("gradcam", target, upsampled[0, 0].cpu().numpy(), layer=layer)
