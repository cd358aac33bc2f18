"""One source for every message: each engine raise names a key of cnnviz.messages with exactly the values
its sentence needs, the CLI prints that sentence, and the app shows the same key in the user's language."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import string
from pathlib import Path

import pytest

import cnnviz
from cnnviz.errors import CnnvizError
from cnnviz.messages import MESSAGES

PACKAGE = Path(cnnviz.__file__).parent


def _error_classes() -> set[str]:
    for module in pkgutil.walk_packages([str(PACKAGE)], "cnnviz."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found, todo = set(), [CnnvizError]
    while todo:
        kind = todo.pop()
        found.add(kind.__name__)
        todo.extend(kind.__subclasses__())
    return found


def _raises():
    """Every construction of a cnnviz error in the package and the app's own modules: (file, line, call)."""
    classes = _error_classes()
    app = [path for folder in ("ui", "views") for path in (PACKAGE.parent / folder).rglob("*.py")]
    for path in sorted([*PACKAGE.rglob("*.py"), *app]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in classes:
                yield path.relative_to(PACKAGE.parent), node.lineno, node


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_every_engine_error_names_a_message_with_exactly_its_values():
    raises = list(_raises())
    assert len(raises) > 80
    for path, line, call in raises:
        where = f"{path}:{line}"
        assert call.args and isinstance(call.args[0], ast.Constant), f"{where}: raise without a message key"
        key = call.args[0].value
        assert key in MESSAGES, f"{where}: no message {key!r} in cnnviz/messages.py"
        assert len(call.args) == 1 and not any(k.arg is None for k in call.keywords), f"{where}: values by name"
        assert {k.arg for k in call.keywords} == _placeholders(MESSAGES[key]), where


def test_every_message_is_raised_somewhere():
    raised = {call.args[0].value for _, _, call in _raises()}
    assert set(MESSAGES) == raised, set(MESSAGES) - raised


def test_an_error_is_its_sentence_and_survives_pickling():
    import pickle

    error = cnnviz.UnknownArchitectureError("unknown_arch", name="resnet9000", choices="lenet5, vgg16")
    assert str(error) == (
        "Unknown architecture 'resnet9000'. Choose one of: lenet5, vgg16; or any image classifier of torchvision"
        " or timm as torchvision:NAME or timm:NAME."
    )
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and (again.key, again.values, str(again)) == (error.key, error.values, str(error))
    with pytest.raises(KeyError, match=r"no message error\.made_up"):
        CnnvizError("made_up")


def test_the_app_shows_each_message_in_every_language():
    from cnnviz.texts import catalogue
    from ui.text import error_text

    error = cnnviz.CnnvizError("no_layer", arch="VGG-16", layer="features.99")
    assert catalogue("en")["error.no_layer"] == MESSAGES["no_layer"]  # written once: errors/en.toml
    assert error_text(error, "en") == str(error) == "VGG-16 has no layer 'features.99'."
    assert error_text(error, "pt") == "VGG-16 não tem a camada 'features.99'."
    assert error_text(error, "es") == "VGG-16 no tiene la capa 'features.99'."
