"""Results as bytes for a cache shared between servers: real results survive the round trip exactly, and
forged, damaged or oversized entries are refused without running anything."""

import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

import cnnviz
from cnnviz.codec import MAGIC, CodecError, decode, encode
from cnnviz.explain.occlusion import occlusion
from cnnviz.explain.patches import top_patches
from cnnviz.gallery import gallery_image
from cnnviz.labs.pooling import precomputed_default

LIMIT = 64 * 2**20


def _same(a, b) -> None:
    """Equal values, arrays element for element (dtype and shape too), records field by field."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif hasattr(a, "__dataclass_fields__"):
        for name in a.__dataclass_fields__:
            _same(getattr(a, name), getattr(b, name))
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


@pytest.fixture(scope="module")
def lenet():
    return cnnviz.load("lenet5", weights="bundled", device="cpu")


def test_an_occlusion_map_survives_the_round_trip_exactly(lenet):
    layer = next(name for name, module in lenet.model.named_modules() if isinstance(module, torch.nn.Conv2d))
    maps = occlusion(lenet, gallery_image("digit"), window=8, stride=4, fill="black", layer=layer)
    assert maps.probability.std() > 0  # a real map, not a flat one
    _same(maps, decode(encode(maps), LIMIT))


def test_top_patches_and_a_lab_run_survive_the_round_trip(lenet):
    images = {"digit": gallery_image("digit")}
    layer = next(name for name, module in lenet.model.named_modules() if isinstance(module, torch.nn.Conv2d))
    found = top_patches(lenet, images, layer, 0)
    _same(found, decode(encode(found), LIMIT))
    lab = precomputed_default()
    assert lab is not None
    _same(lab, decode(encode(lab), LIMIT))


def test_plain_values_arrays_scalars_and_tensors():
    value = {
        "a": [1, 2.5, None, True, "x", float("nan")],
        3: (np.float32(0.25), np.arange(6, dtype=np.int16).reshape(2, 3)),
        "t": torch.linspace(0, 1, 5),
    }
    _same(value, decode(encode(value), LIMIT))


def test_values_outside_the_format_are_not_written():
    with pytest.raises(CodecError):
        encode({"model": torch.nn.Linear(2, 2)})
    with pytest.raises(CodecError):
        encode(np.array([object()], dtype=object))


class _Explodes:
    def __reduce__(self):
        return (os.system, ("touch /tmp/cnnviz-codec-pwned",))


def test_a_pickle_is_refused_and_never_run(tmp_path):
    marker = "/tmp/cnnviz-codec-pwned"
    if os.path.exists(marker):
        os.remove(marker)
    for forged in (pickle.dumps(_Explodes()), MAGIC + pickle.dumps(_Explodes())):
        with pytest.raises(CodecError):
            decode(forged, LIMIT)
    assert not os.path.exists(marker)


def _entry(description: bytes, archive: bytes = b"") -> bytes:
    if not archive:
        buffer = io.BytesIO()
        np.savez(buffer)
        archive = buffer.getvalue()
    return MAGIC + len(description).to_bytes(8, "big") + description + archive


@pytest.mark.parametrize(
    "description",
    [
        b'{"record": "os:DirEntry", "fields": {}}',  # a class outside cnnviz
        b'{"record": "cnnviz.models.loading:torch", "fields": {}}',  # a module, not a record
        b'{"named": "cnnviz.errors:CnnvizError", "items": []}',  # not a named tuple
        b'{"record": "cnnviz.explain.occlusion:OcclusionMaps", "fields": {"target": 1}}',  # fields missing
        b'{"array": "a0"}',  # no such array
        b"[1, 2",  # broken JSON
        b'{"surprise": 1}',
    ],
)
def test_forged_descriptions_are_refused(description):
    with pytest.raises(CodecError):
        decode(_entry(description), LIMIT)


def test_object_arrays_and_compressed_members_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a0.npy", buffer.getvalue())
    with pytest.raises(CodecError):
        decode(_entry(b'{"array": "a0"}', archive.getvalue()), LIMIT)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a0.npy", b"\0" * 10_000_000)
    with pytest.raises(CodecError, match="compressed"):
        decode(_entry(b'{"array": "a0"}', bomb.getvalue()), LIMIT)


def test_oversized_and_truncated_entries_are_refused():
    entry = encode(np.zeros(1000))
    with pytest.raises(CodecError, match="over the limit"):
        decode(entry, 100)
    with pytest.raises(CodecError):
        decode(entry[: len(entry) // 2], LIMIT)
    with pytest.raises(CodecError):
        decode(MAGIC + (10**12).to_bytes(8, "big"), LIMIT)
