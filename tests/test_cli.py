"""``python -m cnnviz`` as a lecturer runs it: real processes, real photos, one-line errors.

Every command runs through ``cnnviz.cli.main`` in this process (the ``cli`` fixture): the same code path
and output, without a Python start and torch import per case (about 5 s each on a 2-core machine). Real
processes run the entry point itself (``python -m cnnviz`` and the installed ``cnnviz`` command) and the
inputs that would hang this process were they opened (a pipe, ``/dev/zero``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import cnnviz
from cnnviz.explain import CLASS_MAPS
from tests.conftest import CAT_CLASSES, ESPRESSO

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnnviz", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CNNVIZ_DEVICE": "cpu", **(env or {})},
    )


@pytest.fixture(scope="module")
def photos(tmp_path_factory, chelsea, coffee) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    chelsea.save(folder / "chelsea.jpg", quality=92)
    coffee.save(folder / "coffee.png")
    (folder / "notes.txt").write_text("not an image")
    (folder / "empty.jpg").write_bytes(b"")
    return {p.stem: p for p in folder.iterdir()}


def test_predict_json_on_real_photos(cli, photos):
    cat = cli("predict", str(photos["chelsea"]), "--json")
    assert cat.returncode == 0, cat.stderr
    rows = json.loads(cat.stdout)
    assert [set(r) for r in rows] == [{"rank", "index", "label", "prob"}] * 5
    assert rows[0]["index"] in CAT_CLASSES
    espresso = json.loads(cli("predict", str(photos["coffee"]), "--json", "--top", "3").stdout)
    assert len(espresso) == 3 and espresso[0]["index"] == ESPRESSO and espresso[0]["label"] == "espresso"


def test_lang_names_the_classes_and_the_errors_in_that_language(cli, photos, tmp_path):
    from cnnviz.texts import imagenet_class_names

    english = json.loads(cli("predict", str(photos["coffee"]), "--json").stdout)
    for lang in ("pt", "es"):
        rows = json.loads(cli("predict", str(photos["coffee"]), "--json", "--lang", lang).stdout)
        assert [r["index"] for r in rows] == [r["index"] for r in english]
        assert [r["label"] for r in rows] == [imagenet_class_names(lang)[r["index"]] for r in rows]
    assert rows[0]["label"] == "café expreso"
    table = cli("predict", str(photos["coffee"]), "--lang", "pt", "--top", "1").stdout
    assert "café expresso (espresso, class 967)" in table  # the English name beside, to look it up by
    boxes = json.loads(cli("localize", str(photos["coffee"]), "--method", "cam", "--json", "--lang", "es").stdout)
    assert boxes[0]["label"] == imagenet_class_names("es")[boxes[0]["class"]]
    refused = cli("predict", str(tmp_path / "missing.jpg"), "--lang", "es")
    assert refused.returncode == 2 and refused.stderr.startswith("cnnviz: error: No existe el archivo")


def test_the_entry_points_answer_as_the_function_does(cli, photos):
    """``python -m cnnviz`` and the installed ``cnnviz`` command are real processes that print what
    ``main`` prints, and a refusal exits 2 there too."""
    in_process = cli("predict", str(photos["chelsea"]), "--json")
    module = run_cli("predict", str(photos["chelsea"]), "--json")
    assert module.returncode == 0, module.stderr
    ours, theirs = json.loads(in_process.stdout), json.loads(module.stdout)
    assert [(r["index"], r["label"]) for r in ours] == [(r["index"], r["label"]) for r in theirs]
    assert [r["prob"] for r in ours] == pytest.approx([r["prob"] for r in theirs], abs=1e-5)  # thread counts differ
    command = shutil.which("cnnviz", path=str(Path(sys.executable).parent))
    assert command, "the cnnviz command is not installed beside this Python (pip install -e .)"
    refused = subprocess.run([command, "predict", str(photos["chelsea"]), "--top", "0"], capture_output=True, text=True)
    assert refused.returncode == 2 and refused.stderr.startswith("cnnviz: error:") and refused.stdout == ""


def test_predict_table_names_weights_and_device(cli, photos):
    result = cli("predict", str(photos["coffee"]))
    assert result.returncode == 0
    assert "weights: bundled" in result.stdout and "device: cpu" in result.stdout
    assert "espresso" in result.stdout.splitlines()[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "{notes}"], "not an image"),
        (["predict", "{empty}"], "empty"),
        (["predict", "/no/such/photo.jpg"], "no file"),
        (["predict", "{chelsea}", "--top", "0"], "from 1 to 1,000"),
        (["predict", "{chelsea}", "--top", "5000"], "from 1 to 1,000"),
        (["predict", "{chelsea}", "--arch", "resnet9000"], "Unknown architecture"),
        (["predict", "{chelsea}", "--weights", "/no/such/weights.pt"], "neither a file"),
        (["predict", "{chelsea}", "--device", "cuda:7"], "cuda"),
    ],
)
def test_bad_input_exits_2_with_one_line_on_stderr(cli, photos, args, message):
    result = cli(*[a.format(**{k: str(v) for k, v in photos.items()}) for a in args])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnviz: error:")
    assert message in lines[0]
    assert result.stdout == ""


def test_warm_without_the_apps_packages_says_which_to_install(cli, tmp_path, monkeypatch):
    """An engine-only install (``pip install cnnviz``) lacks websocket-client: one line naming the extra."""
    lecture = tmp_path / "lecture.txt"
    lecture.write_text("http://127.0.0.1:1/occlusion?arch=lenet5&image=digit\n")
    monkeypatch.delitem(sys.modules, "cnnviz.streamlit_session", raising=False)
    monkeypatch.setitem(sys.modules, "websocket", None)  # as if not installed: importing it fails
    result = cli("warm", str(lecture), "--url", "http://127.0.0.1:1")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'cnnviz[app]'" in lines[0] and "websocket" in lines[0], lines


def test_random_weights_are_flagged(cli, photos):
    result = cli("predict", str(photos["chelsea"]), "--arch", "zfnet", "--json")
    assert result.returncode == 0
    assert len(json.loads(result.stdout)) == 5
    assert "random weights" in result.stderr


def test_archs_lists_every_architecture_with_parameters_and_status(cli):
    result = cli("archs", "--json")
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert len(rows) == 27
    assert rows["vgg16"]["params"] == 138_357_544
    assert rows["efficientnet_lite0"]["weights"] == "bundled"
    assert rows["lenet5"]["weights"] == "bundled"
    assert rows["zfnet"]["weights"] == "none"


def test_fetch_offline_says_what_failed(cli, tmp_path):
    result = cli("fetch", "resnet18", "zfnet", "efficientnet_lite0", env={"TORCH_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "resnet18: cannot reach download.pytorch.org" in result.stderr
    assert "zfnet: no published weights" in result.stdout
    assert "efficientnet_lite0: bundled" in result.stdout
    assert cli("fetch").returncode == 2


def test_layers_json_has_the_documented_fields(cli):
    result = cli("layers", "alexnet2012", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {"name", "type", "out_shape", "params", "macs", "act_elems", "rf", "jump"} <= set(rows[0])
    conv1 = rows[0]
    assert (conv1["name"], conv1["out_shape"], conv1["params"], conv1["rf"], conv1["jump"]) == (
        "features.conv1",
        [96, 55, 55],
        34_944,
        [11, 11],
        [4, 4],
    )
    assert sum(r["params"] for r in rows) == 60_965_224


def test_layers_table_and_csv(cli):
    table = cli("layers", "vgg16")
    assert table.returncode == 0
    assert "138,357,544 parameters" in table.stdout and "global" in table.stdout
    csv = cli("layers", "resnet18", "--input", "160", "--format", "csv")
    header, first = csv.stdout.splitlines()[:2]
    assert header.startswith("name,type,kernel,stride,padding,groups,out_shape")
    assert first.startswith("conv1,Conv2d,7×7,2,3,1,64×80×80")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["layers", "vgg16", "--input", "3"], "from 16 to 1,024"),
        (["layers", "nope"], "Unknown architecture"),
        (["layers", "alexnet2012", "--input", "32"], "cannot run"),
    ],
)
def test_layers_bad_input(cli, args, message):
    result = cli(*args)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_occlusion_writes_map_a_and_an_overlay(cli, photos, tmp_path):
    npy, png = tmp_path / "map.npy", tmp_path / "map.png"
    result = cli(
        "occlusion", str(photos["coffee"]), "--window", "64", "--stride", "32", "--target", "967", "--out", str(npy)
    )
    assert result.returncode == 0, result.stderr
    assert "6×6 positions" in result.stdout and "target 967 (espresso)" in result.stdout
    grid = np.load(npy)
    assert grid.shape == (6, 6) and grid.dtype == np.float32 and 0 < grid.min() < grid.max() <= 1
    assert (
        cli("occlusion", str(photos["coffee"]), "--window", "112", "--stride", "112", "--out", str(png)).returncode == 0
    )
    assert Image.open(png).size == (224, 224)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stride", "1"], "Stride 2 gives"),
        (["--window", "0"], "--window: '0' is not a whole number from 1"),
        (["--fill", "pink"], "invalid choice: 'pink'"),
        (["--out", "map.txt"], "must end in .npy or .png"),
        (["--layer", "nope"], "no layer"),
    ],
)
def test_occlusion_bad_input(cli, photos, args, message):
    result = cli("occlusion", str(photos["chelsea"]), "--window", "32", *args)
    assert result.returncode == 2 and message in result.stderr.strip().splitlines()[-1]


def test_deconv_writes_the_raw_projection_of_the_strongest_unit(cli, photos, tmp_path, lite0, chelsea):
    from cnnviz.explain.deconvnet import project

    out = tmp_path / "projection.npy"
    result = cli("deconv", str(photos["chelsea"]), "--layer", "blocks.5.3", "--channel", "34", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "channel 34 · unit (row" in result.stdout and "method backward" in result.stdout
    pixels = np.load(out)
    assert pixels.shape == (3, 224, 224) and pixels.dtype == np.float32
    expected = project(lite0, Image.open(photos["chelsea"]).convert("RGB"), "blocks.5.3", [34])[0].pixels
    np.testing.assert_allclose(pixels, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())
    png = tmp_path / "projection.png"
    result = cli("deconv", str(photos["chelsea"]), "--whole-map", "--out", str(png))
    assert result.returncode == 0, result.stderr
    assert "whole map" in result.stdout and Image.open(png).size == (224, 224)


def test_deconv_on_a_sequential_network_uses_the_papers_procedure(cli, photos):
    result = cli("deconv", str(photos["chelsea"]), "--arch", "alexnet", "--layer", "features.11")
    assert result.returncode == 0, result.stderr
    assert "method zf" in result.stdout and "random weights" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer", "blocks.99"], "has no layer 'blocks.99'"),
        (["--layer", "classifier"], "no spatial output"),
        (["--channel", "5000"], "Channel must be between 0 and"),
        (["--method", "zf"], "plain convolution"),
        (["--out", "x.jpg"], "--out must end in .npy or .png"),
    ],
)
def test_deconv_bad_input(cli, photos, args, message):
    result = cli("deconv", str(photos["chelsea"]), *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("method", "arch", "photo", "header"),
    [
        ("saliency", "efficientnet_lite0", "chelsea", "EfficientNet-Lite0 · saliency · class 282 (tiger cat)"),
        ("integrated", "lenet5", "digit", "LeNet-5 · integrated · class 3 (3)"),  # 64 gradient passes or more
    ],
    ids=["saliency", "integrated"],
)
def test_classmap_writes_the_same_map_as_the_engine(cli, photos, tmp_path, method, arch, photo, header):
    from cnnviz.gallery import gallery_image

    path = tmp_path / "digit.png"
    if photo == "digit":
        gallery_image("digit").save(path)
    else:
        path = photos[photo]
    out = tmp_path / "map.npy"
    result = cli("classmap", str(path), "--arch", arch, "--method", method, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(header), result.stdout
    expected = CLASS_MAPS[method](cnnviz.load(arch, device="cpu"), Image.open(path).convert("RGB"))
    np.testing.assert_allclose(np.load(out), expected.values, rtol=1e-4, atol=1e-6 * expected.values.max())
    if method == "integrated":
        assert f"{expected.steps} steps, attributions add up to the logit's change within" in result.stdout


@pytest.mark.parametrize("method", ["gradcampp", "scorecam", "layercam", "eigencam", "ablationcam"])
def test_the_cam_family_writes_the_engines_map(cli, photos, tmp_path, lite0, chelsea, method):
    out = tmp_path / f"{method}.npy"
    args = ("--layer", "blocks.2.1", "--target", "281")
    result = cli("classmap", str(photos["chelsea"]), "--method", method, *args, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"{method} · class 281 (tabby)" in result.stdout and "layer blocks.2.1" in result.stdout
    written = np.load(out)
    engine = CLASS_MAPS[method](lite0, Image.open(photos["chelsea"]), layer="blocks.2.1", target=281).values
    assert written.shape == (224, 224) and written.dtype == np.float32
    np.testing.assert_allclose(written, engine, atol=1e-5)


def test_classmap_draws_grad_cam_over_the_crop(cli, photos, tmp_path):
    png = tmp_path / "cam.png"
    result = cli("classmap", str(photos["chelsea"]), "--layer", "blocks.5", "--target", "281", "--out", str(png))
    assert result.returncode == 0, result.stderr
    assert "gradcam · class 281 (tabby" in result.stdout and "layer blocks.5" in result.stdout
    assert Image.open(png).size == (224, 224)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "lime"], "invalid choice: 'lime'"),
        (["--target", "1000"], "between 0 and 999"),
        (["--layer", "blocks.99"], "has no layer 'blocks.99'"),
        (["--out", "x.gif"], "must end in .npy or .png"),
    ],
)
def test_classmap_bad_input(cli, photos, args, message):
    result = cli("classmap", str(photos["chelsea"]), *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_patches_searches_a_folder_and_skips_what_is_not_an_image(cli, photos, tmp_path):
    out = tmp_path / "patches.png"
    folder = photos["chelsea"].parent
    result = cli("patches", str(folder), "--layer", "blocks.3.2", "--channel", "4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("skipped 2 of 4 files: empty.jpg (The file is empty")
    assert "; notes.txt (This file is not an image" in result.stderr
    ranks = [line for line in result.stdout.splitlines() if line[:2].rstrip(".").isdigit()]
    assert len(ranks) == 9 and all(("chelsea.jpg" in r) or ("coffee.png" in r) for r in ranks)
    assert Image.open(out).size[0] > 0


# --- hostile input: checked before any work, refused in one line ---


@pytest.fixture(scope="module")
def hostile_paths(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    fifo = folder / "photo.jpg"
    os.mkfifo(fifo)  # nobody ever writes to it: reading it would block for ever
    sparse = folder / "scan.jpg"
    with open(sparse, "wb") as handle:
        handle.truncate(30 * 2**20)  # 30 MB on paper, nothing on disk
    thin = folder / "thin.png"
    Image.new("L", (8, 120_000)).save(thin)
    (folder / "out-dir.npy").mkdir()
    return {"fifo": fifo, "sparse": sparse, "thin": thin, "dir": folder / "out-dir.npy", "folder": folder}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "/dev/zero"], "not a regular file"),
        (["predict", "{fifo}"], "not a regular file"),
        (["predict", "{sparse}"], "the limit is 25 MB"),
        (["predict", "{thin}"], "no side may be longer than 65,000 pixels"),
        (["predict", "{folder}"], "is a folder"),
        (["occlusion", "{chelsea}", "--out", "/no/such/folder/map.npy"], "the folder /no/such/folder does not exist"),
        (["deconv", "{chelsea}", "--out", "/no/such/folder/p.png"], "does not exist"),
        (["deconv", "{chelsea}", "--out", "{dir}"], "exists and is not a regular file"),
        (["occlusion", "{chelsea}", "--out", "{chelsea}/map.npy"], "does not exist"),  # a file, not a folder
        (["predict"], "the following arguments are required: image"),
        (["predict", "{chelsea}", "--top", "three"], "'three' is not a whole number"),
        (["explode"], "invalid choice"),
    ],
)
def test_hostile_input_exits_2_with_one_line_before_any_work(cli, photos, hostile_paths, args, message):
    """In a real process for the pipe (were it opened, the suite would hang), in this one for the rest (a read
    of /dev/zero is bounded by the size limit, so a regression there fails rather than hangs)."""
    paths = {**{k: str(v) for k, v in photos.items()}, **{k: str(v) for k, v in hostile_paths.items()}}
    run = run_cli if "{fifo}" in args else cli
    result = run(*[a.format(**paths) for a in args], env={"CNNVIZ_OFFLINE": "1"})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnviz: error:") and message in lines[0], lines
    assert result.stdout == "" and "positions" not in result.stderr  # refused before computing anything


def test_occlusion_map_is_the_same_by_either_method(cli, photos, tmp_path):
    """`--method incremental` and `--method full` write the same map (within 1e-5) and say which ran."""
    maps = {}
    for method in ("incremental", "full"):
        out = tmp_path / f"{method}.npy"
        result = cli(
            "occlusion",
            str(photos["coffee"]),
            "--window",
            "48",
            "--stride",
            "24",
            "--method",
            method,
            "--out",
            str(out),
        )
        assert result.returncode == 0, result.stderr
        assert f"{method} inference" in result.stdout
        maps[method] = np.load(out)
    assert maps["full"].shape == (8, 8) and np.ptp(maps["full"]) > 0.01
    assert np.abs(maps["incremental"] - maps["full"]).max() <= 1e-5


def test_localize_fcn_writes_the_one_pass_grid(cli, photos, tmp_path, lite0, coffee):
    from cnnviz.explain.localize import one_pass_grid

    out = tmp_path / "grid.npy"
    result = cli("localize", str(photos["coffee"]), "--method", "fcn", "--size", "448", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "8×15 windows" in result.stdout and "one forward pass" in result.stdout
    grid = np.load(out)
    assert grid.dtype == np.float32 and grid.shape == (1000, 8, 15)
    assert np.abs(grid - one_pass_grid(lite0, coffee, 448).probabilities).max() <= 1e-5
    picture = tmp_path / "grid.png"
    assert cli("localize", str(photos["coffee"]), "--out", str(picture)).returncode == 0
    assert Image.open(picture).size == (336, 224)  # the whole photo at 224 px on its short side


@pytest.mark.parametrize("method", ["sliding", "cam"])
def test_localize_boxes_as_json_in_photo_pixels(cli, photos, tmp_path, method):
    out = tmp_path / "boxes.png"
    result = cli("localize", str(photos["coffee"]), "--method", method, "--json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    boxes = json.loads(result.stdout.splitlines()[0])
    assert boxes and all(set(b) == {"x0", "y0", "x1", "y1", "score", "class", "label"} for b in boxes)
    assert boxes[0]["label"] == "espresso" and boxes[0]["class"] == ESPRESSO
    assert all(0 <= b["x0"] < b["x1"] <= 600 and 0 <= b["y0"] < b["y1"] <= 400 for b in boxes)
    assert Image.open(out).size == (600, 400)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "100"], "short side must be 224–672 px"),
        (["--method", "cam", "--arch", "vgg11", "--weights", "random"], "no class activation map"),
        (["--method", "sliding", "--iou", "2"], "--iou: '2' is not a number from 0 to 1"),
        (["--method", "cam", "--fraction", "1.5"], "--fraction: '1.5' is not a number from 0 to 1"),
        (["--out", "grid.txt"], ".npy or .png"),
    ],
)
def test_localize_bad_input(cli, photos, args, message):
    result = cli("localize", str(photos["coffee"]), *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr


def test_visualize_writes_the_optimised_input_in_the_networks_space(cli, tmp_path, lite0):
    from cnnviz.explain.featurevis import excitation, visualize

    out = tmp_path / "channel.npy"
    args = ("--layer", "blocks.2.1", "--channel", "3", "--steps", "16")
    result = cli("visualize", *args, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("EfficientNet-Lite0 · blocks.2.1 · channel 3 (channel) · 16 steps in ")
    pixels = np.load(out)
    assert pixels.shape == (3, 224, 224) and pixels.dtype == np.float32
    assert -1.0 <= pixels.min() < pixels.max() <= 1.0  # Lite0 normalises [0, 1] to [-1, 1]
    expected = visualize(lite0, "blocks.2.1", 3, steps=16)
    reached = excitation(lite0, torch.from_numpy(pixels)[None], "blocks.2.1", 3)[0]
    assert reached == pytest.approx(expected.activation, rel=1e-3)  # the same seed: the same image
    png = tmp_path / "channel.png"
    assert cli("visualize", *args, "--out", str(png)).returncode == 0
    assert Image.open(png).size == (224, 224)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "0"], "--steps: '0' is not a whole number from 1 to 1,024"),
        (["--objective", "class"], "invalid choice: 'class'"),
        (["--channel", "5000"], "Channel must be between 0 and"),
        (["--layer", "blocks.99"], "has no layer 'blocks.99'"),
        (["--out", "x.jpg"], "must end in .npy or .png"),
    ],
)
def test_visualize_bad_input(cli, args, message):
    result = cli("visualize", *args)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_hardware_json_has_the_documented_fields(cli):
    result = cli("hardware", "--arch", "lenet5", "mobilenet_v2", "--device", "cpu", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["arch"] for r in rows] == ["lenet5", "mobilenet_v2"]
    for row in rows:
        assert {"latency_ms", "images_per_s", "batch", "peak_memory_mb", "device"} <= set(row)
        assert row["latency_ms"] > 0 and row["images_per_s"] > 0 and row["batch"] == 8
        assert row["device"].startswith("CPU (")
    assert cli("hardware", "--arch", "lenet5", "--dtype", "float16").returncode == 2
