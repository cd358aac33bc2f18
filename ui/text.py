"""User-interface text: one catalogue per language in ``ui/locales/``; views look strings up with :func:`t`.

The language is the session's choice (``st.session_state["lang"]``), which starts from the browser's
language when Streamlit reports it; a missing key in any catalogue fails ``tests/app/test_text.py``.
"""

from __future__ import annotations

import streamlit as st

from ui.locales import en, es, pt

CATALOGUES = {"en": en.CATALOGUE, "pt": pt.CATALOGUE, "es": es.CATALOGUE}
LANGUAGE_NAMES = {"en": "English", "pt": "Português (Brasil)", "es": "Español"}
DEFAULT_LANGUAGE = "en"


def language_from_locale(locale: str | None) -> str:
    """``"pt"`` for pt-BR / pt-PT, ``"es"`` for any Spanish, else English."""
    prefix = (locale or "").split("-")[0].split("_")[0].lower()
    return prefix if prefix in CATALOGUES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The session's language (English outside a Streamlit session)."""
    try:
        return st.session_state.get("lang", DEFAULT_LANGUAGE)
    except Exception:  # no script run context: tests, the CLI
        return DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, **values) -> str:
    """The text for ``key`` in ``lang`` (default: the session's) with ``values`` filled in."""
    catalogue = CATALOGUES.get(lang or current_language(), CATALOGUES[DEFAULT_LANGUAGE])
    return catalogue[key].format(**values)


def labeller(template: str):
    """A ``format_func`` for widgets: ``template`` (a key with ``{}`` for the option) in the language of
    the run that built the widget, so the labels never depend on when Streamlit formats them."""
    lang = current_language()
    return lambda option: t(template.format(option), lang)
