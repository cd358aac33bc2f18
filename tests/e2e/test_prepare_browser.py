"""Prepared demos on a real server: a lecturer pastes the lecture's links into the Prepare box in Chromium, and
``cnnviz warm LINKS.txt --url`` does the same from a terminal; afterwards each link opens with its results from
the shared cache, with no button to press."""

from __future__ import annotations

import pytest

from cnnviz.cli import main
from cnnviz.streamlit_session import StreamlitSession
from tests.e2e.conftest import wait_until_idle
from tests.e2e.test_deconvnet_browser import IMAGES_LOADED
from ui.text import t

pytestmark = pytest.mark.e2e

MAPS = "**(a) Probability of"  # the heading of the occlusion page's first map


def test_the_lecturer_prepares_links_in_the_browser_and_they_open_from_the_cache(page, server_url):
    link = f"{server_url}/occlusion?arch=lenet5&image=digit&window=12&stride=4"
    page.page.goto(f"{server_url}/?teach=new&lang=en")
    box = page.page.get_by_test_id("stExpander").filter(has_text=t("prepare.title", "en"))
    box.wait_for(timeout=120_000)
    wait_until_idle(page.page)  # the class panel's first run has finished: a click now is not lost to it
    page.page.wait_for_function(IMAGES_LOADED, arg=1, timeout=60_000)  # and the QR code no longer moves the page
    box.locator("summary").click()
    links = box.get_by_label(t("prepare.links", "en"))
    links.fill(f"{link}\n{server_url}/not-a-page")
    # Applied first (Ctrl+Enter), then pressed: a press while the text area has focus can be lost to the rerun
    # its blur starts (streamlit/streamlit#8725); it was, once in a loaded full-suite run
    links.press("Control+Enter")
    wait_until_idle(page.page)
    box.get_by_role("button", name=t("prepare.run", "en")).click()
    box.get_by_text("✓ Line 1 · Occlusion — LeNet-5, digit: 1 results ready (0 were already)").wait_for(timeout=120_000)
    box.get_by_text("Line 2 — refused: not a page of this app").wait_for(timeout=60_000)  # drawn after line 1
    wait_until_idle(page.page)
    page.assert_clean()

    page.page.goto(link)
    page.page.get_by_text(t("occl.cached", "en")).wait_for(timeout=120_000)
    wait_until_idle(page.page)
    assert page.page.get_by_text("(a) Probability of").count() >= 1  # the maps, no button pressed
    assert page.page.get_by_text(t("occl.press_run", "en")).count() == 0
    page.assert_clean()


def test_cnnviz_warm_prepares_a_lecture_from_a_terminal(server_url, tmp_path, capsys):
    """The command's own function (tests/test_cli.py runs the entry points as processes)."""
    lecture = tmp_path / "lecture.txt"
    link = f"{server_url}/occlusion?arch=lenet5&image=digit&window=8&stride=4"
    lecture.write_text(f"# lecture 3: where does LeNet-5 look?\n{link}\n\n{server_url}/nowhere\n")
    assert main(["warm", str(lecture), "--url", server_url]) == 1  # one line refused
    printed = capsys.readouterr().out
    assert "✓ Line 2 · Occlusion — LeNet-5, digit: 1 results ready (0 were already)" in printed
    assert "Line 4 — refused: not a page of this app" in printed
    assert "Top-5 predictions" not in printed  # the page under the box is not echoed

    tab = StreamlitSession(server_url, timeout_s=120)
    run = tab.open("occlusion", "arch=lenet5&image=digit&window=8&stride=4&lang=en")
    tab.close()
    assert t("occl.cached", "en") in run.texts and any(text.startswith(MAPS) for text in run.texts)

    lecture.write_text(f"{link}\n")
    assert main(["warm", str(lecture), "--url", server_url]) == 0
    assert "1 results ready (1 were already)" in capsys.readouterr().out
    assert main(["warm", str(lecture), "--url", "file:///etc/passwd"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
