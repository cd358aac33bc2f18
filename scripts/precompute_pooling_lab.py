"""Train the pooling-or-stride lab's default settings and write ``cnnviz/assets/pooling_lab_default.json``.

Usage: ``python -m scripts.precompute_pooling_lab``. The page shows this file at once for the default
settings, so a lecture never waits; ``tests/test_labs.py`` checks its conclusions against a fresh run.
"""

from __future__ import annotations

import torch

from cnnviz.labs.pooling import PRECOMPUTED, SHIFTS, PoolingSettings, pooling_lab


def main() -> None:
    torch.set_num_threads(1)  # the same arithmetic on every machine
    lab = pooling_lab(PoolingSettings())
    PRECOMPUTED.write_text(lab.to_json())
    for run in lab.runs:
        shifted = ", ".join(f"{s} px {a:.1%}" for s, a in zip(SHIFTS, run.shifted_accuracy, strict=True))
        print(
            f"{run.kind:6s} {run.params:,} parameters  {run.macs:,} MACs  held-out {run.accuracy:.1%} "
            f"(seeds {', '.join(f'{a:.1%}' for a in run.accuracy_per_seed)})  shifted: {shifted}  {run.seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
