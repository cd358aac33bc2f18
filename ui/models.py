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
