"""The Localization page in a real browser (in Portuguese): the one-pass grid beside the per-window grid,
then the boxes before and after non-max suppression, for the gallery cat with the bundled Lite0, each
computed by its own button press."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SCREENSHOTS, wait_until_idle
from ui.text import t

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 180_000


def test_one_pass_grid_and_boxes_appear(server_url, page):
    browser, lang = page.page, "pt"
    browser.goto(f"{server_url}/localization?lang={lang}&size=320")  # 36 windows (448 px: 120)
    browser.get_by_role("heading", name=t("loc.header", lang, arch="EfficientNet-Lite0")).wait_for(timeout=TIMEOUT_MS)
    browser.get_by_role("button", name=t("loc.fcn_run", lang)).click(timeout=TIMEOUT_MS)
    browser.get_by_text(t("loc.one_pass", lang, rows=4, columns=9)).wait_for(timeout=TIMEOUT_MS)
    browser.get_by_text(t("loc.crops", lang, rows=4, columns=9)).wait_for(timeout=TIMEOUT_MS)
    passes = t("loc.passes", lang, passes=36, ms=0).split("36")[0]
    browser.get_by_text(re.compile("^" + re.escape(passes) + "36")).wait_for(timeout=TIMEOUT_MS)
    grids = browser.locator('[data-testid="stTabPanel"]').first.locator('[data-testid="stImage"] img')
    grids.nth(1).wait_for(timeout=TIMEOUT_MS)
    assert grids.count() == 2
    browser.screenshot(path=str(SCREENSHOTS / f"localization-grid-{lang}.png"), full_page=True)

    browser.get_by_role("tab", name=t("loc.tab_sliding", lang)).click()
    browser.get_by_role("button", name=t("loc.sliding_run", lang)).click(timeout=TIMEOUT_MS)
    after = t("loc.after", lang, count=0).rsplit("0", 1)[0]
    browser.get_by_text(re.compile("^" + re.escape(after) + r"\d+")).wait_for(timeout=TIMEOUT_MS)
    boxes = browser.locator('[data-testid="stTabPanel"]').nth(2).locator('[data-testid="stImage"] img')
    boxes.nth(1).wait_for(timeout=TIMEOUT_MS)
    assert boxes.count() == 2
    browser.screenshot(path=str(SCREENSHOTS / f"localization-boxes-{lang}.png"), full_page=True)

    browser.get_by_role("tab", name=t("loc.tab_cam", lang)).click()
    browser.get_by_text(t("loc.iou_metric", lang)).wait_for(timeout=TIMEOUT_MS)
    page.assert_clean()


def test_a_box_drawn_on_the_photo_is_compared_with_the_cam_box(server_url, page):
    """The student draws a rectangle on the photo (the canvas in rectangle mode); the IoU is then measured
    against that box instead of the gallery's."""
    browser = page.page
    browser.goto(f"{server_url}/localization")
    browser.get_by_role("tab", name=t("loc.tab_cam", "en")).wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(browser)
    browser.get_by_role("tab", name=t("loc.tab_cam", "en")).click()
    browser.get_by_text(t("loc.reference_gallery", "en", label="tiger cat")).wait_for(timeout=TIMEOUT_MS)
    browser.get_by_text(t("loc.draw_box", "en")).click()
    canvas = browser.locator('[data-testid="stTabPanel"]').nth(3).locator("canvas").last
    canvas.wait_for(timeout=TIMEOUT_MS)
    browser.wait_for_timeout(2000)
    box = canvas.bounding_box()
    x, y = box["x"] + 10, box["y"] + 10
    browser.mouse.move(x, y)
    browser.mouse.down()
    browser.mouse.move(x + 190, y + 140, steps=10)
    browser.mouse.move(x + 380, y + 280, steps=10)
    browser.mouse.up()
    browser.get_by_text(t("loc.reference_drawn", "en")).wait_for(timeout=TIMEOUT_MS)
    metric = browser.locator('[data-testid="stMetric"]').filter(has_text=t("loc.iou_metric", "en"))
    assert 0.5 < float(metric.inner_text().split()[-1]) <= 1
    browser.screenshot(path=str(SCREENSHOTS / "localization-drawn-box.png"), full_page=True)
    page.assert_clean()


def test_lenet5_reads_a_row_drawn_on_the_canvas(server_url, page):
    """Three strokes drawn far apart on the row canvas are three ones, read in one pass."""
    browser = page.page
    browser.goto(f"{server_url}/localization")
    browser.get_by_role("tab", name=t("loc.tab_rows", "en")).wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(browser)
    browser.get_by_role("tab", name=t("loc.tab_rows", "en")).click()
    browser.get_by_text(t("loc.rows_draw", "en")).click()
    canvas = browser.locator('[data-testid="stTabPanel"]').nth(1).locator("canvas").last
    canvas.wait_for(timeout=TIMEOUT_MS)
    browser.wait_for_timeout(2000)
    box = canvas.bounding_box()
    for k in range(3):
        x = box["x"] + 100 + k * 250
        browser.mouse.move(x, box["y"] + 20)
        browser.mouse.down()
        browser.mouse.move(x, box["y"] + 150, steps=15)
        browser.mouse.up()
        browser.wait_for_timeout(500)
    browser.get_by_text(re.compile(r"^LeNet-5 reads: 111 ")).wait_for(timeout=TIMEOUT_MS)
    browser.screenshot(path=str(SCREENSHOTS / "localization-drawn-row.png"), full_page=True)
    page.assert_clean()
