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

import cnnviz
from cnnviz import blocks
from cnnviz.blocks import operations, translation
from cnnviz.blocks.network import first_layers
from cnnviz.errors import CnnvizError
from cnnviz.images import load_image
from cnnviz.layers import layer_table


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


def test_a_units_value_is_the_sum_over_the_taps_of_its_receptive_field(chelsea):
    """Each output unit equals the products of the pixels under its field's taps with the weights, zeros in
    the padding: the field the page draws is the one torch reads (float32 sums, 1e-5)."""
    x = blocks.photo_input(chelsea, grey=True)
    weights = np.arange(1, 10, dtype=np.float32).reshape(3, 3) - 5
    y = blocks.convolve(x, weights, stride=3, padding=2, dilation=2)
    padded = np.pad(x[0], 2)
    for row, column in [(0, 0), (17, 40), (y.shape[1] - 1, y.shape[2] - 1)]:
        field = operations.receptive_field(row, column, weights.shape, stride=3, padding=2, dilation=2)
        by_hand = sum(padded[r + 2, c + 2] * w for (r, c), w in zip(field.taps, weights.ravel(), strict=True))
        assert field.size == (5, 5) and y[0, row, column] == pytest.approx(by_hand, abs=1e-5)


def test_a_spelled_kernel_reads_back_to_the_same_float32_numbers():
    """What the Building blocks link writes for a typed kernel: the shortest decimals that read back exactly."""
    for typed in ("0.1234567 1e-9 -3\n1 2 3", "1e30,2", "3.4e38 -1e-45", "blur", "sharpen"):
        values = blocks.kernel(typed)
        spelled = blocks.spelled_kernel(values)
        assert (
            np.array_equal(blocks.kernel(spelled), values) and blocks.spelled_kernel(blocks.kernel(spelled)) == spelled
        )
    assert blocks.spelled_kernel(blocks.kernel("blur")) == "0.0625,0.125,0.0625;0.125,0.25,0.125;0.0625,0.125,0.0625"
    assert blocks.spelled_kernel(blocks.kernel("1e30,2")) == "1e+30,2"  # shorter than thirty-one digits


def test_the_close_up_of_a_field_in_the_padding_is_its_zeros(chelsea):
    """A corner unit with padding 8 reads only the padding's zeros: its close-up is black, the size of the field
    and its margin; a field half in the photo shows the photo's pixels beside the zeros."""
    from cnnviz.blocks.pictures import MARK, field_close_up

    photo = np.asarray(chelsea.convert("RGB"))
    field = operations.receptive_field(0, 0, (3, 3), stride=1, padding=8, dilation=1)
    shown = np.asarray(field_close_up(photo, field, zoom=4))
    colours = {tuple(int(v) for v in c) for c in shown.reshape(-1, 3)}
    assert shown.shape == (7 * 4, 7 * 4, 3) and colours == {(0, 0, 0), MARK}  # zeros, the taps outlined
    half = np.asarray(field_close_up(photo, operations.receptive_field(0, 0, (3, 3), 1, 1, 1), margin=1, zoom=1))
    assert half[0, 0].tolist() == [0, 0, 0] and half[4, 4].tolist() == photo[2, 2].tolist()  # padding, photo


def test_activations_pass_back_their_autograd_gradients_and_dropout_keeps_the_mean(chelsea):
    x = blocks.convolve(blocks.photo_input(chelsea, grey=True), blocks.kernel("sobel-x"))[0]
    for name, function in (("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh)):
        result = operations.activated(x, name)
        values = torch.from_numpy(x).requires_grad_()
        function(values).sum().backward()
        assert np.allclose(result.output, function(torch.from_numpy(x)).numpy())
        assert result.mean_gradient == pytest.approx(float(values.grad.mean()), rel=1e-5)
        assert result.max_gradient <= result.largest_possible
    relu = operations.activated(x, "relu")
    assert relu.zero_share == pytest.approx(float((x <= 0).mean())) and 0.3 < relu.zero_share < 0.7
    dropped = operations.dropout(np.maximum(x, 0), 0.5, seed=3)
    kept = dropped.output != 0
    assert np.allclose(dropped.output[kept], np.maximum(x, 0)[kept] / 0.5)
    assert dropped.dropped_share == pytest.approx(0.5, abs=0.01)
    assert dropped.mean_after == pytest.approx(dropped.mean_before, rel=0.02)  # 135,000 units
    assert np.array_equal(operations.dropout(x, 0.0).output, x)


def test_max_pooling_winners_hold_each_windows_maximum(chelsea):
    x = np.maximum(blocks.convolve(blocks.photo_input(chelsea, grey=True), blocks.kernel("sobel-y"))[0], 0)
    for size, stride in ((2, 2), (3, 2)):
        winners = operations.max_pool_winners(x, size, stride)
        pooled = blocks.pool(x[None], "max", size, stride)[0]
        assert np.array_equal(x[winners[..., 0], winners[..., 1]], pooled)


def test_the_map_shifts_with_the_photo_and_pooling_absorbs_part_of_the_shift(chelsea):
    """Deck 001's argument on a real photo: shifted by a multiple of the stride, the map is the same map
    moved (up to float rounding); by anything else it is not; compared in place, a 1 px shift changes the
    rectified edge map more than the same map after 2×2 max pooling."""
    x = blocks.photo_input(chelsea, grey=True)
    sobel = blocks.kernel("sobel-x")
    assert translation.shifted_maps(x, sobel, 4, stride=2).aligned_difference < 1e-6
    assert translation.shifted_maps(x, sobel, 3, stride=2).aligned_difference > 0.1
    one = translation.shifted_maps(x, sobel, 1)
    assert one.aligned_difference < 1e-6 and one.pooled_change < 0.75 * one.relu_change
    assert translation.shifted_maps(x, sobel, 0).conv_change == 0


def test_a_shifted_picture_keeps_lite0s_top5_mostly_and_no_shift_changes_nothing(lite0, chelsea):
    still = translation.shifted_prediction(lite0, chelsea, 0)
    assert still.total_variation == 0 and still.before == still.after and still.overlap == 5
    moved = translation.shifted_prediction(lite0, chelsea, 8)
    assert [s.index for s in moved.before] == [s.index for s in cnnviz.predict(lite0, chelsea).scores]
    assert 0 < moved.total_variation < 0.2 and moved.overlap >= 4


def test_the_first_batch_norm_is_the_layers_own_arithmetic(lite0, chelsea):
    """Lite0's ``bn1`` fuses ReLU6 after the normalisation: ReLU6 of the page's "after" is the layer's own
    output; the first convolution's output shape and parameters are the layer table's."""
    layers = first_layers(lite0, chelsea)
    norm = layers.batch_norm
    module = lite0.model.get_submodule(norm.layer)
    with torch.inference_mode():
        expected = module(torch.from_numpy(norm.before)[None])[0].numpy()
    assert np.allclose(np.clip(norm.after, 0, 6), expected, atol=1e-5)
    assert np.allclose(norm.running_mean, module.running_mean.numpy())
    row = next(r for r in layer_table("efficientnet_lite0", 224).layers if r.module == layers.conv_layer)
    assert layers.conv_output == tuple(row.out_shape[-3:]) and layers.conv_parameters == row.params == 864
    assert first_layers(cnnviz.load("lenet5"), chelsea).batch_norm is None


def test_the_close_up_shows_the_same_map_moved_and_nothing_left_once_moved_back(chelsea):
    x = blocks.photo_input(chelsea, grey=True)
    aligned = translation.shifted_maps(x, blocks.kernel("sobel-x"), 4, stride=2)
    mine, moved, difference = aligned.close_up()
    assert mine.shape == moved.shape == difference.shape == (96, 96) and difference.max() < 1e-6
    assert np.abs(moved - mine).max() > 0.1  # in place, the shifted map is not the same map
    _, _, left_over = translation.shifted_maps(x, blocks.kernel("sobel-x"), 3, stride=2).close_up()
    assert left_over.max() > 0.1
