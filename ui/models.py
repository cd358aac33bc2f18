"""Models shared by every browser session: loaded once per process, bounded by ``CNNVIZ_MAX_MODELS``.

Prediction runs under ``torch.inference_mode()`` with no hooks, so sessions can share a model freely.
"""

from __future__ import annotations

import os

import streamlit as st

import cnnviz

MAX_MODELS = max(1, int(os.environ.get("CNNVIZ_MAX_MODELS", "4")))


@st.cache_resource(max_entries=MAX_MODELS, show_spinner=False)
def shared_model(arch: str, weights: str, device: str) -> cnnviz.LoadedModel:
    """The architecture ``arch`` with ``weights`` on ``device`` (``"auto"`` = best available)."""
    return cnnviz.load(arch, weights=weights, device=None if device == "auto" else device)


def model_for_page(choices) -> cnnviz.LoadedModel | None:
    """The shared model for the sidebar's choices, with the random-weights notice drawn; None (and the
    reason drawn) when the page cannot go on: no usable image, or no model on that device."""
    from ui.text import error_text, t, weights_text

    if choices.image is None:
        st.info(choices.image_error or t("predict.no_image"))
        return None
    try:
        net = shared_model(choices.arch, "auto", choices.device)
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return None
    if not net.meaningful:
        st.warning(t("predict.random_warning", arch=net.spec.display, detail=weights_text(net)))
    return net
