"""The building blocks' time on a photo at the decoder's largest size (1.2 megapixels), against the goal of
a slider a lecturer drags live: every setting answered within 0.3 s on the 2-core CPU.

Two tables: the engine's answer to one setting (the convolution of every colour channel or of the
luminance, ReLU, pooling and the picture drawn, median of 5), and the Building blocks page's whole script
run after each slider moves (Streamlit's AppTest: the real sidebar and page, every section redrawn, the
pictures encoded; not the browser's drawing), median of 3 moves.

``--figures`` prints instead the figures the page's guide quotes: the shift experiment on the gallery cat
(Sobel x, the luminance) and through the bundled EfficientNet-Lite0, and the dense layer's count.

Usage: ``python -m bench.blocks [--markdown | --figures]``.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

from bench.report import markdown

GOAL_S = 0.3
SETTINGS = (  # kernel, stride, padding, dilation, grey, pooling
    ("sobel-x", 1, 0, 1, False, None),
    ("sobel-x", 1, 0, 1, True, None),
    ("blur", 1, 1, 1, False, "max"),
    ("1,1,1,1,1;1,1,1,1,1;1,1,1,1,1;1,1,1,1,1;1,1,1,1,1", 1, 2, 1, False, "avg"),
    ("sharpen", 2, 1, 3, False, "max"),
)


def measure(repeats: int = 5) -> list[tuple]:
    """Rows: (kernel, stride, padding, dilation, channels, pooling, output shape, median seconds)."""
    from cnnviz import blocks
    from cnnviz.render import signed_picture

    photo = large_photo()
    rows = []
    for spec, stride, padding, dilation, grey, pooling in SETTINGS:
        weights = blocks.kernel(spec)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            y = blocks.convolve(blocks.photo_input(photo, grey), weights, stride, padding, dilation)
            y = blocks.relu(y)
            if pooling:
                y = blocks.pool(y, pooling, 2)
            signed_picture(y)
            times.append(time.perf_counter() - start)
        shape = "×".join(map(str, y.shape))
        kernel = spec if spec in blocks.KERNELS else f"{weights.shape[0]}×{weights.shape[1]} typed"
        channels = "grey" if grey else "colour"
        rows.append((kernel, stride, padding, dilation, channels, pooling or "", shape, statistics.median(times)))
    return rows, f"{photo.width}×{photo.height}"


# The page with the large photo in place of the sidebar's: the same script app.py runs for the page.
PAGE_SCRIPT = """
import dataclasses
import time
import streamlit as st
from ui.pages import page_named
from ui.sidebar import init_session, render_sidebar
from bench.blocks import RUNS, large_photo
start = time.perf_counter()
page = page_named("blocks")
init_session()
photo = large_photo()
st.session_state["choices"] = dataclasses.replace(render_sidebar(), image=photo, image_digest="large photo")
page.render()
RUNS.append(time.perf_counter() - start)
"""
RUNS: list[float] = []  # seconds of each script run, timed inside the script (not AppTest's polling)
# (slider key, the values it is moved through): each move is one script run
MOVES = (
    ("blocks_stride", (2, 1, 3)),
    ("blocks_padding", (2, 4, 0)),
    ("blocks_dilation", (2, 3, 1)),
    ("blocks_unit_row", (10, 500, 900)),
    ("blocks_shift", (3, 8, 16)),
    ("blocks_pool_stride", (1, 3, 2)),
    ("blocks_bn_channel", (4, 9, 20)),
    ("blocks_dropout", (0.2, 0.7, 0.5)),
)


@functools.cache
def large_photo():
    """The astronaut enlarged to the decoder's largest size (about 1.2 megapixels)."""
    from PIL import Image

    from cnnviz.gallery import gallery_image
    from cnnviz.images import KEPT_PIXELS, kept_size

    photo = gallery_image("astronaut")
    return photo.resize(kept_size(photo.width * 4, photo.height * 4, KEPT_PIXELS), Image.Resampling.LANCZOS)


def measure_page() -> tuple[float, list[tuple[str, float, float]]]:
    """The page's first run (s) and, per slider, the median and worst seconds of a script run after it moves."""
    from streamlit.testing.v1 import AppTest

    import bench.blocks  # the script appends to this module's list, also when this file runs as __main__

    runs = bench.blocks.RUNS
    app = AppTest.from_string(PAGE_SCRIPT, default_timeout=300)
    app.run()
    first = runs[-1]
    if app.exception or app.error:
        raise RuntimeError(f"the page failed: {app.exception or app.error}")
    rows = []
    for key, values in MOVES:
        times = []
        for value in values:
            app.slider(key=key).set_value(value)
            app.run()
            times.append(runs[-1])
            if app.exception or app.error:
                raise RuntimeError(f"{key}={value}: {app.exception or app.error}")
        rows.append((key.removeprefix("blocks_"), statistics.median(times), max(times)))
    return first, rows


def figures() -> None:
    """The guide's figures, as Markdown tables."""
    import cnnviz
    from cnnviz import blocks
    from cnnviz.blocks.network import first_layers
    from cnnviz.blocks.translation import shifted_maps, shifted_prediction
    from cnnviz.gallery import gallery_image

    cat = gallery_image("chelsea")
    x, sobel = blocks.photo_input(cat, grey=True), blocks.kernel("sobel-x")
    rows = []
    for stride, shift in ((1, 1), (1, 2), (1, 4), (2, 2), (2, 3), (2, 4)):
        maps = shifted_maps(x, sobel, shift, stride)
        rows.append(
            (
                stride,
                shift,
                f"{maps.map_shift:g}",
                f"{maps.aligned_difference:.1e}",
                f"{maps.conv_change:.1%}",
                f"{maps.relu_change:.1%}",
                f"{maps.pooled_change:.1%}",
            )
        )
    header = ("stride", "shift (px)", "map shift (units)", "aligned difference", "conv", "ReLU", "2×2 max pool")
    print(f"Shift experiment, gallery cat ({cat.width}×{cat.height}), Sobel x on the luminance:\n")
    print(markdown(header, rows))
    lite0 = cnnviz.load("efficientnet_lite0")
    rows = []
    for shift in (1, 2, 4, 8, 16, 32):
        moved = shifted_prediction(lite0, cat, shift)
        rows.append((shift, f"{moved.overlap}/5", "yes" if moved.top1_kept else "no", f"{moved.total_variation:.1%}"))
    print("\nEfficientNet-Lite0 (bundled ImageNet weights) on the cat shifted at its 224 px input:\n")
    print(markdown(("shift (px)", "top-5 kept", "top-1 kept", "total variation"), rows))
    layers = first_layers(lite0, cat)
    norm = layers.batch_norm
    print(
        f"\nLite0 {layers.conv_layer}: output {layers.conv_output}, {layers.conv_parameters:,} parameters; a dense "
        f"layer with that output from {layers.input_shape}: {layers.dense_same_output:,}; {norm.layer}: running "
        f"mean {norm.running_mean.min():.3g}…{norm.running_mean.max():.3g}, variance "
        f"{norm.running_var.min():.3g}…{norm.running_var.max():.3g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--figures", action="store_true")
    args = parser.parse_args()
    if args.figures:
        figures()
        return
    rows, size = measure()
    header = ("kernel", "stride", "padding", "dilation", "input", "pooling", "output", "seconds", "goal (s)")
    table = [(*row[:7], f"{row[7]:.3f}", f"{GOAL_S}") for row in rows]
    first, moves = measure_page()
    page_header = ("slider moved", "median s", "worst s", "goal (s)")
    page_table = [(name, f"{median:.3f}", f"{worst:.3f}", f"{GOAL_S}") for name, median, worst in moves]
    if args.markdown:
        print(f"Photo: {size} px.\n")
        print(markdown(header, table))
        print(f"\nThe page's script run after a slider moves (first run, models loaded: {first:.1f} s):\n")
        print(markdown(page_header, page_table))
    else:
        print(f"photo {size} px")
        for row in table:
            print(" · ".join(map(str, row)))
        print(f"page: first run {first:.1f} s")
        for row in page_table:
            print(" · ".join(map(str, row)))


if __name__ == "__main__":
    main()
