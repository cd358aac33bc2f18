"""A few real browser sessions (Chromium contexts) against one ``streamlit run app.py``: the correctness check
beside ``bench/load.py`` (which measures the server with protocol-level sessions). Chromium renders on the same
cores as the server, so its latencies measure the browsers as much as the server.

Every session, all starting together:

1. ``predict``: opens the Predict page on its own gallery photo and reads its top-5 (the time from opening
   the link to the ranked list on screen);
2. ``occlusion``: opens the Occlusion page on that photo (window 64, stride 32: 36 positions) and computes
   the maps (click to map (a) on screen);
3. ``same link``: opens the lecturer's link, one occlusion map every session asks for at once (window 48,
   stride 16: 100 positions, a new stride each round so nothing is cached).

A session "sees its own result" when its top-1 and map (a) name the class the default model gives its own
photo (checked against ``cnnviz.predict`` in this process). Errors are timeouts, console errors, uncaught
page exceptions and wrong results. The server's resident memory (VmRSS) is read after each round and after
one more session has visited every architecture of the zoo (``CNNVIZ_MAX_MODELS`` bounds the models kept).

Usage: ``python -m bench.load_browser [--sessions 5 10 20] [--json]`` (needs ``/usr/bin/chromium``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file (python bench/x.py): the checkout's own packages come from its root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cnnviz
from cnnviz.gallery import gallery_image
from harness.servers import CHROMIUM, CHROMIUM_FLAGS, STREAMLIT_PATH_PROBES, free_port, start_streamlit

ROOT = Path(__file__).resolve().parent.parent


PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "camera", "coins")
TIMEOUT_MS = 600_000


def expected_labels() -> dict[str, str]:
    net = cnnviz.load(cnnviz.DEFAULT_ARCH, weights="bundled", device="cpu")
    return {photo: cnnviz.predict(net, gallery_image(photo)).scores[0].label for photo in PHOTOS}


def resident_mib(pid: int) -> float:
    """The process's resident memory (MiB), its children included."""
    total = 0
    for line in subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True
    ).stdout.split():
        total += int(line)
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time (s) the process has used so far (its children are not counted)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(ROOT / "artifacts" / "streamlit-load.log", "w")  # noqa: SIM115 (lives as long as the server)
    return start_streamlit("app.py", port, log, env, wait_s=120), f"http://127.0.0.1:{port}"


def watch(page, url: str) -> list[str]:
    """The errors a student would meet, collected as they happen: console errors, page exceptions, HTTP
    errors and requests leaving the server. Requests the browser aborts because this script moves on to
    the next page (``net::ERR_ABORTED``) are not errors."""
    errors: list[str] = []

    def console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"console: {message.text}")

    def response(reply):
        if reply.status >= 400 and not reply.url.endswith(STREAMLIT_PATH_PROBES):
            errors.append(f"HTTP {reply.status}: {reply.url}")

    def failed(request):
        if "ERR_ABORTED" not in (request.failure or ""):
            errors.append(f"request failed: {request.url} {request.failure}")

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("response", response)
    page.on("requestfailed", failed)
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else errors.append(r.url))
    return errors


async def session(browser, url: str, index: int, labels: dict[str, str], same_stride: int) -> dict:
    """One student's visit; returns the step latencies (s) and the errors met."""
    photo = PHOTOS[index % len(PHOTOS)]
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = await context.new_page()
    errors = watch(page, url)
    times: dict[str, float] = {}
    try:
        start = time.perf_counter()
        await page.goto(f"{url}/?image={photo}")
        ranked = page.locator("ol").filter(has_text=re.compile("—")).first
        await ranked.wait_for(timeout=TIMEOUT_MS)
        times["predict"] = time.perf_counter() - start
        top1 = (await ranked.inner_text()).splitlines()[0].split(" — ")[0]
        if top1 != labels[photo]:
            errors.append(f"session {index} ({photo}) saw top-1 {top1!r}, expected {labels[photo]!r}")

        await page.goto(f"{url}/occlusion?image={photo}&window=64&stride=32")
        await page.get_by_role("button", name="Compute the maps").click(timeout=TIMEOUT_MS)
        start = time.perf_counter()
        await page.get_by_text(f"(a) Probability of “{labels[photo]}”").wait_for(timeout=TIMEOUT_MS)
        times["occlusion"] = time.perf_counter() - start

        await page.goto(f"{url}/occlusion?image=chelsea&window=48&stride={same_stride}")
        await page.get_by_role("button", name="Compute the maps").click(timeout=TIMEOUT_MS)
        start = time.perf_counter()
        await page.get_by_text(f"(a) Probability of “{labels['chelsea']}”").wait_for(timeout=TIMEOUT_MS)
        times["same link"] = time.perf_counter() - start
        if await page.locator('[data-testid="stException"]').count():
            errors.append(f"session {index}: an exception box")
    except Exception as exc:  # a timeout or a crashed page is a result of the run, not a reason to stop it
        errors.append(f"session {index}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await context.close()
    return {"times": times, "errors": errors}


async def visit_every_architecture(browser, url: str) -> list[str]:
    context = await browser.new_context()
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = await context.new_page()
    failures = []
    try:
        for name in cnnviz.ARCHITECTURES:
            photo = "digit" if name == "lenet5" else "chelsea"
            await page.goto(f"{url}/?arch={name}&image={photo}")
            try:
                await page.locator("ol").filter(has_text=re.compile("—")).first.wait_for(timeout=TIMEOUT_MS)
            except Exception as exc:
                failures.append(f"{name}: {type(exc).__name__}")
    finally:
        await context.close()
    return failures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


async def main_async(counts: list[int]) -> dict:
    from playwright.async_api import async_playwright

    labels = expected_labels()
    (ROOT / "artifacts").mkdir(exist_ok=True)
    process, url = start_server({"CNNVIZ_DEVICE": os.environ.get("CNNVIZ_DEVICE", "cpu")})
    report: dict = {"rounds": [], "labels": labels}
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            report["rss_idle_mib"] = resident_mib(process.pid)
            for round_index, count in enumerate(counts):
                start, cpu_start = time.perf_counter(), cpu_seconds(process.pid)
                results = await asyncio.gather(
                    *(session(browser, url, i, labels, same_stride=16 + round_index) for i in range(count))
                )
                wall = time.perf_counter() - start
                steps = {}
                for step in ("predict", "occlusion", "same link"):
                    values = [r["times"][step] for r in results if step in r["times"]]
                    steps[step] = {
                        "p50": statistics.median(values) if values else None,
                        "p95": percentile(values, 0.95) if values else None,
                        "done": len(values),
                    }
                errors = [e for r in results for e in r["errors"]]
                report["rounds"].append(
                    {
                        "sessions": count,
                        "wall_s": wall,
                        "steps": steps,
                        "errors": errors,
                        "server_cpu_s": cpu_seconds(process.pid) - cpu_start,
                        "rss_mib": resident_mib(process.pid),
                    }
                )
            failures = await visit_every_architecture(browser, url)
            report["rss_after_every_architecture_mib"] = resident_mib(process.pid)
            report["architecture_failures"] = failures
            await browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(main_async(args.sessions))
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"server idle: {report['rss_idle_mib']:.0f} MiB resident")
    print("| sessions | step | p50 s | p95 s | done | errors | server MiB after |")
    print("|---|---|---|---|---|---|---|")
    for row in report["rounds"]:
        for step, value in row["steps"].items():
            p50 = "–" if value["p50"] is None else f"{value['p50']:.1f}"
            p95 = "–" if value["p95"] is None else f"{value['p95']:.1f}"
            print(
                f"| {row['sessions']} | {step} | {p50} | {p95} | {value['done']}/{row['sessions']} | "
                f"{len(row['errors'])} | {row['rss_mib']:.0f} |"
            )
        print(
            f"|   | round: {row['wall_s']:.0f} s wall, server busy {row['server_cpu_s']:.0f} CPU-s of "
            f"{2 * row['wall_s']:.0f} (2 cores) |  |  |  |  |  |"
        )
        for error in row["errors"]:
            print(f"    {error}")
    print(
        f"after visiting all {len(cnnviz.ARCHITECTURES)} architectures: "
        f"{report['rss_after_every_architecture_mib']:.0f} MiB resident; failures: "
        f"{report['architecture_failures'] or 'none'}"
    )


if __name__ == "__main__":
    main()
