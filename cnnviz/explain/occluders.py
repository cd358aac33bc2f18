"""The two ways to push a batch of occluded copies through a network; both give the same numbers.

- :class:`FullOccluder` builds every occluded image and runs the whole network on it (what captum's
  ``Occlusion`` does).
- :class:`IncrementalOccluder` recomputes only what each square can change
  (:mod:`cnnviz.explain.incremental`).

Each knows the clean image's logits and, when a layer is named, that layer's clean map; ``run`` returns
the logits (N×classes, float32) and the total of one channel of the layer's map per occluded copy.
"""

from __future__ import annotations

import torch

from cnnviz.explain.graphs import layer_module, private_graph
from cnnviz.explain.incremental import Dense, IncrementalGraph
from cnnviz.explain.regions import Patch
from cnnviz.models.loading import LoadedModel

METHODS = ("auto", "incremental", "full")


class FullOccluder:
    """Whole occluded images through the whole network."""

    name = "full"

    def __init__(self, net: LoadedModel, x: torch.Tensor, baseline: torch.Tensor, window: int, layer: str | None):
        self.net, self.x, self.baseline, self.window = net, x, baseline, window
        self.graph = private_graph(net.model)
        self._captured: list[torch.Tensor] = []
        self._handle = None
        if layer is not None:
            module = layer_module(self.graph, layer, net.spec.display)
            self._handle = module.register_forward_hook(lambda mod, inputs, output: self._captured.append(output))
        try:
            self.clean_logits = self.graph(x)
            self.clean_map = self._captured.pop() if layer is not None else None
        except BaseException:
            self.close()
            raise

    def run(self, corners: torch.Tensor, channel: int | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        side = self.x.shape[-1]
        coords = torch.arange(side, device=self.x.device)
        top, left = corners[:, :1].to(self.x.device), corners[:, 1:].to(self.x.device)
        rows = (coords.view(1, -1) >= top) & (coords.view(1, -1) < top + self.window)
        cols = (coords.view(1, -1) >= left) & (coords.view(1, -1) < left + self.window)
        mask = (rows[:, :, None] & cols[:, None, :]).unsqueeze(1)  # N×1×H×W
        self._captured.clear()
        try:
            logits = self.graph(self.net.to_input(torch.where(mask, self.baseline.unsqueeze(0), self.x)))
            activity = self._captured.pop()[:, channel].float().sum(dim=(1, 2)) if channel is not None else None
        finally:
            self._captured.clear()
        return logits.float(), activity

    def close(self) -> None:
        if self._handle is not None:
            self._handle.remove()


class IncrementalOccluder:
    """Only the changed rectangle of each layer (Krypton)."""

    name = "incremental"

    def __init__(self, net: LoadedModel, x: torch.Tensor, baseline: torch.Tensor, window: int, layer: str | None):
        self.x, self.baseline, self.window, self.layer = x, baseline, window, layer
        if layer is not None:
            layer_module(net.model, layer, net.spec.display)  # the same message as the full method's
        self.graph = IncrementalGraph(net.model, x)
        self.clean_logits = self.graph.clean_output
        self.clean_map = self.graph.clean[self.graph.layer_nodes[layer]] if layer is not None else None
        self._arange = torch.arange(window, device=x.device)

    def run(self, corners: torch.Tensor, channel: int | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        corners = corners.cpu()
        top, left = corners[:, 0], corners[:, 1]
        rows = top.to(self.x.device)[:, None] + self._arange
        cols = left.to(self.x.device)[:, None] + self._arange
        squares = self.baseline.permute(1, 2, 0)[rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
        logits, kept = self.graph.run(squares, top, left, keep=self.layer)
        return logits.float(), _channel_totals(kept, channel) if channel is not None else None

    def close(self) -> None:
        pass


def _channel_totals(value, channel: int) -> torch.Tensor:
    """Total of channel ``channel`` of each map of a Patch or Dense (float32)."""
    if isinstance(value, Patch):
        one = Patch(
            value.clean[:, channel : channel + 1], value.values[:, channel : channel + 1], value.top, value.left
        )
        return one.dense()[:, 0].float().sum(dim=(1, 2))
    full = value.value if isinstance(value, Dense) else value
    return full[:, channel].float().sum(dim=(1, 2))


OCCLUDERS = {"full": FullOccluder, "incremental": IncrementalOccluder}
