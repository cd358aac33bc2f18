"""Every zoo network exported to ONNX and opened again as ``onnx:FILE``: the same top-5 as the original, and
which views work on the converted graph.

Each network is exported with ``torch.onnx.export`` (opset 17) from its offline weights (real for
EfficientNet-Lite0 and LeNet-5; seeded random for the rest, the classifier scaled ×20 before the export so
the softmax is not flat), opened through :mod:`cnnviz.models.onnx_file` with the original's
preprocessing, and compared on the gallery's cat (the digit for LeNet-5): the largest difference of any
class probability, the largest difference of any logit relative to the largest logit, and whether the top-5
is the same. The views are :mod:`harness.coverage`'s, on the
converted network.

Each network runs in its own process with a time limit. Usage: ``python -m bench.onnx_zoo [--arch NAME …]
[--limit 300] [--json | --markdown]``; ``--one NAME`` runs one network here and prints its row.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from bench.coverage import REASONS, rows_parser, run_isolated, saved_rows
from bench.report import markdown
from cnnviz.models.onnx_file import export
from harness.coverage import VIEWS, run_views, scale_classifier

EXACT = 1e-4  # largest |Δp| on any class between the original and its ONNX file (the bound)


def one(arch: str) -> dict:
    """``arch`` exported, opened as ONNX, compared and explained: one row."""
    import torch

    import cnnviz
    from cnnviz.gallery import gallery_image

    net = cnnviz.load(arch, device="cpu")
    if not net.meaningful:
        scale_classifier(net.model)
    image = gallery_image("digit" if net.spec.in_channels == 1 else "chelsea")
    row: dict = {"name": arch, "weights": net.weights_source.value}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{arch}.onnx"
        start = time.perf_counter()
        export(net.model.to("cpu"), path, net.spec.in_channels, net.spec.input_size)
        row["export_s"] = time.perf_counter() - start
        row["megabytes"] = path.stat().st_size / 2**20
        start = time.perf_counter()
        try:
            converted = cnnviz.load(f"onnx:{path}", device="cpu", preprocessing=net.preprocess)
        except cnnviz.CnnvizError as refused:
            return {**row, "load": ("refused", str(refused), time.perf_counter() - start)}
        row["open_s"] = time.perf_counter() - start
    x = net.preprocess(image)
    with torch.inference_mode():
        ours_logits = converted.model(converted.to_input(x))
        theirs_logits = net.model(net.to_input(x))
    ours, theirs = ours_logits.softmax(1), theirs_logits.softmax(1)
    row["max_dp"] = float((ours - theirs).abs().max())
    # logits too: a scaled random classifier can saturate the softmax, where every |Δp| is 0
    row["logit_gap"] = float((ours_logits - theirs_logits).abs().max() / theirs_logits.abs().max())
    row["same_top5"] = ours.topk(5).indices.tolist() == theirs.topk(5).indices.tolist()
    return {**row, **run_views(converted, image)}


def _cell(row: dict, view: str) -> str:
    if "load" in row:
        return f"{row['load'][0]}: {row['load'][1][:120]}" if view == VIEWS[0] else ""
    outcome, detail, _ = row[view]
    if outcome == "works":
        return outcome
    reason = next((label for phrase, label in REASONS.items() if phrase in detail), detail[:120])
    return f"{outcome}: {reason}"


def _table_row(row: dict) -> tuple:
    matched = "load" not in row and row["same_top5"] and row["max_dp"] <= EXACT
    figures = ("", "", "", "")
    if "load" not in row:
        gaps = (f"{row['max_dp']:.0e}", f"{row['logit_gap']:.0e}")
        figures = (f"{row['megabytes']:.0f}", *gaps, "yes" if matched else "NO")
    return (f"`{row['name']}`", row["weights"], *figures, *(_cell(row, v) for v in VIEWS))


def main() -> None:
    from cnnviz.models.zoo import ARCHITECTURES

    parser = rows_parser(__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=list(ARCHITECTURES), help="zoo names (default: all)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    rows = saved_rows(args.rows)
    for arch in [] if args.rows else args.arch:
        rows.append(run_isolated(arch, args.limit, module="bench.onnx_zoo"))
        if args.json:
            print(json.dumps(rows[-1]), flush=True)
        elif not args.markdown:
            print(" · ".join(map(str, _table_row(rows[-1]))), flush=True)
    if args.markdown:
        header = ("network", "weights", "MB", "max |Δp|", "max |Δlogit| / max |logit|", "same top-5", *VIEWS)
        print(markdown(header, [_table_row(row) for row in rows]))
    same = sum("load" not in r and r["same_top5"] and r["max_dp"] <= EXACT for r in rows)
    works = sum(_cell(r, v) == "works" for r in rows for v in VIEWS)
    views = len(rows) * len(VIEWS)
    print(f"{len(rows)} networks; {same} with the same top-5 within {EXACT:g}; {works} of {views} views work")


if __name__ == "__main__":
    main()
