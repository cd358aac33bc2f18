"""Occlusion sensitivity as in Zeiler & Fergus 2014, Fig. 7, batched on the device.

A grey (or black, or blurred) square slides over the network's input; for every position cnnviz
records (a) the probability of the target class, (b) the most probable class and (c) the total
activation of the strongest channel (on the clean image) of a chosen layer. Many occluded copies go
through the network per forward pass; the batch is sized from the device's free memory.

Positions are the top-left corners ``range(0, side − window + 1, stride)`` in input pixels, as in
captum's ``Occlusion``; map (a) reproduces captum's attribution exactly (see ``tests/test_occlusion.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from PIL import Image

from cnnviz.errors import CnnvizError
from cnnviz.explain.graphs import channels_by_total, layer_module, private_graph
from cnnviz.explain.progress import Progress, report
from cnnviz.layers import layer_table
from cnnviz.loading import LoadedModel

FILLS = ("mean", "black", "blur")
MAX_POSITIONS = 20_000
CPU_BATCH_BYTES = 1 << 30  # activation memory per batch on the CPU
CPU_MAX_BATCH = 16  # larger CPU batches fall out of cache and run slower (measured: bench/occlusion.py)
CUDA_MEMORY_SHARE = 0.4  # of the free device memory, per batch
CUDA_MAX_BATCH = 1024


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


def batch_size_for(net: LoadedModel, side: int, amp: bool) -> int:
    """Occluded copies per forward pass: a share of the device's free memory over per-image activations.

    On CUDA the size is rounded down to a power of two: cuDNN plans its kernels once per input shape, and a
    new shape costs seconds for some networks (EfficientNet-Lite0: 2.7–3.4 s on an H100, against 0.03 s for
    the forward itself), so the shapes a server sees must come from a small set that stays warm.
    """
    per_image = layer_table(net.spec, side).total_act_elems * (2 if amp else 4)
    if net.device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(net.device)
        fitting = int(max(1, min(CUDA_MAX_BATCH, free * CUDA_MEMORY_SHARE // max(per_image, 1))))
        return 1 << (fitting.bit_length() - 1)
    return int(max(1, min(CPU_MAX_BATCH, CPU_BATCH_BYTES // max(per_image, 1))))


def padded_size(count: int, size: int, device: torch.device) -> int:
    """How many images to send for the last ``count`` positions of batches of ``size``: on CUDA the next
    power of two (at most ``size``), so a partial batch reuses a shape cuDNN has planned already (see
    :func:`batch_size_for`); elsewhere ``count`` itself, as a new shape costs nothing there."""
    if device.type != "cuda" or count >= size:
        return count
    return min(size, 1 << (count - 1).bit_length())


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
) -> OcclusionMaps:
    """The three maps of ZF Fig. 7 for ``image`` (see :class:`OcclusionMaps`).

    ``window`` and ``stride`` are in input pixels; ``target`` defaults to the clean image's top-1;
    ``layer`` (a module name) adds map (c). ``progress`` counts positions, after every batch (see
    :mod:`cnnviz.explain.progress`). ``amp`` (default: on CUDA) runs in float16. When the device runs
    out of memory the batch is halved and retried; :class:`DeviceMemoryError` means not even one fits.
    """
    x = net.to_input(net.preprocess(image))
    side = x.shape[-1]
    gmacs = layer_table(net.spec, side).total_macs / 1e9
    budget = max_gmacs if max_gmacs is not None else (200_000.0 if net.device.type == "cuda" else 5_000.0)
    total = check_params(side, window, stride, fill, gmacs, budget)
    amp = net.device.type == "cuda" if amp is None else amp
    graph = private_graph(net.model)
    channel, captured = None, []
    if layer is not None:
        module = layer_module(graph, layer, net.spec.display)
        handle = module.register_forward_hook(lambda mod, inputs, output: captured.append(output))
    try:
        try:
            with torch.inference_mode(), torch.autocast(net.device.type, torch.float16, enabled=amp):
                clean_logits = graph(x)
        except torch.cuda.OutOfMemoryError:
            raise _no_memory(net, side) from None
        if layer is not None:
            clean_map = captured.pop()
            if clean_map.dim() != 4:
                raise CnnvizError("no_spatial_output", layer=layer, shape=str(tuple(clean_map.shape)))
            channel = channels_by_total(clean_map, 1)[0]
        clean = clean_logits.float().softmax(1)[0]
        target = int(clean.argmax()) if target is None else int(target)
        if not 0 <= target < clean.numel():
            raise CnnvizError("target_range", last=clean.numel() - 1, target=target)
        positions = grid_positions(side, window, stride)
        corners = torch.tensor([(y, x0) for y in positions for x0 in positions], device=net.device)
        baseline = fill_tensor(x[0], fill, net.preprocess.mean, net.preprocess.std)
        size = batch_size or batch_size_for(net, side, amp)
        probs, argmax, activity = [], [], []
        coords = torch.arange(side, device=net.device)
        start = 0
        while start < total:
            block = corners[start : start + size]
            count = len(block)
            block = torch.cat([block, block[-1:].expand(padded_size(count, size, net.device) - count, -1)])
            rows = (coords.view(1, -1) >= block[:, :1]) & (coords.view(1, -1) < block[:, :1] + window)
            cols = (coords.view(1, -1) >= block[:, 1:]) & (coords.view(1, -1) < block[:, 1:] + window)
            mask = (rows[:, :, None] & cols[:, None, :]).unsqueeze(1)  # N×1×H×W
            try:
                batch = net.to_input(torch.where(mask, baseline.unsqueeze(0), x))
                with torch.inference_mode(), torch.autocast(net.device.type, torch.float16, enabled=amp):
                    out = graph(batch).float().softmax(1)[:count]
                    block_activity = captured.pop()[:count, channel].float().sum(dim=(1, 2)) if layer else None
            except torch.cuda.OutOfMemoryError:
                captured.clear()
                if size == 1:
                    raise _no_memory(net, side) from None
                size = max(1, size // 2)  # retry the same positions in smaller batches
                if net.device.type == "cuda":
                    torch.cuda.empty_cache()
                continue
            probs.append(out[:, target])
            argmax.append(out.argmax(1))
            if block_activity is not None:
                activity.append(block_activity)
            start += count
            report(progress, start, total)
    finally:
        if layer is not None:
            handle.remove()
    grid = len(positions)
    probability = torch.cat(probs).view(grid, grid)
    return OcclusionMaps(
        probability=probability.cpu().numpy(),
        argmax=torch.cat(argmax).view(grid, grid).cpu().numpy(),
        activation=torch.cat(activity).view(grid, grid).cpu().numpy() if layer is not None else None,
        overlay=_per_pixel_mean(probability.cpu(), positions, window, side, float(clean[target])),
        target=target,
        clean_probability=float(clean[target]),
        layer=layer,
        channel=channel,
        window=window,
        stride=stride,
        fill=fill,
        positions=positions,
        batch_size=size,
    )


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
