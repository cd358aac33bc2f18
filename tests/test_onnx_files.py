"""ONNX files as networks (``onnx:PATH``): a zoo network exported to ONNX predicts as the original, the views
work on the converted graph, and hostile files are refused before anything of them runs."""

from __future__ import annotations

import json
import os

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

import cnnviz
from cnnviz.errors import WeightsError
from cnnviz.models import onnx_file
from cnnviz.models.zoo import IMAGENET, get_spec
from harness.coverage import VIEWS, run_views
from tests.conftest import CLASSES, encode


def test_an_exported_zoo_network_predicts_as_the_original(lite0, onnx_files, chelsea, coffee):
    """Lite0's real weights through torch.onnx.export and onnx2torch: every probability within 1e-4 (measured
    4e-7) on two photos, with the original's preprocessing; ImageNet's names for 1,000 outputs."""
    net = cnnviz.load(f"onnx:{onnx_files / 'lite0.onnx'}", device="cpu", preprocessing=lite0.preprocess)
    assert net.weights_source is cnnviz.WeightsSource.FILE and net.meaningful
    assert net.spec.family == "onnx" and net.spec.labels == IMAGENET and net.spec.classes == 1000
    assert net.spec.name.startswith("onnx@sha256:") and get_spec(net.spec.name) is net.spec
    assert "lite0.onnx" in net.weights_detail and "opset 17" in net.spec.paper
    for photo in (chelsea, coffee):
        ours, theirs = cnnviz.predict(net, photo, top=1000).scores, cnnviz.predict(lite0, photo, top=1000).scores
        assert [s.label for s in ours[:5]] == [s.label for s in theirs[:5]]
        by_class = {s.index: s.prob for s in theirs}
        assert max(abs(s.prob - by_class[s.index]) for s in ours) <= 1e-4


def test_the_preprocessing_is_the_users_or_imagenets(onnx_files):
    """Default: ImageNet's mean and std at the file's own input side (resize 256, crop 224); a user's is kept
    and changes the network's name, so results under two preprocessings never mix."""
    path = f"onnx:{onnx_files / 'lite0.onnx'}"
    default = cnnviz.load(path, device="cpu")
    assert default.preprocess.mean == (0.485, 0.456, 0.406) and (
        default.preprocess.resize,
        default.preprocess.crop,
    ) == (
        256,
        224,
    )
    mine = cnnviz.load(path, device="cpu", preprocessing=onnx_file.preprocessing_for(224, (0.5,) * 3, (0.5,) * 3))
    assert mine.preprocess.std == (0.5, 0.5, 0.5) and mine.spec.name != default.spec.name
    assert mine.spec.name.split("-")[0] == default.spec.name.split("-")[0]  # the same file's digest
    for size, mean, std in (
        (8, (0.5,) * 3, (0.5,) * 3),
        (224, (float("nan"),) * 3, (0.5,) * 3),
        (224, (0.5,) * 3, (0,) * 3),
    ):
        with pytest.raises(WeightsError) as refused:
            onnx_file.preprocessing_for(size, mean, std)
        assert refused.value.key == "onnx_preprocessing"
    with pytest.raises(WeightsError):
        onnx_file.preprocessing_for(224, (0.5,) * 3, (0.5,) * 3, "lanczos")


def test_the_settings_a_student_types_reproduce_the_zoo_networks_probabilities(lite0, onnx_files, chelsea):
    """Lite0's own preprocessing typed as a student would (224 px, mean and std 0.5, bicubic): every
    probability of the export within 1e-4 of the zoo network's; with bilinear (the default) they differ."""
    path = f"onnx:{onnx_files / 'lite0.onnx'}"
    theirs = {s.index: s.prob for s in cnnviz.predict(lite0, chelsea, top=1000).scores}
    for interpolation, close in (("bicubic", True), ("bilinear", False)):
        typed = onnx_file.preprocessing_for(224, (0.5,) * 3, (0.5,) * 3, interpolation)
        ours = cnnviz.predict(cnnviz.load(path, device="cpu", preprocessing=typed), chelsea, top=1000).scores
        assert (max(abs(s.prob - theirs[s.index]) for s in ours) <= 1e-4) is close, interpolation


def test_every_view_works_on_the_converted_graph(lite0, onnx_files, chelsea):
    """Layer table, top-5, deconvnet, Grad-CAM, incremental occlusion equal to full (1e-5), the twin."""
    net = cnnviz.load(f"onnx:{onnx_files / 'lite0.onnx'}", device="cpu", preprocessing=lite0.preprocess)
    row = run_views(net, chelsea)
    assert {view: row[view][0] for view in VIEWS} == dict.fromkeys(VIEWS, "works"), row
    assert row["occlusion"][1].startswith("incremental")


def test_a_three_class_export_with_its_names(onnx_files, chelsea, coffee):
    net = cnnviz.load(f"onnx:{onnx_files / 'mine.onnx'}", device="cpu", labels=onnx_files / "names.txt")
    assert net.categories == tuple(CLASSES) and net.spec.classes == 3
    assert cnnviz.predict(net, chelsea, top=3).scores[0].label == "my cat"
    assert cnnviz.predict(net, coffee, top=3).scores[0].label == "my espresso"
    unnamed = cnnviz.load(f"onnx:{onnx_files / 'mine.onnx'}", device="cpu")
    assert unnamed.categories == ("class 0", "class 1", "class 2")


def test_the_cli_predicts_with_an_onnx_file_and_the_users_preprocessing(cli, onnx_files, photos, lite0):
    path = onnx_files / "mine.onnx"
    args = ("predict", str(photos["chelsea"]), "--arch", f"onnx:{path}", "--labels", str(onnx_files / "names.txt"))
    result = cli(*args, "--mean", "0.5,0.5,0.5", "--std", "0.5,0.5,0.5", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["label"] for row in rows][:1] == ["my cat"] and len(rows) == 3
    table = cli("layers", f"onnx:{path}", "--format", "json")
    assert table.returncode == 0 and json.loads(table.stdout)[0]["module"] == "conv_stem/Pad"
    for flags, message in (
        (("--mean", "0.5,x"), "numbers separated by commas"),
        (("--input-size", "5"), "from 32 to 1,024"),
        (("--weights", "random"), "holds its own weights"),
    ):
        refused = cli("predict", str(photos["chelsea"]), "--arch", f"onnx:{path}", *flags)
        assert refused.returncode == 2 and message in refused.stderr and refused.stdout == "", refused.stderr
    refused = cli("predict", str(photos["chelsea"]), "--arch", "vgg11", "--interpolation", "bicubic")
    assert refused.returncode == 2 and "ONNX files only" in refused.stderr


@pytest.fixture
def photos(chelsea, tmp_path):
    chelsea.save(tmp_path / "chelsea.jpg")
    return {"chelsea": tmp_path / "chelsea.jpg"}


# --- Hostile files: refused, nothing run -------------------------------------------------------------------


def _model(nodes, inputs, outputs, initializers=(), opset=17, domain_opsets=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "hostile", inputs, outputs, initializer=list(initializers))
    opsets = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, v) for d, v in domain_opsets)]
    return helper.make_model(graph, opset_imports=opsets)


def _image(side=32):
    return helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, side, side])


def _scores(classes=10):
    return helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, classes])


def _tiny_classifier(pool_input="image") -> list:
    """GlobalAveragePool → Flatten → Gemm(3 → 10): a classifier of the image (or of ``pool_input``)."""
    return [
        helper.make_node("GlobalAveragePool", [pool_input], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w", "b"], ["scores"], transB=1),
    ]


def _head(channels: int = 3):
    return [
        numpy_helper.from_array(np.ones((10, channels), np.float32), "w"),
        numpy_helper.from_array(np.zeros(10, np.float32), "b"),
    ]


def _refusal(path, **kwargs) -> WeightsError:
    with pytest.raises(WeightsError) as refused:
        cnnviz.load(f"onnx:{path}", device="cpu", **kwargs)
    return refused.value


def test_a_minimal_hand_made_classifier_opens(tmp_path):
    """The hostile cases below differ from this one by their one fault."""
    onnx.save(_model(_tiny_classifier(), [_image()], [_scores()], _head()), tmp_path / "fine.onnx")
    assert cnnviz.load(f"onnx:{tmp_path / 'fine.onnx'}", device="cpu").spec.classes == 10


def test_external_data_is_refused_without_opening_the_file_it_names(tmp_path):
    """The weights "live" in a named pipe nobody writes to: opening it would hang the test."""
    os.mkfifo(tmp_path / "weights.bin")
    weight = numpy_helper.from_array(np.ones((10, 3), np.float32), "w")
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "weights.bin"), ("offset", "0"), ("length", "120")):
        weight.external_data.add(key=key, value=value)
    bias = numpy_helper.from_array(np.zeros(10, np.float32), "b")
    onnx.save(_model(_tiny_classifier(), [_image()], [_scores()], [weight, bias]), tmp_path / "external.onnx")
    assert _refusal(tmp_path / "external.onnx").key == "onnx_external"


def _hostile(case: str, chelsea) -> onnx.ModelProto | bytes:
    """The model (or bytes) of one hostile case; each differs from the fine one by its fault."""
    if case == "custom operator":
        nodes = [helper.make_node("Exec", ["image"], ["x"], domain="com.example"), *_tiny_classifier("x")]
        return _model(nodes, [_image()], [_scores()], _head(), domain_opsets=[("com.example", 1)])
    if case == "operator without converter":
        return _model(
            [helper.make_node("Hardmax", ["image"], ["x"]), *_tiny_classifier("x")], [_image()], [_scores()], _head()
        )
    if case == "a 12 GB tensor":
        shape = numpy_helper.from_array(np.array([2**20, 3, 32, 32], np.int64), "shape")
        nodes = [
            helper.make_node("ConstantOfShape", ["shape"], ["big"]),
            helper.make_node("Add", ["image", "big"], ["x"]),
        ]
        return _model([*nodes, *_tiny_classifier("x")], [_image()], [_scores()], [shape, *_head()])
    if case == "800 billion multiply-adds":  # 1024² outputs × 64 channels × 3 × 63² weights each
        kernel = numpy_helper.from_array(np.zeros((64, 3, 63, 63), np.float32), "k")
        nodes = [helper.make_node("Conv", ["image", "k"], ["x"], pads=[31] * 4), *_tiny_classifier("x")]
        return _model(nodes, [_image(1024)], [_scores()], [kernel, *_head(64)])
    if case == "size known only at run time":
        nodes = [
            helper.make_node("NonZero", ["image"], ["where"]),
            helper.make_node("Cast", ["where"], ["positions"], to=TensorProto.FLOAT),
            helper.make_node("ReduceMean", ["positions"], ["mean"], keepdims=0),
            helper.make_node("Add", ["image", "mean"], ["x"]),
            *_tiny_classifier("x"),
        ]
        return _model(nodes, [_image()], [_scores()], _head())
    if case == "two inputs":
        second = helper.make_tensor_value_info("other", TensorProto.FLOAT, [1, 3, 32, 32])
        nodes = [helper.make_node("Add", ["image", "other"], ["x"]), *_tiny_classifier("x")]
        return _model(nodes, [_image(), second], [_scores()], _head())
    if case == "not an image":
        vector = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3])
        return _model(
            [helper.make_node("Gemm", ["image", "w", "b"], ["scores"], transB=1)], [vector], [_scores()], _head()
        )
    fine = _model(_tiny_classifier(), [_image()], [_scores()], _head()).SerializeToString()
    if case == "truncated":
        return fine[: len(fine) // 2]
    return encode(chelsea, "JPEG")  # a photo renamed


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ("custom operator", "onnx_operators"),
        ("operator without converter", "onnx_operators"),
        ("a 12 GB tensor", "onnx_memory"),
        ("800 billion multiply-adds", "onnx_compute"),
        ("size known only at run time", "onnx_unknown_shape"),
        ("two inputs", "onnx_not_classifier"),
        ("not an image", "onnx_not_classifier"),
        ("truncated", "onnx_unreadable"),
        ("a photo renamed", "onnx_unreadable"),
    ],
)
def test_hostile_files_are_refused_before_anything_runs(tmp_path, chelsea, monkeypatch, case, key):
    path = tmp_path / "model.onnx"
    model = _hostile(case, chelsea)
    path.write_bytes(model if isinstance(model, bytes) else model.SerializeToString())
    converted = []
    monkeypatch.setattr(onnx_file, "to_module", lambda *args: converted.append(args))
    refused = _refusal(path)
    assert refused.key == key, str(refused)
    assert converted == []  # refused before conversion, so before any forward pass


def test_a_file_over_the_size_limit_is_refused_by_its_bytes(tmp_path):
    onnx.save(_model(_tiny_classifier(), [_image()], [_scores()], _head()), tmp_path / "fine.onnx")
    with pytest.raises(WeightsError) as refused:
        onnx_file.read_onnx(tmp_path / "fine.onnx", budget=100)
    size = (tmp_path / "fine.onnx").stat().st_size
    assert refused.value.key == "onnx_too_big" and f"{size:,} bytes" in str(refused.value)


def test_a_forward_pass_over_the_time_budget_is_refused(onnx_files, monkeypatch):
    monkeypatch.setattr(onnx_file, "FORWARD_SECONDS", 0.001)
    refused = _refusal(onnx_files / "lite0.onnx")
    assert refused.key == "onnx_slow" and "0.001 s" in str(refused)


def test_the_cli_refuses_a_hostile_file_with_one_line(cli, tmp_path, photos):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07" + os.urandom(200))
    result = cli("predict", str(photos["chelsea"]), "--arch", f"onnx:{path}")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "broken.onnx is not an ONNX model" in lines[0], lines
    assert result.stdout == ""


def test_an_onnx_name_never_imports_a_module_or_reads_beside_the_file(tmp_path):
    """``onnx:`` names a file only: a directory or a missing path is refused by name."""
    for name in (str(tmp_path), str(tmp_path / "missing.onnx")):
        assert _refusal(name).key == "onnx_missing"
    assert torch.is_grad_enabled()
