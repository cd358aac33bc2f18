"""Building blocks page (deck 001, in its order): the convolution worked by hand, a filter on the photo with
stride, padding and dilation, ReLU against sigmoid and tanh, translation (equivariance of the map,
invariance of the prediction), pooling, batch normalisation, dropout and why a dense layer does not do.
The arithmetic lives in :mod:`cnnviz.blocks`; this page lays it out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

import cnnviz
from cnnviz.blocks import (
    KERNELS,
    POOLS,
    convolve,
    kernel,
    output_side,
    photo_input,
    pool,
    relu,
    spelled_kernel,
    worked_example,
)
from cnnviz.blocks.network import first_layers, normalised_photo
from cnnviz.blocks.operations import ACTIVATIONS, activated, dropout, max_pool_winners, receptive_field
from cnnviz.blocks.pictures import (
    field_close_up,
    field_on_photo,
    fitted,
    grey_picture,
    magnitude_picture,
    pooling_close_up,
)
from cnnviz.blocks.translation import shifted_maps, shifted_prediction
from cnnviz.explain.activations import first_layer_filters
from cnnviz.render import signed_picture, tile_grid
from ui import links
from ui.models import model_for_page, shared_model
from ui.pages import page
from ui.text import class_names, current_language, error_text, labeller, t

SOURCES = ("preset", "typed", "network")
TYPED_DEFAULT = "1 0 -1\n1 0 -1\n1 0 -1"
SHOWN = 420  # px: the longer side of each photo-sized picture on screen
SMALL = 300  # px: pictures shown three in a row
MAX_SLIDER_STRIDE, MAX_SLIDER_PADDING, MAX_SLIDER_DILATION = 8, 8, 4
MAX_FILTER_INDEX = 4095  # a link's first-layer filter index; the page then keeps it below the network's count
MAX_UNIT = 100_000  # a link's output row or column; the page then keeps it inside the map
MAX_CHANNEL = 4095  # a link's batch-norm channel; the page then keeps it below the layer's count
DROPOUT_STEP, MAX_DROPOUT = 10, 90  # % of units dropped: the slider's step and its most (the link holds %)
MAX_SHIFT = 32  # px
POOL_SIZES = (2, 3, 4)
SHIFT_NETWORK = "efficientnet_lite0"  # the bundled network with real weights
DENSE_UNITS = 1000  # units of the dense layer on the photo (ImageNet's class count)
DECK_DENSE = 120_000_000  # deck 001's count for a dense layer on a raw image

LINK = links.page_settings(
    "blocks",
    {
        "source": "blocks_source",
        "kernel": "blocks_preset",
        "typed": "blocks_typed",
        "filter": "blocks_filter_index",
        "grey": "blocks_grey",
        "stride": "blocks_stride",
        "padding": "blocks_padding",
        "dilation": "blocks_dilation",
        "shift": "blocks_shift",
        "row": "blocks_unit_row",
        "column": "blocks_unit_column",
        "pool": "blocks_pool_kind",
        "pool_size": "blocks_pool_size",
        "pool_stride": "blocks_pool_stride",
        "bn_channel": "blocks_bn_channel",
        "dropout": "blocks_dropout",
    },
    kept=(
        "blocks_source",
        "blocks_preset",
        "blocks_typed",
        "blocks_grey",
        "blocks_filter_index",
        "blocks_stride",
        "blocks_padding",
        "blocks_dilation",
        "blocks_unit_row",
        "blocks_unit_column",
        "blocks_shift",
        "blocks_pool_kind",
        "blocks_pool_size",
        "blocks_pool_stride",
        "blocks_bn_channel",
        "blocks_dropout",
    ),
)


@page(
    url_path="building_blocks",
    icon=":material/extension:",
    group="explore",
    order=6,
    title_key="page.blocks",
    heading_key="blocks.header",
    link=LINK,
)
def blocks_page() -> None:
    """Draw the page for the sidebar's photo and network."""
    choices = st.session_state["choices"]
    st.header(t("blocks.header"))
    st.markdown(t("blocks.intro"))
    LINK.read_once(
        {
            "source": links.choice(SOURCES),
            "kernel": links.choice(tuple(KERNELS)),
            "typed": _typed_from_link,
            "filter": links.integer(0, MAX_FILTER_INDEX),
            "grey": links.flag,
            "stride": links.integer(1, MAX_SLIDER_STRIDE),
            "padding": links.integer(0, MAX_SLIDER_PADDING),
            "dilation": links.integer(1, MAX_SLIDER_DILATION),
            "shift": links.integer(0, MAX_SHIFT),
            "row": links.integer(0, MAX_UNIT),
            "column": links.integer(0, MAX_UNIT),
            "pool": links.choice(POOLS),
            "pool_size": links.number_choice(POOL_SIZES),
            "pool_stride": links.integer(1, max(POOL_SIZES)),
            "bn_channel": links.integer(0, MAX_CHANNEL),
            "dropout": links.share(0, MAX_DROPOUT, DROPOUT_STEP),
        }
    )
    links.show_notices()
    _worked_example()
    net = model_for_page(choices)
    if net is None:
        LINK.write(dict.fromkeys(LINK.fields))
        return
    st.subheader(t("blocks.filter"))
    st.markdown(t("blocks.filter_text"))
    found = _filter(net, choices.image)
    if found is None:
        return
    x, weights, y, key = found
    the_map = _memo("the_map", key, lambda: y.mean(axis=0))
    _activations(the_map)
    st.subheader(t("blocks.translation"))
    st.markdown(t("blocks.translation_text"))
    if weights.ndim == 2 and x.shape[0] > 1:  # one kernel per colour channel: by linearity, the channels' mean
        x, y = _memo("grey_input", key, lambda: x.mean(axis=0, keepdims=True)), the_map[None]
    _translation(x, weights, y, key, choices)
    rectified = _memo("rectified", key, lambda: relu(the_map))
    st.subheader(t("blocks.pooling"))
    st.markdown(t("blocks.pooling_text"))
    _pooling(rectified)
    layers = _memo("first_layers", (net.spec.name, choices.image_digest), lambda: first_layers(net, choices.image))
    st.subheader(t("blocks.batch_norm"))
    st.markdown(t("blocks.batch_norm_text"))
    _batch_norm(net, layers)
    st.subheader(t("blocks.dropout"))
    st.markdown(t("blocks.dropout_text"))
    _dropout(rectified)
    _dense(net, layers, choices.image)


def _memo(name: str, key: Any, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept in the session for ``key`` (the last one per ``name``), so a slider elsewhere on the
    page does not redo a network's forward pass."""
    kept = st.session_state.get(f"_blocks_memo_{name}")
    if kept is not None and kept[0] == key:
        return kept[1]
    value = compute()
    st.session_state[f"_blocks_memo_{name}"] = (key, value)
    return value


def _bounded(label: str, low: int, high: int, default: int, key: str, **options) -> int:
    """A whole-number slider whose kept value is first brought within ``low``…``high`` (a smaller photo or
    a larger stride shrinks the range)."""
    if key in st.session_state:
        st.session_state[key] = min(max(int(st.session_state[key]), low), high)
    else:
        st.session_state[key] = min(max(default, low), high)
    if high <= low:
        st.caption(f"{label}: {low}")
        return low
    return int(st.slider(label, low, high, key=key, **options))


def _matrix(rows) -> str:
    """``rows`` of numbers as a LaTeX matrix, as the deck writes them."""
    return r"\begin{bmatrix}" + r" \\ ".join(" & ".join(_number(v) for v in row) for row in rows) + r"\end{bmatrix}"


def _number(value: float) -> str:
    return f"{value:g}"


def _worked_example() -> None:
    st.subheader(t("blocks.worked"))
    example = worked_example()
    st.markdown(t("blocks.worked_text"))
    input_, kernel_, output, after = (t(f"blocks.{k}") for k in ("input", "kernel", "output", "after_relu"))
    st.latex(
        rf"\underset{{\text{{{input_}}}}}{{{_matrix(example.input)}}} \star "
        rf"\underset{{\text{{{kernel_}}}}}{{{_matrix(example.kernel)}}} = "
        rf"\underset{{\text{{{output}}}}}{{{_matrix(example.output)}}} \xrightarrow{{\text{{ReLU}}}} "
        rf"\underset{{\text{{{after}}}}}{{{_matrix(example.after_relu)}}}"
    )
    sums = "\n".join(f"output[{c.row}][{c.column}] = {c.sum_text()}" for c in example.cells)
    st.code(sums, language=None)
    st.caption(t("blocks.flipped"))


def _typed_from_link(text: str) -> str:
    """A typed kernel from the link (spelled as :func:`cnnviz.blocks.spelled_kernel` writes it) as the text
    box shows one, a row per line; ValueError when :func:`cnnviz.blocks.kernel` refuses it."""
    try:
        values = kernel(text)
    except cnnviz.CnnvizError:
        raise ValueError("not a kernel") from None
    return spelled_kernel(values).replace(";", "\n").replace(",", " ")


def _kernel_choice(net: cnnviz.LoadedModel) -> tuple[np.ndarray, bool] | None:
    """The kernel the student chose (k×l, or a network's C×k×l filter) and whether the photo is taken in grey;
    None after drawing why a typed kernel is refused."""
    st.session_state.setdefault("blocks_source", SOURCES[0])
    lang = current_language()  # the labels of this run's language, whenever Streamlit formats them
    source = st.radio(
        t("blocks.source"),
        SOURCES,
        format_func=lambda s: t(f"blocks.source_{s}", lang, arch=net.spec.display),
        horizontal=True,
        key="blocks_source",
    )
    LINK.write({"source": source, "kernel": None, "typed": None, "filter": None, "grey": None})
    if source == "network":
        try:
            filters = first_layer_filters(net)
        except cnnviz.CnnvizError as exc:
            st.error(error_text(exc))
            return None
        left, right = st.columns([3, 1])
        index = _bounded(t("blocks.filter_index"), 0, len(filters.weights) - 1, 0, "blocks_filter_index")
        LINK.write({"filter": str(index)})
        with left:
            st.caption(
                t(
                    "blocks.network_filter",
                    layer=filters.layer,
                    count=len(filters.weights),
                    k=filters.kernel,
                    stride=filters.stride,
                    channels=filters.weights.shape[1],
                )
            )
        tile = (filters.tiles()[index] * 255).round().astype(np.uint8)
        if tile.shape[2] == 1:
            tile = np.repeat(tile, 3, axis=2)
        right.image(tile_grid([tile], 1, zoom=max(1, 96 // tile.shape[0])), caption=t("blocks.filter_tile"))
        return filters.weights[index], filters.weights.shape[1] == 1
    if source == "preset":
        st.session_state.setdefault("blocks_preset", "sobel-x")
        name = st.selectbox(
            t("blocks.preset"), tuple(KERNELS), format_func=labeller("blocks.kernel_{}"), key="blocks_preset"
        )
        weights = kernel(name)
        LINK.write({"kernel": name})
        st.latex(_matrix(weights.tolist()))
    else:
        st.session_state.setdefault("blocks_typed", TYPED_DEFAULT)
        text = st.text_area(t("blocks.typed"), key="blocks_typed", help=t("blocks.typed_help"), height=110)
        try:
            weights = kernel(text)
        except cnnviz.CnnvizError as exc:
            st.error(error_text(exc))
            return None
        LINK.write({"typed": spelled_kernel(weights)})
    grey = st.toggle(t("blocks.grey"), key="blocks_grey")
    LINK.write({"grey": "1" if grey else "0"})
    return weights, grey


def _filter(net: cnnviz.LoadedModel, image) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple] | None:
    """Draw the filter section; the input (C×H×W), the kernel, the convolution's output and the key naming
    them (photo, filter, settings), or None when the settings are refused (the reason drawn)."""
    chosen = _kernel_choice(net)
    if chosen is None:
        return None
    weights, grey = chosen
    columns = st.columns(3)
    with columns[0]:
        stride = _bounded(t("blocks.stride"), 1, MAX_SLIDER_STRIDE, 1, "blocks_stride")
    with columns[1]:
        padding = _bounded(t("blocks.padding"), 0, MAX_SLIDER_PADDING, 0, "blocks_padding")
    with columns[2]:
        dilation = _bounded(t("blocks.dilation"), 1, MAX_SLIDER_DILATION, 1, "blocks_dilation")
    LINK.write(
        {
            "stride": str(stride),
            "padding": str(padding),
            "dilation": str(dilation),
        }
    )
    network_filter = weights.ndim == 3
    settings = (weights.tobytes(), weights.shape, grey, stride, padding, dilation)
    key = (st.session_state["choices"].image_digest, net.spec.name if network_filter else None, *settings)

    def computed() -> tuple[np.ndarray, np.ndarray]:
        x = normalised_photo(net, image, weights.shape[0]) if network_filter else photo_input(image, grey=grey)
        return x, convolve(x, weights, stride, padding, dilation)

    try:
        x, y = _memo("convolution", key, computed)
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return None
    _sizes(x.shape, weights.shape[-2:], stride, padding, dilation, y.shape)
    _field(np.asarray(image.convert("RGB")), y, key, weights.shape[-2:], stride, padding, dilation)
    st.caption(t("blocks.field_text"))
    return x, weights, y, key


@st.fragment
def _field(
    photo: np.ndarray, y: np.ndarray, key: tuple, kernel_shape, stride: int, padding: int, dilation: int
) -> None:
    """The output unit the student picks and the photo's pixels it reads (a fragment: moving its sliders
    redraws only this); ``key`` names the convolution ``y`` came from."""
    rows, columns = y.shape[1], y.shape[2]
    picked = st.columns(2)
    with picked[0]:
        row = _bounded(t("blocks.unit_row"), 0, rows - 1, rows // 2, "blocks_unit_row")
    with picked[1]:
        column = _bounded(t("blocks.unit_column"), 0, columns - 1, columns // 2, "blocks_unit_column")
    LINK.write({"row": str(row), "column": str(column)})
    field = receptive_field(row, column, kernel_shape, stride, padding, dilation)
    shown = st.columns(3)
    shown[0].image(
        field_on_photo(photo, field, SHOWN),
        caption=t("blocks.photo_caption", w=photo.shape[1], h=photo.shape[0]),
        width="stretch",
    )
    shown[1].image(
        _memo("output_picture", key, lambda: fitted(signed_picture(y), SHOWN)),
        caption=t("blocks.output_caption", w=columns, h=rows, channels=y.shape[0]),
        width="stretch",
    )
    value = ", ".join(f"{v:.3f}" for v in y[:, row, column])
    shown[2].image(
        field_close_up(photo, field),
        caption=t("blocks.field_caption", row=row, column=column, h=field.size[0], w=field.size[1], value=value),
        width="stretch",
    )


def _sizes(shape, kernel_shape, stride: int, padding: int, dilation: int, out_shape) -> None:
    """The output's size by the deck's formula beside the size torch gave (they must agree)."""
    formulas, sides = [], []
    for side, k, got, name in (
        (shape[1], kernel_shape[0], out_shape[1], "H"),
        (shape[2], kernel_shape[1], out_shape[2], "W"),
    ):
        expected = output_side(side, k, stride, padding, dilation)
        fraction = rf"\frac{{{side} + 2\cdot{padding} - {dilation}\,({k} - 1) - 1}}{{{stride}}}"
        formulas.append(rf"{name}' = \left\lfloor {fraction} \right\rfloor + 1 = {expected}")
        sides.append(expected)
        if expected != got:  # a formula that disagrees with torch would be a bug worth showing, not hiding
            st.error(t("blocks.size_disagrees", name=name, formula=expected, actual=got))
    st.latex(r"\qquad ".join(formulas))
    st.markdown(t("blocks.sizes", formula=f"{sides[0]}×{sides[1]}", actual=f"{out_shape[1]}×{out_shape[2]}"))


def _activations(the_map: np.ndarray) -> None:
    st.subheader(t("blocks.activations"))
    st.markdown(t("blocks.activations_text"))
    results = [activated(the_map, name) for name in ACTIVATIONS]
    columns = st.columns(len(results))
    for column, result in zip(columns, results, strict=True):
        column.image(fitted(grey_picture(result.output), SMALL), caption=t(f"blocks.fn_{result.name}"), width="stretch")
    st.dataframe(
        pd.DataFrame(
            {
                t("blocks.col_function"): [t(f"blocks.fn_{r.name}") for r in results],
                t("blocks.col_zero"): [f"{r.zero_share:.1%}" for r in results],
                t("blocks.col_mean_gradient"): [f"{r.mean_gradient:.3f}" for r in results],
                t("blocks.col_max_gradient"): [f"{r.max_gradient:.3f}" for r in results],
                t("blocks.col_ten_layers"): [f"{r.largest_possible**10:.2g}" for r in results],
            }
        ),
        hide_index=True,
    )
    st.caption(t("blocks.vanishing"))


@st.fragment
def _translation(x: np.ndarray, weights: np.ndarray, y: np.ndarray, key: tuple, choices) -> None:
    """The shift experiment (a fragment: moving the shift redraws only this)."""
    stride, padding, dilation = (st.session_state[k] for k in ("blocks_stride", "blocks_padding", "blocks_dilation"))
    shift = _bounded(t("blocks.shift"), 0, MAX_SHIFT, 2, "blocks_shift")
    LINK.write({"shift": str(shift)})
    try:
        maps = _memo(
            "shifted_maps", (key, shift), lambda: shifted_maps(x, weights, shift, stride, padding, dilation, before=y)
        )
    except ValueError:
        st.info(t("blocks.shift_too_far"))
        return
    left, right = st.columns(2)
    with left:
        st.markdown(
            t(
                "blocks.equivariance",
                shift=shift,
                stride=stride,
                units=_number(round(maps.map_shift, 2)),
                difference=maps.aligned_difference,
                verdict=t("blocks.aligned" if maps.aligned else "blocks.not_aligned"),
            )
        )
        st.dataframe(
            pd.DataFrame(
                {
                    t("blocks.col_stage"): [t("blocks.stage_conv"), t("blocks.stage_relu"), t("blocks.stage_pool")],
                    t("blocks.col_change"): [
                        f"{v:.1%}" for v in (maps.conv_change, maps.relu_change, maps.pooled_change)
                    ],
                }
            ),
            hide_index=True,
        )
    mine, shifted_map, difference = maps.close_up()
    top = float(np.abs(maps.before).max())
    pictures = st.columns(3)
    pictures[0].image(fitted(signed_picture(mine[None]), SMALL), caption=t("blocks.map_photo"), width="stretch")
    pictures[1].image(
        fitted(signed_picture(shifted_map[None]), SMALL), caption=t("blocks.map_shifted", shift=shift), width="stretch"
    )
    pictures[2].image(
        fitted(magnitude_picture(difference, top), SMALL),
        caption=t("blocks.map_moved_back", units=maps.units),
        width="stretch",
    )
    lite0 = shared_model(SHIFT_NETWORK, "auto", choices.device)
    moved = _memo(
        "shifted_prediction",
        (choices.image_digest, shift, choices.device),
        lambda: shifted_prediction(lite0, choices.image, shift),
    )
    names = class_names(lite0)
    with right:
        st.markdown(
            t(
                "blocks.invariance",
                arch=lite0.spec.display,
                side=lite0.preprocess.input_size,
                shift=shift,
                overlap=moved.overlap,
                top=len(moved.before),
                kept=t("blocks.kept" if moved.top1_kept else "blocks.changed"),
                variation=moved.total_variation,
            )
        )
        st.dataframe(
            pd.DataFrame(
                {
                    t("blocks.col_before"): [f"{names[s.index]} ({s.prob:.1%})" for s in moved.before],
                    t("blocks.col_after", shift=shift): [f"{names[s.index]} ({s.prob:.1%})" for s in moved.after],
                }
            ),
            hide_index=True,
        )


@st.fragment
def _pooling(rectified: np.ndarray) -> None:
    """Pooling on the rectified map (a fragment)."""
    columns = st.columns(3)
    st.session_state.setdefault("blocks_pool_kind", "max")
    kind = columns[0].radio(
        t("blocks.pool_kind"), POOLS, format_func=labeller("blocks.pool_{}"), key="blocks_pool_kind"
    )
    st.session_state.setdefault("blocks_pool_size", 2)
    size = columns[1].select_slider(t("blocks.pool_size"), POOL_SIZES, key="blocks_pool_size")
    with columns[2]:
        stride = _bounded(t("blocks.pool_stride"), 1, max(POOL_SIZES), size, "blocks_pool_stride")
    LINK.write({"pool": kind, "pool_size": str(size), "pool_stride": str(stride)})
    if size > min(rectified.shape):
        st.info(t("blocks.pool_too_large", size=size))
        return
    pooled = pool(rectified[None], kind, size, stride)[0]
    winners = max_pool_winners(rectified, size, stride) if kind == "max" else None
    strongest = np.unravel_index(int(np.argmax(rectified)), rectified.shape)
    first = (max(strongest[0] // stride - 1, 0), max(strongest[1] // stride - 1, 0))
    shown = st.columns(2)
    shown[0].image(
        fitted(grey_picture(pooled), SHOWN),
        caption=t("blocks.pooled_caption", w=pooled.shape[1], h=pooled.shape[0], kind=t(f"blocks.pool_{kind}")),
        width="stretch",
    )
    shown[1].image(
        pooling_close_up(rectified, winners, size, stride, first),
        caption=t("blocks.winners_caption" if winners is not None else "blocks.windows_caption"),
        width="stretch",
    )


@st.fragment
def _batch_norm(net: cnnviz.LoadedModel, layers) -> None:
    """The network's first batch normalisation, channel by channel (a fragment)."""
    norm = layers.batch_norm
    if norm is None:
        st.info(t("blocks.no_batch_norm", arch=net.spec.display))
        return
    channels = norm.before.shape[0]
    channel = _bounded(t("blocks.bn_channel"), 0, channels - 1, 0, "blocks_bn_channel")
    LINK.write({"bn_channel": str(channel)})
    before, after = norm.before[channel], norm.after[channel]
    st.caption(t("blocks.bn_layer", layer=norm.layer, channels=channels, arch=net.spec.display))
    shown = st.columns([1, 1, 2])
    shown[0].image(fitted(signed_picture(before[None]), SMALL), caption=t("blocks.bn_before"), width="stretch")
    shown[1].image(fitted(signed_picture(after[None]), SMALL), caption=t("blocks.bn_after"), width="stretch")
    shown[2].dataframe(
        pd.DataFrame(
            {
                t("blocks.col_quantity"): [
                    t("blocks.bn_running_mean"),
                    t("blocks.bn_running_var"),
                    t("blocks.bn_gamma"),
                    t("blocks.bn_beta"),
                    t("blocks.bn_photo_before"),
                    t("blocks.bn_photo_after"),
                ],
                t("blocks.col_value"): [
                    f"{norm.running_mean[channel]:.4g}",
                    f"{norm.running_var[channel]:.4g}",
                    f"{norm.weight[channel]:.4g}",
                    f"{norm.bias[channel]:.4g}",
                    f"{before.mean():.4g} ± {before.std():.4g}",
                    f"{after.mean():.4g} ± {after.std():.4g}",
                ],
            }
        ),
        hide_index=True,
    )
    st.latex(r"y = \frac{x - \mu_{\text{running}}}{\sqrt{\sigma^2_{\text{running}} + \varepsilon}}\,\gamma + \beta")
    if not net.meaningful:
        st.caption(t("blocks.bn_random"))


@st.fragment
def _dropout(rectified: np.ndarray) -> None:
    """Dropout on the rectified map (a fragment)."""
    st.session_state.setdefault("blocks_dropout", 0.5)
    p = st.slider(t("blocks.dropout_p"), 0.0, MAX_DROPOUT / 100, step=DROPOUT_STEP / 100, key="blocks_dropout")
    LINK.write({"dropout": links.percent(p)})
    dropped = dropout(rectified, float(p))
    shown = st.columns(2)
    shown[0].image(fitted(grey_picture(rectified), SHOWN), caption=t("blocks.dropout_test"), width="stretch")
    shown[1].image(fitted(grey_picture(dropped.output), SHOWN), caption=t("blocks.dropout_train", p=p), width="stretch")
    st.markdown(
        t(
            "blocks.dropout_numbers",
            share=dropped.dropped_share,
            before=dropped.mean_before,
            after=dropped.mean_after,
            p=p,
        )
    )


def _dense(net: cnnviz.LoadedModel, layers, image) -> None:
    st.subheader(t("blocks.dense"))
    st.markdown(t("blocks.dense_text", deck=DECK_DENSE))
    photo_inputs = image.width * image.height * 3
    network_inputs = int(np.prod(layers.input_shape))
    rows = [
        (
            t("blocks.dense_photo", w=image.width, h=image.height, inputs=photo_inputs, units=DENSE_UNITS),
            layers.dense_parameters(photo_inputs, DENSE_UNITS),
        ),
        (
            t(
                "blocks.dense_same",
                input="×".join(map(str, layers.input_shape)),
                inputs=network_inputs,
                output="×".join(map(str, layers.conv_output)),
            ),
            layers.dense_same_output,
        ),
        (
            t(
                "blocks.dense_conv",
                layer=layers.conv_layer,
                arch=net.spec.display,
                output="×".join(map(str, layers.conv_output)),
            ),
            layers.conv_parameters,
        ),
    ]
    st.dataframe(
        pd.DataFrame(
            {t("blocks.col_layer"): [r[0] for r in rows], t("blocks.col_parameters"): [f"{r[1]:,}" for r in rows]}
        ),
        hide_index=True,
    )
    st.markdown(t("blocks.dense_ratio", ratio=layers.dense_same_output / max(layers.conv_parameters, 1)))
