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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ui.classroom import ClassError, Lesson

LOG = logging.getLogger("cnnviz.class")
WATCH_S = 0.2  # seconds between two reads of each followed class


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
        self._sessions: dict[str, tuple[str, int | None]] = {}
        self._asked: dict[str, int | str] = {}  # the version (or "ended") each session was last woken for
        self._thread: threading.Thread | None = None

    def follow(self, session_id: str, code: str, shown: int | None) -> None:
        """Session ``session_id`` follows class ``code`` and shows its version ``shown``."""
        with self._lock:
            self._sessions[session_id] = (code, shown)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="cnnviz-class-followers", daemon=True)
                self._thread.start()

    def leave(self, session_id: str) -> None:
        """Session ``session_id`` no longer follows (it explores on its own, or left the class)."""
        with self._lock:
            self._sessions.pop(session_id, None)
            self._asked.pop(session_id, None)

    def check(self) -> None:
        """One round: wake every following session whose class moved on (or ended) since its page."""
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
            if not self._wake(session_id):
                self.leave(session_id)

    def _watch(self) -> None:
        while True:
            started = time.monotonic()
            try:
                self.check()
            except Exception:  # never let one bad round stop the class
                LOG.exception("waking the followers failed")
            time.sleep(max(0.0, WATCH_S - (time.monotonic() - started)))
