"""Preprocessing records: how a PIL image becomes the tensor a network sees.

A :class:`Preprocessing` is data (sizes in pixels, per-channel mean and std on the [0, 1] scale) taken
from the pretrained weights' own metadata (torchvision ``Weights.transforms()``, timm ``pretrained_cfg``),
so the crop cnnviz shows is exactly the one the weights were evaluated with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torchvision.transforms.v2.functional as F
from PIL import Image, ImageOps
from torchvision.transforms import InterpolationMode

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocessing:
    """Resize the shorter side to ``resize`` px, centre-crop ``crop`` px, pad ``pad`` px, normalise.

    ``grayscale`` networks (LeNet-5) get one channel; with ``ink_is_bright`` a light-background photo
    of a digit is inverted so the ink is bright, as in the training digits.
    """

    resize: int
    crop: int
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"
    pad: int = 0
    grayscale: bool = False
    ink_is_bright: bool = False

    @property
    def input_size(self) -> int:
        """Side of the square network input, in pixels."""
        return self.crop + 2 * self.pad

    @property
    def channels(self) -> int:
        return 1 if self.grayscale else 3

    def crop_image(self, image: Image.Image) -> Image.Image:
        """The exact picture the network sees (after resize, crop and padding, before normalisation)."""
        image = self._resized(self.converted(image), self.resize)
        return self._padded(F.center_crop(image, [self.crop]))

    def whole_image(self, image: Image.Image, short_side: int) -> Image.Image:
        """The whole photo as the network would see it at ``short_side`` px on its shorter side (padding
        included), without the centre crop: the long side keeps the aspect ratio. At the network's input
        size a square photo gives the same picture as :meth:`crop_image` when resize equals crop."""
        return self._padded(self._resized(self.converted(image), short_side - 2 * self.pad))

    def square_window(self, image: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
        """The square ``box`` (x0, y0, x1, y1 in photo px) of ``image`` resized to the network's crop and
        padded: one sliding window as the network sees it."""
        window = self.converted(image).crop(box)
        size = [self.crop, self.crop]
        return self._padded(F.resize(window, size, interpolation=InterpolationMode(self.interpolation), antialias=True))

    def converted(self, image: Image.Image) -> Image.Image:
        """``image`` in the network's mode: RGB, or grey scale with the ink made bright where asked."""
        if self.grayscale:
            image = image.convert("L")
            if self.ink_is_bright and _has_light_background(image):
                image = ImageOps.invert(image)
            return image
        return image.convert("RGB")

    def _resized(self, image: Image.Image, short_side: int) -> Image.Image:
        return F.resize(image, [short_side], interpolation=InterpolationMode(self.interpolation), antialias=True)

    def _padded(self, image: Image.Image) -> Image.Image:
        return ImageOps.expand(image, border=self.pad, fill=0) if self.pad else image

    def normalise(self, crop: Image.Image) -> torch.Tensor:
        """A crop from :meth:`crop_image` as a normalised 1×C×H×W float32 tensor."""
        tensor = F.to_dtype(F.pil_to_tensor(crop), torch.float32, scale=True)
        return F.normalize(tensor, list(self.mean), list(self.std)).unsqueeze(0)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        """PIL image → normalised 1×C×H×W float32 tensor on the CPU."""
        return self.normalise(self.crop_image(image))

    def steps(self) -> list[tuple[str, dict]]:
        """The preprocessing as (step, values) pairs, in order; :meth:`describe` words them in English."""
        steps: list[tuple[str, dict]] = []
        if self.grayscale:
            steps.append(("grey_inverted" if self.ink_is_bright else "grey", {}))
        steps.append(("resize", {"size": self.resize, "interpolation": self.interpolation}))
        steps.append(("crop", {"size": self.crop}))
        if self.pad:
            steps.append(("pad", {"pad": self.pad, "size": self.input_size}))
        steps.append(
            (
                "normalise",
                {"mean": ", ".join(f"{m:.3f}" for m in self.mean), "std": ", ".join(f"{s:.3f}" for s in self.std)},
            )
        )
        return steps

    def describe(self) -> str:
        """One line, e.g. ``resize shorter side to 256 px (bicubic) → centre crop 224 px → normalise …``."""
        return " → ".join(STEP_TEXT[step].format(**values) for step, values in self.steps())


STEP_TEXT = {
    "grey": "grey scale",
    "grey_inverted": "grey scale, inverted if the background is light",
    "resize": "resize shorter side to {size} px ({interpolation})",
    "crop": "centre crop {size} px",
    "pad": "pad {pad} px → {size} px",
    "normalise": "normalise with mean ({mean}) and std ({std})",
}


def _has_light_background(image: Image.Image) -> bool:
    """True when the border of a grey-scale image is light on average (dark ink on paper)."""
    pixels = np.asarray(image)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return float(border.mean()) > 127


def from_torchvision(weights) -> Preprocessing:
    """The preprocessing recorded in a torchvision ``Weights`` entry."""
    transforms = weights.transforms()
    return Preprocessing(
        resize=int(transforms.resize_size[0]),
        crop=int(transforms.crop_size[0]),
        mean=tuple(transforms.mean),
        std=tuple(transforms.std),
        interpolation=transforms.interpolation.value,
    )


def from_timm(pretrained_cfg) -> Preprocessing:
    """The preprocessing recorded in a timm ``PretrainedCfg`` (resize = ⌊crop / crop_pct⌋, as timm does)."""
    crop = int(pretrained_cfg.input_size[-1])
    return Preprocessing(
        resize=math.floor(crop / pretrained_cfg.crop_pct),
        crop=crop,
        mean=tuple(pretrained_cfg.mean),
        std=tuple(pretrained_cfg.std),
        interpolation=pretrained_cfg.interpolation,
    )
