"""The drawing canvas (streamlit-drawable-canvas), imported when a page draws it: the package registers
its component at import, which only works inside a running Streamlit app, and the page declarations are
also read outside one (the tests' list of pages)."""

from __future__ import annotations

from typing import Any


def drawing_canvas(**options: Any) -> Any:
    """``st_canvas(**options)``: the canvas and what was drawn on it."""
    from streamlit_drawable_canvas import st_canvas

    return st_canvas(**options)
