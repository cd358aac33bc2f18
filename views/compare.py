"""Compare page: accuracy against computation for every architecture, the ILSVRC results, a timeline."""

import altair as alt
import pandas as pd
import streamlit as st

from cnnviz.compare import architecture_summary
from cnnviz.lectures import ILSVRC_CLASSIFICATION, VGG_CONFIG_PARAMS_M
from ui.chart_labels import frame_around, place_labels
from ui.pages import page
from ui.text import column_config, column_label, note_text, t, tooltips

CHART_WIDTH, CHART_HEIGHT = 760, 440  # px: fixed, so the labels can be placed without overlapping


@st.cache_data(show_spinner=False)
def _summary() -> pd.DataFrame:
    return architecture_summary()


@page(
    url_path="compare",
    icon=":material/bubble_chart:",
    group="explore",
    order=8,
    title_key="page.compare",
    heading_key="compare.header",
)
def compare_page() -> None:
    """Draw the comparison of every architecture in the zoo."""
    st.header(t("compare.header"))
    with st.spinner(t("compare.computing")):
        summary = _summary()
    summary = summary.assign(ilsvrc=summary["ilsvrc"].map(note_text))  # the lectures' words, translated
    titles = {m: t("compare.y_title", metric=t(f"compare.metric_{m}")) for m in ("top1", "top5")}
    metric = st.radio(t("compare.metric"), list(titles), format_func=titles.__getitem__, horizontal=True)
    measured = summary.dropna(subset=[metric])
    missing = ", ".join(summary.loc[summary[metric].isna(), "arch"])
    frame = frame_around(measured, "gmacs", metric, CHART_WIDTH, CHART_HEIGHT)
    x_scale = alt.Scale(type="log", domain=[frame.x_low, frame.x_high], nice=False)
    y_scale = alt.Scale(domain=[frame.y_low, frame.y_high], nice=False, zero=False)
    bubbles = (
        alt.Chart(measured)
        .mark_circle(opacity=0.65)
        .encode(
            x=alt.X("gmacs:Q", title=t("compare.x_title"), scale=x_scale),
            y=alt.Y(f"{metric}:Q", title=t("compare.y_title", metric=t(f"compare.metric_{metric}")), scale=y_scale),
            size=alt.Size("params_m:Q", title=t("compare.size_title"), scale=alt.Scale(range=[30, 2500])),
            color=alt.Color("family:N", title=column_label("family")),
            tooltip=[
                alt.Tooltip("display:N", title=column_label("display")),
                alt.Tooltip("year:O", title=column_label("year")),
                alt.Tooltip("params_m:Q", format=".1f", title=t("compare.size_title")),
                alt.Tooltip("gmacs:Q", format=".2f", title=column_label("gmacs")),
                *tooltips("top1", "top5", "accuracy_source"),
            ],
        )
    )
    placed = place_labels(measured, "gmacs", metric, "arch", frame)
    labels = (
        alt.Chart(placed[placed["labelled"]])
        .mark_text(fontSize=10)
        .encode(x=alt.X("label_x:Q", scale=x_scale), y=alt.Y("label_y:Q", scale=y_scale), text="arch:N")
    )
    chart = (bubbles + labels).properties(width=CHART_WIDTH, height=CHART_HEIGHT)
    st.altair_chart(chart, width="content")
    unlabelled = ", ".join(placed.loc[~placed["labelled"], "arch"])
    st.caption(t("compare.chart_caption", missing=missing))
    if unlabelled:
        st.caption(t("compare.unlabelled", names=unlabelled))

    st.subheader(t("compare.table"))
    table = summary.drop(columns=["params_m"])
    st.dataframe(table, hide_index=True, width="stretch", column_config=column_config(table.columns))

    left, right = st.columns(2)
    with left:
        st.subheader(t("compare.ilsvrc"))
        width = max(len(v) for v in ILSVRC_CLASSIFICATION.values())
        columns = {}
        for year, teams in ILSVRC_CLASSIFICATION.items():
            padded = teams + [("", None)] * (width - len(teams))
            columns[f"{year}"] = [team for team, _ in padded]
            columns[f"{year} %"] = [error for _, error in padded]
        st.dataframe(pd.DataFrame(columns), hide_index=True)
        st.subheader(t("compare.vgg"))
        st.dataframe(pd.DataFrame([VGG_CONFIG_PARAMS_M]), hide_index=True)
    with right:
        st.subheader(t("compare.timeline"))
        timeline = (
            alt.Chart(summary.drop_duplicates("family", keep="first"))
            .mark_circle(size=120)
            .encode(
                x=alt.X("year:O", title=None),
                y=alt.Y("family:N", title=None, sort=alt.SortField("year")),
                color=alt.Color("family:N", title=column_label("family")),
                tooltip=tooltips("display", "year", "ilsvrc"),
            )
        )
        text = timeline.mark_text(align="left", dx=8).encode(text="display:N")
        st.altair_chart(timeline + text, width="stretch")
