"""The error types cnnviz raises for bad input; each message is written for a student to read.

An error may also carry a message ``key`` and the ``values`` it was written with, so a front end can show
it in the user's language (the web app's catalogues hold ``error.<key>``); the English message stays the
text for the CLI and logs.
"""


class CnnvizError(Exception):
    """Base class: anything a user did that cnnviz refuses, with a message that says why and what to do."""

    def __init__(self, message: str, key: str | None = None, **values) -> None:
        super().__init__(message)
        self.key = key
        self.values = values

    def __reduce__(self):  # keep key and values through pickling (Streamlit's data cache pickles results)
        return (_rebuild, (type(self), str(self), self.key, self.values))


def _rebuild(kind, message, key, values):
    return kind(message, key, **values)


class ImageInputError(CnnvizError):
    """An uploaded or given file is not an image cnnviz can safely use."""


class UnknownArchitectureError(CnnvizError):
    """A name that is not in the model zoo."""


class WeightsError(CnnvizError):
    """Weights that were asked for cannot be obtained or do not fit the architecture."""
