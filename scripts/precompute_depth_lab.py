"""Train the vanishing-gradient lab's default settings and write ``cnnviz/assets/depth_lab_default.json``.

Usage: ``python -m scripts.precompute_depth_lab``. The page shows this file at once for the default
settings, so a lecture never waits; ``tests/test_depth.py`` checks it against a fresh run.
"""

from __future__ import annotations

import torch

from cnnviz.labs.depth import PRECOMPUTED, DepthSettings, depth_lab


def main() -> None:
    torch.set_num_threads(1)  # the same arithmetic on every machine
    lab = depth_lab(DepthSettings())
    PRECOMPUTED.write_text(lab.to_json())
    for run in lab.runs:
        kind = "residual" if run.residual else "plain"
        print(
            f"{run.depth:2d} layers {kind:8s} final loss {run.final_loss():.3f}  train error "
            f"{run.train_error:.1%}  held-out error {run.test_error:.1%}  {run.seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
