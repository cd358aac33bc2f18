"""Shared fixtures: real photos from skimage.data and the default model with its bundled ImageNet weights."""

from __future__ import annotations

import io
import os
import subprocess

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

import cnnviz
from cnnviz.gallery import gallery_image

# ImageNet-1k indices 281-285: tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat.
CAT_CLASSES = range(281, 286)
ESPRESSO = 967


def pytest_configure(config):
    """Under pytest-xdist the workers share the cores: each computes on its share of them, and so do the
    processes it starts (a Streamlit server, the command line), through ``OMP_NUM_THREADS``. torch's
    threads on more cores than they have only wait for each other: a server computing on both cores beside
    the other worker made that worker's files up to 1.7× slower (CI, 2 cores)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        share = max(1, (os.cpu_count() or 1) // workers)
        torch.set_num_threads(share)
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(share)


# The longest files by CI's per-file sums on two workers, longest first (browser files 15–105 s, engine files
# 10–120 s): a long file handed out last would leave the other worker idle. A stale name only changes the order.
LONGEST_BROWSER_FILES = (
    "test_deploy.py",  # two replicas, nginx, Redis and a class of four browsers
    "test_pages_browser.py",
    "test_hostile_browser.py",
    "test_deconvnet_browser.py",
    "test_occlusion_browser.py",
    "test_labs_browser.py",
    "test_localize_browser.py",
    "test_questions_browser.py",
    "test_languages_browser.py",
    "test_switch_browser.py",
    "test_trust_browser.py",
    "test_blocks_browser.py",
    "test_own_network_browser.py",
    "test_predict_browser.py",
)
LONGEST_ENGINE_FILES = (  # longest first; files left out are short and go last
    "test_app_fuzz.py",  # first: a random walk's time varies most (10–50 s)
    "test_incremental.py",
    "test_deconvnet.py",
    "test_cli.py",
    "test_localize.py",
    "test_labs.py",
    "test_deconvnet_view.py",
    "test_classmaps.py",
    "test_featurevis.py",
    "test_zoo.py",
    "test_layer_views.py",
    "test_class_mode.py",
    "test_cam_family.py",
    "test_occlusion.py",
    "test_image_memory.py",
    "test_trust_view.py",
    "test_hostile_input.py",
    "test_trust.py",
    "test_onnx_files.py",
    "test_hardware_view.py",
    "test_lab_views.py",
    "test_images.py",
    "test_predict_page.py",
    "test_result_memory.py",
)


def architecture_sweep(covered_by: dict[str, str] | None = None, *extra) -> list:
    """Every zoo architecture as a pytest parameter (with ``extra`` values after the name, if given). Under
    ``-m slow`` only: siblings with the same layers (``same_layers_as``), and the networks of ``covered_by``,
    each mapped to the network of the same sweep whose operators (and head) it repeats, so CI keeps one
    network per kind of layer."""
    covered_by = covered_by or {}
    params = []
    for name, spec in cnnviz.ARCHITECTURES.items():
        values = (name, *extra) if extra else (name,)
        if spec.same_layers_as or name in covered_by:
            params.append(pytest.param(*values, marks=pytest.mark.slow))
        else:
            params.append(values if extra else name)
    return params


def pytest_collection_modifyitems(config, items):
    """Hand out the files so that a browser file and an engine file run side by side: a browser file spends
    much of its time waiting for its server and Chromium, which leaves a core to an engine file that
    computes. pytest-xdist gives each worker files in this order (``--no-loadscope-reorder`` keeps it; its
    default orders files by their number of tests), two to start with: so the longest browser files
    alternate with the longest engine files, then the remaining browser files, then the rest (short files,
    so that no long file starts last and leaves one worker running alone)."""
    browser = list(LONGEST_BROWSER_FILES)
    for item in items:
        if "e2e" in item.path.parts and item.path.name not in browser:
            browser.append(item.path.name)
    engine = list(LONGEST_ENGINE_FILES)
    order: list[str] = []
    for pair in zip(browser, engine, strict=False):
        order.extend(pair)
    order += browser[len(engine) :] + engine[len(browser) :]

    def place(item) -> int:
        return order.index(item.path.name) if item.path.name in order else len(order)

    items.sort(key=place)  # stable: the order within each file, and of the rest, stays


@pytest.fixture
def cli(capsys, monkeypatch):
    """``cnnviz.cli.main(args)`` in this process, with the result shaped like ``tests.test_cli.run_cli``'s
    (a ``subprocess.CompletedProcess``)."""
    from cnnviz.cli import main

    monkeypatch.setenv("CNNVIZ_DEVICE", "cpu")

    def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


@pytest.fixture(scope="session")
def lite0() -> cnnviz.LoadedModel:
    """The app's default model, with the bundled weights, on the CPU."""
    return cnnviz.load("efficientnet_lite0", weights="bundled", device="cpu")


CLASSES = {"my cat": 281, "my teapot": 849, "my espresso": 967}  # names → ImageNet rows (tabby, teapot, espresso)


@pytest.fixture(scope="session")
def three_classes(tmp_path_factory, lite0):
    """A three-class Lite0 checkpoint saved as training scripts do (wrapped, DataParallel's prefix), the same
    weights as safetensors, and the names file."""
    folder = tmp_path_factory.mktemp("own")
    state = {name: tensor.contiguous().clone() for name, tensor in lite0.model.state_dict().items()}
    rows = list(CLASSES.values())
    state["classifier.weight"] = state["classifier.weight"][rows].clone()
    state["classifier.bias"] = state["classifier.bias"][rows].clone()
    torch.save({"epoch": 3, "model": {f"module.{k}": v for k, v in state.items()}}, folder / "mine.pt")
    save_file(state, folder / "mine.safetensors")
    (folder / "names.txt").write_text("\n".join(CLASSES) + "\n\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def onnx_files(tmp_path_factory, lite0):
    """Lite0 exported to ONNX with its real weights (``lite0.onnx``), a three-class Lite0 (the rows of
    :data:`CLASSES`, ``mine.onnx``) and the names file."""
    import copy

    from cnnviz.models.onnx_file import export

    folder = tmp_path_factory.mktemp("onnx")
    model = copy.deepcopy(lite0.model)
    export(model, folder / "lite0.onnx")
    rows = list(CLASSES.values())
    head = torch.nn.Linear(1280, len(rows))
    with torch.no_grad():
        head.weight.copy_(model.classifier.weight[rows])
        head.bias.copy_(model.classifier.bias[rows])
    model.classifier = head
    export(model, folder / "mine.onnx")
    (folder / "names.txt").write_text("\n".join(CLASSES) + "\n", encoding="utf-8")
    return folder


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
