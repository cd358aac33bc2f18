"""cnnviz: explore convolutional networks — predictions, deconvnet projections, occlusion, layer anatomy.

The engine is a plain library (no Streamlit); ``app.py`` and ``python -m cnnviz`` are front ends over it.

>>> import cnnviz
>>> net = cnnviz.load("efficientnet_lite0")           # bundled ImageNet weights, works offline
>>> cnnviz.predict(net, cnnviz.load_image("cat.jpg")).scores[0].label
"""

from cnnviz.errors import CnnvizError, ImageInputError, UnknownArchitectureError, WeightsError
from cnnviz.images import load_image
from cnnviz.models.loading import LoadedModel, load
from cnnviz.models.weights import WeightsSource
from cnnviz.models.zoo import ARCHITECTURES, DEFAULT_ARCH, ArchSpec, get_spec
from cnnviz.predict import ClassScore, Prediction, predict

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_ARCH",
    "ArchSpec",
    "ClassScore",
    "CnnvizError",
    "ImageInputError",
    "LoadedModel",
    "Prediction",
    "UnknownArchitectureError",
    "WeightsError",
    "WeightsSource",
    "get_spec",
    "load",
    "load_image",
    "predict",
]
