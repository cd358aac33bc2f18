"""Localization page (deck 003, part 4): the classifier as a fully convolutional network (one pass vs one
pass per crop), LeNet-5 reading a row of digits, sliding windows with non-max suppression, CAM boxes."""

from dataclasses import replace

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

import cnnviz
from cnnviz.errors import CnnvizError
from cnnviz.explain.detect import (
    CAM_FRACTION,
    IOU,
    THRESHOLD,
    Box,
    cam_box,
    iou,
    reference_for,
    score_windows,
    suppress,
)
from cnnviz.explain.digit_rows import held_out_row, read_row, reading_errors, row_from_drawing
from cnnviz.explain.keys import result_key
from cnnviz.explain.localize import MAX_SCALE, checked_short_side, crop_grid, one_pass_grid
from cnnviz.explain.twin import convolutional_twin
from cnnviz.predict import at_most
from cnnviz.render import boxes_image, colourise, grid_overlay, overlay
from ui import follow, links
from ui.canvas import drawing_canvas
from ui.models import shared_model, start_page
from ui.pages import page
from ui.results import SharedJob, compute_shared, shared_results
from ui.text import class_names, error_text, labeller, t

SHARES = {  # link name: (slider key, least, most, default) in %; every share slider moves in 5 % steps
    "threshold": ("loc_threshold", 5, 95, round(THRESHOLD * 100)),
    "iou": ("loc_iou", 5, 95, round(IOU * 100)),
    "fraction": ("loc_fraction", 5, 90, round(CAM_FRACTION * 100)),
}
LINK = links.page_settings(
    "localization",
    {
        "size": "loc_size",
        "rows": "loc_rows",
        "seed": "loc_row_seed",
        "windows_class": "loc_sliding_class",
        "cam_class": "loc_cam_class",
        **{name: key for name, (key, *_) in SHARES.items()},
    },
)  # the shares are percentages in the link, fractions in their sliders' keys
SHARE_STEP = 5  # %
ROW_SOURCES = ("held_out", "draw")
MAX_ROW_SEED = 9999
ROW_CANVAS = (840, 168)  # width, height of the row-drawing canvas, px
BOX_CANVAS_WIDTH = 448  # px on screen of the photo to draw a box on
REFERENCE_GREEN = (40, 200, 40)


def _prepare(opened) -> list[SharedJob]:
    """What a link to this page computes once its buttons are pressed (see :mod:`ui.prepare`): the one-pass
    and the crop-by-crop grids at the link's size (default twice the input side), and the sliding windows
    for the link's class, or any of the top-5 (the page's first choice)."""
    net, image, digest = opened.net, opened.image, opened.digest
    try:
        twin = convolutional_twin(net)
    except CnnvizError:
        return []
    side = net.preprocess.input_size
    step = twin.stride if side % twin.stride == 0 else 1
    size = opened.setting("size", links.integer(side, MAX_SCALE * side), 2 * side)
    size = int(follow.nearest_number(size, side, MAX_SCALE * side, step))
    top5 = [s.index for s in cnnviz.predict(net, image, top=at_most(net)).scores]
    wanted = opened.setting("windows_class", links.integer(0, len(net.categories) - 1), None)
    classes = [wanted] if wanted in top5 else top5  # as the page keeps its choice (_keep_class)
    jobs = [
        SharedJob(
            result_key("localize_windows", net, digest, classes=classes),
            lambda report: score_windows(net, image, classes, progress=report),
            t("loc.tab_sliding"),
        )
    ]
    try:
        checked_short_side(net, image, size)
    except CnnvizError:
        return jobs
    return [
        SharedJob(
            result_key("localize_one_pass", net, digest, size=size),
            lambda report: one_pass_grid(net, image, size),
            t("loc.tab_fcn"),
        ),
        SharedJob(
            result_key("localize_crops", net, digest, size=size),
            lambda report: crop_grid(net, image, size, report),
            t("loc.tab_fcn"),
        ),
        *jobs,
    ]


@page(
    url_path="localization",
    icon=":material/center_focus_strong:",
    group="explore",
    order=5,
    title_key="page.localize",
    heading_key="loc.header",
    link=LINK,
    tasks=("localize",),
    prepare=_prepare,
)
def localize_page() -> None:
    """Draw the page for the choices of the sidebar."""
    choices, _, net = start_page("loc.header", "loc.intro", markdown=True, link=LINK)
    if net is None:
        return
    try:
        twin = convolutional_twin(net)
    except CnnvizError as exc:
        LINK.write(dict.fromkeys(LINK.fields))
        st.error(error_text(exc))
        return
    _read_link(net)
    one_pass, rows, sliding, cam = st.tabs(
        [t("loc.tab_fcn"), t("loc.tab_rows"), t("loc.tab_sliding"), t("loc.tab_cam")]
    )
    with one_pass:
        _one_pass(choices, net, twin)
    with rows:
        _rows(choices)
    top5 = [s.index for s in cnnviz.predict(net, choices.image, top=at_most(net)).scores]
    with sliding:
        _sliding(choices, net, top5)
    with cam:
        _cam(choices, net, twin, top5)


def _read_link(net) -> None:
    """The link's settings, once per session, into the tabs' keys."""
    side = net.preprocess.input_size
    a_class = links.integer(0, len(net.categories) - 1)  # one of the photo's top-5 (kept by _keep_class)
    LINK.read_once(
        {
            "size": links.integer(side, MAX_SCALE * side),
            "rows": links.choice(ROW_SOURCES),
            "seed": links.integer(0, MAX_ROW_SEED),
            "windows_class": a_class,
            "cam_class": a_class,
            **{name: links.share(low, high, SHARE_STEP) for name, (_, low, high, _) in SHARES.items()},
        }
    )
    links.show_notices()


def _share_slider(column, label: str, name: str) -> float:
    """The slider of the share ``name`` (:data:`SHARES`), its value written to the link as a percentage."""
    key, low, high, default = SHARES[name]
    st.session_state.setdefault(key, default / 100)
    value = column.slider(label, low / 100, high / 100, step=SHARE_STEP / 100, key=key)
    LINK.write({name: links.percent(value)})
    return value


def _one_pass(choices, net, twin) -> None:
    side = net.preprocess.input_size
    st.markdown(t("loc.fcn_text"))
    layers = pd.DataFrame(
        [
            {t("loc.layer"): layer.name, t("loc.original"): layer.original, t("loc.twin"): layer.twin}
            for layer in twin.layers
        ]
    )
    st.dataframe(layers, hide_index=True)
    st.caption(t("loc.fcn_gap") if twin.global_pooling else t("loc.fcn_dense"))
    step = twin.stride if side % twin.stride == 0 else 1
    high = MAX_SCALE * side
    why = t(
        "follow.side_step" if step > 1 else "follow.side",
        arch=net.spec.display,
        side=side,
        low=side,
        high=high,
        step=step,
    )
    follow.keep_number("loc_size", side, high, 2 * side, step=step, setting=t("loc.size"), why=why)
    size = st.slider(t("loc.size"), side, high, step=step, key="loc_size")
    LINK.write({"size": str(size)})
    try:
        checked_short_side(net, choices.image, size)
    except CnnvizError as exc:
        st.error(error_text(exc))
        return
    keys = {
        method: result_key(f"localize_{method}", net, choices.image_digest, size=size)
        for method in ("one_pass", "crops")
    }
    grids = {method: shared_results().get(key) for method, key in keys.items()}
    if any(grid is None for grid in grids.values()):
        if not st.button(t("loc.fcn_run"), type="primary", key="loc_fcn_run"):
            st.info(t("loc.fcn_press"))
            return
        computed = compute_shared(
            keys["one_pass"],
            lambda report: one_pass_grid(net, choices.image, size),
            "loc",
            task="localize",
            device=str(net.device),
        )
        crops = compute_shared(
            keys["crops"],
            lambda report: crop_grid(net, choices.image, size, report),
            "loc",
            task="localize",
            device=str(net.device),
        )
        if computed is None or crops is None:
            return
        grids = {"one_pass": computed.value, "crops": crops.value}
    _show_grids(net, choices.image, grids["one_pass"], grids["crops"])


def _show_grids(net, image, one, many) -> None:
    rows, columns = one.shape
    names = class_names(net)
    strongest = {int(c): f"{names[c]} ({one.probabilities[c].max():.1%})" for c in top_classes(one)}
    _keep_class("loc_fcn_class", strongest, net)
    target = st.selectbox(t("loc.class"), list(strongest), format_func=strongest.__getitem__, key="loc_fcn_class")
    picture = net.preprocess.whole_image(image, min(one.input_size))
    high = float(max(one.probabilities[target].max(), many.probabilities[target].max()))
    left, right = st.columns(2)
    for column, grid, key in ((left, one, "loc.one_pass"), (right, many, "loc.crops")):
        with column:
            st.markdown(f"**{t(key, rows=rows, columns=columns)}**")
            shown = grid_overlay(picture, grid.probabilities[target], grid.window, grid.stride, low=0.0, high=high)
            st.image(shown, width="stretch")
            st.caption(t("loc.passes", passes=grid.passes, ms=grid.seconds * 1000))
    difference = float(np.abs(one.probabilities - many.probabilities).max())
    agree = float((one.probabilities.argmax(axis=0) == many.probabilities.argmax(axis=0)).mean())
    metrics = st.columns(3)
    metrics[0].metric(t("loc.speedup"), f"{many.seconds / max(one.seconds, 1e-9):.1f}×")
    metrics[1].metric(t("loc.difference"), f"{difference:.2g}")
    metrics[2].metric(t("loc.agree"), f"{agree:.0%}")
    st.caption(t("loc.equal") if difference <= 1e-5 else t("loc.padding", difference=difference))
    st.caption(t("loc.upsampling", stride=one.stride, window=one.window))


def top_classes(grid, count: int = 5) -> list[int]:
    """The ``count`` classes whose highest probability anywhere on ``grid`` is largest, strongest first."""
    return [int(c) for c in np.argsort(-grid.probabilities.max(axis=(1, 2)))[:count]]


def _keep_class(key: str, options: dict[int, str], net, setting: str = "loc.class") -> None:
    """A class choice (label key ``setting``) follows the network and photo: one no longer offered becomes
    the first option."""
    why = t("follow.not_top5", arch=net.spec.display)
    first = next(iter(options))
    follow.keep_choice(key, list(options), first, setting=t(setting), why=why, show=options.get, show_old=False)


def _rows(choices) -> None:
    st.markdown(t("loc.rows_text"))
    try:
        lenet = shared_model("lenet5", "auto", choices.device)
    except cnnviz.CnnvizError as exc:
        LINK.write({"rows": None, "seed": None})
        st.error(error_text(exc))
        return
    source = st.radio(
        t("loc.rows_source"), ROW_SOURCES, format_func=labeller("loc.rows_{}"), horizontal=True, key="loc_rows"
    )
    LINK.write({"rows": source, "seed": None})
    if source == "held_out":
        st.session_state.setdefault("loc_row_seed", 0)
        seed = st.number_input(t("loc.rows_seed"), 0, MAX_ROW_SEED, key="loc_row_seed")
        LINK.write({"seed": str(seed)})
        row = held_out_row(int(seed))
    else:
        st.caption(t("loc.rows_draw_help"))
        drawing = drawing_canvas(
            stroke_width=14,
            stroke_color="#FFFFFF",
            background_color="#000000",
            width=ROW_CANVAS[0],
            height=ROW_CANVAS[1],
            return_image_data=True,
            key="loc_row_canvas",
        )
        row = None if drawing.image_data is None else row_from_drawing(drawing.image_data)
        if row is None:
            st.info(t("loc.rows_empty"))
            return
    reading = read_row(lenet, row)
    ink = ((row.canvas[0, 0].numpy() + 1) / 2 * 255).clip(0, 255).astype(np.uint8)
    st.image(np.kron(ink, np.ones((4, 4), np.uint8)), caption=t("loc.rows_input", width=ink.shape[1]))
    positions = np.arange(reading.probabilities.shape[1]) * reading.stride
    frame = pd.DataFrame(
        {
            "x": positions,
            "confidence": reading.confidence,
            "digit": reading.probabilities.argmax(axis=0).astype(str),
            "kept": np.isin(np.arange(len(positions)), reading.kept),
        }
    )
    line = alt.Chart(frame).mark_line(color="#999").encode(x=alt.X("x:Q", title=t("loc.rows_x")), y="confidence:Q")
    points = (
        alt.Chart(frame)
        .mark_point(filled=True)
        .encode(x="x:Q", y="confidence:Q", color="digit:N", size=alt.Size("kept:N", legend=None), tooltip=list(frame))
    )
    labels = (
        alt.Chart(frame[frame.kept]).mark_text(dy=-12, fontSize=16).encode(x="x:Q", y="confidence:Q", text="digit:N")
    )
    st.altair_chart(line + points + labels, width="stretch")
    text = t("loc.rows_read", text=reading.text or "—", windows=len(positions))
    if row.digits:
        text += " " + t("loc.rows_truth", truth=row.text, errors=reading_errors(row.text, reading.text))
    st.markdown(text)
    st.caption(t("loc.rows_accuracy"))


def _sliding(choices, net, top5: list[int]) -> None:
    st.markdown(t("loc.sliding_text"))
    names = class_names(net)
    options = {-1: t("loc.any_top5")} | {c: names[c] for c in top5}
    _keep_class("loc_sliding_class", options, net, "loc.sliding_class")
    wanted = st.selectbox(
        t("loc.sliding_class"), list(options), format_func=options.__getitem__, key="loc_sliding_class"
    )
    LINK.write({"windows_class": None if wanted < 0 else str(wanted)})
    classes = top5 if wanted < 0 else [wanted]
    cols = st.columns(2)
    threshold = _share_slider(cols[0], t("loc.threshold"), "threshold")
    overlap = _share_slider(cols[1], t("loc.iou"), "iou")
    key = result_key("localize_windows", net, choices.image_digest, classes=classes)
    scored = shared_results().get(key)
    if scored is None:
        if not st.button(t("loc.sliding_run"), type="primary", key="loc_sliding_run"):
            st.info(t("loc.sliding_press"))
            return
        computed = compute_shared(
            key,
            lambda report: score_windows(net, choices.image, classes, progress=report),
            "loc",
            task="localize",
            device=str(net.device),
        )
        if computed is None:
            return
        scored = computed.value
    found = suppress(net, scored, threshold, overlap)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('loc.before', count=len(found.before))}**")
        st.image(boxes_image(choices.image, _named(found.before, names), width=2), width="stretch")
    with right:
        st.markdown(f"**{t('loc.after', count=len(found.after))}**")
        st.image(boxes_image(choices.image, _named(found.after, names)), width="stretch")
    st.caption(t("loc.sliding_done", windows=found.windows, seconds=found.seconds))


def _named(boxes, names: tuple[str, ...] | dict[int, str]) -> list:
    """``boxes`` labelled with their class names in the session's language."""
    return [replace(box, label=names[box.index]) for box in boxes]


def _cam(choices, net, twin, top5: list[int]) -> None:
    st.markdown(t("loc.cam_text"))
    if not twin.global_pooling:
        LINK.write({"cam_class": None, "fraction": None})
        st.info(t("loc.cam_none", arch=net.spec.display))
        return
    cols = st.columns(2)
    names = class_names(net)
    top_names = {c: names[c] for c in top5}
    _keep_class("loc_cam_class", top_names, net)
    target = cols[0].selectbox(t("loc.class"), top5, format_func=top_names.__getitem__, key="loc_cam_class")
    fraction = _share_slider(cols[1], t("loc.fraction"), "fraction")
    LINK.write({"cam_class": str(target)})
    key = result_key("localize_cam", net, choices.image_digest, target=target, fraction=fraction)
    result, _ = shared_results().get_or_compute(key, lambda: cam_box(net, choices.image, target, fraction))
    reference, source = _reference(choices, result.box.label)
    picture = net.preprocess.whole_image(choices.image, net.preprocess.input_size)
    heat = overlay(np.asarray(picture.convert("RGB")), result.upsampled, cmap="jet")
    shown = Image.fromarray(heat).resize(choices.image.size)
    drawn = boxes_image(shown, _named([result.box], names))
    if reference is not None:
        drawn = boxes_image(Image.fromarray(drawn), [reference], colour=REFERENCE_GREEN)
    left, right = st.columns([3, 2])
    left.image(drawn, width="stretch")
    with right:
        st.image(
            colourise(result.values, "jet"),
            caption=t("loc.cam_map", rows=result.values.shape[0], columns=result.values.shape[1]),
            width="stretch",
        )
        box = result.box
        st.markdown(t("loc.cam_box", x0=box.x0, y0=box.y0, x1=box.x1, y1=box.y1, fraction=fraction))
        if reference is None:
            st.caption(t("loc.cam_no_reference"))
        else:
            st.metric(t("loc.iou_metric"), f"{iou(box.corners, reference.corners):.2f}")
            st.caption(t(f"loc.reference_{source}", label=names[result.box.index]))


def _reference(choices, label: str) -> tuple[Box | None, str]:
    """The box to compare with (unlabelled): one the student draws on the photo, else the gallery photo's
    hand-drawn reference for ``label``; and which of the two it is (``drawn``, ``gallery``)."""
    drawn = None
    if st.toggle(t("loc.draw_box"), key="loc_draw_box"):
        width, height = choices.image.size
        scale = BOX_CANVAS_WIDTH / width
        result = drawing_canvas(
            stroke_width=3,
            stroke_color="#28C828",
            fill_color="rgba(0, 0, 0, 0)",
            background_image=choices.image,
            drawing_mode="rect",
            width=BOX_CANVAS_WIDTH,
            height=round(height * scale),
            key="loc_box_canvas",
        )
        rects = [o for o in (result.json_data or {}).get("objects", []) if str(o.get("type", "")).lower() == "rect"]
        if rects:
            r = rects[-1]
            x0, y0 = r["left"] / scale, r["top"] / scale
            x1, y1 = x0 + r["width"] * r.get("scaleX", 1) / scale, y0 + r["height"] * r.get("scaleY", 1) / scale
            drawn = Box(x0, y0, x1, y1, 1.0, -1, "")
    if drawn is not None:
        return drawn, "drawn"
    if choices.from_gallery:
        found = reference_for(choices.image_name, label)
        if found is not None:
            return Box(*found.box, 1.0, -1, ""), "gallery"
    return None, ""
