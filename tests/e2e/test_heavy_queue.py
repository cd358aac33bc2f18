"""The queue of heavy work on a real server, seen as students see it (Streamlit's own protocol, several
sessions at once): a second map waits with its place in the queue, Stop takes it out of the queue, and a
stopped running map frees the cores for the next student."""

from __future__ import annotations

import pytest

from cnnviz.streamlit_session import StreamlitSession

pytestmark = pytest.mark.e2e

RUN = "Compute the maps"


def _ask(server_url: str, stride: int, window: int = 32) -> StreamlitSession:
    """A new tab on the coffee photo's occlusion page that has pressed the button (not waiting for the end)."""
    tab = StreamlitSession(server_url, timeout_s=300)
    run = tab.open("occlusion", f"image=coffee&window={window}&stride={stride}")
    tab.press(run.button(RUN), wait=False)
    return tab


def _place(number: int):
    return lambda run: any(text.startswith(f"In the queue for heavy work: number {number}") for text in run.texts)


def test_maps_wait_their_turn_show_their_place_and_stop_leaves_the_queue(server_url):
    running = _ask(server_url, stride=4)  # 2,401 positions: long enough to hold the one slot
    running.read_until(lambda run: any(" of 2401 positions" in text for text in run.texts))

    second = _ask(server_url, stride=5)
    seen = second.read_until(_place(1))
    assert not any(" of 1849 positions" in text for text in seen.texts)  # it waits, it does not start
    third = _ask(server_url, stride=6)
    third.read_until(_place(2))

    second.stop_script()  # Stop while waiting: out of the queue
    fourth = _ask(server_url, stride=7)
    fourth.read_until(_place(2))  # behind the third only: the second has left

    for tab in (running, third, fourth):
        tab.stop_script()
        tab.close()
    second.close()

    # The stopped maps leave at their next poll or progress report, so a new map is at most behind the one
    # still stopping, and finishes long before the 2,401-position map could have (about 80 s on 2 cores).
    last = StreamlitSession(server_url, timeout_s=300)
    run = last.open("occlusion", "image=coffee&window=60&stride=30")
    run = last.press(run.button(RUN))
    assert any(text.startswith("**(a) Probability of") for text in run.texts), run.texts[-5:]
    assert not any(_place(number)(run) for number in (2, 3, 4))
    assert run.seconds < 40, f"the new map waited {run.seconds:.0f} s: a stopped map kept its slot"
    last.close()


def test_stop_takes_the_running_mark_out_of_the_link(server_url):
    """While a map computes the link says ``running=occlusion`` (a restart is then reported); after Stop the
    address bar no longer does, or a reload would report a lost computation that was only stopped."""
    tab = _ask(server_url, stride=9, window=48)  # settings no other test computes
    tab.read_until(lambda run: any(" of 400 positions" in text for text in run.texts))
    tab.stop_script()
    stopped = tab.finish()
    assert "image=coffee" in stopped.query_string and "running" not in stopped.query_string, stopped.query_string
    tab.close()
