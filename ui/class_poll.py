"""The class poll "where does the network look?": the lecturer asks, each following student clicks on the photo
where they think the evidence for the predicted class lies, and the lecturer reveals the class's clicks as a heat
map beside Grad-CAM and the occlusion map, with the share of clicks inside each map's top region.

The poll travels with the class's lesson (:data:`ui.class_mode.POLL`: its number, and ``-shown`` once
revealed), so every follower on every replica is woken when it opens and when it is revealed. A click is kept
in the class store (:meth:`ui.classroom.InProcessClasses.vote`, Redis across replicas): only its coordinates on
the network's crop, under a random token of the student's session. The photo is the one the class sees; a
lecturer's own photo takes part once it is shared with the class. The maps come through the shared cache
(the trust page's keys: one computation for the whole class).

Written here: Streamlit has no way to gather clicks from many sessions.
"""

from __future__ import annotations

import base64

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

import cnnviz
from cnnviz.explain.keys import result_key
from cnnviz.predict import at_most
from cnnviz.render import class_map_image
from cnnviz.trust.clicks import TOP_SHARE, click_heat, share_inside
from cnnviz.trust.evidence import evidence_map
from ui import class_mode
from ui.classroom import ClassError, new_voter
from ui.pictures import encoded
from ui.results import SharedJob, compute_shared_all, shared_prediction
from ui.text import class_names, t

GRID = 16  # cells a side of the clickable photo (14 px of the 224 px crop)
SHOWN = 336  # px of the clickable photo on screen
COUNT_EVERY_S = 2.0  # how often the lecturer's count of clicks refreshes
MAPS = ("gradcam", "occlusion")  # the network's answers, beside the class's
_VOTER, _MINE, _ASKED = "_poll_voter", "_poll_mine", "_class_polls"


def attend() -> None:
    """Between the class box and the page: the lecturer's poll, or the poll a following student is asked."""
    if class_mode.code() is None:
        return
    if class_mode.is_lecturer():
        _lecturer()
        return
    if not class_mode.is_following():
        return
    try:
        marker = class_mode.current_lesson().settings.get(class_mode.POLL)
    except ClassError:
        return
    poll = parse(marker)
    if poll is not None:
        _student(*poll)


def parse(marker: str | None) -> tuple[int, bool] | None:
    """A lesson's poll marker as (number, revealed); None for none or anything else."""
    if not marker:
        return None
    number, _, shown = marker.partition("-")
    if not number.isascii() or not number.isdigit() or len(number) > 6 or shown not in ("", "shown"):
        return None
    return int(number), shown == "shown"


def _net_and_photo():
    """The network and photo the class sees (the session's sidebar), or None when there is no photo."""
    from ui.models import network

    choices = st.session_state.get("choices")
    if choices is None or choices.image is None:
        return None
    try:
        return network(choices.arch, choices.device), choices
    except cnnviz.CnnvizError:
        return None


def _lecturer() -> None:
    poll = parse(st.session_state.get(class_mode.POLL_STATE))
    with st.expander(t("poll.title"), expanded=poll is not None, icon=":material/ads_click:"):
        found = _net_and_photo()
        if found is None:
            return
        net, choices = found
        if poll is None:
            st.caption(t("poll.about"))
            if not choices.from_gallery and not st.session_state.get(class_mode.SHARING):
                st.caption(t("poll.share_first"))
            st.button(t("poll.ask"), key="poll_ask", icon=":material/ads_click:", on_click=_ask)
            return
        number, shown = poll
        if not shown:
            st.markdown(t("poll.asked"))
            _count(number)
            st.button(
                t("poll.reveal"),
                key="poll_reveal",
                type="primary",
                icon=":material/visibility:",
                on_click=_mark,
                args=(f"{number}-shown",),
            )
            return
        _reveal(net, choices, number)
        st.button(t("poll.close"), key="poll_close", icon=":material/close:", on_click=_mark, args=(None,))


# The lecturer's buttons change the poll in callbacks, which run before the next script run begins: a click
# is not lost when that run is cut short by another (a wake-up of the class, a finished computation).


def _ask() -> None:
    number = st.session_state.get(_ASKED, 0) + 1
    st.session_state[_ASKED] = number
    _mark(str(number))


def _mark(marker: str | None) -> None:
    """The lecturer's poll marker (:data:`ui.class_mode.POLL_STATE`), or none once the poll is closed."""
    if marker is None:
        st.session_state.pop(class_mode.POLL_STATE, None)
    else:
        st.session_state[class_mode.POLL_STATE] = marker


@st.fragment(run_every=COUNT_EVERY_S)
def _count(number: int) -> None:
    """How many students have clicked so far (the clicks themselves stay hidden until the reveal)."""
    try:
        count = len(class_mode.store().votes(class_mode.code(), number))
    except ClassError:
        return
    st.metric(t("poll.clicks"), count)


def _student(number: int, shown: bool) -> None:
    found = _net_and_photo()
    if found is None:
        return
    net, choices = found
    with st.container(border=True):
        st.subheader(t("poll.title"))
        if shown:
            _reveal(net, choices, number)
            return
        label = class_names(net)[_top1(net, choices)]
        st.markdown(t("poll.question", label=label))
        voter = st.session_state.setdefault(_VOTER, new_voter())
        mine = st.session_state.get(_MINE)
        mine = mine[1:] if mine is not None and mine[0] == number else None
        event = st.altair_chart(
            _click_chart(_crop_uri(net, choices), mine),
            width="content",
            on_select="rerun",
            key=f"poll_chart_{number}",
        )
        picked = (event.selection.get("cell") or []) if event is not None else []
        if picked:
            x, y = (int(picked[0]["col"]) + 0.5) / GRID, (int(picked[0]["row"]) + 0.5) / GRID
            try:
                class_mode.store().vote(class_mode.code(), number, voter, x, y)
            except (ClassError, ValueError):
                return
            if mine != (x, y):
                st.session_state[_MINE] = (number, x, y)
                st.rerun()
        st.caption(t("poll.yours") if mine is not None else t("poll.click"))


def _top1(net, choices) -> int:
    """The class the poll asks about: the top-1 of the process's shared prediction (the Predict page's)."""
    return shared_prediction(net, choices.image, choices.image_digest, at_most(net)).scores[0].index


def _crop_uri(net, choices) -> str:
    """The network's crop of the photo as a JPEG data URI (no request leaves the page, none reaches another
    site), encoded once per process for every student."""
    key = ("poll_crop", net.spec.name, repr(net.preprocess), choices.image_digest)
    data = encoded(key, lambda: net.preprocess.crop_image(choices.image).convert("RGB").resize((SHOWN, SHOWN)))
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def _click_chart(uri: str, mine: tuple[float, float] | None) -> alt.LayerChart:
    """The photo under a GRID×GRID of cells, one click selecting one; the student's own click marked. Every
    layer is placed by the same two scales (cells from 0 to GRID across and down), so the photo and the cells
    stay together whatever size the chart is drawn at."""
    whole = alt.Scale(domain=[0, GRID], nice=False, zero=False)
    down = alt.Scale(domain=[0, GRID], nice=False, zero=False, reverse=True)
    cells = pd.DataFrame([{"col": c, "row": r, "col1": c + 1, "row1": r + 1} for r in range(GRID) for c in range(GRID)])
    picked = alt.selection_point(name="cell", fields=["col", "row"], on="click", clear=False)
    x, y = alt.X("col:Q", scale=whole, axis=None), alt.Y("row:Q", scale=down, axis=None)
    photo = (
        alt.Chart(pd.DataFrame({"url": [uri], "col": [0], "row": [0], "col1": [GRID], "row1": [GRID]}))
        .mark_image(aspect=False, align="left", baseline="top")
        .encode(x=x, y=y, x2="col1:Q", y2="row1:Q", url="url:N")
    )
    grid = alt.Chart(cells).mark_rect(opacity=0.01, color="white").encode(x=x, y=y, x2="col1:Q", y2="row1:Q")
    layers = [photo, grid.add_params(picked)]
    if mine is not None:
        own = pd.DataFrame([{"col": mine[0] * GRID, "row": mine[1] * GRID}])
        mark = alt.Chart(own).mark_point(shape="cross", size=500, color="#ff2d2d", strokeWidth=4, filled=True)
        layers.append(mark.encode(x=x, y=y))
    # Every side named: Streamlit replaces a padding of 0 (falsy) by its own, with 20 px at the bottom
    no_padding = {"top": 0, "bottom": 0, "left": 0, "right": 0}
    chart = alt.layer(*layers).properties(width=SHOWN, height=SHOWN, padding=no_padding)
    return chart.configure_view(strokeWidth=0)


def _reveal(net, choices, number: int) -> None:
    """The class's clicks as a heat map beside the network's maps, and the share of clicks in each map's top
    region."""
    try:
        clicks = class_mode.store().votes(class_mode.code(), number)
    except ClassError:
        return
    target = _top1(net, choices)
    jobs = [
        SharedJob(
            result_key("trust_evidence", net, choices.image_digest, explained=method, target=target),
            lambda progress, method=method: evidence_map(net, choices.image, method, target),
            t(f"poll.map_{method}"),
        )
        for method in MAPS
    ]
    maps = compute_shared_all(jobs, "trust", device=str(net.device))  # None, the reason drawn, when refused
    if maps is None:
        return
    label = class_names(net)[target]
    st.markdown(t("poll.revealed", count=len(clicks), label=label, top=TOP_SHARE))

    def drawn(values: np.ndarray) -> np.ndarray:
        crop = np.asarray(net.preprocess.crop_image(choices.image).convert("RGB"))
        return _with_clicks(class_map_image(crop, values), clicks)

    answers = tuple(sorted(clicks))  # every follower shows the same pictures: drawn and encoded once per process
    columns = st.columns(1 + len(MAPS))
    side = net.preprocess.input_size
    heat = encoded(("poll", choices.image_digest, net.spec.name, answers), lambda: drawn(click_heat(clicks, side)))
    columns[0].image(heat, caption=t("poll.class_map", count=len(clicks)), width="stretch")
    for column, job, method, values in zip(columns[1:], jobs, MAPS, maps, strict=True):
        share = share_inside(clicks, values)
        verdict = t("poll.no_clicks") if share is None else t("poll.inside", share=share)
        picture = encoded((*job.key, answers), lambda values=values: drawn(values))
        column.image(picture, caption=f"{t(f'poll.map_{method}')} · {verdict}", width="stretch")
    st.caption(t("poll.how"))


def _with_clicks(picture: np.ndarray, clicks: list[tuple[float, float]]) -> np.ndarray:
    """``picture`` with a small white ring at each click."""
    from PIL import ImageDraw

    drawn = Image.fromarray(picture)
    draw = ImageDraw.Draw(drawn)
    side = drawn.width
    for x, y in clicks:
        cx, cy = x * side, y * side
        draw.ellipse((cx - 3, cy - 3, cx + 3, cy + 3), outline=(255, 255, 255), width=1)
    return np.asarray(drawn)
