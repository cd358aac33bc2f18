"""The DropBlock lab: which units of one layer's feature map dropout removes and which contiguous blocks
DropBlock removes at the same drop rate, and how the prediction changes over repeated draws (Ghiasi,
Lin & Le 2018, "DropBlock: A regularization method for convolutional networks").

The masks come from the field's implementations, ``torch.nn.functional.dropout`` and
``torchvision.ops.drop_block2d``, applied to a tensor of ones: both scale what they keep, so
``activation × kept`` is exactly what each would output for the activation. The masked map then goes on
through the rest of the network (a forward hook on a private copy of the shared model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.ops import drop_block2d

from cnnviz.errors import CnnvizError
from cnnviz.explain.graphs import channels_by_total, layer_module, private_graph, run_to_layer
from cnnviz.explain.progress import Progress, report
from cnnviz.models.loading import LoadedModel

METHODS = ("dropout", "dropblock")
MAX_DRAWS = 200
DRAWS_PER_BATCH = 8


def check_params(drop_rate: float, block_size: int, draws: int, side: int) -> None:
    """Raise :class:`CnnvizError` unless 0 < drop rate < 1, the block is odd and fits the map, and there
    are 1–``MAX_DRAWS`` draws."""
    if not (0 < drop_rate < 1 and 1 <= block_size <= side and block_size % 2 == 1 and 1 <= draws <= MAX_DRAWS):
        raise CnnvizError("dropblock_params", side=side, max_draws=MAX_DRAWS)


def kept_units(method: str, shape: tuple[int, ...], drop_rate: float, block_size: int) -> torch.Tensor:
    """What ``method`` keeps of a map of ``shape`` (N×C×H×W): 0 where a unit is dropped, the rescaling
    factor elsewhere. Draws from torch's global generator (seed it for repeatable masks)."""
    ones = torch.ones(shape)
    if method == "dropout":
        return F.dropout(ones, p=drop_rate, training=True)
    if method == "dropblock":
        return drop_block2d(ones, p=drop_rate, block_size=block_size, training=True)
    raise CnnvizError("method_choice", choices=", ".join(METHODS), method=method)


@dataclass(frozen=True)
class DropComparison:
    """The lab's result for one image, layer and setting.

    ``activation``: the layer's map (C×H×W); ``masks``: per method, the first draw's dropped units (C×H×W
    bool, True = dropped); ``probabilities``: per method, the target class's softmax probability (0–1) in
    each draw; ``top1_kept``: per method, in how many draws the clean top-1 class stays on top.
    """

    layer: str
    target: int
    clean_probability: float
    drop_rate: float
    block_size: int
    activation: np.ndarray
    masks: dict[str, np.ndarray]
    dropped_fraction: dict[str, float]  # over all draws and units
    probabilities: dict[str, np.ndarray]
    top1_kept: dict[str, int]

    @property
    def draws(self) -> int:
        return len(self.probabilities["dropout"])

    def channels_by_total(self, count: int) -> list[int]:
        """The ``count`` channels with the largest total (so also mean) activation, strongest first."""
        return channels_by_total(torch.from_numpy(self.activation), count)


def compare_drops(
    net: LoadedModel,
    image: Image.Image,
    layer: str,
    drop_rate: float = 0.1,
    block_size: int = 5,
    draws: int = 32,
    seed: int = 0,
    progress: Progress | None = None,
) -> DropComparison:
    """Drop units of ``layer``'s output by dropout and by DropBlock, ``draws`` times each, and measure the
    clean top-1 class's probability after each draw. ``progress(done, total)`` counts draws."""
    x = net.to_input(net.preprocess(image))
    graph = private_graph(net.model).eval()
    with torch.inference_mode():
        clean = net.model(x).float().softmax(1)[0]
        activation = run_to_layer(graph, x, layer, net.spec.display)[0].float().cpu()
    if activation.ndim != 3:
        raise CnnvizError("dropblock_layer", layer=layer)
    check_params(drop_rate, block_size, draws, min(activation.shape[1:]))
    target = int(clean.argmax())
    kept_now: list[torch.Tensor] = []
    handle = layer_module(graph, layer, net.spec.display).register_forward_hook(
        lambda module, inputs, output: output * kept_now[0].to(output.device, output.dtype)
    )
    probabilities: dict[str, list[float]] = {m: [] for m in METHODS}
    tops: dict[str, int] = dict.fromkeys(METHODS, 0)
    dropped: dict[str, float] = dict.fromkeys(METHODS, 0.0)
    masks: dict[str, np.ndarray] = {}
    done, total = 0, 2 * draws
    try:
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(seed)
            for method in METHODS:
                for start in range(0, draws, DRAWS_PER_BATCH):
                    n = min(DRAWS_PER_BATCH, draws - start)
                    kept = kept_units(method, (n, *activation.shape), drop_rate, block_size)
                    if start == 0:
                        masks[method] = (kept[0] == 0).numpy()
                    dropped[method] += float((kept == 0).sum())
                    kept_now[:] = [kept]
                    probs = graph(x.expand(n, -1, -1, -1)).float().softmax(1).cpu()
                    probabilities[method] += probs[:, target].tolist()
                    tops[method] += int((probs.argmax(1) == target).sum())
                    done += n
                    report(progress, done, total)
    finally:
        handle.remove()
    units = draws * activation.numel()
    return DropComparison(
        layer=layer,
        target=target,
        clean_probability=float(clean[target]),
        drop_rate=drop_rate,
        block_size=block_size,
        activation=activation.numpy(),
        masks=masks,
        dropped_fraction={m: dropped[m] / units for m in METHODS},
        probabilities={m: np.array(p) for m, p in probabilities.items()},
        top1_kept=tops,
    )


def default_layer(arch, input_size: int | None = None) -> str:
    """The last layer whose map is at least 10×10 (DropBlock's paper drops in ResNet's 14×14 and 7×7
    groups; 10 px leaves room for blocks and gaps); the last spatial layer if none is that large."""
    from cnnviz.layers import layer_table, spatial_layers

    layers = spatial_layers(arch, input_size)
    sides = {row.module: row.out_shape[-1] for row in layer_table(arch, input_size).rows() if len(row.out_shape) == 3}
    large = [name for name in layers if sides.get(name, 0) >= 10]
    return large[-1] if large else layers[-1]
