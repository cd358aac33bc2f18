"""Explanation methods: what a network responds to, where its evidence for a class lies.

Every method takes the loaded model and the image, then keyword arguments naming what to explain (layer,
channel, unit, target class), its parameters and ``progress`` (see :mod:`cnnviz.explain.progress`), and
returns a typed record. :func:`cnnviz.explain.keys.result_key` names a result for the shared caches.

Class maps (where the evidence for one class lies) share one signature and one record,
:class:`~cnnviz.explain.classmap.ClassMap`; :data:`CLASS_MAPS` lists them for the page and the CLI, so a new
one is a module here and a line below.
"""

from cnnviz.explain.classmap import ClassMap
from cnnviz.explain.gradcam import grad_cam
from cnnviz.explain.integrated import integrated_gradients
from cnnviz.explain.saliency import saliency

CLASS_MAPS = {
    "gradcam": grad_cam,
    "saliency": saliency,
    "integrated": integrated_gradients,
}
USES_LAYER = frozenset({"gradcam"})  # the class maps that explain a layer; the others explain the input

__all__ = ["CLASS_MAPS", "USES_LAYER", "ClassMap", "grad_cam", "integrated_gradients", "saliency"]
