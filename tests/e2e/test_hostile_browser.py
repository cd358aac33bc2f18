"""Hostile input against a real server in Chromium: bad links, uploads of every accepted size and some
refused ones, an exception's details, and a computation lost to a server restart."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from harness.servers import free_port, start_streamlit
from tests.e2e.conftest import SCREENSHOTS, PageWatch, upload, wait_until_idle
from tests.e2e.test_deconvnet_browser import IMAGES_LOADED

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 120_000

# One link per page (each setting's own refusal is an AppTest case in tests/app/test_hostile_input.py); the
# Deconvnet link repeats its channel (a Unicode digit, then 5,000 digits) beside a path and a bad flag.
HOSTILE_LINKS = [
    "/deconvnet?channel=%C2%B2&layer=..%2F..%2Fetc%2Fpasswd&whole=yes&channel=" + "9" * 5000,
    "/occlusion?window=1e3&stride=-4&fill=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/?arch=resnet18%3B%20rm%20-rf%20%2F&lang=xx&image=%2Fetc%2Fpasswd",
    "/layers?debug=1&__proto__=x",
]


def test_hostile_links_never_show_an_exception_box(server_url, page):
    for link in HOSTILE_LINKS:
        page.page.goto(server_url + link)
        page.page.locator('[data-testid="stCaptionContainer"]').filter(has_text=re.compile("link")).first.wait_for(
            timeout=TIMEOUT_MS
        )  # the notice
        page.page.locator('[data-testid="stHeading"]').first.wait_for(timeout=TIMEOUT_MS)
        wait_until_idle(page.page)  # the whole script run: an exception box would be drawn by now
        assert page.page.locator('[data-testid="stException"]').count() == 0, link
        body = page.page.locator("body").inner_text()
        assert "Traceback" not in body and "/work/" not in body and "site-packages" not in body, link
    page.page.screenshot(path=str(SCREENSHOTS / "hostile-link.png"), full_page=True)
    page.assert_clean()


def test_large_and_long_photos_are_shown_and_classified(server_url, page, coffee, tmp_path):
    cases = {
        "espresso-12mp.jpg": coffee.resize((4000, 3000)),  # an ordinary phone photo
        "espresso-panorama.png": coffee.resize((3000, 300)),  # 10:1, the longest taken
    }
    page.page.goto(server_url)
    page.page.get_by_text("What does EfficientNet-Lite0 see?").wait_for(timeout=TIMEOUT_MS)
    for name, picture in cases.items():
        path = tmp_path / name
        picture.save(path)
        upload(page.page, path)
        page.page.locator("ol").filter(has_text=re.compile("—")).first.wait_for(timeout=TIMEOUT_MS)
        page.page.wait_for_function(IMAGES_LOADED, arg=2, timeout=TIMEOUT_MS)  # the photo and the crop
        assert page.page.locator('[data-testid="stAlertContentError"]').count() == 0, name
        page.page.get_by_text("Gallery", exact=True).click()
    page.page.screenshot(path=str(SCREENSHOTS / "hostile-large-upload.png"), full_page=True)
    page.assert_clean()


def test_refused_uploads_get_a_message_in_the_page(server_url, page, tmp_path):
    thin = tmp_path / "thin.png"
    Image.new("L", (8, 120_000)).save(thin)  # 1 KB; it took a lecture server from 1 to 5 GB
    oversize = tmp_path / "scan.jpg"
    oversize.write_bytes(b"\xff\xd8\xff" + b"\x00" * (30 * 2**20))  # 30 MB: over the 25 MB limit
    expected = {thin: "no side may be longer than 65,000 pixels", oversize: "scan.jpg: This file is 30.0 MB"}
    page.page.goto(server_url)
    page.page.get_by_text("What does EfficientNet-Lite0 see?").wait_for(timeout=TIMEOUT_MS)
    for path, message in expected.items():
        upload(page.page, path)
        alert = page.page.locator('[data-testid="stAlertContentError"]').filter(has_text=message)
        alert.wait_for(timeout=TIMEOUT_MS)
        page.page.get_by_text("Gallery", exact=True).click()
        page.page.locator("ol").filter(has_text=re.compile("—")).first.wait_for(timeout=TIMEOUT_MS)
    page.page.screenshot(path=str(SCREENSHOTS / "hostile-refused-upload.png"), full_page=True)
    page.assert_clean()


FAILING_SCRIPT = """
import streamlit as st
st.title("before the failure")
raise RuntimeError("secret detail at /srv/cnnviz/private/path.py")
"""


def test_an_exceptions_details_stay_in_the_server_log(browser, tmp_path):
    script = tmp_path / "failing_app.py"
    script.write_text(FAILING_SCRIPT)
    port = free_port()
    with open(tmp_path / "server.log", "w") as log:
        server = start_streamlit(str(script), port, log)  # run from the checkout: its config applies
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}")
            box = page.locator('[data-testid="stException"]')
            box.wait_for(timeout=TIMEOUT_MS)
            shown = page.locator("body").inner_text()
            assert "before the failure" in shown
            assert "secret detail" not in shown and "/srv/" not in shown and "RuntimeError" not in shown
            assert "Traceback" not in shown and page.locator('[data-testid="stException"] a').count() == 0
            context.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert "secret detail at /srv/cnnviz/private/path.py" in (tmp_path / "server.log").read_text()


def test_a_computation_lost_to_a_server_restart_says_so_on_reconnection(browser, tmp_path):
    port = free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 (closed below)
    server = start_streamlit("app.py", port, log)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/occlusion?stride=4")  # 2,401 positions: about 30 s here
        page.get_by_role("button", name="Compute the maps").click(timeout=TIMEOUT_MS)
        page.wait_for_function("location.search.includes('running=occlusion')", timeout=TIMEOUT_MS)
        server.kill()  # a crash or a hard restart, mid-computation
        server.wait(timeout=30)
        server = start_streamlit("app.py", port, log)
        page.get_by_text("The occlusion map started from this page did not finish").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function("!location.search.includes('running=')", timeout=TIMEOUT_MS)
        page.screenshot(path=str(SCREENSHOTS / "hostile-restart.png"), full_page=True)
        watch = PageWatch(page, f"http://127.0.0.1:{port}")
        page.get_by_role("button", name="Compute the maps").wait_for(timeout=TIMEOUT_MS)
        watch.assert_clean()
    finally:
        context.close()
        server.kill()
        server.wait(timeout=30)
        log.close()
