"""The building blocks' time on a photo at the decoder's largest size (1.2 megapixels), against the goal of
a slider a lecturer drags live: every setting answered within 0.3 s on the 2-core CPU. Each row is one
slider's answer: the convolution (every colour channel, or the luminance), ReLU, pooling and the picture
drawn, median of 5.

Usage: ``python -m bench.blocks [--markdown]``.
"""

from __future__ import annotations

import argparse
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
    from PIL import Image

    from cnnviz import blocks
    from cnnviz.gallery import gallery_image
    from cnnviz.images import KEPT_PIXELS, kept_size
    from cnnviz.render import signed_picture

    photo = gallery_image("astronaut")
    photo = photo.resize(kept_size(photo.width * 4, photo.height * 4, KEPT_PIXELS), Image.Resampling.LANCZOS)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows, size = measure()
    header = ("kernel", "stride", "padding", "dilation", "input", "pooling", "output", "seconds", "goal (s)")
    table = [(*row[:7], f"{row[7]:.3f}", f"{GOAL_S}") for row in rows]
    if args.markdown:
        print(f"Photo: {size} px.\n")
        print(markdown(header, table))
    else:
        print(f"photo {size} px")
        for row in table:
            print(" · ".join(map(str, row)))


if __name__ == "__main__":
    main()
