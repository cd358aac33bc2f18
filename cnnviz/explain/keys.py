"""One key for every explanation result, so a result computed for one session serves every other one that
asks the same question of the same network, weights, device and image."""

from __future__ import annotations

from cnnviz.models.loading import LoadedModel


def result_key(method: str, net: LoadedModel, image: str | tuple, **params) -> tuple:
    """``(method, architecture, weights source, device, image, parameters)``, hashable.

    ``image`` is the photo's SHA-256 digest (or a sorted tuple of digests for a set of images);
    ``params`` are the method's parameters (lists are turned into tuples), sorted by name.
    """
    settled = tuple(sorted((name, tuple(v) if isinstance(v, list) else v) for name, v in params.items()))
    return (method, net.spec.name, net.weights_source.value, str(net.device), image, settled)
