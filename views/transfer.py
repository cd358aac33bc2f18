"""Transfer-learning lab: a frozen pretrained backbone with a new head vs the same network from scratch."""

import hashlib

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

import cnnviz
from cnnviz.explain.keys import result_key
from cnnviz.labs.transfer import (
    BACKBONE,
    INPUT_SIZES,
    class_names_file,
    digit_images,
    fine_tuned_checkpoint,
    split_uploads,
    transfer_lab,
)
from ui import links
from ui.lab_runs import linked_form, opened_values, write_form
from ui.models import shared_model
from ui.own_networks import OwnFile, adopt
from ui.pages import page, page_named, streamlit_page
from ui.results import SharedJob, compute_shared, shared_results
from ui.text import error_text, labeller, literal, t
from ui.uploads import decode_upload

MAX_CLASSES = 5
MAX_FILES_PER_CLASS = 20  # images used per class; more are ignored with a notice
CHECKPOINT_FILE = "transfer-lite0.pt"
NAMES_FILE = "transfer-classes.txt"


def _own_images() -> tuple[dict, str]:
    """The student's classes: a name and some images each; and a digest of them all for the cache key."""
    count = int(st.number_input(t("transfer.class_count"), 2, MAX_CLASSES, 2, key="transfer_classes"))
    classes, digest = {}, hashlib.sha256()
    for column, k in zip(st.columns(count), range(count), strict=True):
        with column:
            name = st.text_input(t("transfer.class_name", n=k + 1), chr(ord("A") + k), key=f"transfer_name_{k}")
            files = st.file_uploader(t("transfer.class_images"), accept_multiple_files=True, key=f"transfer_files_{k}")
            images = []
            for file in (files or [])[:MAX_FILES_PER_CLASS]:
                decoded = decode_upload(file.getvalue())  # decoded once, not on every rerun
                if decoded.error is not None:
                    st.error(f"{literal(file.name)}: {error_text(decoded.error)}")
                    continue
                images.append(decoded.image)
                digest.update(decoded.digest.encode())
            if len(files or []) > MAX_FILES_PER_CLASS:
                st.warning(t("transfer.too_many_files", count=MAX_FILES_PER_CLASS))
            classes[name] = images
            digest.update(name.encode())
    return classes, digest.hexdigest()


LINK = links.page_settings(
    "transfer", {"per_class": "transfer_per_class", "size": "transfer_size", "epochs": "transfer_epochs"}
)  # the digits' run; a lecturer's own images stay in their session
PARSERS = {
    "per_class": links.integer(1, 20),
    "size": links.number_choice(INPUT_SIZES),
    "epochs": links.integer(1, 40),
}
DEFAULTS = {"per_class": 5, "size": 128, "epochs": 15}


def _prepare(opened) -> list[SharedJob]:
    """The digits' run the link names, else the first one (5 a class, 128 px, 15 epochs), on the server's
    default device (see :mod:`ui.prepare`; the sidebar's network and photo play no part)."""
    net = shared_model(BACKBONE, "auto", "auto")
    linked = opened_values(opened, PARSERS, DEFAULTS)
    per_class, size, epochs = linked["per_class"], linked["size"], linked["epochs"]
    key = result_key("transfer", net, ("digits", per_class), size=size, epochs=epochs)

    def compute(report):
        train, test = digit_images(per_class)
        return transfer_lab(net, train, test, size, epochs, progress=report)

    return [SharedJob(key, compute, t("task.transfer"))]


@page(
    url_path="transfer",
    icon=":material/school:",
    group="labs",
    order=3,
    title_key="page.transfer",
    heading_key="transfer.header",
    link=LINK,
    tasks=("transfer",),
    prepare=_prepare,
)
def transfer_page() -> None:
    """Draw the lab."""
    st.header(t("transfer.header"))
    st.markdown(t("transfer.intro"))
    linked_form(LINK, PARSERS, DEFAULTS)
    source = st.radio(
        t("transfer.source"),
        ("digits", "own"),
        format_func=labeller("transfer.source_{}"),
        horizontal=True,
        key="transfer_source",
    )
    if source == "digits":
        per_class = st.slider(t("transfer.per_class"), 1, 20, key="transfer_per_class")
        data_key = ("digits", per_class)
    else:
        classes, digest = _own_images()
        data_key = ("own", digest)
    cols = st.columns(2)
    size = cols[0].select_slider(
        t("transfer.input_size"), INPUT_SIZES, key="transfer_size", help=t("transfer.input_size_help")
    )
    epochs = cols[1].slider(t("transfer.epochs"), 1, 40, key="transfer_epochs")
    write_form(LINK, {"per_class": st.session_state["transfer_per_class"], "size": size, "epochs": epochs})
    submitted = st.button(t("transfer.run"), type="primary")

    try:
        net = shared_model(BACKBONE, "auto", st.session_state["choices"].device)
        key = result_key("transfer", net, data_key, size=size, epochs=epochs)
        result = shared_results().get(key)
        if result is None and not submitted:
            st.info(t("transfer.press_run"))
            return
        if result is None:
            train, test = digit_images(per_class) if source == "digits" else split_uploads(classes)
            computed = compute_shared(
                key,
                lambda report: transfer_lab(net, train, test, size, epochs, progress=report),
                "transfer",
                device=str(net.device),
            )
            if computed is None:
                return
            result = computed.value
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return
    st.caption(
        t(
            "transfer.counts",
            train=result.train_count,
            test=result.test_count,
            classes=len(result.classes),
            size=result.input_size,
        )
    )
    left, right = st.columns(2)
    sides = ((left, result.frozen, "transfer.frozen"), (right, result.scratch, "transfer.scratch"))
    for column, outcome, title in sides:
        with column:
            st.markdown(f"**{t(title)}**")
            st.metric(
                t("transfer.accuracy"), f"{outcome.accuracy:.0%}", help=t("transfer.seconds", seconds=outcome.seconds)
            )
            st.altair_chart(_confusion_chart(outcome.confusion, result.classes), width="stretch")
    st.caption(t("transfer.confusion_help"))
    st.markdown(
        t(
            "transfer.reading",
            frozen=result.frozen.accuracy,
            scratch=result.scratch.accuracy,
            chance=1 / len(result.classes),
        )
    )
    _take_away(net, result)


def _take_away(net: cnnviz.LoadedModel, result) -> None:
    """The frozen backbone with its probe as a checkpoint and a names file (what "My checkpoint" and
    ``--weights … --labels …`` take), and "Explain this network": it becomes this session's network and the
    Predict page opens on it."""
    st.subheader(t("transfer.take_away"))
    st.markdown(t("transfer.take_away_intro", classes=len(result.classes)))
    names = class_names_file(result)
    left, middle, right = st.columns(3)
    left.download_button(
        t("transfer.download_weights"),
        data=lambda: fine_tuned_checkpoint(net, result),  # made when pressed, on its own thread
        file_name=CHECKPOINT_FILE,
        mime="application/octet-stream",
        on_click="ignore",
        icon=":material/download:",
    )
    middle.download_button(
        t("transfer.download_names"),
        data=lambda: names,  # served when pressed: no file for the browser to miss after the next run
        file_name=NAMES_FILE,
        mime="text/plain",
        on_click="ignore",
        icon=":material/download:",
    )
    if right.button(t("transfer.explain"), type="primary", icon=":material/travel_explore:"):
        data = fine_tuned_checkpoint(net, result)
        weights = OwnFile(CHECKPOINT_FILE, data, hashlib.sha256(data).hexdigest())
        try:
            adopt(BACKBONE, weights, OwnFile(NAMES_FILE, names.encode()), st.session_state["choices"].device)
        except cnnviz.CnnvizError as exc:
            st.error(error_text(exc))
            return
        st.switch_page(streamlit_page(page_named("predict"), t("page.predict")))


def _confusion_chart(matrix: np.ndarray, classes: tuple[str, ...]) -> alt.Chart:
    truth, predicted = np.meshgrid(range(len(classes)), range(len(classes)), indexing="ij")
    true_title, predicted_title, count_title = t("transfer.true"), t("transfer.predicted"), t("transfer.count")
    frame = pd.DataFrame(
        {
            "true": [classes[i] for i in truth.ravel()],
            "predicted": [classes[j] for j in predicted.ravel()],
            "count": matrix.ravel(),
        }
    )
    base = alt.Chart(frame).encode(
        x=alt.X("predicted:N", title=predicted_title, sort=list(classes), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("true:N", title=true_title, sort=list(classes)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("count:Q", title=count_title, scale=alt.Scale(scheme="blues")),
        tooltip=[
            alt.Tooltip("true:N", title=true_title),
            alt.Tooltip("predicted:N", title=predicted_title),
            alt.Tooltip("count:Q", title=count_title),
        ],
    )
    numbers = base.mark_text().encode(text="count:Q")
    return (cells + numbers).properties(height=320)
