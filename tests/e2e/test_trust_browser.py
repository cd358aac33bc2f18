"""The "Can we trust the map?" page in a real browser (in Spanish), opened from a shared link:
deletion and insertion curves of two maps on one chart each, with their areas beside the random order's."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS, wait_until_idle
from ui.text import t

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 180_000


def test_curves_of_two_maps_from_a_link_in_spanish(server_url, page):
    browser, lang = page.page, "es"
    browser.goto(f"{server_url}/trust?check=deletion&methods=gradcam,occlusion&steps=10&lang={lang}")
    heading = t("trust.header", lang, arch="EfficientNet-Lite0")
    browser.get_by_role("heading", name=heading).wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(browser)
    browser.get_by_role("button", name=t("trust.run_curves", lang)).click(timeout=TIMEOUT_MS)
    browser.get_by_text(t("trust.curve_deletion", lang)).wait_for(timeout=TIMEOUT_MS)
    browser.get_by_text(t("trust.curve_insertion", lang)).wait_for(timeout=TIMEOUT_MS)
    charts = browser.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(1).wait_for(timeout=TIMEOUT_MS)
    table = browser.locator('[data-testid="stDataFrame"]')
    table.wait_for(timeout=TIMEOUT_MS)
    assert charts.count() == 2
    assert "steps=10" in browser.url and "methods=gradcam%2Cocclusion" in browser.url.replace(",", "%2C")
    browser.screenshot(path=str(SCREENSHOTS / f"trust-curves-{lang}.png"), full_page=True)
    page.assert_clean()
