"""Sample images for the gallery and the tests: photos from ``skimage.data`` and one handwritten digit from
scikit-learn's digits (both installed with their packages, so the gallery works offline)."""

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
    "digit": "a handwritten 3, dark ink on paper (for LeNet-5)",
}

DIGIT_INDEX = 45  # a 3 in scikit-learn's digits, held out from LeNet-5's training split


def gallery_image(name: str) -> Image.Image:
    """The gallery photo ``name`` as an RGB PIL image."""
    if name not in GALLERY:
        raise KeyError(f"No gallery image {name!r}; choose one of {', '.join(GALLERY)}.")
    if name == "digit":
        return _digit_on_paper(DIGIT_INDEX)
    import skimage.data

    array = np.asarray(getattr(skimage.data, name)())
    return to_rgb(Image.fromarray(array))


def _digit_on_paper(index: int) -> Image.Image:
    """scikit-learn digit ``index`` drawn dark on white at 128×128 px with a white margin."""
    from cnnviz.digits import digit_arrays

    ink = (digit_arrays()[0][index] / 16.0 * 255).astype(np.uint8)
    digit = Image.fromarray(255 - ink).resize((96, 96), Image.BICUBIC)
    paper = Image.new("L", (128, 128), 255)
    paper.paste(digit, (16, 16))
    return paper.convert("RGB")
