"""Server memory under an upload storm: N browser sessions each upload a different large photo to one real
``streamlit run app.py``; the server's resident memory is read before, after every session has its
prediction, and again once the sessions are closed and the upload cache's time-to-live has passed.

A second round with other photos then shows whether the memory was given back or only kept for reuse.
Usage: ``python -m bench.upload_storm [--sessions 8] [--side 4000] [--ttl 20]`` (needs Debian's chromium;
about eight minutes). The photos are 4000 × 3000 PNGs (12 megapixels, the largest ordinary photo) made
from the gallery cat with a different tint each, so every upload is decoded.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file (python bench/x.py): the checkout's own packages come from its root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz.gallery import gallery_image
from harness.servers import CHROMIUM, CHROMIUM_FLAGS, free_port, start_streamlit

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--side", type=int, default=4000, help="long side of each photo, px (4:3)")
    parser.add_argument("--ttl", type=int, default=20, help="the upload cache's time-to-live for this run, s")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp())
    cat = gallery_image("chelsea").resize((args.side, args.side * 3 // 4))
    photos = []
    for n in range(2 * args.sessions):
        path = folder / f"photo{n}.png"
        cat.point(lambda v, n=n: min(255, v + n)).save(path, compress_level=1)  # a distinct file each
        photos.append(path)
    port = free_port()
    (ROOT / "artifacts").mkdir(exist_ok=True)
    log = open(ROOT / "artifacts" / "streamlit-upload-storm.log", "w")  # noqa: SIM115 (lives as long as the server)
    server = start_streamlit("app.py", port, log, {"CNNVIZ_UPLOAD_TTL_S": str(args.ttl)}, wait_s=90)
    url = f"http://127.0.0.1:{port}"
    try:
        figures = {
            "sessions": args.sessions,
            "photo": f"{cat.width}×{cat.height} PNG",
            "file_mb": round(sum(p.stat().st_size for p in photos) / len(photos) / 1e6, 2),
        }
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            warm = browser.new_page()
            warm.goto(url)
            warm.locator("ol").filter(has_text=re.compile("—")).first.wait_for(timeout=120_000)
            figures["idle_mb"] = round(_rss_mb(server.pid))
            for round_ in (1, 2):
                pages = []
                for photo in photos[(round_ - 1) * args.sessions : round_ * args.sessions]:
                    page = browser.new_context().new_page()
                    page.goto(url)
                    page.locator("ol").filter(has_text=re.compile("—")).first.wait_for(timeout=120_000)
                    page.get_by_test_id("stRadioGroup").get_by_text("Upload", exact=True).click()
                    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(photo))
                    pages.append(page)
                for page in pages:
                    page.get_by_text("Top-5 predictions").wait_for(timeout=120_000)
                    page.wait_for_timeout(500)
                figures[f"round{round_}_uploaded_mb"] = round(_rss_mb(server.pid))
                for page in pages:
                    page.context.close()
                time.sleep(args.ttl + 130)  # sessions go 120 s after they disconnect, the cache after its TTL
                figures[f"round{round_}_closed_mb"] = round(_rss_mb(server.pid))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
