"""The error types cnnviz raises for bad input; each message is written for a student to read.

An error is raised with a message key and the values its sentence needs: ``CnnvizError("no_layer",
arch="VGG-16", layer="features.99")``. Its English text comes from :data:`cnnviz.messages.MESSAGES`; the web
app and the CLI's ``--lang`` show it in the user's language (``cnnviz/texts/errors/<lang>.toml``).
"""

from cnnviz.messages import MESSAGES


class CnnvizError(Exception):
    """Base class: anything a user did that cnnviz refuses, with a message that says why and what to do."""

    def __init__(self, key: str, **values) -> None:
        if key not in MESSAGES:
            raise KeyError(f"no message error.{key} in cnnviz/texts/errors")
        super().__init__(MESSAGES[key].format(**values))
        self.key = key
        self.values = values

    def __reduce__(self):  # keep key and values through pickling (Streamlit's data cache pickles results)
        return (_rebuild, (type(self), self.key, self.values))


def _rebuild(kind, key, values):
    return kind(key, **values)


class ImageInputError(CnnvizError):
    """An uploaded or given file is not an image cnnviz can safely use."""


class UnknownArchitectureError(CnnvizError):
    """A name that is not in the model zoo."""


class WeightsError(CnnvizError):
    """Weights that were asked for cannot be obtained or do not fit the architecture."""
