"""Feature visualisation on the bundled EfficientNet-Lite0: seconds per image and how much more the
optimised image excites its channel than the best gallery photo and than uniform noise, in one run.

Per layer (the page's default, ``bn2``, and a middle stage, ``blocks.4.2``) and channel (0–3), at the
page's default steps: the optimisation's seconds on the device found, the channel's mean activation for
the optimised image, for the strongest of the gallery's photos and for a seeded uniform-noise image, and
the two ratios.

Usage: ``python -m bench.featurevis [--steps 128] [--channels 0 1 2 3] [--json]``
"""

from __future__ import annotations

import argparse
import json

import torch

import cnnviz
from cnnviz.device import describe_device
from cnnviz.explain.featurevis import DEFAULT_STEPS, excitation, visualize
from cnnviz.gallery import GALLERY, gallery_image

LAYERS = ("bn2", "blocks.4.2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--channels", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    net = cnnviz.load("efficientnet_lite0", weights="bundled")
    photos = torch.cat([net.preprocess(gallery_image(name)) for name in GALLERY])
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (net.preprocess.mean, net.preprocess.std))
    noise = (torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(1)) - mean) / std
    rows = []
    for layer in LAYERS:
        for channel in args.channels:
            result = visualize(net, layer, channel, steps=args.steps)
            best_photo = max(excitation(net, photos, layer, channel))
            noise_value = excitation(net, noise, layer, channel)[0]
            rows.append(
                {
                    "layer": layer,
                    "channel": channel,
                    "steps": args.steps,
                    "seconds": round(result.seconds, 1),
                    "optimised": round(result.activation, 3),
                    "best_photo": round(best_photo, 3),
                    "noise": round(noise_value, 3),
                    "x_photo": round(result.activation / max(best_photo, 1e-6), 1),
                    "x_noise": round(result.activation / max(noise_value, 1e-6), 1),
                }
            )
            if not args.json:
                print(rows[-1], flush=True)
    if args.json:
        print(json.dumps({"device": describe_device(net.device), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
