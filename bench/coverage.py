"""How far the engine's views reach beyond the zoo: each view on one network per family of torchvision's and
timm's ImageNet-1k classifiers (``torchvision:NAME``, ``timm:NAME``), with seeded random weights.

Views: the layer table, top-5, a deconvnet projection (the default layer), Grad-CAM, occlusion by incremental
and by full inference at a coarse stride (their probabilities compared: the classifier is scaled ×20 on this
process's copy so the softmax is not flat), and the fully convolutional twin (its logits at the input size
against the network's; three windows a side at the input size plus twice its stride). Each view ends as
``works``, ``refused`` (a :class:`~cnnviz.errors.CnnvizError`: the sentence a student would read) or ``failed``
(anything else, or over the time limit).

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
import time

import numpy as np
import timm
import torch
import torchvision.models
from torch import nn

from bench.report import markdown

VIEWS = ("layers", "predict", "deconv", "gradcam", "occlusion", "twin")
SCALE = 20.0  # the classifier's weights and bias × this: random weights otherwise give a flat softmax
EXACT = 1e-5  # largest |incremental − full| allowed on probabilities
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


def _scale_classifier(model: nn.Module) -> None:
    """The last linear (or, failing that, convolution) layer's weights and bias × :data:`SCALE` (weights drawn
    first when the library initialised them to zero)."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear)] or [
        m for m in model.modules() if isinstance(m, nn.Conv2d)
    ]
    with torch.no_grad():
        if not last[-1].weight.any():  # timm initialises some classifiers to zero: every logit would be 0
            nn.init.normal_(last[-1].weight, std=0.01)
        last[-1].weight.mul_(SCALE)
        if last[-1].bias is not None:
            last[-1].bias.mul_(SCALE)


def _views(net, image) -> dict:
    """Each view's function for ``net`` on ``image``: it returns a short detail, or raises."""
    from cnnviz.explain.methods import METHODS
    from cnnviz.explain.twin import convolutional_twin
    from cnnviz.layers import layer_table

    def layers() -> str:
        return f"{len(layer_table(net.spec).layers)} rows"

    def predict() -> str:
        import cnnviz

        return cnnviz.predict(net, image, 5).scores[0].label

    def deconv() -> str:
        return METHODS["deconv"].run(net, image).layer

    def gradcam() -> str:
        return METHODS["classmap"].run(net, image, method="gradcam").layer or ""

    def occlusion() -> str:
        window = net.spec.input_size // 4
        maps = {
            method: METHODS["occlusion"].run(net, image, window=window, stride=window, method=method)
            for method in ("incremental", "full")
        }
        gap = float(np.abs(maps["incremental"].probability - maps["full"].probability).max())
        if not gap <= EXACT:  # NaN fails too
            raise AssertionError(f"incremental differs from full by {gap:.1e}")
        return f"{maps['incremental'].method}, |Δp| {gap:.0e}"

    def twin() -> str:
        x = net.to_input(net.preprocess(image))
        with torch.inference_mode():
            ours = convolutional_twin(net)(x).flatten(1)
            theirs = net.model(x)
        gap = float((ours - theirs).abs().max() / theirs.abs().max())
        if not gap <= 1e-4:  # NaN fails too
            raise AssertionError(f"twin differs from the network by {gap:.1e} of its largest logit")
        twin = convolutional_twin(net)
        larger = x.shape[-1] + 2 * twin.stride  # three windows a side
        with torch.inference_mode():
            grid = tuple(twin(torch.zeros(1, x.shape[1], larger, larger, dtype=x.dtype)).shape[-2:])
        if grid != (3, 3):
            raise AssertionError(f"twin gives a {grid} grid at {larger} px, not 3 × 3")
        return f"{gap:.0e}"

    return {
        "layers": layers,
        "predict": predict,
        "deconv": deconv,
        "gradcam": gradcam,
        "occlusion": occlusion,
        "twin": twin,
    }


def one(name: str) -> dict:
    """Every view on network ``name`` in this process: {view: (outcome, detail, seconds)}."""
    import cnnviz
    from cnnviz.errors import CnnvizError
    from cnnviz.gallery import gallery_image

    row: dict = {"name": name}
    start = time.perf_counter()
    try:
        net = cnnviz.load(name, weights="random", device="cpu")
    except CnnvizError as refused:
        return {**row, "load": ("refused", str(refused), time.perf_counter() - start)}
    except Exception as exc:  # the benchmark reports every failure
        return {**row, "load": ("failed", f"{type(exc).__name__}: {exc}"[:200], time.perf_counter() - start)}
    _scale_classifier(net.model)
    image = gallery_image("chelsea")
    row["parameters"] = sum(p.numel() for p in net.model.parameters())
    for view, run in _views(net, image).items():
        start = time.perf_counter()
        try:
            row[view] = ("works", run(), time.perf_counter() - start)
        except CnnvizError as refused:
            row[view] = ("refused", str(refused), time.perf_counter() - start)
        except Exception as exc:  # reported as the view's outcome
            row[view] = ("failed", f"{type(exc).__name__}: {exc}"[:200], time.perf_counter() - start)
    return row


def run_isolated(name: str, limit: float) -> dict:
    """:func:`one` in a fresh process, at most ``limit`` seconds."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.coverage", "--one", name], capture_output=True, text=True, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return {"name": name, "load": ("failed", f"over {limit:.0f} s", limit)}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"name": name, "load": ("failed", (done.stderr.strip().splitlines() or ["no output"])[-1][:200], 0)}
    return json.loads(lines[-1])


def _cell(row: dict, view: str) -> str:
    if "load" in row:
        return f"{row['load'][0]} (load)" if view == VIEWS[0] else ""
    outcome, detail, _ = row[view]
    return outcome if outcome == "works" else f"{outcome}: {detail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", nargs="+", default=["torchvision", "timm"], choices=("torchvision", "timm"))
    parser.add_argument("--max", type=int, default=200, help="at most this many networks")
    parser.add_argument("--limit", type=float, default=300, help="seconds per network")
    parser.add_argument("--one", help="run one network here and print its row as JSON")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="the documentation's table")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    rows = []
    for name in representatives(args.library)[: args.max]:
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
        print(markdown(("network", *VIEWS), [(f"`{r['name']}`", *(_cell(r, v) for v in VIEWS)) for r in rows]))
    print(f"{len(rows)} networks; views: " + ", ".join(f"{n} {o}" for o, n in counts.items()))


if __name__ == "__main__":
    main()
