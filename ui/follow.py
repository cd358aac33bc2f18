"""Settings that follow the network: a widget's kept value is checked against the range the current
network, photo or layer allows before the widget is drawn, kept when still valid and otherwise moved to
the nearest valid value, with one line on the page saying what changed and why.

Streamlit raises (an error box on the projector) when a slider's kept value lies outside a new range,
and formats a selectbox's kept value that is no longer an option; no Streamlit option does this, so it is
written here. Call these before the widget with the same ``key`` is drawn in the run; the page then
writes the link from the widget's value, so the link follows too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from ui.text import t


def nearest_number(value: float, low: float, high: float, step: float | None = None) -> float:
    """``value`` clipped to ``[low, high]`` and, with ``step``, moved to the nearest ``low + k·step``
    (never past ``high``)."""
    value = min(max(value, low), high)
    if step:
        value = low + round((value - low) / step) * step
        while value > high:
            value -= step
    return value


def keep_number(
    key: str, low: float, high: float, default: float, *, setting: str, why: str, step: float | None = None
) -> None:
    """Keep ``st.session_state[key]`` within ``[low, high]`` (on the ``step`` grid from ``low``, if given):
    an out-of-range value moves to the nearest valid one and the page says so (``setting`` is the widget's
    label, ``why`` the reason in the session's language). An unset key starts at ``default``."""
    value = st.session_state.get(key)
    if value is None or isinstance(value, bool):
        st.session_state[key] = default
        return
    fitted = type(value)(nearest_number(value, low, high, step))
    if fitted != value:
        _move(key, fitted, setting, str(value), str(fitted), why)


def keep_choice(
    key: str,
    options: Sequence[Any],
    fallback: Any,
    *,
    setting: str,
    why: str,
    show: Callable[[Any], str] = str,
    show_old: bool = True,
) -> None:
    """Keep ``st.session_state[key]`` among ``options``: a value that is no longer one becomes ``fallback``
    and the page says so (``show`` names an option; ``show_old=False`` leaves the old value unnamed, for
    values such as class indices that only mean something for the network that offered them). An unset
    key starts at ``fallback``."""
    if key not in st.session_state:
        st.session_state[key] = fallback
        return
    if st.session_state[key] in options:
        return
    old = st.session_state[key]
    _move(key, fallback, setting, show(old) if show_old else None, show(fallback), why)


def _move(key: str, value: Any, setting: str, old: str | None, new: str, why: str) -> None:
    st.session_state[key] = value
    if old is None:
        st.caption(f":material/tune: {t('follow.replaced', setting=setting, new=new, why=why)}")
    else:
        st.caption(f":material/tune: {t('follow.moved', setting=setting, old=old, new=new, why=why)}")
