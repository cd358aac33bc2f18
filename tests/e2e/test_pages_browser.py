"""The Layers page for every architecture in the zoo, a shared link in the browser's language, the screenshots
script (every page opening from its link: tests/e2e/test_languages_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnnviz.layers import display_frame, layer_table
from cnnviz.models.zoo import ARCHITECTURES, DEFAULT_ARCH
from tests.e2e.conftest import SCREENSHOTS, choose, choose_architecture
from ui.pages import declared_pages
from ui.text import t

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 90_000
PAGES = {p.url_path: p for p in declared_pages()}  # URL path → page; the default page (Predict) is the root


def heading(path: str, arch: str = DEFAULT_ARCH) -> str:
    """The English heading of the page at ``path`` for ``arch``."""
    return t(PAGES[path].heading_key, "en", arch=ARCHITECTURES[arch].display)


# A branching drawing (residual blocks with their shortcuts) after the default network's: a plain stack draws
# as its stem does (VGG-16's opens in the languages walk), Inception's branches under ``-m slow``, and every
# architecture's page (its run, diagrams included, and its parameter count) in tests/app/test_layer_views.py.
BROWSER_SWEEP = ("resnet50",)


@pytest.mark.parametrize(
    "rest",
    [False, pytest.param(True, marks=pytest.mark.slow)],
    ids=["lecture-networks", "the-rest-of-the-zoo"],
)
def test_layers_page_for_every_architecture(server_url, page, rest):
    """:data:`BROWSER_SWEEP` by default; every other architecture of the zoo under ``-m slow``."""
    page.page.goto(f"{server_url}/layers")
    page.page.get_by_text(heading("layers")).wait_for(timeout=TIMEOUT_MS)
    for name, spec in ARCHITECTURES.items():
        if (name in BROWSER_SWEEP) == rest:
            continue
        choose_architecture(page.page, name)
        page.page.get_by_role("heading", name=heading("layers", name)).wait_for(timeout=TIMEOUT_MS)
        parameters = page.page.locator('[data-testid="stMetricValue"]').first
        parameters.filter(has_text=f"{spec.parameter_count():,}").wait_for(timeout=TIMEOUT_MS)
        page.page.locator('[data-testid="stGraphVizChart"]').first.wait_for(timeout=TIMEOUT_MS)
        if name in BROWSER_SWEEP:
            page.page.screenshot(path=str(SCREENSHOTS / f"layers-{name}.png"))
            _downloads_the_whole_table(page, name)
        page.assert_clean()


def _downloads_the_whole_table(page, name: str) -> None:
    """The CSV button gives every layer of ``name`` at its input size, blocks expanded (made when pressed)."""
    spec = ARCHITECTURES[name]
    with page.page.expect_download(timeout=TIMEOUT_MS) as download:
        page.page.get_by_role("button", name=t("layers.download", "en")).click()
    assert download.value.suggested_filename == f"{name}_{spec.input_size}px_layers.csv"
    expected = display_frame(layer_table(name, spec.input_size), expand=True).to_csv(index=False)
    assert Path(download.value.path()).read_text() == expected


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


def test_the_screenshots_script_writes_a_page_as_the_docs_show_it(server_url, browser, tmp_path):
    """``scripts/screenshots.py``'s own capture on this server: the page at the fixed size, its palette
    reduced, a few hundred kilobytes at most (the README and the site show these files)."""
    from PIL import Image

    from scripts.screenshots import COLOURS, VIEWPORT, shoot

    context = browser.new_context(viewport=VIEWPORT)
    try:
        path = shoot(context.new_page(), f"{server_url}/conv_arithmetic?lang=pt", "arithmetic", "pt", tmp_path)
    finally:
        context.close()
    assert path == tmp_path / "arithmetic-pt.png"
    with Image.open(path) as picture:
        assert picture.size == (VIEWPORT["width"], VIEWPORT["height"])
        assert picture.mode == "P" and len(picture.getcolors(COLOURS)) > 16  # a palette, and a real page in it
    assert path.stat().st_size < 400_000
