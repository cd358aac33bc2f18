"""Where the class thinks the network looks: the clicks' heat map and the share of clicks inside a map's top
region, on hand-made maps whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.trust.clicks import click_heat, share_inside, top_region


def test_the_heat_map_peaks_at_the_clicks_and_is_empty_without_them():
    assert not click_heat([], 32).any()
    heat = click_heat([(0.25, 0.75), (0.25, 0.75), (0.8, 0.1)], 64)
    assert heat.shape == (64, 64) and heat.max() == pytest.approx(1.0)
    assert np.unravel_index(heat.argmax(), heat.shape) in {(47, 15), (47, 16), (48, 15), (48, 16)}  # row, column
    assert heat[6, 51] == pytest.approx(0.5, abs=0.06)  # one click, half of the two that coincide


def test_the_share_inside_the_top_region_counts_the_clicks_that_land_there():
    values = np.zeros((100, 100), np.float32)
    values[:, 60:] = np.linspace(1.0, 2.0, 40)  # the right 40 %: its hottest half is the top fifth
    assert top_region(values).sum() == 2000 and top_region(values)[:, 80:].all()
    assert share_inside([(0.9, 0.5), (0.95, 0.1)], values) == 1.0
    assert share_inside([(0.9, 0.5), (0.65, 0.5), (0.1, 0.1), (0.2, 0.9)], values) == 0.25
    assert share_inside([], values) is None
    assert share_inside([(1.0, 1.0)], values) == 1.0  # the far corner is the last pixel, not outside
