"""Where a class thinks the network looks, against where it does: the students' clicks on the photo as a heat
map, and the share of clicks that land in a map's top region (the pixels holding its largest values).

Clicks are (x, y) in 0–1 across and down the network's input crop, so they meet the maps (H×W at the input
size, as :func:`cnnviz.trust.evidence.evidence_map` gives them) without a resize. Written here: it is a
kernel density and a quantile, a few lines of numpy; the pointing game (:mod:`cnnviz.trust.localisation`) asks
the opposite question, whether a map's peak lands in a box.
"""

from __future__ import annotations

import numpy as np

TOP_SHARE = 0.2  # a map's top region: the fifth of its pixels with the largest values
SPREAD = 0.04  # the heat map's Gaussian, a share of the photo's side (9 px at 224 px)


def click_heat(clicks: list[tuple[float, float]], side: int, spread: float = SPREAD) -> np.ndarray:
    """The clicks as a side×side heat map (float32): a Gaussian of ``spread``·``side`` px around each click,
    summed and scaled to a peak of 1; zeros when there are none."""
    heat = np.zeros((side, side), np.float32)
    if not clicks:
        return heat
    axis = (np.arange(side, dtype=np.float32) + 0.5) / side
    sigma = max(spread, 1e-3)
    for x, y in clicks:
        across = np.exp(-0.5 * ((axis - x) / sigma) ** 2)
        down = np.exp(-0.5 * ((axis - y) / sigma) ** 2)
        heat += np.outer(down, across)
    return heat / heat.max()


def top_region(values: np.ndarray, share: float = TOP_SHARE) -> np.ndarray:
    """Where ``values`` (H×W) is among its largest ``share`` of pixels: a boolean mask (ties at the threshold
    included)."""
    threshold = np.quantile(values, 1.0 - share)
    return values >= threshold


def share_inside(clicks: list[tuple[float, float]], values: np.ndarray, share: float = TOP_SHARE) -> float | None:
    """The share of ``clicks`` that land in ``values``' top region; None when there are none."""
    if not clicks:
        return None
    region = top_region(values, share)
    rows, columns = region.shape
    inside = [region[min(int(y * rows), rows - 1), min(int(x * columns), columns - 1)] for x, y in clicks]
    return float(np.mean(inside))
