"""Data randomisation (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018): the same network
trained on the same data with its labels shuffled can only memorise; what it "sees" in a digit is nothing a
digit means. A map that looks the same for that network as for the one trained on the true labels explains
the input, not what the network learnt.

The pair is the bundled LeNet-5 (``lenet5_digits.pt``, all 450 held-out digits right) and the same
architecture trained by ``scripts/train_lenet5.py --shuffle-labels`` on the same 1,347 training digits with
their labels permuted (seed :data:`SHUFFLE_SEED`; it reaches 100 % on those shuffled labels and chance on the
held-out ones: 9.6 %), shipped as ``lenet5_shuffled_labels.pt`` (250 KB; a minute of training on one core).
Each method's map of one digit, for the class the real network predicts, on both networks; similarity as in
:mod:`cnnviz.trust.randomisation` (Spearman's rank correlation of absolute values, SSIM). One digit's figure
varies (Grad-CAM's from −0.64 to 0.74 over the ten first held-out digits): the page
and the documentation read the mean over those ten (:func:`over_held_out_digits`, :func:`mean_similarity`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
import torch
from PIL import Image

from cnnviz.explain.progress import Progress, report
from cnnviz.models.bundled import asset_path
from cnnviz.models.loading import LoadedModel
from cnnviz.predict import predict
from cnnviz.trust.evidence import evidence_map
from cnnviz.trust.randomisation import INTEGRAL_STEPS, rank_correlation, structural_similarity

SHUFFLE_SEED = 0
SHUFFLED_FILE = "lenet5_shuffled_labels.pt"
ARCHITECTURE = "lenet5"
DIGITS = tuple(range(10))  # the check's digits: the first held-out one of each class


def shuffled_labels(labels: torch.Tensor) -> torch.Tensor:
    """``labels`` permuted with :data:`SHUFFLE_SEED`: the same classes in the same numbers, each on a digit
    chosen at random."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SHUFFLE_SEED))
    return labels[order]


def shuffled_twin(net: LoadedModel) -> LoadedModel:
    """The bundled LeNet-5 ``net`` on a private copy whose weights are those learnt from shuffled labels."""
    if net.spec.name != ARCHITECTURE:
        raise ValueError(f"data randomisation is shipped for {ARCHITECTURE}, not {net.spec.name}")
    model = copy.deepcopy(net.model)
    state = torch.load(asset_path(SHUFFLED_FILE), map_location=net.device, weights_only=True)
    model.load_state_dict(state)
    return replace(net, model=model.eval())


@dataclass(frozen=True)
class DataRandomisation:
    """Each method's map on the network trained on true labels (``trained``) and on shuffled ones
    (``shuffled``), both H×W at the input, for class ``target``, with their similarity."""

    target: int
    trained: dict[str, np.ndarray]
    shuffled: dict[str, np.ndarray]
    spearman: dict[str, float]
    ssim: dict[str, float]

    def as_dict(self, method: str) -> dict:
        """One method's figures as the CLI's JSON prints them."""
        return {
            "method": method,
            "target": self.target,
            "spearman": self.spearman[method],
            "ssim": self.ssim[method],
        }


def data_randomisation(
    net: LoadedModel,
    image: Image.Image,
    methods: tuple[str, ...],
    target: int,
    progress: Progress | None = None,
    twin: LoadedModel | None = None,
) -> DataRandomisation:
    """Each of ``methods``' evidence for class ``target`` on ``image`` from LeNet-5 ``net`` and from its
    shuffled-label ``twin`` (default: :func:`shuffled_twin`, loaded for this call). ``progress`` counts maps."""
    twin = twin or shuffled_twin(net)
    trained, shuffled = {}, {}
    for i, method in enumerate(methods):
        trained[method] = evidence_map(net, image, method, target, steps=INTEGRAL_STEPS)
        shuffled[method] = evidence_map(twin, image, method, target, steps=INTEGRAL_STEPS)
        report(progress, i + 1, len(methods))
    spearman = {m: rank_correlation(trained[m], shuffled[m]) for m in methods}
    ssim = {m: structural_similarity(trained[m], shuffled[m]) for m in methods}
    return DataRandomisation(target, trained, shuffled, spearman, ssim)


def over_held_out_digits(
    net: LoadedModel, methods: tuple[str, ...], progress: Progress | None = None
) -> list[DataRandomisation]:
    """:func:`data_randomisation` on the first held-out digit of each class (:data:`DIGITS`, in order), each
    for the class ``net`` reads there; the twin is loaded once. ``progress`` counts digits."""
    twin = shuffled_twin(net)
    found = []
    for digit in DIGITS:
        image = held_out_digit(digit)[0]
        target = predict(net, image).scores[0].index
        found.append(data_randomisation(net, image, methods, target, twin=twin))
        report(progress, digit + 1, len(DIGITS))
    return found


def mean_similarity(pairs: list[DataRandomisation], method: str) -> tuple[float, float]:
    """``method``'s Spearman and SSIM averaged over ``pairs`` (one digit's figure varies widely)."""
    return (
        float(np.mean([pair.spearman[method] for pair in pairs])),
        float(np.mean([pair.ssim[method] for pair in pairs])),
    )


def held_out_digit(digit: int) -> tuple[Image.Image, int]:
    """The first held-out digit (neither network trained on it) whose true label is ``digit``, as a picture
    LeNet-5's preprocessing takes (8×8 ink scaled to 0–255 grey), and its index in scikit-learn's digits."""
    from cnnviz.digits import digit_arrays, split_indices

    images, labels = digit_arrays()
    index = int(next(i for i in split_indices()[1] if labels[i] == digit))
    return Image.fromarray((images[index] * (255 / 16)).astype(np.uint8)), index
