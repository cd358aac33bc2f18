"""Does the map point at the object? Two localisation checks against the gallery's hand-drawn boxes
(``cnnviz/assets/reference_boxes.json``):

- the pointing game (Zhang et al., "Top-down Neural Attention by Excitation Backprop", IJCV 2018): a hit
  when the map's largest value lies inside the box;
- the energy inside the box (Wang et al., "Score-CAM", CVPR workshops 2020; Quantus's relevance mass
  accuracy, Arras et al. 2022): the share of the map's total that falls inside the box.

The box is drawn on the photo; it is carried to the network's input here through the photo's own
preprocessing (resize of the shorter side, centre crop, padding), as the maps are at that input. Quantus's
``PointingGame`` and ``RelevanceMassAccuracy`` take the same map and the box as a mask;
``tests/test_trust.py`` checks these figures against theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.models.preprocess import Preprocessing

POINTING = "pointing"  # the check's name on the command line


@dataclass(frozen=True)
class Localisation:
    """One map against one box (x0, y0, x1, y1 at the network's input, px): ``hit`` (a largest value of the
    map inside it), ``energy`` (the share of the map's total inside it, 0–1) and the box's own share of
    the input (``area``: the energy a flat map would have)."""

    box: tuple[int, int, int, int]
    hit: bool
    energy: float
    area: float

    def as_dict(self) -> dict:
        """The figures as the CLI's JSON prints them."""
        return {"box": list(self.box), "hit": self.hit, "energy": self.energy, "area": self.area}


def box_in_input(preprocessing: Preprocessing, photo_size: tuple[int, int], box) -> tuple[int, int, int, int]:
    """The photo box (x0, y0, x1, y1 in photo px, ``photo_size`` = width × height) in the network's input
    px: scaled as the shorter side is resized (torchvision truncates the longer side), shifted by the
    centre crop and the padding, clipped to the input."""
    width, height = photo_size
    short, long = sorted((width, height))
    longer = int(preprocessing.resize * long / short)  # torchvision's resize of the shorter side
    new_width, new_height = (preprocessing.resize, longer) if width <= height else (longer, preprocessing.resize)
    left = round((new_width - preprocessing.crop) / 2.0)  # torchvision's centre crop
    top = round((new_height - preprocessing.crop) / 2.0)
    side = preprocessing.input_size
    sx, sy = new_width / width, new_height / height
    x0, y0, x1, y1 = (
        box[0] * sx - left + preprocessing.pad,
        box[1] * sy - top + preprocessing.pad,
        box[2] * sx - left + preprocessing.pad,
        box[3] * sy - top + preprocessing.pad,
    )
    clip = lambda value: int(min(max(round(value), 0), side))  # noqa: E731
    return clip(x0), clip(y0), clip(x1), clip(y1)


def localisation(values: np.ndarray, box: tuple[int, int, int, int]) -> Localisation:
    """``values`` (H×W, ≥ 0) against ``box`` (input px; see :class:`Localisation`)."""
    x0, y0, x1, y1 = box
    inside = np.zeros(values.shape, dtype=bool)
    inside[y0:y1, x0:x1] = True
    hit = bool(np.any(inside & (values == values.max())))  # any of the largest values, as Quantus counts
    total = float(values.sum())
    energy = float(values[inside].sum()) / total if total > 0 else 0.0
    return Localisation(box, hit, energy, float(inside.mean()))
