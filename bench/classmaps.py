"""Class maps: every method of ``cnnviz.explain.CLASS_MAPS`` against its library called directly on the same
model, input, layer and target, measured in one run (interleaved, median of ``--repeats``): Grad-CAM,
gradient saliency and Integrated Gradients against captum; the CAM family against pytorch-grad-cam, called
as its README does (the user's own copy of the network, weights trainable).

For each architecture on the device found: seconds per map for cnnviz and for the library, their ratio
(goal ≤ 1.10: cnnviz adds its private graph, preprocessing and checks, and for Score-CAM and Ablation-CAM
a forward pass to count the layer's channels for the progress bar), and for Integrated Gradients the number
of points the adaptive rule took and the completeness gap (logits) it left. Weights are whatever ``auto``
finds (random weights time the same as trained ones). ``--layer`` picks the CAM layer by its index among
the conv stages (default: the last, as the page and the CLI do).

Usage: ``python -m bench.classmaps [--arch efficientnet_lite0 resnet50 vgg16] [--method ...] [--repeats 5]
[--stage -1] [--json]``
"""

from __future__ import annotations

import argparse
import copy
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


def _pytorch_grad_cam(method: str, users_model, x: torch.Tensor, target: int, layer: str):
    """pytorch-grad-cam as its README calls it, on the user's copy of the network."""
    import pytorch_grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    with getattr(pytorch_grad_cam, LIBRARY_CLASSES[method])(users_model, [users_model.get_submodule(layer)]) as cam:
        return cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])


LIBRARY_CLASSES = {
    "gradcampp": "GradCAMPlusPlus",
    "scorecam": "ScoreCAM",
    "layercam": "LayerCAM",
    "eigencam": "EigenCAM",
    "ablationcam": "AblationCAM",
}


def measure(arch: str, repeats: int, device: str | None, methods: list[str], stage: int) -> list[dict]:
    net = cnnviz.load(arch, device=device)
    image = gallery_image("chelsea")
    x = net.to_input(net.preprocess(image)).float()
    layer = conv_stages(net.spec)[stage]
    users_model = copy.deepcopy(net.model).requires_grad_(True).eval()
    rows = []
    for method in methods:
        compute = CLASS_MAPS[method]
        params = {"layer": layer} if compute.explains_layer else {}
        first = compute(net, image, **params)  # warm-up, and the settings captum gets
        steps = first.steps or 0
        ours, theirs = [], []
        for _ in range(repeats):
            for who in ("ours", "library"):
                _sync(net.device)
                start = time.perf_counter()
                if who == "ours":
                    compute(net, image, **({"steps": steps} if steps else {}), **params)
                elif method in LIBRARY_CLASSES:
                    _pytorch_grad_cam(method, users_model, x, first.target, layer)
                else:
                    _captum(method, net, x, first.target, layer, steps)
                _sync(net.device)
                (ours if who == "ours" else theirs).append(time.perf_counter() - start)
        rows.append(
            {
                "arch": arch,
                "device": describe_device(net.device),
                "method": method,
                "layer": first.layer,
                "library": "pytorch-grad-cam" if method in LIBRARY_CLASSES else "captum",
                "seconds": statistics.median(ours),
                "library_seconds": statistics.median(theirs),
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
    parser.add_argument("--method", nargs="+", choices=tuple(CLASS_MAPS), default=list(CLASS_MAPS))
    parser.add_argument("--stage", type=int, default=-1, help="the CAM layer: index among the conv stages")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    header = ("arch", 20), ("device", 24), ("method", 11), ("cnnviz s", -9), ("library s", -9), ("ratio", -6)
    print(" ".join(f"{name:<{w}}" if w > 0 else f"{name:>{-w}}" for name, w in header), "steps    gap")
    for arch in args.arch:
        for r in measure(arch, args.repeats, args.device, args.method, args.stage):
            if args.json:
                print(json.dumps(r))
                continue
            gap = "" if r["gap_logits"] is None else f"{r['gap_logits']:.3f}"
            print(
                f"{r['arch']:<20} {r['device'][:24]:<24} {r['method']:<11} {r['seconds']:>9.3f} "
                f"{r['library_seconds']:>9.3f} {r['ratio']:>6.2f} {r['steps'] or '':>5} {gap:>6}",
                flush=True,
            )


if __name__ == "__main__":
    main()
