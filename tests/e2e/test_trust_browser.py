"""The "Can we trust the map?" page in a real browser, each check in another language, opened from a shared
link: Grad-CAM's maps as LeNet-5's blocks are randomised (English; Lite0's 21 blocks: the AppTest), the
deletion and insertion curves of two maps with their areas beside the random order's (Spanish), and the
pointing game on the astronaut's reference box (Portuguese)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS, wait_until_idle
from ui.text import t

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 180_000
IMAGES_SHOWN = """(count) => [...document.querySelectorAll('[data-testid="stImage"] img')]
    .filter((img) => img.complete && img.naturalWidth > 0).length >= count"""


def open_and_run(page, server_url: str, query: str, lang: str, button: str, arch: str = "EfficientNet-Lite0") -> None:
    page.goto(f"{server_url}/trust?{query}&lang={lang}")
    page.get_by_role("heading", name=t("trust.header", lang, arch=arch)).wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(page)
    page.get_by_role("button", name=t(button, lang)).click(timeout=TIMEOUT_MS)


def test_each_check_in_another_language(server_url, page):
    browser = page.page
    query = "check=randomisation&methods=gradcam&arch=lenet5&image=digit"
    open_and_run(browser, server_url, query, "en", "trust.run_randomisation", arch="LeNet-5")
    browser.get_by_text(t("trust.trained", "en") + " · ρ 1.00").wait_for(timeout=TIMEOUT_MS)
    browser.wait_for_function(IMAGES_SHOWN, arg=6, timeout=TIMEOUT_MS)  # the trained map and 5 blocks
    browser.locator('[data-testid="stVegaLiteChart"]').wait_for(timeout=TIMEOUT_MS)
    browser.get_by_text(t("trust.depths", "en", count=5, arch="LeNet-5")).wait_for(timeout=TIMEOUT_MS)
    browser.screenshot(path=str(SCREENSHOTS / "trust-randomisation-en.png"), full_page=True)

    open_and_run(browser, server_url, "check=deletion&methods=gradcam,saliency&steps=10", "es", "trust.run_curves")
    browser.get_by_text(t("trust.curve_deletion", "es")).wait_for(timeout=TIMEOUT_MS)
    browser.get_by_text(t("trust.curve_insertion", "es")).wait_for(timeout=TIMEOUT_MS)
    charts = browser.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(1).wait_for(timeout=TIMEOUT_MS)
    browser.locator('[data-testid="stDataFrame"]').wait_for(timeout=TIMEOUT_MS)
    assert charts.count() == 2 and "steps=10" in browser.url
    browser.screenshot(path=str(SCREENSHOTS / "trust-curves-es.png"), full_page=True)

    open_and_run(browser, server_url, "check=pointing&methods=gradcam&image=astronaut", "pt", "trust.run_pointing")
    browser.get_by_text("Grad-CAM: " + t("trust.hit", "pt")).wait_for(timeout=TIMEOUT_MS)
    browser.get_by_text(t("trust.box", "pt", area=0.14)).wait_for(timeout=TIMEOUT_MS)
    browser.screenshot(path=str(SCREENSHOTS / "trust-pointing-pt.png"), full_page=True)
    page.assert_clean()
