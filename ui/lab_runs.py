"""The labs' one flow: the shipped default run at once, training on request, then the result for everyone.

A lab that trains networks (the depth and pooling labs) ships its default settings' run precomputed
(``cnnviz/assets``, made by ``scripts/precompute_*``), so a class opening the page sees the curves without
waiting; other settings train when the student presses the form's button, once for every session asking,
through the device's queue of heavy work (:func:`ui.results.compute_shared`).

A lab's form keeps its settings in the link (:func:`linked_form`, :func:`write_form`): a class then follows
the run the lecturer pressed, and a prepared link trains it before class (:func:`lab_jobs`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from ui import links
from ui.results import SharedJob, compute_shared, shared_results
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


def linked_form(link: links.PageSettings, parsers: dict[str, Callable[[str], Any]], defaults: dict[str, Any]) -> None:
    """Before a lab's form: the link's settings (read once per session, each by ``parsers[name]``; a bad one is
    dropped with a notice) into the form's widget keys, else ``defaults`` (by link name)."""
    link.read_once(parsers)
    links.show_notices()
    for name, key in link.fields.items():
        st.session_state.setdefault(key, defaults[name])


def write_form(link: links.PageSettings, values: dict[str, Any]) -> None:
    """After a lab's form: the settings it holds (by link name; a form's change arrives when pressed) into
    the link."""
    link.write({name: str(int(value)) if isinstance(value, bool) else str(value) for name, value in values.items()})


def opened_values(opened, parsers: dict[str, Callable[[str], Any]], defaults: dict[str, Any]) -> dict[str, Any]:
    """A prepared link's settings (``ui.prepare``'s opened link), read as :func:`linked_form` reads them."""
    return {name: opened.setting(name, parser, defaults[name]) for name, parser in parsers.items()}


def lab_jobs(settings, train: Callable[[Any, Callable[[int, int], None]], Any], task: str) -> list[SharedJob]:
    """The heavy work a prepared link to a lab needs: ``train(settings)`` under :func:`lab_result`'s key, or
    nothing for the default settings, whose run ships with cnnviz."""
    if settings == type(settings)():
        return []
    return [SharedJob((task, settings), lambda report: train(settings, report), t(f"task.{task}"))]
