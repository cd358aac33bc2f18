"""Results shared by every session: a bounded, thread-safe LRU keyed by (architecture, weights, device,
image digest, parameters), so the same demo computed once answers the whole class at once."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

import streamlit as st

MAX_RESULTS = max(1, int(os.environ.get("CNNVIZ_MAX_RESULTS", "64")))


class ResultCache:
    """A least-recently-used mapping of at most ``max_entries`` results."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any | None:
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


@st.cache_resource
def shared_results() -> ResultCache:
    """The process-wide result cache."""
    return ResultCache(MAX_RESULTS)
