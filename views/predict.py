"""Predict page: the top-5 of the chosen architecture on the chosen image, and what the network saw."""

import functools

import altair as alt
import pandas as pd
import streamlit as st

import cnnviz
from cnnviz.device import describe_device
from cnnviz.predict import at_most
from ui.models import network
from ui.pages import page
from ui.pictures import crop_picture, encoded
from ui.results import shared_prediction
from ui.text import class_names, error_text, note_text, preprocessing_text, t, weights_text


@page(
    url_path="",
    icon=":material/label:",
    group="explore",
    order=1,
    title_key="page.predict",
    heading_key="predict.header",
)
def predict_page() -> None:
    """Draw the page for the choices the sidebar stored in ``st.session_state["choices"]``."""
    choices = st.session_state["choices"]
    spec = cnnviz.get_spec(choices.arch)
    st.header(t("predict.header", arch=spec.display))
    st.caption(t("predict.paper", paper=spec.paper))
    _about(spec)

    try:
        with st.spinner(t("predict.loading", arch=spec.display)):
            net = network(choices.arch, choices.device)
    except cnnviz.WeightsError as exc:
        st.error(t("error.weights", arch=spec.display, message=error_text(exc)))
        return
    except cnnviz.CnnvizError as exc:
        st.error(t("error.device", message=error_text(exc)))
        return

    if not net.meaningful:
        hint = f" {t('predict.fetch_hint', name=spec.name)}" if spec.pretrained is not None else ""
        st.warning(t("predict.random_warning", arch=spec.display, detail=weights_text(net)) + hint)

    if choices.image_error:
        st.error(t("error.image", message=choices.image_error))
        return
    if choices.image is None:
        st.info(t("predict.no_image"))
        return

    result = shared_prediction(net, choices.image, choices.image_digest, at_most(net))

    left, middle, right = st.columns([1, 1, 2])
    photo, crop = choices.image, result.crop
    if choices.image_digest is not None:  # encoded once for everyone showing this photo
        photo = encoded(("photo", choices.image_digest), lambda: choices.image)
        crop = crop_picture(net, choices.image, choices.image_digest)
    left.image(photo, caption=t("predict.input"), width="stretch")
    middle.image(crop, caption=t("predict.crop", size=net.preprocess.input_size), width="stretch")
    middle.caption(t("predict.crop_help", steps=preprocessing_text(net.preprocess)))

    with right:
        st.subheader(t("predict.top", count=len(result.scores)))
        names, english = class_names(net), net.categories
        rows = tuple((s.rank, names[s.index], s.index, s.prob) for s in result.scores)
        st.vega_lite_chart(_bars(rows, t("predict.prob"), t("predict.class")), width="stretch")
        lines = (f"{s.rank}. {_class_line(names, english, s.index)} — {s.prob:.1%}" for s in result.scores)
        st.markdown("\n".join(lines))
        source = t(f"weights.{net.weights_source.value}")
        st.caption(t("predict.weights", source=source, detail=weights_text(net)))
        st.caption(t("predict.device", device=describe_device(net.device)))


@functools.lru_cache(maxsize=256)
def _bars(rows: tuple[tuple[int, str, int, float], ...], prob_title: str, class_title: str) -> dict:
    """The top-k as horizontal bars with their percentages, as a Vega-Lite spec: built once per ranking and
    language (a class that follows one lecturer draws the same chart a hundred times; Altair's validation of
    the chart was a tenth of the page's run)."""
    table = pd.DataFrame(rows, columns=["rank", "label", "index", "prob"])
    table["percent"] = table["prob"].map(lambda p: f"{p:.1%}")
    bars = (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("prob:Q", title=prob_title, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            y=alt.Y("label:N", title=class_title, sort=alt.SortField("rank")),
            tooltip=[alt.Tooltip("label:N"), alt.Tooltip("index:Q"), alt.Tooltip("prob:Q", format=".2%")],
        )
    )
    labels = bars.mark_text(align="left", dx=4).encode(text="percent:N")
    return (bars + labels).to_dict()


def _class_line(names: tuple[str, ...], english: tuple[str, ...], index: int) -> str:
    """A class in the session's language, with its English name beside when that differs (the name a
    student can look the class up by)."""
    shown = f"**{names[index]}**"
    return shown if names[index] == english[index] else f"{shown} ({english[index]})"


def _about(spec: cnnviz.ArchSpec) -> None:
    """What the lectures say of the architecture, from its spec."""
    facts = spec.lecture
    with st.expander(t("about.title", arch=spec.display)):
        lines = [
            t(
                "about.family" if spec.year else "about.family_undated",
                family=spec.family,
                year=spec.year,
                size=spec.input_size,
                params=spec.parameter_count(),
            )
        ]
        if facts.ilsvrc:
            lines.append(t("about.ilsvrc", ilsvrc=note_text(facts.ilsvrc)))
        if facts.top5_error is not None:
            lines.append(t("about.top5", error=facts.top5_error, source=note_text(facts.top5_source)))
        if facts.keras_top1 is not None:
            lines.append(t("about.keras", top1=facts.keras_top1, top5=facts.keras_top5, params=facts.keras_params))
        st.markdown("\n".join(f"- {line}" for line in [*lines, *map(note_text, facts.notes)]))
