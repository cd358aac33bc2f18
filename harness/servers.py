"""Start what the tests and the benchmarks drive: a real ``streamlit run`` on a free local port, replicas behind
nginx with Redis (``deploy/run_local.sh``), and the flags for Debian's Chromium (``/usr/bin/chromium``,
installed by ``.ci/run``; no tool downloads its own)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# On a deep link (/layers) Streamlit's frontend first probes these under the page's path, then the root.
STREAMLIT_PATH_PROBES = ("/_stcore/health", "/_stcore/host-config")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_run_of_ports(count: int) -> int:
    """The first of ``count`` consecutive TCP ports on 127.0.0.1 that nothing listens on now."""
    for _ in range(50):
        first = free_port()
        if first + count > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no run of free ports")


@dataclass
class Course:
    """``deploy/run_local.sh`` running: ``url`` is nginx's; the replicas' logs and pid files are in ``run_dir``."""

    process: subprocess.Popen
    url: str
    run_dir: Path
    redis_port: int
    first_port: int
    log: object

    @property
    def replica_pids(self) -> list[int]:
        return [int(path.read_text()) for path in sorted(self.run_dir.glob("replica-*.pid"))]

    def stop(self) -> None:
        """SIGTERM to the script, which stops every process it started."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()


def start_course(replicas: int, run_dir: Path, wait_s: float = 180) -> Course:
    """``deploy/run_local.sh replicas`` on free ports (nginx, Redis, the replicas on the CPU), once it says
    where to open it (at most ``wait_s`` seconds); its output goes to ``run_dir/run_local.out``."""
    proxy, redis_port, first = free_port(), free_port(), free_run_of_ports(replicas)
    env = {
        **os.environ,
        "PROXY_PORT": str(proxy),
        "REDIS_PORT": str(redis_port),
        "FIRST_PORT": str(first),
        "RUN_DIR": str(run_dir),
        "CNNVIZ_DEVICE": "cpu",
    }
    out = run_dir / "run_local.out"
    log = open(out, "w")  # noqa: SIM115 (closed by Course.stop)
    process = subprocess.Popen(
        ["bash", str(ROOT / "deploy" / "run_local.sh"), str(replicas)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + wait_s
    while "open http://" not in out.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"run_local.sh did not come up in {wait_s:.0f} s: {out.read_text()[-2000:]}")
        time.sleep(0.5)
    return Course(process, f"http://127.0.0.1:{proxy}", run_dir, redis_port, first, log)


def start_streamlit(script: str, port: int, log, env: dict | None = None, wait_s: float = 90) -> subprocess.Popen:
    """``streamlit run script`` from the checkout (so with its ``.streamlit/config.toml``) on 127.0.0.1:``port``,
    on the CPU with ``env`` added, once it answers its health check (at most ``wait_s`` seconds)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "CNNVIZ_DEVICE": "cpu", **(env or {})},
    )
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"streamlit did not start; see {log.name}") from None
            time.sleep(0.5)
