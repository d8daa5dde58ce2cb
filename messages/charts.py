"""Bar charts rendered in memory as PNG (matplotlib's Agg backend: no display, no pyplot)."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Long names (up to 75 characters) are wrapped onto lines of this many, so they fit beside
# the bars instead of squeezing them out.
LABEL_WIDTH = 28


def bar_chart_png(labels: Sequence[str], values: Sequence[int], *, title: str) -> bytes:
    """A horizontal bar chart of values by label, best first, as PNG bytes."""
    wrapped = [textwrap.fill(label, LABEL_WIDTH) or " " for label in labels]
    lines = max((label.count("\n") + 1 for label in wrapped), default=1)
    # A Figure of its own per call (not pyplot's global state), so threads cannot collide.
    height = 1.2 + (0.3 + 0.15 * lines) * max(len(labels), 1)
    figure = Figure(figsize=(7, height), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    bars = axes.barh(positions, list(values), color="#4A6FA5")
    # Names are text, not mathtext: `R&D $$` would otherwise be parsed (and raise).
    axes.set_yticks(positions, labels=wrapped, parse_math=False)
    axes.invert_yaxis()
    axes.set_xlabel("points")
    axes.set_title(title, parse_math=False)
    axes.bar_label(bars, padding=3, parse_math=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
