"""Charts drawn on the server as inline SVG: no script, readable without colour, every label
escaped. Each chart is an image with a title and a description; the page shows the same numbers
in a table next to it, which is what assistive technology and a printout read."""

from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

# Colours of the series: distinct in hue and in lightness, each at least 3:1 against white.
PALETTE = ("#0b6b3a", "#0b4f9c", "#8a5300", "#6b2c91", "#b3261e", "#36454f")
INK, MUTED, GRID = "#1b1f24", "#505a66", "#cdd3da"
_ids = count(1)


@dataclass(frozen=True)
class Series:
    label: str
    values: list[int]


def _text(x: float, y: float, value, *, anchor: str = "start", size: int = 13, fill: str = INK,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-weight="{weight}">{escape(value)}</text>')


def _frame(*, title: str, description: str, width: int, height: int, body: list[str]) -> Markup:
    uid = next(_ids)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="chart-{uid}-t chart-{uid}-d" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMinYMin meet">'
        f'<title id="chart-{uid}-t">{escape(title)}</title><desc id="chart-{uid}-d">{escape(description)}</desc>'
        + "".join(body) + "</svg>")


def _describe(labels: list[str], values: list[int]) -> str:
    return "; ".join(f"{label}: {value}" for label, value in zip(labels, values, strict=True))


def bars(*, title: str, labels: list[str], values: list[int], label_width: int = 150, width: int = 640) -> Markup:
    """Horizontal bars, one per label, the number written at the end of each (a funnel reads top down)."""
    row, top = 34, 8
    height = top * 2 + row * len(labels)
    scale = (width - label_width - 60) / max(max(values, default=0), 1)
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        length = value * scale
        body.append(_text(label_width - 8, y + 21, label, anchor="end"))
        body.append(f'<rect x="{label_width}" y="{y + 6}" width="{max(length, 1):.1f}" height="{row - 12}" '
                    f'fill="{PALETTE[0]}"/>')
        body.append(_text(label_width + length + 6, y + 21, value, weight="bold"))
    return _frame(title=title, description=_describe(labels, values), width=width, height=height, body=body)


def grouped_bars(*, title: str, groups: list[str], series: list[Series], label_width: int = 190,
                 width: int = 640) -> Markup:
    """Per group (a domain, a region), one thin bar per series, with a legend naming the series."""
    bar, gap = 11, 10
    legend_height = 26 * ((len(series) + 2) // 3)
    block = bar * len(series) + gap
    height = legend_height + block * len(groups) + gap
    largest = max((v for s in series for v in s.values), default=0)
    scale = (width - label_width - 50) / max(largest, 1)
    body = []
    for i, item in enumerate(series):
        x, y = 8 + (i % 3) * 200, 6 + (i // 3) * 26
        body.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{PALETTE[i % len(PALETTE)]}"/>')
        body.append(_text(x + 20, y + 12, item.label, size=12))
    for g, group in enumerate(groups):
        y0 = legend_height + g * block
        body.append(_text(label_width - 8, y0 + block / 2 + 2, group, anchor="end", size=12))
        for i, item in enumerate(series):
            value = item.values[g]
            y = y0 + i * bar
            body.append(f'<rect x="{label_width}" y="{y}" width="{max(value * scale, 1):.1f}" height="{bar - 2}" '
                        f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(item.label)}: {value}</title></rect>')
            body.append(_text(label_width + value * scale + 4, y + bar - 3, value, size=10, fill=MUTED))
        body.append(f'<line x1="{label_width}" x2="{width}" y1="{y0 + block - gap / 2}" y2="{y0 + block - gap / 2}" '
                    f'stroke="{GRID}" stroke-width="0.5"/>')
    description = "; ".join(
        f"{group}: " + ", ".join(f"{s.label} {s.values[g]}" for s in series) for g, group in enumerate(groups))
    return _frame(title=title, description=description, width=width, height=height, body=body)


def columns(*, title: str, labels: list[str], values: list[int], width: int = 640, height: int = 220) -> Markup:
    """Vertical columns over time; every label is kept in the description, a few are printed."""
    left, bottom, top = 36, 28, 12
    plot_width, plot_height = width - left - 8, height - bottom - top
    largest = max(max(values, default=0), 1)
    step = plot_width / max(len(values), 1)
    body = [f'<line x1="{left}" x2="{width - 8}" y1="{top + plot_height}" y2="{top + plot_height}" stroke="{MUTED}"/>',
            _text(left - 6, top + 10, largest, anchor="end", size=11, fill=MUTED),
            _text(left - 6, top + plot_height, 0, anchor="end", size=11, fill=MUTED)]
    every = max(1, len(labels) // 6)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = value / largest * plot_height
        x = left + i * step
        body.append(f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_height - h:.1f}" width="{step * 0.7:.1f}" '
                    f'height="{h:.1f}" fill="{PALETTE[1]}"><title>{escape(label)}: {value}</title></rect>')
        if i % every == 0 or i == len(labels) - 1:
            body.append(_text(x + step / 2, height - 8, label, anchor="middle", size=11, fill=MUTED))
    return _frame(title=title, description=_describe(labels, values), width=width, height=height, body=body)
