"""How big the pool of heavy work should be, what one running map costs a prediction, and whether batching
predictions from many sessions wins, on this machine's CPU (and CUDA when present).

1. ``slots``: K different occlusion maps (default model, window 32, strides 16, 17, …) through
   ``ui.work_queue.WorkQueue`` with 1, 2 and 4 worker threads: the time until all are done and the mean
   time each student waited for their map.
2. ``contention``: ``cnnviz.predict`` latency (median and p95 of 30 calls, one at a time) on an idle
   process and while occlusion maps run in the queue's worker.
3. ``batching``: the default model's forward pass for 8 images one by one against one batch of 8 (the
   most a 2-core server could gather in a few hundred milliseconds), the preprocessing excluded.

Usage: ``python -m bench.queue_pool [--maps 4] [--device cpu]``; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file (python bench/x.py): the checkout's own packages come from its root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

import cnnviz
from cnnviz.explain.occlusion import occlusion
from cnnviz.gallery import gallery_image
from ui.work_queue import WorkQueue


def slots(net, image, maps: int, pool: int) -> dict:
    queue = WorkQueue(pool, f"bench{pool}")
    start = time.perf_counter()
    jobs = [queue.submit(lambda report, s=16 + i: occlusion(net, image, 32, s, progress=report)) for i in range(maps)]
    finished = []
    for job in jobs:
        job.future.result()
        finished.append(time.perf_counter() - start)
    return {"slots": pool, "all_done_s": round(finished[-1], 2), "mean_wait_s": round(statistics.mean(finished), 2)}


def predict_latency(net, image, calls: int = 30) -> dict:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        cnnviz.predict(net, image)
        times.append(time.perf_counter() - start)
    times.sort()
    p95 = times[int(0.95 * calls) - 1]
    return {"p50_ms": round(1000 * statistics.median(times), 1), "p95_ms": round(1000 * p95, 1)}


def contention(net, image) -> dict:
    """Prediction latency on an idle process and while one occlusion map after another runs in the queue."""
    idle = predict_latency(net, image)
    stop = threading.Event()

    def heavy(report):
        while not stop.is_set():
            occlusion(net, image, 32, 16)

    job = WorkQueue(1, "benchbusy").submit(heavy)
    time.sleep(1)
    busy = predict_latency(net, image)
    stop.set()
    job.future.result()
    return {"idle": idle, "one map running": busy}


def batching(net) -> dict:
    x = torch.randn(8, 3, net.preprocess.input_size, net.preprocess.input_size, device=net.device)
    with torch.inference_mode():
        for _ in range(2):
            net.model(x[:1])
            net.model(x)
        start = time.perf_counter()
        for i in range(8):
            net.model(x[i : i + 1])
        one_by_one = time.perf_counter() - start
        start = time.perf_counter()
        net.model(x)
        batched = time.perf_counter() - start
    return {
        "one_by_one_ms": round(1000 * one_by_one, 1),
        "batch_of_8_ms": round(1000 * batched, 1),
        "speedup": round(one_by_one / batched, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    net = cnnviz.load(cnnviz.DEFAULT_ARCH, device=args.device)
    image = gallery_image("coffee")
    occlusion(net, image, 32, 16)  # warm-up: the first map measures which occlusion method is faster here
    report = {
        "device": str(net.device),
        "threads": torch.get_num_threads(),
        "slots": [slots(net, image, args.maps, pool) for pool in (1, 2, 4)],
        "contention": contention(net, image),
        "batching": batching(net),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
