"""A class at once, measured at the server: Locust users that speak Streamlit's websocket protocol
(``cnnviz/streamlit_session.py``) against one ``streamlit run app.py`` (or any URL, e.g. nginx in front of
replicas), so a hundred sessions fit on two cores beside the server.

Each simulated student gets a gallery photo (six in turn) and, until the round ends, repeats with a think
time of 10–20 s between actions:

- ``predict`` (3 in 4 actions): opens the Predict page on the photo (a new tab: connect, script run,
  the images the run refers to) and reads the top-1 label from the markdown the run sent; it must be
  the class the default model gives that photo (checked in this process with ``cnnviz.predict``);
- ``lecturer link`` (1 in 4): opens the lecturer's occlusion link (one map for the whole class, window 64,
  stride 32, a new target stride per round so the first press computes) and presses the button; done when
  map (a)'s title arrives.

Students arrive evenly over ``--ramp`` seconds (30). A round lasts ``--ramp + --steady`` seconds; latencies
count from the end of the ramp. ``--queued-maps K`` adds K sessions that each ask for a different
occlusion map (window 32, strides 8–17: 625–144 positions) at the start of the round, as in a class where
ten students press at once: heavy work then waits in the server's queue while predictions go on
(``--predict-only`` leaves the lecturer link out, so every student keeps predicting).

Per round one JSON object (``--json``): ``sessions``, ``predict_p50_s``, ``predict_p95_s``, ``predicts``,
``predicts_unfinished`` (still waiting when the round ended; counted with the time waited so far),
``lecturer_p50_s`` / ``_p95_s``, ``errors`` (with examples), ``server_cpu_share`` (CPU seconds of the
server over the round's wall time × cores), ``server_rss_mib``, ``loader_cpu_share`` (this process's own,
on the same cores when the server is local) and ``queued_maps_done``.

Usage: ``python -m bench.load --sessions 10 25 50 100 [--ramp 30] [--steady 90] [--queued-maps 10]
[--url http://127.0.0.1:8080] [--json]``. Without ``--url`` it starts the server itself (CPU, the default
model) and stops it afterwards.
"""

from __future__ import annotations

import gevent.monkey  # Locust patches the standard library; it must come before anything else)

gevent.monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

if __package__ in (None, ""):  # run as a file (python bench/x.py): the checkout's own packages come from its root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gevent  # noqa: E402
from locust import User, between, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from cnnviz.streamlit_session import ProtocolError, StreamlitSession  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "camera", "coins")
RUN_BUTTON = "Compute the maps"
REQUEST_TIMEOUT_S = 300  # a page that has not answered in 5 min counts as an error


class Round:
    """What the students of one round measured."""

    def __init__(self, labels: dict[str, str], lecturer_stride: int) -> None:
        self.labels = labels
        self.lecturer_stride = lecturer_stride
        self.measuring_from = float("inf")
        self.latencies: dict[str, list[float]] = {"predict": [], "lecturer link": [], "queued map": []}
        self.errors: list[str] = []
        self.in_flight: dict[int, tuple[str, float]] = {}
        self._tokens = itertools.count()
        self.unfinished: dict[str, int] = {"predict": 0, "lecturer link": 0, "queued map": 0}

    def begin(self, name: str) -> tuple[int, float]:
        started = time.perf_counter()
        token = next(self._tokens)
        self.in_flight[token] = (name, started)
        return token, started

    def record(self, token: int, seconds: float) -> None:
        if token not in self.in_flight:
            return  # finished after the round closed
        name, started = self.in_flight.pop(token)
        if started >= self.measuring_from or name == "queued map":
            self.latencies[name].append(seconds)

    def forget(self, token: int) -> None:
        self.in_flight.pop(token, None)

    def close(self) -> None:
        """Requests still waiting when the round ends count with the time they have waited so far (a lower
        bound): leaving them out would keep exactly the slowest ones out of the percentiles."""
        now = time.perf_counter()
        for name, started in self.in_flight.values():
            if started >= self.measuring_from or name == "queued map":
                self.latencies[name].append(now - started)
                self.unfinished[name] += 1
        self.in_flight.clear()


CURRENT: Round | None = None


class Student(User):
    """One student's browser tab, speaking Streamlit's protocol."""

    wait_time = between(10, 20)
    count = 0

    def on_start(self) -> None:
        Student.count += 1
        self.photo = PHOTOS[Student.count % len(PHOTOS)]
        self.tab = StreamlitSession(self.host, timeout_s=REQUEST_TIMEOUT_S)

    def on_stop(self) -> None:
        self.tab.close()

    @task(3)
    def predict(self) -> None:
        token, started = CURRENT.begin("predict")
        try:
            self.tab.close()  # a new page load: the old session ends, a new one opens on the link
            run = self.tab.open("", f"image={self.photo}")
            elapsed = time.perf_counter() - started
            top1 = run.predict_top1()
            if run.exceptions:
                raise ProtocolError(f"exception box: {run.exceptions[0]}")
            if top1 != CURRENT.labels[self.photo]:
                raise ProtocolError(f"{self.photo}: saw top-1 {top1!r}, expected {CURRENT.labels[self.photo]!r}")
            CURRENT.record(token, elapsed)
        except (ProtocolError, OSError) as exc:
            CURRENT.forget(token)
            CURRENT.errors.append(f"predict: {exc}")

    @task(1)
    def lecturer_link(self) -> None:
        self.tab.close()
        visit_occlusion(self.tab, "lecturer link", "chelsea", 64, CURRENT.lecturer_stride)


def visit_occlusion(tab: StreamlitSession, name: str, photo: str, window: int, stride: int) -> None:
    """Open an occlusion link in ``tab`` and press the button unless map (a) is already there (the shared
    cache); the time from the link to map (a) is recorded as ``name``."""
    token, started = CURRENT.begin(name)
    try:
        run = tab.open("occlusion", f"image={photo}&window={window}&stride={stride}")
        title = f"**(a) Probability of “{CURRENT.labels[photo]}”**"
        if title not in run.texts:
            run = tab.press(run.button(RUN_BUTTON))
        if run.exceptions or title not in run.texts:
            raise ProtocolError(f"no map (a) for {photo}: {(run.exceptions or run.texts)[-1:]}")
        CURRENT.record(token, time.perf_counter() - started)
    except (ProtocolError, OSError) as exc:
        CURRENT.forget(token)
        CURRENT.errors.append(f"{name}: {exc}")
    finally:
        tab.close()


def ask_queued_maps(url: str, count: int) -> list:
    """``count`` students who each ask once for an occlusion map nobody else wants (window 32, strides 8,
    9, …: 625, 484, … positions), all at once."""
    return [
        gevent.spawn(visit_occlusion, StreamlitSession(url, REQUEST_TIMEOUT_S), "queued map", "coffee", 32, 8 + index)
        for index in range(count)
    ]


def expected_labels() -> dict[str, str]:
    """The default model's top-1 per gallery photo, computed in a child process (torch and gevent do not
    mix well in one)."""
    code = (
        "import json, cnnviz; from cnnviz.gallery import gallery_image; "
        "net = cnnviz.load(cnnviz.DEFAULT_ARCH, weights='bundled', device='cpu'); "
        f"print(json.dumps({{p: cnnviz.predict(net, gallery_image(p)).scores[0].label for p in {PHOTOS!r}}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def process_stats(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system, threads included) and resident MiB of the process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return cpu, rss


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def run_round(runner, url: str, sessions: int, ramp: float, steady: float, queued: int, labels, stride, pid) -> dict:
    """One round of ``sessions`` students on Locust's ``runner`` (stopped again at the end)."""
    global CURRENT
    CURRENT = Round(labels, stride)
    Student.count = 0
    cpu_start, _ = process_stats(pid) if pid else (0.0, 0.0)
    own_start = process_stats(os.getpid())[0]
    start = time.perf_counter()
    waiting = ask_queued_maps(url, queued)
    runner.start(sessions, spawn_rate=sessions / ramp)
    gevent.sleep(ramp)
    CURRENT.measuring_from = time.perf_counter()
    gevent.sleep(steady)
    wall = time.perf_counter() - start
    CURRENT.close()
    cpu_end, rss = process_stats(pid) if pid else (0.0, 0.0)
    own_cpu = process_stats(os.getpid())[0] - own_start
    runner.user_greenlets.kill(block=True, timeout=10)  # mid-request users too: runner.stop() would wait for them
    runner.stop()
    gevent.killall(waiting, block=False)
    predict = CURRENT.latencies["predict"]
    lecturer = CURRENT.latencies["lecturer link"]
    return {
        "sessions": sessions,
        "predict_p50_s": statistics.median(predict) if predict else None,
        "predict_p95_s": percentile(predict, 0.95),
        "predicts": len(predict),
        "predicts_unfinished": CURRENT.unfinished["predict"],
        "lecturer_p50_s": statistics.median(lecturer) if lecturer else None,
        "lecturer_p95_s": percentile(lecturer, 0.95),
        "lecturer_maps": len(lecturer),
        "queued_maps": queued,
        "queued_maps_done": len(CURRENT.latencies["queued map"]) - CURRENT.unfinished["queued map"],
        "errors": len(CURRENT.errors),
        "error_examples": CURRENT.errors[:5],
        "wall_s": round(wall, 1),
        "server_cpu_share": round((cpu_end - cpu_start) / (wall * os.cpu_count()), 3) if pid else None,
        "server_rss_mib": round(rss) if pid else None,
        "loader_cpu_share": round(own_cpu / (wall * os.cpu_count()), 3),
    }


def start_server() -> tuple[subprocess.Popen, str]:
    from harness.servers import free_port, start_streamlit

    (ROOT / "artifacts").mkdir(exist_ok=True)
    port = free_port()
    log = open(ROOT / "artifacts" / "streamlit-load.log", "w")  # noqa: SIM115 (lives as long as the server)
    return start_streamlit("app.py", port, log, {}, wait_s=120), f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 25, 50, 100])
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds over which the students arrive")
    parser.add_argument("--steady", type=float, default=90.0, help="seconds measured after the ramp")
    parser.add_argument("--queued-maps", type=int, default=0, help="different occlusion maps asked at the start")
    parser.add_argument(
        "--predict-only", action="store_true", help="students only predict (no lecturer link): for --queued-maps"
    )
    parser.add_argument("--url", help="a running app (default: start one on the CPU)")
    parser.add_argument("--pid", type=int, help="the server's process id, for CPU and memory (with --url)")
    parser.add_argument("--json", action="store_true", help="one JSON object per round")
    args = parser.parse_args()
    if args.predict_only:
        Student.tasks = [Student.predict]
    labels = expected_labels()
    process = None
    url, pid = args.url, args.pid
    if url is None:
        process, url = start_server()
        pid = process.pid
    try:
        StreamlitSession(url).open("", "image=chelsea")  # loads the default model before the clock starts
        runner = Environment(user_classes=[Student], host=url).create_local_runner()
        for index, sessions in enumerate(args.sessions):
            stride = 32 - index  # a lecturer link not computed yet in this server
            row = run_round(runner, url, sessions, args.ramp, args.steady, args.queued_maps, labels, stride, pid)
            print(json.dumps(row) if args.json else _line(row), flush=True)
        runner.quit()
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)


def _line(row: dict) -> str:
    def fmt(value):
        return "–" if value is None else f"{value:.2f}"

    return (
        f"{row['sessions']} sessions: predict p50 {fmt(row['predict_p50_s'])} s, p95 {fmt(row['predict_p95_s'])} s "
        f"({row['predicts']}); lecturer link p95 {fmt(row['lecturer_p95_s'])} s; errors {row['errors']}; "
        f"server CPU {row['server_cpu_share']}, {row['server_rss_mib']} MiB"
    )


if __name__ == "__main__":
    main()
