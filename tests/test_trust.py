"""Can we trust the map? Deletion and insertion curves on the bundled Lite0 (real weights) and a real photo:
the same numbers as Quantus's pixel flipping, the curves' ends where they must be, a map against a random
order, the class evidence of the deconvnet and guided backpropagation, and absurd settings refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import cnnviz
from cnnviz.errors import CnnvizError
from cnnviz.gallery import gallery_image
from cnnviz.trust.evidence import evidence_map
from cnnviz.trust.faithfulness import perturbation_curve

STEPS = 16  # LeNet-5's 32² / 16 = 64 pixels a step: Quantus takes a whole number of features per step


@pytest.fixture(scope="module")
def espresso(lite0, coffee):
    """The coffee photo's top class (espresso, 967) and guided backpropagation's map of it."""
    return 967, evidence_map(lite0, coffee, "guided", 967)


def test_the_deletion_curve_is_quantus_pixel_flipping():
    """Quantus's ``PixelFlipping`` (one copy at a time) on the same input, order and fill: every point within
    1e-5. On LeNet-5 (real weights, the gallery's digit): Quantus flips single values, which are pixels only
    for a one-channel network. The order is made free of ties first (the libraries break ties differently)."""
    import quantus

    net, digit = cnnviz.load("lenet5", device="cpu"), gallery_image("digit")
    target = cnnviz.predict(net, digit).scores[0].index
    values = evidence_map(net, digit, "saliency", target)
    order = np.argsort(-values.reshape(-1), kind="stable")
    ranking = np.empty(order.size, dtype=np.float32)
    ranking[order] = np.arange(order.size, 0, -1)  # distinct ranks, our order
    ranking = ranking.reshape(values.shape)
    ours = perturbation_curve(net, digit, ranking, "deletion", target, steps=STEPS)
    x = net.preprocess(digit).numpy()
    metric = quantus.PixelFlipping(
        features_in_step=ranking.size // STEPS, perturb_baseline=0.0, normalise=False, disable_warnings=True
    )
    model = net.model.float()
    theirs = metric(model, x, np.array([target]), ranking[None, None], device="cpu", softmax=True)
    np.testing.assert_allclose(ours.probabilities[1:], np.asarray(theirs[0]), atol=1e-5)
    assert ours.probabilities[0] - ours.probabilities[4] > 0.1  # the curve moves: the comparison is not empty


def test_the_curves_start_and_end_where_they_must(lite0, coffee, espresso):
    target, values = espresso
    clean = next(s.prob for s in cnnviz.predict(lite0, coffee, top=1000).scores if s.index == target)
    deletion = perturbation_curve(lite0, coffee, values, "deletion", target)
    insertion = perturbation_curve(lite0, coffee, values, "insertion", target)
    assert len(deletion.fractions) == 51 and deletion.fractions[0] == 0 and deletion.fractions[-1] == 1
    assert deletion.probabilities[0] == pytest.approx(clean, abs=1e-5) == deletion.random_probabilities[0]
    assert insertion.probabilities[-1] == pytest.approx(clean, abs=1e-5)
    blank = deletion.probabilities[-1]  # every pixel at the fill: the same image whatever the order
    assert blank == pytest.approx(insertion.probabilities[0], abs=1e-6) == insertion.random_probabilities[0]
    assert blank < 0.05 < clean
    # guided backpropagation finds the espresso: revealing its pixels first beats a random order (measured
    # 0.33 against 0.12) and removing them first lowers the probability sooner
    assert insertion.auc > insertion.random_auc + 0.1
    assert deletion.probabilities[5] < deletion.random_probabilities[5]


def test_the_deconvnet_and_guided_evidence_of_a_class_are_the_rules_gradients(lite0, coffee, espresso):
    """On VGG-11 (nn.ReLU modules, which captum's hooks see) guided backpropagation's map is captum's
    ``GuidedBackprop`` and the deconvnet's is captum's ``Deconvolution``, within 1e-6 of the largest."""
    from captum.attr import Deconvolution, GuidedBackprop

    net = cnnviz.load("vgg11", weights="random", device="cpu")
    x = net.preprocess(coffee).requires_grad_()
    model = net.model.float()
    for method, library in (("guided", GuidedBackprop), ("deconvnet", Deconvolution)):
        ours = evidence_map(net, coffee, method, 967)
        theirs = library(model).attribute(x, target=967)[0].abs().amax(0).detach().numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-6 * theirs.max())
    assert not np.allclose(espresso[1], evidence_map(lite0, coffee, "saliency", 967))  # a rule, not the gradient


def test_the_command_line_prints_the_curve_and_refuses_absurd_settings(cli, coffee, tmp_path):
    coffee.save(tmp_path / "coffee.png")
    photo = str(tmp_path / "coffee.png")
    result = cli("trust", photo, "--method", "guided", "--check", "insertion", "--steps", "10", "--json")
    assert result.returncode == 0, result.stderr
    curve = json.loads(result.stdout)
    assert curve["target"] == 967 and len(curve["fractions"]) == len(curve["probabilities"]) == 11
    assert curve["auc"] > curve["random_auc"]
    drawn = cli("trust", photo, "--steps", "4", "--out", str(tmp_path / "curve.png"))
    assert drawn.returncode == 0 and (tmp_path / "curve.png").stat().st_size > 10_000
    digit = tmp_path / "digit.png"
    gallery_image("digit").save(digit)
    cascade = cli("trust", str(digit), "--arch", "lenet5", "--method", "saliency", "--check", "randomisation", "--json")
    assert cascade.returncode == 0, cascade.stderr
    figures = json.loads(cascade.stdout)
    assert figures["layers"][:2] == ["none", "classifier.output"] and figures["spearman"][0] == pytest.approx(1.0)
    assert len(figures["layers"]) == len(figures["spearman"]) == len(figures["ssim"]) > 3
    assert figures["spearman"][-1] < 0.9  # every block random: the map has moved
    for flags, message in (
        (("--steps", "0"), "from 2 to 1,000"),
        (("--steps", "1000000000"), "from 2 to 1,000"),
        (("--method", "magic"), "invalid choice"),
        (("--check", "vibes"), "invalid choice"),
        (("--target", "5000"), "class"),
    ):
        refused = cli("trust", photo, *flags)
        lines = refused.stderr.strip().splitlines()
        assert refused.returncode == 2 and len(lines) == 1 and message in lines[0], lines


def test_the_engine_refuses_what_the_command_line_cannot_send(lite0, coffee, espresso):
    _, values = espresso
    for kwargs, key in (
        ({"kind": "deletion", "steps": 0}, "trust_steps"),
        ({"kind": "deletion", "steps": True}, "trust_steps"),
        ({"kind": "erosion"}, "trust_check"),
    ):
        with pytest.raises(CnnvizError) as refused:
            perturbation_curve(lite0, coffee, values, target=967, **kwargs)
        assert refused.value.key == key
    with pytest.raises(CnnvizError) as refused:
        evidence_map(lite0, coffee, "astrology")
    assert refused.value.key == "trust_method"
    assert torch.is_grad_enabled()


def test_guided_backpropagation_keeps_its_map_when_the_top_is_random_and_grad_cam_does_not(lite0, chelsea):
    """Adebayo et al.'s cascade on Lite0's real weights, four blocks down (classifier, last batch norm,
    head convolution, last inverted-residual block): guided backpropagation's map does not move (the
    paper's failure; measured Spearman ≥ 0.999 at every depth), Grad-CAM's does (0.47 once the classifier
    is random, 0.18 on average over the four). The shared model is untouched."""
    from cnnviz.trust.randomisation import TRAINED, cascading_randomisation

    before = {name: tensor.clone() for name, tensor in lite0.model.state_dict().items()}
    result = cascading_randomisation(lite0, chelsea, ("guided", "gradcam"), target=282, depth=4)
    assert result.layers == (TRAINED, "classifier", "bn2", "conv_head", "blocks.6.0")
    assert result.spearman["guided"][0] == pytest.approx(1.0) and result.ssim["gradcam"][0] == pytest.approx(1.0)
    assert min(result.spearman["guided"]) > 0.99 and min(result.ssim["guided"]) > 0.99
    assert np.mean(result.spearman["gradcam"][1:]) < 0.3 and np.mean(result.ssim["gradcam"][1:]) < 0.5
    assert len(result.maps["gradcam"]) == 5 and result.maps["gradcam"][2].shape == (224, 224)
    assert all(torch.equal(before[name], tensor) for name, tensor in lite0.model.state_dict().items())


def test_a_photo_box_lands_on_the_input_where_the_preprocessing_puts_it(lite0):
    """A white rectangle on a black photo, preprocessed: its pixels in the network's input are the box
    ``box_in_input`` computes, for a landscape and a portrait photo."""
    from PIL import Image

    from cnnviz.trust.localisation import box_in_input

    for size, box in (((640, 480), (100, 60, 400, 300)), ((300, 900), (20, 400, 250, 800))):
        photo = np.zeros((size[1], size[0], 3), np.uint8)
        photo[box[1] : box[3], box[0] : box[2]] = 255
        seen = np.asarray(lite0.preprocess.crop_image(Image.fromarray(photo)).convert("L")) > 127
        rows, cols = np.nonzero(seen)
        assert box_in_input(lite0.preprocess, size, box) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)


def test_pointing_and_energy_are_quantus_figures_on_the_astronauts_shuttle(lite0):
    """Grad-CAM of space shuttle (812) on the astronaut photo against the hand-drawn box around the shuttle
    model (15 % of the input): a hit, with 68 % of the map inside; Quantus's ``PointingGame`` and
    ``RelevanceMassAccuracy`` on the same map and box give the same hit and the same energy (1e-6)."""
    import quantus

    from cnnviz.explain.detect import reference_for
    from cnnviz.trust.localisation import box_in_input, localisation

    astronaut = gallery_image("astronaut")
    values = evidence_map(lite0, astronaut, "gradcam", 812)
    box = box_in_input(lite0.preprocess, astronaut.size, reference_for("astronaut", "space shuttle").box)
    ours = localisation(values, box)
    assert ours.hit and ours.area < 0.2 < 0.5 < ours.energy  # far more than a flat map's share
    mask = np.zeros((1, 1, *values.shape), np.float32)
    mask[..., box[1] : box[3], box[0] : box[2]] = 1
    x = lite0.preprocess(astronaut).numpy()
    inputs = {"x_batch": x, "y_batch": np.array([812]), "a_batch": values[None, None], "s_batch": mask}
    hit = quantus.PointingGame(normalise=False, disable_warnings=True)(model=None, **inputs)
    energy = quantus.RelevanceMassAccuracy(normalise=False, disable_warnings=True)(model=None, **inputs)
    assert bool(hit[0]) is ours.hit
    assert energy[0] == pytest.approx(ours.energy, abs=1e-6)


def test_the_command_line_points_with_a_box_and_refuses_without_one(cli, tmp_path):
    from cnnviz.explain.detect import reference_for

    photo = str(tmp_path / "astronaut.png")
    gallery_image("astronaut").save(photo)
    box = ",".join(str(v) for v in reference_for("astronaut", "space shuttle").box)
    found = cli("trust", photo, "--check", "pointing", "--box", box, "--target", "812", "--json")
    assert found.returncode == 0, found.stderr
    figures = json.loads(found.stdout)
    assert figures["hit"] is True and figures["energy"] > figures["area"] > 0
    for flags, message in ((("--check", "pointing"), "needs the object's box"), (("--box", "5,5,1,1"), "not a box")):
        refused = cli("trust", photo, *flags)
        lines = refused.stderr.strip().splitlines()
        assert refused.returncode == 2 and len(lines) == 1 and message in lines[0], lines


def test_the_shipped_twin_memorised_shuffled_labels_and_leaves_lenet5_alone():
    """``lenet5_shuffled_labels.pt`` (``scripts/train_lenet5.py --shuffle-labels``): every shuffled training
    label learnt, chance on the held-out digits' true labels, on a private copy of the shared network."""
    from cnnviz.digits import accuracy, digit_split, split_indices
    from cnnviz.trust.data_randomisation import data_randomisation, held_out_digit, shuffled_labels, shuffled_twin

    net = cnnviz.load("lenet5", device="cpu")
    before = {k: v.clone() for k, v in net.model.state_dict().items()}
    twin = shuffled_twin(net)
    split = digit_split()
    assert (shuffled_labels(split.train_labels) == split.train_labels).float().mean() < 0.15  # shuffled indeed
    assert accuracy(twin.model, split.train_images, shuffled_labels(split.train_labels)) == 1.0
    assert accuracy(twin.model, split.test_images, split.test_labels) < 0.15
    assert accuracy(net.model, split.test_images, split.test_labels) > 0.97
    image, index = held_out_digit(3)
    assert index in split_indices()[1] and cnnviz.predict(net, image).scores[0].index == 3
    result = data_randomisation(net, image, ("guided", "gradcam"), 3)
    assert result.trained["guided"].shape == result.shuffled["guided"].shape == (32, 32)
    assert result.spearman["guided"] > result.spearman["gradcam"]
    assert all(torch.equal(before[k], v) for k, v in net.model.state_dict().items())
