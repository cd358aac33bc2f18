"""Compare-page point labels: every architecture named, no two names overlapping, on both accuracy axes."""

from __future__ import annotations

import pandas as pd
import pytest

from cnnviz.compare import architecture_summary
from ui.chart_labels import Frame, frame_around, label_boxes, place_labels


def _overlaps(boxes) -> list:
    return [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


@pytest.mark.parametrize("metric", ["top1", "top5"])
def test_the_zoo_gets_one_label_per_point_and_none_overlap(metric):
    measured = architecture_summary().dropna(subset=[metric])
    frame = frame_around(measured, "gmacs", metric, 760, 440)
    placed = place_labels(measured, "gmacs", metric, "arch", frame)
    assert placed["labelled"].all() and len(placed) == len(measured) == 24
    assert not _overlaps(label_boxes(placed, "arch", frame))


def test_crowded_points_give_up_a_label_rather_than_overlap():
    points = pd.DataFrame({"x": [1.0] * 12, "y": [50.0] * 12, "name": [f"network{i}" for i in range(12)]})
    frame = Frame(300, 200, 0.1, 10.0, 40.0, 60.0)
    placed = place_labels(points, "x", "y", "name", frame)
    assert 0 < placed["labelled"].sum() < 12
    assert not _overlaps(label_boxes(placed, "name", frame))


def test_pixels_and_data_coordinates_round_trip():
    frame = Frame(760, 440, 0.1, 100.0, 50.0, 90.0)
    assert frame.to_px(0.1, 90.0) == (0.0, 0.0) and frame.to_px(100.0, 50.0) == (760.0, 440.0)
    x, y = frame.from_px(*frame.to_px(3.7, 71.2))
    assert x == pytest.approx(3.7) and y == pytest.approx(71.2)
