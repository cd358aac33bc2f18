"""The class poll in Chromium: the lecturer asks "where does the network look?", a student reading Portuguese
clicks on the photo and changes their mind, the lecturer counts one click, and the reveal shows both the
class's click beside Grad-CAM and occlusion with the shares the engine computes for it. (Clicks from several
sessions and replicas gather in the store: tests/test_classroom.py.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cnnviz import predict
from cnnviz.gallery import gallery_image
from cnnviz.trust.clicks import share_inside
from cnnviz.trust.evidence import evidence_map
from tests.e2e import class_flow
from tests.e2e.class_flow import Browser
from tests.e2e.conftest import SCREENSHOTS, PageWatch, wait_until_idle
from tests.e2e.test_deconvnet_browser import IMAGES_LOADED
from ui.class_poll import GRID
from ui.text import t

pytestmark = pytest.mark.e2e

CLICKS = ((0.55, 0.4), (0.3, 0.7))  # where the student clicks, then clicks again: across and down the photo


def _cell_centre(x: float, y: float) -> tuple[float, float]:
    return (int(x * GRID) + 0.5) / GRID, (int(y * GRID) + 0.5) / GRID


def test_the_class_clicks_where_it_thinks_the_network_looks_and_the_reveal_compares(browser, server_url, lite0):
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    people = [Browser(PageWatch(c.new_page(), server_url), la) for c, la in zip(contexts, ("en", "pt"), strict=True)]
    lecturer, student = people
    _, link = class_flow.lecturer_starts(lecturer, server_url, "arch=efficientnet_lite0&image=chelsea&lang=en")
    poll = lecturer.page.get_by_test_id("stExpander").filter(has_text=t("poll.title", "en"))
    wait_until_idle(lecturer.page)  # the panel's first run has finished: a click now is not lost to it
    lecturer.page.wait_for_function(IMAGES_LOADED, arg=1, timeout=60_000)  # and the QR code no longer moves the page
    poll.locator("summary").click()
    ask = poll.get_by_role("button", name=t("poll.ask", "en"))
    ask.click()
    wait_until_idle(lecturer.page)
    asked = poll.get_by_text(t("poll.asked", "en"))
    try:
        asked.wait_for(timeout=20_000)
    except PlaywrightTimeout:
        # The first press went unseen in about one loaded full-suite run in four (the page idle, the button
        # still there, no error in the server's log); never alone. The lecturer presses again.
        lecturer.page.screenshot(path=str(SCREENSHOTS / "poll-not-asked.png"), full_page=True)  # to look at
        ask.click()
        asked.wait_for(timeout=60_000)

    student.page.goto(f"{link}&lang=pt")
    student.page.get_by_text(t("poll.click", "pt")).wait_for(timeout=60_000)
    chart = student.page.get_by_test_id("stVegaLiteChart").first
    for x, y in CLICKS:
        box = chart.locator("g.mark-image image").first.bounding_box()
        student.page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
        cross = chart.locator("g.mark-symbol path").first  # the student's own click, drawn after the rerun
        cross.wait_for(timeout=60_000)
        for _ in range(100):  # until the cross sits on the cell just clicked
            mark = cross.bounding_box()
            if mark and abs(mark["x"] + mark["width"] / 2 - (box["x"] + box["width"] * x)) < box["width"] / GRID:
                break
            student.page.wait_for_timeout(200)
        else:
            raise AssertionError(f"the cross did not move to the click at {x}, {y}")
    assert student.page.get_by_text(t("poll.yours", "pt")).count() == 1

    count = lecturer.page.get_by_test_id("stMetricValue").first
    lecturer.page.wait_for_function("(el) => el.innerText.trim() === '1'", arg=count.element_handle(), timeout=30_000)
    poll.get_by_role("button", name=t("poll.reveal", "en")).click()

    clicks = [_cell_centre(*CLICKS[-1])]  # the change of mind replaced the first click
    photo = gallery_image("chelsea")
    target = predict(lite0, photo, top=1).scores[0].index
    for person in people:
        lang = person.lang
        person.page.get_by_text(t("poll.class_map", lang, count=1)).wait_for(timeout=120_000)
        for method in ("gradcam", "occlusion"):
            share = share_inside(clicks, evidence_map(lite0, photo, method, target))
            caption = f"{t(f'poll.map_{method}', lang)} · {t('poll.inside', lang, share=share)}"
            shown = person.page.get_by_text(t(f"poll.map_{method}", lang) + " · ").all_inner_texts()
            assert shown == [caption], (shown, clicks)
        person.watch.assert_clean()

    poll.get_by_role("button", name=t("poll.close", "en")).click()
    poll.get_by_role("button", name=t("poll.ask", "en")).wait_for(timeout=60_000)  # ready for the next question
    student.page.get_by_text(t("poll.class_map", "pt", count=1)).wait_for(state="detached", timeout=60_000)
    for context in contexts:
        context.close()
