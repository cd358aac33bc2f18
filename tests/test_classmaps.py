"""Class maps (Grad-CAM, gradient saliency, Integrated Gradients; the CAM family has its own file): equal to
captum on the shared model, true to their papers' definitions, on the cat, with one progress-and-cancel
contract for every method."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients, LayerGradCam, Saliency

import cnnviz
from cnnviz.explain import CLASS_MAPS, grad_cam, integrated_gradients, saliency
from cnnviz.explain.progress import Cancelled
from tests.conftest import CAT_CLASSES, cat_on_grey


@pytest.fixture(scope="module")
def canvas():
    return cat_on_grey()


def cheap_layer(method: str, layer: str = "blocks.4.2") -> dict:
    """A per-channel method at Lite0's 112-channel stage (about 5 s; ``layer`` "blocks.2.1": 40 channels,
    about 1 s) rather than its last, 1,280-channel one (about 22 s each); its default layer is the same code
    path, exercised on LeNet-5 below."""
    spec = CLASS_MAPS[method]
    return {"layer": layer} if spec.heavy and spec.explains_layer else {}


def _input(net, image):
    return net.to_input(net.preprocess(image)).float().clone().requires_grad_()


@pytest.mark.parametrize("method", sorted(CLASS_MAPS))
def test_each_class_map_targets_the_top_class_and_lands_on_the_cat(lite0, canvas, method):
    image, rows, cols = canvas
    result = CLASS_MAPS[method](lite0, image, **cheap_layer(method))
    assert result.method == method and result.target in CAT_CLASSES
    assert result.values.shape == (224, 224) and result.values.min() >= 0
    area = (rows.stop * cols.stop) / 224**2  # 17 % of the input
    assert result.values[rows, cols].sum() / result.values.sum() > max(3 * area, 0.5)


def test_saliency_is_captums_and_the_gradient_of_the_logit(lite0, canvas):
    image = canvas[0]
    ours = saliency(lite0, image, target=281)
    theirs = Saliency(lite0.model).attribute(_input(lite0, image), target=281, abs=False)[0].detach().numpy()
    np.testing.assert_allclose(ours.pixels, theirs, rtol=1e-5, atol=1e-7)
    x = _input(lite0, image)
    (gradient,) = torch.autograd.grad(lite0.model(x)[0, 281], x)  # Simonyan et al. 2014, eq. (2)
    np.testing.assert_allclose(ours.pixels, gradient[0].numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(ours.values, np.abs(ours.pixels).max(axis=0))
    assert np.abs(ours.pixels).max() > 1e-3  # real weights: a gradient worth comparing


def test_integrated_gradients_is_captums_and_complete(lite0, canvas):
    image = canvas[0]
    ours = integrated_gradients(lite0, image)  # as many steps as completeness needs (64 here)
    x = _input(lite0, image)
    theirs = (
        IntegratedGradients(lite0.model)
        .attribute(x, baselines=torch.zeros_like(x), target=ours.target, n_steps=ours.steps, internal_batch_size=4)[0]
        .detach()
        .numpy()
    )
    np.testing.assert_allclose(ours.pixels, theirs, rtol=1e-4, atol=1e-6)
    with torch.no_grad():  # Sundararajan et al. 2017, Prop. 1: attributions add up to F(x) − F(baseline)
        change = float(lite0.model(x)[0, ours.target] - lite0.model(torch.zeros_like(x))[0, ours.target])
    assert change > 3  # the cat's logit rises well above the grey baseline's
    assert abs(ours.pixels.sum() - change) == pytest.approx(ours.error, rel=1e-3, abs=1e-4)
    assert ours.error < 0.05 * change and ours.steps in (64, 128, 256, 512)
    fixed = integrated_gradients(lite0, image, steps=16)
    assert fixed.steps == 16 and fixed.error > ours.error  # 16 points leave a larger gap (23 % here)
    np.testing.assert_allclose(ours.values, np.abs(ours.pixels).sum(axis=0), rtol=1e-6)


def test_grad_cam_is_captums(lite0, canvas):
    image = canvas[0]
    ours = grad_cam(lite0, image, layer="blocks.5", target=285)
    cam = LayerGradCam(lite0.model, lite0.model.get_submodule("blocks.5")).attribute(
        _input(lite0, image), target=285, relu_attributions=True
    )
    upsampled = torch.nn.functional.interpolate(cam.detach(), size=(224, 224), mode="bilinear")[0, 0].numpy()
    np.testing.assert_allclose(ours.values, upsampled, rtol=1e-4, atol=1e-6)
    assert ours.layer == "blocks.5" and ours.target == 285 and ours.values.max() > 0


def test_digits_network_has_class_maps_too(chelsea):
    lenet = cnnviz.load("lenet5", device="cpu")
    from cnnviz.gallery import gallery_image

    digit = gallery_image("digit")
    for method, compute in CLASS_MAPS.items():
        result = compute(lenet, digit)
        assert result.values.shape == (32, 32) and np.isfinite(result.values).all(), method
        assert result.target == cnnviz.predict(lenet, digit).scores[0].index


def test_progress_counts_integration_steps_and_can_cancel(lite0, chelsea):
    seen = []
    integrated_gradients(lite0, chelsea, steps=20, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(8, 20), (16, 20), (20, 20)]
    for method, compute in CLASS_MAPS.items():
        params = cheap_layer(method, "blocks.2.1") | ({"steps": 8} if method == "integrated" else {})
        with pytest.raises(Cancelled):
            compute(lite0, chelsea, progress=lambda done, total: False, **params)
        calls: list[tuple[int, int]] = []
        record = lambda done, total, calls=calls: calls.append((done, total))  # noqa: E731
        compute(lite0, chelsea, progress=record, **params)
        assert calls[-1][0] == calls[-1][1], method


def test_bad_requests_are_refused_with_a_key(lite0, chelsea):
    for compute in CLASS_MAPS.values():
        with pytest.raises(cnnviz.CnnvizError, match="between 0 and 999") as refused:
            compute(lite0, chelsea, target=1000)
        assert refused.value.key == "target_range"
    with pytest.raises(cnnviz.CnnvizError, match="between 1 and 512") as refused:
        integrated_gradients(lite0, chelsea, steps=0)
    assert refused.value.key == "steps_range"
    with pytest.raises(cnnviz.CnnvizError, match="no layer"):
        grad_cam(lite0, chelsea, layer="blocks.99")
