"""How long a layer table takes to build (model on the meta device, one hooked forward pass).

Usage: ``python -m bench.layers [--arch resnet152 ...] [--repeats 5]``. Prints the median and the worst of
``--repeats`` builds per architecture, in seconds, with the table's size; the goal for resnet152 is well
under one second on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time

from cnnviz.layers import _memoised_table, layer_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=["resnet152", "densenet201", "inception_v3", "vgg16"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    layer_table("lenet5")  # import and first-call costs out of the way
    print(f"{'architecture':<14} {'rows':>5} {'blocks':>6} {'median s':>9} {'worst s':>8}")
    for arch in args.arch:
        seconds = []
        for _ in range(args.repeats):
            _memoised_table.cache_clear()  # time the build, not the memo
            start = time.perf_counter()
            table = layer_table(arch)
            seconds.append(time.perf_counter() - start)
        print(
            f"{arch:<14} {len(table.layers):>5} {len(table.blocks):>6} {statistics.median(seconds):>9.3f} "
            f"{max(seconds):>8.3f}"
        )


if __name__ == "__main__":
    main()
