"""Occlusion sensitivity as in Zeiler & Fergus 2014, Fig. 7, batched on the device.

A grey (or black, or blurred) square slides over the network's input; for every position cnnviz
records (a) the probability of the target class, (b) the most probable class and (c) the total
activation of the strongest channel (on the clean image) of a chosen layer. Many occluded copies go
through the network per forward pass, either whole or incrementally (each layer recomputing only what
the square changes; :mod:`cnnviz.explain.occluders`); both give the same maps, and ``auto`` runs the one
measured faster in this process. Positions run coarse to fine, so a page can show a coarse map early.

Positions are the top-left corners ``range(0, side − window + 1, stride)`` in input pixels, as in
captum's ``Occlusion``; map (a) reproduces captum's attribution exactly (see ``tests/test_occlusion.py``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from PIL import Image

from cnnviz.errors import CnnvizError
from cnnviz.explain import costs
from cnnviz.explain.costs import cost_key
from cnnviz.explain.graphs import channels_by_total
from cnnviz.explain.occluders import METHODS, OCCLUDERS
from cnnviz.explain.progress import Progress, report
from cnnviz.layers import layer_table
from cnnviz.models.loading import LoadedModel

FILLS = ("mean", "black", "blur")
MAX_POSITIONS = 20_000
CPU_BATCH_BYTES = 1 << 30  # activation memory per batch on the CPU
CPU_MAX_BATCH = 16  # larger CPU batches fall out of cache and run slower (measured: bench/occlusion.py)
CPU_INCREMENTAL_BATCH = 32
CUDA_MEMORY_SHARE = 0.4  # of the free device memory, per batch
CUDA_MAX_BATCH = 1024
CUDA_PROBE_SIDE = 8  # positions a side of estimate()'s probe on CUDA


class DeviceMemoryError(CnnvizError):
    """Not even one occluded image fits in the device's memory."""


@dataclass(frozen=True)
class OcclusionMaps:
    """ZF Fig. 7 for one image, at window-grid resolution (``grid`` positions per side).

    ``probability`` (a): probability (0–1) of ``target`` with the window at each position;
    ``argmax`` (b): the most probable class index there; ``activation`` (c): total activation of channel
    ``channel`` of ``layer`` there (None when no layer was asked for); ``overlay``: map (a) at input
    resolution, each pixel the mean over the windows that cover it (pixels never covered keep the clean
    probability).
    """

    probability: np.ndarray
    argmax: np.ndarray
    activation: np.ndarray | None
    overlay: np.ndarray
    target: int
    clean_probability: float
    layer: str | None
    channel: int | None
    window: int
    stride: int
    fill: str
    positions: np.ndarray  # top-left corners along one side, px
    batch_size: int
    method: str = "full"  # the method that computed most positions ("incremental" or "full")


def grid_positions(side: int, window: int, stride: int) -> np.ndarray:
    """Top-left corners along one side of a ``side`` px input (px)."""
    return np.arange(0, side - window + 1, stride)


def check_params(side: int, window: int, stride: int, fill: str, gmacs: float, max_gmacs: float) -> int:
    """Validate the request; return the number of positions. The message says what would work."""
    if fill not in FILLS:
        raise CnnvizError("fill_choice", choices=", ".join(FILLS), fill=fill)
    if not 1 <= window <= side:
        raise CnnvizError("window_range", side=side, window=window)
    if not 1 <= stride <= side:
        raise CnnvizError("stride_range", side=side, stride=stride)
    count = len(grid_positions(side, window, stride)) ** 2
    cost = count * gmacs
    if count > MAX_POSITIONS or cost > max_gmacs:
        workable = next(
            (
                s
                for s in range(stride + 1, side + 1)
                if len(grid_positions(side, window, s)) ** 2 <= MAX_POSITIONS
                and len(grid_positions(side, window, s)) ** 2 * gmacs <= max_gmacs
            ),
            side,
        )
        positions = len(grid_positions(side, window, workable)) ** 2
        raise CnnvizError(
            "occlusion_too_much",
            count=count,
            limit=min(MAX_POSITIONS, int(max_gmacs / gmacs)),
            stride=workable,
            positions=positions,
        )
    return count


def fill_tensor(x: torch.Tensor, fill: str, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """What the window shows, as a normalised C×H×W tensor: the dataset mean (0 after normalising),
    black, or the image blurred (Gaussian, σ = 8 px at input resolution)."""
    if fill == "mean":
        return torch.zeros_like(x)
    if fill == "black":
        values = torch.tensor([-m / s for m, s in zip(mean, std, strict=True)], dtype=x.dtype, device=x.device)
        return values.view(-1, 1, 1).expand_as(x).clone()
    return TF.gaussian_blur(x.unsqueeze(0), kernel_size=[49, 49], sigma=[8.0, 8.0])[0]


def batch_size_for(net: LoadedModel, side: int, amp: bool, method: str = "full") -> int:
    """Occluded copies per forward pass: a share of the device's free memory over per-image activations.
    Incremental inference on the CPU takes 32 (its windows are small; measured faster than 16 and 64 for
    VGG-16 with ``python -m bench.occlusion``).

    On CUDA the size is rounded down to a power of two: cuDNN plans its kernels once per input shape, and a
    new shape costs seconds for some networks (EfficientNet-Lite0: 2.7–3.4 s on an H100, against 0.03 s for
    the forward itself), so the shapes a server sees must come from a small set that stays warm.
    """
    per_image = layer_table(net.spec, side).total_act_elems * (2 if amp else 4)
    if net.device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(net.device)
        fitting = int(max(1, min(CUDA_MAX_BATCH, free * CUDA_MEMORY_SHARE // max(per_image, 1))))
        return 1 << (fitting.bit_length() - 1)
    largest = CPU_INCREMENTAL_BATCH if method == "incremental" else CPU_MAX_BATCH
    return int(max(1, min(largest, CPU_BATCH_BYTES // max(per_image, 1))))


def padded_size(count: int, size: int, device: torch.device) -> int:
    """How many images to send for the last ``count`` positions of batches of ``size``: on CUDA the next
    power of two (at most ``size``), so a partial batch reuses a shape cuDNN has planned already (see
    :func:`batch_size_for`); elsewhere ``count`` itself, as a new shape costs nothing there."""
    if device.type != "cuda" or count >= size:
        return count
    return min(size, 1 << (count - 1).bit_length())


def pass_order(positions: np.ndarray, stride: int) -> list[tuple[int, np.ndarray]]:
    """Coarse to fine: ``(factor, indices)`` for the grid at stride ×4, then ×2, then ×1, each pass only
    the indices (row-major into the full grid) not computed before; a coarse pass needs 2 positions a side.
    Every position is computed once, so the final map costs what a single pass would.

    Within a pass, positions come ordered by their distance to the borders, so that a batch holds squares
    whose changed regions are clipped alike (incremental inference computes one region size per batch).
    """
    grid = len(positions)
    rows, cols = np.meshgrid(positions, positions, indexing="ij")
    to_border = np.minimum(positions - positions[0], positions[-1] - positions)
    near_y, near_x = np.meshgrid(to_border, to_border, indexing="ij")
    by_border = np.lexsort((near_x.ravel(), near_y.ravel()))
    done = np.zeros(grid * grid, dtype=bool)
    passes = []
    for factor in (4, 2, 1):
        on_grid = ((rows % (factor * stride) == 0) & (cols % (factor * stride) == 0)).ravel()
        if factor > 1 and len(positions[positions % (factor * stride) == 0]) < 2:
            continue
        new = by_border[(on_grid & ~done)[by_border]]
        done |= on_grid
        if len(new):
            passes.append((factor, new))
    return passes


def occlusion(
    net: LoadedModel,
    image: Image.Image,
    window: int = 32,
    stride: int = 8,
    fill: str = "mean",
    target: int | None = None,
    layer: str | None = None,
    amp: bool | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
    max_gmacs: float | None = None,
    method: str = "auto",
    preview: Callable[[OcclusionMaps], None] | None = None,
) -> OcclusionMaps:
    """The three maps of ZF Fig. 7 for ``image`` (see :class:`OcclusionMaps`).

    ``window`` and ``stride`` are in input pixels; ``target`` defaults to the clean image's top-1;
    ``layer`` (a module name) adds map (c). ``method`` is ``"incremental"``, ``"full"`` or ``"auto"``
    (the one measured faster for this model, device and window in this process; see
    :mod:`cnnviz.explain.occluders`): the maps are the same. Positions are computed coarse to fine
    (:func:`pass_order`); after each coarse pass ``preview`` gets the maps at that pass's stride.
    ``progress`` counts positions, after every batch (see :mod:`cnnviz.explain.progress`). ``amp``
    (default: on CUDA) runs in float16. When the device runs out of memory the batch is halved and
    retried; :class:`DeviceMemoryError` means not even one fits.
    """
    if method not in METHODS:
        raise CnnvizError("method_choice", choices=", ".join(METHODS), method=method)
    x = net.to_input(net.preprocess(image))
    side = x.shape[-1]
    gmacs = layer_table(net.spec, side).total_macs / 1e9
    budget = max_gmacs if max_gmacs is not None else (200_000.0 if net.device.type == "cuda" else 5_000.0)
    total = check_params(side, window, stride, fill, gmacs, budget)
    amp = net.device.type == "cuda" if amp is None else amp
    baseline = fill_tensor(x[0], fill, net.preprocess.mean, net.preprocess.std)
    positions = grid_positions(side, window, stride)
    corners = torch.tensor([(y, x0) for y in positions for x0 in positions])
    occluders = {}
    with torch.inference_mode(), torch.autocast(net.device.type, torch.float16, enabled=amp):
        try:
            for name in _candidates(net, method, window, side):
                occluders[name] = _occluder(name, net, x, baseline, window, layer, required=method != "auto")
            occluders = {name: made for name, made in occluders.items() if made is not None}
            first = next(iter(occluders.values()))
            clean = first.clean_logits.float().softmax(1)[0]
            channel = None
            if layer is not None:
                if first.clean_map.dim() != 4:
                    shape = str(tuple(first.clean_map.shape))
                    raise CnnvizError("no_spatial_output", layer=layer, shape=shape)
                channel = channels_by_total(first.clean_map, 1)[0]
            target = int(clean.argmax()) if target is None else int(target)
            if not 0 <= target < clean.numel():
                raise CnnvizError("target_range", last=clean.numel() - 1, target=target)
            clean_probability = float(clean[target])
            chooser = _Chooser(net, occluders, window, side)
            sizes = {name: batch_size or batch_size_for(net, side, amp, name) for name in occluders}
            probs = torch.empty(total)
            argmax = torch.empty(total, dtype=torch.long)
            activity = torch.empty(total) if layer is not None else None
            done = 0

            def finished(indices: np.ndarray, grid: np.ndarray, grid_stride: int, batch: int) -> OcclusionMaps:
                """The maps of the positions ``indices`` (row-major into the full grid), ``grid`` a side."""
                side_count = len(grid)
                probability = probs[indices].view(side_count, side_count)
                return OcclusionMaps(
                    probability=probability.numpy(),
                    argmax=argmax[indices].view(side_count, side_count).numpy(),
                    activation=None if activity is None else activity[indices].view(side_count, side_count).numpy(),
                    overlay=_per_pixel_mean(probability, grid, window, side, clean_probability),
                    target=target,
                    clean_probability=clean_probability,
                    layer=layer,
                    channel=channel,
                    window=window,
                    stride=grid_stride,
                    fill=fill,
                    positions=grid,
                    batch_size=batch,
                )

            for factor, indices in pass_order(positions, stride):
                start = 0
                while start < len(indices):
                    occluder = chooser.pick()
                    size = sizes[occluder.name]
                    block = indices[start : start + size]
                    count = len(block)
                    picked = torch.as_tensor(block)
                    batch = corners[picked]
                    batch = torch.cat([batch, batch[-1:].expand(padded_size(count, size, net.device) - count, -1)])
                    began = time.perf_counter()
                    try:
                        logits, block_activity = occluder.run(batch, channel)
                    except torch.cuda.OutOfMemoryError:
                        if size == 1:
                            raise _no_memory(net, side) from None
                        sizes[occluder.name] = max(1, size // 2)  # retry the same positions in smaller batches
                        if net.device.type == "cuda":
                            torch.cuda.empty_cache()
                        continue
                    out = logits[:count].softmax(1).cpu()
                    chooser.timed(occluder, time.perf_counter() - began, count)
                    probs[picked], argmax[picked] = out[:, target], out.argmax(1)
                    if activity is not None:
                        activity[picked] = block_activity[:count].cpu()
                    start += count
                    done += count
                    report(progress, done, total)
                if preview is not None and factor > 1:
                    on_grid = np.isin(corners.numpy(), positions[::factor]).all(1)
                    preview(
                        finished(np.flatnonzero(on_grid), positions[::factor], stride * factor, sizes[occluder.name])
                    )
        except torch.cuda.OutOfMemoryError:
            raise _no_memory(net, side) from None
        finally:
            for made in occluders.values():
                made.close()
    method_used = chooser.finish()
    return dataclasses.replace(finished(np.arange(total), positions, stride, sizes[method_used]), method=method_used)


def _candidates(net: LoadedModel, method: str, window: int, side: int) -> tuple[str, ...]:
    """The methods to prepare: the one asked for; for ``auto`` the one measured cheaper in this process, or
    both while either is unmeasured (:class:`_Chooser` then times them)."""
    if method != "auto":
        return (method,)
    known = {name: costs.per_position(cost_key(net, name, window, side)) for name in ("incremental", "full")}
    if None in known.values():
        return tuple(known)
    return (min(known, key=known.get),)


def _occluder(name: str, net: LoadedModel, x, baseline, window: int, layer: str | None, required: bool):
    """The occluder ``name``; None when the incremental one cannot read this model's graph and the method
    may fall back (torch.fx cannot trace every custom model)."""
    try:
        return OCCLUDERS[name](net, x, baseline, window, layer)
    except (CnnvizError, torch.OutOfMemoryError, MemoryError):  # the request or the device, not the graph
        raise
    except Exception as exc:  # torch.fx cannot trace every model; tracing fails in many ways (NameError …)
        if required or name == "full":
            raise CnnvizError("no_incremental", arch=net.spec.display, reason=type(exc).__name__) from None
        return None


class _Chooser:
    """Which occluder runs the next batch: the cheaper by this process's measurements (``auto``). A method
    not measured yet for this model, device and window runs one batch first, which measures it."""

    def __init__(self, net: LoadedModel, occluders: dict, window: int, side: int) -> None:
        self.occluders = occluders
        self.keys = {name: cost_key(net, name, window, side) for name in occluders}
        self.spent = {name: [0.0, 0] for name in occluders}

    def pick(self):
        if len(self.occluders) == 1:
            return next(iter(self.occluders.values()))
        for name, (_, count) in self.spent.items():
            if count == 0 and costs.per_position(self.keys[name]) is None:
                return self.occluders[name]
        known = {name: costs.per_position(key) or float("inf") for name, key in self.keys.items()}
        return self.occluders[min(known, key=known.get)]

    def timed(self, occluder, seconds: float, count: int) -> None:
        spent = self.spent[occluder.name]
        spent[0] += seconds
        spent[1] += count
        if len(self.occluders) > 1 and spent[1] == count:
            costs.record(self.keys[occluder.name], seconds, count)  # a first measurement, for pick()

    def finish(self) -> str:
        """Record this map's figures; the name of the method that computed most positions."""
        for name, (seconds, count) in self.spent.items():
            costs.record(self.keys[name], seconds, count)
        return max(self.spent, key=lambda name: self.spent[name][1])


def _no_memory(net: LoadedModel, side: int) -> DeviceMemoryError:
    return DeviceMemoryError("no_memory", device=str(net.device), side=side, arch=net.spec.display)


def _per_pixel_mean(grid: torch.Tensor, positions: np.ndarray, window: int, side: int, clean: float) -> np.ndarray:
    """Each input pixel: the mean of ``grid`` over the windows that cover it (``clean`` where none does).

    A transposed convolution with a ``window``-square of ones at the grid's stride spreads every value over
    its window, so the sums and the counts come in one pass each (float64, exact for these sizes).
    """
    ones = torch.ones(1, 1, window, window, dtype=torch.float64)
    stride = int(positions[1] - positions[0]) if len(positions) > 1 else 1
    values = grid.double().view(1, 1, *grid.shape)
    total = F.conv_transpose2d(values, ones, stride=stride)[0, 0]
    count = F.conv_transpose2d(torch.ones_like(values), ones, stride=stride)[0, 0]
    covered = total.shape[-1]  # (grid − 1)·stride + window ≤ side
    result = torch.full((side, side), clean, dtype=torch.float64)
    result[:covered, :covered] = torch.where(count > 0, total / count.clamp(min=1), clean)  # stride > window
    return result.numpy()


@dataclass(frozen=True)
class Estimate:
    """How long a map will take on this server: ``seconds`` by ``method``, from a cost per position measured
    in this process (:mod:`cnnviz.explain.costs`); ``quick_stride`` answers within ``budget`` seconds."""

    seconds: float
    method: str
    per_position: float
    quick_stride: int
    budget: float


def estimate(net: LoadedModel, image: Image.Image, window: int, stride: int, budget: float = 10.0) -> Estimate:
    """The waiting time for a ``window``/``stride`` map of ``image``; when this process has no figure yet for
    the model, device and window, both methods first time a few positions: on a CPU 3×3 in batches of four
    (well under a second for most models, a few seconds for VGG); on CUDA 8×8 in one batch, twice (a GPU
    takes 64 copies about as fast as 4, and the first run of a shape pays cuDNN's planning: with one run of
    four, an H200 estimated EfficientNet-Lite0's 0.06 s map at 110 s)."""
    side = net.preprocess.input_size
    known = {name: costs.per_position(cost_key(net, name, window, side)) for name in OCCLUDERS}
    if any(value is None for value in known.values()):
        cuda = net.device.type == "cuda"
        per_side, runs = (CUDA_PROBE_SIDE, 2) if cuda else (3, 1)
        probe_stride = max(1, (side - window) // (per_side - 1)) if side > window else side
        for name in OCCLUDERS:
            try:
                for _ in range(runs):  # the latest figure wins: on CUDA the first run pays cuDNN's planning
                    occlusion(net, image, window, probe_stride, batch_size=per_side**2 if cuda else 4, method=name)
            except CnnvizError:
                continue  # a model the incremental method cannot read: the full figure stands alone
        known = {name: costs.per_position(cost_key(net, name, window, side)) for name in OCCLUDERS}
    known = {name: value for name, value in known.items() if value is not None}
    method = min(known, key=known.get)
    cost = known[method]
    quick = next(
        (s for s in range(max(stride, 1), side + 1) if len(grid_positions(side, window, s)) ** 2 * cost <= budget),
        side,
    )
    return Estimate(len(grid_positions(side, window, stride)) ** 2 * cost, method, cost, quick, budget)
