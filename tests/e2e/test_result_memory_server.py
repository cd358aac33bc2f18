"""A real server after a storm of results: sessions open the Deconvnet page at many layers (each computes
activation maps and nine projections, all kept for every session), then close; the server's resident
memory ends within the results' byte bound (plus 40 MiB of sessions, pictures and allocator slack) of where
it started, instead of holding the storm. Measured on the 2-core machine, twelve layers: about 1,090 MiB
idle, then +45 MiB with a 24 MiB bound and +109 MiB with a bound too large to act (the count bound alone,
64 results, kept them all)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bench.streamlit_client import StreamlitSession
from tests.e2e.conftest import ROOT, free_port, start_streamlit

pytestmark = pytest.mark.e2e

BOUND_MB = 24
LAYERS = ("conv_stem", "bn1", "blocks.0.0", "blocks.1.0", "blocks.1.1", "blocks.2.0", "blocks.2.1", "blocks.3.0",
          "blocks.3.1", "blocks.3.2", "blocks.4.0", "blocks.4.1")  # fmt: skip
HEADING = "What do the units of EfficientNet-Lite0 respond to?"


def resident_mb(pid: int) -> float:
    """Resident memory of process ``pid`` (Linux ``/proc/<pid>/statm``), MiB."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _open_deconvnet(server_url: str, layer: str) -> None:
    tab = StreamlitSession(server_url, timeout_s=300)
    run = tab.open("deconvnet", f"image=coffee&layer={layer}")
    assert any(HEADING in text for text in run.texts) and not run.exceptions, run.texts[:3]
    tab.close()


def test_memory_after_a_storm_of_results_returns_within_the_bound():
    port = free_port()
    with open(ROOT / "artifacts" / "streamlit-memory.log", "w") as log:
        server = start_streamlit("app.py", port, log, {"CNNVIZ_MAX_RESULTS_MB": str(BOUND_MB)})
        try:
            url = f"http://127.0.0.1:{port}"
            _open_deconvnet(url, "bn2")  # the model, the page's code and its first results
            _open_deconvnet(url, "blocks.4.2")
            time.sleep(2)
            idle = resident_mb(server.pid)
            for layer in LAYERS:  # about 9 MiB of results each, 4.5 times the bound in all
                _open_deconvnet(url, layer)
            time.sleep(2)
            after = resident_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"resident: {idle:.0f} MiB idle, {after:.0f} MiB after the storm (bound {BOUND_MB} MiB)")
    assert after - idle < BOUND_MB + 40, f"{idle:.0f} MiB idle, {after:.0f} MiB after the storm"
