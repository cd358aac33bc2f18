"""The labs' one flow: the shipped default run at once, training on request, then the result for everyone.

A lab that trains networks (the depth and pooling labs) ships its default settings' run precomputed
(``cnnviz/assets``, made by ``scripts/precompute_*``), so a class opening the page sees the curves without
waiting; other settings train when the student presses the form's button, once for every session asking,
through the device's queue of heavy work (:func:`ui.results.compute_shared`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from ui.results import compute_shared, shared_results
from ui.text import t


def lab_result(
    settings,
    submitted: bool,
    shipped: Callable[[], Any | None],
    train: Callable[[Any, Callable[[int, int], None]], Any],
    texts: str,
    task: str,
) -> Any | None:
    """The result to show for ``settings``: one already shared; else, unless the student pressed the button,
    the shipped run when ``settings`` are the defaults (``type(settings)()``; caption ``{texts}.precomputed``);
    else ``train(settings, progress)`` when the button was pressed; else None, after the prompt
    ``{texts}.press_run`` (or the engine's refusal)."""
    key = (task, settings)
    lab = shared_results().get(key)
    if lab is not None:
        return lab
    if not submitted and settings == type(settings)() and (lab := shipped()) is not None:
        st.caption(t(f"{texts}.precomputed"))
        return lab
    if submitted:
        computed = compute_shared(key, lambda report: train(settings, report), texts, task=task)
        return None if computed is None else computed.value
    st.info(t(f"{texts}.press_run"))
    return None
