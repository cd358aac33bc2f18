"""One row per architecture for comparisons: parameters, MACs, ImageNet accuracy and lecture facts.

Accuracy comes from the published weights' metadata (torchvision ``Weights.meta["_metrics"]``) or, for
timm's weights, which carry none, from timm's own results table as the zoo records it; every figure comes
with its source. An architecture without published weights has ``None`` there. Parameters and MACs are counted by
:mod:`cnnviz.layers` at each architecture's own input size.
"""

from __future__ import annotations

import pandas as pd

from cnnviz.layers import layer_table
from cnnviz.models.zoo import ARCHITECTURES, ArchSpec


def published_accuracy(spec: ArchSpec) -> tuple[float | None, float | None, str]:
    """(top-1, top-5) ImageNet-1k validation accuracy in percent and where it is published: torchvision's
    weights metadata, else the figure the zoo records for the weights (timm's results table); (None, None,
    "") for an architecture without published weights."""
    ref = spec.pretrained
    if ref is None:
        return None, None, ""
    if ref.library == "torchvision":
        metrics = ref.torchvision_weights().meta.get("_metrics", {}).get("ImageNet-1K", {})
        return metrics.get("acc@1"), metrics.get("acc@5"), f"torchvision {ref.tag} metadata"
    if ref.accuracy is None:
        return None, None, ""
    return (*ref.accuracy, ref.accuracy_source)


def architecture_summary() -> pd.DataFrame:
    """Every zoo architecture by registry name (``arch``) with year, family, parameters, GMACs, published
    accuracy with its source, and lecture facts."""
    records = []
    for spec in ARCHITECTURES.values():
        table = layer_table(spec)
        top1, top5, source = published_accuracy(spec)
        records.append(
            {
                "arch": spec.name,
                "display": spec.display,
                "family": spec.family,
                "year": spec.year,
                "input_size": spec.input_size,
                "params": table.total_params,
                "params_m": table.total_params / 1e6,
                "gmacs": table.total_macs / 1e9,
                "top1": top1,
                "top5": top5,
                "accuracy_source": source,
                "lecture_top5_error": spec.lecture.top5_error,
                "ilsvrc": spec.lecture.ilsvrc or "",
            }
        )
    return pd.DataFrame(records)
