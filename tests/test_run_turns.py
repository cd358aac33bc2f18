"""Turns for page runs (ui/run_turns.py) on real threads: followers' runs one at a time and after the others',
everyone else's at once. (What the turns do to a class of a hundred on two replicas: bench/load_class.py.)"""

from __future__ import annotations

import threading
import time

import pytest

from ui.run_turns import Turns

HOLD_S = 0.05


def _runs(turns: Turns, following: list[bool]) -> int:
    """Start one thread per run, each holding its turn HOLD_S; the most followers' runs seen at once."""
    most = 0
    lock = threading.Lock()

    def one(follows: bool) -> None:
        nonlocal most
        with turns.run(follows):
            with lock:
                most = max(most, turns.in_progress()[0])
            time.sleep(HOLD_S)

    threads = [threading.Thread(target=one, args=(f,)) for f in following]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert turns.in_progress() == (0, 0)
    return most


@pytest.mark.parametrize("at_once", [1, 2])
def test_followers_run_at_most_so_many_at_once(at_once):
    assert _runs(Turns(follower_runs=at_once, defer_s=0.0), [True] * 6) == at_once


def _follower(turns: Turns) -> tuple[threading.Thread, threading.Event]:
    """A follower's run on its own thread, started now; the event is set once it has its turn."""
    entered = threading.Event()

    def run() -> None:
        with turns.run(True):
            entered.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, entered


def test_a_followers_run_gives_way_to_another_sessions_run_until_it_ends():
    turns = Turns(follower_runs=1, defer_s=5.0)
    with turns.run(False):
        thread, entered = _follower(turns)
        assert not entered.wait(0.2)  # an explorer's run is in progress: the follower waits
    assert entered.wait(2.0)  # and starts as soon as it ends
    thread.join()


def test_a_follower_gives_way_for_at_most_the_deferral():
    turns = Turns(follower_runs=1, defer_s=0.2)
    with turns.run(False):
        started = time.monotonic()
        thread, entered = _follower(turns)
        assert entered.wait(5.0)  # the other run is still going, the follower no longer waits for it
        assert time.monotonic() - started >= 0.19
    thread.join()


def test_other_runs_never_wait_and_a_failed_run_gives_its_turn_back():
    turns = Turns(follower_runs=1, defer_s=0.0)
    with turns.run(True), turns.run(False), turns.run(False):  # an explorer and the lecturer beside a follower
        assert turns.in_progress() == (1, 2)
    with pytest.raises(RuntimeError), turns.run(True):
        raise RuntimeError("the run stopped")
    assert turns.in_progress() == (0, 0)
    assert _runs(turns, [True, True]) == 1


def test_nonsense_limits_are_refused():
    for follower_runs, defer_s in ((0, 0.5), (1, -1.0)):
        with pytest.raises(ValueError):
            Turns(follower_runs, defer_s)


def test_a_follower_waiting_for_heavy_work_lets_the_next_follower_run_then_takes_its_turn_back():
    turns = Turns(follower_runs=1, defer_s=0.0)
    entered, computed = threading.Event(), threading.Event()

    def next_follower() -> None:
        with turns.run(True):
            entered.set()
            computed.wait(5.0)

    with turns.run(True):
        thread = threading.Thread(target=next_follower)
        thread.start()
        assert not entered.wait(0.2)  # one follower's run at a time
        with turns.set_aside():  # the first waits for a computation: the next one's turn
            assert entered.wait(2.0)
            computed.set()
        assert turns.in_progress() == (1, 0)  # its turn taken back once the other's run ended
    thread.join()
    with turns.set_aside():  # outside a follower's run: nothing to give
        assert turns.in_progress() == (0, 0)
