"""Every page of the app, declared once by its own view: ``@page(...)`` on ``views/<name>.py``'s page
function says its URL path, icon, sidebar group, place in the group, title and heading (catalogue keys),
the settings it keeps in the link, the heavy tasks that mark the link while they run, and the heavy results
a link to it needs (``prepare``: see :mod:`ui.prepare`).

:func:`declared_pages` imports every module of ``views/`` and returns their pages in navigation order;
``app.py``'s navigation, the link's task names and every test that walks all pages are built from it, so
adding a page is its view, its texts and its tests.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ui import links

GROUPS = ("explore", "labs")  # sidebar sections, in order; catalogue keys nav.<group>
Group = Literal["explore", "labs"]


@dataclass(frozen=True)
class Page:
    """One page: ``render`` draws it; ``url_path`` is "" for the default page (the root)."""

    name: str  # the module under views/
    render: Callable[[], None]
    url_path: str
    icon: str  # a Material symbol, ":material/<name>:"
    group: Group
    order: int  # place within the group, smallest first
    title_key: str  # the sidebar's title
    heading_key: str  # the page's heading; ``{arch}`` in it is the sidebar's architecture
    link: links.PageSettings | None
    tasks: tuple[str, ...]  # heavy work that marks the link (``running=<task>``); catalogue keys task.<name>
    prepare: Callable | None = None  # a link's heavy results before class: (ui.prepare.Opened) → [SharedJob]

    @property
    def is_default(self) -> bool:
        return self.url_path == ""


_DECLARED: dict[str, Page] = {}


def page(
    *,
    url_path: str,
    icon: str,
    group: Group,
    order: int,
    title_key: str,
    heading_key: str,
    link: links.PageSettings | None = None,
    tasks: tuple[str, ...] = (),
    prepare: Callable | None = None,
) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Declare the decorated function as the page of its module (see :class:`Page`)."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, not {group!r}")

    def declare(render: Callable[[], None]) -> Callable[[], None]:
        name = render.__module__.rpartition(".")[2]
        _DECLARED[name] = Page(name, render, url_path, icon, group, order, title_key, heading_key, link, tasks, prepare)
        links.declare_tasks(tasks)
        return render

    return declare


@functools.cache
def declared_pages() -> tuple[Page, ...]:
    """Every page under ``views/``, by group then order; checks that paths and places are unique and that
    exactly one page is the default. Found once per process (``app.py`` asks on every script run)."""
    import views

    for module in pkgutil.iter_modules(views.__path__):
        importlib.import_module(f"views.{module.name}")
    pages = sorted(_DECLARED.values(), key=lambda p: (GROUPS.index(p.group), p.order, p.name))
    paths = [p.url_path for p in pages]
    places = [(p.group, p.order) for p in pages]
    if len(set(paths)) != len(paths) or len(set(places)) != len(places) or paths.count("") != 1:
        raise ValueError(f"pages need unique paths and places and one default page: {paths}, {places}")
    return tuple(pages)


def streamlit_page(declared: Page, title: str):
    """``declared`` as the ``st.Page`` the navigation holds (``st.switch_page`` takes the same one)."""
    import streamlit as st

    return st.Page(
        declared.render,
        title=title,
        icon=declared.icon,
        url_path=declared.url_path or None,
        default=declared.is_default,
    )


def page_named(name: str) -> Page:
    """The page declared by ``views/<name>.py``."""
    return next(p for p in declared_pages() if p.name == name)


def link_to(name: str, label_key: str) -> None:
    """A link to the page declared by ``views/<name>.py``, worded by the catalogue key ``label_key``; the
    sidebar's choices go with the session."""
    import streamlit as st

    from ui.text import t

    declared = page_named(name)
    st.page_link(streamlit_page(declared, t(declared.title_key)), label=t(label_key), icon=declared.icon)


@functools.cache
def page_icon() -> str:
    """The app's icon (bundled: a lecture room may have no network) as a data URI, made once per process:
    Streamlit reads and stores an icon given as a file path again on every run of every session."""
    import base64

    from cnnviz.models.bundled import asset_path

    return "data:image/png;base64," + base64.b64encode(asset_path("icon.png").read_bytes()).decode()
