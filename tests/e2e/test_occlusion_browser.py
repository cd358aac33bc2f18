"""The Occlusion page in a real browser: the default 625-position map for the default model."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e


def test_default_map_of_625_positions(server_url, page):
    page.page.goto(f"{server_url}/occlusion")
    page.page.get_by_text("625 positions (25×25).").wait_for(timeout=90_000)
    page.page.get_by_role("button", name="Compute the maps").click()
    page.page.get_by_text(re.compile(r"^625 positions in [\d.]+ s")).wait_for(timeout=300_000)
    page.page.get_by_text("(c) Strongest channel of bn2").wait_for(timeout=30_000)
    page.page.wait_for_timeout(1500)
    page.page.screenshot(path=str(SCREENSHOTS / "occlusion-625.png"), full_page=True)
    page.assert_clean()
