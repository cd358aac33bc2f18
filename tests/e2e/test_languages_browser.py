"""Every page opens fresh from its link, with no exception box, console error or failed request, and in
Portuguese or Spanish shows no English sentence: the pages alternate between the two languages, so each
language sees half of them (an English sentence written into a page rather than into the catalogue would
show in either; ``tests/test_texts.py`` checks that every key is in both).

English is detected by common function words on each visible line of the page and the sidebar. Paper
titles are cited in their original language; ImageNet class names are translated (the English name in
brackets beside one on Predict is there to look the class up by).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SCREENSHOTS, wait_until_idle

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 120_000
ENGLISH = re.compile(r"\b(the|and|with|of|is|are|this|image|layer|weights|random|shows|choose|from|click)\b", re.I)
CITATION = re.compile(r"\b(NIPS|NeurIPS|CVPR|ICLR|ECCV|ICML|BMVC|arXiv|Proc\.|IEEE|20\d\d\.)")
LANGUAGES = ("pt", "es")
RICHER_LINKS = {"predict": "arch=alexnet2012", "layers": "arch=vgg16"}  # lecture facts, the slides' table


def english_lines(page) -> list[str]:
    text = page.locator('[data-testid="stMain"]').first.inner_text()
    text += "\n" + page.locator('[data-testid="stSidebar"]').inner_text()
    return sorted({line.strip() for line in text.splitlines() if ENGLISH.search(line) and not CITATION.search(line)})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_english_on_its_half_of_the_pages(server_url, page, lang):
    from cnnviz.models.zoo import DEFAULT_ARCH, get_spec
    from ui.pages import declared_pages
    from ui.text import t

    for declared in declared_pages()[LANGUAGES.index(lang) :: len(LANGUAGES)]:
        query = "&".join(filter(None, [RICHER_LINKS.get(declared.name), f"lang={lang}"]))
        arch = RICHER_LINKS.get(declared.name, f"arch={DEFAULT_ARCH}").removeprefix("arch=")
        page.page.goto(f"{server_url}/{declared.url_path}?{query}")
        heading = t(declared.heading_key, lang, arch=get_spec(arch).display)
        page.page.get_by_role("heading", name=heading).wait_for(timeout=TIMEOUT_MS)
        wait_until_idle(page.page)  # the rest of the page: the script run has finished
        page.page.wait_for_timeout(500)  # and the browser has drawn it (charts render after the run)
        found = english_lines(page.page)
        if found:
            page.page.screenshot(path=str(SCREENSHOTS / f"page-{declared.name}-{lang}.png"))  # to look at
        assert found == [], (lang, declared.name)
        page.assert_clean()
