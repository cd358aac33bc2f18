"""A lecturer and three students in Chromium, through whatever serves ``base_url`` (one server, or nginx in front
of replicas): used by ``tests/e2e/test_deploy.py``; the steps read as the lecture does."""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.e2e.conftest import PageWatch, choose, choose_architecture, slider_to_minimum, upload, wait_until_idle
from ui.text import t

FOLLOW_S = 15  # a generous bound for the browser tests on a loaded 2-core machine; bench/load.py measures p95
CODE = re.compile(r"\b([0-9A-Z]{4}-[0-9A-Z]{4})\b")


@dataclass
class Browser:
    """One person's tab."""

    watch: PageWatch
    lang: str = "en"
    seconds: list[float] = field(default_factory=list)

    @property
    def page(self):
        return self.watch.page

    def query(self) -> dict[str, str]:
        return {name: values[-1] for name, values in parse_qs(urlsplit(self.page.url).query).items()}

    def path(self) -> str:
        return urlsplit(self.page.url).path.strip("/")


def lecturer_starts(lecturer: Browser, base_url: str, query: str) -> tuple[str, str]:
    """``?teach=new``: the class's code and its join link, read from the panel."""
    lecturer.page.goto(f"{base_url}/?teach=new&{query}")
    panel = lecturer.page.get_by_test_id("stExpander").filter(has_text=t("classroom.scan"))
    panel.wait_for(timeout=120_000)
    code = CODE.search(panel.locator("summary").inner_text()).group(1)
    link = panel.locator("code").first.inner_text().strip()
    return code, link


def qr_text(lecturer: Browser, scale: float = 1.0) -> str | None:
    """The text of the QR code on the lecturer's panel, read from a screenshot shrunk to ``scale`` (a camera
    further away sees fewer pixels per module)."""
    import zxingcpp
    from PIL import Image

    image = lecturer.page.get_by_test_id("stExpander").get_by_role("img").first
    shot = Image.open(io.BytesIO(image.screenshot()))
    if scale != 1.0:
        shot = shot.resize((round(shot.width * scale), round(shot.height * scale)), Image.Resampling.BILINEAR)
    found = zxingcpp.read_barcodes(shot)
    return found[0].text if found else None


def follows(student: Browser, lecturer: Browser, since: float, timeout_s: float = FOLLOW_S) -> None:
    """Until the student's page and link settings are the lecturer's (language and class apart)."""

    def mine(browser: Browser) -> tuple[str, dict[str, str]]:
        settings = {k: v for k, v in browser.query().items() if k not in ("lang", "class")}
        return browser.path(), settings

    deadline = time.monotonic() + timeout_s
    while mine(student) != mine(lecturer):
        assert time.monotonic() < deadline, f"{mine(student)} did not become {mine(lecturer)} in {timeout_s} s"
        student.page.wait_for_timeout(100)
    student.seconds.append(time.monotonic() - since)


def change(lecturer: Browser, action) -> float:
    """Do ``action`` on the lecturer's page and wait until its address bar says so; the time it was done."""
    before = (lecturer.path(), lecturer.query())
    since = time.monotonic()
    action(lecturer.page)
    deadline = time.monotonic() + 60
    while (lecturer.path(), lecturer.query()) == before:
        assert time.monotonic() < deadline, "the lecturer's change never reached the address bar"
        lecturer.page.wait_for_timeout(50)
    wait_until_idle(lecturer.page)
    return since


def open_page(title: str):
    def act(page):
        page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()

    return act


def pick_network(name: str):
    return lambda page: choose_architecture(page, name)


def pick_photo(name: str):
    return lambda page: choose(page, t("sidebar.gallery_pick"), t(f"gallery.{name}"))


def pick_layer(label: str, option: str):
    return lambda page: choose(page, label, option, area="stMain")


def slide_to_minimum(label: str):
    """Move a slider of the page (one inside a fragment too) to its first stop with the keyboard."""
    return lambda page: slider_to_minimum(page, label)


def set_following(student: Browser, on: bool) -> None:
    toggle = student.page.get_by_test_id("stSidebar").get_by_text(t("classroom.follow", student.lang), exact=True)
    wait_until_idle(student.page)
    toggle.click()
    if on:
        return
    student.page.get_by_text(t("classroom.on_my_own", student.lang)).wait_for(timeout=30_000)


def share_photo(lecturer: Browser, path) -> None:
    upload(lecturer.page, path)
    lecturer.page.get_by_text(t("classroom.share_photo"), exact=True).click()
    wait_until_idle(lecturer.page)
