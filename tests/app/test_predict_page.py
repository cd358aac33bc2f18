"""The Predict page through Streamlit's AppTest: the real script, the real model, no browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import encode

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def top5(at: AppTest) -> str:
    ranked = [m.value for m in at.markdown if m.value.startswith("1. **")]
    assert len(ranked) == 1, [m.value for m in at.markdown]
    return ranked[0]


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    return app


def test_opens_on_the_default_model_with_a_cat(at):
    assert at.selectbox(key="arch").value == "efficientnet_lite0"
    assert top5(at).split("\n")[0].split("**")[1] in {"tabby", "tiger cat", "Egyptian cat"}
    captions = " ".join(c.value for c in at.caption)
    assert "bundled" in captions and "CPU" in captions
    assert "centre crop 224 px" in captions
    assert not at.warning and not at.error


def test_gallery_choice_changes_the_prediction(at):
    at.selectbox(key="gallery").select("coffee").run()
    assert not at.exception
    assert top5(at).startswith("1. **espresso**")


def test_uploaded_photo_is_classified(at, coffee):
    at.radio(key="source").set_value("upload").run()
    assert "Choose a gallery photo" in at.info[0].value
    at.file_uploader(key="upload").upload("espresso.jpg", encode(coffee, "JPEG"), "image/jpeg").run()
    assert not at.exception
    assert top5(at).startswith("1. **espresso**")


@pytest.mark.parametrize(
    ("name", "data"),
    [("notes.jpg", b"this is not a photo"), ("empty.png", b""), ("truncated.jpg", None)],
)
def test_bad_upload_shows_a_message_and_nothing_breaks(at, chelsea, name, data):
    if data is None:
        full = encode(chelsea, "JPEG")
        data = full[: len(full) // 2]
    at.radio(key="source").set_value("upload").run()
    at.file_uploader(key="upload").upload(name, data, "image/jpeg").run()
    assert not at.exception
    assert at.error and any(word in at.error[0].value for word in ("not an image", "empty", "truncated"))
    at.radio(key="source").set_value("gallery").run()
    assert not at.error and top5(at)


def test_untrained_architecture_says_its_predictions_are_meaningless(at):
    at.selectbox(key="arch").select("zfnet").run()
    assert not at.exception
    assert "random weights" in at.warning[0].value and "meaningless" in at.warning[0].value
    assert "fetch" not in at.warning[0].value  # ZFNet has no published weights to fetch
    assert top5(at)
    about = " ".join(e.value for e in at.markdown)
    assert "11.7%" in about and "7×7 stride 2" in about


def test_lenet5_reads_the_gallery_digit(at):
    at.selectbox(key="arch").select("lenet5").run()
    at.selectbox(key="gallery").select("digit").run()
    assert not at.exception
    assert "pad 2 px → 32 px" in " ".join(c.value for c in at.caption)
    assert top5(at).startswith("1. **3**")


def test_camera_photo_is_classified(at, coffee):
    at.radio(key="source").set_value("camera").run()
    at.camera_input(key="camera").upload("camera.jpg", encode(coffee, "JPEG"), "image/jpeg").run()
    assert not at.exception
    assert top5(at).startswith("1. **espresso**")


def test_class_names_follow_the_language_with_the_english_name_beside(at):
    """The names a student reads most, in Portuguese and Spanish, each followed by the English name to look
    it up by; the same classes and probabilities as in English."""
    english = top5(at).split("\n")
    at.selectbox(key="lang").select("pt").run()
    portuguese = top5(at).split("\n")
    assert portuguese[0].startswith("1. **gato ") and not at.exception
    at.selectbox(key="lang").select("es").run()
    spanish = top5(at).split("\n")
    for en, pt, es in zip(english, portuguese, spanish, strict=True):
        name = en.split("**")[1]
        assert f"({name})" in pt and f"({name})" in es, (en, pt, es)
        assert en.rsplit(" — ", 1)[1] == pt.rsplit(" — ", 1)[1] == es.rsplit(" — ", 1)[1]  # same probability
    assert spanish[0].split("**")[1] in {"gato atigrado", "gato tigre", "gato egipcio"}


def test_other_network_searches_torchvision_and_timm_and_keeps_it_in_the_link(at):
    at.selectbox(key="arch").select("other").run()
    assert at.selectbox(key="library_arch").value == "torchvision:regnet_y_400mf"
    assert len(at.selectbox(key="library_arch").options) > 1000  # every ImageNet-1k classifier of both
    at.selectbox(key="library_arch").select("timm:resnet18.a1_in1k").run()
    assert not at.exception and at.query_params["arch"] == "timm:resnet18.a1_in1k"
    assert "resnet18.a1_in1k (timm)" in at.header[0].value and top5(at)
    assert "random weights" in at.warning[0].value  # nothing cached, and this machine is offline


@pytest.mark.parametrize(
    ("link", "shown"),
    [
        ("timm:resnet18", "timm:resnet18.a1_in1k"),  # the default tag, as the list has it
        ("torchvision:squeezenet1_1", "torchvision:squeezenet1_1"),
        ("timm:../../etc/passwd", None),
        ("timm:" + "a" * 500, None),
        ("timm:vit_base_patch16_224.augreg_in21k", None),  # 21,843 classes
        ("keras:resnet50", None),
        ("onnx:/etc/passwd", None),  # an ONNX file is an upload, never a path on the server named by a link
        ("torchvision:fcn_resnet50", None),  # a segmentation network
    ],
)
def test_a_linked_library_network_opens_and_anything_else_falls_back_with_a_notice(link, shown):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["arch"] = link
    app.run()
    assert not app.exception and not app.error
    if shown is None:
        assert app.selectbox(key="arch").value == "efficientnet_lite0"
        assert any("“arch”" in c.value for c in app.caption)
        return
    assert app.selectbox(key="arch").value == "other" and app.selectbox(key="library_arch").value == shown
    assert app.query_params["arch"] == shown and top5(app)
