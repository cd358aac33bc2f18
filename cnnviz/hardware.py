"""Which hardware for which network: latency, throughput and peak memory measured on this machine's
devices, against each architecture's multiply-accumulates, parameters and arithmetic intensity.

Timing is written here rather than taken from a benchmarking library: ``torch.utils.benchmark`` times a
statement but measures no memory, and the field's model benchmarks (timm's ``benchmark.py``,
optimum-benchmark) are scripts around one model, not functions a page can call per architecture with
progress. Random weights are used (timing does not depend on the values).

- ``latency_ms``: the median wall time of one batch-1 forward pass (after warm-up, CUDA synchronised);
- ``images_per_s``: images per second at ``batch`` (the throughput batch: 8 on a CPU, 64 on a GPU, halved
  until it fits);
- ``peak_memory_mb``: MB (10^6 bytes) at the peak of the throughput batch, weights included. On CUDA the
  allocator's peak (``torch.cuda.max_memory_allocated``); on a CPU Linux's resident high-water mark
  (``VmHWM``, reset through ``/proc/self/clear_refs``) minus the resident size before the pass, plus the
  weights — in a server that also serves other sessions that figure includes their allocations.
- ``flops_per_byte``: arithmetic intensity at batch 1, 2 · MACs over the bytes a pass must move at least
  once (weights read, every activation written), from :mod:`cnnviz.layers`' counts.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from cnnviz.device import describe_device, select_device
from cnnviz.errors import CnnvizError
from cnnviz.explain.progress import Progress, report
from cnnviz.layers import layer_table
from cnnviz.models.zoo import get_spec

DTYPES = ("float32", "float16")
CPU_BATCH = 8
GPU_BATCH = 64
MAX_BATCH = 512  # images; the largest throughput batch one may ask for
WARMUP_RUNS = 2
TIMED_RUNS = (3, 20)  # at least, at most
TIME_BUDGET_S = 1.0  # per measurement, once the minimum runs are done
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


@dataclass(frozen=True)
class Timing:
    """One architecture measured on one device (see the module docstring for each figure's meaning)."""

    arch: str
    display: str
    device: str
    dtype: str
    latency_ms: float
    images_per_s: float
    batch: int
    peak_memory_mb: float | None
    gmacs: float
    params_m: float
    flops_per_byte: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class KerasRow:
    """One row of the Keras Applications table as deck 004 reproduces it (keras.io/api/applications):
    milliseconds per inference step on a CPU and on a GPU, measured elsewhere on hardware the deck does
    not name; ``zoo`` is the cnnviz architecture that matches it, if any."""

    model: str
    params_m: float
    cpu_ms: float
    gpu_ms: float
    zoo: str | None = None


KERAS_TIMINGS = (
    KerasRow("Xception", 22.9, 109.4, 8.1, "xception"),
    KerasRow("VGG16", 138.4, 69.5, 4.2, "vgg16"),
    KerasRow("VGG19", 143.7, 84.8, 4.4, "vgg19"),
    KerasRow("ResNet50", 25.6, 58.2, 4.6, "resnet50"),
    KerasRow("ResNet50V2", 25.6, 45.6, 4.4),
    KerasRow("ResNet101", 44.7, 89.6, 5.2, "resnet101"),
    KerasRow("ResNet101V2", 44.7, 72.7, 5.4),
    KerasRow("ResNet152", 60.4, 127.4, 6.5, "resnet152"),
    KerasRow("ResNet152V2", 60.4, 107.5, 6.6),
    KerasRow("InceptionV3", 23.9, 42.2, 6.9, "inception_v3"),
    KerasRow("InceptionResNetV2", 55.9, 130.2, 10.0),
    KerasRow("MobileNet", 4.3, 22.6, 3.4),
    KerasRow("MobileNetV2", 3.5, 25.9, 3.8, "mobilenet_v2"),
    KerasRow("DenseNet121", 8.1, 77.1, 5.4, "densenet121"),
    KerasRow("DenseNet169", 14.3, 96.4, 6.3, "densenet169"),
    KerasRow("DenseNet201", 20.2, 127.2, 6.7, "densenet201"),
    KerasRow("NASNetMobile", 5.3, 27.0, 6.7),
    KerasRow("NASNetLarge", 88.9, 344.5, 20.0),
    KerasRow("EfficientNetB0", 5.3, 46.0, 4.9, "efficientnet_b0"),
    KerasRow("EfficientNetB1", 7.9, 60.2, 5.6),
    KerasRow("EfficientNetB2", 9.2, 80.8, 6.5),
    KerasRow("EfficientNetB3", 12.3, 140.0, 8.8),
    KerasRow("EfficientNetB4", 19.5, 308.3, 15.1),
    KerasRow("EfficientNetB5", 30.6, 579.2, 25.3),
    KerasRow("EfficientNetB6", 43.3, 958.1, 40.4),
    KerasRow("EfficientNetB7", 66.7, 1578.9, 61.6),
)  # deck 004, the Keras Applications table (its "Time (ms) per inference step" columns)


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(model, x: torch.Tensor, device: torch.device) -> float:
    """Median seconds of one forward pass of ``x``."""
    for _ in range(WARMUP_RUNS):
        model(x)
    _synchronise(device)
    times: list[float] = []
    spent = 0.0
    while len(times) < TIMED_RUNS[0] or (len(times) < TIMED_RUNS[1] and spent < TIME_BUDGET_S):
        start = time.perf_counter()
        model(x)
        _synchronise(device)
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return statistics.median(times)


def _resident_bytes(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _cpu_peak_added(run) -> int | None:
    """Bytes the resident high-water mark rose by while ``run()`` ran (Linux), else None."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return None
    before = _resident_bytes("VmRSS:")
    run()
    peak = _resident_bytes("VmHWM:")
    if before is None or peak is None:
        return None
    return max(peak - before, 0)


def measure(
    arch: str, device: str | torch.device | None = "cpu", dtype: str = "float32", batch: int | None = None
) -> Timing:
    """Latency at batch 1, throughput and peak memory at ``batch`` (default: 8 on a CPU, 64 on a GPU,
    halved until it fits) of ``arch`` with random weights on ``device`` in ``dtype``."""
    spec = get_spec(arch)
    if dtype not in DTYPES:
        raise CnnvizError("hardware_dtype", dtype=dtype, choices=", ".join(DTYPES))
    device = select_device(str(device)) if device is not None else select_device()
    if dtype == "float16" and device.type != "cuda":
        raise CnnvizError("hardware_half_cpu", device=str(device))
    if batch is not None and not 1 <= batch <= MAX_BATCH:
        raise CnnvizError("hardware_batch", batch=batch)
    table = layer_table(spec)
    weight_bytes = table.total_params * (2 if dtype == "float16" else 4)
    moved = weight_bytes + table.total_act_elems * (2 if dtype == "float16" else 4)
    fmt = torch.channels_last if device.type in ("cpu", "cuda") else torch.contiguous_format
    model = spec.build().to(device=device, dtype=getattr(torch, dtype), memory_format=fmt)
    side = spec.input_size

    def images(n: int) -> torch.Tensor:
        shape = (n, spec.in_channels, side, side)
        return torch.randn(shape, device=device, dtype=getattr(torch, dtype)).contiguous(memory_format=fmt)

    batch = batch or (GPU_BATCH if device.type == "cuda" else CPU_BATCH)
    with torch.inference_mode():
        latency = _timed(model, images(1), device)
        while True:
            try:
                x = images(batch)
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(device)
                    seconds = _timed(model, x, device)
                    peak = torch.cuda.max_memory_allocated(device)
                else:
                    added = _cpu_peak_added(lambda x=x: model(x))
                    peak = None if added is None else weight_bytes + x.numel() * x.element_size() + added
                    seconds = _timed(model, x, device)
                break
            except torch.OutOfMemoryError:
                if batch == 1:
                    raise CnnvizError("hardware_memory", arch=arch, device=str(device)) from None
                batch //= 2
                torch.cuda.empty_cache()
    return Timing(
        arch=spec.name,
        display=spec.display,
        device=describe_device(device),
        dtype=dtype,
        latency_ms=latency * 1000,
        images_per_s=batch / seconds,
        batch=batch,
        peak_memory_mb=None if peak is None else peak / 1e6,
        gmacs=table.total_macs / 1e9,
        params_m=table.total_params / 1e6,
        flops_per_byte=2 * table.total_macs / moved,
    )


def measure_all(
    archs: list[str], device: str | None = "cpu", dtype: str = "float32", progress: Progress | None = None
) -> list[Timing]:
    """:func:`measure` for each of ``archs`` in turn; ``progress`` counts architectures."""
    for arch in archs:
        get_spec(arch)  # every name checked before the first measurement
    timings = []
    for done, arch in enumerate(archs, start=1):
        timings.append(measure(arch, device, dtype))
        report(progress, done, len(archs))
    return timings
