"""Localization: the fully convolutional twin, one pass against one pass per crop, LeNet-5 reading rows,
sliding windows with non-max suppression, CAM boxes, and the arithmetic of larger maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.ops import box_iou

import cnnviz
from cnnviz.arithmetic import YOLO_DECK, transposed_conv
from cnnviz.digits import digit_arrays, split_indices
from cnnviz.errors import CnnvizError
from cnnviz.explain.detect import cam_box, iou, reference_boxes, reference_for, sliding_windows, window_boxes
from cnnviz.explain.digit_rows import (
    held_out_row,
    read_row,
    reading_errors,
    row_accuracy,
    row_from_drawing,
)
from cnnviz.explain.localize import checked_short_side, crop_grid, one_pass_grid, upsampled, whole_input
from cnnviz.explain.twin import convolutional_twin
from cnnviz.gallery import gallery_image
from tests.conftest import ESPRESSO, architecture_sweep

REAL_WEIGHTS = {"lenet5", "efficientnet_lite0"}


@pytest.fixture(scope="module")
def lenet() -> cnnviz.LoadedModel:
    return cnnviz.load("lenet5", weights="bundled", device="cpu")


@pytest.mark.parametrize("name", architecture_sweep({"vgg11": "vgg16"}))  # VGG-16's head, on fewer layers
def test_twin_at_the_input_size_gives_the_networks_logits(name):
    """Every zoo architecture's twin, run on its own input size, gives one window whose logits are the
    network's (within 1e-4 of the largest logit), on a real photo; at twice the size it gives a grid."""
    net = cnnviz.load(name, weights="auto" if name in REAL_WEIGHTS else "random", device="cpu")
    x = net.to_input(net.preprocess(gallery_image("digit" if name == "lenet5" else "chelsea")))
    twin = convolutional_twin(net)
    with torch.inference_mode():
        logits = net.model(x)
        windows = twin(x)
        side = net.preprocess.input_size
        bigger = twin(net.to_input(torch.randn(1, net.preprocess.channels, 2 * side, 2 * side)))
    assert windows.shape == (1, logits.shape[1], 1, 1)
    assert logits.std() > 1e-3 * logits.abs().max()  # the logits differ, so equality means something
    assert (windows.flatten() - logits.flatten()).abs().max() <= 1e-4 * logits.abs().max()
    assert bigger.shape[2] > 1 and bigger.shape[3] > 1


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("timm:vit_tiny_patch16_224", "no_twin_tokens"),  # a transformer's classifier reads its class token
        ("timm:convnext_atto", "no_twin_nonlinear"),  # pool, then a layer norm: no window survives the pool
        ("torchvision:swin_t", None),  # channels-last blocks, then a plain pool and linear head: it has a twin
    ],
)
def test_library_networks_get_a_twin_or_the_reason_they_have_none(name, key):
    """Networks beyond the zoo either get a twin that slides (a 3 × 3 grid at the input size plus twice its
    stride) or are refused with the sentence that says why, never a traceback."""
    net = cnnviz.load(name, weights="random", device="cpu")
    if key is not None:
        with pytest.raises(CnnvizError) as caught:
            convolutional_twin(net)
        assert caught.value.key == key
        return
    twin = convolutional_twin(net)
    larger = net.preprocess.input_size + 2 * twin.stride
    with torch.inference_mode():
        grid = twin(net.to_input(torch.zeros(1, 3, larger, larger)))
    assert grid.shape[-2:] == (3, 3)


def test_vgg16_at_448_px_gives_the_slides_8x8_grid():
    """Deck 003: the dense layers as convolutions give predictions for 8×8 regions at 448×448 px."""
    net = cnnviz.load("vgg16", weights="random", device="cpu")
    twin = convolutional_twin(net)
    names = [layer.twin for layer in twin.layers]
    assert names == ["Conv2d(512 → 4,096, 7×7)", "Conv2d(4,096 → 4,096, 1×1)", "Conv2d(4,096 → 1,000, 1×1)"]
    grid = one_pass_grid(net, gallery_image("astronaut"), 448)  # 512×512 → 448×448
    assert grid.input_size == (448, 448)
    assert grid.shape == (8, 8) and grid.probabilities.shape == (1000, 8, 8)
    assert (grid.window, grid.stride, grid.passes) == (224, 32, 1)


def test_lenet5_without_padding_every_cell_equals_its_crop(lenet):
    """LeNet-5 pads nowhere, so each window of the one-pass grid is exactly the network on that crop."""
    digit = gallery_image("digit")
    one = one_pass_grid(lenet, digit, 96)
    many = crop_grid(lenet, digit, 96)
    assert one.shape == many.shape == (17, 17)
    assert many.passes == 17 * 17 and one.passes == 1
    assert np.abs(one.probabilities - many.probabilities).max() <= 1e-5
    assert one.probabilities.max(axis=0).min() < 0.9 < one.probabilities.max()  # windows really differ


def test_padded_network_differs_at_crop_borders_and_agrees_on_the_object(lite0, coffee):
    """EfficientNet-Lite0 pads ("same"): a crop sees zeros where the photo has pixels, so the grids are not
    equal; they still agree on the most probable class in most windows (figures in docs/pages/localize.md)."""
    one = one_pass_grid(lite0, coffee, 448)
    many = crop_grid(lite0, coffee, 448)
    assert one.shape == many.shape == (8, 15)
    difference = np.abs(one.probabilities - many.probabilities).max()
    assert difference > 1e-3
    agree = (one.probabilities.argmax(axis=0) == many.probabilities.argmax(axis=0)).mean()
    assert agree >= 0.8
    assert ESPRESSO in set(one.probabilities.argmax(axis=0).ravel().tolist())


def test_photo_boxes_map_windows_back_to_the_photo(lite0, coffee):
    grid = one_pass_grid(lite0, coffee, 448)  # 600×400 photo at 448 px: scale 1.12
    x0, y0, x1, y1 = grid.photo_box(1, 2)
    assert (x0, y0) == pytest.approx((64 / 1.12, 32 / 1.12))
    assert (x1 - x0, y1 - y0) == pytest.approx((224 / 1.12, 224 / 1.12))


def test_sizes_outside_one_to_three_times_the_input_are_refused(lite0, coffee):
    for size in (223, 673):
        with pytest.raises(CnnvizError) as caught:
            checked_short_side(lite0, coffee, size)
        assert caught.value.key == "localize_size"
    long_strip = Image.new("RGB", (4000, 400))
    with pytest.raises(CnnvizError) as caught:
        checked_short_side(lite0, long_strip, 672)
    assert caught.value.key == "localize_aspect"


def test_lenet5_reads_rows_of_held_out_digits(lenet):
    """200 rows of 5 held-out digits, read in one pass each: at least 90 % of the digits right (measured
    0.918: substitutions, misses and extra digits all count as errors)."""
    accuracy = row_accuracy(lenet, rows=200)
    assert accuracy >= 0.90
    row = held_out_row(0)
    assert row.canvas.shape[-2] == 32 and len(row.digits) == 5
    reading = read_row(lenet, row)
    assert reading.probabilities.shape == (10, (row.canvas.shape[-1] - 32) // 4 + 1)


def test_reading_errors_count_misread_missed_and_extra_digits():
    assert reading_errors("12345", "12345") == 0
    assert reading_errors("12345", "12845") == 1
    assert reading_errors("12345", "1245") == 1
    assert reading_errors("12345", "123455") == 1


def test_a_drawn_row_is_read_like_the_digits_it_shows(lenet):
    """Five held-out digits drawn large (light strokes on a transparent canvas, as the page's canvas
    gives them) are read as those digits."""
    images, labels = digit_arrays()
    chosen = split_indices()[1][:5]
    canvas = np.zeros((200, 900, 4), np.uint8)
    for k, index in enumerate(chosen):
        big = np.kron(images[index] / 16.0, np.ones((20, 20)))
        canvas[20:180, 20 + k * 170 : 180 + k * 170, :3] = (big * 255).astype(np.uint8)[..., None]
        canvas[20:180, 20 + k * 170 : 180 + k * 170, 3] = (big > 0.01) * 255
    row = row_from_drawing(canvas)
    assert read_row(lenet, row).text == "".join(str(labels[i]) for i in chosen)
    assert row_from_drawing(np.zeros((50, 200, 4), np.uint8)) is None


def test_sliding_windows_find_the_espresso_and_suppression_removes_overlaps(lite0, coffee):
    found = sliding_windows(lite0, coffee, [ESPRESSO], threshold=0.5, iou=0.3)
    assert found.windows == len(window_boxes(coffee.size)) > 10
    assert len(found.after) < len(found.before)
    assert {box.index for box in found.after} == {ESPRESSO}
    kept = torch.tensor([box.corners for box in found.after])
    overlaps = box_iou(kept, kept).fill_diagonal_(0)
    assert overlaps.max() <= 0.3
    best = max(found.before, key=lambda box: box.score)
    assert best in found.after  # the most confident window always survives
    for box in found.after:
        assert 0 <= box.x0 < box.x1 <= coffee.size[0] and 0 <= box.y0 < box.y1 <= coffee.size[1]


def test_sliding_windows_refuse_bad_parameters(lite0, coffee):
    with pytest.raises(CnnvizError):
        sliding_windows(lite0, coffee, [1000])
    with pytest.raises(CnnvizError):
        sliding_windows(lite0, coffee, [ESPRESSO], iou=1.5)


def test_cam_is_zhou_et_als_weighted_sum_of_the_last_maps(lite0, chelsea):
    """The CAM equals Σ_k w_k^c f_k(x, y) computed from the model's own last map and classifier weights,
    and its box around the cat overlaps the hand-drawn box by IoU ≥ 0.8 (measured 0.94)."""
    result = cam_box(lite0, chelsea)
    maps = {}

    def keep_input(module, inputs, output) -> None:
        maps["f"] = inputs[0]

    handle = lite0.model.global_pool.register_forward_hook(keep_input)
    try:
        x, _ = whole_input(lite0, chelsea, 224)
        with torch.inference_mode():
            lite0.model(lite0.to_input(x))
    finally:
        handle.remove()
    weights = lite0.model.classifier.weight[result.box.index]
    expected = torch.einsum("k,khw->hw", weights, maps["f"][0].float()).numpy()
    assert np.abs(result.values - expected).max() <= 1e-4 * np.abs(expected).max()
    reference = reference_for("chelsea", result.box.label)
    assert iou(result.box.corners, reference.box) >= 0.8


def test_cam_needs_global_pooling(coffee):
    vgg = cnnviz.load("vgg11", weights="random", device="cpu")
    with pytest.raises(CnnvizError) as caught:
        cam_box(vgg, coffee)
    assert caught.value.key == "no_cam"


def test_reference_boxes_lie_inside_their_photos():
    boxes = reference_boxes()
    assert set(boxes) == {"chelsea", "coffee", "astronaut", "rocket", "camera", "coins"}
    for name, objects in boxes.items():
        width, height = gallery_image(name).size
        for item in objects:
            x0, y0, x1, y1 = item.box
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, (name, item.object)
    assert reference_for("camera", "tripod").object.startswith("the tripod")
    assert reference_for("camera", "bobsled").object.startswith("the cameraman")


@pytest.mark.parametrize(
    ("n", "f", "p", "s", "extra"), [(7, 4, 1, 2, 0), (8, 64, 16, 32, 0), (5, 3, 1, 2, 1), (1, 1, 0, 1, 0)]
)
def test_transposed_convolution_size_matches_torch(n, f, p, s, extra):
    layer = torch.nn.ConvTranspose2d(1, 1, f, stride=s, padding=p, output_padding=extra)
    assert transposed_conv(n, f, p, s, extra).out_size == layer(torch.zeros(1, 1, n, n)).shape[-1]
    with pytest.raises(CnnvizError):
        transposed_conv(n, f, p, s, s)  # output padding must be below the stride


def test_fcn_upsampling_is_bilinear_interpolation():
    """The transposed convolution with FCN's bilinear kernel equals bilinear interpolation (edges held)."""
    grid = np.random.default_rng(0).random((8, 15)).astype(np.float32)
    for factor in (4, 32):
        expected = F.interpolate(torch.from_numpy(grid)[None, None], scale_factor=factor, mode="bilinear")[0, 0]
        assert np.abs(upsampled(grid, factor) - expected.numpy()).max() <= 1e-5


def test_yolo_grid_counts_the_decks_numbers():
    assert YOLO_DECK.side == 13 and YOLO_DECK.per_cell == 45 and YOLO_DECK.total == 13 * 13 * 45
