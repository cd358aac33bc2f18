"""The CAM family beside Grad-CAM, through pytorch-grad-cam (``grad-cam`` on PyPI, J. Gildenblat, MIT):
Grad-CAM++ (Chattopadhay et al. 2018), Score-CAM (Wang et al. 2020), Layer-CAM (Jiang et al. 2021),
Eigen-CAM (Muhammad & Yeasin 2020) and Ablation-CAM (Desai & Ramaswamy 2020).

Why this library rather than torchcam: it implements all five (torchcam has no Eigen-CAM and no
Ablation-CAM), it is maintained and the most used of the two, its licence is MIT, and Score-CAM and
Ablation-CAM run their one-forward-pass-per-channel loops in batches whose size can be set, so they are
batched to the device's memory here (:func:`cnnviz.explain.occlusion.batch_size_for`).

How it touches the shared model, and why no session sees another's work:
- its hooks (and Ablation-CAM's swap of the layer for an ablation layer) go on a private graph
  (:func:`cnnviz.explain.graphs.private_graph`), thrown away after the call;
- the shared parameters stay frozen: the input carries the gradient, so the backward pass writes no
  ``.grad`` on the shared weights;
- Ablation-CAM gets a new ablation layer per call (the library's default is one object shared by every
  instance, which two sessions at once would both write to);
- the library's tqdm bars are replaced by this module's progress: each forward pass through the private
  graph is counted (images), which also lets Stop end the loop between two batches.

One loop rewritten, here: Score-CAM's channel weights. The library builds every masked copy of the input
at once (C×3×H×W floats: 770 MB for Lite0's 1,280-channel last stage, per request, on a server many
students share) before running them in batches; :func:`_lean_score_cam_class` builds each batch's copies
when that batch runs (16×3×224×224 floats, 10 MB) with the same operations, so the maps are the
library's within float rounding (1e-5, ``tests/test_cam_family.py``), and runs them without autograd
bookkeeping (``torch.inference_mode``).

One correction, written here: Eigen-CAM's first principal component has no sign of its own, and the
library keeps whichever sign the SVD returns (pytorch-grad-cam issue #315: with some LAPACK builds the map
shows everything but the object; on this machine's NumPy it showed the background of the cat photo).
:func:`oriented_projection` turns it to agree with where the layer's units fire; otherwise the library's
computation is used unchanged.

``values``: the library's map for the target class, H×W at the input size, each map scaled to 0–1 by the
library (its maps are compared by shape, not by units).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.explain.classmap import ClassMap, checked_target
from cnnviz.explain.graphs import layer_module, private_graph
from cnnviz.explain.progress import Cancelled, Progress, report
from cnnviz.layers import last_stage
from cnnviz.models.loading import LoadedModel


class _NoBars:
    """Stands in for the ``tqdm`` module inside the library's per-channel loops: no bar on stderr (the
    command line prints one line of its own; the page shows its own bar)."""

    @staticmethod
    def tqdm(iterable, *args, **kwargs):
        return iterable


@dataclass(frozen=True)
class LibraryCam:
    """How to build one method of the library: its class name, whether it runs a forward pass per channel
    of the layer (``per_channel``: heavy, batched, progress per batch) and how many whole-input forward
    passes it makes besides (``passes``)."""

    class_name: str
    per_channel: bool = False
    passes: int = 1
    gradients: bool = False  # a backward pass to the layer (then the input carries the gradient)

    def forward_passes(self, channels: int) -> int:
        """Images the method sends through the network for a layer of ``channels`` channels."""
        return self.passes + (channels if self.per_channel else 0)

    def build(self, graph: nn.Module, module: nn.Module, batch: int):
        import pytorch_grad_cam
        from pytorch_grad_cam import ablation_cam as ablation_module
        from pytorch_grad_cam import score_cam as score_module
        from pytorch_grad_cam.ablation_layer import AblationLayer

        score_module.tqdm = ablation_module.tqdm = _NoBars  # see the module docstring
        if self.class_name == "EigenCAM":
            cam_class = _oriented_eigen_cam_class()
        elif self.class_name == "ScoreCAM":
            cam_class = _lean_score_cam_class()
        else:
            cam_class = getattr(pytorch_grad_cam, self.class_name)
        if self.class_name == "AblationCAM":
            return cam_class(graph, [module], ablation_layer=AblationLayer(), batch_size=batch)
        cam = cam_class(graph, [module])
        cam.compute_input_gradient = self.gradients  # the gradient flows to the input, not to the shared weights
        if self.per_channel:
            cam.batch_size = batch
        return cam


def oriented_projection(activations: np.ndarray) -> np.ndarray:
    """The library's Eigen-CAM projection (N×H×W) of ``activations`` (N×C×H×W), each map's sign chosen so
    that it correlates positively with the layer's summed positive activations (where its units fire)."""
    from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection

    projections = get_2d_projection(activations)
    firing = np.maximum(activations, 0).sum(axis=1)
    for index, (projection, fire) in enumerate(zip(projections, firing, strict=True)):
        if float(((projection - projection.mean()) * (fire - fire.mean())).sum()) < 0:
            projections[index] = -projection
    return projections


def _oriented_eigen_cam_class():
    """The library's EigenCAM with :func:`oriented_projection` (a class built on first use: the library is
    imported only when a map is asked for)."""
    from pytorch_grad_cam import EigenCAM

    class OrientedEigenCAM(EigenCAM):
        def get_cam_image(self, input_tensor, target_layer, target_category, activations, grads, eigen_smooth):
            return oriented_projection(activations)

    return OrientedEigenCAM


def _lean_score_cam_class():
    """The library's ScoreCAM with its channel weights computed batch by batch (see the module docstring)."""
    from pytorch_grad_cam import ScoreCAM

    class LeanScoreCAM(ScoreCAM):
        def get_cam_weights(self, input_tensor, target_layer, targets, activations, grads):
            with torch.inference_mode():
                maps = torch.from_numpy(activations).to(self.device)
                upsampled = torch.nn.UpsamplingBilinear2d(size=input_tensor.shape[-2:])(maps)
                highs = upsampled.view(upsampled.size(0), upsampled.size(1), -1).max(dim=-1)[0][:, :, None, None]
                lows = upsampled.view(upsampled.size(0), upsampled.size(1), -1).min(dim=-1)[0][:, :, None, None]
                upsampled = (upsampled - lows) / (highs - lows + 1e-8)
                scores = []
                for target, image, masks in zip(targets, input_tensor, upsampled, strict=True):
                    for start in range(0, masks.size(0), self.batch_size):
                        batch = image[None] * masks[start : start + self.batch_size, None]
                        scores.extend(target(output).cpu().item() for output in self.model(batch))
                scores = torch.tensor(scores, dtype=torch.float32).view(activations.shape[0], activations.shape[1])
                return torch.softmax(scores, dim=-1).numpy()

    return LeanScoreCAM


def _check_spatial(shapes: list[torch.Size], layer: str) -> None:
    """Refuse a layer that the forward pass never reached or whose output is not a map."""
    if not shapes or len(shapes[0]) != 4:
        raise CnnvizError("no_spatial_output", layer=layer, shape=str(tuple(shapes[0]) if shapes else ()))


def cam_method(name: str, library: LibraryCam) -> Callable[..., ClassMap]:
    """The class-map function ``name`` computed by the library's ``library.class_name``."""

    def explain(
        net: LoadedModel,
        image: Image.Image,
        *,
        layer: str | None = None,
        target: int | None = None,
        progress: Progress | None = None,
    ) -> ClassMap:
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

        from cnnviz.explain.occlusion import batch_size_for

        x = net.to_input(net.preprocess(image)).float()
        if layer is None:
            layer = last_stage(net.spec, x.shape[-1])
        if target is not None:  # refused before any work
            checked_target(torch.zeros(1, len(net.categories)), target)
        graph = private_graph(net.model)
        module = layer_module(graph, layer, net.spec.display)
        shapes: list[torch.Size] = []
        logits: list[torch.Tensor] = []  # of the first whole-input pass only, not of every batch after it

        def first(found: list, value) -> None:  # a forward hook returning something would replace the output
            if not found:
                found.append(value)

        module.register_forward_hook(lambda _module, _inputs, output: first(shapes, output.shape))
        graph.register_forward_hook(lambda _module, _inputs, output: first(logits, output.detach()))
        if library.per_channel:  # one pass first: the layer's channels size the progress bar
            with torch.no_grad():
                target = checked_target(graph(x), target)
            _check_spatial(shapes, layer)
        total = library.forward_passes(shapes[0][1] if shapes else 0)
        passes = [0]

        def count(_module, inputs) -> None:
            passes[0] += inputs[0].shape[0]
            report(progress, min(passes[0], total), total)

        graph.register_forward_pre_hook(count)
        batch = batch_size_for(net, x.shape[-1], amp=False)
        targets = None if target is None else [ClassifierOutputTarget(target)]  # None: the library's top-1
        try:
            with library.build(graph, module, batch) as cam, torch.set_grad_enabled(library.gradients):
                values = cam(x.clone().requires_grad_(library.gradients), targets)[0]
        except (CnnvizError, Cancelled):
            raise
        except Exception:
            _check_spatial(shapes, layer)  # the library's own error on a layer without a map says less
            raise
        _check_spatial(shapes, layer)
        report(progress, total, total)
        target = checked_target(logits[0][:1], target)  # the top-1 of the library's own first pass
        return ClassMap(name, target, np.asarray(values, dtype=np.float32), layer=layer)

    explain.__name__ = explain.__qualname__ = name
    explain.__doc__ = f"{name}: pytorch-grad-cam's {library.class_name} of class ``target`` at ``layer``."
    return explain


grad_cam_plus_plus = cam_method("gradcampp", LibraryCam("GradCAMPlusPlus", gradients=True))
score_cam = cam_method("scorecam", LibraryCam("ScoreCAM", per_channel=True))
layer_cam = cam_method("layercam", LibraryCam("LayerCAM", gradients=True))
eigen_cam = cam_method("eigencam", LibraryCam("EigenCAM"))
ablation_cam = cam_method("ablationcam", LibraryCam("AblationCAM", per_channel=True, passes=2))
