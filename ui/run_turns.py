"""Turns for the page runs of one server process, so that a class's followers do not crowd out everyone else.

When the lecturer changes the lesson, every following session of the process is woken at once
(:mod:`ui.class_push`). Fifty runs at once on one interpreter share its lock evenly: each follower waits for
all of them, and a student exploring on their own, whose run starts in the middle, waits behind the whole
class. Here a following session's run waits for its turn: at most :data:`FOLLOWER_RUNS` followers' runs at
a time, and none starts while another session's run (an explorer's, the lecturer's) is in progress, for up to
:data:`DEFER_S` seconds. The followers then show the lesson one after another, and an explorer's run is
shared with at most :data:`FOLLOWER_RUNS` others. A run waiting for its turn holds no lock and costs no CPU;
a follower's run waiting for heavy work gives its turn to the next (:meth:`Turns.set_aside`).

Written here: Streamlit runs every session's script on its own thread with no order between sessions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

FOLLOWER_RUNS = 1  # followers' page runs at once in one process (2 measured: explorers 2.2× instead of 1.6–1.9×)
DEFER_S = 0.5  # seconds a follower's run gives way to others' runs before it starts anyway


class Turns:
    """The runs in progress in this process: the followers' (limited) and everyone else's (not)."""

    def __init__(self, follower_runs: int = FOLLOWER_RUNS, defer_s: float = DEFER_S) -> None:
        if follower_runs < 1 or defer_s < 0:
            raise ValueError("at least one follower's run at a time, and a wait of zero seconds or more")
        self._follower_runs = follower_runs
        self._defer_s = defer_s
        self._changed = threading.Condition()
        self._others = 0  # runs of sessions that do not follow, in progress
        self._followers = 0  # followers' runs in progress
        self._mine = threading.local()  # whether this thread's run holds a follower's turn

    @contextmanager
    def run(self, following: bool) -> Iterator[None]:
        """One page run: a follower's waits for its turn; anyone else's starts at once."""
        if following:
            self._follower_enters()
        else:
            with self._changed:
                self._others += 1
        self._mine.holds = following
        try:
            yield
        finally:
            self._mine.holds = False
            with self._changed:
                if following:
                    self._followers -= 1
                else:
                    self._others -= 1
                self._changed.notify_all()

    @contextmanager
    def set_aside(self) -> Iterator[None]:
        """Within a follower's run, while it waits for heavy work (its own or another session's): its turn
        goes to the next follower, and is taken again afterwards. Elsewhere nothing."""
        if not getattr(self._mine, "holds", False):
            yield
            return
        with self._changed:
            self._followers -= 1
            self._changed.notify_all()
        try:
            yield
        finally:
            self._follower_enters()

    def _follower_enters(self) -> None:
        give_way_until = time.monotonic() + self._defer_s
        with self._changed:
            while True:
                left = give_way_until - time.monotonic()
                busy = self._followers >= self._follower_runs
                if not busy and (self._others == 0 or left <= 0):
                    break
                self._changed.wait(timeout=None if busy and left <= 0 else max(left, 0.0))
            self._followers += 1

    def in_progress(self) -> tuple[int, int]:
        """(followers' runs, other runs) in progress now."""
        with self._changed:
            return self._followers, self._others


TURNS = Turns()  # the process's; every session's page run goes through it (app.py)
