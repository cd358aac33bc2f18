"""Prepared demos in the app: the Prepare box computes what a lecture's links need into the shared cache, and
each link then opens with its results and no button to press; lines that are not links to this app's pages
are refused with the reason while the rest go on."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import view
from ui.prepare import MAX_LINE, MAX_LINKS, read_lines
from ui.text import t

SERVER = "http://lecture.example:8501"
APP = Path(__file__).resolve().parents[2] / "app.py"


def prepared(*lines: str) -> AppTest:
    """The app opened with ``?prepare=`` holding ``lines``, after the Prepare button was pressed."""
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.query_params.update({"prepare": "\n".join(lines), "lang": "en"})
    app.run()
    assert "prepare" not in app.query_params  # the box holds the links; the address bar does not
    app.button(key="prepare_run").click().run()
    assert not app.exception, app.exception
    return app


def test_lines_that_are_not_links_to_a_page_here_are_refused_with_the_reason():
    lines = read_lines(
        "\n".join(
            [
                "# lecture 3: what does the network look at?",
                f"{SERVER}/occlusion?arch=lenet5&image=digit&window=8&arch=vgg16",  # repeated: the last wins
                f"{SERVER}/nowhere?arch=lenet5",
                "javascript:alert(1)",
                f"{SERVER}/occlusion?arch=" + "x" * 300,
                f"{SERVER}/occlusion?image=my-upload.png",
                f"{SERVER}/?arch=lenet5",  # Predict computes nothing heavy
                f"{SERVER}/occlusion?" + "a" * MAX_LINE,
                "",
            ]
        )
    )
    assert [(line.number, line.refused and line.refused[0]) for line in lines] == [
        (2, None),
        (3, "prepare.no_page"),
        (4, "prepare.not_a_link"),
        (5, "prepare.bad_network"),
        (6, "prepare.no_photo"),
        (7, "prepare.nothing_heavy"),
        (8, "prepare.too_long"),
    ]
    assert lines[0].arch == "vgg16" and lines[0].settings == {"window": "8"}  # only the page's own settings
    many = read_lines("\n".join(f"{SERVER}/occlusion?arch=lenet5" for _ in range(MAX_LINKS + 3)))
    assert sum(line.refused is None for line in many) == MAX_LINKS
    assert [line.refused[0] for line in many[MAX_LINKS:]] == ["prepare.too_many"] * 3


@pytest.mark.parametrize(
    ("module", "query", "buttons"),
    [
        ("occlusion", "window=8&stride=4&layer=conv2", ()),
        ("localize", "size=64", ("loc_fcn_run", "loc_sliding_run")),
        ("localize", "size=64&windows_class=3", ("loc_fcn_run", "loc_sliding_run")),  # the windows for one class
        ("trust", "check=deletion&methods=gradcam,saliency&steps=10", ("trust_run_curves",)),
        ("deconvnet", "layer=conv1&channel=2", ("deconv_class_maps_run", "deconv_family_run", "deconv_fv_run")),
        ("deconvnet", "layer=conv1&channel=2&objective=unit&steps=32", ("deconv_fv_run",)),
        ("dropblock", "rate=20&block=3&draws=4", ()),
        ("pooling", "epochs=1&seeds=1", ()),
        ("depth", "shallow=8&deep=14&epochs=1&width=8", ()),
    ],
)
def test_a_prepared_link_opens_with_its_results_and_computes_nothing(module, query, buttons):
    from ui.pages import page_named
    from ui.results import shared_results

    path = page_named(module).url_path
    app = prepared(f"{SERVER}/{path}?arch=lenet5&image=digit&{query}", f"{SERVER}/nowhere")
    assert [w.value for w in app.warning][:1] == ["Line 2 — refused: not a page of this app"]
    assert any(c.value.startswith("✓ Line 1 · ") for c in app.caption), [c.value for c in app.caption]
    before = shared_results().computed
    opened = view(module, {"arch": "lenet5", "image": "digit", **dict(p.split("=") for p in query.split("&") if p)})
    assert shared_results().computed == before, "opening the prepared link computed something"
    assert not {b.key for b in opened.button} & set(buttons)
    if module == "occlusion":
        assert t("occl.cached", "en") in [c.value for c in opened.caption]
