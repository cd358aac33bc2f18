"""A fuzz of every subcommand's arguments (Hypothesis, in process): whatever a lecturer types, ``cnnviz``
either works or exits with one ``cnnviz: error:`` line — never the "unexpected error" fallback, never a
traceback.

The subcommands and their options are read from the CLI's own parser, so a new option is fuzzed without new
test code. Each option gets values from a pool of its kind (numbers at and past every bound, ``nan``,
``inf``, non-ASCII digits, empty text; real and broken files; good and bad names). The network is always
LeNet-5 or a bad name, so one case takes well under a second; weights never download
(``CNNVIZ_OFFLINE=1``). CI runs ``FUZZ_EXAMPLES`` cases, ``pytest -m slow`` ``LONG_EXAMPLES``.
"""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cnnviz.cli import build_parser, main

FUZZ_EXAMPLES = 60
LONG_EXAMPLES = 2000
NUMBERS = ["-1", "0", "1", "2", "3", "16", "32", "255", "512", "513", "1000", "1024", "1025", "99999", "100001",
           str(2**31), str(2**63 - 1), str(2**63), str(2**64), "9" * 30, "0.5", "-0.0", "1e309", "nan", "inf",
           "-inf", "²", "٣", " 7", "0x10", "", "1_000"]  # fmt: skip
NAMES = ["lenet5", "lenet5", "nope", "", "../lenet5"]
LAYERS = ["features.c1", "features.s4", "features.c5", "classifier", "nope", ""]


@pytest.fixture(scope="module")
def files(tmp_path_factory, chelsea) -> dict[str, list[str]]:
    """Paths by kind: images (a real photo, a text file, an empty file, a missing file), folders, weights
    (not a checkpoint, missing) and outputs (each suffix, a missing folder, a folder)."""
    root = tmp_path_factory.mktemp("cli_fuzz")
    chelsea.save(root / "chelsea.jpg", quality=90)
    (root / "notes.txt").write_text("not an image")
    (root / "empty.jpg").write_bytes(b"")
    (root / "photos").mkdir()
    chelsea.resize((64, 48)).save(root / "photos" / "small.png")
    (root / "photos" / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")
    (root / "weights.pt").write_bytes(b"PK\x03\x04 not a checkpoint")
    return {
        "image": [str(root / "chelsea.jpg")] * 3 + [str(root / "notes.txt"), str(root / "empty.jpg"), "/no/such.jpg"],
        "folder": [str(root / "photos"), str(root / "chelsea.jpg"), "/no/such/folder"],
        "weights": ["auto", "random", "bundled", str(root / "weights.pt"), "/no/such.pt", "nope"],
        "device": ["cpu", "cpu", "cuda", "cuda:7", "mps", "nope"],
        "out": [str(root / name) for name in ("o.npy", "o.png", "o.txt", "o")] + ["/no/such/o.png", str(root)],
    }


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(commands.choices)


def _values(action: argparse.Action, files: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """What a user might type for ``action``, good and bad."""
    if action.dest in files:
        return st.sampled_from(files[action.dest])
    if action.dest == "arch":
        return st.sampled_from(NAMES)
    if action.dest == "layer":
        return st.sampled_from(LAYERS)
    if action.choices:
        return st.sampled_from([*map(str, action.choices), "nope"])
    return st.sampled_from(NUMBERS)


@st.composite
def command_lines(draw, files) -> list[str]:
    """A subcommand with its positionals and a random subset of its options, each with a drawn value."""
    name, parser = draw(st.sampled_from(sorted(_subcommands().items())))
    argv = [name]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or (action.dest == "all" and name == "fetch"):
            continue  # --all would try to download every network
        values = _values(action, files)
        if not action.option_strings:  # a positional: always given, once or a few times
            count = draw(st.integers(0 if action.nargs == "*" else 1, 3 if action.nargs in ("*", "+") else 1))
            argv += [draw(values) for _ in range(count)]
        elif action.dest == "arch" or draw(st.booleans()):
            if action.nargs == 0:
                argv.append(action.option_strings[0])
            else:
                count = draw(st.integers(1, 3)) if action.nargs == "+" else 1
                argv += [action.option_strings[0], *(draw(values) for _ in range(count))]
    return argv


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, err.getvalue()


def _check(argv: list[str]) -> None:
    code, err = _run(argv)
    event(f"{argv[0]} exit {code}" + (" (parse)" if "argument" in err or "usage" in err else ""))
    assert "unexpected" not in err and "Traceback" not in err, (argv, err)
    assert code in (0, 1, 2), (argv, code, err)
    if code == 2:
        assert err.strip().splitlines()[-1].startswith("cnnviz: error:"), (argv, err)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("CNNVIZ_OFFLINE", "1")
    monkeypatch.setenv("CNNVIZ_DEVICE", "cpu")


def test_every_subcommand_is_fuzzed():
    assert set(_subcommands()) >= {"predict", "occlusion", "deconv", "classmap", "localize", "visualize",
                                   "patches", "hardware", "archs", "layers", "fetch"}  # fmt: skip


def _fuzz(files, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(command_lines(files))
    def check(argv):
        _check(argv)

    check()


def test_no_arguments_reach_the_unexpected_error(files):
    _fuzz(files, FUZZ_EXAMPLES)


@pytest.mark.slow
def test_no_arguments_reach_the_unexpected_error_long(files):
    _fuzz(files, LONG_EXAMPLES)


@pytest.mark.parametrize(
    "argv",
    [
        ["visualize", "--arch", "lenet5", "--steps", "1", "--seed", "99999999999999999999999"],
        ["visualize", "--arch", "lenet5", "--steps", "1", "--seed", str(2**63)],
        ["localize", "/no/such.jpg", "--iou", "nan"],
        ["hardware", "--arch", "lenet5", "--batch", "0"],
        ["layers", "lenet5", "--input", "²"],
    ],
)
def test_out_of_range_arguments_are_refused_when_parsed(argv):
    code, err = _run(argv)
    assert code == 2 and err.count("\n") == 1 and "cnnviz: error: argument --" in err, err


def test_repeated_architectures_are_measured_once():
    code, err = _run(["hardware", "--arch", "lenet5", "lenet5", "lenet5", "--batch", "1", "--json"])
    assert code == 0 and "2 repeated architecture name(s) left out" in err


def test_patches_checks_layer_and_channel_before_reading_files_and_sums_up_the_skipped(files):
    folder = files["folder"][0]
    code, err = _run(["patches", folder, "--arch", "lenet5", "--channel", "99"])
    assert code == 2 and err.splitlines() == ["cnnviz: error: Channel must be between 0 and 15, not 99."]
    code, err = _run(["patches", folder, "--arch", "lenet5", "--layer", "features.s4", "--channel", "3"])
    reason = "This file is not an image cnnviz can read: please use a JPEG, PNG, WebP, BMP, GIF or TIFF file"
    assert code == 0 and err.splitlines() == [f"skipped 1 of 2 files: broken.jpg ({reason})"]
