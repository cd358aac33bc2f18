"""The shareable link: one validator for every query parameter, and the marker of unfinished work.

A link is untrusted input. Only known names are read (others are dropped from the address bar); integers
are ASCII digits only (``str.isdigit`` also accepts ``²`` and other scripts' digits), at most
:data:`MAX_DIGITS` long and within the setting's range; text values must be one of the setting's
choices. A bad value is dropped, the default is used and the page says so in a small notice that never
echoes the value (a link's text is not ours to show).

While heavy work runs, the link carries ``running=<task>``: if the server restarts mid-computation the
browser reconnects with it still there, and the new session says the result was lost.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import streamlit as st
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner.script_runner import ScriptRunnerEvent
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from ui.text import t

MAX_DIGITS = 7  # up to 9,999,999: the arithmetic page's channel counts reach a million
MAX_TEXT = 64
MAX_NAME = 80  # a library network's name: "timm:" and the longest of timm's names with its tag (61)
RUNNING = "running"
PREPARE = "prepare"  # the lecture's links for the Prepare box (ui.prepare)
_TASKS: set[str] = set()  # heavy work the pages declare (ui.pages); catalogue keys task.<name>
SIDEBAR = frozenset({"lang", "arch", "image"})  # the sidebar's settings, on every page
CLASS = frozenset({"class", "key", "teach"})  # class mode's (ui.class_mode): join, drive, start
STREAMLIT_OWN = frozenset({"embed", "embed_options"})  # Streamlit's own link options
_DIGITS = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")
_NOTICES = "_link_notices"


@dataclass(frozen=True)
class PageSettings:
    """The settings one page keeps in the link: ``fields`` maps each link name to the session-state key its
    value goes to; ``kept`` are the page's widget keys to keep while the page is not drawn (Streamlit drops
    a widget's state on the first run that does not draw it); ``moved`` names, for a field whose value the
    page moves on to its widget's key (a percentage become a share, a channel checked against its layer),
    that widget key."""

    page: str
    fields: dict[str, str]
    kept: tuple[str, ...]
    moved: dict[str, str] = field(default_factory=dict)

    def forget(self, present: Collection[str]) -> None:
        """Drop this session's values of the fields not in ``present`` (a lesson without them: the lecturer's
        defaults, not this student's last values), the moved ones' widget keys too."""
        for name, key in self.fields.items():
            if name not in present:
                st.session_state.pop(key, None)
                st.session_state.pop(self.moved.get(name, key), None)

    @property
    def read_flag(self) -> str:
        """The session key that says this page has read the link."""
        return f"_{self.page}_link_read"

    def read_once(self, parsers: dict[str, Callable[[str], Any]]) -> None:
        """Once per session: each field's link value, parsed by ``parsers[name]``, into its session key (a
        bad value is dropped with a notice)."""
        if st.session_state.get(self.read_flag):
            return
        st.session_state[self.read_flag] = True
        for name, key in self.fields.items():
            value = read(name, parsers[name])
            if value is not None:
                st.session_state[key] = value

    def write(self, values: dict[str, str | None]) -> None:
        """Put this page's ``values`` (by link name; None removes one) in the address bar."""
        unknown = set(values) - set(self.fields)
        if unknown:
            raise KeyError(f"{self.page} keeps no {sorted(unknown)} in the link")
        write(values)


_PAGES: dict[str, PageSettings] = {}


def page_settings(
    page: str, fields: dict[str, str], kept: tuple[str, ...] = (), moved: dict[str, str] | None = None
) -> PageSettings:
    """Declare (once, at import) the settings page ``page`` keeps in the link; see :class:`PageSettings`."""
    settings = PageSettings(page, dict(fields), tuple(kept) or tuple(fields.values()), dict(moved or {}))
    _PAGES[page] = settings
    return settings


def declare_tasks(tasks: tuple[str, ...]) -> None:
    """Name heavy work that may mark the link (``running=<task>``); done by each page's declaration."""
    _TASKS.update(tasks)


def known_names() -> frozenset[str]:
    """Every link name some part of the app reads: the sidebar's, class mode's, each declared page's, ``running``,
    ``prepare``."""
    return SIDEBAR | CLASS | {RUNNING, PREPARE} | {name for page in _PAGES.values() for name in page.fields}


def read_again() -> None:
    """Let every page read its settings from the link once more (a followed lesson put new ones there)."""
    for page in _PAGES.values():
        st.session_state.pop(page.read_flag, None)


def keep(keys: Iterable[str]) -> None:
    """Re-assign the widget state of ``keys``: Streamlit then keeps a value through a run that does not draw
    its widget, or that draws it under another label (a language switch translates its options)."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def keep_page_settings() -> None:
    """Re-assign every declared page's widget state, so a page not drawn in this run keeps its settings."""
    for page in _PAGES.values():
        keep(page.kept)


def integer(low: int, high: int) -> Callable[[str], int]:
    """A parser for whole numbers from ``low`` to ``high``, written in ASCII digits."""

    def parse(text: str) -> int:
        if not _DIGITS.fullmatch(text):
            raise ValueError("not a short ASCII number")
        value = int(text)
        if not low <= value <= high:
            raise ValueError("out of range")
        return value

    return parse


def stepped(low: int, high: int, step: int) -> Callable[[str], int]:
    """A parser for whole numbers from ``low`` to ``high`` on the ``step`` grid (a slider's stops)."""
    within = integer(low, high)

    def parse(text: str) -> int:
        value = within(text)
        if (value - low) % step:
            raise ValueError("between the steps")
        return value

    return parse


def share(low: int, high: int, step: int) -> Callable[[str], float]:
    """A parser for a share the link writes as a whole percentage (:func:`percent`) from ``low`` to ``high`` %
    on the ``step`` grid: ``"30"`` is 0.3."""
    stops = stepped(low, high, step)
    return lambda text: stops(text) / 100


def percent(value: float) -> str:
    """A share as the link writes it, a whole percentage: 0.3 is ``"30"``."""
    return str(round(value * 100))


def choice(options: Collection[str]) -> Callable[[str], str]:
    """A parser for one of ``options``."""

    def parse(text: str) -> str:
        if len(text) > MAX_TEXT or text not in options:
            raise ValueError("not one of the choices")
        return text

    return parse


def number_choice(options: Collection[float]) -> Callable[[str], float]:
    """A parser for one of the numbers ``options`` (a select slider's stops), as the link writes them (``str``)."""
    by_text = {str(option): option for option in options}
    pick = choice(by_text)
    return lambda text: by_text[pick(text)]


NONE = "none"  # a list setting's value when nothing is chosen (an empty value would read as a missing one)


def listed(items: Collection[str]) -> str:
    """A list setting's value: ``items`` comma-separated, or :data:`NONE`."""
    return ",".join(items) or NONE


def choices(options: Collection[str]) -> Callable[[str], list[str]]:
    """A parser for a comma-separated list of distinct ``options`` (all of them fit), or :data:`NONE` for none
    of them, as :func:`listed` writes it."""
    longest = len(",".join(options))

    def parse(text: str) -> list[str]:
        if text == NONE and NONE not in options:
            return []
        items = text.split(",")
        if len(text) > longest or not all(item in options for item in items) or len(set(items)) < len(items):
            raise ValueError("not a list of the choices")
        return items

    return parse


def architecture(text: str) -> str:
    """A parser for a network: a zoo name, or a torchvision or timm classifier cnnviz opens
    (``timm:resnet18`` is read as the name the sidebar lists, ``timm:resnet18.a1_in1k``)."""
    import cnnviz
    from cnnviz.models.library import canonical_name, is_library_name

    if len(text) <= MAX_TEXT and text in cnnviz.ARCHITECTURES:
        return text
    if len(text) > MAX_NAME or not is_library_name(text):
        raise ValueError("not a network cnnviz opens")
    try:
        return canonical_name(text)
    except cnnviz.CnnvizError:
        raise ValueError("not a network cnnviz opens") from None


def flag(text: str) -> bool:
    """``"1"`` / ``"0"`` as True / False."""
    if text not in ("0", "1"):
        raise ValueError("not 0 or 1")
    return text == "1"


def parse(name: str, text: str, parser: Callable[[str], Any]) -> Any:
    """``text`` parsed for the setting ``name``; ValueError for an unknown name or a bad value."""
    if name not in known_names():
        raise ValueError("unknown setting")
    return parser(text)


def read(name: str, parser: Callable[[str], Any]) -> Any | None:
    """The link's value of ``name`` parsed, or None when absent or bad (then dropped, with a notice)."""
    if name not in st.query_params:
        return None
    try:
        return parse(name, st.query_params[name], parser)
    except ValueError:
        drop_bad(name)
        return None


def drop_bad(name: str) -> None:
    """Drop the link's value of ``name``, with a notice: one :func:`read` refused, or one that does not fit
    what the page found (a channel the layer does not have)."""
    if name in st.query_params:
        del st.query_params[name]
    notice("link.bad_value", name=name)


def check_names() -> None:
    """Drop the link's unknown settings, with a notice."""
    unknown = [name for name in st.query_params if name not in known_names() | STREAMLIT_OWN]
    for name in unknown:
        del st.query_params[name]
    if unknown:
        notice("link.unknown", count=len(unknown))


WRITTEN = "_link_written"
_AFTER_WRITE: list[Callable[[], None]] = []  # told after each write (class mode publishes a lecturer's link)


def after_write(hook: Callable[[], None]) -> None:
    """Call ``hook`` after every :func:`write` (registered once, at import)."""
    if hook not in _AFTER_WRITE:
        _AFTER_WRITE.append(hook)


def write(values: dict[str, str | None]) -> None:
    """Put ``values`` in the address bar (None removes a setting); unchanged ones are not re-sent. What the
    app wrote is also kept in the session (:func:`written`): the address bar a rerun reports comes from the
    browser and may lag behind it."""
    st.session_state.setdefault(WRITTEN, {}).update(values)
    for name, value in values.items():
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != value:
            st.query_params[name] = value
    for hook in _AFTER_WRITE:
        hook()


def written() -> dict[str, str]:
    """The link as the app last wrote it in this session, name by name (removed settings left out)."""
    return {name: value for name, value in st.session_state.get(WRITTEN, {}).items() if value is not None}


def note_lost_computation() -> None:
    """On a session's first run: a ``running`` marker left in the link means a computation was lost."""
    task = read(RUNNING, choice(tuple(sorted(_TASKS))))
    if RUNNING in st.query_params:
        del st.query_params[RUNNING]
    if task is not None:
        notice("link.lost", task=task)


@contextmanager
def running(task: str) -> Iterator[None]:
    """Mark the link while ``task`` computes, so a restart in the middle is reported on reconnection; the
    mark leaves the link when the work ends, fails or is stopped. ``task`` is one a page declared."""
    if task not in _TASKS:
        raise KeyError(f"no page declares the task {task!r}")
    st.query_params[RUNNING] = task
    try:
        yield
    finally:
        _unmark()


def _unmark() -> None:
    """Remove ``running`` from the address bar. After Stop, Streamlit answers every further use of
    ``st.query_params`` in the run with another StopException (it stays stopped until the run ends), so
    the address bar would keep the mark; the query string without it is then handed to the session
    directly, as ``st.query_params`` does but without its stop check. No public Streamlit call does this
    (1.67)."""
    try:
        if RUNNING in st.query_params:
            del st.query_params[RUNNING]
    except StopException:
        ctx = get_script_run_ctx()
        runner = getattr(inspect.unwrap(getattr(ctx, "_enqueue", None)), "__self__", None)  # under ui.run_turns' pacing
        if runner is not None:
            kept = [(name, value) for name, value in parse_qsl(ctx.query_string, True) if name != RUNNING]
            message = ForwardMsg()
            message.page_info_changed.query_string = ctx.query_string = urlencode(kept)
            runner.on_event.send(runner, event=ScriptRunnerEvent.ENQUEUE_FORWARD_MSG, forward_msg=message)
        raise


def notice(key: str, **values) -> None:
    """Say ``t(key, **values)`` once, where the page draws the link's notices."""
    st.session_state.setdefault(_NOTICES, []).append((key, values))


def show_notices() -> None:
    """Draw the pending link notices (each once) as small captions."""
    for key, values in st.session_state.pop(_NOTICES, []):
        if key == "link.lost":
            st.warning(t(key, task=t(f"task.{values['task']}")), icon=":material/restart_alt:")
        elif key.startswith("classroom."):
            st.info(t(key, **values), icon=":material/school:")
        else:
            st.caption(f":material/link_off: {t(key, **values)}")
