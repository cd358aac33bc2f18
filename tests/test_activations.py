"""Activation maps, first-layer filters and top-9 patches on real photos."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnviz
from cnnviz.explain.activations import activation_maps, first_layer_filters
from cnnviz.explain.deconvnet import layer_output
from cnnviz.explain.patches import top_patches, unit_box
from cnnviz.gallery import GALLERY, gallery_image
from cnnviz.render import projection_image, tile_grid


def test_activation_statistics_match_the_layer_output(lite0, chelsea):
    maps = activation_maps(lite0, chelsea, "bn2")  # BatchNorm + ReLU6: every unit in [0, 6]
    reference = layer_output(lite0, lite0.to_input(lite0.preprocess(chelsea)), "bn2")[0].numpy()
    np.testing.assert_array_equal(maps.maps, reference)
    assert maps.maps.shape == (1280, 7, 7) and maps.channels == 1280
    assert maps.maps.min() >= 0 and maps.max == pytest.approx(6.0)
    assert maps.zero_fraction == pytest.approx((reference == 0).mean())
    peaks = reference.reshape(1280, -1).max(axis=1)
    assert list(maps.never_active) == [int(c) for c in np.flatnonzero(peaks == 0)]
    assert 0 < len(maps.never_active) < 1280
    assert (np.diff(peaks[maps.order]) <= 0).all()  # strongest first


def test_activations_of_a_pre_activation_layer_count_negative_units(lite0, chelsea):
    maps = activation_maps(lite0, chelsea, "conv_stem")  # a bare convolution: negative values too
    assert maps.maps.min() < 0
    assert maps.zero_fraction == pytest.approx((maps.maps <= 0).mean())


@pytest.mark.parametrize(
    ("arch", "shape", "stride"),
    [
        ("alexnet2012", (96, 3, 11, 11), 4),
        ("zfnet", (96, 3, 7, 7), 2),
        ("vgg16", (64, 3, 3, 3), 1),
        ("lenet5", (6, 1, 5, 5), 1),
        ("efficientnet_lite0", (32, 3, 3, 3), 2),
        ("googlenet", (64, 3, 7, 7), 2),
    ],
)
def test_first_layer_filters_are_the_trained_kernels(arch, shape, stride):
    net = cnnviz.load(arch, device="cpu")
    filters = first_layer_filters(net)
    assert filters.weights.shape == shape and filters.stride == stride and filters.kernel == shape[-1]
    torch.testing.assert_close(torch.from_numpy(filters.weights), net.model.get_submodule(filters.layer).weight.float())
    tiles = filters.tiles()
    assert tiles.shape == (shape[0], shape[2], shape[3], shape[1])
    assert tiles.min() >= 0 and tiles.max() <= 1
    assert min(tiles.min(), 1 - tiles.max()) == pytest.approx(0, abs=1e-6)  # the largest |weight| reaches 0 or 1


def test_top_patches_over_the_gallery(lite0):
    images = {name: gallery_image(name) for name in GALLERY}
    layer, channel = "blocks.2.1", 3
    patches = top_patches(lite0, images, layer, channel)
    assert (patches.layer, patches.channel, patches.searched) == (layer, channel, len(images))
    assert len(patches) == 9
    values = [p.activation for p in patches]
    assert values == sorted(values, reverse=True)
    best = max(
        float(layer_output(lite0, lite0.to_input(lite0.preprocess(image)), layer)[0, channel].max())
        for image in images.values()
    )
    assert values[0] == pytest.approx(best)
    for patch in patches:
        top, left, bottom, right = patch.box
        assert bottom - top == right - left == 67  # blocks.2.1's receptive field (layer table)
        assert patch.crop.shape == (67, 67, 3) and patch.projection.shape == (3, 67, 67)
        picture = np.asarray(lite0.preprocess.crop_image(images[patch.image]).convert("RGB"))
        np.testing.assert_array_equal(patch.crop, picture[top:bottom, left:right])
    assert len({p.image for p in patches}) > 1


def test_unit_box_is_centred_and_clipped():
    assert unit_box(224, 28, (0, 0), (67, 67)) == (0, 0, 67, 67)
    assert unit_box(224, 28, (14, 14), (67, 67)) == (82, 82, 149, 149)  # centre 116 px
    assert unit_box(224, 28, (27, 27), (67, 67)) == (157, 157, 224, 224)
    assert unit_box(224, 28, (14, 14), (35, 67)) == (98, 82, 133, 149)  # a field wider than tall
    assert unit_box(224, 7, (3, 3), None) == (0, 0, 224, 224)


def test_top_patches_refuse_bad_requests(lite0, chelsea):
    with pytest.raises(cnnviz.CnnvizError, match="no images"):
        top_patches(lite0, {}, "bn2", 0)
    with pytest.raises(cnnviz.CnnvizError, match="Channel must be"):
        top_patches(lite0, {"chelsea": chelsea}, "bn2", 1280)


def test_projection_image_is_contrast_normalised():
    pixels = np.zeros((3, 8, 8), np.float32)
    pixels[:, 2, 2] = 5.0
    image = projection_image(pixels, percentile=100)
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    assert image[2, 2].min() == 255 and abs(int(image[0, 0, 0]) - 127) <= 2
    assert tile_grid([image] * 3, columns=2, zoom=2, gap=1).shape == (33, 33, 3)
