"""Screenshots of every page for the documentation, made by the app itself: ``python -m scripts.screenshots``.

Starts the app on a free port, opens each declared page (``ui.pages.declared_pages``) in Debian's Chromium
at a fixed size and language on the default network and gallery photo, presses the button that computes
the page's results where :data:`PRESS` names one, waits until the script run has finished and every
picture has loaded, and writes ``assets/screenshots/<page>-<lang>.png``. Run it when a page changes.

Written here rather than with a screenshot tool: what to wait for is Streamlit's own state (its running
indicator, the page's pictures), which only a script driving the page knows.

Usage: ``python -m scripts.screenshots [--lang en pt es] [--page predict occlusion …] [--out assets/screenshots]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file too
    sys.path.insert(0, str(ROOT))

from harness.servers import CHROMIUM, CHROMIUM_FLAGS, free_port, start_streamlit  # noqa: E402
from ui.pages import declared_pages  # noqa: E402
from ui.text import t  # noqa: E402

VIEWPORT = {"width": 1400, "height": 1000}  # px
PRESS = {"occlusion": "occl.run", "deconvnet": "deconv.class_maps_run"}  # a page's results, on request
TIMEOUT_MS = 300_000
IMAGES_LOADED = """() => [...document.querySelectorAll('[data-testid="stImage"] img')]
    .every((img) => img.complete && img.naturalWidth > 0)"""


def settle(page) -> None:
    """Until the script run has finished, every picture has loaded and the charts have drawn."""
    page.locator('[data-testid="stStatusWidgetRunningIcon"]').wait_for(state="detached", timeout=TIMEOUT_MS)
    page.wait_for_function(IMAGES_LOADED, timeout=TIMEOUT_MS)
    page.wait_for_timeout(800)


def shoot(page, url: str, name: str, lang: str, out: Path) -> Path:
    """The page ``name`` at ``url`` in ``lang``, its results computed, as ``out/<name>-<lang>.png``."""
    page.goto(url)
    page.locator('[data-testid="stHeading"]').first.wait_for(timeout=TIMEOUT_MS)
    settle(page)
    if name in PRESS:
        page.get_by_role("button", name=t(PRESS[name], lang)).click(timeout=TIMEOUT_MS)
        page.wait_for_timeout(500)
        settle(page)
    path = out / f"{name}-{lang}.png"
    page.screenshot(path=str(path))
    return path


def main() -> None:
    from playwright.sync_api import sync_playwright

    names = [p.name for p in declared_pages()]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", nargs="+", default=["en"], choices=("en", "pt", "es"))
    parser.add_argument("--page", nargs="+", default=names, choices=names)
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    paths = {p.name: p.url_path for p in declared_pages()}
    port = free_port()
    with open(args.out / "streamlit.log", "w") as log:
        server = start_streamlit("app.py", port, log)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                for lang in args.lang:
                    for name in args.page:
                        context = browser.new_context(viewport=VIEWPORT)
                        start = time.perf_counter()
                        url = f"http://127.0.0.1:{port}/{paths[name]}?lang={lang}"
                        path = shoot(context.new_page(), url, name, lang, args.out)
                        size = path.stat().st_size / 1024
                        print(f"{path.relative_to(ROOT)}: {size:.0f} KB in {time.perf_counter() - start:.1f} s")
                        context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    (args.out / "streamlit.log").unlink()


if __name__ == "__main__":
    main()
