"""The CAM family beside Grad-CAM (pytorch-grad-cam): each map equals the library's own call on the same
model, layer and target; nothing is left on the shared model; two sessions at once get what each alone
gets; the per-channel methods count their forward passes and stop when asked."""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
import torch
from pytorch_grad_cam import AblationCAM, EigenCAM, GradCAMPlusPlus, LayerCAM, ScoreCAM
from pytorch_grad_cam.utils.image import scale_cam_image
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection

import cnnviz
from cnnviz.explain import CLASS_MAPS
from cnnviz.explain.graphs import run_to_layer
from cnnviz.explain.progress import Cancelled
from tests.conftest import cat_on_grey

FAMILY = {
    "gradcampp": GradCAMPlusPlus,
    "scorecam": ScoreCAM,
    "layercam": LayerCAM,
    "eigencam": EigenCAM,
    "ablationcam": AblationCAM,
}
LAYER = "blocks.2.1"  # Lite0: 40 channels at 28×28 (1.2 s per Score-CAM; 5 s at blocks.4.2, 23 s at the last stage)
TOLERANCE = 1e-5  # maps scaled to 0–1 by the library


@pytest.fixture(scope="module")
def cat():
    return cat_on_grey()[0]


@pytest.fixture(scope="module")
def users_model(lite0):
    """The network as a user of the library holds it: its own copy, weights trainable."""
    model = copy.deepcopy(lite0.model)
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    return model.eval()


def library_map(users_model, lite0, image, method: str, target: int) -> np.ndarray:
    """The library's own call, as its README writes it."""
    x = lite0.to_input(lite0.preprocess(image)).float()
    with FAMILY[method](model=users_model, target_layers=[users_model.get_submodule(LAYER)]) as cam:
        return cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]


def library_scaling(projection: np.ndarray) -> np.ndarray:
    """What the library's BaseCAM does to one layer's cam (``compute_cam_per_layer`` then
    ``aggregate_multi_layers``): rectify, scale to 0–1 and resize to the input, then scale again."""
    return scale_cam_image(scale_cam_image(np.maximum(projection, 0), (224, 224)))[0]


@pytest.mark.parametrize("method", sorted(FAMILY))
def test_each_map_is_the_librarys_own(lite0, users_model, cat, method):
    ours = CLASS_MAPS[method](lite0, cat, layer=LAYER, target=285)
    assert (ours.method, ours.target, ours.layer, ours.values.shape) == (method, 285, LAYER, (224, 224))
    theirs = library_map(users_model, lite0, cat, method, 285)
    if method == "eigencam":  # the library keeps the SVD's sign; ours agrees with where the layer fires
        x = lite0.to_input(lite0.preprocess(cat)).float()
        with torch.no_grad():
            projection = get_2d_projection(run_to_layer(lite0.model, x, LAYER).numpy())
        np.testing.assert_allclose(theirs, library_scaling(projection), atol=TOLERANCE)  # the helper is right
        if not np.allclose(ours.values, theirs, atol=TOLERANCE):
            theirs = library_scaling(-projection)
    np.testing.assert_allclose(ours.values, theirs, atol=TOLERANCE)
    assert ours.values.max() == pytest.approx(1.0, abs=1e-6) and ours.values.min() >= 0


def test_eigen_cam_ignores_the_class_and_the_others_do_not(lite0, cat):
    """Eigen-CAM is the layer's first principal component: the same map for every class."""
    tabby, espresso = (CLASS_MAPS["eigencam"](lite0, cat, layer=LAYER, target=t).values for t in (281, 967))
    np.testing.assert_array_equal(tabby, espresso)
    tabby, espresso = (CLASS_MAPS["layercam"](lite0, cat, layer=LAYER, target=t).values for t in (281, 967))
    assert np.abs(tabby - espresso).max() > 0.1


@pytest.fixture(scope="module")
def on_the_cat(lite0, cat) -> dict[str, tuple[np.ndarray, list[tuple[int, int]], dict]]:
    """Each method's map of the cat on the shared model, computed once for the tests below (the heavy ones
    take seconds): {method: (values, progress reports, the model's modules before)}."""
    computed = {}
    for method in FAMILY:
        before = dict(lite0.model.named_modules())
        seen: list[tuple[int, int]] = []
        values = CLASS_MAPS[method](lite0, cat, layer=LAYER, progress=lambda d, n, seen=seen: seen.append((d, n)))
        computed[method] = (values.values, seen, before)
    return computed


def test_nothing_is_left_on_the_shared_model(lite0, on_the_cat):
    for _, _, modules in on_the_cat.values():  # Ablation-CAM swapped its layer in a private graph
        assert dict(lite0.model.named_modules()) == modules
    for module in lite0.model.modules():
        assert not (module._forward_hooks or module._forward_pre_hooks or module._backward_hooks), module
    assert all(p.grad is None and not p.requires_grad for p in lite0.model.parameters())


def test_two_sessions_at_once_get_what_each_alone_gets(lite0, cat, chelsea, on_the_cat):
    """Ablation-CAM's library default shares one ablation layer among all instances; here each call has
    its own, so two maps computed at the same moment are the maps computed one after the other."""
    alone = {"cat": on_the_cat["ablationcam"][0], "chelsea": CLASS_MAPS["scorecam"](lite0, chelsea, layer=LAYER).values}
    together: dict[str, np.ndarray] = {}

    def run(name, method, image):
        together[name] = CLASS_MAPS[method](lite0, image, layer=LAYER).values

    threads = [
        threading.Thread(target=run, args=("cat", "ablationcam", cat)),
        threading.Thread(target=run, args=("chelsea", "scorecam", chelsea)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in alone:
        np.testing.assert_allclose(together[name], alone[name], atol=TOLERANCE)


@pytest.mark.parametrize(("method", "passes"), [("scorecam", 1 + 40), ("ablationcam", 2 + 40)])
def test_per_channel_methods_count_their_forward_passes_and_stop(lite0, cat, on_the_cat, method, passes):
    assert CLASS_MAPS[method].heavy
    seen = on_the_cat[method][1]
    assert {total for _, total in seen} == {passes} and seen[-1] == (passes, passes)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen) and len(seen) > 3  # batch by batch
    stopped: list[int] = []

    def stop_after_two_batches(done: int, total: int) -> bool:
        stopped.append(done)
        return len(stopped) < 3

    with pytest.raises(Cancelled):
        CLASS_MAPS[method](lite0, cat, layer=LAYER, progress=stop_after_two_batches)
    assert stopped[-1] < passes


def test_a_layer_without_a_map_is_refused_with_a_key(lite0, cat):
    for method in FAMILY:
        with pytest.raises(cnnviz.CnnvizError) as refused:
            CLASS_MAPS[method](lite0, cat, layer="classifier")
        assert refused.value.key == "no_spatial_output", method
        with pytest.raises(cnnviz.CnnvizError, match="no layer"):
            CLASS_MAPS[method](lite0, cat, layer="blocks.99")
