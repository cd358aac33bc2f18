"""The results the server holds for every session are bounded in bytes, not only in count, and the memory
they held returns when they leave (measured on real activation maps of the bundled network)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.explain.activations import activation_maps
from cnnviz.explain.occlusion import occlusion
from cnnviz.layers import spatial_layers
from ui.results import ResultCache, held_bytes

MIB = 2**20
ROOT = Path(__file__).resolve().parents[2]


def resident_bytes() -> int:
    """This process's resident memory (Linux ``/proc/self/statm``), bytes."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def early_maps(lite0, chelsea, coffee) -> list:
    """Activation maps of Lite0's four earliest spatial layers on two photos (the largest results a
    Deconvnet page keeps: 0.4 to 1.6 MiB each)."""
    layers = spatial_layers(lite0.spec, lite0.preprocess.input_size)[:4]
    return [activation_maps(lite0, image, layer) for image in (chelsea, coffee) for layer in layers]


def test_held_bytes_counts_the_arrays_inside_records(lite0, coffee, early_maps):
    maps = early_maps[0]
    assert maps.maps.nbytes <= held_bytes(maps) <= maps.maps.nbytes * 1.05 + 10_000
    occluded = occlusion(lite0, coffee, 112, 56)  # a record of several arrays
    arrays = occluded.probability.nbytes + occluded.argmax.nbytes + occluded.overlay.nbytes
    assert held_bytes(occluded) >= arrays


def test_the_cache_keeps_at_most_its_bytes_least_recently_used_out(early_maps):
    sizes = [held_bytes(m) for m in early_maps]
    bound = sizes[-1] + sizes[-2] + 1  # room for the last two only
    cache = ResultCache(max_entries=64, max_bytes=bound)
    for i, maps in enumerate(early_maps):
        cache.put(("maps", i), maps)
        assert cache.bytes <= bound
    assert cache.get(("maps", len(early_maps) - 1)) is not None and cache.get(("maps", 0)) is None
    assert cache.bytes == sizes[-1] + sizes[-2]
    too_big = ResultCache(max_entries=64, max_bytes=sizes[0] - 1)
    too_big.put(("maps", 0), early_maps[0])  # handed back by get_or_compute, but not kept
    assert too_big.get(("maps", 0)) is None and too_big.bytes == 0


STORM_BOUND = 16 * MIB


def storm_in_this_process() -> dict[str, int]:
    """Sixty fresh activation maps of Lite0's first spatial layer (about 1.6 MiB each, 96 MiB in all) into
    a cache bounded at ``STORM_BOUND``; resident memory (bytes) after the storm and after the cache is
    dropped, each over the idle level, with freed heap handed back as the server's sweeper does."""
    import cnnviz
    from cnnviz.gallery import gallery_image
    from ui.uploads import release_free_memory

    lite0 = cnnviz.load("efficientnet_lite0", weights="bundled", device="cpu")
    chelsea = gallery_image("chelsea")
    layer = spatial_layers(lite0.spec, lite0.preprocess.input_size)[0]
    one_result = held_bytes(activation_maps(lite0, chelsea, layer))
    gc.collect()
    release_free_memory()
    idle = resident_bytes()
    cache = ResultCache(max_entries=1000, max_bytes=STORM_BOUND)
    for i in range(60):
        cache.put(("maps", i), activation_maps(lite0, chelsea, layer))  # new arrays, as new requests make
    gc.collect()
    release_free_memory()
    after_storm = resident_bytes() - idle
    kept = cache.bytes
    del cache
    gc.collect()
    release_free_memory()
    return {"stored": 60 * one_result, "kept": kept, "after_storm": after_storm, "after_drop": resident_bytes() - idle}


def test_memory_after_a_storm_of_results_stays_within_the_bound_and_returns():
    """Resident memory grows by about the bound, not by the storm, and falls back to near idle when the
    results leave. Measured in a fresh interpreter: after the rest of the suite, this one's heap is too
    fragmented for a few MiB to mean anything."""
    code = "import json, tests.app.test_result_memory as m; print(json.dumps(m.storm_in_this_process()))"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    measured = json.loads(run.stdout.splitlines()[-1])
    assert measured["kept"] <= STORM_BOUND < measured["stored"] / 4
    assert measured["after_storm"] < STORM_BOUND + 8 * MIB, f"{measured['after_storm'] / MIB:.0f} MiB after the storm"
    assert measured["after_drop"] < 4 * MIB, f"{measured['after_drop'] / MIB:.0f} MiB after the results left"
