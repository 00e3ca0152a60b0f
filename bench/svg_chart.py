"""Bar charts as SVG, small enough to read: what `bench/report.py` draws for docs/.

No plotting library in the lock for two charts a release: grouped horizontal bars, one group
per label, one bar per series, each with its value written at its end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948")
BAR = 14
GAP = 10
LABEL_WIDTH = 150
PLOT_WIDTH = 420


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    """One per label, in the labels' order."""


def bars(title: str, unit: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    """Grouped horizontal bars: for each label, one bar per series."""
    top = 40 + 18 * len(series)
    group = BAR * len(series) + GAP
    height = top + group * len(labels) + 10
    width = LABEL_WIDTH + PLOT_WIDTH + 90
    largest = max((v for s in series for v in s.values), default=0.0) or 1.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for n, item in enumerate(series):
        y = 32 + 18 * n
        colour = COLOURS[n % len(COLOURS)]
        out.append(f'<rect x="10" y="{y}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="28" y="{y + 10}">{escape(item.name)}</text>')
    for row, label in enumerate(labels):
        y0 = top + row * group
        out.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y0 + BAR * len(series) / 2 + 4:.0f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        for n, item in enumerate(series):
            value = item.values[row]
            length = PLOT_WIDTH * value / largest
            y = y0 + n * BAR
            colour = COLOURS[n % len(COLOURS)]
            out.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR - 2}" '
                f'fill="{colour}"/>'
            )
            out.append(
                f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{y + BAR - 4}">'
                f"{value:.2f} {escape(unit)}</text>"
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"
