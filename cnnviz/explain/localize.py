"""Class probabilities over a photo larger than the network's input: one pass of the fully convolutional
twin against one pass of the network per crop (deck 003: "predictions for 8×8 regions in one pass").

Both methods read the same normalised photo (shorter side ``short_side`` px, the long side keeping the
aspect ratio, no crop) and score the same windows: the network's input size, placed every ``stride`` px
(its total stride). For a network without padding (LeNet-5) the two grids are equal; where convolutions
pad, a crop sees zeros at its borders where the whole photo has pixels, and the grids differ there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz.errors import CnnvizError
from cnnviz.explain.occlusion import batch_size_for
from cnnviz.explain.progress import Progress, report
from cnnviz.explain.twin import convolutional_twin
from cnnviz.models.loading import LoadedModel

MAX_SCALE = 3  # the short side may be 1–3× the network's input size
MAX_ASPECT_PIXELS = 2  # and the photo at most this many times (3 × input)² pixels
GRID_METHODS = ("one_pass", "crops")


@dataclass(frozen=True)
class ClassGrid:
    """Class probabilities for windows over a photo.

    ``probabilities``: K×R×C float32 (softmax per window); window (r, c) covers input px
    [r·stride, r·stride + window) vertically and [c·stride, c·stride + window) horizontally of the resized
    photo, ``input_size`` = (height, width) px, which is the photo scaled by ``scale``. ``passes`` forward
    passes of the network (1 for the twin) took ``seconds`` (network only, preprocessing excluded).
    """

    method: str
    probabilities: np.ndarray
    window: int
    stride: int
    input_size: tuple[int, int]
    scale: float
    passes: int
    seconds: float

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of windows."""
        return self.probabilities.shape[1], self.probabilities.shape[2]

    def photo_box(self, row: int, column: int) -> tuple[float, float, float, float]:
        """Window (row, column) as (x0, y0, x1, y1) in the original photo's px."""
        y0, x0 = row * self.stride, column * self.stride
        return tuple(v / self.scale for v in (x0, y0, x0 + self.window, y0 + self.window))


def checked_short_side(net: LoadedModel, image: Image.Image, short_side: int | None) -> int:
    """``short_side`` (default: the network's input size), checked to be 1–3× the input size and to keep
    the resized photo within :data:`MAX_ASPECT_PIXELS` × (3 × input)² pixels."""
    side = net.preprocess.input_size
    short_side = side if short_side is None else int(short_side)
    if not side <= short_side <= MAX_SCALE * side:
        raise CnnvizError("localize_size", low=side, high=MAX_SCALE * side, size=short_side)
    long_side = round(short_side * max(image.size) / min(image.size))
    if short_side * long_side > MAX_ASPECT_PIXELS * (MAX_SCALE * side) ** 2:
        raise CnnvizError("localize_aspect", width=image.size[0], height=image.size[1], size=short_side)
    return short_side


def whole_input(net: LoadedModel, image: Image.Image, short_side: int) -> tuple[torch.Tensor, float]:
    """The photo at ``short_side`` px (no crop) as a normalised 1×C×H×W float32 tensor on the CPU, and the
    scale from photo px to input px."""
    picture = net.preprocess.whole_image(image, short_side)
    return net.preprocess.normalise(picture), short_side / min(image.size)


def one_pass_grid(net: LoadedModel, image: Image.Image, short_side: int | None = None) -> ClassGrid:
    """The twin's class probabilities over the photo, in one forward pass."""
    x, scale, twin, (rows, columns) = _scan(net, image, short_side)
    with torch.inference_mode():
        start = time.perf_counter()
        logits = twin(net.to_input(x)).float()
        probabilities = torch.softmax(logits, dim=1)[0].cpu().numpy()
        seconds = time.perf_counter() - start
    probabilities = np.ascontiguousarray(probabilities[:, :rows, :columns])
    return ClassGrid("one_pass", probabilities, twin.window, twin.stride, tuple(x.shape[-2:]), scale, 1, seconds)


def crop_grid(
    net: LoadedModel, image: Image.Image, short_side: int | None = None, progress: Progress | None = None
) -> ClassGrid:
    """The same windows as :func:`one_pass_grid`, each cut from the same tensor and run through the
    original network: one forward pass per window (sent in batches)."""
    x, scale, twin, (rows, columns) = _scan(net, image, short_side)
    window, stride = twin.window, twin.stride
    corners = [(r * stride, c * stride) for r in range(rows) for c in range(columns)]
    batch = batch_size_for(net, window, amp=False)
    outputs = []
    seconds = 0.0
    with torch.inference_mode():
        for first in range(0, len(corners), batch):
            crops = torch.cat([x[..., y : y + window, x0 : x0 + window] for y, x0 in corners[first : first + batch]])
            start = time.perf_counter()
            outputs.append(torch.softmax(net.model(net.to_input(crops)).float(), dim=1).cpu())
            seconds += time.perf_counter() - start
            report(progress, min(first + batch, len(corners)), len(corners))
    probabilities = torch.cat(outputs).T.reshape(-1, rows, columns).numpy()
    return ClassGrid("crops", probabilities, window, stride, tuple(x.shape[-2:]), scale, len(corners), seconds)


GRIDS = {"one_pass": one_pass_grid, "crops": crop_grid}


def _scan(net: LoadedModel, image: Image.Image, short_side: int | None):
    """What both grids start from: the checked photo as input (1×C×H×W) and its scale, the twin, and the
    (rows, columns) of the twin's windows that fit inside the photo."""
    x, scale = whole_input(net, image, checked_short_side(net, image, short_side))
    twin = convolutional_twin(net)
    height, width = x.shape[-2:]
    return x, scale, twin, ((height - twin.window) // twin.stride + 1, (width - twin.window) // twin.stride + 1)


def bilinear_kernel(factor: int) -> torch.Tensor:
    """The 2f×2f kernel of a transposed convolution that upsamples by ``factor`` f bilinearly: FCN's
    initialisation of its upsampling layers (Long et al. 2015, section 3.3), as a 1×1×2f×2f tensor."""
    size = 2 * factor
    centre = factor - 0.5
    ramp = 1 - torch.abs(torch.arange(size, dtype=torch.float32) - centre) / factor
    return torch.outer(ramp, ramp)[None, None]


def upsampled(values: np.ndarray, factor: int) -> np.ndarray:
    """An R×C map made (R·f)×(C·f) by a transposed convolution with :func:`bilinear_kernel` (stride f,
    padding ⌊f/2⌋; edges replicated first so border cells do not fade to zero): the coarse grid
    stretched as FCN does, cell (r, c) filling px [r·f, (r + 1)·f) × [c·f, (c + 1)·f) around its centre."""
    rows, columns = np.shape(values)
    grid = F.pad(torch.as_tensor(np.asarray(values, dtype=np.float32))[None, None], (1, 1, 1, 1), mode="replicate")
    big = F.conv_transpose2d(grid, bilinear_kernel(factor), stride=factor, padding=factor // 2)[0, 0]
    return big[factor : factor * (rows + 1), factor : factor * (columns + 1)].numpy()
