"""Backward rules for rectifiers: the deconvnet and guided backpropagation as modified gradients.

Springenberg et al. (2015, "Striving for Simplicity", Fig. 1) show that Zeiler & Fergus's deconvnet is
the gradient of a unit with respect to the input in which every ReLU passes back the *rectified signal*
``relu(g)`` instead of ``g · [x > 0]``; guided backpropagation applies both, ``relu(g) · [x > 0]``.
Every rectifier is treated as a ReLU in the backward pass: ReLU6's upper clip and SiLU's smooth
negative part are ignored (a saturated ReLU6 unit would otherwise pass nothing back).
Max-pooling's gradient is already unpooling with switches and a convolution's gradient is the
transposed convolution with the same filters, so only the rectifiers change.

:class:`RectifierRule` applies a rule to *every* rectifier call of a forward pass — ``nn.ReLU`` modules,
ReLU modules reused inside a block, functional ``F.relu`` (GoogLeNet, Inception v3, DenseNet),
``ReLU6`` (MobileNetV2, EfficientNet-Lite) and ``SiLU`` (EfficientNet-B0, treated as a rectifier) —
by intercepting torch functions rather than hooking modules. captum's guided backprop and deconvolution
hook ``nn.ReLU`` modules only, and would silently fall back to the plain gradient for the functional
ReLUs and ReLU6 of half the zoo; hence this module. Local response normalisation passes the signal
through unchanged, as in the ZF deconvnet. Torch function modes are thread-local: a rule active in one
thread never changes a forward pass in another.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

RULES = ("deconvnet", "guided")

_RELUS = {F.relu, torch.relu, torch.Tensor.relu, F.relu_, torch.relu_, torch.Tensor.relu_}
_OTHER_RECTIFIERS = {F.relu6, F.silu, F.hardtanh}
_STRAIGHT_THROUGH = {F.local_response_norm}


class _RectifiedSignal(torch.autograd.Function):
    """The deconvnet rule: ``y`` forward, the rectified signal ``relu(g)`` backward."""

    @staticmethod
    def forward(ctx, x, y):
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp(min=0), None


class _Guided(torch.autograd.Function):
    """The guided rule: ``y`` forward, ``relu(g) · [x > 0]`` backward."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x > 0)
        return y

    @staticmethod
    def backward(ctx, grad):
        (active,) = ctx.saved_tensors
        return grad.clamp(min=0) * active, None


class _StraightThrough(torch.autograd.Function):
    """``y`` forward; the signal passes back unchanged."""

    @staticmethod
    def forward(ctx, x, y):
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class RectifierRule(TorchFunctionMode):
    """Within ``with RectifierRule("deconvnet"):`` (or ``"guided"``) gradients follow that rule.

    ``rectifier_calls`` counts the rectifiers the rule replaced (with an input that needs a gradient).
    """

    def __init__(self, rule: str) -> None:
        super().__init__()
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, not {rule!r}")
        self.guided = rule == "guided"
        self.rectifier_calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if not (args and isinstance(args[0], torch.Tensor) and args[0].requires_grad):
            return func(*args, **kwargs)
        if func in _STRAIGHT_THROUGH:
            with torch.no_grad():
                y = func(*args, **kwargs)
            return _StraightThrough.apply(args[0], y)
        if func not in _RELUS and func not in _OTHER_RECTIFIERS:
            return func(*args, **kwargs)
        if func is F.hardtanh and _arg(args, kwargs, 1, "min_val", -1.0) != 0:
            return func(*args, **kwargs)  # a clamp, not a rectifier
        self.rectifier_calls += 1
        plain = _OUT_OF_PLACE.get(func, func)
        extra = args[1:3] if plain is F.hardtanh else ()  # min_val, max_val; never ``inplace``
        options = {k: v for k, v in kwargs.items() if k != "inplace"}
        x = args[0]
        with torch.no_grad():
            y = plain(x, *extra, **options)
        return (_Guided if self.guided else _RectifiedSignal).apply(x, y)


# In-place rectifiers run out of place under a rule: autograd may still need their input.
_OUT_OF_PLACE = {
    F.relu_: F.relu,
    torch.relu_: F.relu,
    torch.Tensor.relu_: F.relu,
    torch.relu: F.relu,
    torch.Tensor.relu: F.relu,
}


def _arg(args, kwargs, index, name, default):
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default
