"""Architectures that neither torchvision nor timm provides, written from their papers.

- :class:`LeNet5` — LeCun et al. 1998, "Gradient-based learning applied to document recognition".
- :func:`alexnet2012` — Krizhevsky et al. 2012, the paper's own layout (227×227 input, two-GPU grouping).
- :func:`zfnet` — Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks", Fig. 3.

All three are plain ``nn.Sequential`` stacks of conv / ReLU / max-pool with named modules, so the
switch-based deconvnet can walk them layer by layer.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn


class LeNet5(nn.Module):
    """LeNet-5 on a 1×32×32 input: C1 6@28×28, S2 6@14×14, C3 16@10×10, S4 16@5×5, C5 120, F6 84, 10 outputs.

    Two modernisations, as the lectures describe ("a implementação moderna usa o ReLU"): ReLU instead of
    the scaled tanh and max-pooling instead of trainable sub-sampling; C3 connects to all six S2 maps
    instead of the paper's sparse table, and the output is a linear layer instead of RBF units.
    61,706 parameters (the paper's 60,840).
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                c1=nn.Conv2d(1, 6, kernel_size=5),
                relu1=nn.ReLU(inplace=True),
                s2=nn.MaxPool2d(kernel_size=2, stride=2),
                c3=nn.Conv2d(6, 16, kernel_size=5),
                relu3=nn.ReLU(inplace=True),
                s4=nn.MaxPool2d(kernel_size=2, stride=2),
                c5=nn.Conv2d(16, 120, kernel_size=5),
                relu5=nn.ReLU(inplace=True),
            )
        )
        self.classifier = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                f6=nn.Linear(120, 84),
                relu6=nn.ReLU(inplace=True),
                output=nn.Linear(84, num_classes),
            )
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def _local_response_norm() -> nn.LocalResponseNorm:
    """The 2012 paper's normalisation: k=2, n=5, α=1e-4, β=0.75."""
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)


def _classifier(in_features: int, num_classes: int) -> nn.Sequential:
    """FC 4096 → 4096 → classes with dropout 0.5 before each of the first two, as in both papers."""
    return nn.Sequential(
        OrderedDict(
            flatten=nn.Flatten(),
            dropout6=nn.Dropout(p=0.5),
            fc6=nn.Linear(in_features, 4096),
            relu6=nn.ReLU(inplace=True),
            dropout7=nn.Dropout(p=0.5),
            fc7=nn.Linear(4096, 4096),
            relu7=nn.ReLU(inplace=True),
            fc8=nn.Linear(4096, num_classes),
        )
    )


class _ConvClassifier(nn.Module):
    """``features`` then ``classifier``: the torchvision layout, so both share tooling with AlexNet/VGG."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential) -> None:
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(self.features(x))


def alexnet2012(num_classes: int = 1000) -> nn.Module:
    """AlexNet as in Krizhevsky, Sutskever & Hinton 2012 on a 3×227×227 input.

    Output sizes 55, 27, 27, 13, 13, 13, 13, 6; filters 96-256-384-384-256; conv2, conv4 and conv5 are
    split in two groups (the two GPUs), conv3 and the FC layers connect across both.
    """
    features = nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(3, 96, kernel_size=11, stride=4),
            relu1=nn.ReLU(inplace=True),
            norm1=_local_response_norm(),
            pool1=nn.MaxPool2d(kernel_size=3, stride=2),
            conv2=nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2),
            relu2=nn.ReLU(inplace=True),
            norm2=_local_response_norm(),
            pool2=nn.MaxPool2d(kernel_size=3, stride=2),
            conv3=nn.Conv2d(256, 384, kernel_size=3, padding=1),
            relu3=nn.ReLU(inplace=True),
            conv4=nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2),
            relu4=nn.ReLU(inplace=True),
            conv5=nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2),
            relu5=nn.ReLU(inplace=True),
            pool5=nn.MaxPool2d(kernel_size=3, stride=2),
        )
    )
    return _ConvClassifier(features, _classifier(256 * 6 * 6, num_classes))


def zfnet(num_classes: int = 1000) -> nn.Module:
    """ZFNet as in Zeiler & Fergus 2014, Fig. 3, on a 3×224×224 input.

    conv1 96 filters 7×7 stride 2 (110×110), pool 3×3/2 (55×55), conv2 256 5×5 stride 2 (26×26),
    pool (13×13), conv3-5 384-384-256 3×3 (13×13), pool (6×6), FC 4096-4096-1000. Pooling rounds up
    (Caffe's convention) to reach the paper's 55 and 13; contrast normalisation follows layers 1 and 2.
    """
    features = nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1),
            relu1=nn.ReLU(inplace=True),
            pool1=nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            norm1=_local_response_norm(),
            conv2=nn.Conv2d(96, 256, kernel_size=5, stride=2),
            relu2=nn.ReLU(inplace=True),
            pool2=nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            norm2=_local_response_norm(),
            conv3=nn.Conv2d(256, 384, kernel_size=3, padding=1),
            relu3=nn.ReLU(inplace=True),
            conv4=nn.Conv2d(384, 384, kernel_size=3, padding=1),
            relu4=nn.ReLU(inplace=True),
            conv5=nn.Conv2d(384, 256, kernel_size=3, padding=1),
            relu5=nn.ReLU(inplace=True),
            pool5=nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        )
    )
    return _ConvClassifier(features, _classifier(256 * 6 * 6, num_classes))


# VGG configurations of Simonyan & Zisserman 2015, Table 1: numbers are 3×3 convolutions, "1:N" a 1×1
# convolution with N filters, "M" a 2×2 max-pool. torchvision builds A, B, D and E; C exists only here.
VGG_CONFIGURATIONS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, "1:256", "M", 512, 512, "1:512", "M", 512, 512, "1:512", "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def vgg_configuration(letter: str, num_classes: int = 1000) -> nn.Module:
    """VGG configuration ``letter`` (A–E) of the paper's Table 1, as torchvision's ``VGG`` class."""
    from torchvision.models.vgg import VGG

    layers: list[nn.Module] = []
    channels = 3
    for item in VGG_CONFIGURATIONS[letter]:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        one_by_one = isinstance(item, str)
        width = int(item.split(":")[1]) if one_by_one else item
        layers += [nn.Conv2d(channels, width, kernel_size=1 if one_by_one else 3, padding=0 if one_by_one else 1)]
        layers += [nn.ReLU(inplace=True)]
        channels = width
    return VGG(nn.Sequential(*layers), num_classes=num_classes, init_weights=False)
