"""Each page declares the settings it keeps in the link; the sidebar knows none of them by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui import links
from views import deconvnet, occlusion


def test_pages_declare_their_own_link_settings():
    assert deconvnet.LINK.fields == {
        "layer": "deconv_layer",
        "channel": "_deconv_link_channel",
        "whole": "deconv_whole",
    }
    assert set(occlusion.LINK.fields) == {"window", "stride", "fill", "layer"}
    assert {"lang", "arch", "image", "running", "channel", "window"} <= links.known_names()
    sidebar = Path(links.__file__).with_name("sidebar.py").read_text()
    assert "deconv_" not in sidebar and "occl_" not in sidebar


def test_a_page_cannot_write_another_pages_setting():
    with pytest.raises(KeyError, match="deconvnet keeps no \\['window'\\]"):
        deconvnet.LINK.write({"window": "32"})
