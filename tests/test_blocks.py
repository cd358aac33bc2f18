"""Deck 001's building blocks in the engine and on the command line: the worked example's numbers, a kernel
slid over a real photo equal to torch's own functions, the output size by the deck's formula, and bad
settings refused with the reason before any work."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz import blocks
from cnnviz.errors import CnnvizError
from cnnviz.images import load_image


def test_the_decks_worked_example_term_by_term_then_relu(cli):
    example = blocks.worked_example()
    assert example.output == [[8, 4], [-4, 2]] and example.after_relu == [[8, 4], [0, 2]]
    assert example.cells[0].sum_text() == "1×1 + 3×2 + 0×0 + (−1)×(−1) = 8"
    assert example.cells[2].sum_text() == "0×1 + (−1)×2 + 2×0 + 2×(−1) = −4"
    printed = cli("conv", "--deck-example")
    assert printed.returncode == 0 and "output [[8, 4], [-4, 2]]; after ReLU [[8, 4], [0, 2]]" in printed.stdout
    assert "output[1][1] = (−1)×1 + 1×2 + 2×0 + (−1)×(−1) = 2" in printed.stdout
    as_json = json.loads(cli("conv", "--deck-example", "--json").stdout)
    assert as_json == {
        "input": [[1, 3, 1], [0, -1, 1], [2, 2, -1]],
        "kernel": [[1, 2], [0, -1]],
        "output": [[8, 4], [-4, 2]],
        "relu": [[8, 4], [0, 2]],
    }


@pytest.mark.parametrize(
    ("kernel", "settings"),
    [
        (
            "sobel-x",
            {"stride": 2, "padding": 1, "dilation": 2, "relu": True, "pool": "max", "pool-size": 3, "pool-stride": 2},
        ),
        ("0.5,-1,0.5;1,2,1", {"padding": 3, "pool": "avg", "grey": True}),
    ],
)
def test_the_written_map_is_torchs_on_the_same_input(cli, chelsea, tmp_path, kernel, settings):
    """The photo at its own size (0–1, or the luminance with --grey) through ``F.conv2d`` per channel, ReLU
    and the pooling functions: equal within 1e-6 (the same operations in the same order)."""
    out, path = tmp_path / "map.npy", tmp_path / "chelsea.jpg"
    chelsea.save(path, quality=90)
    args = [f"--{name}" if value is True else f"--{name}={value}" for name, value in settings.items()]
    result = cli("conv", str(path), "--kernel", kernel, *args, "--out", str(out))
    assert result.returncode == 0, result.stderr
    photo = load_image(path)
    x = torch.from_numpy(np.asarray(photo, dtype=np.float32) / 255).permute(2, 0, 1)
    if settings.get("grey"):
        x = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2])[None]
    weights = torch.tensor(blocks.kernel(kernel))
    y = F.conv2d(
        x[None],
        weights.expand(x.shape[0], 1, *weights.shape),
        stride=settings.get("stride", 1),
        padding=settings.get("padding", 0),
        dilation=settings.get("dilation", 1),
        groups=x.shape[0],
    )
    if settings.get("relu"):
        y = F.relu(y)
    size = settings.get("pool-size", 2)
    pooling = F.max_pool2d if settings["pool"] == "max" else F.avg_pool2d
    y = pooling(y, size, settings.get("pool-stride", size))
    written = np.load(out)
    assert written.shape == tuple(y.shape[1:]) and written.dtype == np.float32
    np.testing.assert_allclose(written, y[0].numpy(), rtol=1e-6, atol=1e-6)
    assert f"input {x.shape[0]}×{photo.height}×{photo.width}" in result.stdout


def test_the_formula_gives_the_size_torch_computes():
    x = np.zeros((1, 37, 50), dtype=np.float32)
    for k in (1, 2, 3, 5):
        for stride in (1, 2, 3):
            for padding in (0, 1, 2):
                for dilation in (1, 2, 3):
                    y = blocks.convolve(x, np.ones((k, k), np.float32), stride, padding, dilation)
                    expected = [blocks.output_side(n, k, stride, padding, dilation) for n in (37, 50)]
                    assert list(y.shape[1:]) == expected, (k, stride, padding, dilation)
    # the deck's 32×32×3 padded by 2 to 36×36, 5×5 filters at stride 1: 32×32 again
    assert blocks.output_side(32, 5, stride=1, padding=2) == 32


def test_sobel_finds_a_vertical_edge_and_blur_keeps_a_flat_picture():
    picture = np.zeros((40, 40), dtype=np.uint8)
    picture[:, 20:] = 255  # dark on the left, bright on the right
    x = blocks.photo_input(Image.fromarray(picture), grey=True)
    edges = blocks.convolve(x, blocks.kernel("sobel-x"))[0]
    assert edges[:, 18:20].min() == pytest.approx(4.0)  # the windows across the edge: 1 + 2 + 1
    assert np.abs(edges[:, :18]).max() == 0 and np.abs(edges[:, 20:]).max() == 0
    assert np.abs(blocks.convolve(x, blocks.kernel("sobel-y"))).max() == 0  # nothing changes from top to bottom
    flat = blocks.photo_input(Image.new("RGB", (20, 20), (60, 120, 180)))
    np.testing.assert_allclose(
        blocks.convolve(flat, blocks.kernel("blur"))[:, 0, 0], [60 / 255, 120 / 255, 180 / 255], rtol=1e-6
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kernel", "1,x;2,3"], "is not a kernel"),
        (["--kernel", "1,2;3"], "rows must all be as long"),
        (["--kernel", ";".join([",".join(["1"] * 16)] * 16)], "at most 15 numbers per side"),
        (["--kernel", "1,1,1;1,1,1;1,1,1", "--dilation", "16"], "more than the padded input"),
        (["--stride", "0"], "'0' is not a whole number from 1 to 64"),
        (["--pool", "max", "--pool-size", "64", "--stride", "8"], "does not fit"),
        (["--out", "map.gif"], "must end in .npy or .png"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(cli, tmp_path, args, message):
    small = tmp_path / "small.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(small)
    result = cli("conv", str(small), *args)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnviz: error:") and message in lines[0], lines


def test_the_engine_refuses_settings_out_of_range_with_a_key():
    x = np.zeros((3, 8, 8), dtype=np.float32)
    for settings in ({"stride": 0}, {"padding": -1}, {"dilation": 0}, {"stride": True}):
        with pytest.raises(CnnvizError) as refused:
            blocks.convolve(x, blocks.kernel("blur"), **settings)
        assert refused.value.key == "conv_setting"
    with pytest.raises(CnnvizError, match="not a pooling"):
        blocks.pool(x, "median", 2)
