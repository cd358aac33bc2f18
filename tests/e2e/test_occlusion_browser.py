"""The Occlusion page in a real browser: the default 625-position grid for the default model is announced,
and a finer map is computed with its coarse preview first."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e


def test_waiting_time_before_the_button_and_a_coarse_map_before_the_final_one(server_url, page):
    """The default link announces 625 positions. Stride 10 (400 positions, a setting no other test computes,
    so nothing is cached): the page says how long it will take before the button; after the click a coarse
    map (a) at stride 40 appears, then the final map with its three panels replaces it. (One map per test
    run: each takes the server seconds.)"""
    page.page.goto(f"{server_url}/occlusion")
    page.page.get_by_text("625 positions (25×25).").wait_for(timeout=90_000)
    page.page.goto(f"{server_url}/occlusion?window=32&stride=10")
    page.page.get_by_text("400 positions (20×20).").wait_for(timeout=90_000)
    page.page.get_by_text(re.compile(r"^About \d+ s on this server \(CPU")).wait_for(timeout=60_000)
    page.page.get_by_role("button", name="Compute the maps").click()
    page.page.get_by_text("Coarse map (a) at stride 40 (5×5) — refining…").wait_for(timeout=120_000)
    page.page.screenshot(path=str(SCREENSHOTS / "occlusion-coarse.png"), full_page=True)
    page.page.get_by_text(re.compile(r"^400 positions in [\d.]+ s")).wait_for(timeout=300_000)
    page.page.get_by_text("(a) Probability of").first.wait_for(timeout=30_000)
    page.page.get_by_text("(c) Strongest channel of bn2").wait_for(timeout=30_000)
    assert page.page.get_by_text("refining…").count() == 0
    page.page.wait_for_timeout(1500)
    page.page.screenshot(path=str(SCREENSHOTS / "occlusion-400.png"), full_page=True)
    page.assert_clean()
