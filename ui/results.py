"""Results shared by every session: a bounded, thread-safe LRU keyed by (architecture, weights, device,
image digest, parameters), so the same demo computed once answers the whole class at once. When many
sessions ask for the same missing result at the same moment (a lecturer's link), one computes it and
the others wait for that result instead of repeating the work."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import streamlit as st
import torch
from PIL import Image

import cnnviz
from ui import links, redis_results
from ui.redis_results import RedisResults
from ui.run_turns import TURNS
from ui.text import error_text, has_text, t
from ui.work_queue import run_queued

MAX_RESULTS = max(1, int(os.environ.get("CNNVIZ_MAX_RESULTS", "64")))
MAX_RESULT_BYTES = int(float(os.environ.get("CNNVIZ_MAX_RESULTS_MB", "256")) * 2**20)


def held_bytes(value: Any, _depth: int = 0) -> int:
    """The bytes ``value`` holds in memory, counted through cnnviz's result records: arrays and tensors by
    their data, pictures by their pixels, records, mappings and sequences by their items, anything else
    by ``sys.getsizeof``. (``sys.getsizeof`` alone sees a record's few pointers, not its arrays; no
    library measures this, so it is written here.)"""
    if isinstance(value, np.ndarray):
        return value.nbytes + 112
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size() + 200
    if isinstance(value, Image.Image):
        return value.width * value.height * len(value.getbands()) + 200
    if _depth > 8 or isinstance(value, str | bytes | int | float | bool | type(None)):
        return sys.getsizeof(value)
    if dataclasses.is_dataclass(value):
        items = [getattr(value, field.name) for field in dataclasses.fields(value)]
    elif isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        return sys.getsizeof(value)
    return sys.getsizeof(value) + sum(held_bytes(item, _depth + 1) for item in items)


class ResultCache:
    """A least-recently-used mapping of at most ``max_entries`` results holding at most ``max_bytes``
    together (:func:`held_bytes`; a result larger than that alone is handed back but not kept), in front
    of ``second_level`` (the replicas' shared Redis, when there is one; Redis bounds its own memory)."""

    def __init__(
        self, max_entries: int, second_level: RedisResults | None = None, max_bytes: int = MAX_RESULT_BYTES
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.second_level = second_level
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._sizes: dict[tuple, int] = {}
        self.bytes = 0  # what the kept results hold now
        self._lock = threading.Lock()
        self._flights: dict[tuple, threading.Lock] = {}
        self.computed = 0  # how many results were computed (not found or awaited): for tests and load runs

    def get(self, key: tuple) -> Any | None:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        if self.second_level is None:
            return None
        value = self.second_level.get(key)
        if value is not None:
            self._keep(key, value)
        return value

    def get_or_compute(self, key: tuple, compute: Callable[[], Any]) -> tuple[Any, bool]:
        """The result for ``key`` and whether it was already there (or computed by another session while
        this one waited); otherwise ``compute()`` runs once for all sessions asking at the same time. An
        exception reaches the session that computed; the waiting ones then try themselves."""
        value = self.get(key)
        if value is not None:
            return value, True
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
        with flight:
            value = self.get(key)
            if value is not None:
                return value, True
            try:
                found: list = []
                with self._other_replicas(key, found) as this_one_computes:
                    if not this_one_computes:
                        self._keep(key, found[0])
                        return found[0], True
                    value = compute()
                    self.put(key, value)
                with self._lock:
                    self.computed += 1
            finally:
                with self._lock:
                    self._flights.pop(key, None)
        return value, False

    def _other_replicas(self, key: tuple, found: list):
        """Redis's lock on ``key`` (see :meth:`RedisResults.computing`), or nothing on a single server."""
        if self.second_level is None:
            return contextlib.nullcontext(True)
        return self.second_level.computing(key, found)

    def put(self, key: tuple, value: Any) -> None:
        """Keep ``value`` here and, with a second level, for every replica."""
        self._keep(key, value)
        if self.second_level is not None:
            self.second_level.put(key, value)

    def _keep(self, key: tuple, value: Any) -> None:
        size = held_bytes(value)
        with self._lock:
            self._forget(key)
            if size > self.max_bytes:
                return
            self._entries[key] = value
            self._sizes[key] = size
            self.bytes += size
            while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
                self._forget(next(iter(self._entries)))

    def _forget(self, key: tuple) -> None:
        if key in self._entries:
            del self._entries[key]
            self.bytes -= self._sizes.pop(key)


@st.cache_resource
def shared_results() -> ResultCache:
    """The process-wide result cache (with Redis behind it when ``CNNVIZ_REDIS_URL`` names one)."""
    return ResultCache(MAX_RESULTS, redis_results.from_environment())


MAX_PREDICTIONS = 64  # predictions kept per process (each holds the crop: 224² px, about 0.15 MB)


@st.cache_resource
def shared_predictions() -> ResultCache:
    """The process-wide predictions: in this process only (a forward pass is cheaper than a Redis round trip
    for most networks), so a class that opens the same photo on the same network computes it once."""
    return ResultCache(MAX_PREDICTIONS, None, max_bytes=MAX_PREDICTIONS * 2**20)


def shared_prediction(net, image, digest: str | None, top: int):
    """``cnnviz.predict(net, image, top=top)``, computed once per process for the photo whose SHA-256 is
    ``digest`` (every session asking at once waits for that one); a photo without a digest is computed."""
    import cnnviz
    from cnnviz.explain.keys import result_key

    if digest is None:
        return cnnviz.predict(net, image, top=top)
    key = result_key("predict", net, digest, top=top)
    return shared_predictions().get_or_compute(key, lambda: cnnviz.predict(net, image, top=top))[0]


def show_queue_place(bar) -> Callable[[int, float | None], None]:
    """The ``on_wait`` of :func:`ui.work_queue.run_queued` for a progress ``bar``: the waiting student's
    place in the queue of heavy work and the estimated wait, as the bar's text."""

    def show(position: int, seconds: float | None) -> None:
        if seconds is None:
            text = t("queue.waiting_unknown", position=position)
        else:
            text = t("queue.waiting", position=position, seconds=seconds)
        bar.progress(0.0, text=text)

    return show


class Computed(NamedTuple):
    """A shared result, whether another session had already computed it (``shared``), and the seconds
    this session waited for it."""

    value: Any
    shared: bool
    seconds: float


class SharedJob(NamedTuple):
    """One piece of heavy work for :func:`compute_shared_all`: its result ``key``, ``compute(progress)``,
    and the ``label`` its progress bar shows while it runs."""

    key: tuple
    compute: Callable[[Callable[[int, int], None]], Any]
    label: str


def shared_in_queue(key: tuple, compute, device: str, bar, report) -> tuple[Any, bool]:
    """The one way heavy work reaches a page: ``key``'s result from the shared cache (every session's, and
    the replicas' through Redis), else computed once for every session asking at that moment, waiting its
    turn in ``device``'s queue of heavy work (place and wait on ``bar``; progress to ``report``; Stop
    cancels it). (value, whether another session had computed it)."""
    cache = shared_results()
    found = cache.get(key)
    if found is not None:
        return found, True
    with TURNS.set_aside():  # a class's next follower runs meanwhile
        return cache.get_or_compute(key, lambda: run_queued(device, compute, show_queue_place(bar), report))


def compute_shared_all(jobs: list[SharedJob], task: str, device: str = "cpu") -> list[Any] | None:
    """Each of ``jobs`` through :func:`shared_in_queue` in turn, under one progress bar (the running job's
    label; the bar counts jobs and each job's own progress), the link marked with ``running=<task>``. The
    values in order, or None, with the error drawn in the session's language, when the engine refuses."""
    bar = st.progress(0.0, text=jobs[0].label)
    values = []
    try:
        with links.running(task):
            for i, job in enumerate(jobs):

                def report(done: int, total: int, i=i, job=job) -> None:
                    bar.progress((i + done / max(1, total)) / len(jobs), text=job.label)

                report(0, 1)
                values.append(shared_in_queue(job.key, job.compute, device, bar, report)[0])
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return None
    finally:
        bar.empty()
    return values


def compute_shared(
    key: tuple,
    compute: Callable[[Callable[[int, int], None]], Any],
    texts: str,
    task: str | None = None,
    describe: Callable[[Any, float], str] | None = None,
    device: str = "cpu",
) -> Computed | None:
    """``compute(progress)`` run once for every session asking for ``key``, under a progress bar and a
    spinner worded by the catalogue keys ``{texts}.progress`` / ``.waiting``, the link marked with
    ``running=<task>`` (default: ``texts``). Afterwards a caption: ``{texts}.cached`` when another session
    computed it (if the catalogue has that key), else ``describe(value, seconds)`` or ``{texts}.done``.
    None, with the error drawn in the session's language, when the engine refuses. The computation waits
    its turn in ``device``'s queue of heavy work, showing its position and an estimated wait."""
    bar = st.progress(0.0, text=t(f"{texts}.progress", done=0, total=1))
    start = time.perf_counter()

    def report(done: int, total: int) -> None:
        bar.progress(done / max(1, total), text=t(f"{texts}.progress", done=done, total=total))

    try:
        with st.spinner(t(f"{texts}.waiting")), links.running(task or texts):
            value, shared = shared_in_queue(key, compute, device, bar, report)
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return None
    finally:
        bar.empty()
    seconds = time.perf_counter() - start
    if shared and has_text(f"{texts}.cached"):
        st.caption(t(f"{texts}.cached"))
    else:
        st.caption(describe(value, seconds) if describe else t(f"{texts}.done", seconds=seconds))
    return Computed(value, shared, seconds)
