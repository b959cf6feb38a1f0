"""Charts for the printed monthly report as SVG drawn on the server: WeasyPrint runs no script, so the report cannot
use the dashboard's ECharts. Plain grouped bars with their numbers written on them, enough for a printed page.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 36, 40
AXIS = "#5a5f66"
FONT = 'font-family="Noto Sans CJK SC, sans-serif"'


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: list[float | None]  # one per label; None draws no bar and writes a dash


def _number(value: float, percent: bool) -> str:
    return f"{value * 100:.0f}%" if percent else f"{value:g}"


def bar_chart(labels: list[str], series: list[Series], percent: bool = False) -> str:
    """Grouped bars, one group per label; rates (0..1) on a 0-100% axis, counts from 0 to their largest."""
    top = 1.0 if percent else max([v for s in series for v in s.values if v is not None] + [1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(len(labels), 1)
    bar_w = min(36.0, group_w * 0.8 / max(len(series), 1))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"'
             f' viewBox="0 0 {WIDTH} {HEIGHT}" {FONT} font-size="11">']
    for step in range(5):
        y = TOP + plot_h * step / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e1e3e6"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{AXIS}">'
                     f'{_number(top * (4 - step) / 4, percent)}</text>')
    for i, label in enumerate(labels):
        x0 = LEFT + group_w * i + (group_w - bar_w * len(series)) / 2
        for j, s in enumerate(series):
            value = s.values[i]
            x = x0 + bar_w * j
            if value is None:
                parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{TOP + plot_h - 3}" text-anchor="middle"'
                             f' fill="{AXIS}">—</text>')
                continue
            h = plot_h * value / top
            parts.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}"'
                         f' fill="{s.color}"/>')
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{TOP + plot_h - h - 3:.1f}" text-anchor="middle"'
                         f' font-size="9">{_number(value, percent)}</text>')
        parts.append(f'<text x="{LEFT + group_w * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="{AXIS}"/>')
    for j, s in enumerate(series):  # the legend, along the top
        x = LEFT + 130 * j
        parts.append(f'<rect x="{x}" y="6" width="12" height="10" fill="{s.color}"/>')
        parts.append(f'<text x="{x + 16}" y="15">{escape(s.name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
