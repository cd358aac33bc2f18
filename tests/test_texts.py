"""Every text in every language (``cnnviz/texts/<feature>/<lang>.toml``): same keys, same placeholders, each
entry formats, and the 1,000 ImageNet class names in each language beside their English names."""

from __future__ import annotations

import os
import re
import string

import pytest
import timm
import torchvision

from cnnviz.texts import LANGUAGES, ROOT, Text, catalogue, feature_files, imagenet_class_names, imagenet_wnids, text

OTHER_LANGUAGES = [lang for lang in LANGUAGES if lang != "en"]


def placeholders(sentence: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(sentence) if field}


def sample_values(sentence: str) -> dict[str, object]:
    """A value for every placeholder of ``sentence``: 1 where its format asks for a number, else a word."""
    return {
        field: 1 if spec and spec[-1] in "bcdeEfFgGnosxX%," else "word"
        for _, field, spec, _ in string.Formatter().parse(sentence)
        if field
    }


def test_every_feature_folder_has_every_language():
    folders = {path.parent.name for path in ROOT.glob("*/*.toml")}
    for lang in LANGUAGES:
        assert {path.parent.name for path in feature_files(lang)} == folders, lang


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_key_is_in_every_language_with_the_same_placeholders(lang):
    english, other = catalogue("en"), catalogue(lang)
    assert set(other) == set(english), (set(english) - set(other), set(other) - set(english))
    for key, sentence in english.items():
        assert placeholders(other[key]) == placeholders(sentence), key


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_entry_formats(lang):
    for key, sentence in catalogue(lang).items():
        assert isinstance(sentence, str), key
        assert text(key, lang, **sample_values(catalogue("en")[key])) and text(key, lang, **sample_values(sentence))


def test_a_key_defined_by_two_features_is_refused(tmp_path, monkeypatch):
    import cnnviz.texts as texts

    for feature in ("one", "two"):
        (tmp_path / feature).mkdir()
        (tmp_path / feature / "en.toml").write_text('[page]\npredict = "Predict"\n')
    monkeypatch.setattr(texts, "ROOT", tmp_path)
    texts.catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"page\.predict"):
            texts.catalogue("en")
    finally:
        monkeypatch.undo()
        texts.catalogue.cache_clear()


def test_the_1000_imagenet_classes_in_every_language_keyed_by_wordnet_id():
    info = os.path.join(os.path.dirname(timm.__file__), "data", "_info", "imagenet_synsets.txt")
    with open(info) as listed:
        assert imagenet_wnids() == tuple(listed.read().split())  # index order = the ILSVRC 2012 order
    english = imagenet_class_names("en")
    assert english == tuple(torchvision.models.AlexNet_Weights.IMAGENET1K_V1.meta["categories"])
    for lang in OTHER_LANGUAGES:
        names = imagenet_class_names(lang)
        assert len(names) == 1000 and all(name.strip() for name in names), lang
        assert len(set(names)) == 1000, lang  # two classes never read the same
        assert names != english and sum(a == b for a, b in zip(names, english, strict=True)) < 250, lang


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_each_translated_class_has_its_english_name_beside_it(lang):
    """The comment after each name is the English name a student can look the class up by: it must be the
    right one."""
    english = dict(zip(imagenet_wnids(), imagenet_class_names("en"), strict=True))
    lines = (ROOT / "classes" / f"{lang}.toml").read_text(encoding="utf-8").splitlines()
    beside = dict(re.findall(r'^(n\d{8}) = ".+"  # (.+)$', "\n".join(lines), flags=re.MULTILINE))
    assert beside == english


def test_lecture_notes_are_keyed_texts_in_every_language():
    from cnnviz.lectures import (
        ALEXNET_ORDER_NOTE,
        ALEXNET_SLIDE,
        ALEXNET_SLIDE_SOURCE,
        VGG16_SLIDE_SOURCE,
        VGG16_TOTAL_NOTE,
    )
    from cnnviz.models.zoo import ARCHITECTURES

    notes = [ALEXNET_ORDER_NOTE, ALEXNET_SLIDE_SOURCE, VGG16_SLIDE_SOURCE, VGG16_TOTAL_NOTE]
    notes += [row.note for row in ALEXNET_SLIDE if row.note]
    for spec in ARCHITECTURES.values():
        facts = spec.lecture
        notes += [*facts.notes, *(n for n in (facts.ilsvrc, facts.top5_source) if n)]
    assert len(notes) > 40
    for note in notes:
        assert isinstance(note, Text), note
        assert note.translated("en") == note
        for lang in OTHER_LANGUAGES:
            assert note.translated(lang) != note, (lang, note.key)
    vgg = ARCHITECTURES["vgg16"].lecture.notes[0]
    assert (vgg, vgg.translated("pt")) == (
        "Configuration D of the paper: 138 million parameters.",
        "Configuração D do artigo: 138 milhões de parâmetros.",
    )


def test_a_text_survives_pickling_as_its_key():
    import pickle

    from cnnviz.models.zoo import get_spec

    note = get_spec("resnet18").lecture.ilsvrc
    again = pickle.loads(pickle.dumps(note))
    assert (again, again.key, again.translated("es")) == (note, note.key, note.translated("es"))
