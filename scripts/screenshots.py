"""Screenshots of every page for the documentation, made by the app itself: ``python -m scripts.screenshots``.

Starts the app on a free port, opens each declared page (``ui.pages.declared_pages``) in Debian's Chromium
at a fixed size and language on the default network and gallery photo, presses the button that computes
the page's results where :data:`PRESS` names one, waits until the script run has finished and every
picture has loaded, and writes ``assets/screenshots/<page>-<lang>.png`` with its colours reduced to a
palette of 256 (Pillow's quantiser: about a third of the size, the text as sharp; the README and the
documentation site show these files). :data:`SCENES` are screenshots of features that are not pages (a
student's own checkpoint on the Predict page). Run it when a page changes.

Written here rather than with a screenshot tool: what to wait for is Streamlit's own state (its running
indicator, the page's pictures), which only a script driving the page knows.

Usage: ``python -m scripts.screenshots [--lang en pt es] [--page predict occlusion …] [--out assets/screenshots]``
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file too
    sys.path.insert(0, str(ROOT))

from harness.servers import CHROMIUM, CHROMIUM_FLAGS, free_port, start_streamlit  # noqa: E402
from ui.pages import declared_pages  # noqa: E402
from ui.text import t  # noqa: E402
from views.hardware import SUGGESTED  # noqa: E402

VIEWPORT = {"width": 1280, "height": 900}  # px
# The button that computes a page's results on request: its text key and that text's values.
PRESS = {
    "occlusion": ("occl.run", {}),
    "deconvnet": ("deconv.class_maps_run", {}),
    "localize": ("loc.fcn_run", {}),
    "hardware": ("hw.run", {"count": len(SUGGESTED)}),
    "transfer": ("transfer.run", {}),
    "dropblock": ("drop.run", {}),
    "trust": ("trust.run_randomisation", {}),
    "prepare": ("prepare.run", {}),
}
COLOURS = 256  # the palette of a written screenshot


def draw_a_seven(page) -> None:
    """A "7" drawn with the mouse on the Draw lab's canvas (280 × 280 px): LeNet-5 reads it on the pen's lift."""
    board = page.locator('[data-testid="stMain"] canvas').last  # the canvas's drawing layer
    box = board.bounding_box()
    page.mouse.move(box["x"] + 70, box["y"] + 60)
    page.mouse.down()
    for step in range(1, 15):  # the bar, then the stem
        page.mouse.move(box["x"] + 70 + 10 * step, box["y"] + 60)
    for step in range(1, 18):
        page.mouse.move(box["x"] + 210 - 5 * step, box["y"] + 60 + 10 * step)
    page.mouse.up()


def scroll_to_results(page, pixels: int = 520) -> None:
    """Scroll the page's main column down by ``pixels``, past the explanation to the results."""
    page.mouse.move(VIEWPORT["width"] * 0.6, VIEWPORT["height"] / 2)
    page.mouse.wheel(0, pixels)


def own_checkpoint_files() -> tuple[Path, Path]:
    """A three-class checkpoint of the bundled EfficientNet-Lite0 (its real classifier rows for tabby cat,
    teapot and espresso) and its names file, in a temporary folder: what a student's own network looks like."""
    import tempfile

    import torch

    import cnnviz

    folder = Path(tempfile.mkdtemp(prefix="cnnviz-shots-"))
    lite0 = cnnviz.load("efficientnet_lite0", weights="bundled", device="cpu")
    state = {name: tensor.contiguous().clone() for name, tensor in lite0.model.state_dict().items()}
    rows = [281, 849, 967]
    state["classifier.weight"], state["classifier.bias"] = (
        state["classifier.weight"][rows],
        state["classifier.bias"][rows],
    )
    torch.save(state, folder / "my-lite0.pt")
    (folder / "my-classes.txt").write_text("my cat\nmy teapot\nmy espresso\n", encoding="utf-8")
    return folder / "my-lite0.pt", folder / "my-classes.txt"


def upload_own_checkpoint(page) -> None:
    """Open "My network" in the sidebar and give it the checkpoint and its class names."""

    weights, names = own_checkpoint_files()
    lang = page.url.rsplit("lang=", 1)[-1][:2]  # the page was opened with ?lang=…
    page.get_by_text(t("sidebar.own", lang)).click()
    uploaders = page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"] input[type="file"]')
    uploaders.first.set_input_files(str(weights))
    settle(page)
    uploaders.nth(1).set_input_files(str(names))


def own_onnx_file() -> Path:
    """The three-class checkpoint of :func:`own_checkpoint_files` as a whole network in an ONNX file, as
    ``torch.onnx.export`` writes it."""
    import cnnviz
    from cnnviz.models.onnx_file import export

    weights, _ = own_checkpoint_files()
    path = weights.with_name("my-network.onnx")
    export(cnnviz.load("efficientnet_lite0", weights=str(weights), device="cpu").model, path)
    return path


def upload_own_onnx(page) -> None:
    """Open "My network", give it the ONNX file and its class names, type Lite0's normalisation into the
    fields that appear, and scroll the sidebar to them."""
    lang = page.url.rsplit("lang=", 1)[-1][:2]
    onnx_path, names = own_onnx_file(), own_checkpoint_files()[1]
    page.get_by_text(t("sidebar.own", lang)).click()
    uploaders = page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"] input[type="file"]')
    uploaders.first.set_input_files(str(onnx_path))
    settle(page)
    uploaders.nth(1).set_input_files(str(names))
    settle(page)
    for key in ("sidebar.own_onnx_mean", "sidebar.own_onnx_std"):
        field = page.get_by_role("textbox", name=t(key, lang))
        field.fill("0.5, 0.5, 0.5")
        field.press("Enter")
        settle(page)
    page.get_by_role("spinbutton", name=t("sidebar.own_onnx_size", lang)).scroll_into_view_if_needed()


def a_class_answers_the_poll(page) -> None:
    """On the lecturer's page (``?teach=new``): ask the poll, let three students click on the photo from their own
    tabs, reveal, and show the answers."""
    from urllib.parse import urlsplit

    panel = page.get_by_test_id("stExpander").filter(has_text=t("classroom.scan", "en"))
    code = CODE.search(panel.locator("summary").inner_text()).group(1)
    base = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    poll = page.get_by_test_id("stExpander").filter(has_text=t("poll.title", "en"))
    poll.locator("summary").click()
    poll.get_by_role("button", name=t("poll.ask", "en")).click()
    poll.get_by_text(t("poll.asked", "en")).wait_for(timeout=TIMEOUT_MS)
    for x, y in ((0.3, 0.35), (0.62, 0.33), (0.5, 0.75)):  # two eyes and the nose
        student = page.context.browser.new_context(viewport=VIEWPORT)
        tab = student.new_page()
        tab.goto(f"{base}/?class={code}&lang=en")
        tab.get_by_text(t("poll.click", "en")).wait_for(timeout=TIMEOUT_MS)
        box = tab.get_by_test_id("stVegaLiteChart").first.locator("g.mark-image image").first.bounding_box()
        tab.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
        tab.get_by_text(t("poll.yours", "en")).wait_for(timeout=TIMEOUT_MS)
        student.close()
    page.wait_for_timeout(2500)  # the lecturer's count refreshes every 2 s
    poll.get_by_role("button", name=t("poll.reveal", "en")).click()
    poll.get_by_text(t("poll.class_map", "en", count=3)).wait_for(timeout=TIMEOUT_MS)
    settle(page)
    poll.evaluate("el => el.scrollIntoView({block: 'start'})")


def scroll_to_first_picture(page) -> None:
    """The page's first picture in the middle of the window (the Building blocks page's filter on the photo)."""
    page.locator('[data-testid="stImage"]').first.evaluate("(picture) => picture.scrollIntoView({block: 'center'})")


SCENES = {  # beyond the pages: name → the URL path (and query) they start on
    "own-network": "",
    "own-onnx": "deconvnet",
    "class": "?teach=new",  # the lecturer's class panel, as the projector shows it
    "prepare": "?prepare=",  # the Prepare box with a lecture's links (LECTURE), pressed
    "poll": "?teach=new",  # the class poll revealed, after three students clicked
}
PUBLIC_URL = "http://192.168.1.20:8501"  # the class panel's join link: a lecture room's server, not 127.0.0.1
LECTURE = (  # the Prepare box's links in its screenshot: what a lecture opens, and a line it refuses
    f"{PUBLIC_URL}/occlusion?arch=efficientnet_lite0&image=chelsea&window=32&stride=16",
    f"{PUBLIC_URL}/trust?arch=efficientnet_lite0&image=chelsea&check=deletion&methods=gradcam,saliency&steps=10",
    f"{PUBLIC_URL}/deconvnet?arch=lenet5&image=digit&layer=conv2",
    f"{PUBLIC_URL}/occlusion?arch=efficientnet_lite0&image=my-photo.jpg",
)
AFTER = {  # what a student would do before looking
    "own-network": upload_own_checkpoint,
    "own-onnx": upload_own_onnx,
    "draw": draw_a_seven,
    "localize": scroll_to_results,
    "transfer": scroll_to_results,
    "dropblock": scroll_to_results,
    "trust": scroll_to_results,
    "blocks": scroll_to_first_picture,
    "poll": a_class_answers_the_poll,
}
TIMEOUT_MS = 300_000
CODE = re.compile(r"\b([0-9A-Z]{4}-[0-9A-Z]{4})\b")  # a class code on the lecturer's panel
IMAGES_LOADED = """() => [...document.querySelectorAll('[data-testid="stImage"] img')]
    .every((img) => img.complete && img.naturalWidth > 0)"""


QUIET_S = 1.5  # Streamlit shows its running indicator only after a run has lasted a moment


def settle(page) -> None:
    """Until no script run has been going for :data:`QUIET_S` seconds, every picture has loaded and the
    charts have drawn."""
    running = page.locator('[data-testid="stStatusWidgetRunningIcon"]')
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < QUIET_S:
        if running.count():
            running.wait_for(state="detached", timeout=TIMEOUT_MS)
            quiet_since = time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{page.url} still runs after {TIMEOUT_MS / 1000:.0f} s")
        page.wait_for_timeout(250)
    page.wait_for_function(IMAGES_LOADED, timeout=TIMEOUT_MS)
    page.wait_for_timeout(800)


def shoot(page, url: str, name: str, lang: str, out: Path) -> Path:
    """The page ``name`` at ``url`` in ``lang``, its results computed, as ``out/<name>-<lang>.png``."""
    page.goto(url)
    page.locator('[data-testid="stHeading"]').first.wait_for(timeout=TIMEOUT_MS)
    settle(page)
    if name in PRESS:
        key, values = PRESS[name]
        page.get_by_role("button", name=t(key, lang, **values)).click(timeout=TIMEOUT_MS)
        page.wait_for_timeout(500)
        settle(page)
    if name in AFTER:
        AFTER[name](page)
        page.wait_for_timeout(500)
        settle(page)
    page.mouse.move(0, VIEWPORT["height"] - 1)  # no hover toolbar over a picture
    path = out / f"{name}-{lang}.png"
    shrink(page.screenshot(), path)
    return path


def shrink(png: bytes, path: Path) -> None:
    """Write the screenshot ``png`` to ``path`` with a palette of :data:`COLOURS` colours, no dithering (flat
    page colours stay flat), compressed as far as PNG goes."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as picture:
        reduced = picture.convert("RGB").quantize(COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        reduced.save(path, optimize=True)


def main() -> None:
    from playwright.sync_api import sync_playwright

    names = [p.name for p in declared_pages()] + list(SCENES)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", nargs="+", default=["en"], choices=("en", "pt", "es"))
    parser.add_argument("--page", nargs="+", default=names, choices=names)
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    paths = {p.name: p.url_path for p in declared_pages()} | SCENES
    port = free_port()
    with open(args.out / "streamlit.log", "w") as log:
        server = start_streamlit("app.py", port, log, env={"CNNVIZ_PUBLIC_URL": PUBLIC_URL})
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                for lang in args.lang:
                    for name in args.page:
                        context = browser.new_context(viewport=VIEWPORT)
                        start = time.perf_counter()
                        path, _, query = paths[name].partition("?")
                        if name == "prepare":
                            query += quote("\n".join(LECTURE))
                        url = f"http://127.0.0.1:{port}/{path}?{query + '&' if query else ''}lang={lang}"
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
