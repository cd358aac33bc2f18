"""Point labels that do not overlap on a scatter chart of known size.

Vega-Lite has no label-collision avoidance for text marks, so the labels are placed here: each point's
label tries a few spots around it (above, below, right, left, then further out) and takes the first that
overlaps no label placed before it; a label with no free spot is left out (its point keeps its tooltip).
Positions are computed in pixels of a chart of fixed ``width`` × ``height`` with explicit axis domains,
then turned back into data coordinates for the text mark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

CHAR_PX = 6.2  # average width of a 10 px sans-serif character
LINE_PX = 12  # height of one label
GAP_PX = 4


@dataclass(frozen=True)
class Frame:
    """A chart's plotting area: ``width`` × ``height`` px, x from ``x_low`` to ``x_high`` (log10 when
    ``log_x``), y from ``y_low`` to ``y_high``."""

    width: int
    height: int
    x_low: float
    x_high: float
    y_low: float
    y_high: float
    log_x: bool = True

    def _x(self, value: float) -> float:
        return math.log10(value) if self.log_x else value

    def to_px(self, x: float, y: float) -> tuple[float, float]:
        fx = (self._x(x) - self._x(self.x_low)) / (self._x(self.x_high) - self._x(self.x_low))
        fy = (y - self.y_low) / (self.y_high - self.y_low)
        return fx * self.width, (1 - fy) * self.height

    def from_px(self, px: float, py: float) -> tuple[float, float]:
        span = self._x(self.x_high) - self._x(self.x_low)
        x = self._x(self.x_low) + px / self.width * span
        y = self.y_low + (1 - py / self.height) * (self.y_high - self.y_low)
        return (10**x if self.log_x else x), y


def frame_around(points: pd.DataFrame, x: str, y: str, width: int, height: int) -> Frame:
    """A frame with some room around ``points`` (a factor of 1.6 on the log x axis, 2 points on y)."""
    return Frame(width, height, points[x].min() / 1.6, points[x].max() * 1.6, points[y].min() - 2, points[y].max() + 2)


def place_labels(points: pd.DataFrame, x: str, y: str, text: str, frame: Frame) -> pd.DataFrame:
    """``points`` with ``label_x`` / ``label_y`` (data coordinates of each label's centre) and ``labelled``
    (False where every spot was taken)."""
    placed: list[tuple[float, float, float, float]] = []
    rows = []
    for _, point in points.sort_values(y, ascending=False).iterrows():
        px, py = frame.to_px(point[x], point[y])
        half_w, half_h = len(str(point[text])) * CHAR_PX / 2, LINE_PX / 2
        spots = [
            (0, -(LINE_PX + GAP_PX)),
            (0, LINE_PX + GAP_PX),
            (half_w + 2 * GAP_PX, 0),
            (-(half_w + 2 * GAP_PX), 0),
            (0, -2 * (LINE_PX + GAP_PX)),
            (0, 2 * (LINE_PX + GAP_PX)),
        ]
        spot = None
        for dx, dy in spots:
            box = (px + dx - half_w, py + dy - half_h, px + dx + half_w, py + dy + half_h)
            inside = box[0] >= 0 and box[1] >= 0 and box[2] <= frame.width and box[3] <= frame.height
            if inside and not any(_overlap(box, other) for other in placed):
                placed.append(box)
                spot = frame.from_px(px + dx, py + dy)
                break
        rows.append(
            {**point.to_dict(), "label_x": spot and spot[0], "label_y": spot and spot[1], "labelled": spot is not None}
        )
    return pd.DataFrame(rows)


def label_boxes(labels: pd.DataFrame, text: str, frame: Frame) -> list[tuple[float, float, float, float]]:
    """The pixel boxes of the placed labels (for checking that none overlap)."""
    boxes = []
    for _, row in labels[labels["labelled"]].iterrows():
        px, py = frame.to_px(row["label_x"], row["label_y"])
        half_w, half_h = len(str(row[text])) * CHAR_PX / 2, LINE_PX / 2
        boxes.append((px - half_w, py - half_h, px + half_w, py + half_h))
    return boxes


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
