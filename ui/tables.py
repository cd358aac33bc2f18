"""Layer tables cached per process (they depend only on the architecture and the input size)."""

from __future__ import annotations

import streamlit as st

from cnnviz.layers import LayerTable, layer_table


@st.cache_data(max_entries=64, show_spinner=False)
def cached_table(arch: str, input_size: int) -> LayerTable:
    """The layer table of ``arch`` at ``input_size`` px."""
    return layer_table(arch, input_size)
