"""Heavy work (occlusion maps, top-9 searches, optimised images, lab training) waits its turn: one bounded
pool of worker threads per device, first come first served, so ten different requests do not share the
cores (and the GIL) ten ways and all finish late, and predictions (which never enter this queue) are not
slowed by them.

The session that asked polls its job from its own script thread, draws the queue position and an
estimated wait, then the job's progress; when the student leaves or presses Stop, Streamlit interrupts
that poll and the job leaves the queue (or, running, stops at its next progress report: the callback
answers False, as :mod:`cnnviz.explain.progress` defines).

Pool size: ``CNNVIZ_HEAVY_SLOTS`` workers per device (default 1; see ``bench/queue_pool.py`` and the documentation's
"Running it for a course" for the measurements). Written here because Streamlit has no job queue, and a
task broker (Celery, RQ) would move work to another process, where it could neither share the loaded
models nor report progress to the page.
"""

from __future__ import annotations

import collections
import itertools
import os
import threading
import time
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

HEAVY_SLOTS = max(1, int(os.environ.get("CNNVIZ_HEAVY_SLOTS", "1")))
POLL_S = 0.25  # how often a waiting session redraws its position (s)
_RECENT = 20  # how many finished jobs the wait estimate averages


class Job:
    """One queued computation: its future, its progress (done, total) and the page calls it asked for."""

    def __init__(self, number: int, compute: Callable[[Callable[[int, int], None]], Any]) -> None:
        self.number = number
        self.compute = compute
        self.future: Future = Future()
        self.cancelled = threading.Event()
        self.progress: tuple[int, int] = (0, 1)
        self.page_calls: collections.deque = collections.deque()
        self.started: float | None = None

    def report(self, done: int, total: int) -> bool:
        """The job's progress callback (:mod:`cnnviz.explain.progress`'s contract): records it, and answers
        False, so the method stops with ``Cancelled``, once the student has gone."""
        self.progress = (done, total)
        return not self.cancelled.is_set()

    def cancel(self) -> None:
        self.cancelled.set()

    def draw_page_calls(self) -> None:
        """Run, on the calling (session's) thread, the page calls the job has handed over so far."""
        while self.page_calls:
            function, args, kwargs = self.page_calls.popleft()
            function(*args, **kwargs)


_local = threading.local()


def on_session_thread(function: Callable[..., None]) -> Callable[..., None]:
    """``function`` (which draws on the page) made callable from a job: inside a worker the call is handed
    to the session's script thread, which runs it on its next poll; elsewhere it runs at once."""

    def call(*args, **kwargs) -> None:
        job = getattr(_local, "job", None)
        if job is None:
            function(*args, **kwargs)
        else:
            job.page_calls.append((function, args, kwargs))

    return call


class WorkQueue:
    """A first-come-first-served queue in front of ``slots`` worker threads for one device."""

    def __init__(self, slots: int, name: str) -> None:
        self.slots = slots
        self._executor = ThreadPoolExecutor(slots, thread_name_prefix=f"heavy-{name}")
        self._lock = threading.Lock()
        self._waiting: list[Job] = []  # in arrival order; a job leaves when it starts
        self._running: list[Job] = []
        self._durations: collections.deque = collections.deque(maxlen=_RECENT)
        self._numbers = itertools.count(1)
        self.finished = 0

    def submit(self, compute: Callable[[Callable[[int, int], None]], Any]) -> Job:
        """Queue ``compute(report)``; the result (or exception) arrives in ``job.future``."""
        job = Job(next(self._numbers), compute)
        with self._lock:
            self._waiting.append(job)
        self._executor.submit(self._run, job)
        return job

    def position(self, job: Job) -> int:
        """How many jobs start before ``job`` (0: it is running or done)."""
        with self._lock:
            return self._waiting.index(job) + 1 if job in self._waiting else 0

    def estimated_wait(self, job: Job) -> float | None:
        """Seconds until ``job`` starts: what the running jobs have left (projected from their progress so
        far) plus, for each job ahead, the mean duration of the last finished ones (or of the running ones
        as projected). None while nothing is known yet (no job has reported progress or finished)."""
        with self._lock:
            if job not in self._waiting:
                return 0.0
            now = time.perf_counter()
            projected = [_projected_total(running, now) for running in self._running]
            known = [total for total in projected if total is not None]
            mean = sum(self._durations) / len(self._durations) if self._durations else None
            typical = mean if mean is not None else (sum(known) / len(known) if known else None)
            if typical is None:
                return None
            left = sum(
                max(0.0, (total if total is not None else typical) - (now - running.started))
                for running, total in zip(self._running, projected, strict=True)
            )
            return (left + self._waiting.index(job) * typical) / self.slots

    def leave(self, job: Job) -> None:
        """The student has gone: drop ``job`` if it has not started, else stop it at its next report."""
        job.cancel()
        with self._lock:
            if job in self._waiting:
                self._waiting.remove(job)
                job.future.cancel()

    def _run(self, job: Job) -> None:
        with self._lock:
            if job not in self._waiting:
                return  # left the queue before its turn
            self._waiting.remove(job)
            self._running.append(job)
            job.started = time.perf_counter()
        if not job.future.set_running_or_notify_cancel():
            return
        _local.job = job
        try:
            job.future.set_result(job.compute(job.report))
        except BaseException as exc:  # handed to the session that waits for it
            job.future.set_exception(exc)
        finally:
            _local.job = None
            with self._lock:
                self._running.remove(job)
                if not job.cancelled.is_set():
                    self._durations.append(time.perf_counter() - job.started)
                self.finished += 1


def _projected_total(job: Job, now: float) -> float | None:
    """The seconds a running job will take in all, from the share of its work done so far."""
    done, total = job.progress
    if job.started is None or done <= 0 or total <= 0:
        return None
    return (now - job.started) * total / done


_queues: dict[str, WorkQueue] = {}
_queues_lock = threading.Lock()


def queue_for(device: str) -> WorkQueue:
    """The process-wide queue of ``device`` (``cpu``, ``cuda:0`` …)."""
    with _queues_lock:
        if device not in _queues:
            _queues[device] = WorkQueue(HEAVY_SLOTS, device.replace(":", ""))
        return _queues[device]


def run_queued(
    device: str,
    compute: Callable[[Callable[[int, int], None]], Any],
    on_wait: Callable[[int, float | None], None],
    on_progress: Callable[[int, int], None],
) -> Any:
    """``compute(report)`` run in ``device``'s queue, from a session's script thread: while it waits,
    ``on_wait(position, seconds or None)`` every ``POLL_S``; while it runs, ``on_progress(done, total)`` and the
    page calls it handed over. Returns its result or raises its exception. If this thread is interrupted
    (Streamlit raises on the next page call when the student stops or leaves), the job leaves the queue."""
    queue = queue_for(device)
    job = queue.submit(compute)
    try:
        while True:
            finished = job.future.done()  # read first: page calls a job hands over all come before its end
            job.draw_page_calls()
            if finished:
                return job.future.result()
            position = queue.position(job)
            if position:
                on_wait(position, queue.estimated_wait(job))
            else:
                on_progress(*job.progress)
            futures.wait([job.future], timeout=POLL_S)
    finally:
        if not job.future.done():
            queue.leave(job)
