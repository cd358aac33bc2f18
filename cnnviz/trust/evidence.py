"""One evidence map per method, for the checks: where, at the network's input resolution, a method puts the
evidence for one class.

The class maps (Grad-CAM and its family, saliency, Integrated Gradients) are :data:`cnnviz.explain.CLASS_MAPS`'
own. The deconvnet and guided backpropagation explain a class too when their signal starts at the class's
logit rather than at a unit (Adebayo et al. 2018 test them so): the gradient of the logit under each rule
(:class:`cnnviz.explain.rectifiers.RectifierRule`), its largest magnitude over the colour channels, as
saliency's.

Occlusion (Zeiler & Fergus 2014) explains a class by the fall of its probability when a grey square hides
each place: map (a) at input resolution (:class:`cnnviz.explain.occlusion.OcclusionMaps`' ``overlay``),
subtracted from the clean probability and rectified, at a coarse stride (:data:`OCCLUSION_STRIDE`) so that a
check that recomputes it at every randomised depth stays within seconds.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from cnnviz.errors import CnnvizError
from cnnviz.explain import CLASS_MAPS
from cnnviz.explain.classmap import explained_input
from cnnviz.explain.rectifiers import RectifierRule
from cnnviz.models.loading import LoadedModel

RULE_METHODS = ("deconvnet", "guided")
OCCLUSION = "occlusion"
EVIDENCE_METHODS = (*RULE_METHODS, *CLASS_MAPS, OCCLUSION)
OCCLUSION_WINDOW, OCCLUSION_STRIDE = 56, 28  # input px: 7×7 positions at 224 px (0.7 s on Lite0, 2 CPU cores)


def evidence_map(
    net: LoadedModel, image: Image.Image, method: str, target: int | None = None, steps: int | None = None
) -> np.ndarray:
    """``method``'s evidence for class ``target`` (default: the top-1) on ``image``: H×W float32, ≥ 0, at
    the network's input size; larger is more evidence. ``steps``: Integrated Gradients' points (default:
    its own, until the attributions add up). :class:`CnnvizError` for an unknown method."""
    if method not in EVIDENCE_METHODS:
        raise CnnvizError("trust_method", method=str(method)[:40], choices=", ".join(EVIDENCE_METHODS))
    if method == OCCLUSION:
        from cnnviz.explain.occlusion import occlusion

        maps = occlusion(net, image, OCCLUSION_WINDOW, OCCLUSION_STRIDE, target=target)
        return np.maximum(maps.clean_probability - maps.overlay, 0.0).astype(np.float32)
    if method == "integrated":
        return CLASS_MAPS[method](net, image, target=target, steps=steps).values.astype(np.float32)
    if method in CLASS_MAPS:
        return CLASS_MAPS[method](net, image, target=target).values.astype(np.float32)
    x, graph, _, target = explained_input(net, image, target)
    x = x.clone().requires_grad_()
    with torch.enable_grad(), RectifierRule(method):
        logits = graph(x)
        (gradient,) = torch.autograd.grad(logits[0, target], x)
    return gradient[0].abs().amax(dim=0).float().cpu().numpy()
