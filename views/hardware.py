"""Hardware page (deck 004, question 10): latency, throughput and peak memory of the zoo measured on this
server's devices, against multiply-accumulates and arithmetic intensity, beside the Keras Applications
timings the deck reproduces (measured elsewhere)."""

from __future__ import annotations

import functools

import altair as alt
import pandas as pd
import streamlit as st
import torch

from cnnviz.device import describe_device
from cnnviz.hardware import KERAS_TIMINGS, measure
from cnnviz.models.zoo import ARCHITECTURES, DEFAULT_ARCH
from ui import links
from ui.pages import page
from ui.results import SharedJob, compute_shared_all, shared_results
from ui.text import column_config, t

SUGGESTED = (
    "lenet5", "alexnet", "vgg16", "googlenet", "resnet18", "resnet50",
    "densenet121", "mobilenet_v2", "efficientnet_b0", "efficientnet_lite0",
)  # fmt: skip
SHOWN = ("display", "gmacs", "params_m", "flops_per_byte", "latency_ms", "images_per_s", "batch", "batch_gain",
         "achieved_gmacs_per_s", "peak_memory_mb")  # fmt: skip


LINK = links.page_settings("hardware", {"archs": "hw_archs", "setting": "hw_setting"})


ROUNDING = {
    "gmacs": 3, "params_m": 2, "flops_per_byte": 1, "latency_ms": 2, "images_per_s": 1, "batch_gain": 2,
    "achieved_gmacs_per_s": 1, "peak_memory_mb": 1,
}  # fmt: skip


def _settings() -> list[tuple[str, str]]:
    """The (device, number type) pairs this server can measure: the CPU in float32, each CUDA device in
    float32 and float16."""
    found = [("cpu", "float32")]
    for index in range(torch.cuda.device_count()):
        found += [(f"cuda:{index}", "float32"), (f"cuda:{index}", "float16")]
    return found


def _setting_text(setting: tuple[str, str]) -> str:
    """A (device, number type) pair as the link writes it: ``cpu-float32``, ``cuda:0-float16``."""
    return "-".join(setting)


def _key(arch: str, device: str, dtype: str) -> tuple:
    return ("hardware", arch, device, dtype, torch.get_num_threads())


@page(
    url_path="hardware",
    icon=":material/memory:",
    group="explore",
    order=10,
    title_key="page.hardware",
    heading_key="hw.header",
    link=LINK,
    tasks=("hardware",),
)
def hardware_page() -> None:
    """Draw the measurements for the chosen device and architectures."""
    st.header(t("hw.header"))
    st.markdown(t("hw.intro"))
    settings = _settings()
    by_text = {_setting_text(setting): setting for setting in settings}
    setting = links.choice(by_text)
    LINK.read_once({"archs": links.choices(ARCHITECTURES), "setting": lambda text: by_text[setting(text)]})
    links.show_notices()
    left, right = st.columns([1, 3])
    device, dtype = left.selectbox(
        t("hw.device"),
        settings,
        format_func=lambda s: f"{describe_device(torch.device(s[0]))} · {s[1]}",
        key="hw_setting",
    )
    LINK.write({"setting": None if (device, dtype) == settings[0] else _setting_text((device, dtype))})
    st.session_state.setdefault("hw_archs", list(SUGGESTED))
    archs = right.multiselect(
        t("hw.archs"), list(ARCHITECTURES), key="hw_archs", format_func=lambda a: ARCHITECTURES[a].display
    )
    LINK.write({"archs": links.listed(archs)})
    missing = [a for a in archs if shared_results().get(_key(a, device, dtype)) is None]
    if missing:
        request = st.empty()
        with request.container():
            st.info(t("hw.missing", count=len(missing), total=len(archs)))
            pressed = st.button(t("hw.run", count=len(missing)), type="primary", key="hw_run")
        if pressed:
            request.empty()
            if not _measure(missing, device, dtype):
                return
    timings = [shared_results().get(_key(a, device, dtype)) for a in archs]
    timings = [timing for timing in timings if timing is not None]
    if timings:
        _results(pd.DataFrame([timing.as_dict() for timing in timings]))
    _keras(timings)


def _measure(archs: list[str], device: str, dtype: str) -> bool:
    """Measure ``archs`` one by one under a progress bar, each in the device's queue of heavy work (a timing
    shares the device with no other heavy work, and waits its turn with its place shown); each result is
    shared with every session."""
    jobs = [
        SharedJob(
            _key(arch, device, dtype),
            functools.partial(_timed, arch, device, dtype),
            t("hw.progress", done=done, total=len(archs), arch=ARCHITECTURES[arch].display),
        )
        for done, arch in enumerate(archs)
    ]
    return compute_shared_all(jobs, "hardware", device) is not None


def _timed(arch: str, device: str, dtype: str, _progress):
    """One architecture's timing (it reports no progress of its own: the bar counts architectures)."""
    return measure(arch, device, dtype)


def _results(frame: pd.DataFrame) -> None:
    frame = frame.assign(
        batch_gain=frame["images_per_s"] * frame["latency_ms"] / 1000,
        achieved_gmacs_per_s=frame["gmacs"] * frame["images_per_s"],
    )
    st.subheader(t("hw.measured", device=frame["device"].iloc[0], dtype=frame["dtype"].iloc[0]))
    table = frame[list(SHOWN)].sort_values("latency_ms").round(ROUNDING)
    st.dataframe(table, hide_index=True, width="stretch", column_config=column_config(table.columns))
    fastest = frame.loc[frame["latency_ms"].idxmin()]
    fewest = frame.loc[frame["gmacs"].idxmin()]
    st.caption(t("hw.table_help", fastest=fastest["display"], fewest=fewest["display"]))

    left, right = st.columns(2)
    left.altair_chart(_log_scatter(frame, "gmacs", "latency_ms", "hw.chart_latency"), width="stretch")
    right.altair_chart(
        _log_scatter(frame, "flops_per_byte", "achieved_gmacs_per_s", "hw.chart_intensity"), width="stretch"
    )
    st.markdown(t("hw.explain"))


def _log_scatter(frame: pd.DataFrame, x: str, y: str, title: str) -> alt.LayerChart:
    """Every architecture of ``frame`` as a named point, ``y`` against ``x`` on log scales."""
    tips = [
        alt.Tooltip("display:N", title=t("col.display")),
        alt.Tooltip("gmacs:Q", format=".2f", title=t("col.gmacs")),
        alt.Tooltip("latency_ms:Q", format=".1f", title=t("col.latency_ms")),
        alt.Tooltip("flops_per_byte:Q", format=".0f", title=t("col.flops_per_byte")),
    ]
    points = (
        alt.Chart(frame)
        .mark_circle(size=90, opacity=0.75)
        .encode(
            x=alt.X(f"{x}:Q", scale=alt.Scale(type="log"), title=t(f"col.{x}")),
            y=alt.Y(f"{y}:Q", scale=alt.Scale(type="log"), title=t(f"col.{y}")),
            tooltip=tips,
        )
    )
    labels = points.mark_text(align="left", dx=7, fontSize=10).encode(text="display:N")
    return (points + labels).properties(title=t(title), height=360)


def _keras(timings) -> None:
    st.subheader(t("hw.keras"))
    here = {timing.arch: timing.latency_ms for timing in timings}
    rows = [
        {
            "keras_model": row.model,
            "params_m": row.params_m,
            "keras_cpu_ms": row.cpu_ms,
            "keras_gpu_ms": row.gpu_ms,
            "arch": row.zoo or "",
            "latency_ms": here.get(row.zoo),
        }
        for row in KERAS_TIMINGS
    ]
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config(frame.columns))
    st.caption(t("hw.keras_help", arch=ARCHITECTURES[DEFAULT_ARCH].display))
