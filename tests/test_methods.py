"""Every explanation method is one record with one calling convention: run on a real photo through real
weights, each returns its typed record; the command line is built from the same records."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.explain.methods import EXPLAINS, METHODS, Method

CHEAP = {  # the smallest real run of each method (its own tests check the numbers)
    "occlusion": {"window": 112, "stride": 112},
    "deconv": {},
    "classmap": {"method": "gradcam"},
    "localize": {"method": "cam"},
    "visualize": {"steps": 2, "channel": 3},
    "patches": {"layer": "blocks.2", "channel": 5},
    "activations": {"layer": "blocks.2"},
}


def test_every_method_is_described_by_its_record():
    assert set(METHODS) == set(CHEAP)
    for name, method in METHODS.items():
        assert isinstance(method, Method) and method.name == name and method.summary, name
        assert method.explains in EXPLAINS and method.images in ("one", "set", "none"), name
        assert len({p.name for p in method.params}) == len(method.params), name
        for param in method.params:
            if param.kind == "whole":
                assert param.low <= param.high and (param.default is None or param.low <= param.default <= param.high)
            if param.kind == "choice":
                assert param.default in param.choices, (name, param.name)


@pytest.mark.parametrize("name", list(CHEAP))
def test_every_method_runs_by_the_one_convention_and_returns_its_record(name, lite0, chelsea, coffee):
    method = METHODS[name]
    image = {"none": None, "one": chelsea, "set": {"chelsea": chelsea, "coffee": coffee}}[method.images]
    steps = []
    params = method.defaults() | CHEAP[name]
    result = method.run(lite0, image, progress=lambda done, total: steps.append((done, total)), **params)
    assert isinstance(result, method.record), (name, type(result))
    if name == "occlusion":
        assert result.probability.shape == (2, 2) and steps[-1][0] == steps[-1][1] == 4
    if name == "classmap":
        assert result.values.shape == (224, 224) and np.isfinite(result.values).all()


def test_localization_by_each_of_its_methods(lite0, coffee):
    from cnnviz.explain.detect import CamBox, Detections
    from cnnviz.explain.localize import ClassGrid

    localize = METHODS["localize"]
    records = {"fcn": ClassGrid, "sliding": Detections, "cam": CamBox}
    assert localize.param("method").choices == tuple(records)
    for method, record in records.items():
        found = localize.run(lite0, coffee, **(localize.defaults() | {"method": method, "target": 967}))
        assert isinstance(found, record), method


def test_the_command_line_is_built_from_the_records():
    import argparse

    from cnnviz.cli import PRESENTERS, build_parser

    assert set(PRESENTERS) == set(METHODS)
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, method in METHODS.items():
        flags = {a.dest: a for a in commands[name]._actions}
        for param in method.params:
            flag = flags[param.name]
            assert f"--{param.name.replace('_', '-')}" in flag.option_strings, (name, param.name)
            assert flag.default == param.default, (name, param.name)
            if param.kind == "choice":
                assert tuple(flag.choices) == param.choices, (name, param.name)
        assert ("folder" in flags) == (method.images == "set") and ("image" in flags) == (method.images == "one")
