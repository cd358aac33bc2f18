"""The error types cnnviz raises for bad input; each message is written for a student to read."""


class CnnvizError(Exception):
    """Base class: anything a user did that cnnviz refuses, with a message that says why and what to do."""


class ImageInputError(CnnvizError):
    """An uploaded or given file is not an image cnnviz can safely use."""


class UnknownArchitectureError(CnnvizError):
    """A name that is not in the model zoo."""


class WeightsError(CnnvizError):
    """Weights that were asked for cannot be obtained or do not fit the architecture."""
