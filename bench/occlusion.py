"""Occlusion speed: incremental vs full inference vs a bare batched forward vs captum, in one run.

Per architecture (window 32, stride 8 on the model's input: 625 positions at 224 px), on the device
found: seconds per map by cnnviz's incremental inference (Krypton) and by its full path; the bare model
on batches of the same size; captum ``Occlusion`` on the same windows at its best
``perturbations_per_eval``; the speedups; and the theoretical saving in multiply-accumulates (the layer
table's MACs over the MACs incremental inference recomputes for a square in the middle of the image).
Every map is checked equal across methods (largest probability difference printed). On CUDA each timing
is the second run in the process (the first meets new shapes). ``--switch`` times incremental inference at other
switch shares (see ``cnnviz.explain.incremental.SWITCH_SHARE``). Weights are whatever ``auto`` finds
(random weights time the same as trained ones).

Usage: ``python -m bench.occlusion [--arch vgg16 resnet18 …] [--window 32] [--stride 8] [--ppe 16 64]
[--switch 0.5 0.7 1.0]``
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
from captum.attr import Occlusion

import cnnviz
from cnnviz.device import describe_device
from cnnviz.explain import incremental
from cnnviz.explain.incremental import IncrementalGraph
from cnnviz.explain.occlusion import fill_tensor, grid_positions, occlusion
from cnnviz.gallery import gallery_image
from cnnviz.layers import layer_table


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
    for _ in range(2):  # time the run with its shapes planned (cuDNN) or its primitives built (oneDNN)
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


def theoretical_saving(net, x: torch.Tensor, window: int) -> float:
    """The layer table's MACs over those incremental inference recomputes for one square in the middle."""
    side = x.shape[-1]
    corner = torch.tensor([(side - window) // 2])
    fill = fill_tensor(x[0], "mean", net.preprocess.mean, net.preprocess.std)
    square = fill[:, int(corner) : int(corner) + window, int(corner) : int(corner) + window].unsqueeze(0)
    with torch.inference_mode():
        graph = IncrementalGraph(net.model, net.to_input(x))
        graph.run(net.to_input(square), corner, corner)
    modules = {node.name: node.target for node in graph.graph.graph.nodes if node.op == "call_module"}
    share = {modules[name]: value for name, value in graph.computed_share.items() if name in modules}
    rows = [row for row in layer_table(net.spec, side).layers if row.macs]
    return sum(row.macs for row in rows) / sum(row.macs * share.get(row.module, 1.0) for row in rows)


def timed_map(net, image, window: int, stride: int, method: str):
    """(seconds, maps) of the second of two maps (the first meets new shapes: cuDNN plans, oneDNN builds
    primitives)."""
    for _ in range(2):
        _sync(net.device)
        start = time.perf_counter()
        maps = occlusion(net, image, window, stride, max_gmacs=float("inf"), method=method)
        _sync(net.device)
        seconds = time.perf_counter() - start
    return seconds, maps


def measure(
    arch: str, window: int, stride: int, ppes: list[int], device: str | None, captum: bool, bare: bool = True
) -> dict:
    net = cnnviz.load(arch, device=device)
    image = gallery_image("chelsea")
    x = net.preprocess(image)
    amp = net.device.type == "cuda"
    positions = len(grid_positions(x.shape[-1], window, stride)) ** 2
    occlusion(net, image, window=x.shape[-1] // 2, stride=x.shape[-1] // 2, method="full")  # warm-up
    fast, fast_maps = timed_map(net, image, window, stride, "incremental")
    full, full_maps = timed_map(net, image, window, stride, "full")
    bare_rate = bare_throughput(net, x, full_maps.batch_size, positions, amp) if bare else math.nan
    seconds = (
        {ppe: captum_seconds(net, x, window, stride, full_maps.target, ppe, amp) for ppe in ppes} if captum else {}
    )
    best_ppe = min(seconds, key=seconds.get) if seconds else None
    return {
        "arch": arch,
        "device": describe_device(net.device),
        "window": window,
        "stride": stride,
        "positions": positions,
        "incremental_s": fast,
        "full_s": full,
        "bare_s": positions / bare_rate,
        "captum_s": seconds.get(best_ppe, math.nan),
        "captum_ppe": best_ppe,
        "incremental_vs_full": full / fast,
        "incremental_vs_captum": seconds.get(best_ppe, math.nan) / fast,
        "theoretical_saving": theoretical_saving(net, x, window),
        "max_probability_difference": float(np.abs(fast_maps.probability - full_maps.probability).max()),
    }


def sweep_switch(arch: str, window: int, stride: int, shares: list[float], device: str | None) -> list[dict]:
    """Seconds per incremental map for each switch share (the share above which a layer runs in full)."""
    net = cnnviz.load(arch, device=device)
    image = gallery_image("chelsea")
    occlusion(net, image, window=112, stride=112, method="incremental")  # warm-up
    rows = []
    default = incremental.SWITCH_SHARE
    try:
        for share in shares:
            incremental.SWITCH_SHARE = share
            seconds, _ = timed_map(net, image, window, stride, "incremental")
            rows.append({"arch": arch, "device": describe_device(net.device), "switch": share, "seconds": seconds})
    finally:
        incremental.SWITCH_SHARE = default
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=["vgg16", "resnet18", "resnet50", "alexnet", "efficientnet_lite0"])
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--stride", type=int, default=8)
    parser.add_argument("--ppe", type=int, nargs="+", default=None, help="captum perturbations_per_eval to try")
    parser.add_argument("--no-captum", action="store_true", help="leave captum out (long grids)")
    parser.add_argument("--no-bare", action="store_true", help="leave the bare forward out (long grids)")
    parser.add_argument("--switch", type=float, nargs="+", default=None, help="switch shares to sweep instead")
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.switch:
        for arch in args.arch:
            for row in sweep_switch(arch, args.window, args.stride, args.switch, args.device):
                print(
                    json.dumps(row)
                    if args.json
                    else f"{row['arch']:<20} switch {row['switch']:.2f}: "
                    f"{row['seconds']:.2f} s per map on {row['device']}",
                    flush=True,
                )
        return
    ppes = args.ppe or ([64, 128, 256, 512] if torch.cuda.is_available() else [16])  # 16 beat 64 on every CPU row
    print(
        f"{'arch':<20} {'device':<16} {'pos':>5} {'incr s':>7} {'full s':>7} {'bare s':>7} {'captum s':>8} "
        f"{'ppe':>4} {'×full':>6} {'×captum':>7} {'×MACs':>6} {'max Δp':>8}"
    )
    for arch in args.arch:
        r = measure(arch, args.window, args.stride, ppes, args.device, not args.no_captum, not args.no_bare)
        if args.json:
            print(json.dumps(r), flush=True)
            continue
        print(
            f"{r['arch']:<20} {r['device'][:16]:<16} {r['positions']:>5} {r['incremental_s']:>7.2f} "
            f"{r['full_s']:>7.2f} {r['bare_s']:>7.2f} {r['captum_s']:>8.2f} {r['captum_ppe'] or '-':>4} "
            f"{r['incremental_vs_full']:>6.2f} {r['incremental_vs_captum']:>7.2f} {r['theoretical_saving']:>6.2f} "
            f"{r['max_probability_difference']:>8.1e}",
            flush=True,
        )


if __name__ == "__main__":
    main()
