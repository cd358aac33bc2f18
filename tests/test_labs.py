"""The teaching labs' engines on real data: drawings of digits through the bundled LeNet-5, plain vs
residual depth on the digits, transfer learning from the bundled Lite0 weights, DropBlock vs dropout on a
gallery photo."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from sklearn.datasets import load_digits

import cnnviz
from cnnviz.digits import split_indices
from cnnviz.errors import CnnvizError

# --- Draw a digit -------------------------------------------------------------------------------------

INK = (255, 255, 255, 255)


def canvas(*strokes) -> np.ndarray:
    """A 280×280 RGBA canvas like the page's (white strokes of width 18 on black) with ``strokes``."""
    picture = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    pen = ImageDraw.Draw(picture)
    for stroke in strokes:
        stroke(pen)
    return np.asarray(picture)


DRAWN = {
    0: canvas(lambda p: p.ellipse((90, 50, 190, 230), outline=INK, width=18)),
    1: canvas(lambda p: p.line((140, 40, 140, 240), fill=INK, width=18)),
    2: canvas(
        lambda p: p.arc((80, 40, 200, 140), 180, 30, fill=INK, width=18),
        lambda p: p.line((190, 110, 80, 240), fill=INK, width=18),
        lambda p: p.line((80, 240, 210, 240), fill=INK, width=18),
    ),
    4: canvas(
        lambda p: p.line((170, 40, 170, 240), fill=INK, width=18),
        lambda p: p.line((170, 40, 80, 160), fill=INK, width=18),
        lambda p: p.line((80, 160, 210, 160), fill=INK, width=18),
    ),
}


@pytest.fixture(scope="module")
def lenet5():
    return cnnviz.load("lenet5", device="cpu")


@pytest.mark.parametrize("digit", list(DRAWN))
def test_a_drawn_digit_is_read(lenet5, digit):
    from cnnviz.labs.drawing import digit_from_drawing, trace_lenet

    trace = trace_lenet(lenet5, digit_from_drawing(DRAWN[digit]))
    assert trace.digit == digit
    assert trace.probabilities.sum() == pytest.approx(1, abs=1e-5)


def test_every_stage_has_the_papers_shape(lenet5):
    from cnnviz.labs.drawing import digit_from_drawing, trace_lenet

    trace = trace_lenet(lenet5, digit_from_drawing(DRAWN[0]))
    shapes = {stage: values.shape for stage, values in trace.stages.items()}
    assert shapes == {
        "C1": (6, 28, 28),
        "S2": (6, 14, 14),
        "C3": (16, 10, 10),
        "S4": (16, 5, 5),
        "C5": (120,),
        "F6": (84,),
    }
    assert trace.input.shape == (32, 32)
    # S2 is C1 max-pooled: the stages are the network's own intermediate outputs
    pooled = F.max_pool2d(torch.from_numpy(trace.stages["C1"]), 2).numpy()
    np.testing.assert_allclose(trace.stages["S2"], pooled)


def test_held_out_digits_drawn_large_on_the_canvas_are_read_like_the_originals(lenet5):
    """Each held-out digit, enlarged to 200 px on the 280 px canvas, goes through the drawing pipeline."""
    from cnnviz.labs.drawing import digit_from_drawing, trace_lenet

    bunch, held_out = load_digits(), split_indices()[1]
    correct = 0
    for i in held_out:
        big = Image.fromarray((bunch.images[i] / 16 * 255).astype(np.uint8)).resize((200, 200), Image.BILINEAR)
        board = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
        board.paste(big.convert("RGBA"), (40, 40))
        correct += trace_lenet(lenet5, digit_from_drawing(np.asarray(board))).digit == bunch.target[i]
    assert correct / len(held_out) >= 0.93  # measured 95.3 % (the digits themselves: ≥ 97 %)


def test_an_empty_or_transparent_canvas_is_no_digit():
    from cnnviz.labs.drawing import digit_from_drawing

    assert digit_from_drawing(np.zeros((280, 280, 4), np.uint8)) is None
    white_but_transparent = np.full((280, 280, 4), 255, np.uint8)
    white_but_transparent[..., 3] = 0
    assert digit_from_drawing(white_but_transparent) is None


# --- Vanishing gradients ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_depth_lab():
    """The default run the page opens on (``scripts/precompute_depth_lab.py``): the page's conclusions are
    checked on it, and that it is what the script computes by a short real run below."""
    from cnnviz.labs.depth import precomputed_default

    shipped = precomputed_default()
    assert shipped is not None, "run scripts/precompute_depth_lab.py"
    return shipped


def assert_plain_vs_residual_gap(lab) -> None:
    """He et al. 2016, Fig. 1: the deeper plain net trains worse; the residual one does not."""
    s = lab.settings
    plain_shallow, plain_deep = lab.run(s.shallow, False).final_loss(), lab.run(s.deep, False).final_loss()
    res_shallow, res_deep = lab.run(s.shallow, True).final_loss(), lab.run(s.deep, True).final_loss()
    assert plain_deep > plain_shallow + 0.5  # measured 2.16 vs 0.63
    assert res_deep < plain_deep / 5 and abs(res_deep - res_shallow) < 0.15  # measured 0.17 and 0.14
    assert lab.run(s.deep, False).train_error > 0.5 > 0.05 > lab.run(s.deep, True).train_error


def test_default_settings_reproduce_the_plain_vs_residual_gap(shipped_depth_lab):
    assert_plain_vs_residual_gap(shipped_depth_lab)


def test_plain_gradients_span_orders_of_magnitude_residual_ones_do_not(shipped_depth_lab):
    lab = shipped_depth_lab
    for residual, low, high in ((False, 500, None), (True, None, 20)):  # measured 1,988 and 8.3
        norms = np.array(lab.run(lab.settings.deep, residual).gradients_at_init[:-1])  # the convolutions
        spread = norms.max() / norms.min()
        assert (low is None or spread > low) and (high is None or spread < high), (residual, spread)
    assert len(lab.run(lab.settings.deep, False).gradients_at_init) == lab.settings.deep


def test_the_shipped_default_run_is_what_the_script_computes(shipped_depth_lab):
    """A real run of the default settings for one epoch (of ten): the same networks and data, so identical
    gradients at initialisation and first steps. Later steps depend on the thread count's summation order
    (plain deep nets amplify it), so the whole runs are compared by their conclusions (above)."""
    from cnnviz.labs.depth import DepthSettings, depth_lab

    with torch.random.fork_rng(devices=[]):
        fresh_lab = depth_lab(dataclasses.replace(DepthSettings(), epochs=1))
    assert shipped_depth_lab.settings == DepthSettings()
    for fresh, stored in zip(fresh_lab.runs, shipped_depth_lab.runs, strict=True):
        assert (fresh.depth, fresh.residual, fresh.steps_per_epoch) == (stored.depth, stored.residual, 22)
        np.testing.assert_allclose(fresh.gradients_at_init, stored.gradients_at_init, rtol=1e-3)
        np.testing.assert_allclose(fresh.step_losses[:3], stored.step_losses[:3], rtol=1e-2)
        assert len(fresh.step_losses) == 22 and len(stored.step_losses) == 10 * 22


def test_without_batch_norm_plain_gradients_shrink_and_residual_ones_blow_up():
    """What the page's batch-norm help says: at initialisation (He et al.'s), with no normalisation, the
    56-layer plain net's first convolution gets a fraction of the last one's gradient, and the residual
    net's gradients are thousands of times larger than with batch norm."""
    from cnnviz.digits import digits_8x8
    from cnnviz.labs.depth import DepthNet, gradient_norms

    images, labels = digits_8x8()
    norms = {}
    for residual in (False, True):
        for batch_norm in (False, True):
            torch.manual_seed(0)
            net = DepthNet(56, 16, residual=residual, batch_norm=batch_norm)
            norms[residual, batch_norm] = gradient_norms(net, images[:256], labels[:256])
    plain = norms[False, False]
    assert plain[0] < 0.25 * plain[-2]  # measured 8.5e-4 vs 5.5e-3
    assert min(norms[True, False][:-1]) > 1000 * max(norms[True, True][:-1])  # measured ≥ 1.3e4 vs ≤ 0.5


def test_depth_settings_out_of_range_are_refused():
    from cnnviz.labs.depth import DepthSettings, depth_lab

    for bad in (
        DepthSettings(shallow=20, deep=20),
        DepthSettings(deep=57),
        DepthSettings(width=1000),
        DepthSettings(epochs=0),
    ):
        with pytest.raises(CnnvizError):
            depth_lab(bad)


# --- Transfer learning --------------------------------------------------------------------------------


def test_frozen_pretrained_backbone_beats_the_same_network_from_scratch(lite0, tmp_path):
    from cnnviz.labs.transfer import digit_images, transfer_lab

    train, test = digit_images(per_class=5)
    assert len(train.labels) == 50 and len(test.labels) == 100 and set(train.labels) == set(range(10))
    steps = []
    # at the smallest offered size (96 px: 10 s instead of 16 s at the default 128 px, where the same
    # conclusion holds: 70 % against 29 %) and 5 epochs (6 s; the page's 15, 21 % from scratch, are trained
    # by tests/e2e/test_labs_browser.py)
    result = transfer_lab(
        lite0, train, test, input_size=96, epochs=5, progress=lambda done, total: steps.append((done, total))
    )
    assert result.frozen.accuracy >= 0.6  # measured 72 %
    assert result.frozen.accuracy >= result.scratch.accuracy + 0.25  # scratch measured 9 %
    assert result.frozen.confusion.shape == (10, 10) and result.frozen.confusion.sum() == 100
    assert np.trace(result.frozen.confusion) == round(result.frozen.accuracy * 100)
    assert steps[-1][0] == steps[-1][1]  # the progress bar reaches its end
    assert (_checkpoint_predictions(lite0, result, test, tmp_path) == result.frozen.predicted).all()


def _checkpoint_predictions(lite0, result, test, folder) -> np.ndarray:
    """The lab's network saved as a checkpoint and its names, loaded as one's own network, and its
    predictions on ``test`` at the lab's input size: the probe's, if the checkpoint is the probe."""
    from cnnviz.labs.transfer import _tensors, class_names_file, fine_tuned_checkpoint

    (folder / "fine-tuned.pt").write_bytes(fine_tuned_checkpoint(lite0, result))
    (folder / "classes.txt").write_text(class_names_file(result), encoding="utf-8")
    net = cnnviz.load("efficientnet_lite0", weights=str(folder / "fine-tuned.pt"), labels=folder / "classes.txt")
    assert net.categories == tuple(name.replace("[", " ").strip() for name in result.classes)
    with torch.inference_mode():
        return net.model(net.to_input(_tensors(net, test.images, result.input_size))).argmax(1).cpu().numpy()


def test_two_classes_fine_tuned_download_predicts_as_the_probe(lite0, chelsea, coffee, tmp_path):
    """scikit-learn keeps one row for two classes; the checkpoint's classifier has two, with the same answers."""
    from cnnviz.labs.transfer import split_uploads, transfer_lab

    photos = [chelsea, chelsea.rotate(90), chelsea.transpose(0)], [coffee, coffee.rotate(90), coffee.transpose(0)]
    train, test = split_uploads({"[cat": photos[0], "coffee": photos[1]})
    result = transfer_lab(lite0, train, test, input_size=96, epochs=1)
    assert result.probe_weight.shape == (2, 1280)
    assert (_checkpoint_predictions(lite0, result, test, tmp_path) == result.frozen.predicted).all()


def test_own_images_are_split_per_class_and_too_few_are_refused(chelsea, coffee):
    from cnnviz.labs.transfer import split_uploads

    train, test = split_uploads({"cat": [chelsea] * 3, "coffee": [coffee] * 4, "": [chelsea]})
    assert train.classes == ("cat", "coffee") and train.per_class() == [2, 3] and test.per_class() == [1, 1]
    with pytest.raises(CnnvizError, match="at least two classes"):
        split_uploads({"cat": [chelsea] * 3, "coffee": [coffee]})


def test_transfer_lab_needs_the_pretrained_backbone(chelsea, coffee):
    from cnnviz.labs.transfer import split_uploads, transfer_lab

    random_lite0 = cnnviz.load("efficientnet_lite0", weights="random", device="cpu")
    train, test = split_uploads({"cat": [chelsea] * 2, "coffee": [coffee] * 2})
    with pytest.raises(CnnvizError, match="ImageNet weights"):
        transfer_lab(random_lite0, train, test)


# --- DropBlock vs dropout -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drops():
    from cnnviz.gallery import gallery_image
    from cnnviz.labs.dropblock import compare_drops

    net = cnnviz.load("efficientnet_lite0", weights="bundled", device="cpu")
    return compare_drops(net, gallery_image("chelsea"), "blocks.5.3", drop_rate=0.1, block_size=5, draws=32)


def test_both_methods_drop_about_the_asked_share_of_units(drops):
    assert drops.dropped_fraction["dropout"] == pytest.approx(0.1, abs=0.01)
    assert drops.dropped_fraction["dropblock"] == pytest.approx(0.1, abs=0.015)  # overlapping blocks: 9.5 %


def test_dropblock_removes_whole_blocks_and_dropout_single_units(drops):
    """A dropped unit of DropBlock always lies in a fully dropped 5×5 square; dropout's rarely do."""

    def in_full_blocks(mask: np.ndarray, size: int) -> float:
        m = torch.from_numpy(mask).float()[:, None]
        full = -F.max_pool2d(-m, size, stride=1)  # 1 at the corner of every wholly dropped size×size square
        covered = F.max_pool2d(F.pad(full, [size - 1] * 4), size, stride=1)  # 1 on every unit of those squares
        return float((covered[:, 0].numpy() > 0)[mask].mean())

    assert drops.masks["dropblock"].any() and in_full_blocks(drops.masks["dropblock"], 5) == 1.0
    assert in_full_blocks(drops.masks["dropout"], 5) < 0.01


def test_dropblock_changes_the_prediction_more_than_dropout_at_the_same_rate(drops):
    """Dropout's lost units are covered by their neighbours; a dropped block is not (Ghiasi et al. 2018)."""
    probs = drops.probabilities
    assert drops.draws == 32 and drops.target == 282  # tiger cat
    assert probs["dropblock"].std() > 1.5 * probs["dropout"].std()  # measured 0.088 vs 0.038
    assert drops.top1_kept["dropblock"] < drops.top1_kept["dropout"]  # measured 13 vs 24 of 32


def test_dropblock_settings_out_of_range_are_refused(lite0, chelsea):
    from cnnviz.labs.dropblock import compare_drops

    for rate, block, draws in ((0.0, 5, 8), (1.0, 5, 8), (0.1, 4, 8), (0.1, 15, 8), (0.1, 5, 0), (0.1, 5, 10_000)):
        with pytest.raises(CnnvizError):
            compare_drops(lite0, chelsea, "blocks.5.3", rate, block, draws)


SHORT_RUN_ACCURACY = 0.7  # ten classes: chance is 0.1


# --- Pooling or stride --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_pooling_lab():
    """The default run the page opens on (``scripts/precompute_pooling_lab.py``)."""
    from cnnviz.labs.pooling import precomputed_default

    shipped = precomputed_default()
    assert shipped is not None, "run scripts/precompute_pooling_lab.py"
    return shipped


def assert_pooling_conclusions(lab) -> None:
    """What the page says, on any run of the default settings: the same parameters; the strided network
    computes a quarter of the MACs (the linear layer is the same); both read the held-out digits well;
    moved digits cost both accuracy, more with every pixel, and cost the strided network more (measured:
    2 px cost 23 and 36 points)."""
    pool, stride = lab.run("pool"), lab.run("stride")
    assert pool.params == stride.params == 23_946
    assert pool.macs == pytest.approx(4 * stride.macs, rel=0.01)  # the convolutions at a quarter of the positions
    assert pool.accuracy > 0.9 and stride.accuracy > 0.88
    for run in (pool, stride):
        losses = [run.shift_loss(s) for s in (1, 2, 3)]
        assert 0 < losses[0] < losses[1] < losses[2], (run.kind, losses)
    assert pool.shift_loss(2) + 0.05 < stride.shift_loss(2)
    assert pool.shift_loss(3) + 0.05 < stride.shift_loss(3)


def test_the_shipped_pooling_run_is_the_default_settings_and_says_the_same(shipped_pooling_lab):
    from cnnviz.labs.pooling import PoolingSettings

    assert shipped_pooling_lab.settings == PoolingSettings()
    assert len(shipped_pooling_lab.run("pool").accuracy_per_seed) == 3
    assert_pooling_conclusions(shipped_pooling_lab)


def test_a_short_real_pooling_run_builds_the_same_networks_and_learns(shipped_pooling_lab):
    """Eight epochs of one seed, really trained (about 3 s): the same parameters and MACs as the shipped
    run, held-out digits read well above chance (measured 86 % both), and moving them costs accuracy, more
    with every pixel."""
    from cnnviz.labs.pooling import PoolingSettings, pooling_lab

    with torch.random.fork_rng(devices=[]):
        short = pooling_lab(PoolingSettings(epochs=8, seeds=1))
    for kind in ("pool", "stride"):
        fresh, stored = short.run(kind), shipped_pooling_lab.run(kind)
        assert (fresh.params, fresh.macs) == (stored.params, stored.macs)
        losses = [fresh.shift_loss(shift) for shift in (1, 2, 3)]
        assert fresh.accuracy > SHORT_RUN_ACCURACY and 0 < losses[0] < losses[1] < losses[2], (kind, fresh)


def test_shifting_moves_the_ink_and_fills_with_paper():
    from cnnviz.labs.pooling import BACKGROUND, shifted

    image = torch.full((1, 1, 6, 6), BACKGROUND)
    image[0, 0, 2, 3] = 1.0
    moved = shifted(image, 1, -2)
    assert moved[0, 0, 3, 1] == 1.0 and (moved == 1.0).sum() == 1
    assert torch.equal(shifted(image, 0, 0), image)
    assert (shifted(image, 0, 6) == BACKGROUND).all()


def test_pooling_settings_out_of_range_are_refused():
    from cnnviz.labs.pooling import PoolingSettings, pooling_lab

    for bad in (PoolingSettings(epochs=0), PoolingSettings(learning_rate=0.5), PoolingSettings(seeds=9)):
        with pytest.raises(CnnvizError) as refused:
            pooling_lab(bad)
        assert refused.value.key == "pooling_params"
