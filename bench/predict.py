"""Warm top-5 latency through cnnviz vs a bare forward of the same model on the same device, in one run.

Three paths are timed, interleaved round by round (in rotating order) so that drift affects all alike:

- ``bare``    ``model(x)`` on an input already on the device (the floor);
- ``top5``    ``cnnviz.predict.top_k`` from the preprocessed CPU tensor: transfer, forward, softmax, top-k, labels;
- ``predict`` ``cnnviz.predict`` from the decoded PIL photo: preprocessing (resize, crop, normalise) as well.

Prints milliseconds (median and p90) and the ratios to ``bare`` (goal for ``top5``: ≤ 1.10).
Usage: ``python -m bench.predict [--arch efficientnet_lite0 resnet50 …] [--rounds 200] [--json | --markdown]``
(``--markdown``: the documentation's table, with command, machine and date).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

import cnnviz
from bench.report import markdown
from cnnviz.device import describe_device
from cnnviz.gallery import gallery_image
from cnnviz.predict import top_k


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def measure(arch: str, rounds: int, warmup: int, device: str | None) -> dict:
    net = cnnviz.load(arch, device=device)
    image = gallery_image("chelsea")
    x_cpu = net.preprocess(image)
    x_dev = net.to_input(x_cpu)

    def bare() -> None:
        with torch.inference_mode():
            net.model(x_dev)
        _sync(net.device)

    paths = {
        "bare": bare,
        "top5": lambda: top_k(net, x_cpu, 5),  # .tolist() inside waits for the device
        "predict": lambda: cnnviz.predict(net, image, 5),
    }
    for _ in range(warmup):
        for run in paths.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in paths}
    order = list(paths)
    for round_index in range(rounds):
        shift = round_index % len(order)  # rotate so no path always runs first
        for name in order[shift:] + order[:shift]:
            start = time.perf_counter()
            paths[name]()
            times[name].append((time.perf_counter() - start) * 1e3)

    def p90(values: list[float]) -> float:
        return statistics.quantiles(values, n=10)[-1]

    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "arch": arch,
        "device": describe_device(net.device),
        "weights": net.weights_source.value,
        "rounds": rounds,
        "median_ms": medians,
        "p90_ms": {name: p90(values) for name, values in times.items()},
        "ratio_top5_to_bare": medians["top5"] / medians["bare"],
        "ratio_predict_to_bare": medians["predict"] / medians["bare"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=[cnnviz.DEFAULT_ARCH])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="the documentation's table")
    args = parser.parse_args()
    results = [measure(arch, args.rounds, args.warmup, args.device) for arch in args.arch]
    if args.markdown:
        print(markdown(MARKDOWN_COLUMNS, [_markdown_row(result) for result in results]))
        return
    for result in results:
        if args.json:
            print(json.dumps(result))
            continue
        print(f"{result['arch']} · {result['device']} · weights {result['weights']} · {result['rounds']} rounds")
        print(f"{'path':<8} {'median ms':>10} {'p90 ms':>8} {'× bare':>7}")
        for name in ("bare", "top5", "predict"):
            median = result["median_ms"][name]
            ratio = median / result["median_ms"]["bare"]
            print(f"{name:<8} {median:>10.2f} {result['p90_ms'][name]:>8.2f} {ratio:>7.3f}")


MARKDOWN_COLUMNS = ("model", "weights", "device", "bare ms", "top5 ms (× bare)", "predict ms (× bare)")


def _markdown_row(result: dict) -> tuple:
    median = result["median_ms"]
    return (
        result["arch"],
        result["weights"],
        result["device"],
        f"{median['bare']:.2f}",
        f"{median['top5']:.2f} ({result['ratio_top5_to_bare']:.3f})",
        f"{median['predict']:.2f} ({result['ratio_predict_to_bare']:.2f})",
    )


if __name__ == "__main__":
    main()
