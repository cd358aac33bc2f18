"""How long a layer table takes to build (model on the meta device, one hooked forward pass).

Usage: ``python -m bench.layers [--arch resnet152 ...] [--repeats 5] [--markdown]``. Prints the median and the
worst of ``--repeats`` builds per architecture, in seconds, with the table's size; the goal for resnet152 is
well under one second on a 2-core CPU. ``--markdown``: the documentation's table, with command, machine
and date.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.report import markdown
from cnnviz.layers import _memoised_table, layer_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=["resnet152", "densenet201", "inception_v3", "vgg16"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="the documentation's table")
    args = parser.parse_args()
    layer_table("lenet5")  # import and first-call costs out of the way
    rows = []
    for arch in args.arch:
        seconds = []
        for _ in range(args.repeats):
            _memoised_table.cache_clear()  # time the build, not the memo
            start = time.perf_counter()
            table = layer_table(arch)
            seconds.append(time.perf_counter() - start)
        rows.append((arch, len(table.layers), len(table.blocks), statistics.median(seconds), max(seconds)))
    if args.markdown:
        columns = ("architecture", "rows", "blocks", "median s", "worst s")
        print(markdown(columns, [(f"`{a}`", n, b, f"{m:.3f}", f"{w:.3f}") for a, n, b, m, w in rows]))
        return
    print(f"{'architecture':<14} {'rows':>5} {'blocks':>6} {'median s':>9} {'worst s':>8}")
    for arch, layers, blocks, median, worst in rows:
        print(f"{arch:<14} {layers:>5} {blocks:>6} {median:>9.3f} {worst:>8.3f}")


if __name__ == "__main__":
    main()
