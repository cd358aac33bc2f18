"""Deck 001's building blocks on a real photo and in real networks: :mod:`.operations` (a kernel slid over the
photo, ReLU and its rivals, pooling, dropout, the worked example), :mod:`.translation` (a shifted photo
through a convolution, pooling and a whole network) and :mod:`.network` (the chosen network's first
convolution, first batch normalisation and a dense layer's cost against them)."""

from cnnviz.blocks.operations import (
    DECK_INPUT,
    DECK_KERNEL,
    KERNELS,
    LUMINANCE,
    MAX_DILATION,
    MAX_KERNEL,
    MAX_PADDING,
    MAX_STRIDE,
    POOLS,
    WorkedCell,
    WorkedExample,
    convolve,
    kernel,
    output_side,
    photo_input,
    pool,
    relu,
    spelled_kernel,
    worked_example,
)

__all__ = [
    "DECK_INPUT",
    "DECK_KERNEL",
    "KERNELS",
    "LUMINANCE",
    "MAX_DILATION",
    "MAX_KERNEL",
    "MAX_PADDING",
    "MAX_STRIDE",
    "POOLS",
    "WorkedCell",
    "WorkedExample",
    "convolve",
    "kernel",
    "output_side",
    "photo_input",
    "pool",
    "relu",
    "spelled_kernel",
    "worked_example",
]
