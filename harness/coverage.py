"""Each engine view on one network, in this process: what ``bench/coverage.py`` runs per network (each in its
own process) and the test suite runs on a fixed sample (``tests/test_library_models.py``).

Views: the layer table, top-5, a deconvnet projection (the default layer), Grad-CAM, occlusion by incremental
and by full inference at a coarse stride (their probabilities compared: the classifier is scaled ×20 on this
process's copy so the softmax is not flat), and the fully convolutional twin (its logits at the input size
against the network's; three windows a side at the input size plus twice its stride). Each view ends as
``works``, ``refused`` (a :class:`~cnnviz.errors.CnnvizError`: the sentence a student would read) or
``failed`` (anything else).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

VIEWS = ("layers", "predict", "deconv", "gradcam", "occlusion", "twin")
SCALE = 20.0  # the classifier's weights and bias × this: random weights otherwise give a flat softmax
EXACT = 1e-5  # largest |incremental − full| allowed on probabilities


def scale_classifier(model: nn.Module) -> None:
    """The last linear (or, failing that, convolution) layer's weights and bias × :data:`SCALE` (weights drawn
    first when the library initialised them to zero)."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear)] or [
        m for m in model.modules() if isinstance(m, nn.Conv2d)
    ]
    with torch.no_grad():
        if not last[-1].weight.any():  # timm initialises some classifiers to zero: every logit would be 0
            nn.init.normal_(last[-1].weight, std=0.01)
        last[-1].weight.mul_(SCALE)
        if last[-1].bias is not None:
            last[-1].bias.mul_(SCALE)


def _views(net, image) -> dict:
    """Each view's function for ``net`` on ``image``: it returns a short detail, or raises."""
    from cnnviz.explain.methods import METHODS
    from cnnviz.explain.twin import convolutional_twin
    from cnnviz.layers import layer_table

    def layers() -> str:
        return f"{len(layer_table(net.spec).layers)} rows"

    def predict() -> str:
        import cnnviz

        return cnnviz.predict(net, image, 5).scores[0].label

    def deconv() -> str:
        return METHODS["deconv"].run(net, image).layer

    def gradcam() -> str:
        return METHODS["classmap"].run(net, image, method="gradcam").layer or ""

    def occlusion() -> str:
        window = net.spec.input_size // 4
        maps = {
            method: METHODS["occlusion"].run(net, image, window=window, stride=window, method=method)
            for method in ("incremental", "full")
        }
        gap = float(np.abs(maps["incremental"].probability - maps["full"].probability).max())
        if not gap <= EXACT:  # NaN fails too
            raise AssertionError(f"incremental differs from full by {gap:.1e}")
        return f"{maps['incremental'].method}, |Δp| {gap:.0e}"

    def twin() -> str:
        x = net.to_input(net.preprocess(image))
        with torch.inference_mode():
            ours = convolutional_twin(net)(x).flatten(1)
            theirs = net.model(x)
        gap = float((ours - theirs).abs().max() / theirs.abs().max())
        if not gap <= 1e-4:  # NaN fails too
            raise AssertionError(f"twin differs from the network by {gap:.1e} of its largest logit")
        twin = convolutional_twin(net)
        larger = x.shape[-1] + 2 * twin.stride  # three windows a side
        with torch.inference_mode():
            grid = tuple(twin(torch.zeros(1, x.shape[1], larger, larger, dtype=x.dtype)).shape[-2:])
        if grid != (3, 3):
            raise AssertionError(f"twin gives a {grid} grid at {larger} px, not 3 × 3")
        return f"{gap:.0e}"

    return {
        "layers": layers,
        "predict": predict,
        "deconv": deconv,
        "gradcam": gradcam,
        "occlusion": occlusion,
        "twin": twin,
    }


def one(name: str) -> dict:
    """Every view on network ``name`` in this process: {view: (outcome, detail, seconds)}."""
    import cnnviz
    from cnnviz.errors import CnnvizError
    from cnnviz.gallery import gallery_image

    row: dict = {"name": name}
    start = time.perf_counter()
    try:
        net = cnnviz.load(name, weights="random", device="cpu")
    except CnnvizError as refused:
        return {**row, "load": ("refused", str(refused), time.perf_counter() - start)}
    except Exception as exc:  # the benchmark reports every failure
        return {**row, "load": ("failed", f"{type(exc).__name__}: {exc}"[:200], time.perf_counter() - start)}
    scale_classifier(net.model)
    return {**row, **run_views(net, gallery_image("chelsea"))}


def run_views(net, image) -> dict:
    """Every view on loaded network ``net`` and ``image``: {"parameters": count, view: (outcome, detail,
    seconds)}."""
    from cnnviz.errors import CnnvizError

    row: dict = {"parameters": sum(p.numel() for p in net.model.parameters())}
    for view, run in _views(net, image).items():
        start = time.perf_counter()
        try:
            row[view] = ("works", run(), time.perf_counter() - start)
        except CnnvizError as refused:
            row[view] = ("refused", str(refused), time.perf_counter() - start)
        except Exception as exc:  # reported as the view's outcome
            row[view] = ("failed", f"{type(exc).__name__}: {exc}"[:200], time.perf_counter() - start)
    return row
