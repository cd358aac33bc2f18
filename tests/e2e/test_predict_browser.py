"""The Predict page in a real browser: the default model reads photos correctly, bad files are refused."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SCREENSHOTS, upload

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 90_000


def ranked_list(page) -> str:
    item = page.locator("ol").filter(has_text=re.compile("—")).first
    item.wait_for(timeout=TIMEOUT_MS)
    return item.inner_text()


def test_default_page_shows_a_cat_for_the_gallery_photo(server_url, page):
    page.page.goto(server_url)
    page.page.get_by_text("What does EfficientNet-Lite0 see?").wait_for(timeout=TIMEOUT_MS)
    first = ranked_list(page.page).splitlines()[0]
    assert re.match(r"(tiger cat|tabby|Egyptian cat) — \d+\.\d%", first), first
    page.page.get_by_text(re.compile(r"^Weights: bundled — package efficientnet-lite0")).wait_for(timeout=TIMEOUT_MS)
    page.page.screenshot(path=str(SCREENSHOTS / "predict-default.png"), full_page=True)
    page.assert_clean()


def test_uploaded_photo_gets_a_correct_top5(server_url, page, coffee, tmp_path):
    photo = tmp_path / "espresso.jpg"
    coffee.save(photo, quality=90)
    page.page.goto(server_url)
    ranked_list(page.page)
    upload(page.page, photo)
    page.page.get_by_text(re.compile(r"^espresso — \d+\.\d%$")).wait_for(timeout=TIMEOUT_MS)
    assert ranked_list(page.page).splitlines()[0].startswith("espresso — ")
    page.page.screenshot(path=str(SCREENSHOTS / "predict-upload.png"), full_page=True)
    page.assert_clean()


def test_a_text_file_gets_a_message_and_the_page_keeps_working(server_url, page, tmp_path):
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("this is not a photo")
    page.page.goto(server_url)
    ranked_list(page.page)
    upload(page.page, bogus)
    alert = page.page.locator('[data-testid="stAlertContentError"]')
    alert.wait_for(timeout=TIMEOUT_MS)
    assert "not an image" in alert.inner_text()
    page.page.screenshot(path=str(SCREENSHOTS / "predict-bad-upload.png"), full_page=True)
    page.page.get_by_text("Gallery", exact=True).click()
    assert ranked_list(page.page)
    page.assert_clean()
