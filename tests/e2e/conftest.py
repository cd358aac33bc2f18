"""A real ``streamlit run app.py`` on a free port and Debian's Chromium driven by Playwright.

The browser is ``/usr/bin/chromium`` (installed by ``.ci/run``); no test tool downloads its own.
Screenshots go to ``artifacts/e2e/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.servers import CHROMIUM, CHROMIUM_FLAGS, STREAMLIT_PATH_PROBES, free_port, start_streamlit

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "e2e"


def wait_until_idle(page, timeout_ms: int = 120_000) -> None:
    """Until Streamlit's running indicator is gone: the script run the last action started has finished, so
    the next action meets the page it will keep (not elements about to be replaced)."""
    page.locator('[data-testid="stStatusWidgetRunningIcon"]').wait_for(state="detached", timeout=timeout_ms)


def slider_to_minimum(page, label: str) -> str:
    """Move the slider labelled ``label`` to its first value with the keyboard (Home on its range input, as
    a student using the keyboard would); the value its thumb then shows."""
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=label)
    slider.locator('input[type="range"]').press("Home")
    return slider.locator('[data-testid="stSliderThumbValue"]').inner_text()


def upload(page, path, lang: str = "en") -> None:
    """Choose "Upload" in the sidebar (in ``lang``) and give the photo uploader ``path``, each once the page is
    idle."""
    from ui.text import t

    wait_until_idle(page)
    page.get_by_test_id("stRadioGroup").get_by_text(t("source.upload", lang), exact=True).click()
    label = t("sidebar.upload", lang).split(" (")[0]
    photo = page.locator('[data-testid="stFileUploader"]').filter(has_text=label)  # not My checkpoint's
    photo.get_by_test_id("stFileUploaderDropzone").wait_for(timeout=120_000)
    wait_until_idle(page)
    photo.locator('input[type="file"]').set_input_files(str(path))


def choose(page, label: str, option: str, area: str = "stSidebar", tries: int = 3) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` in ``area`` (the sidebar; ``stMain`` for the page),
    typing it (typing filters the long lists; the text is all or part of the option's) and pressing Enter
    once the filtered list has focused it, as a keyboard user would. Enter at once takes whichever option
    led the list before the filter; on a loaded machine the list may not follow the typing at all, so the
    typing starts again (up to ``tries`` times)."""
    from playwright.sync_api import expect

    box = page.locator(f'[data-testid="{area}"] [data-testid="stSelectbox"]').filter(has_text=label)
    focused = page.locator('[role="option"][data-focused="true"]')
    for attempt in range(tries):
        box.locator("input").click()
        page.keyboard.press("ControlOrMeta+A")
        page.keyboard.press("Backspace")
        page.keyboard.type(option)
        try:
            expect(focused).to_contain_text(option, timeout=15_000)
        except AssertionError:
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")
            continue
        page.keyboard.press("Enter")
        return


def choose_architecture(page, name: str) -> None:
    from cnnviz.models.zoo import ARCHITECTURES

    spec = ARCHITECTURES[name]
    choose(page, "Architecture", f"{spec.display} ({spec.year})")


@pytest.fixture(scope="session")
def server_url():
    port = free_port()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")  # each pytest-xdist worker starts its own server
    log = open(ROOT / "artifacts" / f"streamlit-e2e-{worker}.log", "w")  # noqa: SIM115 (closed in finally)
    process = start_streamlit("app.py", port, log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


SUPERSEDED_PICTURE = "Image source error"


class PageWatch:
    """A browser page that records console errors, uncaught exceptions and failed or external requests.

    Network failures are checked request by request (console lines do not name the URL); any request that
    leaves 127.0.0.1 is an error, since a lecture room may have no network.
    """

    def __init__(self, page, server_url: str):
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("request", lambda req: self._external(req.url, server_url))
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _console(self, message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            if SUPERSEDED_PICTURE in message.text and "/media/" in message.text:
                return  # see _response
            self.errors.append(f"console: {message.text}")

    def _failed(self, request):
        """A request that did not complete; ERR_ABORTED is the browser cancelling it (the test navigated
        on, or a rerun replaced a picture before it loaded), not the server failing."""
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"request failed: {request.url} {request.failure}")

    def _external(self, url: str, server_url: str):
        if not url.startswith((server_url, "data:", "blob:")):
            self.errors.append(f"external request: {url}")

    def _response(self, response):
        """Failed responses are errors, except Streamlit's probes and a 404 for a picture of a run that a
        newer run has replaced (Streamlit drops a run's media when the next starts; on a busy machine the
        browser may still be fetching it). Tests check that the pictures they wait for do load."""
        if response.status == 404 and "/media/" in response.url:
            return
        if response.status >= 400 and not response.url.endswith(STREAMLIT_PATH_PROBES):
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def assert_clean(self):
        exceptions = self.page.locator('[data-testid="stException"]')
        assert exceptions.count() == 0, exceptions.first.inner_text()
        assert not self.errors, self.errors


@pytest.fixture
def page(browser, server_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = PageWatch(context.new_page(), server_url)
    yield watch
    context.close()
