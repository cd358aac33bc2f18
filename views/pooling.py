"""Pooling-or-stride lab (deck 004, question 3): max pooling against stride-2 convolutions on the digits."""

import altair as alt
import pandas as pd
import streamlit as st

from cnnviz.labs.pooling import SHIFTS, PoolingLab, PoolingSettings, pooling_lab, precomputed_default
from ui import links
from ui.lab_runs import lab_jobs, lab_result, linked_form, opened_values, write_form
from ui.pages import page
from ui.results import SharedJob
from ui.text import t

LEARNING_RATES = (0.0003, 0.001, 0.003, 0.01, 0.03)
LINK = links.page_settings("pooling", {"epochs": "pool_epochs", "lr": "pool_lr", "seeds": "pool_seeds"})
PARSERS = {"epochs": links.integer(1, 60), "lr": links.number_choice(LEARNING_RATES), "seeds": links.integer(1, 5)}


def _settings(values: dict) -> PoolingSettings:
    return PoolingSettings(values["epochs"], values["lr"], values["seeds"])


def _values(settings: PoolingSettings) -> dict:
    """The settings by link name."""
    return {"epochs": settings.epochs, "lr": settings.learning_rate, "seeds": settings.seeds}


def _settings_form() -> tuple[PoolingSettings, bool]:
    linked_form(LINK, PARSERS, _values(PoolingSettings()))
    with st.form("pooling"):
        cols = st.columns(3)
        epochs = cols[0].slider(t("pool.epochs"), 1, 60, key="pool_epochs")
        rate = cols[1].select_slider(t("pool.learning_rate"), LEARNING_RATES, key="pool_lr")
        seeds = cols[2].slider(t("pool.seeds"), 1, 5, key="pool_seeds", help=t("pool.seeds_help"))
        submitted = st.form_submit_button(t("pool.run"), type="primary")
    settings = PoolingSettings(epochs, rate, seeds)
    write_form(LINK, _values(settings))
    return settings, submitted


def _prepare(opened) -> list[SharedJob]:
    """The run a link's settings name (see :mod:`ui.prepare`); none for the shipped default."""
    return lab_jobs(_settings(opened_values(opened, PARSERS, _values(PoolingSettings()))), pooling_lab, "pooling")


@st.cache_resource(show_spinner=False)
def _shipped_default() -> PoolingLab | None:
    """The precomputed default run, read from disk once per process."""
    return precomputed_default()


@page(
    url_path="pooling",
    icon=":material/grid_view:",
    group="labs",
    order=5,
    title_key="page.pooling",
    heading_key="pool.header",
    link=LINK,
    tasks=("pooling",),
    prepare=_prepare,
)
def pooling_page() -> None:
    """Draw the lab."""
    st.header(t("pool.header"))
    st.markdown(t("pool.intro"))
    settings, submitted = _settings_form()
    lab = lab_result(settings, submitted, _shipped_default, pooling_lab, "pool", task="pooling")
    if lab is None:
        return
    _show(lab)


def _show(lab: PoolingLab) -> None:
    network = t("pool.col_network")
    summary = pd.DataFrame(
        {
            network: [t(f"pool.kind_{r.kind}") for r in lab.runs],
            t("pool.col_params"): [f"{r.params:,}" for r in lab.runs],
            t("pool.col_macs"): [f"{r.macs:,}" for r in lab.runs],
            t("pool.col_accuracy"): [f"{r.accuracy:.1%}" for r in lab.runs],
            t("pool.col_seeds"): [" · ".join(f"{a:.1%}" for a in r.accuracy_per_seed) for r in lab.runs],
            t("pool.col_seconds"): [round(r.seconds, 1) for r in lab.runs],
        }
    )
    st.dataframe(summary, hide_index=True)
    rows = [
        {network: t(f"pool.kind_{run.kind}"), "shift": shift, "accuracy": accuracy}
        for run in lab.runs
        for shift, accuracy in zip(SHIFTS, run.shifted_accuracy, strict=True)
    ]
    chart = (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("shift:O", title=t("pool.shift_axis")),
            y=alt.Y(
                "accuracy:Q", title=t("pool.accuracy_axis"), scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
            ),
            color=alt.Color(f"{network}:N", title=network),
            tooltip=[network, "shift", alt.Tooltip("accuracy:Q", format=".1%")],
        )
    )
    left, right = st.columns([3, 2])
    left.markdown(f"**{t('pool.shift_title')}**")
    left.altair_chart(chart.properties(height=320), width="stretch")
    right.markdown(t("pool.networks"))
    pool, stride = lab.run("pool"), lab.run("stride")
    st.markdown(
        t(
            "pool.reading",
            macs=pool.macs / stride.macs,
            speed=pool.seconds / max(stride.seconds, 1e-9),
            pool_accuracy=pool.accuracy,
            stride_accuracy=stride.accuracy,
            pool_two=pool.shifted_accuracy[SHIFTS.index(2)],
            stride_two=stride.shifted_accuracy[SHIFTS.index(2)],
        )
    )
