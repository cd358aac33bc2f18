"""Models shared by every browser session: loaded once per process, bounded by ``CNNVIZ_MAX_MODELS``.

Prediction runs under ``torch.inference_mode()`` with no hooks, so sessions can share a model freely.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple

import streamlit as st

import cnnviz

if TYPE_CHECKING:
    from ui.links import PageSettings

MAX_MODELS = max(1, int(os.environ.get("CNNVIZ_MAX_MODELS", "4")))


@st.cache_resource(max_entries=MAX_MODELS, show_spinner=False)
def shared_model(arch: str, weights: str, device: str) -> cnnviz.LoadedModel:
    """The architecture ``arch`` with ``weights`` on ``device`` (``"auto"`` = best available)."""
    return cnnviz.load(arch, weights=weights, device=None if device == "auto" else device)


def network(arch: str, device: str) -> cnnviz.LoadedModel:
    """The network ``arch`` on ``device``: this session's own checkpoint (:mod:`ui.own_networks`) or the
    process's shared model."""
    from cnnviz.errors import WeightsError
    from ui.own_networks import is_own, own_model

    if is_own(arch):
        net = own_model(arch, device)
        if net is None:
            raise WeightsError("own_missing")
        return net
    return shared_model(arch, "auto", device)


def on_cpu(net: cnnviz.LoadedModel) -> cnnviz.LoadedModel:
    """``net`` on the CPU, from any thread: the shared CPU model, or a CPU copy of a session's own network."""
    import copy
    from dataclasses import replace

    import torch

    from ui.own_networks import is_own

    if not is_own(net.spec.name):
        return shared_model(net.spec.name, "auto", "cpu")
    return replace(net, model=copy.deepcopy(net.model).to("cpu"), device=torch.device("cpu"))


def model_for_page(choices) -> cnnviz.LoadedModel | None:
    """The shared model for the sidebar's choices, with the random-weights notice drawn; None (and the
    reason drawn) when the page cannot go on: no usable image, or no model on that device."""
    from ui.text import error_text, t, weights_text

    if choices.image is None:
        st.info(choices.image_error or t("predict.no_image"))
        return None
    try:
        net = network(choices.arch, choices.device)
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return None
    if not net.meaningful:
        st.warning(t("predict.random_warning", arch=net.spec.display, detail=weights_text(net)))
    return net


class PageStart(NamedTuple):
    """What a page works on: the sidebar's ``choices``, the architecture's ``spec`` and the shared model
    (``net`` None when the page cannot go on; the reason is already drawn)."""

    choices: Any
    spec: cnnviz.ArchSpec
    net: cnnviz.LoadedModel | None


def start_page(
    header: str, intro: str | None = None, markdown: bool = False, link: PageSettings | None = None
) -> PageStart:
    """A model page's prologue: its header (catalogue key ``header``, with ``{arch}``), its introduction
    (``intro``, a caption or with ``markdown`` a paragraph) and the shared model for the sidebar's choices.
    When the page cannot go on, the settings it keeps in the link (``link``, its
    :class:`ui.links.PageSettings`) leave the address bar: they describe nothing shown, and may not fit the
    network chosen since."""
    from ui.text import t

    choices = st.session_state["choices"]
    spec = cnnviz.get_spec(choices.arch)
    st.header(t(header, arch=spec.display))
    if intro is not None:
        (st.markdown if markdown else st.caption)(t(intro))
    net = model_for_page(choices)
    if net is None and link is not None:
        link.write(dict.fromkeys(link.fields))
    return PageStart(choices, spec, net)


def layers_with_maps(spec: cnnviz.ArchSpec, side: int) -> list[str] | None:
    """The layers of ``spec`` with a spatial map at input side ``side`` (px), or None after drawing the
    sentence that says why a network without any (a vision transformer) cannot be shown on this page."""
    from cnnviz.layers import spatial_layers
    from ui.text import error_text

    layers = spatial_layers(spec, side)
    if not layers:
        st.error(error_text(cnnviz.CnnvizError("no_maps", arch=spec.display)))
        return None
    return layers
