"""Waking the followers: one thread per server process reads the version of each class its followers are in,
:data:`WATCH_S` seconds apart, and asks each following session whose page is older to run again; that run
applies the new lesson (:mod:`ui.class_mode`). A class that nobody changes costs one store read per class per
:data:`WATCH_S` and nothing per follower.

Written here, on Streamlit's internals (1.67): no public API lets one session make another run, and the public
way, a fragment that reruns every second in each follower's browser, cost about 15 ms of server CPU per
follower per second (``bench/load_class.py``: a hundred followers would take three quarters of two cores while
nothing changes). The rerun is asked on the server's event loop with the session's last client state (its
page and widgets), as a browser's rerun would be. Where the internals are missing, :func:`available` is False
and the followers poll instead.

The followers of a change are woken a few at a time (:data:`WAKE_AHEAD`): the next as soon as one woken earlier
reaches its class box. Woken all at once, fifty runs would start together and crowd the interpreter before
taking their turns (:mod:`ui.run_turns`), and an explorer's run in the same process would wait behind them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ui.classroom import ClassError, Lesson

LOG = logging.getLogger("cnnviz.class")
WATCH_S = 0.2  # seconds between two reads of each followed class
WAKE_AHEAD = 2  # woken followers whose run has not yet reached its class box, at most, per process
WAKE_TIMEOUT_S = 2.0  # a woken follower not at its box by then no longer holds back the next


def _runtime():
    from streamlit.runtime import Runtime

    return Runtime.instance()


def available() -> bool:
    """Whether this Streamlit has the internals the push needs (a running runtime's sessions and loop)."""
    try:
        runtime = _runtime()
        return hasattr(runtime, "_session_mgr") and hasattr(runtime, "_get_async_objs")
    except Exception:  # no runtime: AppTest, the CLI
        return False


def _wake(session_id: str) -> bool:
    """Ask session ``session_id`` to run its page again; False when the session has gone."""
    from streamlit.proto.ClientState_pb2 import ClientState

    runtime = _runtime()
    info = runtime._session_mgr.get_active_session_info(session_id)
    if info is None:
        return False
    state = ClientState()
    state.CopyFrom(info.session._client_state)
    state.fragment_id = ""  # the whole page, not the fragment the browser ran last
    state.is_auto_rerun = False
    runtime._get_async_objs().eventloop.call_soon_threadsafe(info.session.request_rerun, state)
    return True


class Followers:
    """The following sessions of this process: session id → (class code, the lesson version its page shows)."""

    def __init__(self, read: Callable[[str], Lesson], wake: Callable[[str], bool] = _wake) -> None:
        self._read = read
        self._wake = wake
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # a woken session reached its class box, or left
        self._sessions: dict[str, tuple[str, int | None]] = {}
        self._asked: dict[str, int | str] = {}  # the version (or "ended") each session was last woken for
        self._due: dict[str, None] = {}  # sessions to wake, in the order their class moved on
        self._woken: dict[str, float] = {}  # woken sessions not yet at their class box: when (monotonic s)
        self._thread: threading.Thread | None = None

    def follow(self, session_id: str, code: str, shown: int | None) -> None:
        """Session ``session_id`` follows class ``code`` and shows its version ``shown`` (said from its class
        box on each of its runs)."""
        with self._lock:
            self._sessions[session_id] = (code, shown)
            if self._woken.pop(session_id, None) is not None:
                self._arrived.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="cnnviz-class-followers", daemon=True)
                self._thread.start()

    def leave(self, session_id: str) -> None:
        """Session ``session_id`` no longer follows (it explores on its own, or left the class)."""
        with self._lock:
            self._sessions.pop(session_id, None)
            self._asked.pop(session_id, None)
            self._due.pop(session_id, None)
            if self._woken.pop(session_id, None) is not None:
                self._arrived.notify()

    def check(self) -> None:
        """One round: every following session whose class moved on (or ended) since its page is due to be
        woken, once per change; as many as :data:`WAKE_AHEAD` allows are woken now."""
        with self._lock:
            sessions = dict(self._sessions)
        versions: dict[str, int | str] = {}
        for code in {code for code, _ in sessions.values()}:
            try:
                versions[code] = self._read(code).version
            except ClassError:
                versions[code] = "ended"
            except Exception as exc:  # the store did not answer: try again next round
                LOG.warning("class %s unreadable: %s: %s", code, type(exc).__name__, exc)
        for session_id, (code, shown) in sessions.items():
            now = versions.get(code)
            with self._lock:
                if now is None or now == shown or self._asked.get(session_id) == now:
                    continue
                self._asked[session_id] = now
                self._due[session_id] = None
        self.wake_due()

    def wake_due(self) -> int:
        """Wake due sessions while fewer than :data:`WAKE_AHEAD` woken ones are on their way to their class box
        (one woken more than :data:`WAKE_TIMEOUT_S` ago no longer counts); how many are still due."""
        while True:
            with self._lock:
                now = time.monotonic()
                for session_id, woken_at in list(self._woken.items()):
                    if now - woken_at > WAKE_TIMEOUT_S:
                        del self._woken[session_id]
                if not self._due or len(self._woken) >= WAKE_AHEAD:
                    return len(self._due)
                session_id = next(iter(self._due))
                del self._due[session_id]
                self._woken[session_id] = now
            if not self._wake(session_id):
                self.leave(session_id)

    def _watch(self) -> None:
        while True:
            started = time.monotonic()
            try:
                self.check()
                while self.wake_due() and (left := WATCH_S - (time.monotonic() - started)) > 0:
                    with self._lock:  # until the next read: the next due session as each woken one arrives
                        if len(self._woken) >= WAKE_AHEAD:
                            self._arrived.wait(timeout=min(left, 0.05))
            except Exception:  # never let one bad round stop the class
                LOG.exception("waking the followers failed")
            time.sleep(max(0.0, WATCH_S - (time.monotonic() - started)))
