"""A library's classifier by name (``torchvision:NAME``, ``timm:NAME``): its spec from what the library
publishes, the zoo's weights chain offline (seeded random, said plainly), the library's preprocessing,
predictions, layer tables and the command line; names that are not classifiers refused in one sentence."""

from __future__ import annotations

import json

import pytest
import timm
import torchvision.models

import cnnviz
from cnnviz.errors import UnknownArchitectureError
from cnnviz.layers import layer_table
from cnnviz.models.weights import WeightsSource


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("CNNVIZ_OFFLINE", "1")  # this machine has no network: the chain ends in random weights


@pytest.mark.parametrize("name", ["torchvision:squeezenet1_1", "timm:convnext_atto", "timm:resnet18.a1_in1k"])
def test_a_library_classifier_loads_predicts_and_has_a_layer_table(name, chelsea):
    net = cnnviz.load(name, device="cpu")
    assert net.name == name and net.weights_source is WeightsSource.RANDOM and not net.meaningful
    assert "offline" in net.weights_detail  # said plainly: not cached, downloads off
    scores = cnnviz.predict(net, chelsea, 5).scores
    assert len(scores) == 5 and all(0 <= s.prob <= 1 for s in scores)
    assert {s.label for s in scores} <= set(cnnviz.models.loading.imagenet_categories())
    table = layer_table(name)
    assert len(table.layers) > 10 and table.layers[-1].out_shape[0] == 1000  # the 1,000 classes, last


def test_the_librarys_own_preprocessing_is_used():
    squeezenet = cnnviz.load("torchvision:squeezenet1_1", device="cpu").preprocess
    transforms = torchvision.models.SqueezeNet1_1_Weights.DEFAULT.transforms()
    assert (squeezenet.resize, squeezenet.crop) == (transforms.resize_size[0], transforms.crop_size[0])
    assert squeezenet.mean == pytest.approx(transforms.mean)
    tagged = cnnviz.get_spec("timm:resnet18.a1_in1k").preprocessing
    cfg = timm.models.get_pretrained_cfg("resnet18.a1_in1k")
    assert tagged.crop == cfg.input_size[-1] and tagged.resize == int(cfg.input_size[-1] / cfg.crop_pct)
    assert cnnviz.get_spec("timm:resnet18.a1_in1k").pretrained.ident == "resnet18.a1_in1k"
    assert cnnviz.get_spec("timm:convnext_atto").pretrained.ident == "convnext_atto.d2_in1k"  # the default tag


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("timm:no_such_network", "library_unknown"),
        ("torchvision:no_such_network", "library_unknown"),
        ("torchvision:fcn_resnet50", "library_unknown"),  # a segmentation network, not a classifier
        ("timm:../../etc/passwd", "library_bad_name"),
        ("timm:" + "a" * 5000, "library_bad_name"),
        ("timm:vit_base_patch16_224.augreg_in21k", "library_classes"),  # 21,843 classes
        ("keras:resnet50", "unknown_arch"),
    ],
)
def test_what_is_not_an_imagenet_classifier_of_the_library_is_refused(name, key):
    with pytest.raises(UnknownArchitectureError) as refused:
        cnnviz.get_spec(name)
    assert refused.value.key == key and "\n" not in str(refused.value)


def test_the_command_line_takes_a_library_name(cli, chelsea, tmp_path):
    photo = tmp_path / "chelsea.png"
    chelsea.save(photo)
    predicted = cli("predict", str(photo), "--arch", "torchvision:squeezenet1_1", "--json")
    assert predicted.returncode == 0, predicted.stderr
    assert len(json.loads(predicted.stdout)) == 5
    refused = cli("predict", str(photo), "--arch", "timm:vit_base_patch16_224.augreg_in21k")
    assert refused.returncode == 2 and "21843 classes" in refused.stderr and len(refused.stderr.splitlines()) == 1


# The coverage benchmark's fixed sample (bench/coverage.py runs one network per family of both libraries):
# a transformer refused by every map view, and a classifier made of a 1×1 convolution after the pooling.
# Expected outcome of each view; "refused" must be one sentence.
COVERAGE_SAMPLE = {
    "timm:vit_tiny_patch16_224": {"deconv": "refused", "gradcam": "refused", "occlusion": "refused", "twin": "refused"},
    "timm:dla34": {},
}  # ConvNeXt's refused twin (a layer norm after the pooling) is tested in tests/test_localize.py


@pytest.mark.parametrize("name", list(COVERAGE_SAMPLE))
def test_every_view_works_or_refuses_in_one_sentence_on_the_coverage_sample(name):
    from harness.coverage import VIEWS, one

    row = one(name)
    for view in VIEWS:
        outcome, detail, _ = row[view]
        assert outcome == COVERAGE_SAMPLE[name].get(view, "works"), (view, detail)
        assert outcome == "works" or (detail.endswith(".") and "\n" not in detail)


def test_a_builder_that_computes_while_building_gets_its_layer_table():
    """torchvision's RegNet derives its widths with tensors, which the meta device cannot give values of."""
    table = layer_table("torchvision:regnet_x_400mf")
    assert table.layers[-1].out_shape == (1000,) and len(table.layers) > 100
