"""Boxes on a photo: sliding-window detection with non-max suppression (deck 003, "Detección de objetos"),
and class-activation-map boxes (Zhou et al. 2016, "Learning Deep Features for Discriminative
Localization", section 3).

Both return boxes in the photo's own pixels. Suppression and IoU are torchvision's
(``torchvision.ops.batched_nms``, ``box_iou``); connected components are scikit-image's.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.measure import label as connected_components
from torchvision.ops import batched_nms, box_iou

from cnnviz.errors import CnnvizError
from cnnviz.explain.classmap import checked_target
from cnnviz.explain.localize import whole_input
from cnnviz.explain.occlusion import batch_size_for
from cnnviz.explain.progress import Progress, report
from cnnviz.explain.twin import convolutional_twin
from cnnviz.models.bundled import asset_path
from cnnviz.models.loading import LoadedModel

WINDOW_FRACTIONS = (0.5, 0.7, 0.9)  # window sides, as fractions of the photo's shorter side
WINDOW_OVERLAP = 0.5  # consecutive windows of one size overlap by this fraction of their side
CAM_FRACTION = 0.2  # Zhou et al.: keep the CAM above 20 % of its maximum
THRESHOLD = 0.5  # lowest window score kept before suppression
IOU = 0.3  # windows of one size overlapping by half have IoU 1/3: suppress them
REFERENCE_BOXES = "reference_boxes.json"


@dataclass(frozen=True)
class Box:
    """A box in photo px (x0, y0 inclusive; x1, y1 exclusive), its score (0–1) and class."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    index: int
    label: str

    def as_dict(self) -> dict:
        """The CLI's JSON form: x0, y0, x1, y1 (px, one decimal), score, class and label."""
        corners = {name: round(float(getattr(self, name)), 1) for name in ("x0", "y0", "x1", "y1")}
        return {**corners, "score": round(float(self.score), 4), "class": self.index, "label": self.label}

    @property
    def corners(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class Detections:
    """Sliding-window detection: every window's box above the threshold (``before``), those left after
    non-max suppression (``after``), how many windows were scored (one forward pass each) and the
    seconds the network took."""

    before: tuple[Box, ...]
    after: tuple[Box, ...]
    windows: int
    seconds: float
    threshold: float
    iou: float


def window_boxes(size: tuple[int, int], fractions=WINDOW_FRACTIONS) -> list[tuple[int, int, int, int]]:
    """Square windows over a photo of ``size`` = (width, height) px: for each fraction of the shorter side,
    a grid overlapping by :data:`WINDOW_OVERLAP`, the last row and column flush with the photo's edges."""
    width, height = size
    boxes = []
    for fraction in fractions:
        side = max(1, round(fraction * min(width, height)))
        step = max(1, round(side * (1 - WINDOW_OVERLAP)))
        for y in _starts(height, side, step):
            for x in _starts(width, side, step):
                boxes.append((x, y, x + side, y + side))
    return boxes


def _starts(length: int, side: int, step: int) -> list[int]:
    starts = list(range(0, length - side + 1, step))
    if starts[-1] != length - side:
        starts.append(length - side)
    return starts


@dataclass(frozen=True)
class WindowScores:
    """Every window's box (W×4 float32, photo px), its best score among the asked classes (W) and that
    class (W, int64), and the seconds the network took (one forward pass per window, sent in batches)."""

    boxes: torch.Tensor
    scores: torch.Tensor
    classes: torch.Tensor
    seconds: float

    @property
    def windows(self) -> int:
        return len(self.scores)


def score_windows(
    net: LoadedModel,
    image: Image.Image,
    classes: list[int],
    fractions=WINDOW_FRACTIONS,
    progress: Progress | None = None,
) -> WindowScores:
    """Score every window of :func:`window_boxes` with ``net`` for ``classes``: each window takes the most
    probable of them."""
    if not classes or any(not 0 <= c < len(net.categories) for c in classes):
        raise CnnvizError("detect_classes", last=len(net.categories) - 1)
    boxes = window_boxes(image.size, fractions)
    wanted = torch.tensor(classes)
    batch = batch_size_for(net, net.preprocess.input_size, amp=False)
    scores, chosen, seconds = [], [], 0.0
    with torch.inference_mode():
        for first in range(0, len(boxes), batch):
            windows = [net.preprocess.square_window(image, box) for box in boxes[first : first + batch]]
            x = torch.cat([net.preprocess.normalise(window) for window in windows])
            start = time.perf_counter()
            probabilities = torch.softmax(net.model(net.to_input(x)).float(), dim=1).cpu()[:, wanted]
            seconds += time.perf_counter() - start
            best = probabilities.max(dim=1)
            scores.append(best.values)
            chosen.append(wanted[best.indices])
            report(progress, min(first + batch, len(boxes)), len(boxes))
    return WindowScores(torch.tensor(boxes, dtype=torch.float32), torch.cat(scores), torch.cat(chosen), seconds)


def suppress(net: LoadedModel, scored: WindowScores, threshold: float = THRESHOLD, iou: float = IOU) -> Detections:
    """The windows scoring at least ``threshold``, then, class by class, without the boxes that overlap a
    better one by more than ``iou`` (torchvision's ``batched_nms``)."""
    _check_suppression(threshold, iou)
    above = torch.nonzero(scored.scores >= threshold).flatten()
    kept = above[batched_nms(scored.boxes[above], scored.scores[above], scored.classes[above], iou)]

    def boxes(indices: torch.Tensor) -> tuple[Box, ...]:
        return tuple(_box(net, scored.boxes[i], scored.scores[i], scored.classes[i]) for i in indices.tolist())

    return Detections(boxes(above), boxes(kept), scored.windows, scored.seconds, threshold, iou)


def sliding_windows(
    net: LoadedModel,
    image: Image.Image,
    classes: list[int],
    threshold: float = THRESHOLD,
    iou: float = IOU,
    fractions=WINDOW_FRACTIONS,
    progress: Progress | None = None,
) -> Detections:
    """Sliding-window detection: :func:`score_windows` then :func:`suppress` (parameters checked first)."""
    _check_suppression(threshold, iou)
    return suppress(net, score_windows(net, image, classes, fractions, progress), threshold, iou)


def _check_suppression(threshold: float, iou: float) -> None:
    if not (0 <= threshold <= 1 and 0 <= iou <= 1):
        raise CnnvizError("detect_params")


def _box(net: LoadedModel, corners: torch.Tensor, score: torch.Tensor, index: torch.Tensor) -> Box:
    return Box(*(float(v) for v in corners), float(score), int(index), net.categories[int(index)])


@dataclass(frozen=True)
class CamBox:
    """A class activation map over the whole photo and the box around its largest region.

    ``values``: h×w float32 in logits (Σ_k w_k f_k(x, y), bias excluded, as in Zhou et al.) at the last
    map's resolution; ``upsampled`` the same, bilinear, at the resized photo's px; ``box`` in photo px,
    around the largest connected region above ``fraction`` of the map's maximum.
    """

    values: np.ndarray
    upsampled: np.ndarray
    box: Box
    fraction: float


def cam_box(net: LoadedModel, image: Image.Image, target: int | None = None, fraction: float = CAM_FRACTION) -> CamBox:
    """The CAM of ``target`` (default: the network's top-1 on the whole photo) at the network's input size
    on the photo's shorter side, and its box. Only for networks that end in global average pooling."""
    if not 0 < fraction < 1:
        raise CnnvizError("cam_fraction")
    twin = convolutional_twin(net)
    if not twin.global_pooling:
        raise CnnvizError("no_cam", arch=net.spec.display)
    x, scale = whole_input(net, image, net.preprocess.input_size)
    with torch.inference_mode():
        features = twin.body(net.to_input(x))
        scores = twin.head(features).float()
        offset = twin.head(torch.zeros_like(features[..., :1, :1])).float()  # the bias: head(0)
        target = checked_target(scores.mean(dim=(2, 3)), target)
        cam = (scores - offset)[0, target]
        upsampled = F.interpolate(cam[None, None], size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    cam, upsampled = cam.cpu().numpy(), upsampled.cpu().numpy()
    box = _largest_region(upsampled, fraction) / scale
    score = float(torch.softmax(scores.mean(dim=(2, 3)), dim=1)[0, target])
    return CamBox(cam, upsampled, Box(*box.tolist(), score, target, net.categories[target]), fraction)


def _largest_region(values: np.ndarray, fraction: float) -> np.ndarray:
    """(x0, y0, x1, y1) px of the largest 8-connected region where ``values`` ≥ ``fraction`` × max."""
    regions = connected_components(values >= fraction * values.max(), connectivity=2)
    sizes = np.bincount(regions.ravel())
    sizes[0] = 0
    rows, cols = np.nonzero(regions == sizes.argmax())
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], dtype=np.float64)


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes (0–1)."""
    return float(box_iou(torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64))[0, 0])


@dataclass(frozen=True)
class Reference:
    """A hand-drawn box around one object of a gallery photo: (x0, y0, x1, y1) in photo px, what it holds
    and the ImageNet class names that name it."""

    object: str
    box: tuple[float, float, float, float]
    classes: tuple[str, ...]


def reference_boxes() -> dict[str, tuple[Reference, ...]]:
    """The gallery photos' hand-drawn boxes (``assets/reference_boxes.json``, documented there)."""
    with open(asset_path(REFERENCE_BOXES), encoding="utf-8") as file:
        entries = json.load(file)
    return {
        name: tuple(Reference(o["object"], tuple(o["box"]), tuple(o["classes"])) for o in objects)
        for name, objects in entries.items()
        if not name.startswith("_")
    }


def reference_for(photo: str, label: str) -> Reference | None:
    """The reference object of gallery photo ``photo`` that class ``label`` names, else the photo's main
    (first) object; None for a photo without reference boxes."""
    objects = reference_boxes().get(photo, ())
    return next((o for o in objects if label in o.classes), objects[0] if objects else None)
