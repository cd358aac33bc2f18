"""Class maps: cnnviz's Grad-CAM, gradient saliency and Integrated Gradients against captum called directly on
the same model, input and settings, measured in one run (interleaved, median of ``--repeats``).

For each architecture on the device found: seconds per map for cnnviz and for captum, their ratio (the cost
of cnnviz's private graph, preprocessing and checks; goal ≤ 1.10), and for Integrated Gradients the number
of points the adaptive rule took and the completeness gap (logits) it left. Weights are whatever ``auto``
finds (random weights time the same as trained ones).

Usage: ``python -m bench.classmaps [--arch efficientnet_lite0 resnet50 vgg16] [--repeats 5] [--json]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from captum.attr import IntegratedGradients, LayerGradCam, Saliency

import cnnviz
from cnnviz.device import describe_device
from cnnviz.explain import CLASS_MAPS
from cnnviz.explain.integrated import CPU_STEPS_PER_PASS, CUDA_STEPS_PER_PASS
from cnnviz.gallery import gallery_image
from cnnviz.layers import conv_stages


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _captum(method: str, net, x: torch.Tensor, target: int, layer: str, steps: int):
    """captum on the shared model, as a user of captum would call it for the same map."""
    x = x.clone().requires_grad_()
    if method == "gradcam":
        return LayerGradCam(net.model, net.model.get_submodule(layer)).attribute(x, target=target)
    if method == "saliency":
        return Saliency(net.model).attribute(x, target=target, abs=False)
    per_pass = CUDA_STEPS_PER_PASS if net.device.type == "cuda" else CPU_STEPS_PER_PASS
    return IntegratedGradients(net.model).attribute(
        x, baselines=torch.zeros_like(x), target=target, n_steps=steps, internal_batch_size=per_pass
    )


def measure(arch: str, repeats: int, device: str | None) -> list[dict]:
    net = cnnviz.load(arch, device=device)
    image = gallery_image("chelsea")
    x = net.to_input(net.preprocess(image)).float()
    layer = conv_stages(net.spec)[-1]
    rows = []
    for method, compute in CLASS_MAPS.items():
        params = {"layer": layer} if method == "gradcam" else {}
        first = compute(net, image, **params)  # warm-up, and the settings captum gets
        steps = first.steps or 0
        ours, theirs = [], []
        for _ in range(repeats):
            for who in ("ours", "captum"):
                _sync(net.device)
                start = time.perf_counter()
                if who == "ours":
                    compute(net, image, **({"steps": steps} if steps else {}), **params)
                else:
                    _captum(method, net, x, first.target, layer, steps)
                _sync(net.device)
                (ours if who == "ours" else theirs).append(time.perf_counter() - start)
        rows.append(
            {
                "arch": arch,
                "device": describe_device(net.device),
                "method": method,
                "seconds": statistics.median(ours),
                "captum_seconds": statistics.median(theirs),
                "ratio": statistics.median(ours) / statistics.median(theirs),
                "steps": steps or None,
                "gap_logits": first.error,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=["efficientnet_lite0", "resnet50", "vgg16"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    header = ("arch", 20), ("device", 24), ("method", 11), ("cnnviz s", -9), ("captum s", -9), ("ratio", -6)
    print(" ".join(f"{name:<{w}}" if w > 0 else f"{name:>{-w}}" for name, w in header), "steps    gap")
    for arch in args.arch:
        for r in measure(arch, args.repeats, args.device):
            if args.json:
                print(json.dumps(r))
                continue
            gap = "" if r["gap_logits"] is None else f"{r['gap_logits']:.3f}"
            print(
                f"{r['arch']:<20} {r['device'][:24]:<24} {r['method']:<11} {r['seconds']:>9.3f} "
                f"{r['captum_seconds']:>9.3f} {r['ratio']:>6.2f} {r['steps'] or '':>5} {gap:>6}",
                flush=True,
            )


if __name__ == "__main__":
    main()
