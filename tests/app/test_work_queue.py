"""The queue of heavy work: first come first served, positions and waits, leaving, cancelling a running job,
and page calls handed back to the session's thread."""

import threading
import time

import pytest

from cnnviz.explain.progress import Cancelled, report
from ui.work_queue import WorkQueue, on_session_thread, run_queued


def _held(gate: threading.Event, log: list, name: str):
    def compute(progress):
        log.append(f"start {name}")
        gate.wait(10)
        report(progress, 1, 1)  # raises Cancelled once the student has gone
        log.append(f"end {name}")
        return name

    return compute


def _until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_jobs_run_one_at_a_time_in_arrival_order_with_positions():
    queue, gate, log = WorkQueue(1, "test"), threading.Event(), []
    jobs = [queue.submit(_held(gate, log, name)) for name in "abc"]
    _until(lambda: log == ["start a"])
    assert [queue.position(job) for job in jobs] == [0, 1, 2]
    gate.set()
    assert [job.future.result(5) for job in jobs] == ["a", "b", "c"]
    assert log == ["start a", "end a", "start b", "end b", "start c", "end c"]
    assert queue.finished == 3


def test_wait_estimate_comes_from_finished_jobs():
    queue = WorkQueue(1, "test")
    queue.submit(lambda report: time.sleep(0.2)).future.result(5)
    gate, log = threading.Event(), []
    running = queue.submit(_held(gate, log, "running"))
    _until(lambda: log == ["start running"])
    first, second = queue.submit(lambda report: None), queue.submit(lambda report: None)
    assert 0.0 < queue.estimated_wait(first) < queue.estimated_wait(second)
    assert queue.estimated_wait(second) == pytest.approx(queue.estimated_wait(first) + 0.2, abs=0.05)
    gate.set()
    running.future.result(5)


def test_wait_is_unknown_until_a_job_reports_then_projected_from_its_progress():
    queue, gate, finish = WorkQueue(1, "test"), threading.Event(), threading.Event()
    reported = threading.Event()

    def halfway(report):
        report(0, 10)
        gate.wait(10)
        report(5, 10)
        reported.set()
        finish.wait(10)
        return "done"

    running = queue.submit(halfway)
    _until(lambda: running.started is not None)
    waiting = queue.submit(lambda report: None)
    assert queue.estimated_wait(waiting) is None  # nothing finished, nothing reported beyond 0 %
    time.sleep(0.3)
    gate.set()
    reported.wait(5)
    # half done after about 0.3 s: about 0.3 s left
    assert queue.estimated_wait(waiting) == pytest.approx(0.3, abs=0.15)
    finish.set()
    running.future.result(5)


def test_leaving_the_queue_drops_a_waiting_job_and_stops_a_running_one():
    queue, gate, log = WorkQueue(1, "test"), threading.Event(), []
    running = queue.submit(_held(gate, log, "running"))
    _until(lambda: log == ["start running"])
    waiting = queue.submit(_held(gate, log, "waiting"))
    queue.leave(waiting)
    queue.leave(running)
    gate.set()
    with pytest.raises(Cancelled):
        running.future.result(5)
    assert waiting.future.cancelled()
    time.sleep(0.1)
    assert log == ["start running"]  # the waiting job never started; the running one stopped at its report


def test_run_queued_reports_position_then_progress_and_relays_page_calls():
    from ui import work_queue

    queue = work_queue.queue_for("test-device")
    gate, log = threading.Event(), []
    blocker = queue.submit(_held(gate, log, "first"))
    _until(lambda: log == ["start first"])
    drawn, positions, progress = [], [], []
    draw = on_session_thread(lambda text: drawn.append((text, threading.current_thread().name)))

    def compute(report):
        draw("preview")
        report(3, 4)
        time.sleep(0.6)
        return 42

    threading.Timer(0.6, gate.set).start()
    result = run_queued("test-device", compute, lambda p, s: positions.append(p), lambda d, t: progress.append(d))
    assert result == 42
    assert blocker.future.result(5) == "first"
    assert positions and set(positions) == {1}
    assert 3 in progress
    assert drawn == [("preview", threading.current_thread().name)]  # drawn by the caller, not the worker


def test_an_exception_reaches_the_session_that_asked():
    def fails(report):
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        run_queued("test-errors", fails, lambda p, s: None, lambda d, t: None)


def test_an_interrupted_session_leaves_the_queue():
    """Streamlit interrupts the script thread by raising from the next page call: the job must go."""
    from ui import work_queue

    queue = work_queue.queue_for("test-interrupt")
    gate, log = threading.Event(), []
    queue.submit(_held(gate, log, "first"))
    _until(lambda: log == ["start first"])

    class StopPressed(Exception):
        pass

    def interrupted(position: int, seconds: float) -> None:
        raise StopPressed

    with pytest.raises(StopPressed):
        run_queued("test-interrupt", _held(gate, log, "second"), interrupted, lambda d, t: None)
    gate.set()
    _until(lambda: queue.finished >= 1)
    time.sleep(0.1)
    assert log == ["start first", "end first"]
