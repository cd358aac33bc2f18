"""One row per architecture for comparisons: parameters, MACs, ImageNet accuracy and lecture facts.

Accuracy comes only from the published weights' metadata (torchvision ``Weights.meta["_metrics"]``); an
architecture whose weights carry none has ``None`` there. Parameters and MACs are counted by
:mod:`cnnviz.layers` at each architecture's own input size.
"""

from __future__ import annotations

import pandas as pd

from cnnviz.layers import layer_table
from cnnviz.zoo import ARCHITECTURES, ArchSpec


def published_accuracy(spec: ArchSpec) -> tuple[float | None, float | None]:
    """(top-1, top-5) ImageNet accuracy in percent from the weights' metadata, or (None, None)."""
    ref = spec.pretrained
    if ref is None or ref.library != "torchvision":
        return None, None
    metrics = ref.torchvision_weights().meta.get("_metrics", {}).get("ImageNet-1K", {})
    return metrics.get("acc@1"), metrics.get("acc@5")


def architecture_summary() -> pd.DataFrame:
    """Every zoo architecture with year, family, parameters, GMACs, published accuracy and lecture facts."""
    records = []
    for spec in ARCHITECTURES.values():
        table = layer_table(spec)
        top1, top5 = published_accuracy(spec)
        records.append(
            {
                "name": spec.name,
                "display": spec.display,
                "family": spec.family,
                "year": spec.year,
                "input_size": spec.input_size,
                "params": table.total_params,
                "params_m": table.total_params / 1e6,
                "gmacs": table.total_macs / 1e9,
                "top1": top1,
                "top5": top5,
                "lecture_top5_error": spec.lecture.top5_error,
                "ilsvrc": spec.lecture.ilsvrc or "",
            }
        )
    return pd.DataFrame(records)
