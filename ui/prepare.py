"""Prepared demos: the heavy results of a lecture's links, computed into the shared cache before class, so that
in front of the class each link answers from the cache.

A lecturer pastes the lecture's links, one per line, into the Prepare box (in the lecturer's panel, or on any
page opened with ``?prepare=…``, which fills the box; ``cnnviz warm LINKS.txt --url`` does that over
Streamlit's protocol and presses the button). Each line is read as a link is: its page by path, then the
sidebar's settings (network, gallery photo) and the page's own settings through the page's validators, with
the page's defaults for what the link leaves out or gets wrong, so the results are the ones the page will look
up when the link is opened. The page's declared ``prepare`` (:class:`ui.pages.Page`) names them as shared
jobs: the same keys and computations as its buttons, through the same cache and queue (Redis across
replicas). A line that is not a link to a page of this app, or a link to a photo the server does not have (an
upload lives only in its session), is refused with the reason and the rest go on.

Written here: Streamlit has no way to run a page's work outside a browser's session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import streamlit as st
from PIL import Image

import cnnviz
from cnnviz.gallery import GALLERY
from cnnviz.warm import BUTTON_KEY, MAX_FILE_BYTES, MAX_LINE, MAX_LINKS
from ui import links
from ui.pages import Page, declared_pages
from ui.text import error_text, t

LINK_NAME = links.PREPARE  # the link setting that fills the box (its lines, newline-separated)
TEXT_KEY = "prepare_links"
TASK = "prepare"  # the heavy work that marks the link while the box computes (catalogue key task.prepare)


links.declare_tasks((TASK,))


@dataclass(frozen=True)
class Opened:
    """A link as the page it names would open it: its network and photo, and the page's own settings (the
    raw text; :meth:`setting` reads one through the page's validator)."""

    page: Page
    net: cnnviz.LoadedModel
    image: Image.Image
    digest: str
    photo: str  # the gallery's name of the photo
    settings: dict[str, str] = field(default_factory=dict)

    def setting(self, name: str, parser: Callable[[str], Any], default: Any) -> Any:
        """The link's value of ``name`` read by ``parser``, or ``default`` when absent or refused, as the page
        would read it."""
        text = self.settings.get(name)
        if text is None:
            return default
        try:
            return parser(text)
        except ValueError:
            return default

    def target(self) -> int:
        """The class the link's ``target`` names when it is one of the photo's top-5, else the top-1, as the
        pages keep their class choice (:func:`ui.follow.keep_choice`)."""
        from cnnviz.predict import at_most
        from ui.results import shared_prediction

        top5 = [s.index for s in shared_prediction(self.net, self.image, self.digest, at_most(self.net)).scores]
        named = self.setting("target", links.integer(0, len(self.net.categories) - 1), top5[0])
        return named if named in top5 else top5[0]


@dataclass(frozen=True)
class Line:
    """One line of the box: its number (from 1), the page it names and, once read, the link opened, or the
    reason it was refused (a catalogue key and its values)."""

    number: int
    page: Page | None = None
    arch: str = cnnviz.DEFAULT_ARCH
    photo: str = ""
    settings: dict[str, str] = field(default_factory=dict)
    refused: tuple[str, dict] | None = None


def read_lines(text: str) -> list[Line]:
    """The box's text as links (blank lines and ``#`` comments skipped); at most :data:`MAX_LINKS`, the rest
    refused."""
    lines = [(n, raw.strip()) for n, raw in enumerate(text.splitlines(), start=1)]
    lines = [(n, raw) for n, raw in lines if raw and not raw.startswith("#")]
    read = [_read_line(n, raw) for n, raw in lines[:MAX_LINKS]]
    return read + [Line(n, refused=("prepare.too_many", {"most": MAX_LINKS})) for n, _ in lines[MAX_LINKS:]]


def _read_line(number: int, raw: str) -> Line:
    if len(raw) > MAX_LINE:
        return Line(number, refused=("prepare.too_long", {"most": MAX_LINE}))
    parts = urlsplit(raw)
    if parts.scheme not in ("", "http", "https"):
        return Line(number, refused=("prepare.not_a_link", {}))
    path = parts.path.strip("/")
    page = next((p for p in declared_pages() if p.url_path == path), None)
    if page is None:
        return Line(number, refused=("prepare.no_page", {}))
    query = dict(parse_qsl(parts.query, keep_blank_values=True))  # the last of a repeated name, as Streamlit
    arch = cnnviz.DEFAULT_ARCH
    if "arch" in query:
        try:
            arch = links.architecture(query["arch"])
        except ValueError:
            return Line(number, page, refused=("prepare.bad_network", {}))
    photo = query.get("image", next(iter(GALLERY)))
    if photo not in GALLERY:
        return Line(number, page, arch, refused=("prepare.no_photo", {}))
    if page.prepare is None:
        return Line(number, page, arch, photo, refused=("prepare.nothing_heavy", {}))
    own = page.link.fields if page.link is not None else {}
    settings = {name: value for name, value in query.items() if name in own}
    return Line(number, page, arch, photo, settings)


def open_line(line: Line, device: str = "auto") -> Opened:
    """The network (the process's shared model on ``device``) and photo of ``line``, as its page gets them."""
    from ui.models import network
    from ui.sidebar import gallery_digest, gallery_photo

    net = network(line.arch, device)
    return Opened(line.page, net, gallery_photo(line.photo), gallery_digest(line.photo), line.photo, line.settings)


def fill_from_link() -> None:
    """On a session's first run: a ``prepare`` link setting fills the box (and leaves the address bar)."""
    if LINK_NAME not in st.query_params:
        return
    text = st.query_params[LINK_NAME]
    del st.query_params[LINK_NAME]
    if len(text) <= MAX_FILE_BYTES:  # what cnnviz warm sends at most
        st.session_state[TEXT_KEY] = text
        st.session_state["_prepare_open"] = True
    else:
        links.drop_bad(LINK_NAME)


def is_asked() -> bool:
    """Whether this session opened the box from a link."""
    return bool(st.session_state.get("_prepare_open"))


def offer() -> None:
    """The Prepare box above the page: for a class's lecturer (folded until opened), and for a session that a
    ``prepare`` link opened it for."""
    from ui import class_mode

    if not (class_mode.is_lecturer() or is_asked()):
        return
    with st.expander(t("prepare.title"), expanded=is_asked(), icon=":material/bolt:"):
        prepare_box()


def prepare_box() -> None:
    """The box: the links, a button, and on pressing it each link's results computed through the shared
    cache and queue with progress, then one line per link of what is ready."""
    from ui.results import compute_shared_all, shared_results

    st.markdown(t("prepare.intro"))
    text = st.text_area(t("prepare.links"), key=TEXT_KEY, height=140, placeholder=t("prepare.placeholder"))
    if not st.button(t("prepare.run"), key=BUTTON_KEY, icon=":material/bolt:"):
        return
    lines = read_lines(text or "")
    if not lines:
        st.info(t("prepare.empty"))
        return
    start, ready, computed, refused = time.perf_counter(), 0, 0, 0
    overall = st.progress(0.0, text=t("prepare.progress", done=0, total=len(lines)))
    for i, line in enumerate(lines):
        overall.progress(i / len(lines), text=t("prepare.progress", done=i + 1, total=len(lines)))
        label = t("prepare.line", number=line.number) + (f" · {t(line.page.title_key)}" if line.page else "")
        if line.refused is not None:
            refused += 1
            st.warning(f"{label} — {t(line.refused[0], **line.refused[1])}")
            continue
        try:
            opened = open_line(line)
            jobs = line.page.prepare(opened)
        except cnnviz.CnnvizError as exc:
            refused += 1
            st.warning(f"{label} — {error_text(exc)}")
            continue
        there = sum(shared_results().get(job.key) is not None for job in jobs)
        began = time.perf_counter()
        values = compute_shared_all(jobs, task=TASK, device=str(opened.net.device)) if jobs else []
        if values is None:
            refused += 1
            continue
        ready += len(jobs)
        computed += len(jobs) - there
        detail = t(
            "prepare.line_done",
            arch=opened.net.spec.display,
            photo=line.photo,
            count=len(jobs),
            already=there,
            seconds=time.perf_counter() - began,
        )
        st.caption(f"✓ {label} — {detail}")
    overall.empty()
    summary = t(
        "prepare.done",
        links=len(lines) - refused,
        results=ready,
        computed=computed,
        refused=refused,
        seconds=time.perf_counter() - start,
    )
    (st.success if not refused else st.warning)(summary)
