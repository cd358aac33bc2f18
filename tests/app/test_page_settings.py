"""Each page declares the settings it keeps in the link; the sidebar knows none of them by name."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import pytest

from cnnviz.texts import LANGUAGES, catalogue
from cnnviz.texts import ROOT as TEXTS
from ui import links
from ui.pages import GROUPS, declared_pages
from views import deconvnet, occlusion


def test_pages_declare_their_own_link_settings():
    assert deconvnet.LINK.fields == {
        "layer": "deconv_layer",
        "channel": "_deconv_link_channel",
        "whole": "deconv_whole",
        "family": "deconv_family",
        "objective": "deconv_fv_objective",
        "steps": "deconv_fv_steps",
    }
    assert set(occlusion.LINK.fields) == {"window", "stride", "fill", "layer", "target"}
    assert {"lang", "arch", "image", "running", "channel", "window"} <= links.known_names()
    sidebar = Path(links.__file__).with_name("sidebar.py").read_text()
    assert "deconv_" not in sidebar and "occl_" not in sidebar


def test_a_page_cannot_write_another_pages_setting():
    with pytest.raises(KeyError, match="deconvnet keeps no \\['window'\\]"):
        deconvnet.LINK.write({"window": "32"})


def test_every_view_declares_one_page_with_its_texts_in_every_language():
    import views

    modules = {module.name for module in pkgutil.iter_modules(views.__path__)}
    pages = declared_pages()
    assert {p.name for p in pages} == modules
    assert pages[0].is_default and [p.group for p in pages] == sorted((p.group for p in pages), key=GROUPS.index)
    for lang in LANGUAGES:
        for declared in pages:
            keys = set(catalogue(lang))
            assert {declared.title_key, declared.heading_key, f"nav.{declared.group}"} <= keys, declared.name
            assert all(f"task.{task}" in keys for task in declared.tasks), declared.name
            own = tomllib.loads((TEXTS / declared.name / f"{lang}.toml").read_text())  # its texts' one home
            assert declared.title_key.split(".")[-1] in own["page"], declared.name
    assert links.known_names() >= {name for p in pages if p.link for name in p.link.fields}


def test_heavy_work_marks_the_link_only_with_a_task_some_page_declares():
    declared_pages()
    with pytest.raises(KeyError, match="no page declares the task 'loc'"), links.running("loc"):
        pass
