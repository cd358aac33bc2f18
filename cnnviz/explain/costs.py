"""Measured occlusion cost: seconds per occluded position, per model, device, method, window and input side,
kept for the life of the process (a server learns its own speed; nothing is assumed from other machines).

Every finished map and every probe batch records its figure; the page turns them into a waiting time
before the button, and ``method="auto"`` picks the cheaper method with them.
"""

from __future__ import annotations

import threading

from cnnviz.models.loading import LoadedModel

_COSTS: dict[tuple, float] = {}
_LOCK = threading.Lock()


def cost_key(net: LoadedModel, method: str, window: int, side: int) -> tuple:
    """What a cost depends on (weights do not change it)."""
    return (net.spec.name, str(net.device), method, window, side)


def record(key: tuple, seconds: float, positions: int) -> None:
    """Remember ``seconds`` for ``positions`` occluded positions (the latest figure wins)."""
    if positions > 0:
        with _LOCK:
            _COSTS[key] = seconds / positions


def per_position(key: tuple) -> float | None:
    """Seconds per position last measured for ``key``, or None."""
    with _LOCK:
        return _COSTS.get(key)


def figures() -> dict[tuple, float]:
    """Every figure measured so far: key → seconds per position."""
    with _LOCK:
        return dict(_COSTS)


def forget() -> None:
    """Drop every figure (for tests)."""
    with _LOCK:
        _COSTS.clear()
