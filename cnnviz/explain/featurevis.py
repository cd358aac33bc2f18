"""Feature visualisation by optimisation (Olah, Mordvintsev & Schubert, "Feature Visualization", Distill
2017): the image that excites one channel (or one unit) of a layer most, grown from noise.

The parametrisation and the per-step transforms are horama's (MIT licence; its Lucid-style ``fourier``):
the image is a spectrum in a decorrelated colour space scaled by 1/f^decay (so low frequencies
dominate), and each step scores randomly jittered, scaled and noised crops of it. The loop around them is
written here (horama's own loop draws a tqdm bar and cannot report progress or stop), with what horama
leaves to its caller: a random rotation at each step, the network's own normalisation (the image lives
in [0, 1], the network sees ``(x − mean) / std``), a forward pass that stops at the layer, a first few
steps that score the layer's pre-activation (a channel silent on the starting noise has no gradient),
and a fixed seed so the same question gives the same picture for every session. horama was chosen over ``torch-lucent``:
lucent's last release pins ``kornia<=0.4.1`` (2020) and lists pytest and coveralls as run-time
dependencies; horama needs nothing beyond torch, torchvision, einops and tqdm.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from horama.common import optimization_step
from horama.fourier_fv import fourier_preconditionner, get_fft_scale, init_lucid_buffer
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.explain.graphs import check_channel, layer_module, layer_output, private_graph, run_to_layer
from cnnviz.explain.progress import Progress, report
from cnnviz.models.loading import LoadedModel

DEFAULT_STEPS = 128
MAX_STEPS = 1024
CROPS_PER_STEP = 2
MAX_ROTATION_DEG = 10.0
DECAY_POWER = 1.5  # horama's default; 1/f^1.5 favours smooth, large patterns
SCALE_JITTER = (0.85, 0.95)  # horama's crop box: a crop is 0.95–1.05 of the image side
WAKE_STEPS = 16  # steps that score the layer's pre-activation, so a channel silent on noise can wake up
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.SiLU, nn.GELU, nn.Hardswish, nn.LeakyReLU)
LEARNING_RATE = 1.0  # NAdam on the spectrum, horama's default
NOISE = 0.05  # additive noise per step, on the [0, 1] image
OBJECTIVES = ("channel", "unit")


@dataclass(frozen=True)
class FeatureVisualisation:
    """The optimised input for ``layer``'s ``channel``.

    ``pixels``: H×W×3 float32 in [0, 1] (the picture, grey for a one-channel network); ``normalised``:
    C×H×W float32 (C = the network's input channels), the same image in the network's normalised input
    space; ``activation``: the objective reached by the final image, seen whole at the network's input
    size (the channel's mean, or the centre unit's value); ``steps`` and ``seconds`` of optimisation.
    """

    layer: str
    channel: int
    objective: str
    steps: int
    seed: int
    activation: float
    seconds: float
    pixels: np.ndarray
    normalised: np.ndarray


def channel_objective(maps: torch.Tensor, channel: int, objective: str) -> torch.Tensor:
    """The value to maximise per image of ``maps`` (N×C×H×W): the channel's mean over positions, or its
    centre unit."""
    plane = maps[:, channel]
    if objective == "unit":
        return plane[:, plane.shape[1] // 2, plane.shape[2] // 2]
    return plane.mean(dim=(1, 2))


def excitation(net: LoadedModel, batch: torch.Tensor, layer: str, channel: int, objective: str = "channel") -> list:
    """The objective of ``layer``'s ``channel`` for each normalised input of ``batch`` (N×C×H×W)."""
    return channel_objective(layer_output(net, net.to_input(batch), layer), channel, objective).tolist()


def visualize(
    net: LoadedModel,
    layer: str,
    channel: int,
    steps: int = DEFAULT_STEPS,
    objective: str = "channel",
    seed: int = 0,
    progress: Progress | None = None,
) -> FeatureVisualisation:
    """The input that maximises ``objective`` of ``layer``'s ``channel``, optimised for ``steps`` steps from
    seeded noise at the network's input size. ``progress`` counts steps."""
    if objective not in OBJECTIVES:
        raise CnnvizError("featurevis_objective", objective=objective, choices=", ".join(OBJECTIVES))
    if not 1 <= steps <= MAX_STEPS:
        raise CnnvizError("featurevis_steps", steps=steps, limit=MAX_STEPS)
    graph = private_graph(net.model)
    layer_module(graph, layer, net.spec.name)
    side = net.preprocess.input_size
    device = net.device
    mean = torch.tensor(net.preprocess.mean, device=device).view(1, -1, 1, 1)
    std = torch.tensor(net.preprocess.std, device=device).view(1, -1, 1, 1)
    grey = net.spec.in_channels == 1  # LeNet-5: the colour image is optimised, the network sees its grey
    check_channel(net, layer, channel)
    generator = torch.Generator().manual_seed(seed)
    done = 0
    rectifier = final_activation(layer_module(graph, layer, net.spec.name))
    before_rectifier: list[torch.Tensor] = []
    if rectifier is not None:
        # a copy: the rectifier may work in place (ReLU6(inplace=True) in timm's EfficientNets)
        rectifier.register_forward_pre_hook(lambda module, inputs: before_rectifier.append(inputs[0].clone()))

    def score(crops: torch.Tensor) -> torch.Tensor:
        nonlocal done
        angle = (torch.rand((), generator=generator).item() * 2 - 1) * MAX_ROTATION_DEG
        crops = TF.rotate(crops, angle, interpolation=TF.InterpolationMode.BILINEAR)
        if grey:
            crops = crops.mean(dim=1, keepdim=True)
        maps = run_to_layer(graph, net.to_input((crops - mean) / std), layer, net.spec.name)
        if done < WAKE_STEPS and rectifier is not None and before_rectifier:
            maps = before_rectifier.pop()
        before_rectifier.clear()
        done += 1
        report(progress, min(done, steps), steps)
        return channel_objective(maps.float(), channel, objective).mean()

    start = time.perf_counter()
    forked = torch.random.fork_rng(devices=[device] if device.type == "cuda" else [])
    with forked, torch.enable_grad():
        torch.manual_seed(seed)
        spectrum = init_lucid_buffer(side, side).to(device).requires_grad_()
        scaler = get_fft_scale(side, side, DECAY_POWER).to(device)
        optimiser = torch.optim.NAdam([spectrum], lr=LEARNING_RATE)
        for _ in range(steps):
            optimiser.zero_grad()
            image = fourier_preconditionner(spectrum, scaler, (0.0, 1.0), device)
            loss, _ = optimization_step(score, image, SCALE_JITTER, NOISE, CROPS_PER_STEP, side)
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            image = fourier_preconditionner(spectrum, scaler, (0.0, 1.0), device)
    seconds = time.perf_counter() - start
    image = image.detach().float().clamp(0, 1)
    if grey:
        image = image.mean(dim=0, keepdim=True).expand(3, -1, -1)
    normalised = ((image[None, : net.spec.in_channels] - mean) / std)[0]
    activation = excitation(net, normalised[None].cpu(), layer, channel, objective)[0]
    return FeatureVisualisation(
        layer=layer,
        channel=channel,
        objective=objective,
        steps=steps,
        seed=seed,
        activation=activation,
        seconds=seconds,
        pixels=image.permute(1, 2, 0).cpu().numpy().astype(np.float32),
        normalised=normalised.cpu().numpy().astype(np.float32),
    )


def final_activation(module: nn.Module) -> nn.Module | None:
    """The activation module whose output is ``module``'s output (``module`` itself, the last child of a
    ``Sequential``, timm's ``act`` of a norm-and-activation layer), or None."""
    if isinstance(module, ACTIVATIONS):
        return module
    if isinstance(module, nn.Sequential) and len(module):
        return final_activation(module[-1])
    act = getattr(module, "act", None)
    norm_and_activation = type(module).__name__.startswith(("BatchNormAct", "LayerNormAct", "GroupNormAct"))
    if norm_and_activation and isinstance(act, ACTIVATIONS):
        return act
    return None
