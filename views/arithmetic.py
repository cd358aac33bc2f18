"""Conv arithmetic page: output size, parameters and MACs of one layer; the 1×1 bottleneck; stacked 3×3;
transposed convolution (maps made larger) and the count of YOLO's output grid."""

import streamlit as st
import torch

from cnnviz.arithmetic import YOLO_DECK, bottleneck, conv_layer, stacked_3x3, transposed_conv
from cnnviz.errors import CnnvizError
from ui import links
from ui.pages import page
from ui.text import column_label, error_text, t

# Each section's inputs: (link name, label key, default, minimum, maximum); the widget key is "arith_" + name.
LAYER = (
    ("n", "arith.n", 227, 1, 100_000),
    ("f", "arith.f", 11, 1, 100_000),
    ("p", "arith.p", 0, 0, 100_000),
    ("s", "arith.s", 4, 1, 100_000),
    ("cin", "arith.c_in", 3, 1, 1_000_000),
    ("cout", "arith.c_out", 96, 1, 1_000_000),
    ("groups", "arith.groups", 1, 1, 1_000_000),
)  # AlexNet's first layer (deck 002)
BOTTLENECK = (
    ("bn_n", "arith.n", 56, 1, 10_000),
    ("bn_cin", "arith.c_in", 256, 1, 100_000),
    ("bn_mid", "arith.c_mid", 64, 1, 100_000),
    ("bn_f", "arith.f", 3, 1, 99),
    ("bn_cout", "arith.c_out", 256, 1, 100_000),
)  # a ResNet-50 bottleneck at 56×56
STACKED = (("stack_layers", "arith.layers", 3, 1, 50), ("stack_channels", "arith.channels", 64, 1, 100_000))
TRANSPOSED = (
    ("tconv_n", "arith.n", 7, 1, 10_000),
    ("tconv_f", "arith.f", 64, 1, 1_000),
    ("tconv_p", "arith.p", 16, 0, 1_000),
    ("tconv_s", "arith.s", 32, 1, 1_000),
    ("tconv_op", "arith.op", 0, 0, 999),
)  # FCN-32s' upsampling of a 7×7 map
INPUTS = LAYER + BOTTLENECK + STACKED + TRANSPOSED
LINK = links.page_settings("arithmetic", {name: f"arith_{name}" for name, *_ in INPUTS})


def _row(fields: tuple[tuple[str, str, int, int, int], ...]) -> list[int]:
    """A row of whole-number inputs, one per (link name, label key, default, minimum, maximum); the link
    holds those that differ from their default."""
    columns = st.columns(len(fields))
    values = []
    for column, (name, label, default, low, high) in zip(columns, fields, strict=True):
        key = f"arith_{name}"
        st.session_state.setdefault(key, default)
        value = int(column.number_input(t(label), min_value=low, max_value=high, step=1, key=key))
        LINK.write({name: None if value == default else str(value)})
        values.append(value)
    return values


@page(
    url_path="conv_arithmetic",
    icon=":material/calculate:",
    group="explore",
    order=9,
    title_key="page.arithmetic",
    heading_key="arith.header",
    link=LINK,
)
def arithmetic_page() -> None:
    """Draw the calculators."""
    st.header(t("arith.header"))
    LINK.read_once({name: links.integer(low, high) for name, _, _, low, high in INPUTS})
    links.show_notices()
    st.subheader(t("arith.layer"))
    n, f, p, s, c_in, c_out, groups = _row(LAYER)
    try:
        result = conv_layer(n, f, p, s, c_in, c_out, groups)
    except CnnvizError as exc:
        st.error(error_text(exc))
    else:
        st.latex(r"\text{out} = \frac{N - F + 2P}{S} + 1")
        st.markdown(f"**{t('arith.output')}:** {result.formula} → **{result.out_size}×{result.out_size}×{c_out}**")
        if result.warning:
            st.warning(result.warning)
        metrics = st.columns(2)
        metrics[0].metric(t("arith.params"), f"{result.params:,}")
        metrics[1].metric(t("arith.macs"), f"{result.macs:,}")

    st.subheader(t("arith.bottleneck"))
    bn_n, bn_in, bn_mid, bn_f, bn_out = _row(BOTTLENECK)
    try:
        comparison = bottleneck(bn_n, bn_in, bn_mid, bn_f, bn_out)
    except CnnvizError as exc:
        st.error(error_text(exc))
    else:
        st.markdown(t("arith.bottleneck_text", f=bn_f, c_in=bn_in, c_out=bn_out, n=bn_n, c_mid=bn_mid))
        st.table(
            {
                "": [t("arith.direct"), t("arith.factored")],
                column_label("weights"): [f"{comparison.direct_weights:,}", f"{comparison.factored_weights:,}"],
                column_label("macs"): [f"{comparison.direct_macs:,}", f"{comparison.factored_macs:,}"],
            }
        )
        st.markdown(t("arith.ratio", weights=comparison.weight_ratio, macs=comparison.mac_ratio))

    st.subheader(t("arith.stacked"))
    depth, channels = _row(STACKED)
    field, comparison = stacked_3x3(channels, depth)
    text = t(
        "arith.stacked_text",
        layers=depth,
        field=field,
        factored=comparison.factored_weights,
        direct=comparison.direct_weights,
        coef_f=9 * depth,
        coef_d=field * field,
    )
    st.markdown(text)

    st.subheader(t("arith.transposed"))
    st.markdown(t("arith.transposed_text"))
    tn, tf, tp, ts, top = _row(TRANSPOSED)
    try:
        larger = transposed_conv(tn, tf, tp, ts, top)
    except CnnvizError as exc:
        st.error(error_text(exc))
    else:
        st.latex(r"\text{out} = S\,(N - 1) + F - 2P + \text{output padding}")
        st.markdown(t("arith.transposed_out", formula=larger.formula))
        layer = torch.nn.ConvTranspose2d(1, 1, tf, stride=ts, padding=tp, output_padding=top, device="meta")
        st.caption(t("arith.transposed_torch", size=layer(torch.empty(1, 1, tn, tn, device="meta")).shape[-1]))
        st.caption(t("arith.fcn_example"))

    st.subheader(t("arith.yolo"))
    st.markdown(
        t(
            "arith.yolo_text",
            input=YOLO_DECK.input_side,
            stride=YOLO_DECK.stride,
            side=YOLO_DECK.side,
            boxes=YOLO_DECK.boxes,
            per_box=YOLO_DECK.per_box,
            classes=YOLO_DECK.classes,
            per_cell=YOLO_DECK.per_cell,
            total=YOLO_DECK.total,
        )
    )
