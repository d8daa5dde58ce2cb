"""Bar charts rendered in memory as PNG (matplotlib's Agg backend: no display, no pyplot)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def bar_chart_png(labels: Sequence[str], values: Sequence[int], *, title: str) -> bytes:
    """A horizontal bar chart of values by label, best first, as PNG bytes."""
    # A Figure of its own per call (not pyplot's global state), so threads cannot collide.
    height = 1.2 + 0.45 * max(len(labels), 1)
    figure = Figure(figsize=(7, height), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    bars = axes.barh(positions, list(values), color="#4A6FA5")
    axes.set_yticks(positions, labels=list(labels))
    axes.invert_yaxis()
    axes.set_xlabel("points")
    axes.set_title(title)
    axes.bar_label(bars, padding=3)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
