"""Draw-a-digit lab: the bundled LeNet-5 reads a drawing; every layer's maps and the ten probabilities."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

import cnnviz
from cnnviz.digits import digit_arrays, split_indices
from cnnviz.labs.drawing import digit_from_drawing, trace_lenet
from cnnviz.render import colourise, tile_grid
from ui import links
from ui.canvas import drawing_canvas
from ui.models import shared_model
from ui.pages import page
from ui.text import error_text, labeller, t

CANVAS_PX = 280
LINK = links.page_settings(
    "draw", {"example": "_draw_link_example"}, kept=("draw_source", "draw_example"), moved={"example": "draw_example"}
)
MAP_ZOOM = {"C1": 4, "S2": 6, "C3": 8, "S4": 12}  # screen pixels per unit, so every map is about as large


def _examples() -> tuple[list[int], np.ndarray, np.ndarray]:
    """The first 40 held-out digits: indices, and all 8×8 images and labels."""
    return [int(i) for i in split_indices()[1][:40]], *digit_arrays()


def _the_digit() -> np.ndarray | None:
    """The 8×8 digit to read: from the canvas, or a held-out example (the link names it: a class follows the
    lecturer's example; a drawing stays the student's own)."""
    indices, images, labels = _examples()
    LINK.read_once({"example": links.number_choice(indices)})
    linked = st.session_state.pop("_draw_link_example", None)
    if linked is not None:
        st.session_state["draw_source"], st.session_state["draw_example"] = "example", linked
    links.show_notices()
    source = st.radio(
        t("draw.source"),
        ("canvas", "example"),
        format_func=labeller("draw.source_{}"),
        horizontal=True,
        key="draw_source",
    )
    if source == "example":
        names = {i: t("draw.example_item", index=i, label=labels[i]) for i in indices}
        index = st.selectbox(t("draw.example"), indices, key="draw_example", format_func=names.__getitem__)
        LINK.write({"example": str(index)})
        return images[index]
    LINK.write({"example": None})
    st.caption(t("draw.canvas_help"))
    drawing = drawing_canvas(
        stroke_width=20,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=CANVAS_PX,
        width=CANVAS_PX,
        return_image_data=True,
        key="draw_canvas",
    )
    return None if drawing.image_data is None else digit_from_drawing(drawing.image_data)


def _maps_image(maps: np.ndarray, zoom: int) -> np.ndarray:
    """A stage's maps (C×H×W) side by side on one colour scale, 0 to the stage's largest value."""
    high = max(float(maps.max()), 1e-6)
    return tile_grid(
        [colourise(m, "viridis", 0.0, high) for m in maps], columns=len(maps) if len(maps) <= 8 else 8, zoom=zoom, gap=3
    )


def _vector_image(values: np.ndarray) -> np.ndarray:
    """A vector as one row of coloured cells, 8 px each."""
    row = colourise(values[None, :], "viridis", 0.0, max(float(values.max()), 1e-6))
    return np.kron(row, np.ones((24, 8, 1), dtype=np.uint8))


@page(
    url_path="draw",
    icon=":material/draw:",
    group="labs",
    order=1,
    title_key="page.draw",
    heading_key="draw.header",
    link=LINK,
)
def draw_page() -> None:
    """Draw the lab."""
    st.header(t("draw.header"))
    st.caption(t("draw.intro"))
    try:
        net = shared_model("lenet5", "auto", st.session_state["choices"].device)
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return
    left, right = st.columns([1, 2])
    with left:
        digit = _the_digit()
    if digit is None:
        right.info(t("draw.empty"))
        return
    trace = trace_lenet(net, digit)
    with right:
        st.metric(t("draw.prediction"), str(trace.digit), help=t("draw.prediction_help"))
        frame = pd.DataFrame({"digit": [str(d) for d in range(10)], "probability": trace.probabilities})
        chart = (
            alt.Chart(frame)
            .mark_bar()
            .encode(
                x=alt.X("digit:N", title=t("draw.digit_axis"), sort=None, axis=alt.Axis(labelAngle=0)),
                y=alt.Y("probability:Q", title=t("draw.prob_axis"), scale=alt.Scale(domain=[0, 1])),
                color=alt.condition(alt.datum.digit == str(trace.digit), alt.value("#d62728"), alt.value("#4c78a8")),
                tooltip=[
                    alt.Tooltip("digit:N", title=t("draw.digit_axis")),
                    alt.Tooltip("probability:Q", title=t("draw.prob_axis"), format=".1%"),
                ],
            )
            .properties(height=220)
        )
        st.altair_chart(chart, width="stretch")
        st.markdown(f"**{t('draw.input')}**")
        st.image(colourise(trace.input, "gray", -1.0, 1.0), width=128)
    st.subheader(t("draw.layers"))
    for stage, zoom in MAP_ZOOM.items():
        maps = trace.stages[stage]
        st.markdown(t(f"draw.stage_{stage}", count=maps.shape[0], side=maps.shape[1]))
        st.image(_maps_image(maps, zoom))
    for stage in ("C5", "F6"):
        values = trace.stages[stage]
        st.markdown(t(f"draw.stage_{stage}", count=values.size, active=int((values > 0).sum())))
        st.image(_vector_image(values))
    st.caption(t("draw.colour_help"))
