"""Every page in a real browser; the Layers page for every architecture in the zoo."""

from __future__ import annotations

import re

import pytest

from cnnviz.zoo import ARCHITECTURES
from tests.e2e.conftest import SCREENSHOTS, choose, choose_architecture

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 90_000
PAGES = {  # URL path → heading; the default page (Predict) is the root
    "": "What does EfficientNet-Lite0 see?",
    "deconvnet": "What do the units of EfficientNet-Lite0 respond to?",
    "layers": "Inside EfficientNet-Lite0",
    "localization": "Where is it? Localization with EfficientNet-Lite0",
    "compare": "Architectures compared",
    "conv_arithmetic": "Convolution arithmetic",
    "hardware": "Which hardware for which network?",
    "draw": "Draw a digit for LeNet-5",
    "depth": "Why did stacking layers stop working before ResNet?",
    "transfer": "Is training a big network on little data hopeless?",
    "dropblock": "DropBlock vs dropout in EfficientNet-Lite0",
    "pooling": "If pooling shrinks the map, why not just another convolution?",
}


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens_from_its_link(server_url, page, path):
    page.page.goto(f"{server_url}/{path}")
    page.page.get_by_text(PAGES[path]).first.wait_for(timeout=TIMEOUT_MS)
    page.page.wait_for_timeout(1500)  # charts and diagrams finish drawing
    page.page.screenshot(path=str(SCREENSHOTS / f"page-{path or 'predict'}.png"))
    page.assert_clean()


def test_layers_page_for_every_architecture(server_url, page):
    page.page.goto(f"{server_url}/layers")
    page.page.get_by_text(PAGES["layers"]).wait_for(timeout=TIMEOUT_MS)
    for name, spec in ARCHITECTURES.items():
        choose_architecture(page.page, name)
        page.page.get_by_role("heading", name=f"Inside {spec.display}").wait_for(timeout=TIMEOUT_MS)
        parameters = page.page.locator('[data-testid="stMetricValue"]').first
        parameters.filter(has_text=f"{spec.parameter_count():,}").wait_for(timeout=TIMEOUT_MS)
        page.page.locator('[data-testid="stGraphVizChart"]').first.wait_for(timeout=TIMEOUT_MS)
        if name in ("alexnet2012", "resnet50", "googlenet", "densenet121"):
            page.page.screenshot(path=str(SCREENSHOTS / f"layers-{name}.png"))
        page.assert_clean()


def test_a_shared_link_opens_the_view_in_the_browsers_language(server_url, browser):
    from tests.e2e.conftest import PageWatch

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
    try:
        watch = PageWatch(context.new_page(), server_url)
        watch.page.goto(f"{server_url}/?arch=vgg16&image=coffee")
        watch.page.get_by_role("heading", name="O que a VGG-16 vê?").wait_for(timeout=TIMEOUT_MS)
        watch.page.wait_for_url(re.compile(r"lang=pt"), timeout=TIMEOUT_MS)
        assert "image=coffee" in watch.page.url  # written back from the choice, so the link was honoured
        choose(watch.page, "Idioma", "Español")
        watch.page.get_by_role("heading", name="¿Qué ve VGG-16?").wait_for(timeout=TIMEOUT_MS)
        watch.page.get_by_role("link", name="Oclusión").click()
        watch.page.get_by_role("heading", name="¿Hacia dónde mira VGG-16?").wait_for(timeout=TIMEOUT_MS)
        assert "lang=es" in watch.page.url and "arch=vgg16" in watch.page.url
        watch.page.screenshot(path=str(SCREENSHOTS / "occlusion-es.png"))
        watch.assert_clean()
    finally:
        context.close()
