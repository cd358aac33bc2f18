"""Explanation methods: what a network responds to, where its evidence for a class lies.

Every method takes the loaded model and the image, then keyword arguments naming what to explain (layer,
channel, unit, target class), its parameters and ``progress`` (see :mod:`cnnviz.explain.progress`), and
returns a typed record. :func:`cnnviz.explain.keys.result_key` names a result for the shared caches.

Class maps (where the evidence for one class lies) share one signature and one record,
:class:`~cnnviz.explain.classmap.ClassMap`; :data:`CLASS_MAPS` describes them for the page and the CLI, so a
new one is its function and a line below.
"""

from collections.abc import Callable
from dataclasses import dataclass

from cnnviz.explain.cam_family import ablation_cam, eigen_cam, grad_cam_plus_plus, layer_cam, score_cam
from cnnviz.explain.classmap import ClassMap
from cnnviz.explain.gradcam import grad_cam
from cnnviz.explain.integrated import integrated_gradients
from cnnviz.explain.saliency import saliency


@dataclass(frozen=True)
class ClassMapMethod:
    """One class-map method: its CLI and link name, its function (``compute(net, image, *, target=None,
    progress=None[, layer=None])`` → :class:`ClassMap`), whether it explains a layer (it takes ``layer``;
    the others explain the input) and whether it is heavy (a forward pass per channel, or many gradient
    passes: queued, with progress and Stop, on the page)."""

    name: str
    compute: Callable[..., ClassMap]
    explains_layer: bool
    heavy: bool

    def __call__(self, *args, **kwargs) -> ClassMap:
        return self.compute(*args, **kwargs)


CLASS_MAPS = {
    method.name: method
    for method in (
        ClassMapMethod("gradcam", grad_cam, explains_layer=True, heavy=False),
        ClassMapMethod("saliency", saliency, explains_layer=False, heavy=False),
        ClassMapMethod("integrated", integrated_gradients, explains_layer=False, heavy=True),
        ClassMapMethod("gradcampp", grad_cam_plus_plus, explains_layer=True, heavy=False),
        ClassMapMethod("scorecam", score_cam, explains_layer=True, heavy=True),
        ClassMapMethod("layercam", layer_cam, explains_layer=True, heavy=False),
        ClassMapMethod("eigencam", eigen_cam, explains_layer=True, heavy=False),
        ClassMapMethod("ablationcam", ablation_cam, explains_layer=True, heavy=True),
    )
}
USES_LAYER = frozenset(name for name, method in CLASS_MAPS.items() if method.explains_layer)

__all__ = ["CLASS_MAPS", "USES_LAYER", "ClassMap", "ClassMapMethod", "grad_cam", "integrated_gradients", "saliency"]
