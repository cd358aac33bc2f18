"""A class following its lecturer, measured at the server: one lecturer and N followers (Streamlit's protocol,
``cnnviz/streamlit_session.py``, as in ``bench/load.py``) on the replicas of ``deploy/run_local.sh`` behind
nginx, beside students who explore on their own.

A class is started in the replicas' Redis (as ``?teach=new`` does); every ``--every`` seconds the lecturer then
opens a prepared lecturer link (``/deconvnet?arch=…&layer=…&class=CODE&key=KEY``) that changes what the class
sees: the page, the network, the photo or the layer (:data:`LESSONS`, in turn, ``--changes`` times). Each follower
joins with ``?class=CODE`` and, as a browser does, reads the runs the server starts when the class changes (or,
on a server that cannot wake it, reruns the class fragment each time the server asked for). A follower has
followed change k when its page and its link settings (its language and the class apart) are the lecturer's;
the **follow latency** runs from the end of the lecturer's script run (when the lesson is published) to the
end of the follower's run that shows it. Followers still
behind 15 s after the last change are counted as left behind.

Explorers (``--explorers``, in a process of their own) open the Predict page on a gallery photo every 3–6 s,
first without the class (the baseline) and then during it: their predict p95 with the class over without it
is the class's cost to everyone else. CPU and resident memory of every replica are read from ``/proc``
around each phase, and the CPU of this process, whose hundred followers stand for browsers on other machines.

Usage: ``python -m bench.load_class --followers 100 [--replicas 2] [--changes 20] [--every 6]
[--explorers 10] [--json]``. It starts ``deploy/run_local.sh`` itself (needs nginx and redis-server). With
``CNNVIZ_CLASS_TRACE=FILE`` each change and each explorer's run (when, how long, which replica) go to FILE.
"""

from __future__ import annotations

import gevent.monkey  # the standard library patched before anything else imports it

gevent.monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import parse_qsl  # noqa: E402

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gevent  # noqa: E402

from bench.load import percentile, process_stats  # noqa: E402
from cnnviz.streamlit_session import ProtocolError, StreamlitSession  # noqa: E402
from harness.servers import start_course  # noqa: E402
from ui.classroom import RedisClasses  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# What the lecturer shows, in turn: (page's url path, link settings). Consecutive lessons differ in the page,
# the network, the photo or the layer.
LESSONS = (
    ("", {"arch": "efficientnet_lite0", "image": "chelsea"}),
    ("", {"arch": "efficientnet_lite0", "image": "coffee"}),  # photo
    ("deconvnet", {"arch": "efficientnet_lite0", "image": "coffee"}),  # page
    ("deconvnet", {"arch": "efficientnet_lite0", "image": "coffee", "layer": "blocks.5.0"}),  # layer
    ("deconvnet", {"arch": "lenet5", "image": "digit"}),  # network and photo
    ("deconvnet", {"arch": "lenet5", "image": "digit", "layer": "features.c3"}),  # layer
    ("", {"arch": "lenet5", "image": "digit"}),  # page
    ("", {"arch": "efficientnet_lite0", "image": "chelsea"}),  # network and photo
)
NOT_FOLLOWED = ("lang", "class")
# Written to the file CNNVIZ_CLASS_TRACE names, when set: which replica answered what, when.
CHANGES: list = []  # (wall time published, lecturer's run seconds, replica) of each change
TRACE: list = []  # (wall time, seconds, replica) of each explorer's run
LEFT_BEHIND_S = 15.0
IDLE_S = 10.0  # seconds of a quiet server, without and with the class waiting


def settings(query: str) -> dict[str, str]:
    return {name: value for name, value in parse_qsl(query) if name not in NOT_FOLLOWED}


class Course:
    """``deploy/run_local.sh`` with ``replicas`` replicas (:func:`harness.servers.start_course`), and what the
    replicas use."""

    def __init__(self, replicas: int) -> None:
        self.started = start_course(replicas, Path(tempfile.mkdtemp(prefix="cnnviz-class-load.")), wait_s=240)
        self.url = self.started.url
        self.pids = self.started.replica_pids
        self.redis_url = f"redis://127.0.0.1:{self.started.redis_port}/0"

    def stats(self) -> tuple[float, float]:
        """CPU seconds and resident MiB of every replica together."""
        cpu = rss = 0.0
        for pid in self.pids:
            c, r = process_stats(pid)
            cpu, rss = cpu + c, rss + r
        return cpu, rss

    def stop(self) -> None:
        self.started.stop()


class Lecture:
    """The lecturer's changes: (time published, page hash, settings) each."""

    def __init__(self) -> None:
        self.changes: list[tuple[float, str, dict[str, str]]] = []
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.replicas: list[str | None] = []  # each follower's
        self.done = False


def follower(url: str, code: str, lecture: Lecture, delay: float, state: dict) -> None:
    """One student following class ``code``; ``state`` gets its last (page hash, settings)."""
    gevent.sleep(delay)
    tab = StreamlitSession(url, timeout_s=120)
    seen = -1
    try:
        tab.open("", f"class={code}")
        lecture.replicas.append(tab.replica)
        while not lecture.done:
            if tab.auto_reruns:  # a server that cannot wake its followers: the browser reruns the fragment
                gevent.sleep(min(tab.auto_reruns.values()))
                run = tab.poll()
            else:
                run = tab.listen(1.0)
            if run is not None and run.exceptions:
                lecture.errors.append(f"follower: {run.exceptions[0]}")
            now = time.perf_counter()
            mine = (tab.page_hash, settings(tab.query_string))
            state[id(tab)] = mine
            for index in range(seen + 1, len(lecture.changes)):
                published, page, wanted = lecture.changes[index]
                if mine == (page, wanted):
                    lecture.latencies.append(now - published)
                    seen = index
    except (ProtocolError, OSError) as exc:
        lecture.errors.append(f"follower: {exc}")
    finally:
        tab.close()


def explorer(url: str, photo: str, stop_at: float, latencies: list[float], errors: list[str]) -> None:
    """A student on their own: the Predict page on ``photo`` in a new tab every 3–6 s."""
    gevent.sleep(random.uniform(0, 3))
    while time.perf_counter() < stop_at:
        tab = StreamlitSession(url, timeout_s=120)
        try:
            run = tab.open("", f"image={photo}")
            if run.exceptions or run.predict_top1() is None:
                errors.append(f"explorer: {(run.exceptions or ['no top-1'])[0]}")
            else:
                latencies.append(run.seconds)
                TRACE.append((time.time(), run.seconds, tab.replica))
        except (ProtocolError, OSError) as exc:
            errors.append(f"explorer: {exc}")
        finally:
            tab.close()
        gevent.sleep(random.uniform(3, 6))


def explore(url: str, count: int, seconds: float) -> tuple[list[float], list[str]]:
    """``count`` explorers for ``seconds``: their Predict runs' seconds, and the errors."""
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds
    photos = ("chelsea", "coffee", "astronaut", "rocket", "camera", "coins")
    gevent.joinall([gevent.spawn(explorer, url, photos[i % 6], stop_at, latencies, errors) for i in range(count)])
    return latencies, errors


class Explorers:
    """The explorers in a process of their own, as their own browsers would be: in the process that reads a
    hundred followers' pages, an explorer's answer would also wait for that reading."""

    def __init__(self, url: str, count: int, seconds: float) -> None:
        command = [sys.executable, "-m", "bench.load_class", "--explore-at", url]
        command += ["--explorers", str(count), "--explore-s", str(seconds)]
        self._process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)

    def result(self) -> tuple[list[float], list[str]]:
        out, _ = self._process.communicate(timeout=600)
        found = json.loads(out.strip().splitlines()[-1])
        TRACE.extend(found.get("trace", []))
        return found["latencies"], found["errors"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=100)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--every", type=float, default=6.0, help="seconds between the lecturer's changes")
    parser.add_argument("--explorers", type=int, default=10)
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which the followers join")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--explore-at", help="only explore the server at this URL (the explorers' own process)")
    parser.add_argument("--explore-s", type=float, default=60.0)
    args = parser.parse_args()
    if args.explore_at:
        latencies, errors = explore(args.explore_at, args.explorers, args.explore_s)
        print(json.dumps({"latencies": latencies, "errors": errors, "trace": TRACE}), flush=True)
        return
    course = Course(args.replicas)
    try:
        for page, lesson in LESSONS:  # every network and page loaded once on each replica, before the clock
            for _ in range(2 * args.replicas):
                StreamlitSession(course.url, 300).open(page, "&".join(f"{k}={v}" for k, v in lesson.items()))
        phase_s = args.changes * args.every
        idle0, _ = course.stats()
        gevent.sleep(IDLE_S)
        idle1, _ = course.stats()
        cpu0, _ = course.stats()
        alone, alone_errors = Explorers(course.url, args.explorers, phase_s).result()
        cpu1, rss1 = course.stats()

        lecture = Lecture()
        page, lesson = LESSONS[0]
        code, key, _ = RedisClasses(course.redis_url).start(page or "predict", lesson)  # as ?teach=new would
        states: dict = {}
        followers = [
            gevent.spawn(follower, course.url, code, lecture, args.ramp * i / args.followers, states)
            for i in range(args.followers)
        ]
        gevent.sleep(args.ramp + 3)
        quiet0, _ = course.stats()
        gevent.sleep(IDLE_S)  # the class waits: what following costs while nothing changes
        quiet1, _ = course.stats()
        cpu2, rss2 = course.stats()
        own2, _ = process_stats(os.getpid())
        explorers = Explorers(course.url, args.explorers, phase_s)
        for index in range(1, args.changes + 1):
            page, lesson = LESSONS[index % len(LESSONS)]
            lecturer = StreamlitSession(course.url, 300)  # the lecturer opens a prepared lecturer link
            run = lecturer.open(page, "&".join(f"{k}={v}" for k, v in {**lesson, "class": code, "key": key}.items()))
            if run.exceptions:
                lecture.errors.append(f"lecturer: {run.exceptions[0]}")
            lecture.changes.append((time.perf_counter(), lecturer.page_hash, settings(lecturer.query_string)))
            CHANGES.append((time.time(), run.seconds, lecturer.replica))
            gevent.sleep(args.every)
            lecturer.close()
        during, during_errors = explorers.result()
        gevent.sleep(LEFT_BEHIND_S)
        cpu3, rss3 = course.stats()
        own3, _ = process_stats(os.getpid())
        final = lecture.changes[-1][1:]
        behind = sum(1 for state in states.values() if state != final) + (args.followers - len(states))
        lecture.done = True
        gevent.joinall(followers, timeout=30)
        expected = args.followers * args.changes
        row = {
            "followers": args.followers,
            "replicas": args.replicas,
            "changes": args.changes,
            "follow_p50_s": percentile(lecture.latencies, 0.5),
            "follow_p95_s": percentile(lecture.latencies, 0.95),
            "follow_max_s": max(lecture.latencies, default=None),
            "follows_seen": len(lecture.latencies),
            "follows_expected": expected,
            "left_behind": behind,
            "followers_per_replica": sorted(Counter(lecture.replicas).values()),
            "explorers": args.explorers,
            "explore_p95_alone_s": percentile(alone, 0.95),
            "explore_p95_with_class_s": percentile(during, 0.95),
            "explore_p95_ratio": (percentile(during, 0.95) / percentile(alone, 0.95)) if alone and during else None,
            "explores": [len(alone), len(during)],
            "cpu_share_alone": round((cpu1 - cpu0) / (phase_s * os.cpu_count()), 3),
            "cpu_share_with_class": round((cpu3 - cpu2) / ((phase_s + LEFT_BEHIND_S) * os.cpu_count()), 3),
            "followers_generator_cpu_share": round((own3 - own2) / ((phase_s + LEFT_BEHIND_S) * os.cpu_count()), 3),
            "rss_mib_alone": round(rss1),
            "rss_mib_with_class": round(rss3),
            "rss_kib_per_follower": round((rss2 - rss1) * 1024 / args.followers),
            "errors": len(lecture.errors) + len(alone_errors) + len(during_errors),
            "error_examples": (lecture.errors + alone_errors + during_errors)[:5],
        }
        row["idle_cpu_ms_per_follower_s"] = round(
            1000 * ((quiet1 - quiet0) - (idle1 - idle0)) / IDLE_S / args.followers, 3
        )
        row["cpu_ms_per_follower_s"] = round(
            1000 * ((cpu3 - cpu2) / (phase_s + LEFT_BEHIND_S) - (cpu1 - cpu0) / phase_s) / args.followers, 2
        )
        if os.environ.get("CNNVIZ_CLASS_TRACE"):
            Path(os.environ["CNNVIZ_CLASS_TRACE"]).write_text(json.dumps({"changes": CHANGES, "explorers": TRACE}))
        print(json.dumps(row) if args.json else "\n".join(f"{k}: {v}" for k, v in row.items()), flush=True)
    finally:
        course.stop()


if __name__ == "__main__":
    main()
