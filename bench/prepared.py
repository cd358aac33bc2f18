"""A prepared link against the same link unprepared, on a real server: how long a student's tab waits for a
lecture's occlusion map (VGG-16, the gallery's cat, window 32, stride 12: 289 positions, by default; a
2-core server allows VGG-16 at most 323 positions, so stride 8's 625 are refused there).

One ``streamlit run app.py`` on the CPU. First the map unprepared: a fresh tab opens the link and presses the
page's button, as in class without preparation; the wait runs from the press to the end of the run that shows
the maps. Then the server is restarted (an empty cache), ``cnnviz warm`` prepares the link from a terminal,
and ``--tabs`` fresh tabs open it one after the other, each timed from the request to the end of its run (its
pictures fetched), as a student's browser does. Goal: the prepared link answers within 1 s.

Usage: ``python -m bench.prepared [--arch vgg16] [--stride 12] [--tabs 5] [--markdown]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import markdown
from cnnviz.streamlit_session import StreamlitSession
from harness.servers import free_port, start_streamlit

GOAL_S = 1.0
MAPS = "**(a) Probability of"


def _server(log_dir: Path, name: str):
    port = free_port()
    log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 (closed with the server)
    return start_streamlit("app.py", port, log), f"http://127.0.0.1:{port}", log


def _stop(process, log) -> None:
    process.terminate()
    process.wait(timeout=30)
    log.close()


def unprepared(url: str, query: str) -> float:
    """Seconds from pressing the button to the maps, on a fresh tab."""
    tab = StreamlitSession(url, timeout_s=1800)
    opened = tab.open("occlusion", query)
    run = tab.press(opened.button("Compute the maps"))
    tab.close()
    if not any(text.startswith(MAPS) for text in run.texts):
        raise RuntimeError(f"no maps after the press: {run.texts[-3:]}")
    return run.seconds


def prepared(url: str, query: str, tabs: int) -> tuple[float, list[float]]:
    """Seconds ``cnnviz warm`` took, and each fresh tab's seconds to the maps afterwards."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as links:
        links.write(f"{url}/occlusion?{query}\n")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cnnviz", "warm", links.name, "--url", url], check=True, capture_output=True)
    warm_s = time.perf_counter() - start
    seconds = []
    for _ in range(tabs):
        tab = StreamlitSession(url, timeout_s=120)
        run = tab.open("occlusion", query)
        tab.close()
        if not any(text.startswith(MAPS) for text in run.texts):
            raise RuntimeError(f"the prepared link shows no maps: {run.texts[-3:]}")
        seconds.append(run.seconds)
    return warm_s, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="vgg16")
    parser.add_argument("--image", default="chelsea")
    parser.add_argument("--stride", type=int, default=12)
    parser.add_argument("--tabs", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    query = f"arch={args.arch}&image={args.image}&window=32&stride={args.stride}&lang=en"
    logs = Path(tempfile.mkdtemp(prefix="cnnviz-prepared-"))
    process, url, log = _server(logs, "unprepared")
    try:
        StreamlitSession(url, timeout_s=600).open("occlusion", query)  # the network loaded, as in class
        cold = unprepared(url, query)
    finally:
        _stop(process, log)
    process, url, log = _server(logs, "prepared")
    try:
        warm_s, opened = prepared(url, query, args.tabs)
    finally:
        _stop(process, log)
    rows = [
        ("unprepared: press to maps", f"{cold:.2f}", ""),
        ("cnnviz warm (the terminal's whole command)", f"{warm_s:.2f}", ""),
        (f"prepared: open to maps, median of {len(opened)} fresh tabs", f"{statistics.median(opened):.2f}", GOAL_S),
        ("prepared: slowest tab", f"{max(opened):.2f}", GOAL_S),
    ]
    if args.markdown:
        print(markdown(("what", "seconds", "goal (s)"), rows))
    else:
        for row in rows:
            print(" · ".join(map(str, row)))


if __name__ == "__main__":
    main()
