"""The results the server holds for every session are bounded in bytes, not only in count, and the memory
they held returns when they leave (measured on real activation maps of the bundled network)."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from cnnviz.explain.activations import activation_maps
from cnnviz.explain.occlusion import occlusion
from cnnviz.layers import spatial_layers
from ui.results import ResultCache, held_bytes

MIB = 2**20


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


def test_memory_after_a_storm_of_results_stays_within_the_bound_and_returns(lite0, chelsea):
    """Sixty fresh results of about 1.6 MiB (96 MiB in all) into a cache bounded at 16 MiB: resident memory
    grows by about the bound, not by the storm, and falls back when the cache is dropped."""
    layer = spatial_layers(lite0.spec, lite0.preprocess.input_size)[0]
    first = activation_maps(lite0, chelsea, layer)
    gc.collect()
    idle = resident_bytes()
    cache = ResultCache(max_entries=1000, max_bytes=16 * MIB)
    for i in range(60):
        maps = activation_maps(lite0, chelsea, layer)  # new arrays each time, as new requests make
        cache.put(("maps", i), maps)
        del maps
    gc.collect()
    stored = 60 * held_bytes(first)
    after_storm = resident_bytes() - idle
    assert cache.bytes <= 16 * MIB < stored / 4
    assert after_storm < 16 * MIB + 24 * MIB, f"{after_storm / MIB:.0f} MiB held after the storm"
    del cache
    gc.collect()
    assert resident_bytes() - idle < 12 * MIB
