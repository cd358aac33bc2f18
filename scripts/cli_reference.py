"""The command line reference (``docs/cli.md``), generated from the argparse parser so that it cannot drift:
``python -m scripts.cli_reference`` rewrites it; ``tests/test_docs.py`` fails when it is out of date.

One section per subcommand: its one-line help, its usage, and a table of its arguments (name, choices or
what it takes, default, help), in the parser's order.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file too
    sys.path.insert(0, str(ROOT))

from cnnviz.cli import build_parser  # noqa: E402

TARGET = ROOT / "docs" / "cli.md"
HEADER = """# Command line reference

Generated from the parser by `python -m scripts.cli_reference` (do not edit by hand). `cnnviz COMMAND --help`
prints the same. Every command that runs a network takes `--arch`, `--weights`, `--device` and `--lang`;
a refused input exits with status 2 and one line on stderr.
"""


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _takes(action: argparse.Action) -> str:
    if action.choices:
        return " · ".join(f"`{choice}`" for choice in action.choices)
    if action.nargs == 0:
        return "flag"
    return f"`{action.metavar or action.dest.upper()}`"


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS):
        return ""
    if isinstance(action.default, list):
        return " ".join(f"`{value}`" for value in action.default)
    return f"`{action.default}`"


def _section(name: str, parser: argparse.ArgumentParser, summary: str) -> list[str]:
    usage = " ".join(parser.format_usage().split())
    lines = [f"## `cnnviz {name}`", "", _cell(summary) + ".", "", "```text", usage, "```", ""]
    lines += ["| argument | takes | default | what it is |", "|---|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        argument = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{action.dest}`"
        lines.append(f"| {argument} | {_takes(action)} | {_default(action)} | {_cell(action.help or '')} |")
    return [*lines, ""]


def reference() -> str:
    """The whole reference, as Markdown."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    summaries = {choice.dest: choice.help for choice in commands._choices_actions}
    lines = [HEADER]
    for name, command in commands.choices.items():
        lines += _section(name, command, summaries[name])
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(reference(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
