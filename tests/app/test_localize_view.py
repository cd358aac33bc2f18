"""The Localization page under AppTest: the one-pass and per-window grids, LeNet-5's row, sliding windows
with suppression and the CAM box, for the gallery cat with the bundled Lite0."""

from __future__ import annotations

from tests.app.conftest import view


def test_localization_page_computes_grids_boxes_and_a_cam_box():
    app = view("localize")
    assert [b.label for b in app.button] == ["Run both", "Slide the windows"]
    assert any("LeNet-5 reads:" in m.value for m in app.markdown)  # the row is read at once
    metrics = {m.label: m.value for m in app.metric}
    assert float(metrics["IoU with the green box"]) >= 0.8  # the CAM box around Chelsea

    app.button(key="loc_fcn_run").click().run()
    assert not app.exception
    captions = [c.value for c in app.caption]
    assert any(c.startswith("1 forward pass(es)") for c in captions)
    assert any(c.startswith("120 forward pass(es)") for c in captions)  # 8×15 windows at 448 px
    assert any("pads its convolutions with zeros" in c for c in captions)

    app.button(key="loc_sliding_run").click().run()
    assert not app.exception
    before = next(m.value for m in app.markdown if "Before suppression" in m.value)
    after = next(m.value for m in app.markdown if "After non-max suppression" in m.value)
    assert int(after.split(": ")[1].split()[0]) < int(before.split(": ")[1].split()[0])


def test_a_network_without_global_pooling_says_it_has_no_cam():
    app = view("localize", {"arch": "lenet5", "image": "digit"})
    assert any("has no class activation map" in i.value for i in app.info)
    app.slider(key="loc_size").set_value(96).run()
    app.button(key="loc_fcn_run").click().run()
    assert any(c.value.startswith("The two maps are equal") for c in app.caption)
