""" "My network" in the sidebar through AppTest: a three-class checkpoint of the bundled Lite0 and its
names file uploaded, then every page explains that network, for this session only."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.own_networks import STORE

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _top5(app: AppTest) -> str:
    return next(m.value for m in app.markdown if m.value.startswith("1. **"))


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    return at


def _upload(app: AppTest, folder: Path, weights: str = "mine.pt", names: str | None = "names.txt") -> None:
    app.file_uploader(key="own_weights").upload(weights, (folder / weights).read_bytes(), "application/octet-stream")
    if names is not None:
        app.file_uploader(key="own_labels").upload(names, (folder / names).read_bytes(), "text/plain")
    app.run()
    assert not app.exception, app.exception


def test_an_uploaded_checkpoint_and_its_names_are_what_the_page_explains(app, three_classes):
    held = len(STORE)
    _upload(app, three_classes)
    assert _top5(app).startswith("1. **my cat**")
    assert "mine.pt" in app.header[0].value
    assert any("3 classes" in c.value for c in app.sidebar.caption)
    assert app.query_params["arch"] == "efficientnet_lite0"  # a link never names a session's own network
    assert len(STORE) == held + 1
    app.file_uploader(key="own_weights").clear().run()
    assert not app.exception and "my cat" not in _top5(app) and "tabby" in _top5(app)
    assert len(STORE) == held  # the network left with its upload


def test_another_session_cannot_open_a_network_by_its_name(app, three_classes):
    _upload(app, three_classes)
    name = app.session_state["choices"].arch
    assert "@sha256:" in name
    other = AppTest.from_file(APP, default_timeout=120)
    other.query_params["arch"] = name
    other.run()
    assert other.selectbox(key="arch").value == "efficientnet_lite0"
    assert any("“arch”" in c.value for c in other.caption)
    assert "my cat" not in _top5(other)


def test_a_checkpoint_that_does_not_fit_is_refused_and_the_page_goes_on(app, three_classes):
    app.selectbox(key="arch").select("resnet18").run()
    _upload(app, three_classes, names=None)
    assert "does not fit" in app.sidebar.error[0].value
    assert "ResNet-18" in app.header[0].value and "mine.pt" not in app.header[0].value
    assert _top5(app)


def test_a_hostile_checkpoint_is_refused_and_runs_nothing(app, tmp_path):
    """A pickle whose ``__reduce__`` would create a file: refused by ``weights_only=True``, no file made."""
    import os
    import pickle

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    (tmp_path / "hostile.pt").write_bytes(pickle.dumps({"classifier.weight": Exploit()}, protocol=2))
    _upload(app, tmp_path, weights="hostile.pt", names=None)
    assert "can load safely" in app.sidebar.error[0].value
    assert not (tmp_path / "pwned").exists()
    assert "hostile" not in app.header[0].value and _top5(app)  # the page goes on with the bundled network


@pytest.mark.parametrize("name", ["deconvnet", "occlusion", "dropblock"])
def test_a_vision_transformer_is_refused_in_a_sentence_where_a_page_needs_maps(name):
    """A network nobody listed, without convolutional maps: the pages that need them say why, none fails
    (Localization's refusal of its twin: tests/test_localize.py)."""
    from tests.app.conftest import view

    app = view(name, {"arch": "timm:vit_tiny_patch16_224"})
    assert "no convolutional feature maps" in " ".join(e.value for e in app.error)


def test_an_onnx_file_with_its_preprocessing_and_names_is_what_the_page_explains(app, onnx_files):
    """The three-class Lite0 exported to ONNX: its names in the top-5 once the fields give Lite0's own
    normalisation; a normalisation that is not numbers is refused in the sidebar and nothing changes."""
    _upload(app, onnx_files, weights="mine.onnx")
    assert app.number_input(key="own_onnx_size").value == 224
    assert app.text_input(key="own_onnx_mean").value == "0.485, 0.456, 0.406"
    assert _top5(app).startswith("1. **my cat**")
    assert "mine (ONNX)" in app.header[0].value
    assert any("3 classes, 224 px input" in c.value for c in app.sidebar.caption)
    imagenet = app.session_state["choices"].arch
    app.text_input(key="own_onnx_mean").input("0.5, 0.5, 0.5")
    app.text_input(key="own_onnx_std").input("0.5, 0.5, 0.5").run()
    assert not app.exception and app.session_state["choices"].arch not in (imagenet, "efficientnet_lite0")
    assert _top5(app).startswith("1. **my cat**")
    app.text_input(key="own_onnx_std").input("wide").run()
    assert "Preprocessing for an ONNX file" in app.sidebar.error[0].value
    assert app.session_state["choices"].arch == "efficientnet_lite0" and "tabby" in _top5(app)


def test_a_hostile_onnx_file_is_refused_in_one_sentence(app, tmp_path):
    (tmp_path / "broken.onnx").write_bytes(b"\x08\x07" + bytes(range(256)) * 4)
    _upload(app, tmp_path, weights="broken.onnx", names=None)
    assert "is not an ONNX model cnnviz can read" in app.sidebar.error[0].value
    assert "tabby" in _top5(app)
