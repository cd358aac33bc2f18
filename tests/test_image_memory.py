"""The decode budget, proved under an address-space limit: the costliest files cnnviz accepts decode in a
process that may map only ``DECODE_BUDGET`` + 16 MB more than it already has, where decoding the
ordinary way (whole frame, then EXIF transpose and RGB conversion) runs out of memory."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.images import DECODE_BUDGET, REFERENCE_PHOTO, decode_cost

ROOT = Path(__file__).resolve().parents[1]
SLACK = 16_000_000  # bytes: Python's and the codecs' own small allocations

PROBE = r"""
import io, resource, sys
from pathlib import Path
from PIL import Image, ImageOps
import cnnviz.images as images

def mapped():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024

path, files = sys.argv[1], sys.argv[2:]
datas = [Path(f).read_bytes() for f in files]
resource.setrlimit(resource.RLIMIT_AS, (mapped() + images.DECODE_BUDGET + SLACK, resource.RLIM_INFINITY))
for name, data in zip(files, datas):
    try:
        if path == "ordinary":
            image = Image.open(io.BytesIO(data))
            image.load()
            image = images.to_rgb(ImageOps.exif_transpose(image))
        else:
            image = images.load_image(data)
        print(Path(name).name, "decoded", image.width * image.height)
    except MemoryError:
        print(Path(name).name, "MemoryError")
    except Exception as exc:  # a codec that cannot even load under the limit
        print(Path(name).name, type(exc).__name__)
""".replace("SLACK", str(SLACK))


def _picture(width: int, height: int, mode: str) -> Image.Image:
    ramp = np.add.outer(np.linspace(0, 64, height), np.linspace(0, 191, width)).astype(np.uint8)
    grey = Image.fromarray(ramp)
    if mode == "I;16":
        return Image.fromarray(np.asarray(grey, dtype=np.uint16) * 257)
    rgb = Image.merge("RGB", (grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT), grey))
    return rgb.convert(mode)


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


COSTLIEST = {  # near the budget, each in its own way
    "photo-12mp.tif": lambda: _encode(_picture(*REFERENCE_PHOTO, "RGB"), "TIFF", compression="tiff_deflate"),
    "photo-12mp.png": lambda: _encode(_picture(*REFERENCE_PHOTO, "RGB"), "PNG", compress_level=1),
    "photo-12mp-progressive.jpg": lambda: _encode(_picture(*REFERENCE_PHOTO, "RGB"), "JPEG", progressive=True),
    "rgba-8.6mp.png": lambda: _encode(_picture(3394, 2545, "RGBA"), "PNG", compress_level=1),
    "palette-18.8mp.png": lambda: _encode(_picture(5000, 3750, "P"), "PNG"),
    "grey16-12mp.png": lambda: _encode(_picture(*REFERENCE_PHOTO, "I;16"), "PNG"),
    "baseline-89mp.jpg": lambda: _encode(_picture(10900, 8180, "RGB"), "JPEG"),
    "photo-3mp.webp": lambda: _encode(_picture(2040, 1530, "RGB"), "WEBP", method=0),
}


@pytest.fixture(scope="module")
def costliest(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("costliest")
    paths = []
    for name, make in COSTLIEST.items():
        data = make()
        assert decode_cost(Image.open(io.BytesIO(data))) <= DECODE_BUDGET, name
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return paths


def _run(path: str, files: list[Path]) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, path, *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return {line.split()[0]: line.split()[1] for line in out.stdout.splitlines()}


def test_the_costliest_accepted_files_decode_within_the_budget(costliest):
    outcome = _run("cnnviz", costliest)
    assert outcome == {path.name: "decoded" for path in costliest}


def test_the_ordinary_decode_of_the_same_files_does_not_fit(costliest):
    outcome = _run("ordinary", costliest)
    assert outcome["photo-12mp.png"] == "MemoryError"  # 145 MB the ordinary way
    assert outcome["baseline-89mp.jpg"] == "MemoryError"  # 1 GB the ordinary way
