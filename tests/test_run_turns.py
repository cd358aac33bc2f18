"""Turns for page runs (ui/run_turns.py) on real threads: followers' runs one at a time, after the others' and
pausing between elements while another run goes on, at a lower scheduling priority; everyone else's at once.
(What the turns do to a class of a hundred on two replicas: bench/load_class.py.)"""

from __future__ import annotations

import inspect
import os
import sys
import threading
import time
from types import SimpleNamespace

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


@pytest.mark.skipif(sys.platform != "linux", reason="Linux schedules each thread with its own niceness")
def test_a_followers_run_yields_the_cores_and_every_other_run_keeps_them():
    turns = Turns(follower_runs=2, defer_s=0.0, follower_nice=7)
    raised: dict[str, int] = {}
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def one(name: str, follows: bool) -> None:
        thread = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, thread)
        with turns.nicer(follows), turns.run(follows):
            raised[name] = os.getpriority(os.PRIO_PROCESS, thread) - before
        raised[f"{name} after"] = os.getpriority(os.PRIO_PROCESS, thread) - before

    threads = [threading.Thread(target=one, args=(name, name == "follower")) for name in ("follower", "explorer")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert raised["follower"] == 7 and raised["explorer"] == 0 and raised["explorer after"] == 0
    # Lowering it back needs privilege (CI runs as root); elsewhere the run's thread keeps it until it ends.
    assert raised["follower after"] == (0 if os.geteuid() == 0 else 7)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own  # the test's own thread untouched
    with pytest.raises(ValueError):
        Turns(follower_nice=20)


def _explorer_running(turns: Turns, hold_s: float, ended: list[float]) -> threading.Thread:
    """Another session's run holding ``hold_s`` seconds, started (and in progress) on return."""
    started = threading.Event()

    def run() -> None:
        with turns.run(False):
            started.set()
            time.sleep(hold_s)
            ended.append(time.monotonic())

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(5.0)
    return thread


def test_a_followers_run_pauses_between_elements_while_another_run_goes_on():
    turns = Turns(defer_s=2.0)
    sent: list[tuple[str, float]] = []
    send = lambda message: sent.append((message, time.monotonic()))  # noqa: E731
    context = SimpleNamespace(_enqueue=send)  # Streamlit's script run context: each element's message
    ended: list[float] = []
    with turns.run(True), turns.between_elements(context):
        context._enqueue("heading")  # nobody else runs: sent at once
        assert inspect.unwrap(context._enqueue) is send  # the runner behind it stays reachable (ui.links)
        explorer = _explorer_running(turns, HOLD_S * 4, ended)
        context._enqueue("picture")  # waits until the explorer's run has ended
    explorer.join()
    assert [message for message, _ in sent] == ["heading", "picture"] and sent[1][1] >= ended[0]
    assert context._enqueue is send  # the context as it was, for the session's next run
    with turns.run(False), turns.between_elements(context):  # an explorer's own run never pauses
        context._enqueue("explorer's")
    assert sent[-1][0] == "explorer's"


def test_a_followers_run_pauses_for_at_most_the_deferral_in_all():
    turns = Turns(defer_s=HOLD_S)
    context = SimpleNamespace(_enqueue=lambda message: None)
    ended: list[float] = []
    with turns.run(True), turns.between_elements(context):
        explorer = _explorer_running(turns, 1.0, ended)
        began = time.monotonic()
        for _ in range(20):
            context._enqueue("element")
        assert time.monotonic() - began < 0.5 and not ended  # one deferral for the whole run, not one each
    explorer.join()


def test_waiting_followers_take_their_turns_in_the_order_they_came():
    """A turn that ends wakes the follower waiting longest, not all of them to race for it (a hundred woken at
    once would crowd the interpreter an explorer's run needs)."""
    turns = Turns(follower_runs=1, defer_s=0.0)
    order: list[int] = []
    release = threading.Event()

    def follower(number: int) -> None:
        with turns.run(True):
            order.append(number)
            if number == 0:
                release.wait(5.0)

    threads = []
    for number in range(8):
        threads.append(threading.Thread(target=follower, args=(number,)))
        threads[-1].start()
        time.sleep(0.02)  # each in the queue before the next comes
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert order == list(range(8))
