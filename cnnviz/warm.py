"""``cnnviz warm LINKS.txt --url http://server``: a lecture's links prepared on the server before class.

The server does the work, so its results land in its own shared cache (and, behind nginx, in the replicas'
Redis): the command opens the app at ``--url`` as a browser tab would, over Streamlit's protocol
(:mod:`cnnviz.streamlit_session`), with the links in the ``prepare`` link setting, which fills the app's
Prepare box (``ui/prepare.py``), presses its button and prints the box's progress and its line per link as
they come. The same limits hold as in the box: at most :data:`MAX_LINKS` links of :data:`MAX_LINE`
characters.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from cnnviz.errors import CnnvizError

MAX_LINKS = 40  # links in one preparation
MAX_LINE = 2000  # characters of one link
MAX_FILE_BYTES = MAX_LINKS * (MAX_LINE + 1) * 2  # room for comments and blank lines
BUTTON_KEY = "prepare_run"  # the Prepare box's button (its widget id ends with the key)


@dataclass(frozen=True)
class Warmed:
    """What the server said: every text it sent after the button was pressed, and whether the preparation
    ended in success (no link refused, no error)."""

    texts: list[str]
    succeeded: bool


def read_links(path: str) -> str:
    """The text of the links file at ``path`` (``-``: standard input), at most :data:`MAX_FILE_BYTES`."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with Path(path).open("rb") as file:
                data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CnnvizError("warm_unreadable", path=path[:200], reason=type(exc).__name__) from None
    if len(data) > MAX_FILE_BYTES:
        raise CnnvizError("warm_too_big", most=MAX_FILE_BYTES // 1024)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CnnvizError("warm_not_text") from None


def server_url(text: str) -> str:
    """``text`` as the server's base address (``http(s)://host[:port][/path]``)."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(text) > MAX_LINE:
        raise CnnvizError("warm_url")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def warm(url: str, links: str, timeout_s: float, echo: Callable[[str], None] = print) -> Warmed:
    """Prepare ``links`` (one per line) on the server at ``url``; ``echo`` is told each text as it arrives."""
    try:
        from cnnviz.streamlit_session import ProtocolError, StreamlitSession
    except ImportError as exc:  # installed without the app's extra (websocket-client, Streamlit's protocol)
        raise CnnvizError("warm_needs_app", module=exc.name or str(exc)) from None

    session = StreamlitSession(server_url(url), timeout_s=timeout_s)
    try:
        opened = session.open("", urlencode({"lang": "en", "prepare": links}))
        button = next((b for b in opened.buttons if b.id.endswith(BUTTON_KEY)), None)
        if button is None:
            raise CnnvizError("warm_no_box")
        already = set(opened.texts)  # the sidebar, the box's intro and the page: sent again, not echoed
        session.on_text = lambda text: None if text in already else echo(text)
        run = session.press(button)
    except (ProtocolError, OSError) as exc:
        raise CnnvizError("warm_server", url=server_url(url), reason=str(exc)[:200]) from None
    finally:
        session.close()
    kinds = {kind for kind, _ in run.alerts}
    return Warmed(run.texts, "success" in kinds and not kinds & {"warning", "error"} and not run.exceptions)
