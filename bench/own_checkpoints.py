"""What sessions uploading their own checkpoints cost one server process, and that the store holds its bound.

``--sessions`` browser sessions (Streamlit's AppTest: the real app script, each with its own session
state, all in this one process as they would be in one server) each upload a different ResNet-50
checkpoint with 7 classes (about 94 MB: 23.5 million float32 parameters) under "My checkpoint" and read
their top-N. After each upload the row reports what the process's resident memory (``VmRSS``, MB of 10^6
bytes) grew by since a first session had loaded the app and ResNet-50's shared model, what the store of
own networks holds (MB) and how many networks it holds. The store's bound is
``--bound`` MB (``CNNVIZ_OWN_MODELS_MB``): once it is reached the least recently used network leaves, and
comes back from its session's upload if that session asks again (the last column checks the first session
still gets its own network, and nobody else's).

Streamlit keeps each session's uploaded bytes while its upload widget holds the file; that part grows with
the sessions and is reported separately (the uploads' total), since no store of ours bounds it.

Usage: ``python -m bench.own_checkpoints [--sessions 10] [--bound 400] [--markdown]`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

MB = 10**6
CLASSES = 7


def rss_mb() -> float:
    """This process's resident memory, MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / MB
    return float("nan")


def checkpoints(count: int, folder: Path) -> list[Path]:
    """``count`` different ResNet-50 state dicts with :data:`CLASSES` classes (seeds 0 … count−1)."""
    import torch
    import torchvision

    paths = []
    for seed in range(count):
        torch.manual_seed(seed)
        path = folder / f"resnet50-{seed}.pt"
        torch.save(torchvision.models.resnet50(num_classes=CLASSES).state_dict(), path)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--bound", type=int, default=400, help="the store's bound, MB (CNNVIZ_OWN_MODELS_MB)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    os.environ["CNNVIZ_OWN_MODELS_MB"] = str(args.bound)
    os.environ["CNNVIZ_OFFLINE"] = "1"

    from streamlit.testing.v1 import AppTest

    from bench.report import markdown
    from ui.own_networks import STORE

    app_path = str(Path(__file__).resolve().parents[1] / "app.py")
    folder = Path(tempfile.mkdtemp(prefix="cnnviz-bench-"))
    paths = checkpoints(args.sessions, folder)
    sessions, rows, uploaded = [], [], 0
    warm = AppTest.from_file(app_path, default_timeout=300)  # the app and ResNet-50's shared model, loaded
    warm.run()
    warm.selectbox(key="arch").select("resnet50").run()
    start_rss = rss_mb()
    for index, path in enumerate(paths):
        app = AppTest.from_file(app_path, default_timeout=300)
        app.run()
        app.selectbox(key="arch").select("resnet50").run()
        data = path.read_bytes()
        uploaded += len(data)
        began = time.perf_counter()
        app.file_uploader(key="own_weights").upload(path.name, data, "application/octet-stream").run()
        seconds = time.perf_counter() - began
        assert not app.exception and not app.sidebar.error, (app.exception, app.sidebar.error)
        assert f"resnet50-{index}.pt" in app.header[0].value
        sessions.append(app)
        first = sessions[0]
        first.run()  # the first session again: its network, from the store or loaded again from its upload
        own = first.session_state["choices"].arch
        assert "resnet50-0.pt" in first.header[0].value and own.startswith("resnet50@sha256:")
        rows.append(
            (
                index + 1,
                f"{len(data) / MB:.0f}",
                f"{seconds:.1f}",
                f"{rss_mb() - start_rss:,.0f}",
                f"{uploaded / MB:,.0f}",
                f"{STORE.held_bytes() / MB:,.0f}",
                len(STORE),
            )
        )
        if not args.markdown:
            print(*rows[-1], flush=True)
    columns = ("sessions", "checkpoint MB", "upload s", "RSS added MB", "uploads held MB", "store MB", "networks")
    if args.markdown:
        print(markdown(columns, rows))
    print(f"bound {args.bound} MB; store at most {max(float(r[5].replace(',', '')) for r in rows):,.0f} MB")


if __name__ == "__main__":
    main()
