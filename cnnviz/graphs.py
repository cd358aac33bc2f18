"""Private module graphs: a structural copy of a shared model whose parameters and buffers are the same
tensors, so a session can attach hooks or swap activation functions without touching other sessions.

Copying the module tree costs milliseconds and no tensor memory; the copy is thrown away after use.
"""

from __future__ import annotations

import copy

from torch import nn


def private_graph(model: nn.Module) -> nn.Module:
    """A copy of ``model``'s modules that shares every parameter and buffer tensor with ``model``."""
    memo = {id(tensor): tensor for tensor in model.parameters()}
    memo.update({id(tensor): tensor for tensor in model.buffers()})
    return copy.deepcopy(model, memo)
