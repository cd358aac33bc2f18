"""The one progress-and-cancel contract of every explanation method and lab.

A method that takes ``progress`` calls it as ``progress(done, total)`` (units of work: positions, images,
integration steps, draws) after each unit or batch of units, and at least once at the end; when the
callback returns ``False`` the method stops at that point and raises :class:`Cancelled`.
"""

from __future__ import annotations

from collections.abc import Callable

from cnnviz.errors import CnnvizError

Progress = Callable[[int, int], bool | None]


class Cancelled(CnnvizError):
    """The progress callback asked to stop."""


def report(progress: Progress | None, done: int, total: int) -> None:
    """Tell ``progress`` that ``done`` of ``total`` units are finished; :class:`Cancelled` if it says stop."""
    if progress is not None and progress(done, total) is False:
        raise Cancelled("cancelled", done=done, total=total)
