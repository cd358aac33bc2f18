"""The Building blocks page in a real browser, one session through the three languages: a photo uploaded in
English, then in each language the deck's worked example, a kernel typed by the student slid over the
uploaded photo (the output's size from the formula and from torch, and the picture's caption) and the shift
experiment's verdict (equivariant at stride 1; not at stride 2 for a 3 px shift)."""

from __future__ import annotations

import pytest

from cnnviz.gallery import gallery_image
from cnnviz.texts import LANGUAGES
from tests.e2e.conftest import SCREENSHOTS, choose, upload, wait_until_idle
from ui.text import _catalogue, t

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 180_000
# (language, typed kernel, its side, stride, shift): each language types its own kernel and moves the sliders
STEPS = (
    ("en", "0 0 1 0 0\n0 1 2 1 0\n1 2 -16 2 1\n0 1 2 1 0\n0 0 1 0 0", 5, 1, 3),
    ("pt", "1, 0\n0, -1", 2, 2, 3),
    ("es", "1 1 1\n1 -8 1\n1 1 1", 3, 2, 4),
)


def plain(text: str) -> str:
    """A catalogue sentence as the page shows it: Markdown's emphasis gone."""
    return text.replace("**", "").replace("*", "")


def slide_to(page, label: str, value: int) -> None:
    """Move the slider labelled ``label`` to ``value`` with the arrow keys, as a student with a keyboard."""
    named = page.locator('[data-testid="stWidgetLabel"]').get_by_text(label, exact=True)
    thumb = page.locator('[data-testid="stSlider"]').filter(has=named).get_by_role("slider")
    now = int(thumb.input_value())
    for _ in range(abs(value - now)):
        thumb.press("ArrowRight" if value > now else "ArrowLeft")
    page.wait_for_function("([el, v]) => el.value === String(v)", arg=[thumb.element_handle(), value])
    wait_until_idle(page)


def test_a_typed_kernel_on_an_uploaded_photo_and_the_shift_in_three_languages(server_url, page, tmp_path):
    browser = page.page
    photo = tmp_path / "coffee.jpg"
    gallery_image("coffee").save(photo, quality=90)
    width, height = gallery_image("coffee").size
    browser.goto(f"{server_url}/building_blocks?lang=en")
    browser.get_by_role("heading", name=t("blocks.header", "en")).wait_for(timeout=TIMEOUT_MS)
    upload(browser, photo, "en")
    browser.get_by_text(t("blocks.photo_caption", "en", w=width, h=height)).wait_for(timeout=TIMEOUT_MS)
    previous = "en"
    for lang, typed, side, stride, shift in STEPS:
        if lang != previous:
            choose(browser, t("sidebar.language", previous), LANGUAGES[lang])
        browser.get_by_role("heading", name=t("blocks.worked", lang)).wait_for(timeout=TIMEOUT_MS)
        browser.get_by_text("output[1][0] = 0×1 + (−1)×2 + 2×0 + 2×(−1) = −4").wait_for(timeout=TIMEOUT_MS)
        wait_until_idle(browser)
        browser.get_by_text(t("blocks.source_typed", lang), exact=True).click()
        box = browser.get_by_role("textbox", name=t("blocks.typed", lang))
        box.fill(typed)
        box.press("Control+Enter")
        wait_until_idle(browser)
        slide_to(browser, t("blocks.stride", lang), stride)
        out_w, out_h = ((width - side) // stride + 1), ((height - side) // stride + 1)
        sizes = plain(t("blocks.sizes", lang, formula=f"{out_h}×{out_w}", actual=f"{out_h}×{out_w}"))
        browser.get_by_text(sizes).wait_for(timeout=TIMEOUT_MS)
        caption = t("blocks.output_caption", lang, w=out_w, h=out_h, channels=3)
        browser.get_by_text(caption).wait_for(timeout=TIMEOUT_MS)
        slide_to(browser, t("blocks.shift", lang), shift)
        verdict = plain(t("blocks.aligned" if shift % stride == 0 else "blocks.not_aligned", lang))
        units = f"{shift / stride:g}"
        opening = plain(_catalogue(lang)["blocks.equivariance"].split("{difference")[0])
        opening = opening.format(shift=shift, stride=stride, units=units)
        paragraphs = browser.locator('[data-testid="stMarkdown"]')
        paragraphs.filter(has_text=opening).filter(has_text=verdict).wait_for(timeout=TIMEOUT_MS)
        assert not browser.locator('[data-testid="stAlertContentError"]').count()
        browser.screenshot(path=str(SCREENSHOTS / f"blocks-{lang}.png"), full_page=True)
        previous = lang
    page.assert_clean()
