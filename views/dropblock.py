"""DropBlock lab: which units dropout and DropBlock remove from one layer's map, and what that does to
the prediction over repeated draws."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from cnnviz.explain.keys import result_key
from cnnviz.labs.dropblock import METHODS, compare_drops, default_layer
from cnnviz.render import colourise, tile_grid
from ui import follow, links
from ui.models import layers_with_maps, start_page
from ui.pages import page
from ui.results import SharedJob, compute_shared, shared_results
from ui.text import class_names, labeller, t

CHANNELS_SHOWN = 4
BLOCKS = (1, 3, 5, 7, 9)  # px a side of a dropped block
RATES = (5, 50, 5)  # % of units dropped: least, most, step (the link holds the percentage)
DRAWS = (4, 64, 4)  # repeated draws: least, most, step
DEFAULTS = {"rate": 10, "block": 5, "draws": 32}
LINK = links.page_settings(
    "dropblock",
    {"layer": "drop_layer", "rate": "drop_rate", "block": "drop_block", "draws": "drop_draws"},
)  # the rate is a percentage in the link, a share in drop_rate
DROPPED_COLOUR = np.array([255, 0, 255], np.uint8)  # magenta: not in viridis


def _masked_tiles(activation: np.ndarray, mask: np.ndarray, channels: list[int]) -> np.ndarray:
    """The chosen channels' maps (viridis, one scale) with the dropped units painted magenta."""
    high = max(float(activation[channels].max()), 1e-6)
    tiles = []
    for c in channels:
        tile = colourise(activation[c], "viridis", 0.0, high)
        tile[mask[c]] = DROPPED_COLOUR
        tiles.append(tile)
    zoom = max(1, 168 // activation.shape[-1])
    return tile_grid(tiles, columns=len(tiles), zoom=zoom, gap=4)


def _prepare(opened) -> list[SharedJob]:
    """The lab's run with the link's settings (see :mod:`ui.prepare`), else its first ones: the default layer,
    10 %, 5 px blocks, 32 draws."""
    from cnnviz.layers import spatial_layers

    net, image = opened.net, opened.image
    side = net.preprocess.input_size
    layers = spatial_layers(net.spec, side)
    if not layers:
        return []
    layer = opened.setting("layer", links.choice(layers), default_layer(net.spec, side))
    rate = opened.setting("rate", links.share(*RATES), DEFAULTS["rate"] / 100)
    block = opened.setting("block", links.number_choice(BLOCKS), DEFAULTS["block"])
    draws = opened.setting("draws", links.stepped(*DRAWS), DEFAULTS["draws"])
    key = result_key("dropblock", net, opened.digest, layer=layer, rate=rate, block=block, draws=draws)
    compute = lambda report: compare_drops(net, image, layer, rate, block, draws, progress=report)  # noqa: E731
    return [SharedJob(key, compute, t("task.dropblock"))]


@page(
    url_path="dropblock",
    icon=":material/blur_on:",
    group="labs",
    order=4,
    title_key="page.dropblock",
    heading_key="drop.header",
    link=LINK,
    tasks=("dropblock",),
    prepare=_prepare,
)
def dropblock_page() -> None:
    """Draw the lab for the sidebar's architecture and image."""
    choices, spec, net = start_page("drop.header", "drop.intro", markdown=True, link=LINK)
    if net is None:
        return
    side = net.preprocess.input_size
    layers = layers_with_maps(spec, side)
    if layers is None:
        return
    LINK.read_once(
        {
            "layer": links.choice(layers),
            "rate": links.share(*RATES),
            "block": links.number_choice(BLOCKS),
            "draws": links.stepped(*DRAWS),
        }
    )
    links.show_notices()
    why = t("follow.no_layer", arch=spec.display)
    follow.keep_choice("drop_layer", layers, default_layer(spec, side), setting=t("drop.layer"), why=why)
    st.session_state.setdefault("drop_rate", DEFAULTS["rate"] / 100)
    st.session_state.setdefault("drop_block", DEFAULTS["block"])
    st.session_state.setdefault("drop_draws", DEFAULTS["draws"])
    with st.form("dropblock"):
        cols = st.columns(4)
        layer = cols[0].selectbox(t("drop.layer"), layers, key="drop_layer")
        rate = cols[1].slider(t("drop.rate"), 0.05, 0.5, step=0.05, key="drop_rate", help=t("drop.rate_help"))
        block = cols[2].select_slider(t("drop.block"), BLOCKS, key="drop_block", help=t("drop.block_help"))
        draws = cols[3].slider(t("drop.draws"), DRAWS[0], DRAWS[1], step=DRAWS[2], key="drop_draws")
        submitted = st.form_submit_button(t("drop.run"), type="primary")
    LINK.write({"layer": layer, "rate": links.percent(rate), "block": str(block), "draws": str(draws)})
    key = result_key("dropblock", net, choices.image_digest, layer=layer, rate=rate, block=block, draws=draws)
    result = shared_results().get(key)
    if result is None and not submitted:
        st.info(t("drop.press_run"))
        return
    if result is None:
        computed = compute_shared(
            key,
            lambda report: compare_drops(net, choices.image, layer, rate, block, draws, progress=report),
            "drop",
            task="dropblock",
        )
        if computed is None:
            return
        result = computed.value
    _show(net, result)


def _show(net, result) -> None:
    label = class_names(net)[result.target]
    channels = result.channels_by_total(CHANNELS_SHOWN)
    shape = "×".join(str(n) for n in result.activation.shape)
    name = labeller("drop.method_{}")
    for method in METHODS:
        st.markdown(
            t(
                "drop.mask_title",
                method=name(method),
                fraction=result.dropped_fraction[method],
                shape=shape,
                channels=", ".join(map(str, channels)),
            )
        )
        st.image(_masked_tiles(result.activation, result.masks[method], channels))
    st.caption(t("drop.mask_help"))
    method_title, prob_title = t("drop.method"), t("drop.prob_axis")
    frame = pd.DataFrame(
        [
            {method_title: name(m), "draw": i + 1, "probability": p}
            for m in METHODS
            for i, p in enumerate(result.probabilities[m])
        ]
    )
    points = (
        alt.Chart(frame)
        .mark_tick(thickness=2, size=30)
        .encode(
            x=alt.X("probability:Q", title=t("drop.prob_axis_label", label=label), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y(f"{method_title}:N", title=method_title),
            color=alt.Color(f"{method_title}:N", legend=None),
            tooltip=[method_title, "draw", alt.Tooltip("probability:Q", title=prob_title, format=".1%")],
        )
    )
    clean = (
        alt.Chart(pd.DataFrame({"probability": [result.clean_probability]}))
        .mark_rule(color="black", strokeDash=[4, 4])
        .encode(x="probability:Q")
    )
    st.altair_chart((points + clean).properties(height=160), width="stretch")
    rows = {
        t("drop.method"): [name(m) for m in METHODS],
        t("drop.col_mean"): [f"{result.probabilities[m].mean():.1%}" for m in METHODS],
        t("drop.col_spread"): [f"{result.probabilities[m].std():.1%}" for m in METHODS],
        t("drop.col_kept"): [f"{result.top1_kept[m]} / {result.draws}" for m in METHODS],
    }
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(t("drop.clean", label=label, prob=result.clean_probability))
