"""Layer tables against their sources: the 2012 and 2014 papers, the lecture slides, torchvision metadata."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.layers import build_table, display_frame, layer_table, spatial_layers
from cnnviz.lectures import (
    ALEXNET_SLIDE,
    VGG16_SLIDE,
    VGG16_SLIDE_INPUT,
    VGG16_SLIDE_TOTAL_ACT,
    VGG_CONFIG_PARAMS_M,
    compare_with_slide,
)
from cnnviz.models.classic import vgg_configuration
from cnnviz.models.zoo import ARCHITECTURES, get_spec


def rows_by_name(table):
    return {row.name: row for row in table.layers}


def test_alexnet_2012_output_sizes_and_parameters_follow_the_paper():
    table = layer_table("alexnet2012")
    assert table.input_size == 227
    rows = rows_by_name(table)
    sizes = [
        rows[f"features.{n}"].out_shape[-1]
        for n in ("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5")
    ]
    assert sizes == [55, 27, 27, 13, 13, 13, 13, 6]
    params = {name: rows[name].params for name in rows if rows[name].params}
    assert params == {
        "features.conv1": 34_944,  # (11·11·3 + 1)·96
        "features.conv2": 307_456,  # (5·5·48 + 1)·256: each GPU's filters see 48 maps
        "features.conv3": 885_120,  # (3·3·256 + 1)·384: conv3 sees both GPUs
        "features.conv4": 663_936,  # (3·3·192 + 1)·384
        "features.conv5": 442_624,  # (3·3·192 + 1)·256
        "classifier.fc6": 37_752_832,
        "classifier.fc7": 16_781_312,
        "classifier.fc8": 4_097_000,
    }
    assert table.total_params == 60_965_224
    assert [rows[f"features.conv{i}"].groups for i in range(1, 6)] == [1, 2, 1, 2, 2]


def test_alexnet_slide_agrees_except_where_it_ignores_the_two_gpu_grouping():
    comparison = compare_with_slide(layer_table("alexnet2012"), ALEXNET_SLIDE)
    assert comparison.loc[~comparison["agrees"], "slide"].tolist() == ["CONV4"]
    assert "two GPUs" in comparison.loc[comparison["slide"] == "CONV4", "note"].item()


def test_vgg16_matches_every_row_of_the_lecture_table():
    table = layer_table("vgg16")
    comparison = compare_with_slide(table, VGG16_SLIDE)
    assert comparison["agrees"].all(), comparison[~comparison["agrees"]]
    assert table.total_params == 138_357_544
    rows = rows_by_name(table)
    slide_elems = sum(rows[r.module].act_elems for r in VGG16_SLIDE) + torch.Size(VGG16_SLIDE_INPUT).numel()
    assert slide_elems == 15_237_608
    assert round(slide_elems, -5) == VGG16_SLIDE_TOTAL_ACT  # "15,2M × 4 bytes ≈ 60,8MB"
    assert table.total_act_elems == slide_elems + rows["avgpool"].act_elems  # torchvision's extra pool
    assert max(table.layers, key=lambda r: r.act_elems).name == "features.0"  # memory: early convs
    assert max(table.layers, key=lambda r: r.params).name == "classifier.0"  # parameters: the FCs


def test_vgg_configurations_a_to_e_have_the_papers_parameter_counts():
    counts = {}
    for letter in "ABCDE":
        with torch.device("meta"):
            model = vgg_configuration(letter)
        counts[letter] = round(sum(p.numel() for p in model.parameters()) / 1e6)
    assert counts == VGG_CONFIG_PARAMS_M
    with torch.device("meta"):
        assert sum(p.numel() for p in vgg_configuration("D").parameters()) == get_spec("vgg16").parameter_count()


def test_zfnet_and_lenet5_layouts():
    rows = rows_by_name(layer_table("zfnet"))
    assert (rows["features.conv1"].kernel, rows["features.conv1"].stride) == ("7×7", "2")
    assert rows["features.conv2"].stride == "2"
    assert [rows[n].out_shape[-1] for n in ("features.conv1", "features.pool1", "features.conv2")] == [110, 55, 26]
    assert 55_000 <= layer_table("lenet5").total_params <= 65_000


def test_three_stacked_3x3_convolutions_see_7x7():
    stack = nn.Sequential(*[nn.Conv2d(8, 8, 3, padding=1) for _ in range(3)]).to("meta")
    assert [row.rf for row in build_table(stack, 32, 8).layers] == [(3, 3), (5, 5), (7, 7)]


def test_receptive_fields_checked_by_hand():
    alexnet = rows_by_name(layer_table("alexnet2012"))
    # conv1 11, pool1 11 + 2·4 = 19, conv2 19 + 4·8 = 51, pool2 51 + 2·8 = 67, conv3 67 + 2·16 = 99
    assert [
        alexnet[n].rf[0]
        for n in ("features.conv1", "features.pool1", "features.conv2", "features.pool2", "features.conv3")
    ] == [11, 19, 51, 67, 99]
    assert (alexnet["features.pool5"].rf, alexnet["features.pool5"].jump) == ((195, 195), (32, 32))
    assert rows_by_name(layer_table("vgg16"))["classifier.0"].rf is None  # fully connected: the whole image


# Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019: the
# table of google-research/receptive_field (RECEPTIVE_FIELD_TABLE.md, resolution "None"), as
# (torchvision module, TF-slim end-point, receptive field px, effective stride px).
PUBLISHED_FIELDS = {
    "alexnet": [  # slim's alexnet_v2 has torchvision's layout
        ("features.0", "conv1", 11, 4),
        ("features.2", "pool1", 19, 8),
        ("features.3", "conv2", 51, 8),
        ("features.6", "conv3", 99, 16),
        ("features.8", "conv4", 131, 16),
        ("features.10", "conv5", 163, 16),
        ("features.12", "pool5", 195, 32),
    ],
    "vgg16": [
        ("features.0", "conv1/conv1_1", 3, 1),
        ("features.4", "pool1", 6, 2),
        ("features.5", "conv2/conv2_1", 10, 2),
        ("features.9", "pool2", 16, 4),
        ("features.10", "conv3/conv3_1", 24, 4),
        ("features.12", "conv3/conv3_2", 32, 4),
        ("features.16", "pool3", 44, 8),
        ("features.17", "conv4/conv4_1", 60, 8),
        ("features.19", "conv4/conv4_2", 76, 8),
        ("features.23", "pool4", 100, 16),
        ("features.24", "conv5/conv5_1", 132, 16),
        ("features.26", "conv5/conv5_2", 164, 16),
        ("features.30", "pool5", 212, 32),
    ],
    "inception_v3": [
        ("Conv2d_1a_3x3", "Conv2d_1a_3x3", 3, 2),
        ("Conv2d_2a_3x3", "Conv2d_2a_3x3", 7, 2),
        ("Conv2d_2b_3x3", "Conv2d_2b_3x3", 11, 2),
        ("maxpool1", "MaxPool_3a_3x3", 15, 4),
        ("Conv2d_3b_1x1", "Conv2d_3b_1x1", 15, 4),
        ("Conv2d_4a_3x3", "Conv2d_4a_3x3", 23, 4),
        ("maxpool2", "MaxPool_5a_3x3", 31, 8),
        ("Mixed_5b", "Mixed_5b", 63, 8),
        ("Mixed_5c", "Mixed_5c", 95, 8),
        ("Mixed_5d", "Mixed_5d", 127, 8),
        ("Mixed_6a", "Mixed_6a", 159, 16),
        ("Mixed_6b", "Mixed_6b", 351, 16),
        ("Mixed_6c", "Mixed_6c", 543, 16),
        ("Mixed_6d", "Mixed_6d", 735, 16),
        ("Mixed_6e", "Mixed_6e", 927, 16),
        ("Mixed_7a", "Mixed_7a", 1055, 32),
        ("Mixed_7b", "Mixed_7b", 1183, 32),
        ("Mixed_7c", "Mixed_7c", 1311, 32),
    ],
}


def _field(table, name):
    row = table.blocks.get(name) or rows_by_name(table)[name]
    return row.rf, row.jump


@pytest.mark.parametrize("arch", list(PUBLISHED_FIELDS))
def test_receptive_fields_match_the_published_table(arch):
    table = layer_table(arch)
    for module, endpoint, field, stride in PUBLISHED_FIELDS[arch]:
        assert _field(table, module) == ((field, field), (stride, stride)), (arch, module, endpoint)


def test_asymmetric_kernels_widen_one_axis_at_a_time():
    """Inception v3's factorised 7×7: a 1×7 widens the width only, the 7×1 after it the height."""
    table = layer_table("inception_v3")
    rows = rows_by_name(table)
    assert rows["Mixed_6b.branch7x7_1.conv"].rf == (159, 159)
    assert (rows["Mixed_6b.branch7x7_2.conv"].kernel, rows["Mixed_6b.branch7x7_2.conv"].rf) == ("1×7", (159, 255))
    assert (rows["Mixed_6b.branch7x7_3.conv"].kernel, rows["Mixed_6b.branch7x7_3.conv"].rf) == ("7×1", (255, 255))
    inside = display_frame(table, expand=True).set_index("name")
    assert inside.loc["Mixed_6b.branch7x7_2.conv", "rf"] == "159×255"
    assert display_frame(table).set_index("name").loc["Mixed_6b", "rf"] == "351"


def test_resnet_fields_differ_from_tf_slim_where_the_stride_sits():
    """torchvision's ResNet-50 (v1.5) strides in the first block of stages 2–4, TF-slim's resnet_v1_50 in the
    last block of stages 1–3, so slim's published 35/8, 99/16, 291/32, 483/32 (Araujo et al.) are not ours."""
    table = layer_table("resnet50")
    ours = [_field(table, f"layer{stage}.{last}") for stage, last in ((1, 2), (2, 3), (3, 5), (4, 2))]
    assert ours == [((35, 35), (4, 4)), ((91, 91), (8, 8)), ((267, 267), (16, 16)), ((427, 427), (32, 32))]


class _TwoBranches(nn.Module):
    def __init__(self):
        super().__init__()
        self.narrow = nn.Conv2d(3, 4, 1)
        self.wide = nn.Conv2d(3, 4, 5, padding=2)
        self.merge = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        return self.merge(torch.cat([self.narrow(x), self.wide(x)], dim=1)) + x.mean(1, keepdim=True)


def test_branches_take_the_widest_field_of_their_inputs():
    rows = rows_by_name(build_table(_TwoBranches().to("meta"), 32))
    assert (rows["narrow"].rf, rows["wide"].rf, rows["merge"].rf) == ((1, 1), (5, 5), (7, 7))


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_every_architecture_counts_all_its_parameters_and_macs(name):
    table = layer_table(name)
    assert table.total_params == get_spec(name).parameter_count()
    assert sum(row.macs for row in table.layers) == table.total_macs > 0
    assert all(row.act_bytes == 4 * row.act_elems for row in table.layers)


@pytest.mark.parametrize(
    "name", [n for n, s in ARCHITECTURES.items() if s.pretrained and s.pretrained.library == "torchvision"]
)
def test_macs_and_parameters_agree_with_torchvision_metadata(name):
    """torchvision's ``_ops`` (labelled GFLOPS) counts multiply-accumulates, like cnnviz's ``macs``."""
    meta = get_spec(name).pretrained.torchvision_weights().meta
    table = layer_table(name)
    assert table.total_macs / 1e9 == pytest.approx(meta["_ops"], rel=0.01)
    training_only = 0
    if name == "inception_v3":  # torchvision's count includes the auxiliary classifier used in training
        from torchvision.models.inception import InceptionAux

        training_only = sum(p.numel() for p in InceptionAux(768, 1000).parameters())
    assert table.total_params + training_only == meta["num_params"]


def test_blocks_collapse_and_expand():
    table = layer_table("resnet50")
    collapsed = table.rows()
    assert "layer1.0" in [r.name for r in collapsed if r.is_block]
    block = table.blocks["layer1.0"]
    assert block.type == "Bottleneck" and block.out_shape == (256, 56, 56)
    inner = [r for r in table.rows({"layer1.0"}) if r.block == "layer1.0"]
    assert [r.name for r in inner][:3] == ["layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu"]
    assert block.params == sum(r.params for r in inner)
    assert len(table.rows(True)) == len(table.layers)
    assert table.frame().iloc[-1]["name"] == "Total"


def test_other_input_sizes_and_absurd_ones():
    assert layer_table("resnet50", 160).layers[-1].out_shape == (1000,)
    with pytest.raises(CnnvizError, match="between"):
        layer_table("resnet50", 5)
    with pytest.raises(CnnvizError, match="between"):
        layer_table("resnet50", 100_000)
    with pytest.raises(CnnvizError, match="cannot run"):
        layer_table("alexnet2012", 32)


def test_a_reused_module_is_identified_by_fields_not_by_its_label():
    table = layer_table("resnet18")
    relu = [row for row in table.layers if row.module == "layer1.0.relu"]
    assert [(row.call, row.name) for row in relu] == [(1, "layer1.0.relu"), (2, "layer1.0.relu (call 2)")]
    expanded = [row.module for row in table.rows(expand={"layer1.0"})]
    assert expanded.count("layer1.0.relu") == 2  # both calls, one module name
    assert not any("(call" in name for name in spatial_layers("resnet18"))


def test_no_code_reads_a_layer_back_out_of_its_label():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for folder in ("cnnviz", "ui", "views"):
        for path in (root / folder).rglob("*.py"):
            assert '(call"' not in path.read_text(), path  # e.g. name.split(" (call")
