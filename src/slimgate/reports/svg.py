"""A horizontal bar chart as inline SVG: no script, no external asset, readable when printed."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR_HEIGHT = 22
GAP = 10
LABEL_WIDTH = 180
VALUE_WIDTH = 110
CHART_WIDTH = 760
COLOUR = "#d9480f"  # the page's accent


def bar_chart(bars: Sequence[tuple[str, float]], *, title: str = "") -> str:
    """``bars`` as (label, value in MB) pairs, drawn largest first in the given order."""
    if not bars:
        return ""
    peak = max(value for _, value in bars) or 1.0
    track = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" width="100%" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = max(2.0, track * value / peak) if value > 0 else 0.0
        text_y = y + BAR_HEIGHT * 0.7
        shown = label if len(label) <= 26 else label[:25] + "…"
        parts.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{value:.1f}">'
            f'<text x="{LABEL_WIDTH - 8}" y="{text_y:.1f}" text-anchor="end" '
            f'class="bar-label">{escape(shown)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{track}" height="{BAR_HEIGHT}" '
            f'rx="3" class="bar-track"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
            f'rx="3" fill="{COLOUR}"/>'
            f'<text x="{LABEL_WIDTH + track + 8}" y="{text_y:.1f}" '
            f'class="bar-value">{value:,.1f} MB</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
