"""Sample photos for the gallery and the tests, from ``skimage.data`` (installed with scikit-image, offline)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from cnnviz.images import to_rgb

# name → what the photo shows (the ImageNet class a good model should find, where there is one)
GALLERY = {
    "chelsea": "a tabby cat (Chelsea)",
    "coffee": "a cup of espresso",
    "astronaut": "astronaut Eileen Collins",
    "rocket": "a rocket on its launch pad",
    "camera": "a cameraman (grey scale)",
    "coins": "Greek coins (grey scale)",
}


def gallery_image(name: str) -> Image.Image:
    """The gallery photo ``name`` as an RGB PIL image."""
    if name not in GALLERY:
        raise KeyError(f"No gallery image {name!r}; choose one of {', '.join(GALLERY)}.")
    import skimage.data

    array = np.asarray(getattr(skimage.data, name)())
    return to_rgb(Image.fromarray(array))
