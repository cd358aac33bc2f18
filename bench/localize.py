"""One pass of the fully convolutional twin against one pass of the network per window, in one run.

Per architecture, on the device found, for a gallery photo at a short side of 2× the network's input
(the astronaut, 512×512 px, so VGG-16 gives the slide's 8×8 grid; LeNet-5 the handwritten digit): the
windows, the forward passes each method takes, their network time (the second run in the process: the
first meets new shapes), the speedup and how far the two grids differ (largest probability difference
and the share of windows with the same top class). Weights are whatever ``auto`` finds (random weights
time the same as trained ones, but their near-uniform probabilities make the difference columns tiny).

Usage: ``python -m bench.localize [--arch lenet5 alexnet vgg16 …] [--scale 2] [--json]``
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import cnnviz
from cnnviz.device import describe_device
from cnnviz.explain.localize import crop_grid, one_pass_grid
from cnnviz.gallery import gallery_image

DEFAULT_ARCHS = ("lenet5", "alexnet", "vgg16", "resnet50", "efficientnet_lite0")


def measure(name: str, scale: int) -> dict:
    net = cnnviz.load(name)
    photo = gallery_image("digit" if name == "lenet5" else "astronaut")
    size = scale * net.preprocess.input_size
    one = [one_pass_grid(net, photo, size) for _ in range(2)][-1]
    many = [crop_grid(net, photo, size) for _ in range(2)][-1]
    rows, columns = one.shape
    return {
        "arch": name,
        "weights": net.weights_source.value,
        "device": describe_device(net.device),
        "input_px": f"{one.input_size[1]}×{one.input_size[0]}",
        "windows": f"{rows}×{columns}",
        "one_pass_passes": one.passes,
        "crops_passes": many.passes,
        "one_pass_s": round(one.seconds, 4),
        "crops_s": round(many.seconds, 4),
        "speedup": round(many.seconds / one.seconds, 1),
        "max_abs_dp": float(f"{np.abs(one.probabilities - many.probabilities).max():.2g}"),
        "same_top_class": round(float((one.probabilities.argmax(0) == many.probabilities.argmax(0)).mean()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=DEFAULT_ARCHS)
    parser.add_argument("--scale", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(name, args.scale) for name in args.arch]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(
        f"{'arch':<20} {'weights':<8} {'input':>9} {'windows':>8} {'1-pass s':>9} {'crops s':>9} {'×':>6} "
        f"{'max|Δp|':>8} {'same top':>8}"
    )
    for r in rows:
        print(
            f"{r['arch']:<20} {r['weights']:<8} {r['input_px']:>9} {r['windows']:>8} {r['one_pass_s']:>9.4f} "
            f"{r['crops_s']:>9.3f} {r['speedup']:>6.1f} {r['max_abs_dp']:>8.2g} {r['same_top_class']:>8.0%}"
        )
    print(f"device: {rows[0]['device']}")


if __name__ == "__main__":
    main()
