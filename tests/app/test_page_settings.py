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


def _a_lesson_without_the_channel() -> None:
    """A student's session: first a channel of their own, then a lesson that holds only a layer."""
    import streamlit as st

    from views import deconvnet

    if "ran" not in st.session_state:
        st.session_state.update(ran=True, deconv_channel=5, deconv_whole=True, deconv_layer="conv1")
        st.session_state["_deconv_link_channel"] = 7
    else:
        deconvnet.LINK.forget({"layer"})


def test_a_lesson_without_a_setting_resets_the_widget_its_value_moves_to():
    """The lecturer back on "the strongest channel" leaves the channel out of the link: a follower's own channel
    (kept under the widget's key, not the link field's) must go too, or the student would stay on it."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_a_lesson_without_the_channel).run()
    assert app.session_state["deconv_channel"] == 5
    app.run()
    assert not app.exception
    assert "deconv_channel" not in app.session_state and "_deconv_link_channel" not in app.session_state
    assert "deconv_whole" not in app.session_state and app.session_state["deconv_layer"] == "conv1"
    moved = {name: key for page in links._PAGES.values() for name, key in page.moved.items()}
    assert moved["channel"] == "deconv_channel" and set(moved.values()) <= {
        key for page in links._PAGES.values() for key in page.kept
    }  # every moved-to key is a widget the page keeps
