"""Turns for the page runs of one server process, so that a class's followers do not crowd out everyone else.

When the lecturer changes the lesson, every following session of the process is woken (:mod:`ui.class_push`,
a few at a time). Fifty runs at once on one interpreter would share its lock evenly: each follower would wait
for all of them, and a student exploring on their own, whose run starts in the middle, behind the whole
class. Here a following session's run waits for its turn: at most :data:`FOLLOWER_RUNS` followers' runs at
a time, and none starts while another session's run (an explorer's, the lecturer's) is in progress, for up to
:data:`DEFER_S` seconds. The followers then show the lesson one after another, and an explorer's run is
shared with at most :data:`FOLLOWER_RUNS` others. A run waiting for its turn holds no lock and costs no CPU;
a follower's run waiting for heavy work gives its turn to the next (:meth:`Turns.set_aside`).

A follower's run also yields to everyone else's. In its turn its thread runs :data:`FOLLOWER_NICE` steps nicer
than the process (Linux schedules each thread with its own niceness), so the other replica's explorers, nginx
and Redis come first on the cores (:meth:`Turns.nicer`). Only in its turn: fifty nicer threads waiting for the
interpreter's lock, each preempted while holding it, would keep an explorer's run in the same process waiting.
Within its turn it pauses before each element it draws while another session's run in its process goes on,
for at most another deferral in all (:meth:`Turns.between_elements`): otherwise an explorer's run that starts
while a follower's is under way shares the interpreter with it evenly. Measured in ``docs/class.md``.

Written here: Streamlit runs every session's script on its own thread with no order between sessions.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

FOLLOWER_RUNS = 1  # followers' page runs at once in one process (2 measured: explorers 2.2× instead of 1.6–1.9×)
DEFER_S = 0.5  # seconds a follower's run gives way to others' runs before it starts anyway
FOLLOWER_NICE = 10  # a follower's run thread's scheduling niceness above the process's (Linux; 0: off)


class Turns:
    """The runs in progress in this process: the followers' (limited) and everyone else's (not)."""

    def __init__(
        self, follower_runs: int = FOLLOWER_RUNS, defer_s: float = DEFER_S, follower_nice: int = FOLLOWER_NICE
    ) -> None:
        if follower_runs < 1 or defer_s < 0 or not 0 <= follower_nice <= 19:
            raise ValueError("at least one follower's run at a time, a wait of zero seconds or more, niceness 0–19")
        self._follower_runs = follower_runs
        self._defer_s = defer_s
        self._follower_nice = follower_nice
        lock = threading.Lock()
        self._turn_free = threading.Condition(lock)  # followers waiting for a turn: one is woken at a time
        self._others_done = threading.Condition(lock)  # followers pausing in their turn: woken together
        self._others = 0  # runs of sessions that do not follow, in progress
        self._followers = 0  # followers' runs in progress
        self._mine = threading.local()  # whether this thread's run holds a follower's turn

    @contextmanager
    def run(self, following: bool) -> Iterator[None]:
        """One page run: a follower's waits for its turn; anyone else's starts at once."""
        if following:
            self._follower_enters()
        else:
            with self._turn_free:
                self._others += 1
        self._mine.holds = following
        self._mine.deferral_left = self._defer_s
        try:
            yield
        finally:
            self._mine.holds = False
            with self._turn_free:
                if following:
                    self._followers -= 1
                    self._turn_free.notify()
                else:
                    self._others -= 1
                    if not self._others:
                        self._others_done.notify_all()
                        self._turn_free.notify(self._follower_runs)

    @contextmanager
    def page_run(self, following: bool, context=None) -> Iterator[None]:
        """A session's page run (``context``: its Streamlit script run context): a follower's in its turn,
        nicer, pausing between elements while another session's run goes on; anyone else's as it is."""
        with self.run(following), self.nicer(following), self.between_elements(context if following else None):
            yield

    @contextmanager
    def nicer(self, following: bool) -> Iterator[None]:
        """A follower's run in its turn: its thread yields the cores to every other thread and process
        (``follower_nice`` steps nicer). Elsewhere nothing."""
        raised = following and _thread_niceness(self._follower_nice)
        try:
            yield
        finally:
            if raised:
                _thread_niceness(-self._follower_nice)

    def give_way(self) -> None:
        """Within a follower's run: pause while another session's run is in progress, for at most what is
        left of this run's deferral (:data:`DEFER_S` for the whole run, besides the wait for its turn). Elsewhere
        nothing."""
        if not self._others or not getattr(self._mine, "holds", False):
            return
        until = time.monotonic() + self._mine.deferral_left
        with self._others_done:
            while self._others and (left := until - time.monotonic()) > 0:
                self._others_done.wait(timeout=left)
        self._mine.deferral_left = max(0.0, until - time.monotonic())

    @contextmanager
    def between_elements(self, context) -> Iterator[None]:
        """During a run: :meth:`give_way` before each message the run sends (each element it draws), so a
        follower's page pauses mid-way while an explorer's run goes on. ``context`` is Streamlit's script
        run context; its ``_enqueue`` is where every message of the run passes (no public hook exists)."""
        send = getattr(context, "_enqueue", None)
        if send is None:
            yield
            return

        @functools.wraps(send)  # __wrapped__: the runner stays reachable (ui.links._unmark)
        def paced(message) -> None:
            self.give_way()
            send(message)

        context._enqueue = paced
        try:
            yield
        finally:
            context._enqueue = send

    @contextmanager
    def set_aside(self) -> Iterator[None]:
        """Within a follower's run, while it waits for heavy work (its own or another session's): its turn
        goes to the next follower, and is taken again afterwards. Elsewhere nothing."""
        if not getattr(self._mine, "holds", False):
            yield
            return
        with self._turn_free:
            self._followers -= 1
            self._turn_free.notify()
        try:
            yield
        finally:
            self._follower_enters()

    def _follower_enters(self) -> None:
        give_way_until = time.monotonic() + self._defer_s
        with self._turn_free:
            while True:
                left = give_way_until - time.monotonic()
                busy = self._followers >= self._follower_runs
                if not busy and (self._others == 0 or left <= 0):
                    break
                self._turn_free.wait(timeout=None if busy and left <= 0 else max(left, 0.0))
            self._followers += 1

    def in_progress(self) -> tuple[int, int]:
        """(followers' runs, other runs) in progress now."""
        with self._turn_free:
            return self._followers, self._others


def _thread_niceness(change: int) -> bool:
    """Change this thread's scheduling niceness by ``change`` (Linux schedules each thread on its own); False
    where the system refuses or ``change`` is 0. Lowering it back needs privilege: elsewhere the thread keeps
    the higher niceness until it ends (Streamlit starts a thread per run)."""
    if not change:
        return False
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + change)
        return True
    except (AttributeError, OSError):
        return False


TURNS = Turns()  # the process's; every session's page run goes through it (app.py)
