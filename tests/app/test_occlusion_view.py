"""The Occlusion view through AppTest: the form, the three maps, the shared cache, bad settings."""

from __future__ import annotations

import pytest

from tests.app.conftest import view


def compute(app, window: int, stride: int):
    app.slider(key="occl_window").set_value(window)
    app.slider(key="occl_stride").set_value(stride)
    app.button[0].click().run()
    assert not app.exception, app.exception
    return app


def test_waits_for_the_button_then_draws_the_three_maps():
    app = view("occlusion")
    assert "625 positions (25×25)." in [c.value for c in app.caption]
    assert "Compute the maps" in app.info[0].value
    compute(app, 112, 56)
    captions = " ".join(c.value for c in app.caption)
    assert "9 positions in" in captions and "Clean image: 39.3%" in captions
    headings = " ".join(m.value for m in app.markdown)
    assert "(a) Probability of “tiger cat”" in headings and "(c) Strongest channel of bn2" in headings
    assert [link.value for link in app.get("page_link")] == ["Can we trust this map? Check it"]


def test_another_session_gets_the_result_from_the_shared_cache():
    first = compute(view("occlusion"), 100, 50)  # settings no other test uses
    assert not any("Already computed" in c.value for c in first.caption)
    second = compute(view("occlusion"), 100, 50)  # another browser session
    assert any("Already computed" in c.value for c in second.caption)


def test_result_cache_is_bounded_and_least_recently_used_goes_first():
    from ui.results import ResultCache

    cache = ResultCache(max_entries=2)
    cache.put(("a",), 1)
    cache.put(("b",), 2)
    assert cache.get(("a",)) == 1  # "a" is now the most recent
    cache.put(("c",), 3)
    assert cache.get(("b",)) is None and cache.get(("a",)) == 1 and cache.get(("c",)) == 3


def test_sessions_asking_for_the_same_result_at_once_compute_it_once():
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from ui.results import ResultCache

    cache = ResultCache(max_entries=4)
    calls = []
    start = threading.Barrier(8)

    def slow():
        calls.append(1)
        time.sleep(0.5)
        return "map"

    def session(_):
        start.wait()
        return cache.get_or_compute(("same link",), slow)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(session, range(8)))
    assert len(calls) == 1 and cache.computed == 1
    assert sorted(shared for _, shared in answers) == [False] + [True] * 7
    assert {value for value, _ in answers} == {"map"}

    def broken():
        raise ValueError("bad settings")

    with pytest.raises(ValueError):
        cache.get_or_compute(("broken",), broken)
    assert cache.get_or_compute(("broken",), lambda: "fixed") == ("fixed", False)  # nothing stuck


def test_another_target_and_layer():
    app = view("occlusion")
    app.selectbox(key="occl_target").select_index(1)
    app.selectbox(key="occl_layer").select("blocks.4.0")
    compute(app, 112, 56)
    headings = " ".join(m.value for m in app.markdown)
    assert "Egyptian cat" in headings and "blocks.4.0" in headings


def test_no_image_and_bad_upload_are_explained():
    app = view("occlusion")
    app.radio(key="source").set_value("upload").run()
    assert "Choose a gallery photo" in app.info[0].value
    app.file_uploader(key="upload").upload("x.png", b"not a png", "image/png").run()
    assert not app.exception and "not an image" in app.info[0].value


def test_a_link_sets_the_occlusion_settings_and_the_settings_go_back_into_the_link():
    query = {"window": "112", "stride": "56", "fill": "black", "layer": "blocks.4.0"}
    app = view("occlusion", query)
    assert app.slider(key="occl_window").value == 112 and app.slider(key="occl_stride").value == 56
    assert app.selectbox(key="occl_fill").value == "black" and app.selectbox(key="occl_layer").value == "blocks.4.0"
    compute(app, 64, 32)
    assert (app.query_params["window"], app.query_params["stride"]) in (("64", "32"), (["64"], ["32"]))


def test_the_class_explained_is_in_the_link_and_must_be_one_of_the_top_5():
    """The class a lecturer picked travels with the link (and so with a class that follows); a class outside
    this photo's top-5 falls back to the top-1 and the page says so."""
    import cnnviz
    from cnnviz.gallery import gallery_image

    top5 = [s.index for s in cnnviz.predict(cnnviz.load("efficientnet_lite0"), gallery_image("chelsea")).scores]
    second = view("occlusion", {"target": str(top5[1])})
    assert second.selectbox(key="occl_target").value == top5[1]
    assert second.query_params["target"] in (str(top5[1]), [str(top5[1])])
    outside = view("occlusion", {"target": "999"})
    assert 999 not in top5 and outside.selectbox(key="occl_target").value == top5[0] and len(outside.caption) > 0


def test_a_bad_link_falls_back_to_the_defaults():
    app = view("occlusion", {"window": "99999", "stride": "x", "fill": "pink", "layer": "nope"})
    assert app.slider(key="occl_window").value == 32 and app.slider(key="occl_stride").value == 8
    assert app.selectbox(key="occl_layer").value == "bn2"
