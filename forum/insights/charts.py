"""Charts as inline SVG strings: drawn on the server, no script, nothing for the CSP to block.

Pure functions (numbers in, markup out) so they are tested without an app. Every chart carries
a <title> and a text table is rendered beside it by the template, for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 36, 28, 20  # room above the tallest bar for its value
LABEL_ROOM = 75  # units an axis label like "07 Sep" needs at the stylesheet's 15px


def _label_step(slot: float) -> int:
    """Label every bar when they fit, else every second (third...) one: each bar still has its
    exact label in its <title> and in the table beside the chart."""
    return max(1, math.ceil(LABEL_ROOM / slot))


def _nice_max(value: float) -> int:
    """A round upper bound for the axis, so gridlines fall on readable numbers."""
    if value <= 4:
        return 4
    step = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 2, 5, 10):
        if value <= step * factor:
            return step * factor
    return int(value) + 1


def plain(value: float) -> str:
    return f"{value:g}"


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str,
              number: Callable[[float], str] = plain) -> Markup:
    """Vertical bars, one per label, with the value above each bar and a light grid.
    ``number`` writes the figures people read (in their language: 1,25 in French)."""
    if len(labels) != len(values):
        raise ValueError("one label per value")
    top = _nice_max(max(values, default=0))
    plot_w = WIDTH - PAD_LEFT - 8
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    n = max(len(values), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        value = top * i / 4
        y = PAD_TOP + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - 8}" '
                     f'y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_LEFT - 4}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{number(value)}</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / top if top else 0
        x = PAD_LEFT + slot * i + (slot - bar_w) / 2
        y = PAD_TOP + plot_h - h
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                     f'height="{h:.1f}" data-value="{value:g}"><title>{escape(label)}: '
                     f'{number(value)}</title></rect>')
        parts.append(f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" '
                     f'text-anchor="middle">{number(value)}</text>')
        if i % _label_step(slot) == 0:
            parts.append(f'<text class="axis" x="{x + bar_w / 2:.1f}" y="{HEIGHT - 10}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar_chart(labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]],
                      *, title: str, number: Callable[[float], str] = plain) -> Markup:
    """One bar per label, stacked from ``series`` of (name, css class, values), with a legend.
    Colours come from the stylesheet through the class, so the SVG carries no style."""
    if any(len(values) != len(labels) for _name, _cls, values in series):
        raise ValueError("one value per label in every series")
    totals = [sum(values[i] for _n, _c, values in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    legend_h = 18
    plot_w = WIDTH - PAD_LEFT - 8
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP - legend_h
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.7, 1)
    base = PAD_TOP + legend_h + plot_h
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    x = PAD_LEFT
    for name, cls, _values in series:
        parts.append(f'<rect class="{escape(cls)}" x="{x}" y="{PAD_TOP}" width="10" '
                     f'height="10"/><text class="axis" x="{x + 14}" y="{PAD_TOP + 9}">'
                     f"{escape(name)}</text>")
        x += 24 + 9 * len(name)  # room for the legend at the stylesheet's 15px
    for i in range(5):
        y = base - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - 8}" '
                     f'y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_LEFT - 4}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{number(top * i / 4)}</text>')
    for i, label in enumerate(labels):
        x = PAD_LEFT + slot * i + (slot - bar_w) / 2
        y = base
        for name, cls, values in series:
            h = plot_h * values[i] / top if top else 0
            y -= h
            parts.append(f'<rect class="{escape(cls)}" x="{x:.1f}" y="{y:.1f}" '
                         f'width="{bar_w:.1f}" height="{h:.1f}" data-value="{values[i]:g}">'
                         f"<title>{escape(label)}, {escape(name)}: {number(values[i])}"
                         "</title></rect>")
        if i % _label_step(slot) == 0:
            parts.append(f'<text class="axis" x="{x + bar_w / 2:.1f}" y="{HEIGHT - 10}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
