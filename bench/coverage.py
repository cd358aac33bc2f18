"""How far the engine's views reach beyond the zoo: each view on one network per family of torchvision's and
timm's ImageNet-1k classifiers (``torchvision:NAME``, ``timm:NAME``), with seeded random weights.

The views and what "works" means are :mod:`harness.coverage`'s (layer table, top-5, deconvnet, Grad-CAM,
incremental occlusion equal to full, the fully convolutional twin); each view ends as ``works``,
``refused`` (the sentence a student would read) or ``failed`` (anything else, or over the time limit).

Each network runs in its own process with a time limit (``--limit`` seconds), so one slow or broken
network neither stops nor slows the rest. Usage: ``python -m bench.coverage [--library torchvision timm]
[--max 200] [--limit 300] [--json | --markdown]``; ``--one NAME`` runs one network and prints its row.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import timm
import torchvision.models

from bench.report import markdown
from harness.coverage import VIEWS, one

CANDIDATES = 12  # timm names per family weighed to choose its smallest


def _opens(name: str) -> bool:
    """True when cnnviz opens ``name`` (:func:`cnnviz.models.library.library_spec`: an ImageNet-1k head)."""
    from cnnviz.errors import UnknownArchitectureError
    from cnnviz.models.library import library_spec

    try:
        library_spec(name)
    except UnknownArchitectureError:
        return False
    return True


def representatives(libraries: list[str]) -> list[str]:
    """One name per family: torchvision's classifiers grouped by their leading letters (the first, sorted),
    timm's by module (the smallest by parameters of the first :data:`CANDIDATES` that cnnviz opens, so one
    family's giant does not spend the time limit)."""
    names: list[str] = []
    if "torchvision" in libraries:
        families: dict[str, str] = {}
        for model in sorted(torchvision.models.list_models(module=torchvision.models)):
            families.setdefault(re.match(r"[a-z]+", model).group(0), model)
        names += [f"torchvision:{model}" for model in families.values()]
    if "timm" in libraries:
        for module in sorted(timm.list_modules()):
            candidates = [f"timm:{m}" for m in sorted(timm.list_models(module=module)) if _opens(f"timm:{m}")]
            names += [min(candidates[:CANDIDATES], key=_parameters)] if candidates else []
    return names


def _parameters(name: str) -> int:
    """Parameters of ``name``'s network, counted on the meta device (no memory, no initialisation)."""
    from cnnviz.models.zoo import get_spec

    try:
        return get_spec(name).parameter_count()
    except Exception:  # a builder that cannot run on the meta device: last choice
        return 2**62


def run_isolated(name: str, limit: float, module: str = "bench.coverage") -> dict:
    """``python -m MODULE --one NAME`` (:func:`one` here) in a fresh process, at most ``limit`` seconds: the
    row it prints last, or a failed row."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", module, "--one", name], capture_output=True, text=True, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return {"name": name, "load": ("failed", f"over {limit:.0f} s", limit)}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"name": name, "load": ("failed", (done.stderr.strip().splitlines() or ["no output"])[-1][:200], 0)}
    return json.loads(lines[-1])


# The documentation's table names each refusal by its reason; the sentence a student reads is in the guide.
REASONS = {
    "no convolutional feature maps": "no maps",
    "sequence of tokens": "tokens",
    "only runs on photos of its own input size": "own size only",
    "normalisation or activation follows": "norm after pool",
    "cannot follow": "not traceable",
    "cannot be read as a graph": "not traceable",
    "is not a pooling, linear or activation layer": "head layer",
    "branches at": "head branches",
}


def _cell(row: dict, view: str, short: bool = False) -> str:
    if "load" in row:
        return f"{row['load'][0]} (load)" if view == VIEWS[0] else ""
    outcome, detail, _ = row[view]
    if outcome == "works":
        return outcome
    reason = next((label for phrase, label in REASONS.items() if phrase in detail), detail) if short else detail
    return f"{outcome}: {reason}"


def rows_parser(description: str) -> argparse.ArgumentParser:
    """The options of a benchmark that runs one network per process: ``--limit``, ``--one``, ``--json``,
    ``--markdown`` and ``--rows``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--limit", type=float, default=300, help="seconds per network")
    parser.add_argument("--one", help="run one network here and print its row as JSON")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="the documentation's table")
    parser.add_argument("--rows", type=Path, help="format the rows a --json run saved, instead of running")
    return parser


def saved_rows(path: Path | None) -> list[dict]:
    """The rows a ``--json`` run printed to ``path`` (none without a path)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")] if path else []


def main() -> None:
    parser = rows_parser(__doc__.splitlines()[0])
    parser.add_argument("--library", nargs="+", default=["torchvision", "timm"], choices=("torchvision", "timm"))
    parser.add_argument("--max", type=int, default=200, help="at most this many networks")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    rows = saved_rows(args.rows)
    for name in [] if args.rows else representatives(args.library)[: args.max]:
        rows.append(run_isolated(name, args.limit))
        if args.json:
            print(json.dumps(rows[-1]), flush=True)
        elif not args.markdown:
            print(name, " · ".join(f"{v}: {_cell(rows[-1], v)}" for v in VIEWS), flush=True)
    counts = {
        outcome: sum(_cell(r, v).startswith(outcome) for r in rows for v in VIEWS)
        for outcome in ("works", "refused", "failed")
    }
    if args.markdown:
        table = [(f"`{r['name']}`", *(_cell(r, v, short=True) for v in VIEWS)) for r in rows]
        print(markdown(("network", *VIEWS), table))
    print(f"{len(rows)} networks; views: " + ", ".join(f"{n} {o}" for o, n in counts.items()))


if __name__ == "__main__":
    main()
