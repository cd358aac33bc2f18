"""The students' open questions (deck 004) in a real Chromium, each in one of the three languages: an
image optimised for a channel beside its projection (Spanish), the zoo timed on this server
(Portuguese), pooling against stride (its precomputed default, English). Each computation is started by
its own button press; untranslated text on every page is the languages crawl's job."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS, slider_to_minimum, wait_until_idle
from ui.text import t

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 180_000


def press_then_wait(button, result) -> None:
    """Press ``button`` (it must be there: no other test computes these inputs), then wait for ``result``."""
    button.click(timeout=TIMEOUT_MS)
    result.first.wait_for(timeout=TIMEOUT_MS)


# The pictures of the open tab, loaded. The Deconvnet page's other tabs hold pictures too: a rerun may give
# them new addresses while they are hidden, and a hidden lazy picture never loads (the wait would never end).
SHOWN_IMAGES_LOADED = """(count) => {
    const images = [...document.querySelectorAll('[data-testid="stImage"] img')]
        .filter((img) => img.getClientRects().length > 0);
    return images.length >= count && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


def test_an_image_optimised_for_a_channel_sits_beside_its_projection(server_url, page):
    browser, lang = page.page, "es"
    browser.goto(f"{server_url}/deconvnet?layer=blocks.2.1&channel=3&lang={lang}")
    browser.get_by_role("tab", name=t("deconv.tab_featurevis", lang)).click(timeout=TIMEOUT_MS)
    run = browser.get_by_role("button", name=t("deconv.fv_run", lang, channel=3))
    run.wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(browser)
    assert slider_to_minimum(browser, t("deconv.fv_steps", lang)) == "32"  # what the image looks like, quickly
    wait_until_idle(browser)
    optimised = browser.get_by_text(t("deconv.fv_caption_channel", lang, channel=3, activation=0).split(" · ")[0])
    press_then_wait(run, optimised)
    browser.get_by_text(t("deconv.fv_patches", lang, channel=3)).wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(browser)
    browser.wait_for_function(SHOWN_IMAGES_LOADED, arg=2, timeout=TIMEOUT_MS)
    browser.screenshot(path=str(SCREENSHOTS / f"featurevis-{lang}.png"), full_page=True)
    page.assert_clean()


def test_the_hardware_page_times_architectures_on_this_server(server_url, page):
    browser, lang = page.page, "pt"
    browser.goto(f"{server_url}/hardware?archs=lenet5,mobilenet_v2,resnet18&lang={lang}")
    run = browser.get_by_role("button", name=t("hw.run", lang, count=3))
    measured = browser.get_by_role("heading", name=t("hw.measured", lang, device="CPU", dtype="").split(":")[0])
    press_then_wait(run, measured)
    browser.locator('[data-testid="stVegaLiteChart"]').nth(1).wait_for(timeout=TIMEOUT_MS)
    browser.get_by_role("heading", name=t("hw.keras", lang)).wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(browser)
    browser.screenshot(path=str(SCREENSHOTS / f"hardware-{lang}.png"), full_page=True)
    page.assert_clean()


def test_the_pooling_lab_opens_on_its_precomputed_default(server_url, page):
    """Training on demand is checked under AppTest (tests/app/test_lab_views.py), in one epoch."""
    browser, lang = page.page, "en"
    browser.goto(f"{server_url}/pooling?lang={lang}")
    values = {"macs": 4, "speed": 1, "pool_accuracy": 0, "stride_accuracy": 0, "pool_two": 0, "stride_two": 0}
    reading = browser.get_by_text(t("pool.reading", lang, **values).replace("**", "")[:20])
    reading.wait_for(timeout=TIMEOUT_MS)
    browser.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=TIMEOUT_MS)
    browser.get_by_role("button", name=t("pool.run", lang)).wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(browser)
    browser.screenshot(path=str(SCREENSHOTS / f"pooling-{lang}.png"), full_page=True)
    page.assert_clean()
