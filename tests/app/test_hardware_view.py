"""The Hardware page: architectures measured on request on this server's CPU, shared with the next
session, shown against MACs and intensity beside the deck's Keras table."""

from __future__ import annotations

import torch

from tests.app.conftest import view


def test_measures_on_request_and_shares_the_figures():
    app = view("hardware")
    assert app.selectbox(key="hw_setting").value == ("cpu", "float32")
    assert any(i.value.startswith("10 of 10 architectures not measured yet") for i in app.info)
    keras = app.dataframe[-1].value
    assert len(keras) == 26 and keras["latency_ms"].isna().all()  # nothing measured here yet
    app.multiselect(key="hw_archs").set_value(["lenet5", "mobilenet_v2"]).run()
    app.button(key="hw_run").click().run(timeout=180)
    assert not app.exception and not app.error
    assert not app.info and all(b.key != "hw_run" for b in app.button)  # the request gives way to the figures
    measured = app.dataframe[0].value
    assert sorted(measured["display"]) == ["LeNet-5", "MobileNet v2"]
    assert (measured["latency_ms"] > 0).all() and (measured["peak_memory_mb"] > 0).all()
    assert measured.iloc[0]["display"] == "LeNet-5"  # sorted by latency
    assert any(s.value.startswith("Measured here: CPU (") for s in app.subheader)
    assert len(app.get("vega_lite_chart")) == 2
    keras = app.dataframe[-1].value
    row = keras[keras["arch"] == "mobilenet_v2"].iloc[0]
    assert row["keras_model"] == "MobileNetV2" and row["latency_ms"] > 0
    second = view("hardware")  # another session: mobilenet_v2 and lenet5 are already measured
    second.multiselect(key="hw_archs").set_value(["lenet5", "mobilenet_v2"]).run()
    assert not second.info and all(b.key != "hw_run" for b in second.button)
    assert list(second.dataframe[0].value["latency_ms"]) == list(measured["latency_ms"])


def test_a_link_opens_a_set_of_architectures_and_bad_lists_fall_back():
    app = view("hardware", {"archs": "vgg16,lenet5"})
    assert app.multiselect(key="hw_archs").value == ["vgg16", "lenet5"]
    assert app.query_params["archs"] == "vgg16,lenet5"
    for bad in ("vgg16,nope", "lenet5,lenet5", "", "none,lenet5"):
        app = view("hardware", {"archs": bad})
        assert len(app.multiselect(key="hw_archs").value) == 10  # the suggested set
        assert not app.exception
    app.multiselect(key="hw_archs").set_value([]).run()
    assert app.query_params["archs"] == "none"  # nothing chosen: said, not left out (that opens the suggested set)
    reopened = view("hardware", dict(app.query_params))
    assert reopened.multiselect(key="hw_archs").value == [] and not reopened.exception


def test_the_link_holds_the_device_and_number_type_this_server_offers():
    app = view("hardware", {"archs": "lenet5"})
    assert "setting" not in app.query_params  # the first: the CPU in float32
    app = view("hardware", {"archs": "lenet5", "setting": "cpu-float32"})
    assert app.selectbox(key="hw_setting").value == ("cpu", "float32") and not app.exception
    if not torch.cuda.is_available():  # a lecturer's GPU link opened on a CPU server: the CPU, and a notice
        app = view("hardware", {"archs": "lenet5", "setting": "cuda:0-float16"})
        assert app.selectbox(key="hw_setting").value == ("cpu", "float32") and "setting" not in app.query_params
        assert any("setting" in c.value for c in app.caption)
        return
    app.selectbox(key="hw_setting").set_value(("cuda:0", "float16")).run()
    assert app.query_params["setting"] == "cuda:0-float16"
    assert view("hardware", dict(app.query_params)).selectbox(key="hw_setting").value == ("cuda:0", "float16")


def test_the_link_holds_any_selection_the_page_allows():
    """All 27 architectures (266 characters of names) are a selection the page allows, so its link opens."""
    from cnnviz.models.zoo import ARCHITECTURES

    app = view("hardware")
    app.multiselect(key="hw_archs").set_value(list(ARCHITECTURES)).run()
    link = app.query_params["archs"]
    assert link == ",".join(ARCHITECTURES) and len(link) > 256
    reopened = view("hardware", {"archs": link})
    assert reopened.multiselect(key="hw_archs").value == list(ARCHITECTURES)
    assert not any("not understood" in c.value for c in reopened.caption)


def test_a_timing_waits_in_the_devices_queue_like_other_heavy_work(queued_devices):
    """A timing shares the device with no other heavy work: it goes through the device's queue, the one way
    heavy work reaches a page (``ui.results.shared_in_queue``)."""
    app = view("hardware", {"archs": "zfnet"})  # measured by no other test
    app.button(key="hw_run").click().run(timeout=120)
    assert not app.exception and not app.error
    assert queued_devices == ["cpu"] and "running" not in app.query_params
