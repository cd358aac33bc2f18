"""Start what the tests and the benchmarks drive: a real ``streamlit run`` on a free local port, and the
flags for Debian's Chromium (``/usr/bin/chromium``, installed by ``.ci/run``; no tool downloads its own)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
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
