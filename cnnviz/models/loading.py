"""``cnnviz.load(name)``: an architecture with its weights, preprocessing and labels, ready on a device."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

from cnnviz.device import select_device
from cnnviz.errors import WeightsError
from cnnviz.models.onnx_file import PREFIX, is_onnx_name, onnx_network
from cnnviz.models.own import OWN, default_labels, read_labels
from cnnviz.models.preprocess import Preprocessing
from cnnviz.models.weights import WEIGHTS_CHOICES, ResolvedWeights, WeightsSource, resolve
from cnnviz.models.zoo import DIGITS, IMAGENET, ArchSpec, get_spec
from cnnviz.texts import imagenet_class_names

DIGIT_LABELS = tuple(str(d) for d in range(10))


def imagenet_categories() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in index order, in English (torchvision's names; other languages:
    :func:`cnnviz.texts.imagenet_class_names`)."""
    return imagenet_class_names("en")


@dataclass(frozen=True)
class LoadedModel:
    """A ready network: ``model`` in eval mode on ``device``, ``preprocess`` (PIL image → 1×C×H×W tensor
    on the CPU), ``categories`` (class names by output index) and where its weights came from."""

    spec: ArchSpec
    model: nn.Module
    preprocess: Preprocessing
    categories: tuple[str, ...]
    weights_source: WeightsSource
    weights_detail: str
    device: torch.device
    weights_note: tuple[str, dict] = ("", {})  # the detail as a message key and values, for translation

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def memory_format(self) -> torch.memory_format:
        """Channels-last on CPU and CUDA (faster convolutions there), the default layout elsewhere."""
        return torch.channels_last if self.device.type in ("cpu", "cuda") else torch.contiguous_format

    def to_input(self, batch: torch.Tensor) -> torch.Tensor:
        """``batch`` (N×C×H×W) on the model's device in the model's memory format."""
        return batch.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)

    def class_names(self, lang: str = "en") -> tuple[str, ...]:
        """Class names by output index in ``lang``: ImageNet's 1,000 translated (``cnnviz/texts/classes``),
        other labels (LeNet-5's digits) as they are."""
        return imagenet_class_names(lang) if self.spec.labels == IMAGENET else self.categories

    def in_language(self, lang: str) -> LoadedModel:
        """This network with its ``categories`` in ``lang``: every label the engine writes follows."""
        return replace(self, categories=self.class_names(lang))

    @property
    def meaningful(self) -> bool:
        """False when the weights are random: predictions then say nothing about the image."""
        return self.weights_source is not WeightsSource.RANDOM


def load(
    name: str,
    weights: str = "auto",
    device: str | torch.device | None = None,
    allow_download: bool | None = None,
    labels: str | Path | None = None,
    preprocessing: Preprocessing | None = None,
) -> LoadedModel:
    """Load architecture ``name`` from the zoo.

    ``weights`` is ``"auto"`` (bundled → cached → downloaded → random), one of ``"bundled"``,
    ``"cached"``, ``"download"``, ``"random"``, or the path of a checkpoint (a state dict, ``.pt``/``.pth``
    or ``.safetensors``, with any number of classes: :mod:`cnnviz.models.own`); ``labels`` is then the path
    of its class names, one a line (default ``class 0`` … ``class N-1``). ``name`` may be ``onnx:PATH``, an
    ONNX file (:mod:`cnnviz.models.onnx_file`) that holds its own weights, with the user's
    ``preprocessing`` (default: ImageNet's at the file's input size) and ``labels`` (default: ImageNet's
    for 1,000 outputs, else ``class 0`` …). ``device`` defaults to CUDA, then
    MPS, then CPU (``CNNVIZ_DEVICE`` overrides). On CPU and CUDA the weights are stored channels-last, which
    makes convolutions up to twice as fast; feed inputs through ``to_input``.
    """
    target = device if isinstance(device, torch.device) else select_device(device)
    base = None  # an ONNX file's spec comes with its network
    if is_onnx_name(name):
        resolved = _onnx(name, weights, preprocessing, named=labels is not None)
    else:
        if preprocessing is not None:
            raise WeightsError("preprocessing_onnx_only")
        if labels is not None and weights in WEIGHTS_CHOICES:
            raise WeightsError("labels_without_weights")
        base = get_spec(name)
        resolved = resolve(base, weights, allow_download=allow_download, named=labels is not None)
    spec = resolved.spec or base
    model = resolved.model.to(target).eval()
    if target.type in ("cpu", "cuda"):
        model = model.to(memory_format=torch.channels_last)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return LoadedModel(
        spec,
        model,
        spec.preprocessing,
        _categories(spec, labels),
        resolved.source,
        resolved.detail,
        target,
        resolved.note,
    )


def _onnx(name: str, weights: str, preprocessing: Preprocessing | None, named: bool) -> ResolvedWeights:
    """The network of ONNX file ``onnx:PATH``, its weights the file's own."""
    if weights != "auto":
        raise WeightsError("onnx_weights")
    path = Path(name.removeprefix(PREFIX))
    spec, model = onnx_network(path, preprocessing, named)
    shown = f"{path.name} (SHA-256 {spec.name.split(':')[1][:16]}…)"
    return ResolvedWeights(model, WeightsSource.FILE, shown, ("file", {"file": shown}), spec)


def _categories(spec: ArchSpec, labels: str | Path | None) -> tuple[str, ...]:
    if labels is not None:
        return read_labels(Path(labels), spec.classes)
    if spec.labels == OWN:
        return default_labels(spec.classes)
    return DIGIT_LABELS if spec.labels == DIGITS else imagenet_categories()
