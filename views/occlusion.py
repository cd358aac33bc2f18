"""Occlusion page: the three maps of Zeiler & Fergus Fig. 7 for the chosen image and architecture."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

import cnnviz
from cnnviz.device import describe_device
from cnnviz.errors import CnnvizError
from cnnviz.explain.keys import result_key
from cnnviz.explain.methods import METHODS
from cnnviz.explain.occlusion import DeviceMemoryError, estimate, grid_positions, occlusion
from cnnviz.predict import at_most
from cnnviz.render import overlay
from ui import follow, links
from ui.models import layers_with_maps, on_cpu, start_page
from ui.pages import link_to, page
from ui.results import SharedJob, compute_shared, shared_results
from ui.text import class_names, column_config, error_text, labeller, t
from ui.work_queue import on_session_thread

LINK = links.page_settings(
    "occlusion",
    {
        "window": "occl_window",
        "stride": "occl_stride",
        "fill": "occl_fill",
        "layer": "occl_layer",
        "target": "occl_target",
    },
)


FILLS = METHODS["occlusion"].param("fill").choices


def _ranges(side: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The window's and the stride's least and most, input px, for a network of input side ``side``."""
    return (4, max(4, side // 2)), (2, max(2, side // 4))


def _prepare(opened) -> list[SharedJob]:
    """The map a link to this page shows once its button is pressed (see :mod:`ui.prepare`): the link's window,
    stride, fill, layer and class (one of the top-5), else the page's defaults (32, 8, the first fill, the last
    spatial layer, the top-1)."""
    from cnnviz.layers import spatial_layers

    net, image = opened.net, opened.image
    side = net.preprocess.input_size
    layers = spatial_layers(net.spec, side)
    if not layers:
        return []
    windows, strides = _ranges(side)
    window = opened.setting("window", links.integer(*windows), min(32, windows[1]))
    stride = opened.setting("stride", links.integer(*strides), min(8, strides[1]))
    fill = opened.setting("fill", links.choice(FILLS), FILLS[0])
    layer = opened.setting("layer", links.choice(layers), layers[-1])
    target = opened.target()
    key = result_key(
        "occlusion", net, opened.digest, window=window, stride=stride, fill=fill, target=target, layer=layer
    )

    def compute(report):
        return occlusion(net, image, window, stride, fill, target, layer, progress=report)

    return [SharedJob(key, compute, t("task.occlusion"))]


@page(
    url_path="occlusion",
    icon=":material/grid_on:",
    group="explore",
    order=3,
    title_key="page.occlusion",
    heading_key="occl.header",
    link=LINK,
    tasks=("occlusion",),
    prepare=_prepare,
)
def occlusion_page() -> None:
    """Draw the page for the choices of the sidebar."""
    choices, spec, net = start_page("occl.header", "occl.intro", link=LINK)
    if net is None:
        return

    clean = cnnviz.predict(net, choices.image, top=at_most(net))
    side = net.preprocess.input_size
    layers = layers_with_maps(spec, side)
    if layers is None:
        return
    windows, strides = _ranges(side)
    LINK.read_once(
        {
            "window": links.integer(*windows),
            "stride": links.integer(*strides),
            "fill": links.choice(FILLS),  # the record's choices, as on the command line
            "layer": links.choice(layers),
            "target": links.integer(0, len(net.categories) - 1),  # one of the top-5, or the top-1 (below)
        }
    )
    links.show_notices()
    names = class_names(net)
    targets = {s.index: f"{names[s.index]} ({s.prob:.1%})" for s in clean.scores}
    _follow_network(spec, side, windows, strides, layers, targets)
    with st.form("occlusion"):
        cols = st.columns(5)
        window = cols[0].slider(t("occl.window"), *windows, key="occl_window")
        stride = cols[1].slider(t("occl.stride"), *strides, key="occl_stride")
        fill = cols[2].selectbox(t("occl.fill"), FILLS, format_func=labeller("occl.fill_{}"), key="occl_fill")
        target = cols[3].selectbox(t("occl.target"), list(targets), format_func=targets.__getitem__, key="occl_target")
        layer = cols[4].selectbox(t("occl.layer"), layers, key="occl_layer")
        count = len(grid_positions(side, window, stride))
        st.caption(t("occl.positions", count=count**2, grid=count))
        _waiting_time(net, choices.image, window, stride)
        submitted = st.form_submit_button(t("occl.run"), type="primary")
    LINK.write({name: str(st.session_state[key]) for name, key in LINK.fields.items() if key in st.session_state})

    key = result_key(
        "occlusion", net, choices.image_digest, window=window, stride=stride, fill=fill, target=target, layer=layer
    )
    maps = shared_results().get(key)
    if maps is not None:
        st.caption(t("occl.cached"))
    elif submitted:
        coarse = st.empty()
        preview = on_session_thread(lambda maps: _preview(coarse, maps))
        warn = on_session_thread(st.warning)

        def compute(report):
            nonlocal net  # the CPU model, when the GPU had no room
            args = (choices.image, window, stride, fill, target, layer)
            try:
                return occlusion(net, *args, progress=report, preview=preview)
            except DeviceMemoryError as exc:
                if net.device.type == "cpu":
                    raise
                warn(t("occl.cpu_fallback", message=error_text(exc)))
                net = on_cpu(net)
                return occlusion(net, *args, progress=report, preview=preview)

        def describe(maps, seconds: float) -> str:
            return t(
                "occl.done",
                count=count**2,
                seconds=seconds,
                device=describe_device(net.device),
                batch=maps.batch_size,
                method=t(f"occl.method_{maps.method}"),
            )

        computed = compute_shared(key, compute, "occl", task="occlusion", describe=describe, device=str(net.device))
        coarse.empty()
        if computed is None:
            return
        maps = computed.value
    else:
        st.info(t("occl.press_run"))
        return
    _show(net, maps, clean.crop)
    link_to("trust", "trust.link")


def _follow_network(
    spec, side: int, windows: tuple[int, int], strides: tuple[int, int], layers: list[str], targets: dict[int, str]
) -> None:
    """Keep the form's settings valid for this network and photo (see :mod:`ui.follow`); the defaults are
    a 32 px window, an 8 px stride, the last spatial layer and the top-1 class."""
    for key, label, (low, high), default in (
        ("occl_window", "occl.window", windows, 32),
        ("occl_stride", "occl.stride", strides, 8),
    ):
        why = t("follow.side", arch=spec.display, side=side, low=low, high=high)
        follow.keep_number(key, low, high, min(default, high), setting=t(label), why=why)
    why = t("follow.no_layer", arch=spec.display)
    follow.keep_choice("occl_layer", layers, layers[-1], setting=t("occl.layer"), why=why)
    why = t("follow.not_top5", arch=spec.display)
    top1 = next(iter(targets))
    follow.keep_choice(
        "occl_target", list(targets), top1, setting=t("occl.target"), why=why, show=targets.get, show_old=False
    )


def _waiting_time(net, image, window: int, stride: int) -> None:
    """How long the map will take on this server, and a stride that answers within about 10 s."""
    try:
        guess = estimate(net, image, window, stride)
    except CnnvizError:
        return  # the request itself is refused; the message comes with the button
    text = t(
        "occl.estimate",
        seconds=guess.seconds,
        device=describe_device(net.device),
        method=t(f"occl.method_{guess.method}"),
        ms=guess.per_position * 1000,
    )
    if guess.quick_stride != stride:
        positions = len(grid_positions(net.preprocess.input_size, window, guess.quick_stride)) ** 2
        text += " " + t("occl.quick_stride", stride=guess.quick_stride, seconds=positions * guess.per_position)
    st.caption(text)


def _preview(placeholder, maps) -> None:
    """Map (a) of a coarse pass, while the finer positions are being computed."""
    with placeholder.container():
        grid = len(maps.positions)
        st.markdown(f"**{t('occl.preview', stride=maps.stride, grid=grid)}**")
        frame = _grid_frame(maps, maps.probability, "probability")
        st.altair_chart(_heatmap(frame, "probability", "Q", t("occl.legend_prob"), "inferno"), width="stretch")


def _grid_frame(maps, values: np.ndarray, column: str) -> pd.DataFrame:
    ys, xs = np.meshgrid(maps.positions, maps.positions, indexing="ij")
    return pd.DataFrame({"x": xs.ravel(), "y": ys.ravel(), column: values.ravel()})


def _heatmap(frame: pd.DataFrame, column: str, kind: str, legend: str, scheme: str | None = None) -> alt.Chart:
    colour = alt.Color(f"{column}:{kind}", title=legend)
    if scheme:
        colour = alt.Color(f"{column}:{kind}", title=legend, scale=alt.Scale(scheme=scheme))
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("x:O", title="x (px)", axis=alt.Axis(labelOverlap=True)),
            y=alt.Y("y:O", title="y (px)", axis=alt.Axis(labelOverlap=True)),
            color=colour,
            tooltip=["x", "y", column],
        )
        .properties(height=320)
    )


def _show(net, maps, crop: np.ndarray) -> None:
    names = class_names(net)
    label = names[maps.target]
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('occl.map_a', label=label)}**")
        frame = _grid_frame(maps, maps.probability, "probability")
        st.altair_chart(_heatmap(frame, "probability", "Q", t("occl.legend_prob"), "inferno"), width="stretch")
        st.caption(t("occl.map_a_help", clean=maps.clean_probability))
    with right:
        st.markdown(f"**{t('occl.overlay')}**")
        low, high = float(maps.probability.min()), float(maps.probability.max())
        st.image(overlay(crop, maps.overlay, cmap="inferno", low=low, high=high), width="stretch")
        st.caption(t("occl.overlay_help"))
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('occl.map_b')}**")
        names = np.vectorize(lambda i: f"{i}: {names[i]}")(maps.argmax)
        st.altair_chart(
            _heatmap(_grid_frame(maps, names, "class"), "class", "N", t("occl.legend_class")), width="stretch"
        )
        counts = pd.Series(names.ravel()).value_counts()
        counts = counts.rename_axis("class").reset_index(name="positions")
        st.dataframe(counts, hide_index=True, column_config=column_config(counts.columns))
    with right:
        if maps.activation is not None:
            st.markdown(f"**{t('occl.map_c', layer=maps.layer, channel=maps.channel)}**")
            frame = _grid_frame(maps, maps.activation, "activation")
            st.altair_chart(_heatmap(frame, "activation", "Q", t("occl.legend_activation"), "viridis"), width="stretch")
