"""A Streamlit session without a browser: Streamlit's own websocket protocol (the ``BackMsg`` / ``ForwardMsg``
protobufs of ``streamlit.proto``) over ``websocket-client``, so a load run measures the server, not browsers.

One :class:`StreamlitSession` is one browser tab: it opens ``/_stcore/stream`` (through nginx too, with the
proxy's affinity cookie), asks for a script run of a page with a query string, collects the elements the
run sends (markdown, alerts, buttons, images, exceptions) until ``script_finished``, and can press a button
(a rerun carrying that widget's trigger). Like a browser it keeps the page and the address the server last
set (a ``st.switch_page``, a query-string write) for its next rerun, and the fragments that asked to be rerun
every few seconds (``st.fragment(run_every=…)``), which :meth:`StreamlitSession.poll` reruns; it reads the runs
the server starts by itself (:meth:`StreamlitSession.listen`). It fetches the images a run refers to, as a
browser would, since serving them is part of the server's work. It renders nothing, so a hundred sessions fit
on two cores. The load benchmarks use it, and ``cnnviz warm`` drives a server's Prepare box with it
(:mod:`cnnviz.warm`). It needs the app's packages (``streamlit``, ``websocket-client``).

Written here because no maintained Python client for Streamlit's protocol exists (Streamlit's own
``AppTest`` runs the script in-process, without a server).
"""

from __future__ import annotations

import re
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from urllib.parse import urlsplit

import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

_TOP1 = re.compile(r"^1\. \*\*(.+?)\*\* — ")


class ProtocolError(RuntimeError):
    """The server closed the session, timed out, or answered something a browser would show as broken."""


@dataclass
class Button:
    id: str
    label: str
    form_id: str


@dataclass
class ScriptRun:
    """What one script run sent: element texts in order, the buttons, image URLs, exceptions, and the
    seconds from the request to ``script_finished``."""

    texts: list[str] = field(default_factory=list)
    alerts: list[tuple[str, str]] = field(default_factory=list)  # (success | info | warning | error, text)
    buttons: list[Button] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    seconds: float = 0.0
    query_string: str = ""
    bytes_received: int = 0

    def button(self, label: str) -> Button:
        for button in self.buttons:
            if button.label == label:
                return button
        raise ProtocolError(f"no button {label!r} in {[b.label for b in self.buttons]}")

    def predict_top1(self) -> str | None:
        """The top-1 label of a Predict page run (its ranked list: ``1. **label** — 95.1%``), or None."""
        return next((m.group(1) for text in self.texts if (m := _TOP1.match(text))), None)


class StreamlitSession:
    """One tab of the app at ``base_url`` (``http://host:port``)."""

    def __init__(self, base_url: str, timeout_s: float = 600, on_text=None) -> None:
        """``on_text(text)`` is told every text as it arrives (a progress bar's, a caption's…)."""
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.on_text = on_text
        self.cookies = CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.replica: str | None = None  # the proxy's X-Cnnviz-Replica header, when there is a proxy
        self.session_id: str | None = None
        self._socket: websocket.WebSocket | None = None
        self._page = ""
        self._query = ""
        self._page_hash = ""  # the page the server last ran (new_session), for fragment reruns
        self.auto_reruns: dict[str, float] = {}  # fragment id → seconds between its reruns

    def http_get(self, path: str) -> bytes:
        """GET ``path`` with this tab's cookies (the first one gives the proxy's affinity cookie)."""
        with self._opener.open(f"{self.base_url}{path}", timeout=self.timeout_s) as reply:
            self.replica = reply.headers.get("X-Cnnviz-Replica", self.replica)
            return reply.read()

    def connect(self) -> None:
        """What a browser does on a new tab: the page itself (cookies), then the websocket."""
        self.http_get("/_stcore/health")
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        try:
            self._socket = websocket.create_connection(
                f"{scheme}://{parts.netloc}/_stcore/stream",
                timeout=self.timeout_s,
                subprotocols=["streamlit"],
                cookie=cookie or None,
            )
        except websocket.WebSocketException as exc:
            raise ProtocolError(f"websocket handshake: {type(exc).__name__}: {exc}") from exc
        self.replica = self._socket.getheaders().get("x-cnnviz-replica", self.replica)

    def close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            finally:
                self._socket = None

    def open(self, page: str = "", query: str = "") -> ScriptRun:
        """A run of ``page`` (its url path; "" is the default page) with ``query`` (``a=1&b=2``), as when a
        student opens a link."""
        if self._socket is None:
            self.connect()
        self._page, self._query, self._page_hash = page, query, ""
        return self._rerun([])

    @property
    def query_string(self) -> str:
        """The address bar's query, as the server last set it."""
        return self._query

    def listen(self, timeout_s: float) -> ScriptRun | None:
        """A run the server starts by itself (a follower woken by its class), read to its end; None when none
        starts within ``timeout_s`` seconds."""
        self._socket.settimeout(timeout_s)
        try:
            data = self._socket.recv()
        except websocket.WebSocketTimeoutException:
            return None
        except (websocket.WebSocketException, OSError) as exc:
            raise ProtocolError(f"websocket: {type(exc).__name__}: {exc}") from exc
        finally:
            self._socket.settimeout(self.timeout_s)
        return self._collect(first=data)

    @property
    def page_hash(self) -> str:
        """The page the server last ran for this tab (its script hash; "" before the first run)."""
        return self._page_hash

    def poll(self) -> ScriptRun | None:
        """What the browser does when a ``run_every`` fragment's time comes: rerun that fragment (the first
        one the server asked for), and read until the run, or the full run it turned into, finishes."""
        if not self.auto_reruns:
            return None
        return self._rerun([], fragment_id=next(iter(self.auto_reruns)))

    def press(self, button: Button, wait: bool = True) -> ScriptRun | None:
        """The rerun a click on ``button`` asks for (its trigger set, every other widget at its value); with
        ``wait`` False it returns at once, and :meth:`read_until` reads the run."""
        state = WidgetState(id=button.id, trigger_value=True)
        return self._rerun([state], wait)

    def stop_script(self) -> None:
        """What the Stop button in the page's status area sends."""
        self._send(BackMsg(stop_script=True))

    def finish(self, timeout_s: float = 120) -> ScriptRun:
        """Elements of the run in progress until it finishes (after Stop, say)."""
        return self._collect(until=None, timeout_s=timeout_s)

    def read_until(self, condition, timeout_s: float = 120) -> ScriptRun:
        """Elements of the run in progress until ``condition(run)`` holds (ProtocolError after ``timeout_s``
        or if the run finishes first)."""
        run = self._collect(until=condition, timeout_s=timeout_s)
        if not condition(run):
            raise ProtocolError(f"the run finished without the awaited element: {run.texts[-3:]}")
        return run

    def _send(self, message: BackMsg) -> None:
        try:
            self._socket.send_binary(message.SerializeToString())
        except (websocket.WebSocketException, OSError) as exc:
            raise ProtocolError(f"websocket: {type(exc).__name__}: {exc}") from exc

    def _rerun(self, widgets: list[WidgetState], wait: bool = True, fragment_id: str = "") -> ScriptRun | None:
        message = BackMsg()
        message.rerun_script.query_string = self._query
        message.rerun_script.page_name = self._page
        message.rerun_script.page_script_hash = self._page_hash  # after a switch_page, the page it switched to
        message.rerun_script.widget_states.widgets.extend(widgets)
        message.rerun_script.fragment_id = fragment_id  # a run_every fragment's own rerun
        message.rerun_script.is_auto_rerun = bool(fragment_id)
        start = time.perf_counter()
        self._send(message)
        if not wait:
            return None
        run = self._collect()
        run.seconds = time.perf_counter() - start
        for url in run.images:
            self.http_get(url if url.startswith("/") else f"/{url}")
        return run

    def _collect(self, until=None, timeout_s: float | None = None, first: bytes | None = None) -> ScriptRun:
        run = ScriptRun()
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while time.monotonic() < deadline:
            try:
                data, first = (first, None) if first is not None else (self._socket.recv(), None)
            except (websocket.WebSocketException, OSError) as exc:
                raise ProtocolError(f"websocket: {type(exc).__name__}: {exc}") from exc
            if isinstance(data, str) or not data:
                continue
            run.bytes_received += len(data)
            message = ForwardMsg()
            message.ParseFromString(data)
            kind = message.WhichOneof("type")
            if kind == "new_session":
                self.session_id = message.new_session.initialize.session_id or self.session_id
                self._page_hash = message.new_session.page_script_hash
            elif kind == "page_info_changed":
                run.query_string = self._query = message.page_info_changed.query_string
            elif kind == "navigation":  # the page st.navigation resolved (new_session names the main script)
                self._page_hash = message.navigation.page_script_hash or self._page_hash
            elif kind == "auto_rerun":
                self.auto_reruns[message.auto_rerun.fragment_id] = message.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fragment in message.stop_auto_rerun.fragment_ids:
                    self.auto_reruns.pop(fragment, None)
            elif kind == "delta":
                seen = len(run.texts)
                _read_delta(message.delta, run)
                if self.on_text is not None:
                    for text in run.texts[seen:]:
                        self.on_text(text)
                if until is not None and until(run):
                    return run
            elif kind == "page_not_found":
                raise ProtocolError(f"page not found: {self._page!r}")
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue  # the app asked for a rerun (st.rerun, a query-string write): keep reading
                return run
        raise ProtocolError(f"no script_finished within {timeout_s or self.timeout_s:.0f} s")


def _read_delta(delta, run: ScriptRun) -> None:
    if delta.WhichOneof("type") != "new_element":
        return
    element = delta.new_element
    kind = element.WhichOneof("type")
    if kind == "markdown":
        run.texts.append(element.markdown.body)
    elif kind == "progress":
        run.texts.append(element.progress.text)
    elif kind == "alert":
        run.texts.append(element.alert.body)
        run.alerts.append((element.alert.Format.Name(element.alert.format).lower(), element.alert.body))
    elif kind == "heading":
        run.texts.append(element.heading.body)
    elif kind == "button":
        run.buttons.append(Button(element.button.id, element.button.label, element.button.form_id))
    elif kind == "imgs":
        run.images.extend(image.url for image in element.imgs.imgs if image.url.startswith(("/", "media")))
    elif kind == "exception":
        run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
