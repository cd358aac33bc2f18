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


def test_every_tabs_settings_are_kept_in_the_link():
    app = view("localize", {"lang": "es"})
    top5 = app.selectbox(key="loc_cam_class").options
    top1 = str(app.selectbox(key="loc_cam_class").value)
    second = top5[1]
    app.number_input(key="loc_row_seed").set_value(17).run()
    app.slider(key="loc_threshold").set_value(0.35).run()
    app.slider(key="loc_iou").set_value(0.6).run()
    app.slider(key="loc_fraction").set_value(0.25).run()
    app.selectbox(key="loc_cam_class").select(second).run()
    app.selectbox(key="loc_sliding_class").select(second).run()
    query = dict(app.query_params)
    chosen = str(app.selectbox(key="loc_cam_class").value)
    assert chosen != top1 and app.selectbox(key="loc_cam_class").index == 1  # the second of the top-5
    assert {name: query[name] for name in ("rows", "seed", "threshold", "iou", "fraction")} == {
        "rows": "held_out",
        "seed": "17",
        "threshold": "35",
        "iou": "60",
        "fraction": "25",
    }
    assert query["cam_class"] == query["windows_class"] == chosen and len(top5) == 5
    opened = view("localize", query)  # another student, or a class following its lecturer
    values = {w.key: w.value for kind in ("slider", "number_input", "selectbox") for w in getattr(opened, kind)}
    assert values["loc_row_seed"] == 17 and (values["loc_threshold"], values["loc_iou"]) == (0.35, 0.6)
    assert values["loc_fraction"] == 0.25 and str(values["loc_cam_class"]) == str(values["loc_sliding_class"]) == chosen
    assert dict(opened.query_params) == query
    shown = [m.value for m in opened.metric]
    assert shown == [m.value for m in app.metric]  # the same CAM box, for the same class and share
    refused = view("localize", {"threshold": "33", "fraction": "95", "cam_class": "999"})  # off-grid, too much, absent
    assert {w.key: w.value for w in refused.slider}["loc_threshold"] == 0.5 and not refused.exception
    assert (refused.query_params["threshold"], refused.query_params["fraction"]) == ("50", "20")  # the defaults
    assert refused.query_params["cam_class"] == str(refused.selectbox(key="loc_cam_class").value) == top1
