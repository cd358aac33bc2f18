"""Every sentence a user reads, in every language, one folder per feature: ``cnnviz/texts/<feature>/<lang>.toml``.

A page's texts sit in the folder named after its view (``predict/``, ``occlusion/`` …), a method family's
in its own (``classmaps/``), the engine's in ``errors/`` (messages of :class:`cnnviz.errors.CnnvizError`),
``notes/`` (lecture facts), ``model/``, ``columns/`` and ``classes/`` (the 1,000 ImageNet class names, keyed
by WordNet id). Each file's nested tables name the keys: ``[predict]`` then ``header = "…"`` is
``predict.header``. At the first lookup the files of a language are merged into one catalogue; a key
defined twice is an error. Adding a language = one ``<lang>.toml`` in every folder and its name in
:data:`LANGUAGES`; ``tests/test_texts.py`` checks that every key is in every language with the same
placeholders.

TOML rather than Python modules: a translator edits data, not code, and the standard library reads it
(``tomllib``); no text file is ever executed.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent
LANGUAGES = {"en": "English", "pt": "Português (Brasil)", "es": "Español"}
DEFAULT_LANGUAGE = "en"


class Text(str):
    """A sentence of the engine that a front end translates: its English text, plus the catalogue ``key`` and
    the ``values`` its placeholders take (a lecture note, a source). Being a ``str``, it prints, compares
    and goes into tables as its English text."""

    key: str
    values: dict

    def __new__(cls, key: str, **values) -> Text:
        made = super().__new__(cls, text(key, DEFAULT_LANGUAGE, **values))
        made.key, made.values = key, values
        return made

    def __reduce__(self):  # pickled by key, so a cached result translates after unpickling
        return (_text_again, (self.key, self.values))

    def translated(self, lang: str) -> str:
        """This sentence in ``lang``."""
        return text(self.key, lang, **self.values)


def _text_again(key: str, values: dict) -> Text:
    return Text(key, **values)


def note(name: str, **values) -> Text:
    """The lecture note ``note.<name>`` (``notes/<lang>.toml``)."""
    return Text(f"note.{name}", **values)


def _flatten(table: dict, prefix: str = "") -> dict[str, object]:
    flat = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        flat.update(_flatten(value, f"{key}.") if isinstance(value, dict) else {key: value})
    return flat


def feature_files(lang: str) -> list[Path]:
    """The text files of ``lang``, one per feature folder."""
    return sorted(ROOT.glob(f"*/{lang}.toml"))


@functools.cache
def feature_texts(feature: str, lang: str) -> dict[str, object]:
    """The keys of one feature's file in ``lang`` (``<feature>/<lang>.toml``), read once per process (the
    catalogue and :data:`cnnviz.messages.MESSAGES` both ask for the errors file); not to be mutated."""
    return _flatten(tomllib.loads((ROOT / feature / f"{lang}.toml").read_text(encoding="utf-8")))


@functools.cache
def catalogue(lang: str) -> dict[str, object]:
    """Every key of ``lang`` (an unknown language: English), merged from its feature files."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    merged: dict[str, object] = {}
    for path in feature_files(lang):
        entries = feature_texts(path.parent.name, lang)
        twice = merged.keys() & entries.keys()
        if twice:
            raise ValueError(f"{path} defines keys another feature already defines: {sorted(twice)}")
        merged.update(entries)
    return merged


def text(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """The sentence ``key`` in ``lang`` with ``values`` filled in."""
    return catalogue(lang)[key].format(**values)


def has_text(key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
    """True when ``lang``'s catalogue has ``key``."""
    return key in catalogue(lang)


@functools.cache
def imagenet_wnids() -> tuple[str, ...]:
    """The WordNet ids of the 1,000 ImageNet classes by class index (ILSVRC 2012: index = rank of the id)."""
    return tuple(sorted(key.removeprefix("class.") for key in catalogue(DEFAULT_LANGUAGE) if key.startswith("class.")))


@functools.cache
def imagenet_class_names(lang: str = DEFAULT_LANGUAGE) -> tuple[str, ...]:
    """The 1,000 ImageNet class names in ``lang``, by class index (``classes/<lang>.toml``)."""
    names = catalogue(lang)
    return tuple(names[f"class.{wnid}"] for wnid in imagenet_wnids())
