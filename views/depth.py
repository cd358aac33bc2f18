"""Vanishing-gradients lab: plain and residual networks, shallow and deep, trained on the digits."""

import altair as alt
import pandas as pd
import streamlit as st

from cnnviz.labs.depth import DEPTHS, DepthLab, DepthSettings, depth_lab, precomputed_default
from ui import links
from ui.lab_runs import lab_jobs, lab_result, linked_form, opened_values, write_form
from ui.pages import page
from ui.results import SharedJob
from ui.text import t

SMOOTHING_STEPS = 10  # the loss curves are running means over this many SGD steps


LINK = links.page_settings(
    "depth",
    {name: f"depth_{name}" for name in ("shallow", "deep", "width", "epochs", "bn")},
)  # the link's names and the form's widget keys
PARSERS = {
    "shallow": links.number_choice(DEPTHS),
    "deep": links.number_choice(DEPTHS),
    "width": links.integer(4, 64),
    "epochs": links.integer(1, 50),
    "bn": links.flag,
}


def _settings(values: dict) -> DepthSettings:
    return DepthSettings(values["shallow"], values["deep"], values["width"], values["epochs"], values["bn"])


def _values(settings: DepthSettings) -> dict:
    """The settings by link name (the learning rate and seed are not offered)."""
    return {
        "shallow": settings.shallow,
        "deep": settings.deep,
        "width": settings.width,
        "epochs": settings.epochs,
        "bn": settings.batch_norm,
    }


def _settings_form() -> tuple[DepthSettings, bool]:
    linked_form(LINK, PARSERS, _values(DepthSettings()))
    with st.form("depth"):
        cols = st.columns(5)
        shallow = cols[0].select_slider(t("depth.shallow"), DEPTHS, key="depth_shallow")
        deep = cols[1].select_slider(t("depth.deep"), DEPTHS, key="depth_deep")
        width = cols[2].slider(t("depth.width"), 4, 64, key="depth_width")
        epochs = cols[3].slider(t("depth.epochs"), 1, 50, key="depth_epochs")
        batch_norm = cols[4].checkbox(t("depth.batch_norm"), key="depth_bn", help=t("depth.batch_norm_help"))
        submitted = st.form_submit_button(t("depth.run"), type="primary")
    settings = DepthSettings(shallow, deep, width, epochs, batch_norm)
    write_form(LINK, _values(settings))
    return settings, submitted


def _prepare(opened) -> list[SharedJob]:
    """The run a link's settings name (see :mod:`ui.prepare`); none for the shipped default."""
    return lab_jobs(_settings(opened_values(opened, PARSERS, _values(DepthSettings()))), depth_lab, "depth")


@st.cache_resource(show_spinner=False)
def _shipped_default() -> DepthLab | None:
    """The precomputed default run, read from disk once per process (not on every rerun)."""
    return precomputed_default()


def _network(depth: int, residual: bool) -> str:
    return t("depth.network", depth=depth, kind=t("depth.residual" if residual else "depth.plain"))


@page(
    url_path="depth",
    icon=":material/stacked_line_chart:",
    group="labs",
    order=2,
    title_key="page.depth",
    heading_key="depth.header",
    link=LINK,
    tasks=("depth",),
    prepare=_prepare,
)
def depth_page() -> None:
    """Draw the lab."""
    st.header(t("depth.header"))
    st.markdown(t("depth.intro"))
    settings, submitted = _settings_form()
    lab = lab_result(settings, submitted, _shipped_default, depth_lab, "depth", task="depth")
    if lab is None:
        return
    _show(lab)


def _show(lab: DepthLab) -> None:
    summary = pd.DataFrame(
        {
            t("depth.col_network"): [_network(r.depth, r.residual) for r in lab.runs],
            t("depth.col_loss"): [round(r.final_loss(), 3) for r in lab.runs],
            t("depth.col_train_error"): [f"{r.train_error:.1%}" for r in lab.runs],
            t("depth.col_test_error"): [f"{r.test_error:.1%}" for r in lab.runs],
            t("depth.col_seconds"): [round(r.seconds, 1) for r in lab.runs],
        }
    )
    st.dataframe(summary, hide_index=True)
    network = t("depth.col_network")
    curves = []
    for run in lab.runs:
        smoothed = pd.Series(run.step_losses).rolling(SMOOTHING_STEPS, min_periods=1).mean()
        curves.append(
            pd.DataFrame(
                {
                    network: _network(run.depth, run.residual),
                    "epoch": [(i + 1) / run.steps_per_epoch for i in range(len(smoothed))],
                    "loss": smoothed,
                }
            )
        )
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('depth.loss_title')}**")
        chart = (
            alt.Chart(pd.concat(curves))
            .mark_line()
            .encode(
                x=alt.X("epoch:Q", title=t("depth.epoch_axis")),
                y=alt.Y("loss:Q", title=t("depth.loss_axis")),
                color=alt.Color(f"{network}:N", title=network),
                strokeDash=alt.StrokeDash(f"{network}:N", title=network),
            )
        )
        st.altair_chart(chart.properties(height=320), width="stretch")
        st.caption(t("depth.loss_help"))
    with right:
        st.markdown(f"**{t('depth.gradients_title')}**")
        moment = t("depth.moment")
        rows = []
        moments = ((t("depth.at_init"), "gradients_at_init"), (t("depth.trained"), "gradients_trained"))
        for run in lab.runs:
            for label, field in moments:
                rows += [
                    {network: _network(run.depth, run.residual), moment: label, "layer": i + 1, "norm": max(v, 1e-30)}
                    for i, v in enumerate(getattr(run, field))
                ]
        chart = (
            alt.Chart(pd.DataFrame(rows))
            .mark_line(point=True)
            .encode(
                x=alt.X("layer:Q", title=t("depth.layer_axis")),
                y=alt.Y("norm:Q", title=t("depth.norm_axis"), scale=alt.Scale(type="log")),
                color=alt.Color(f"{network}:N", title=network),
                strokeDash=alt.StrokeDash(f"{moment}:N", title=moment),
                tooltip=[network, moment, "layer", alt.Tooltip("norm:Q", format=".2e")],
            )
        )
        st.altair_chart(chart.properties(height=320), width="stretch")
        st.caption(t("depth.gradients_help"))
    plain, residual = lab.run(lab.settings.deep, False), lab.run(lab.settings.deep, True)
    spread = [max(r.gradients_at_init[:-1]) / max(min(r.gradients_at_init[:-1]), 1e-30) for r in (plain, residual)]
    st.markdown(
        t(
            "depth.reading",
            deep=lab.settings.deep,
            plain_spread=spread[0],
            residual_spread=spread[1],
            plain_loss=plain.final_loss(),
            residual_loss=residual.final_loss(),
        )
    )
