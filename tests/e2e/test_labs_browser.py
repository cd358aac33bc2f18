"""The four teaching labs in a real Chromium: a digit drawn with the mouse on the canvas, the depth lab's
precomputed default, transfer learning trained from the page, DropBlock masks drawn on the gallery cat."""

from __future__ import annotations

import re

import pytest

import cnnviz
from tests.e2e.conftest import SCREENSHOTS, slider_to_minimum, wait_until_idle
from tests.e2e.test_deconvnet_browser import IMAGES_LOADED

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 120_000
# The engine's test trains the lab's default 15 epochs and checks its conclusion (tests/test_labs.py); here
# the student drags the epochs slider to 1, so the browser checks the page, not the training again (15
# epochs took over 110 s beside the suite's other worker).
TRAINING_MS = 180_000


def test_a_digit_drawn_with_the_mouse_is_read_by_lenet5(server_url, page):
    browser_page = page.page
    browser_page.goto(f"{server_url}/draw")
    browser_page.get_by_text("Draw a digit in the square").wait_for(timeout=TIMEOUT_MS)
    board = browser_page.locator('[data-testid="stMain"] canvas').last  # the drawing layer of the canvas
    board.wait_for(timeout=TIMEOUT_MS)
    box = board.bounding_box()
    assert round(box["width"]) == 280 and round(box["height"]) == 280
    browser_page.mouse.move(box["x"] + 140, box["y"] + 40)
    browser_page.mouse.down()
    for step in range(1, 21):  # a vertical stroke: a "1"
        browser_page.mouse.move(box["x"] + 140, box["y"] + 40 + 10 * step)
    browser_page.mouse.up()
    browser_page.get_by_text("LeNet-5 reads").wait_for(timeout=TIMEOUT_MS)
    assert browser_page.locator('[data-testid="stMetricValue"]').first.inner_text() == "1"
    browser_page.get_by_text("C5 — 120 units").wait_for(timeout=TIMEOUT_MS)
    browser_page.wait_for_function(IMAGES_LOADED, arg=7, timeout=TIMEOUT_MS)  # the input and six stages
    browser_page.screenshot(path=str(SCREENSHOTS / "lab-draw.png"))
    page.assert_clean()


def test_the_depth_lab_opens_on_its_precomputed_default(server_url, page):
    page.page.goto(f"{server_url}/depth")
    page.page.get_by_text("trained in advance").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text("Reading it:").wait_for(timeout=TIMEOUT_MS)
    page.page.locator('[data-testid="stVegaLiteChart"]').nth(1).wait_for(timeout=TIMEOUT_MS)  # loss, gradients
    page.page.wait_for_timeout(1500)
    page.page.screenshot(path=str(SCREENSHOTS / "lab-depth.png"))
    page.assert_clean()


def test_transfer_learning_trains_both_networks_and_the_network_is_explained(server_url, page, tmp_path):
    page.page.goto(f"{server_url}/transfer")
    page.page.get_by_role("button", name="Train both").wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(page.page)
    assert slider_to_minimum(page.page, "Epochs") == "1"
    wait_until_idle(page.page)
    page.page.get_by_role("button", name="Train both").click(timeout=TIMEOUT_MS)
    page.page.get_by_text("Reading it:").wait_for(timeout=TRAINING_MS)
    wait_until_idle(page.page)
    metrics = page.page.locator('[data-testid="stMetricValue"]')
    metrics.nth(1).wait_for(timeout=TIMEOUT_MS)  # both networks' accuracies on screen
    accuracies = [int(text.rstrip("%")) for text in metrics.all_inner_texts()]
    assert len(accuracies) == 2 and all(0 <= a <= 100 for a in accuracies)
    page.page.screenshot(path=str(SCREENSHOTS / "lab-transfer.png"))
    with page.page.expect_download(timeout=TIMEOUT_MS) as download:
        page.page.get_by_role("button", name="Checkpoint (.pt)").click()
    saved = tmp_path / "transfer-lite0.pt"
    download.value.save_as(saved)
    assert cnnviz.load("efficientnet_lite0", weights=str(saved), device="cpu").spec.classes == 10  # the digits
    page.page.get_by_role("button", name="Explain this network").click(timeout=TIMEOUT_MS)
    page.page.get_by_text("What does EfficientNet-Lite0 · transfer-lite0.pt see?").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text("Your EfficientNet-Lite0 · transfer-lite0.pt from the transfer lab: 10 classes").wait_for(
        timeout=TIMEOUT_MS
    )
    ranked = page.page.locator("ol").filter(has_text="—").first.inner_text().splitlines()
    assert len(ranked) == 5 and all(re.fullmatch(r"\d — \d+\.\d%", line) for line in ranked), ranked  # digits
    page.assert_clean()


def test_dropblock_masks_are_drawn_on_the_gallery_cat_in_spanish(server_url, page):
    page.page.goto(f"{server_url}/dropblock?lang=es")
    page.page.get_by_role("button", name="Sortear las máscaras").click(timeout=TIMEOUT_MS)
    page.page.get_by_text("Sin eliminar nada, la red da").wait_for(timeout=TIMEOUT_MS)
    assert page.page.get_by_text("de las unidades del mapa 112×14×14 eliminadas").count() == 2
    page.page.wait_for_timeout(1500)
    page.page.screenshot(path=str(SCREENSHOTS / "lab-dropblock-es.png"))
    page.assert_clean()
