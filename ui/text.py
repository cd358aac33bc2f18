"""User-interface text: the catalogues of :mod:`cnnviz.texts` (one folder per feature, one file per
language); views look strings up with :func:`t`.

The language is the session's choice (``st.session_state["lang"]``), which starts from the browser's
language when Streamlit reports it; a missing key in any language fails ``tests/test_texts.py``.
"""

from __future__ import annotations

import re

import streamlit as st

from cnnviz.texts import DEFAULT_LANGUAGE, LANGUAGES, Text, catalogue


def language_from_locale(locale: str | None) -> str:
    """``"pt"`` for pt-BR / pt-PT, ``"es"`` for any Spanish, else English."""
    prefix = (locale or "").split("-")[0].split("_")[0].lower()
    return prefix if prefix in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The session's language (English outside a Streamlit session)."""
    try:
        return st.session_state.get("lang", DEFAULT_LANGUAGE)
    except Exception:  # no script run context: tests, the CLI
        return DEFAULT_LANGUAGE


def _catalogue(lang: str | None = None) -> dict[str, str]:
    """The catalogue of ``lang`` (default: the session's language)."""
    return catalogue(lang or current_language())


def t(key: str, lang: str | None = None, **values) -> str:
    """The text for ``key`` in ``lang`` (default: the session's) with ``values`` filled in."""
    return _catalogue(lang)[key].format(**values)


def labeller(template: str):
    """A ``format_func`` for widgets: ``template`` (a key with ``{}`` for the option) in the language of
    the run that built the widget, so the labels never depend on when Streamlit formats them."""
    lang = current_language()
    return lambda option: t(template.format(option), lang)


MAX_SHOWN_NAME = 80


def literal(text: str) -> str:
    """``text`` from a user (a file name) escaped so Markdown shows it as written, at most
    :data:`MAX_SHOWN_NAME` characters: a name like ``[click](http://…).jpg`` must not become a link."""
    shortened = text if len(text) <= MAX_SHOWN_NAME else text[: MAX_SHOWN_NAME - 1] + "…"
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", shortened.replace("\n", " "))


def error_text(exc: Exception, lang: str | None = None) -> str:
    """An engine error in the session's language when its message key is in the catalogue, else its
    English message."""
    key = getattr(exc, "key", None)
    if key and f"error.{key}" in _catalogue(lang):
        return t(f"error.{key}", lang, **exc.values)
    return str(exc)


def weights_text(net, lang: str | None = None) -> str:
    """Where a loaded model's weights came from (or why they are random), in the session's language."""
    key, values = net.weights_note
    if not key:
        return net.weights_detail
    if key == "random":
        reason = dict(values)
        why = reason.pop("reason")
        seed = reason.pop("seed")
        return t("weights.note_random", lang, seed=seed, reason=t(f"weights.reason_{why}", lang, **reason))
    return t(f"weights.note_{key}", lang, **values)


def preprocessing_text(preprocessing, lang: str | None = None) -> str:
    """The preprocessing steps, in the session's language."""
    return " → ".join(t(f"preprocess.{step}", lang, **values) for step, values in preprocessing.steps())


def note_text(note: str, lang: str | None = None) -> str:
    """A lecture note of the engine (a :class:`cnnviz.texts.Text`) in the session's language; any other
    string as it is."""
    return note.translated(lang or current_language()) if isinstance(note, Text) else note


def class_names(net, lang: str | None = None) -> tuple[str, ...]:
    """A loaded network's class names by index in the session's language: ImageNet's 1,000 translated
    (``cnnviz/texts/classes``), any other labels (LeNet-5's digits) as they are."""
    return net.class_names(lang or current_language())


def has_text(key: str, lang: str | None = None) -> bool:
    """True when the catalogue has ``key``."""
    return key in _catalogue(lang)


def column_config(columns) -> dict:
    """``st.dataframe`` column labels in the session's language for the engine's column names."""
    return {c: st.column_config.Column(column_label(c)) for c in columns if f"col.{c}" in _catalogue()}


def column_label(name: str) -> str:
    """The label of an engine column name in the session's language (the name itself when unknown)."""
    return _catalogue().get(f"col.{name}", name)


def tooltips(*fields: str) -> list:
    """Altair tooltips for engine column names, titled in the session's language."""
    import altair as alt

    return [alt.Tooltip(field, title=column_label(field)) for field in fields]
