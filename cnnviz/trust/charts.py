"""The checks' charts as PNG files, drawn with matplotlib off screen (6.4×4 in at 100 dpi)."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def saved_chart(path):
    """The axes of a new figure, saved to ``path`` (tight layout, with its legend) when the block ends,
    and closed either way."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4), dpi=100)
    try:
        yield axes
        axes.legend()
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
