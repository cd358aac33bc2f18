"""Weights that travel with cnnviz, described as data: a file in the package's ``assets`` folder, or a file
inside another installed Python package, and how its tensors map onto the architecture's."""

from __future__ import annotations

import importlib
import importlib.resources
import operator
from dataclasses import dataclass
from pathlib import Path


def asset_path(name: str) -> Path:
    """The path of ``name`` in the ``cnnviz/assets`` folder of the installed (or checked-out) package."""
    return Path(str(importlib.resources.files("cnnviz") / "assets" / name))


@dataclass(frozen=True)
class BundledWeights:
    """One architecture's bundled weights.

    ``kind`` is ``"asset"`` (``file`` in ``cnnviz/assets``, written by the script ``trained_by``) or
    ``"package"`` (the distribution ``package``; ``locator`` is the dotted path, inside ``module``, of a
    function returning the file). ``by_position``: the file names its tensors differently from the
    architecture, so they are copied position by position (every shape must still match).
    """

    kind: str
    file: str | None = None
    trained_by: str | None = None
    package: str | None = None
    module: str | None = None
    locator: str | None = None
    by_position: bool = False

    def path(self) -> Path | None:
        """The weights file on this machine, or None when it is not installed."""
        if self.kind == "asset":
            path = asset_path(self.file)
        else:
            try:
                found = operator.attrgetter(self.locator)(importlib.import_module(self.module))()
            except ImportError:
                return None
            path = Path(found)
        return path if path.is_file() else None


def shipped_file(file: str, trained_by: str) -> BundledWeights:
    return BundledWeights("asset", file=file, trained_by=trained_by)


def package_file(package: str, module: str, locator: str, by_position: bool = False) -> BundledWeights:
    return BundledWeights("package", package=package, module=module, locator=locator, by_position=by_position)
