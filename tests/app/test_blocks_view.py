"""The Building blocks page under the real sidebar: its numbers are the engine's on the real photo and
network (output sizes, the receptive field's unit value, batch normalisation's statistics, the dense
layer's count), its link keeps the settings (a typed kernel to the last bit, a network's filter), a bad
typed kernel is refused in the page's language, and the sliders that depend on the photo and the network
are brought back in range when those change."""

from __future__ import annotations

import cnnviz
from cnnviz.blocks import convolve, kernel, photo_input
from cnnviz.blocks.network import first_layers
from cnnviz.blocks.translation import shifted_prediction
from cnnviz.gallery import gallery_image
from tests.app.conftest import image_captions, view
from ui.text import t


def _widget(app, key: str):
    return next(w for kind in ("slider", "select_slider", "radio") for w in getattr(app, kind) if w.key == key)


def _markdown(app) -> str:
    return "\n".join(m.value for m in app.markdown)


def test_the_page_shows_the_engines_numbers_on_the_photo_and_the_network():
    app = view("blocks", {"kernel": "sobel-y", "stride": "2", "padding": "1", "dilation": "2", "shift": "3"})
    assert not app.error and app.query_params["kernel"] == "sobel-y"
    photo = gallery_image("chelsea")
    y = convolve(photo_input(photo), kernel("sobel-y"), stride=2, padding=1, dilation=2)
    h, w = y.shape[1:]
    assert t("blocks.sizes", "en", formula=f"{h}×{w}", actual=f"{h}×{w}") in _markdown(app)
    captions = [c[0] for c in image_captions(app)]
    assert t("blocks.output_caption", "en", w=w, h=h, channels=3) in captions
    row, column = app.slider(key="blocks_unit_row").value, app.slider(key="blocks_unit_column").value
    value = ", ".join(f"{v:.3f}" for v in y[:, row, column])
    assert t("blocks.field_caption", "en", row=row, column=column, h=5, w=5, value=value) in captions
    # a shift of 3 px at stride 2 is not a whole number of units: the page says so
    assert t("blocks.not_aligned", "en") in _markdown(app)

    lite0 = cnnviz.load("efficientnet_lite0")
    layers = first_layers(lite0, photo)
    norm = layers.batch_norm
    app.slider(key="blocks_bn_channel").set_value(5).run()
    shown = _table(app, t("blocks.col_quantity", "en"))
    assert shown.iloc[0, 1] == f"{norm.running_mean[5]:.4g}" and shown.iloc[1, 1] == f"{norm.running_var[5]:.4g}"
    dense = _table(app, t("blocks.col_parameters", "en"))
    assert dense.iloc[1, 1] == f"{150_528 * 401_408 + 401_408:,}" and dense.iloc[2, 1] == "864"


def test_a_bad_kernel_is_refused_in_the_pages_language_and_ranges_follow_the_photo_and_network():
    app = view("blocks", {"lang": "pt"})
    app.radio(key="blocks_source").set_value("typed").run()
    app.text_area(key="blocks_typed").input("1 2\n3").run()
    assert app.error[0].value == t("error.kernel_rows", "pt", kernel="1 2; 3")
    app.text_area(key="blocks_typed").input("1 0 -1\n2 0 -2\n1 0 -1").run()
    assert not app.error
    app.slider(key="blocks_unit_row").set_value(290).run()
    app.slider(key="blocks_unit_column").set_value(440).run()
    app.sidebar.selectbox(key="arch").set_value("lenet5").run()  # the digit is 128×128 px
    app.sidebar.selectbox(key="gallery").set_value("digit").run()
    assert not app.exception and not app.error
    assert app.slider(key="blocks_unit_row").value == 125 and app.slider(key="blocks_unit_column").value == 125
    assert t("blocks.no_batch_norm", "pt", arch="LeNet-5") in [i.value for i in app.info]
    app.radio(key="blocks_source").set_value("network").run()
    assert t("blocks.output_caption", "pt", w=124, h=124, channels=1) in [c[0] for c in image_captions(app)]


def test_a_typed_kernel_and_a_networks_filter_are_kept_in_the_link():
    app = view("blocks", {"lang": "es"})
    app.radio(key="blocks_source").set_value("typed").run()
    app.text_area(key="blocks_typed").input("0.1234567 0 -1\n2 0 -2").run()
    app.toggle(key="blocks_grey").set_value(True).run()
    query = dict(app.query_params)
    assert (query["source"], query["typed"], query["grey"]) == ("typed", "0.1234567,0,-1;2,0,-2", "1")
    assert "kernel" not in query and "filter" not in query
    opened = view("blocks", query)  # another student opening the link: the same kernel, to the last bit
    assert (
        opened.text_area(key="blocks_typed").value == "0.1234567 0 -1\n2 0 -2"
        and opened.toggle(key="blocks_grey").value
    )
    h, w = convolve(photo_input(gallery_image("chelsea"), grey=True), kernel("0.1234567 0 -1; 2 0 -2")).shape[1:]
    assert t("blocks.output_caption", "es", w=w, h=h, channels=1) in [c[0] for c in image_captions(opened)]
    assert dict(opened.query_params) == query

    app.radio(key="blocks_source").set_value("network").run()
    app.slider(key="blocks_filter_index").set_value(5).run()
    query = dict(app.query_params)
    assert (query["source"], query["filter"]) == ("network", "5") and not {"kernel", "typed", "grey"} & set(query)
    opened = view("blocks", query)
    assert opened.slider(key="blocks_filter_index").value == 5 and dict(opened.query_params) == query
    opened = view("blocks", {**query, "filter": "4095"})  # beyond Lite0's 32 filters: its last
    assert opened.slider(key="blocks_filter_index").value == 31 and opened.query_params["filter"] == "31"


def test_the_unit_pooling_batch_norm_and_dropout_are_kept_in_the_link():
    app = view("blocks")
    app.slider(key="blocks_unit_row").set_value(7).run()
    app.slider(key="blocks_unit_column").set_value(9).run()
    app.radio(key="blocks_pool_kind").set_value("avg").run()
    app.select_slider(key="blocks_pool_size").set_value(3).run()
    app.slider(key="blocks_pool_stride").set_value(1).run()
    app.slider(key="blocks_bn_channel").set_value(4).run()
    app.slider(key="blocks_dropout").set_value(0.3).run()
    query = dict(app.query_params)
    expected = {"row": "7", "column": "9", "pool": "avg", "pool_size": "3", "pool_stride": "1", "bn_channel": "4"}
    assert {name: query[name] for name in expected} == expected and query["dropout"] == "30"
    opened = view("blocks", query)
    keys = ("unit_row", "unit_column", "pool_kind", "pool_size", "pool_stride", "bn_channel", "dropout")
    assert [_widget(opened, f"blocks_{key}").value for key in keys] == [7, 9, "avg", 3, 1, 4, 0.3]
    assert dict(opened.query_params) == query
    assert [c[0] for c in image_captions(opened)] == [c[0] for c in image_captions(app)]  # the same pictures
    opened = view("blocks", {"dropout": "35", "pool_size": "5", "bn_channel": "4095"})  # off the steps; too many
    assert opened.slider(key="blocks_dropout").value == 0.5 and opened.select_slider(key="blocks_pool_size").value == 2
    assert opened.slider(key="blocks_bn_channel").value == 31 and opened.query_params["bn_channel"] == "31"


def test_the_shift_experiment_shows_lite0s_top5_for_the_photo_and_the_shifted_photo():
    app = view("blocks", {"shift": "8"})
    lite0 = cnnviz.load("efficientnet_lite0")
    moved = shifted_prediction(lite0, gallery_image("chelsea"), 8)
    assert [s.index for s in moved.before] == [s.index for s in cnnviz.predict(lite0, gallery_image("chelsea")).scores]
    table = _table(app, t("blocks.col_before", "en"))
    assert list(table.iloc[:, 0]) == [f"{s.label} ({s.prob:.1%})" for s in moved.before]
    assert list(table.iloc[:, 1]) == [f"{s.label} ({s.prob:.1%})" for s in moved.after]
    kept = t("blocks.kept" if moved.top1_kept else "blocks.changed", "en")
    expected = t(
        "blocks.invariance",
        "en",
        arch="EfficientNet-Lite0",
        side=224,
        shift=8,
        overlap=moved.overlap,
        top=5,
        kept=kept,
        variation=moved.total_variation,
    )
    assert expected in _markdown(app)


def _table(app, column: str):
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)
