"""Shared fixtures: real photos from skimage.data and the default model with its bundled ImageNet weights."""

from __future__ import annotations

import io
import os

import pytest
import torch
from PIL import Image

import cnnviz
from cnnviz.gallery import gallery_image

# ImageNet-1k indices 281-285: tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat.
CAT_CLASSES = range(281, 286)
ESPRESSO = 967


def pytest_configure(config):
    """Under pytest-xdist the workers share the cores: each computes on its share of them, since torch's
    threads on more cores than it has only wait for each other."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


# The engine's longest files (CI's per-file sums: 40–140 s each on two workers), handed out before the short
# ones so that no long file starts last and leaves one worker running alone; a stale name only changes order.
LONGEST_FIRST = (
    "test_incremental.py",
    "test_deconvnet.py",
    "test_cli.py",
    "test_labs.py",
    "test_featurevis.py",
    "test_localize.py",
    "test_classmaps.py",
    "test_cam_family.py",
)


def pytest_collection_modifyitems(config, items):
    """The files that drive a real server (tests/e2e) first: pytest-xdist hands files to workers in this
    order, and those spend much of their time waiting for their server while the other workers compute;
    one of them last would leave its worker running alone at the end. Then the engine's longest files
    (:data:`LONGEST_FIRST`), then the rest in their usual order."""

    def place(item) -> tuple[int, int]:
        if "e2e" in item.path.parts:
            return (0, 0)
        if item.path.name in LONGEST_FIRST:
            return (1, LONGEST_FIRST.index(item.path.name))
        return (2, 0)

    items.sort(key=place)  # stable: the order within each part stays


@pytest.fixture(scope="session")
def lite0() -> cnnviz.LoadedModel:
    """The app's default model, with the bundled weights, on the CPU."""
    return cnnviz.load("efficientnet_lite0", weights="bundled", device="cpu")


@pytest.fixture(scope="session")
def chelsea() -> Image.Image:
    return gallery_image("chelsea")


@pytest.fixture(scope="session")
def coffee() -> Image.Image:
    return gallery_image("coffee")


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    """``image`` saved in ``fmt`` as bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def cat_on_grey() -> tuple[Image.Image, slice, slice]:
    """Chelsea in the top-left quarter of a grey canvas, and where she lands in Lite0's 224 px input."""
    from cnnviz.gallery import gallery_image

    canvas = Image.new("RGB", (448, 448), (128, 128, 128))
    canvas.paste(gallery_image("chelsea").resize((224, 149)), (0, 0))
    return canvas, slice(0, 75), slice(0, 112)  # Lite0: resize 448 → 256, centre crop 224
