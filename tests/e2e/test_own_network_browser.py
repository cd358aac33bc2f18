""" "My network" in a real browser: a student uploads a three-class checkpoint and its names file in the
sidebar and reads their own class names in the top-5, then the same network exported to ONNX (the
checkpoint is the bundled Lite0 cut down to its tabby-cat, teapot and espresso rows, so its answer on the
gallery's cat is known)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SCREENSHOTS, wait_until_idle
from tests.e2e.test_predict_browser import ranked_list

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 120_000


def give(page, label: str, path) -> None:
    """Hand ``path`` to the sidebar's file uploader labelled ``label``, once the page is idle."""
    wait_until_idle(page)
    uploader = page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"]').filter(has_text=label)
    uploader.locator('input[type="file"]').set_input_files(str(path))


def test_an_uploaded_checkpoint_then_its_onnx_export_answer_with_their_class_names(
    server_url, page, three_classes, onnx_files
):
    page.page.goto(server_url)
    ranked_list(page.page)
    page.page.get_by_text("My network").click()
    give(page.page, "Weights for EfficientNet-Lite0", three_classes / "mine.pt")
    page.page.get_by_text("What does EfficientNet-Lite0 · mine.pt see?").wait_for(timeout=TIMEOUT_MS)
    give(page.page, "Class names", three_classes / "names.txt")
    page.page.get_by_text(re.compile(r"^my cat — \d+\.\d%$")).wait_for(timeout=TIMEOUT_MS)
    ranked = ranked_list(page.page).splitlines()
    assert [line.split(" — ")[0] for line in ranked] == ["my cat", "my teapot", "my espresso"]
    page.page.get_by_text("Your EfficientNet-Lite0: 3 classes.").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text("Top-3 predictions").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text(re.compile(r"from a file — mine\.pt \(SHA-256 [0-9a-f]{16}…\)")).wait_for(timeout=TIMEOUT_MS)
    assert "/tmp" not in page.page.locator('[data-testid="stMain"]').inner_text()  # no server path shown
    assert "arch=efficientnet_lite0" in page.page.url and "sha256" not in page.page.url
    page.page.screenshot(path=str(SCREENSHOTS / "predict-own-checkpoint.png"), full_page=True)
    give(page.page, "Weights for EfficientNet-Lite0", onnx_files / "mine.onnx")
    page.page.get_by_text("What does mine (ONNX) see?").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text("Your network mine (ONNX): 3 classes, 224 px input.").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text(re.compile(r"mine\.onnx \(SHA-256 [0-9a-f]{16}…\)")).wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(page.page)
    assert "mean (0.485, 0.456, 0.406)" in page.page.locator('[data-testid="stMain"]').inner_text()  # ImageNet's
    page.page.get_by_text(re.compile(r"^my cat — \d+\.\d%$")).wait_for(timeout=TIMEOUT_MS)
    assert ranked_list(page.page).splitlines()[0].startswith("my cat — ")
    page.page.screenshot(path=str(SCREENSHOTS / "predict-own-onnx.png"), full_page=True)
    page.assert_clean()


def test_a_library_network_opens_from_its_link_under_other_network(server_url, page):
    """The sidebar's search itself is Streamlit's (typing filters the list; tests/app/test_predict_page.py
    checks the list and the link): here a lecturer's link opens torchvision's SqueezeNet in the browser."""
    page.page.goto(f"{server_url}/?arch=torchvision:squeezenet1_1")
    page.page.get_by_text("What does squeezenet1_1 (torchvision) see?").wait_for(timeout=TIMEOUT_MS)
    assert len(ranked_list(page.page).splitlines()) == 5
    page.page.get_by_text("random weights").first.wait_for(timeout=TIMEOUT_MS)  # offline: said plainly
    assert "squeezenet1_1" in page.page.url
    page.assert_clean()
