"""Peak memory of decoding one file, for the reference photo and the costliest files cnnviz accepts.

Each file is decoded in a fresh Python process. The peak is Linux's resident high-water mark (``VmHWM``),
reset just before the call (``/proc/self/clear_refs``), minus the resident size at that moment: what the
call added, in MB (10^6 bytes). Three paths:

- ``decode``  ``cnnviz.load_image`` (header checks, scaled decoding, reduce step);
- ``app``     the same plus what a page does next: EfficientNet-Lite0's crop and the PNG sent to the browser;
- ``before``  the decoder as it was before the reduce step (``Image.open`` + ``load`` + EXIF transpose +
  RGB conversion at full size), for comparison.

The costliest accepted files are found by bisection on the side (4:3), one per format and mode, against
``cnnviz.images.decode_cost``; the refused ones are hostile files from the issue tracker.
Usage: ``python -m bench.memory [--json]`` (about a minute).
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from cnnviz.errors import ImageInputError
from cnnviz.images import DECODE_BUDGET, REFERENCE_PHOTO, decode_cost, load_image

PROBE = r"""
import io, sys
from pathlib import Path

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

from PIL import Image, ImageOps
import cnnviz.images as images
from cnnviz.models.preprocess import Preprocessing

data, path = Path(sys.argv[1]).read_bytes(), sys.argv[2]
crop = Preprocessing(resize=256, crop=224, mean=(0.5,) * 3, std=(0.5,) * 3, interpolation="bicubic")
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")
before = status("VmRSS:")
try:
    if path == "before":
        image = Image.open(io.BytesIO(data))
        image.load()
        image = images.to_rgb(ImageOps.exif_transpose(image))
    else:
        image = images.load_image(data)
        if path == "app":
            crop.crop_image(image)
            image.save(io.BytesIO(), format="PNG")
    print((status("VmHWM:") - before) / 1e6, image.size[0], image.size[1])
except images.ImageInputError as exc:
    print("refused", exc.key)
except MemoryError:
    print("refused MemoryError")
"""


def _picture(width: int, height: int, mode: str) -> Image.Image:
    """A smooth, compressible picture (decoders' memory does not depend on content)."""
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :] + np.linspace(0, 64, height, dtype=np.float32)[:, None]
    grey = Image.fromarray(np.clip(ramp, 0, 255).astype(np.uint8), "L")
    if mode == "I;16":
        return Image.fromarray(np.asarray(grey, dtype=np.uint16) * 257)
    if mode == "P":
        return Image.merge("RGB", (grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT), grey)).convert("P")
    return Image.merge("RGB", (grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT), grey)).convert(mode)


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


ENCODINGS = {  # name: (format, mode, save parameters)
    "PNG RGB": ("PNG", "RGB", {"compress_level": 1}),
    "PNG RGBA": ("PNG", "RGBA", {"compress_level": 1}),
    "PNG palette": ("PNG", "P", {}),
    "PNG 16-bit grey": ("PNG", "I;16", {}),
    "JPEG baseline": ("JPEG", "RGB", {"quality": 90}),
    "JPEG progressive": ("JPEG", "RGB", {"quality": 90, "progressive": True}),
    "JPEG progressive 4:4:4": ("JPEG", "RGB", {"quality": 90, "progressive": True, "subsampling": 0}),
    "WebP": ("WEBP", "RGB", {"method": 0}),
    "TIFF deflate": ("TIFF", "RGB", {"compression": "tiff_deflate"}),
    "GIF": ("GIF", "P", {}),
    "BMP": ("BMP", "RGB", {}),
}


def _cost(data: bytes) -> int:
    return decode_cost(Image.open(io.BytesIO(data)))


def _accepted(data: bytes) -> bool:
    try:
        load_image(data)
    except ImageInputError:
        return False
    return True


def largest_accepted(fmt: str, mode: str, params: dict) -> tuple[bytes, tuple[int, int]]:
    """The largest 4:3 file of this encoding that cnnviz accepts (to 16 px)."""
    low, high = 64, 16_000
    while high - low > 16:
        width = (low + high) // 2
        data = _encode(_picture(width, width * 3 // 4, mode), fmt, **params)
        low, high = (width, high) if _accepted(data) else (low, width)
    return _encode(_picture(low, low * 3 // 4, mode), fmt, **params), (low, low * 3 // 4)


def hostile() -> dict[str, bytes]:
    """Files from the issue tracker's hostile-input report and a few of our own."""
    return {
        "8 × 120 000 PNG (1 KB)": _encode(Image.new("L", (8, 120_000)), "PNG"),
        "8 × 60 000 PNG (aspect 7 500)": _encode(Image.new("L", (8, 60_000)), "PNG"),
        "50-megapixel PNG": _encode(_picture(8_160, 6_120, "RGB"), "PNG", compress_level=1),
        "progressive 4:4:4 JPEG, 8 000 × 6 000": _encode(
            _picture(8_000, 6_000, "RGB"), "JPEG", progressive=True, subsampling=0
        ),
    }


def measure(data: bytes, path: str) -> tuple[float | None, str]:
    """(peak MB, note) of decoding ``data`` along ``path`` in a fresh process."""
    with tempfile.NamedTemporaryFile(suffix=".bin") as handle:
        handle.write(data)
        handle.flush()
        root = Path(__file__).resolve().parent.parent
        out = subprocess.run(
            [sys.executable, "-c", PROBE, handle.name, path],
            capture_output=True,
            text=True,
            cwd=root,
            env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
            check=True,
        )
    words = out.stdout.split()
    if words[0] == "refused":
        return None, f"refused ({words[1]})"
    return float(words[0]), f"{words[1]}×{words[2]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    photo = Image.open(io.BytesIO(_encode(_picture(*REFERENCE_PHOTO, "RGB"), "PNG")))
    rows = []
    reference = {
        f"12-MP photo, {name}": _encode(photo.convert(ENCODINGS[name][1]), ENCODINGS[name][0], **ENCODINGS[name][2])
        for name in ("PNG RGB", "JPEG baseline", "JPEG progressive", "TIFF deflate")
    }
    accepted = {}
    for name, (fmt, mode, params) in ENCODINGS.items():
        data, size = largest_accepted(fmt, mode, params)
        accepted[f"largest {name}: {size[0]} × {size[1]}"] = data
    for group, files in (("reference", reference), ("accepted", accepted), ("hostile", hostile())):
        for name, data in files.items():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    estimate = _cost(data) / 1e6
            except Exception:  # headers Pillow itself refuses
                estimate = float("nan")
            row = {"group": group, "file": name, "file_mb": len(data) / 1e6, "estimate_mb": estimate}
            for path in ("decode", "app", "before"):
                row[f"{path}_mb"], row[f"{path}_note"] = measure(data, path)
            rows.append(row)
    if args.json:
        print(json.dumps({"budget_mb": DECODE_BUDGET / 1e6, "rows": rows}))
        return
    print(f"decode budget {DECODE_BUDGET / 1e6:.1f} MB\n")
    print("| file | file MB | estimate MB | decode MB | app MB | before MB |")
    print("|---|---|---|---|---|---|")

    def cell(row, path):
        value = row[f"{path}_mb"]
        return row[f"{path}_note"] if value is None else f"{value:.1f}"

    for row in rows:
        print(
            f"| {row['file']} | {row['file_mb']:.2f} | {row['estimate_mb']:.1f} | {cell(row, 'decode')} | "
            f"{cell(row, 'app')} | {cell(row, 'before')} |"
        )
    worst = max(r["decode_mb"] for r in rows if r["group"] == "accepted" and r["decode_mb"] is not None)
    ref = max(r["decode_mb"] for r in rows if r["group"] == "reference")
    print(f"\ncostliest accepted file {worst:.1f} MB vs the 12-MP photo's costliest encoding {ref:.1f} MB")


if __name__ == "__main__":
    try:
        main()
    except ImageInputError as exc:
        raise SystemExit(f"bench/memory.py: {exc}") from None
