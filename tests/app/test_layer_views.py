"""The Layers, Compare and Conv arithmetic views through AppTest, on every architecture."""

from __future__ import annotations

import pytest

from cnnviz.models.zoo import ARCHITECTURES, get_spec
from tests.app.conftest import view


def metrics(app) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_layers_view_opens_on_the_default_model(layers_view):
    assert metrics(layers_view)["Parameters"] == f"{get_spec('efficientnet_lite0').parameter_count():,}"
    assert "flop_counter" in " ".join(c.value for c in layers_view.caption)
    network, block = (chart.proto.spec for chart in layers_view.get("graphviz_chart"))
    assert network.startswith("digraph network") and "conv_stem" in network
    assert block.startswith('digraph "bn1"')  # the first block, drawn from its fx trace
    table = layers_view.dataframe[0].value
    assert table.iloc[-1]["name"] == "Total" and table.iloc[-1]["params"] == 4_652_008


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_layers_view_for_every_architecture(layers_view, name):
    layers_view.selectbox(key="arch").select(name).run()
    assert not layers_view.exception, layers_view.exception
    assert metrics(layers_view)["Parameters"] == f"{get_spec(name).parameter_count():,}"
    assert not layers_view.error


def test_vgg16_view_confirms_the_slide_and_explains_the_total(layers_view):
    layers_view.selectbox(key="arch").select("vgg16").run()
    assert "Every row of the slide agrees" in layers_view.success[0].value
    assert any("24M" in info.value for info in layers_view.info)
    assert metrics(layers_view)["Parameters"] == "138,357,544"


def test_alexnet2012_view_says_where_the_slide_differs(layers_view):
    layers_view.selectbox(key="arch").select("alexnet2012").run()
    warning = layers_view.warning[0].value
    assert "1 row(s) differ" in warning and "two GPUs" in warning


def test_input_size_changes_the_table_and_absurd_sizes_are_refused(layers_view):
    layers_view.selectbox(key="arch").select("alexnet2012").run()
    layers_view.number_input(key="layers_input_alexnet2012").set_value(32).run()
    assert not layers_view.exception
    assert "cannot run on a 32×32 input" in layers_view.error[0].value
    layers_view.number_input(key="layers_input_alexnet2012").set_value(227).run()
    assert not layers_view.error


def test_blocks_expand_and_the_residual_shortcut_is_drawn(layers_view):
    layers_view.selectbox(key="arch").select("resnet18").run()
    collapsed = len(layers_view.dataframe[0].value)
    layers_view.multiselect[0].select("layer1.0").run()
    # the block row gives way to its six layers: conv1 bn1 relu conv2 bn2 relu (second call)
    assert len(layers_view.dataframe[0].value) == collapsed - 1 + 6
    layers_view.toggle(key="layers_expand_all").set_value(True).run()
    assert len(layers_view.dataframe[0].value) == 60 + 1  # every layer and the total
    block = layers_view.get("graphviz_chart")[1].proto.spec
    assert 'label="+"' in block  # the residual addition


def test_the_input_side_block_and_expansion_are_kept_in_the_link():
    app = view("layers", {"arch": "resnet18"})
    assert (app.query_params["input"], app.query_params["block"]) == ("224", "layer1.0")  # its own side, first block
    assert "expand" not in app.query_params
    app.number_input(key="layers_input_resnet18").set_value(160).run()
    app.selectbox(key="layers_block_resnet18").select("layer3.1").run()
    app.toggle(key="layers_expand_all").set_value(True).run()
    query = dict(app.query_params)
    assert (query["input"], query["block"], query["expand"]) == ("160", "layer3.1", "1")
    opened = view("layers", query)  # another student, or a class following its lecturer
    assert opened.number_input(key="layers_input_resnet18").value == 160
    assert opened.selectbox(key="layers_block_resnet18").value == "layer3.1"
    assert len(opened.dataframe[0].value) == 60 + 1 and dict(opened.query_params) == query
    assert opened.get("graphviz_chart")[1].proto.spec == app.get("graphviz_chart")[1].proto.spec
    lacking = view("layers", {**query, "arch": "vgg16", "block": "layer3.1"})  # VGG-16 has no blocks
    assert "block" not in lacking.query_params and "expand" not in lacking.query_params
    assert not lacking.exception and not lacking.error
    opened.toggle(key="layers_expand_all").set_value(False).run()
    assert opened.query_params["open"] == "none" and "expand" not in opened.query_params
    opened.multiselect(key="layers_open_resnet18").select("layer1.0").select("layer4.1").run()
    assert opened.query_params["open"] == "layer1.0,layer4.1"
    rows = len(opened.dataframe[0].value)
    again = view("layers", dict(opened.query_params))
    assert again.multiselect(key="layers_open_resnet18").value == ["layer1.0", "layer4.1"]
    assert len(again.dataframe[0].value) == rows and dict(again.query_params) == dict(opened.query_params)
    lacking = view("layers", {**dict(opened.query_params), "open": "layer1.0,layer9.9"})  # one the network lacks
    assert lacking.multiselect(key="layers_open_resnet18").value == ["layer1.0"]
    assert lacking.query_params["open"] == "layer1.0" and not lacking.exception
    odd = view("layers", {**query, "block": "layer9.9"})  # refused with a notice: the first block
    assert odd.selectbox(key="layers_block_resnet18").value == "layer1.0" == odd.query_params["block"]


def test_compare_view():
    app = view("compare")
    caption = " ".join(c.value for c in app.caption)
    assert "Models without published weights (lenet5, alexnet2012, zfnet)" in caption
    assert "Names left off" not in caption  # every point has its name, and no two names overlap
    table = app.dataframe[0].value.set_index("arch")
    lite0 = table.loc["efficientnet_lite0"]
    assert (lite0["top1"], lite0["top5"]) == (74.846, 92.18)  # timm's results table, named as the source
    assert lite0["accuracy_source"].startswith("timm's results/results-imagenet.csv, tf_efficientnet_lite0.in1k")
    assert table.loc["vgg16", "accuracy_source"] == "torchvision VGG16_Weights.IMAGENET1K_V1 metadata"
    assert table.columns[0] != "name" and table.index.name == "arch"
    assert app.radio[0].options == ["ImageNet top-1 accuracy (%)", "ImageNet top-5 accuracy (%)"]
    app.radio[0].set_value("top5").run()
    assert not app.exception


def test_conv_arithmetic_view_and_its_errors():
    app = view("arithmetic")
    values = metrics(app)
    assert values["Parameters (F·F·C_in/groups + 1)·C_out"] == "34,944"
    assert any("= 55 → **55×55×96**" in m.value for m in app.markdown)
    app.number_input(key="arith_n").set_value(224).run()
    assert "not a whole number" in app.warning[0].value
    app.number_input(key="arith_f").set_value(500).run()
    assert "larger than the padded input" in app.error[0].value
    app.number_input(key="arith_groups").set_value(5).run()
    assert app.error and not app.exception


def test_the_arithmetic_pages_numbers_are_kept_in_the_link():
    app = view("arithmetic", {"lang": "pt"})
    assert "n" not in app.query_params  # the defaults (AlexNet's first layer) stay out of the link
    app.number_input(key="arith_n").set_value(224).run()
    app.number_input(key="arith_cout").set_value(1_000_000).run()
    app.number_input(key="arith_stack_layers").set_value(5).run()
    query = dict(app.query_params)
    assert {name: query[name] for name in ("n", "cout", "stack_layers")} == {
        "n": "224",
        "cout": "1000000",
        "stack_layers": "5",
    }
    opened = view("arithmetic", query)  # another student, or a class following its lecturer
    assert [opened.number_input(key=k).value for k in ("arith_n", "arith_cout", "arith_stack_layers")] == [
        224,
        1_000_000,
        5,
    ]
    assert dict(opened.query_params) == query and [m.value for m in opened.markdown] == [m.value for m in app.markdown]
    refused = view("arithmetic", {"n": "0", "f": "99999999", "s": "²"})  # out of range, too long, not ASCII
    assert refused.number_input(key="arith_n").value == 227 and not {"n", "f", "s"} & set(refused.query_params)
    assert not refused.exception


def test_transposed_convolution_and_yolo_grid_on_the_arithmetic_page():
    app = view("arithmetic")
    assert any("32·(7 − 1) + 64 − 2·16 = 224" in m.value for m in app.markdown)  # FCN-32s: 7 → 224
    assert "torch.nn.ConvTranspose2d gives 224×224" in " ".join(c.value for c in app.caption)
    assert any("13×13×45 = **7,605**" in m.value for m in app.markdown)
    app.number_input(key="arith_tconv_n").set_value(5).run()
    app.number_input(key="arith_tconv_f").set_value(3).run()
    app.number_input(key="arith_tconv_p").set_value(1).run()
    app.number_input(key="arith_tconv_s").set_value(2).run()
    app.number_input(key="arith_tconv_op").set_value(1).run()
    assert any("2·(5 − 1) + 3 − 2·1 + 1 = 10" in m.value for m in app.markdown)
    assert "gives 10×10" in " ".join(c.value for c in app.caption)
    app.number_input(key="arith_tconv_op").set_value(2).run()
    assert any("smaller than the stride" in e.value for e in app.error) and not app.exception
