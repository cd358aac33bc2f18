"""Helpers for AppTest: a view rendered under the real sidebar, as app.py renders it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Image as ImageElement

VIEW_SCRIPT = """
import streamlit as st
from ui.links import show_notices
from ui.pages import page_named
from ui.sidebar import init_session, render_sidebar
page = page_named("{module}")  # every page declared first, as app.py does: the link may hold their settings
init_session()
st.session_state["choices"] = render_sidebar()
show_notices()
page.render()
"""


def view(module: str, query: dict[str, str] | None = None) -> AppTest:
    """An AppTest of the page declared by ``views/<module>.py`` with the shared sidebar, opened from a link with
    ``query`` (if given), after its first run."""
    app = AppTest.from_string(VIEW_SCRIPT.format(module=module), default_timeout=180)
    app.query_params.update(query or {})
    app.run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def layers_view() -> AppTest:
    return view("layers")


@pytest.fixture
def queued_devices(monkeypatch) -> list[str]:
    """The devices whose queue of heavy work each computation of the test waited in (through
    ``ui.results.shared_in_queue``, the one way heavy work reaches a page), in order."""
    from ui import results

    queued: list[str] = []
    real = results.run_queued

    def recording(device, compute, on_wait, on_progress):
        queued.append(device)
        return real(device, compute, on_wait, on_progress)

    monkeypatch.setattr(results, "run_queued", recording)
    return queued


def image_captions(app) -> list[list[str]]:
    """The captions of every ``st.image`` call on the page, in order (one list per call)."""
    found = []

    def walk(node):
        if isinstance(node, ImageElement):
            found.append([img.caption for img in node.proto.imgs])
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(app._tree)
    return found
