"""Occlusion sensitivity: equal to captum's Occlusion, the three ZF maps, batching, limits, cancelling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import Occlusion

import cnnviz
from cnnviz.explain.occlusion import grid_positions, occlusion, padded_size
from cnnviz.explain.progress import Cancelled
from cnnviz.gallery import gallery_image
from tests.conftest import CAT_CLASSES


def captum_map(net, image, window, stride, fill_value, target):
    """captum's Occlusion on the probability of ``target``: per pixel, mean of (clean − occluded)."""
    x = net.preprocess(image)
    model = net.model.float()

    def probability(batch):
        return model(net.to_input(batch)).softmax(1)

    with torch.no_grad():
        attribution = Occlusion(probability).attribute(
            x,
            sliding_window_shapes=(x.shape[1], window, window),
            strides=(x.shape[1], stride, stride),
            baselines=fill_value,
            target=target,
            perturbations_per_eval=16,
        )
    return attribution[0, 0].double().numpy()


def our_attribution(maps, side):
    """cnnviz's map (a) turned into captum's per-pixel attribution (clean − occluded, averaged)."""
    total = np.zeros((side, side))
    count = np.zeros((side, side))
    for i, y in enumerate(maps.positions):
        for j, x in enumerate(maps.positions):
            total[y : y + maps.window, x : x + maps.window] += maps.clean_probability - maps.probability[i, j]
            count[y : y + maps.window, x : x + maps.window] += 1
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


@pytest.mark.parametrize("method", ["incremental", "full"])
@pytest.mark.parametrize(
    ("arch", "photo", "window", "stride"),
    [("lenet5", "digit", 8, 4), ("efficientnet_lite0", "chelsea", 56, 28)],
)
def test_map_a_equals_captum_occlusion(arch, photo, window, stride, method):
    net = cnnviz.load(arch, device="cpu")
    image = gallery_image(photo)
    maps = occlusion(net, image, window=window, stride=stride, fill="mean", batch_size=7, method=method)
    expected = captum_map(net, image, window, stride, 0.0, maps.target)
    ours = our_attribution(maps, net.spec.input_size)
    assert np.abs(ours - expected).max() < 1e-4


def test_three_maps_of_zf_figure_7(lite0, chelsea):
    maps = occlusion(lite0, chelsea, window=64, stride=32, layer="blocks.5")
    assert maps.probability.shape == maps.argmax.shape == maps.activation.shape == (6, 6)
    assert maps.target in CAT_CLASSES and maps.target == cnnviz.predict(lite0, chelsea).scores[0].index
    assert maps.probability.min() < maps.clean_probability  # covering the cat costs probability
    assert set(np.unique(maps.argmax)) & set(CAT_CLASSES)
    assert maps.channel is not None and np.isfinite(maps.activation).all()
    assert maps.overlay.shape == (224, 224)
    assert maps.probability.min() - 1e-6 <= maps.overlay.min() <= maps.overlay.max() <= maps.probability.max() + 1e-6


def test_covering_the_coffee_hurts_more_than_covering_the_saucer(lite0, coffee):
    maps = occlusion(lite0, coffee, window=64, stride=32, target=967)  # espresso; 6×6 positions
    coffee_in_the_cup = maps.probability[0:2, 1:5].min()  # the crema, top centre of the crop
    saucer_and_table = maps.probability[5].min()  # bottom row
    assert coffee_in_the_cup < saucer_and_table - 0.05


def test_batch_size_does_not_change_the_result(lite0, chelsea):
    one = occlusion(lite0, chelsea, window=112, stride=56, batch_size=1)
    many = occlusion(lite0, chelsea, window=112, stride=56, batch_size=9)
    assert np.allclose(one.probability, many.probability, atol=1e-5)
    assert (one.argmax == many.argmax).all()


def test_padding_a_partial_batch_to_a_planned_shape_gives_the_same_maps(lite0, chelsea, monkeypatch):
    """On CUDA the last batch is padded to a power of two; here every batch is padded to its full size."""
    plain = occlusion(lite0, chelsea, window=112, stride=56, batch_size=4, layer="blocks.3")
    monkeypatch.setattr("cnnviz.explain.occlusion.padded_size", lambda count, size, device: size)
    padded = occlusion(lite0, chelsea, window=112, stride=56, batch_size=4, layer="blocks.3")
    assert np.allclose(plain.probability, padded.probability, atol=1e-6)
    assert np.allclose(plain.activation, padded.activation, rtol=1e-5)
    assert (plain.argmax == padded.argmax).all() and padded.probability.shape == (3, 3)


def test_cuda_batches_come_in_a_few_shapes():
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert [padded_size(n, 512, cuda) for n in (1, 3, 100, 129, 512)] == [1, 4, 128, 256, 512]
    assert padded_size(70, 96, cuda) == 96 and padded_size(100, 512, cpu) == 100


@pytest.mark.parametrize("fill", ["mean", "black", "blur"])
def test_fills(lite0, chelsea, fill):
    maps = occlusion(lite0, chelsea, window=112, stride=112, fill=fill)
    assert maps.probability.shape == (2, 2) and np.isfinite(maps.probability).all()


def test_progress_is_reported_and_can_cancel(lite0, chelsea):
    seen = []
    occlusion(lite0, chelsea, window=112, stride=56, batch_size=4, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(4, 9), (8, 9), (9, 9)]
    with pytest.raises(Cancelled, match="after 4 of 9"):
        occlusion(lite0, chelsea, window=112, stride=56, batch_size=4, progress=lambda d, t: False)


def test_the_shared_model_carries_no_hook_afterwards(lite0, chelsea):
    occlusion(lite0, chelsea, window=112, stride=112, layer="blocks.5")
    assert all(not m._forward_hooks for m in lite0.model.modules())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(window=32, stride=1), "Stride 2 gives"),
        (dict(window=0, stride=8), "window must be"),
        (dict(window=500, stride=8), "window must be"),
        (dict(window=32, stride=0), "stride must be"),
        (dict(window=32, stride=8, fill="pink"), "Fill must be"),
        (dict(window=112, stride=112, target=5000), "Target class"),
        (dict(window=112, stride=112, layer="no.such.layer"), "no layer"),
        (dict(window=112, stride=112, layer="classifier"), "no spatial output"),
    ],
)
def test_absurd_requests_are_refused_with_what_would_work(lite0, chelsea, kwargs, message):
    with pytest.raises(cnnviz.CnnvizError, match=message):
        occlusion(lite0, chelsea, max_gmacs=20_000, **kwargs)


def test_grid_of_the_issue():
    assert len(grid_positions(224, 32, 8)) ** 2 == 625


def test_hooked_occlusion_and_plain_prediction_share_a_model_across_threads(lite0, chelsea, coffee):
    """Sessions share one cached model: occlusion's hooks must never reach another thread's prediction."""
    from concurrent.futures import ThreadPoolExecutor

    serial_scores = cnnviz.predict(lite0, coffee).scores
    serial_maps = occlusion(lite0, chelsea, window=112, stride=56, layer="blocks.5")
    with ThreadPoolExecutor(max_workers=4) as pool:
        predictions = [pool.submit(cnnviz.predict, lite0, coffee) for _ in range(6)]
        maps = [pool.submit(occlusion, lite0, chelsea, 112, 56, layer="blocks.5") for _ in range(2)]
        predictions = [future.result().scores for future in predictions]
        maps = [future.result() for future in maps]
    for scores in predictions:
        assert [s.index for s in scores] == [s.index for s in serial_scores]
        assert np.allclose([s.prob for s in scores], [s.prob for s in serial_scores], atol=1e-6)
    for result in maps:
        assert np.allclose(result.probability, serial_maps.probability, atol=1e-6)
        assert np.allclose(result.activation, serial_maps.activation, rtol=1e-5)
    assert all(not m._forward_hooks for m in lite0.model.modules())


class _Cramped(torch.nn.Module):
    """A model on a device that runs out of memory above ``limit`` images per batch."""

    def __init__(self, inner: torch.nn.Module, limit: int) -> None:
        super().__init__()
        self.inner, self.limit = inner, limit

    def forward(self, x):
        if x.shape[0] > self.limit:
            raise torch.cuda.OutOfMemoryError(f"CUDA out of memory: a batch of {x.shape[0]} does not fit (test)")
        return self.inner(x)


def test_out_of_memory_halves_the_batch_and_gives_the_same_maps(lite0, chelsea):
    from dataclasses import replace

    reference = occlusion(lite0, chelsea, window=112, stride=56, batch_size=16)
    cramped = replace(lite0, model=_Cramped(lite0.model, limit=3))
    maps = occlusion(cramped, chelsea, window=112, stride=56, batch_size=16, method="full")
    assert maps.batch_size == 2  # 16 → 8 → 4 → 2
    assert np.allclose(maps.probability, reference.probability, atol=1e-6)


def test_out_of_memory_at_one_image_is_a_clear_error(lite0, chelsea):
    from dataclasses import replace

    from cnnviz.explain.occlusion import DeviceMemoryError

    with pytest.raises(DeviceMemoryError, match="not enough free memory for even one"):
        occlusion(replace(lite0, model=_Cramped(lite0.model, limit=0)), chelsea, window=112, stride=56, method="full")


def test_coarse_passes_preview_the_final_map(lite0, chelsea):
    """Stride 16 shows its ×4 and ×2 grids first; each preview is exactly the final map at those positions,
    and every position is computed once (progress ends at the final count)."""
    previews, counts = [], []
    maps = occlusion(
        lite0, chelsea, window=48, stride=16, preview=previews.append, progress=lambda d, t: counts.append(d)
    )
    assert [p.stride for p in previews] == [64, 32]
    for preview in previews:
        step = preview.stride // maps.stride
        assert np.array_equal(preview.positions, maps.positions[::step])
        assert np.array_equal(preview.probability, maps.probability[::step, ::step])
        assert np.array_equal(preview.argmax, maps.argmax[::step, ::step])
    assert counts[-1] == maps.probability.size and counts == sorted(set(counts))


def test_auto_method_measures_both_and_gives_the_same_maps(lite0, chelsea):
    from cnnviz.explain import costs

    costs.forget()
    auto = occlusion(lite0, chelsea, window=64, stride=16, batch_size=4)
    full = occlusion(lite0, chelsea, window=64, stride=16, batch_size=4, method="full")
    measured = {key[2]: seconds for key, seconds in costs.figures().items()}
    assert set(measured) == {"incremental", "full"} and all(v > 0 for v in measured.values())
    assert np.abs(auto.probability - full.probability).max() <= 1e-5 and auto.method in ("incremental", "full")


def test_estimate_measures_this_process_and_proposes_a_quicker_stride(lite0, chelsea):
    """With no figure yet, the estimate times both methods on a few positions; the proposed stride fits
    the budget by that figure, and a map's own timing replaces the probe's."""
    from cnnviz.explain import costs
    from cnnviz.explain.occlusion import estimate

    costs.forget()
    guess = estimate(lite0, chelsea, window=32, stride=2, budget=1.0)
    assert {key[2] for key in costs.figures()} == {"incremental", "full"}
    assert guess.method in ("incremental", "full") and guess.per_position > 0
    assert guess.seconds == pytest.approx(len(grid_positions(224, 32, 2)) ** 2 * guess.per_position)
    quick = len(grid_positions(224, 32, guess.quick_stride)) ** 2 * guess.per_position
    assert guess.quick_stride > 2 and quick <= 1.0
    assert len(grid_positions(224, 32, guess.quick_stride - 1)) ** 2 * guess.per_position > 1.0
