"""Every message the engine and the command line can show a user, by key: the ``error.*`` entries of
``cnnviz/texts/errors/<lang>.toml``.

An error is raised as ``CnnvizError(key, **values)``; its English text is ``MESSAGES[key].format(**values)``
and a front end shows it in the user's language with :func:`message`. ``tests/test_messages.py`` fails on
an engine raise whose key or values do not match an entry here.
"""

from cnnviz.texts import DEFAULT_LANGUAGE, feature_texts, text

MESSAGES = {key.removeprefix("error."): value for key, value in feature_texts("errors", DEFAULT_LANGUAGE).items()}


def message(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """The message ``key`` in ``lang``."""
    return text(f"error.{key}", lang, **values)
