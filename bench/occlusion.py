"""Occlusion speed: cnnviz vs a bare batched forward pass vs captum's Occlusion, measured in one run.

For each architecture (window 32, stride 8 on 224×224: 625 positions by default), on the device found:
seconds for the first map of that size in the process (batch shapes new to cuDNN) and for the next one,
seconds per (warm) map and occluded images per second for cnnviz; the model's bare batched forward throughput
at the same batch size (goal: cnnviz ≥ 0.85 of it); captum ``Occlusion`` on the same windows at its best
``perturbations_per_eval`` (goal on a GPU: cnnviz ≥ 2× faster). Weights are whatever ``auto`` finds
(random weights time the same as trained ones).

Usage: ``python -m bench.occlusion [--arch efficientnet_lite0 resnet50 vgg16] [--stride 8] [--ppe 16 64]``
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch
from captum.attr import Occlusion

import cnnviz
from cnnviz.device import describe_device
from cnnviz.explain.occlusion import grid_positions, occlusion
from cnnviz.gallery import gallery_image


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_throughput(net, x: torch.Tensor, batch: int, images: int, amp: bool) -> float:
    """Images per second of ``net.model`` on batches of ``batch`` copies of ``x`` (``images`` in all)."""
    block = net.to_input(x.expand(batch, -1, -1, -1))
    with torch.inference_mode(), torch.autocast(net.device.type, torch.float16, enabled=amp):
        net.model(block).float().softmax(1)  # warm-up
        _sync(net.device)
        start = time.perf_counter()
        for _ in range(math.ceil(images / batch)):
            net.model(block).float().softmax(1)
        _sync(net.device)
    return math.ceil(images / batch) * batch / (time.perf_counter() - start)


def captum_seconds(net, x: torch.Tensor, window: int, stride: int, target: int, ppe: int, amp: bool) -> float:
    """Seconds for captum's Occlusion over the same windows, mean fill (0 after normalising)."""

    def probability(batch: torch.Tensor) -> torch.Tensor:
        with torch.autocast(net.device.type, torch.float16, enabled=amp):
            return net.model(net.to_input(batch)).float().softmax(1)

    occluder = Occlusion(probability)
    x = x.to(net.device)
    channels = x.shape[1]
    seconds = []
    for _ in range(2 if net.device.type == "cuda" else 1):  # on CUDA, time the run with its shapes planned
        _sync(net.device)
        start = time.perf_counter()
        with torch.no_grad():
            occluder.attribute(
                x,
                sliding_window_shapes=(channels, window, window),
                strides=(channels, stride, stride),
                baselines=0.0,
                target=target,
                perturbations_per_eval=ppe,
            )
        _sync(net.device)
        seconds.append(time.perf_counter() - start)
    return seconds[-1]


def measure(arch: str, window: int, stride: int, ppes: list[int], device: str | None) -> dict:
    net = cnnviz.load(arch, device=device)
    image = gallery_image("chelsea")
    x = net.preprocess(image)
    amp = net.device.type == "cuda"
    positions = len(grid_positions(x.shape[-1], window, stride)) ** 2
    occlusion(net, image, window=x.shape[-1] // 2, stride=x.shape[-1] // 2)  # model and cuDNN warm-up
    seconds = []
    for _ in range(2):  # the first map meets the batch shapes for the first time; the second is warm
        start = time.perf_counter()
        maps = occlusion(net, image, window, stride, max_gmacs=float("inf"))
        _sync(net.device)
        seconds.append(time.perf_counter() - start)
    first, ours = seconds
    batch = maps.batch_size
    bare = bare_throughput(net, x, batch, positions, amp)
    captum = {ppe: captum_seconds(net, x, window, stride, maps.target, ppe, amp) for ppe in ppes}
    best_ppe = min(captum, key=captum.get)
    return {
        "arch": arch,
        "device": describe_device(net.device),
        "positions": positions,
        "batch": batch,
        "first_seconds": first,
        "seconds": ours,
        "images_per_s": positions / ours,
        "bare_images_per_s": bare,
        "ratio_to_bare": positions / ours / bare,
        "captum_seconds": captum[best_ppe],
        "captum_ppe": best_ppe,
        "speedup_vs_captum": captum[best_ppe] / ours,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=["efficientnet_lite0", "resnet50", "vgg16"])
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--stride", type=int, default=8)
    parser.add_argument("--ppe", type=int, nargs="+", default=None, help="captum perturbations_per_eval to try")
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ppes = args.ppe or ([64, 128, 256, 512] if torch.cuda.is_available() else [16, 64])
    print(
        f"{'arch':<20} {'device':<24} {'pos':>4} {'batch':>5} {'1st s':>6} {'s/map':>7} {'img/s':>7} "
        f"{'bare img/s':>10} {'× bare':>6} {'captum s':>8} {'ppe':>4} {'× captum':>8}"
    )
    for arch in args.arch:
        r = measure(arch, args.window, args.stride, ppes, args.device)
        if args.json:
            print(json.dumps(r))
            continue
        print(
            f"{r['arch']:<20} {r['device'][:24]:<24} {r['positions']:>4} {r['batch']:>5} {r['first_seconds']:>6.2f} "
            f"{r['seconds']:>7.2f} {r['images_per_s']:>7.1f} {r['bare_images_per_s']:>10.1f} "
            f"{r['ratio_to_bare']:>6.2f} {r['captum_seconds']:>8.2f} {r['captum_ppe']:>4} "
            f"{r['speedup_vs_captum']:>8.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
