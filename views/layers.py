"""Layers page: the layer table, parameters and memory per layer, the slide comparison, block diagrams."""

import re

import altair as alt
import pandas as pd
import streamlit as st

import cnnviz
from cnnviz.diagram import block_dot, network_dot
from cnnviz.layers import MAX_INPUT, MIN_INPUT, display_frame, layer_table
from cnnviz.lectures import slide_comparison
from ui import links
from ui.pages import page
from ui.text import column_config, error_text, note_text, t, tooltips

LINK = links.page_settings(
    "layers",
    {
        "input": "_layers_link_input",
        "block": "_layers_link_block",
        "expand": "layers_expand_all",
        "open": "_layers_link_open",
    },
    kept=("layers_expand_all",),
)  # the input side, the block drawn and the blocks opened in the table go to the sidebar network's own keys
# (layers_input_<arch>, layers_block_<arch>, layers_open_<arch>), so the link always holds them
MAX_OPEN = 4000  # characters of a link's list of opened blocks
_BLOCK_NAME = re.compile(r"[A-Za-z0-9_.]{1,64}")  # a module path, as torch names a block


def _block_name(text: str) -> str:
    """A link parser for a block's name; whether the network has it is checked once its table is known."""
    if not _BLOCK_NAME.fullmatch(text):
        raise ValueError("not a module path")
    return text


def _block_names(text: str) -> list[str]:
    """A link parser for the blocks opened in the table (:func:`ui.links.listed`'s spelling), each checked as
    :func:`_block_name`."""
    if text == links.NONE:
        return []
    names = text.split(",")
    if len(text) > MAX_OPEN or len(set(names)) < len(names):
        raise ValueError("not a list of blocks")
    return [_block_name(name) for name in names]


@page(
    url_path="layers",
    icon=":material/view_agenda:",
    group="explore",
    order=7,
    title_key="page.layers",
    heading_key="layers.header",
    link=LINK,
)
def layers_page() -> None:
    """Draw the page for the architecture chosen in the sidebar."""
    spec = cnnviz.get_spec(st.session_state["choices"].arch)
    st.header(t("layers.header", arch=spec.display))
    LINK.read_once(
        {
            "input": links.integer(MIN_INPUT, MAX_INPUT),
            "block": _block_name,
            "expand": links.flag,
            "open": _block_names,
        }
    )
    for name in ("input", "block", "open"):
        linked = st.session_state.pop(f"_layers_link_{name}", None)
        if linked is not None:
            st.session_state[f"layers_{name}_{spec.name}"] = linked
    links.show_notices()
    st.session_state.setdefault(f"layers_input_{spec.name}", spec.input_size)
    size = st.number_input(
        t("layers.input"),
        min_value=MIN_INPUT,
        max_value=MAX_INPUT,
        step=1,
        help=t("layers.input_help"),
        key=f"layers_input_{spec.name}",
    )
    LINK.write({"input": str(size)})  # always: the network's own key, which a lesson without it would not reset
    try:
        table = layer_table(spec.name, int(size))
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return

    totals = st.columns(4)
    totals[0].metric(t("layers.params"), f"{table.total_params:,}")
    totals[1].metric(t("layers.macs"), f"{table.total_macs / 1e9:.3f} G")
    totals[2].metric(t("layers.memory"), f"{table.total_act_elems * 4 / 2**20:.1f} MiB")
    totals[3].metric(t("layers.count"), f"{len(table.layers)}")
    st.caption(t("layers.convention"))

    _slides(spec.name, table)

    st.subheader(t("layers.table"))
    expand: set[str] | bool = set()
    LINK.write({"expand": None, "open": None})
    if table.blocks:
        expand_all = st.toggle(t("layers.expand_all"), key="layers_expand_all")
        LINK.write({"expand": "1" if expand_all else None})
        expand = True if expand_all else set(_opened_blocks(spec, table))
    frame = display_frame(table, expand)
    st.dataframe(frame, hide_index=True, width="stretch", height=420, column_config=column_config(frame.columns))
    st.download_button(
        t("layers.download"),
        # made when pressed: a file made on every run would be fetched by the browser on sight, and a 404 once the
        # next run (another network) has replaced it
        data=lambda: display_frame(table, expand=True).to_csv(index=False).encode(),
        file_name=f"{spec.name}_{table.input_size}px_layers.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )
    _charts(frame[frame["name"] != "Total"])
    _diagrams(spec, table)


def _opened_blocks(spec: cnnviz.ArchSpec, table) -> list[str]:
    """The blocks the student opens in the table (kept for each network; a link's blocks the network lacks are
    refused with a notice), written to the link."""
    key = f"layers_open_{spec.name}"
    kept = st.session_state.get(key, [])
    if any(name not in table.blocks for name in kept):
        st.session_state[key] = [name for name in kept if name in table.blocks]
        links.drop_bad("open")
        links.show_notices()
    opened = st.multiselect(t("layers.expand"), list(table.blocks), help=t("layers.expand_help"), key=key)
    LINK.write({"open": links.listed(opened)})  # always, as the input side
    return opened


def _slides(arch: str, table) -> None:
    found = slide_comparison(arch, table)
    if found is None:
        return
    source, comparison, notes = found
    with st.expander(t("layers.slides"), expanded=True):
        st.caption(t("layers.slides_source", source=note_text(source)))
        shown = comparison.drop(columns=["note"])
        st.dataframe(shown, hide_index=True, width="stretch", column_config=column_config(shown.columns))
        differ = comparison[~comparison["agrees"]]
        if differ.empty:
            st.success(t("layers.slides_agree"))
        else:
            explained = "\n\n".join(map(note_text, differ["note"]))
            st.warning(t("layers.slides_differ", count=len(differ)) + "\n\n" + explained)
        for note in notes:
            st.info(note_text(note))


def _charts(frame: pd.DataFrame) -> None:
    data = frame.assign(order=range(len(frame)), mib=frame["act_bytes"] / 2**20)
    base = alt.Chart(data).encode(
        x=alt.X("name:N", sort=alt.SortField("order"), axis=alt.Axis(labels=len(data) <= 60, title=None))
    )
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('layers.params_chart')}**")
        st.altair_chart(
            base.mark_bar(color="#e07b39").encode(
                y=alt.Y("params:Q", title=t("layers.params")), tooltip=tooltips("name", "type", "params", "out_shape")
            ),
            width="stretch",
        )
    with right:
        st.markdown(f"**{t('layers.memory_chart')}**")
        st.altair_chart(
            base.mark_bar(color="#1f6feb").encode(
                y=alt.Y("mib:Q", title="MiB"), tooltip=tooltips("name", "type", "act_elems", "out_shape")
            ),
            width="stretch",
        )


def _diagrams(spec: cnnviz.ArchSpec, table) -> None:
    st.subheader(t("layers.diagram"))
    network, inside = st.tabs([t("layers.diagram_network"), t("layers.diagram_block")])
    with network:
        st.graphviz_chart(network_dot(table), width="content")
    with inside:
        if not table.blocks:
            LINK.write({"block": None})
            st.info(t("layers.no_blocks", arch=spec.display))
            return
        key, first = f"layers_block_{spec.name}", next(iter(table.blocks))
        if st.session_state.get(key, first) not in table.blocks:  # a link's block the network lacks
            st.session_state.pop(key)
            links.drop_bad("block")
            links.show_notices()
        block = st.selectbox(t("layers.block_pick"), list(table.blocks), key=key)
        LINK.write({"block": block})  # always, as the input side
        dot = block_dot(spec, block, table)
        if dot is None:
            st.info(t("layers.untraceable"))
        else:
            st.graphviz_chart(dot, width="content")
