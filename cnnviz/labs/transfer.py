"""The transfer-learning lab: a few labelled images per class, a frozen pretrained backbone with a new
linear head, next to the same network trained from scratch on the same images.

The backbone is timm's EfficientNet-Lite0 with the bundled ImageNet weights (the app's offline default);
its pooled 1,280 features feed scikit-learn's ``LogisticRegression`` (a linear probe). The scratch network
is the same timm architecture with random weights and a ``K``-class classifier, trained end to end with
AdamW. Both see the images at the same size (``input_size`` px; smaller than 224 keeps scratch training
within seconds on a CPU) and are scored on the same held-out images with scikit-learn's metrics.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, replace

import numpy as np
import timm
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix

from cnnviz.digits import digit_arrays, split_indices
from cnnviz.errors import CnnvizError
from cnnviz.explain.progress import Progress, report
from cnnviz.models.loading import LoadedModel
from cnnviz.models.own import LABEL_CHARACTERS, LABEL_FORBIDDEN

BACKBONE = "efficientnet_lite0"
INPUT_SIZES = (96, 128, 160, 224)
MAX_IMAGES = 400
BATCH = 16


@dataclass(frozen=True)
class LabelledImages:
    """Images with class indices into ``classes``."""

    images: tuple[Image.Image, ...]
    labels: tuple[int, ...]
    classes: tuple[str, ...]

    def per_class(self) -> list[int]:
        return [self.labels.count(k) for k in range(len(self.classes))]


def digit_images(per_class: int, held_out_per_class: int = 10) -> tuple[LabelledImages, LabelledImages]:
    """The built-in split: ``per_class`` training digits of each class from the digits' training part and
    ``held_out_per_class`` from the held-out part, as 32×32 bright-ink pictures."""
    if not 1 <= per_class <= 100:
        raise CnnvizError("transfer_per_class")
    images, labels = digit_arrays()

    def picture(i: int) -> Image.Image:
        return Image.fromarray((images[i] / 16.0 * 255).astype(np.uint8)).resize((32, 32), Image.BILINEAR)

    def take(indices: np.ndarray, count: int) -> LabelledImages:
        chosen = [i for k in range(10) for i in [j for j in indices if labels[j] == k][:count]]
        return LabelledImages(
            tuple(picture(i) for i in chosen), tuple(int(labels[i]) for i in chosen), tuple(str(k) for k in range(10))
        )

    train_idx, test_idx = split_indices()
    return take(train_idx, per_class), take(test_idx, held_out_per_class)


def split_uploads(classes: dict[str, list[Image.Image]], held_out_fraction: float = 1 / 3):
    """The student's own images: per class, the last ``held_out_fraction`` (at least one) is held out.
    Needs two or more classes with two or more images each."""
    named = {name.strip(): images for name, images in classes.items() if name.strip() and images}
    if len(named) < 2 or any(len(images) < 2 for images in named.values()):
        raise CnnvizError("transfer_too_few")
    if sum(len(images) for images in named.values()) > MAX_IMAGES:
        raise CnnvizError("transfer_too_many", count=MAX_IMAGES)
    train, test = ([], []), ([], [])
    for k, images in enumerate(named.values()):
        held = max(1, round(len(images) * held_out_fraction))
        for part, chunk in ((train, images[:-held]), (test, images[-held:])):
            part[0].extend(chunk)
            part[1].extend([k] * len(chunk))
    names = tuple(named)
    return (
        LabelledImages(tuple(train[0]), tuple(train[1]), names),
        LabelledImages(tuple(test[0]), tuple(test[1]), names),
    )


@dataclass(frozen=True)
class Outcome:
    """One approach on the held-out images: accuracy (0–1), confusion matrix (rows: true class, columns:
    predicted), predictions, training time (s)."""

    accuracy: float
    confusion: np.ndarray
    predicted: np.ndarray
    seconds: float


@dataclass(frozen=True)
class TransferResult:
    """Both approaches on the same images; ``probe_weight`` (K × 1,280) and ``probe_bias`` (K) are the linear
    probe as the backbone's own classifier would hold it (:func:`fine_tuned_state`)."""

    classes: tuple[str, ...]
    train_count: int
    test_count: int
    input_size: int
    frozen: Outcome
    scratch: Outcome
    probe_weight: np.ndarray
    probe_bias: np.ndarray


def _probe_as_classifier(probe: LogisticRegression) -> tuple[np.ndarray, np.ndarray]:
    """The probe's logits as a K-way linear layer: scikit-learn keeps one row for two classes (the log-odds
    of class 1), which is the logits (0, z); for more classes its multinomial rows are the logits."""
    weight, bias = probe.coef_.astype(np.float32), probe.intercept_.astype(np.float32)
    if len(probe.classes_) == 2:
        weight = np.concatenate([np.zeros_like(weight), weight])
        bias = np.concatenate([np.zeros_like(bias), bias])
    return weight, bias


def fine_tuned_state(net: LoadedModel, result: TransferResult) -> dict[str, torch.Tensor]:
    """The state dict of the backbone with the probe as its classifier: EfficientNet-Lite0 with K classes,
    the checkpoint ``--weights`` and the sidebar's "My checkpoint" take (:mod:`cnnviz.models.own`)."""
    state = {name: tensor.detach().cpu().contiguous().clone() for name, tensor in net.model.state_dict().items()}
    state["classifier.weight"] = torch.from_numpy(result.probe_weight.copy())
    state["classifier.bias"] = torch.from_numpy(result.probe_bias.copy())
    return state


def fine_tuned_checkpoint(net: LoadedModel, result: TransferResult) -> bytes:
    """:func:`fine_tuned_state` as the bytes of a ``.pt`` file (``torch.save``)."""
    buffer = io.BytesIO()
    torch.save(fine_tuned_state(net, result), buffer)
    return buffer.getvalue()


def class_names_file(result: TransferResult) -> str:
    """The classes' names, one a line, as ``--labels`` reads them: characters a names file may not hold
    become spaces, and a name left empty becomes ``class N``."""
    names = []
    for index, name in enumerate(result.classes):
        cleaned = "".join(" " if c in LABEL_FORBIDDEN or not c.isprintable() else c for c in name).strip()
        names.append(cleaned[:LABEL_CHARACTERS] or f"class {index}")
    return "\n".join(names) + "\n"


def _tensors(net: LoadedModel, images: tuple[Image.Image, ...], size: int) -> torch.Tensor:
    preprocess = replace(net.preprocess, resize=round(size * 256 / 224), crop=size)
    return torch.cat([preprocess(image) for image in images])


def _outcome(predicted: np.ndarray, truth: LabelledImages, seconds: float) -> Outcome:
    labels = np.array(truth.labels)
    matrix = confusion_matrix(labels, predicted, labels=list(range(len(truth.classes))))
    return Outcome(float((predicted == labels).mean()), matrix, predicted, seconds)


def transfer_lab(
    net: LoadedModel,
    train: LabelledImages,
    test: LabelledImages,
    input_size: int = 128,
    epochs: int = 15,
    seed: int = 0,
    progress: Progress | None = None,
) -> TransferResult:
    """Train both approaches on ``train`` and score them on ``test``; ``progress(done, total)`` counts
    feature batches and scratch training steps. ``net`` must be the pretrained backbone."""
    if net.spec.name != BACKBONE or not net.meaningful:
        raise CnnvizError("transfer_backbone")
    if input_size not in INPUT_SIZES or not 1 <= epochs <= 100:
        raise CnnvizError("transfer_params")
    x_train, x_test = _tensors(net, train.images, input_size), _tensors(net, test.images, input_size)
    y_train = torch.tensor(train.labels)
    steps = epochs * -(-len(train.labels) // BATCH)
    feature_batches = -(-len(x_train) // BATCH) + -(-len(x_test) // BATCH)
    total, done = feature_batches + steps, 0

    def tick() -> None:
        nonlocal done
        done += 1
        report(progress, done, total)

    start = time.perf_counter()
    backbone = net.model
    features = []
    with torch.inference_mode():
        for x in (x_train, x_test):
            parts = []
            for batch in x.split(BATCH):
                parts.append(backbone.forward_head(backbone.forward_features(net.to_input(batch)), pre_logits=True))
                tick()
            features.append(torch.cat(parts).float().cpu().numpy())
    probe = LogisticRegression(max_iter=2000).fit(features[0], np.array(train.labels))
    probe_weight, probe_bias = _probe_as_classifier(probe)
    frozen = _outcome(probe.predict(features[1]), test, time.perf_counter() - start)

    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        scratch = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=len(train.classes))
        scratch = scratch.to(net.device).train()
        optimiser = torch.optim.AdamW(scratch.parameters(), lr=1e-3)
        for _ in range(epochs):
            for batch in torch.randperm(len(y_train)).split(BATCH):
                inputs = x_train[batch].to(net.device)
                if len(batch) == 1:  # batch norm needs two samples
                    inputs, targets = inputs.repeat(2, 1, 1, 1), y_train[batch].repeat(2)
                else:
                    targets = y_train[batch]
                loss = F.cross_entropy(scratch(inputs), targets.to(net.device))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                tick()
    scratch.eval()
    with torch.inference_mode():
        predicted = torch.cat([scratch(b.to(net.device)).argmax(1).cpu() for b in x_test.split(BATCH)]).numpy()
    return TransferResult(
        train.classes,
        len(train.labels),
        len(test.labels),
        input_size,
        frozen,
        _outcome(predicted, test, time.perf_counter() - start),
        probe_weight,
        probe_bias,
    )
