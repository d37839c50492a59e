"""How every report figure is drawn: a titled Agg figure, plain tick labels, labels that do not
collide. Shared by bench.reports.figures and bench.reports.history_figure.

matplotlib is imported inside each function: importing bench.reports stays cheap, and the
object-oriented API (one Figure per call, no global state) is safe in the dashboard's threads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation
    from matplotlib.transforms import Bbox

__all__ = [
    "DPI",
    "MAX_RUN_LABELS",
    "empty",
    "every_kth",
    "integer_ticks",
    "label_bars",
    "make_room",
    "new_figure",
    "place_labels",
    "plain_log_axis",
    "plain_numbers",
    "readable_range",
    "run_labels",
    "to_png",
]

DPI = 100
# Where a point's label may go, in points from the point: nearest first, then further out
# (with a leader line) until it collides with no other label or marker.
_RADII = (7.0, 16.0, 28.0, 42.0, 58.0, 76.0, 96.0)
_ANGLES = (20, -20, 160, 200, 90, 270, 55, 125, 235, 305, 0, 180)
_MARKER_HALF_WIDTH = 5.0  # pixels around a marker that a label must not cover
# Histories with more runs than this label every k-th run, so the dates never overlap.
MAX_RUN_LABELS = 30


def new_figure(width: float, height: float, title: str) -> Figure:
    """A figure on an Agg canvas, laid out by constrained layout, with `title` drawn inside it
    (a copied PNG still says what it shows)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=11)
    return figure


def to_png(figure: Figure) -> bytes:
    """The figure as PNG bytes, with plain numbers on every linear axis (no ``+6.5e2`` offset,
    no ``1e6`` multiplier)."""
    plain_numbers(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def empty(figure: Figure, message: str) -> Figure:
    """A figure that says why there is nothing to draw."""
    figure.text(0.5, 0.5, message, ha="center", va="center", color="0.4")
    return figure


def plain_numbers(figure: Figure) -> None:
    from matplotlib.ticker import ScalarFormatter

    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if isinstance(formatter, ScalarFormatter):
                formatter.set_useOffset(False)
                formatter.set_scientific(False)


def plain_log_axis(axis: Axis, values: Sequence[float]) -> None:
    """A log axis labelled in plain numbers (0.05, 0.1, 0.2, not 10^-1): at each power of 10,
    and at 2 and 5 (and 3) of each decade when the range spans few decades, so a narrow range
    still has labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    positive = [v for v in values if v and v > 0]
    low, high = (min(positive), max(positive)) if positive else (0.1, 1.0)
    limits = (low / 1.6, high * 1.6)
    decades = math.log10(limits[1] / limits[0])
    from matplotlib.axis import XAxis

    horizontal = isinstance(axis, XAxis)
    (axis.axes.set_xscale if horizontal else axis.axes.set_yscale)("log")
    subs = (1.0, 2.0, 3.0, 5.0) if decades < 1 else (1.0, 2.0, 5.0) if decades < 3 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())
    if horizontal:
        axis.axes.set_xlim(*limits)
    else:
        axis.axes.set_ylim(*limits)


def integer_ticks(axis: Axis) -> None:
    """Whole numbers only (epochs): no 2.5th epoch."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def readable_range(ax: Axes, values: Sequence[float], *, share: float = 0.05) -> None:
    """A y range at least `share` of the values' size: a series that barely moves (780.000 to
    780.015 MiB) reads as flat, not as a steep climb."""
    if not values:
        return
    low, high = min(values), max(values)
    middle, span = (low + high) / 2, high - low
    least = share * max(abs(low), abs(high)) or 1.0
    if span < least:
        ax.set_ylim(middle - least / 2 - 0.05 * least, middle + least / 2 + 0.05 * least)


def label_bars(ax: Axes, ends: Sequence[float], texts: Sequence[str]) -> None:
    """A value label right of each horizontal bar (bar i at y = i)."""
    for y, (x, text) in enumerate(zip(ends, texts, strict=True)):
        ax.annotate(text, (x, y), xytext=(4, 0), textcoords="offset points", va="center",
                    fontsize=8)  # fmt: skip


def make_room(ax: Axes) -> None:
    """Widen the x range until every text drawn in the axes (value labels right of bars) ends
    inside it, on a linear or log axis."""
    figure = _root(ax)
    for _ in range(5):
        figure.draw_without_rendering()
        renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
        frame = ax.get_window_extent(renderer)
        right = max((t.get_window_extent(renderer).x1 for t in ax.texts), default=frame.x1)
        if right <= frame.x1 - 3:
            return
        stretch = (right - frame.x0) / frame.width * 1.05
        low, high = ax.get_xlim()
        if ax.get_xscale() == "log":
            ax.set_xlim(low, low * (high / low) ** stretch)
        else:
            ax.set_xlim(low, low + (high - low) * stretch)


def place_labels(
    ax: Axes, points: Sequence[tuple[float, float]], texts: Sequence[str], *, fontsize: float = 8
) -> None:
    """Label each point where the label covers no other label and no marker: the nearest free
    spot around it, further out with a leader line when points crowd. Points closer than a
    marker's width (three modes measured alike) share one label listing them all. Fixes the
    layout first, since labels are placed in pixels."""
    figure = _root(ax)
    figure.draw_without_rendering()
    figure.set_layout_engine("none")
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = ax.get_window_extent(renderer)
    pixels = [tuple(ax.transData.transform(point)) for point in points]
    taken = [_box(x, y, _MARKER_HALF_WIDTH) for x, y in pixels]
    for members in _clusters(pixels):
        x, y = points[members[0]]
        text = "\n".join(texts[i] for i in members)
        box = None
        for radius in _RADII:
            for angle in _ANGLES:
                label = _annotate(ax, (x, y), text, radius, angle, fontsize)
                box = label.get_window_extent(renderer)
                if _within(box, frame) and not any(box.overlaps(t) for t in taken):
                    taken.append(box)
                    break
                label.remove()
                box = None
            if box is not None:
                break
        if box is None:  # nowhere free: the nearest spot, so the label is at least there
            taken.append(_annotate(ax, (x, y), text, _RADII[0], 0, fontsize).get_window_extent())


def _clusters(pixels: Sequence[tuple[float, float]]) -> list[list[int]]:
    """Indexes of points within a marker's width of each other, in first-seen order."""
    left = list(range(len(pixels)))
    groups = []
    while left:
        first = left.pop(0)
        near = [i for i in left if math.dist(pixels[i], pixels[first]) < 2 * _MARKER_HALF_WIDTH]
        left = [i for i in left if i not in near]
        groups.append([first, *near])
    return groups


def _annotate(
    ax: Axes, point: tuple[float, float], text: str, radius: float, angle: float, fontsize: float
) -> Annotation:
    dx, dy = radius * math.cos(math.radians(angle)), radius * math.sin(math.radians(angle))
    ha = "left" if dx > 1 else "right" if dx < -1 else "center"
    va = "bottom" if dy > 1 else "top" if dy < -1 else "center"
    leader = {"arrowstyle": "-", "color": "0.55", "linewidth": 0.6} if radius > 10 else None
    return ax.annotate(text, point, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                       fontsize=fontsize, arrowprops=leader)  # fmt: skip


def _root(ax: Axes) -> Figure:
    return cast("Figure", ax.get_figure(root=True))


def _box(x: float, y: float, half: float) -> Bbox:
    from matplotlib.transforms import Bbox

    return Bbox.from_extents(x - half, y - half, x + half, y + half)


def _within(box: Bbox, frame: Bbox) -> bool:
    return box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1


def run_labels(times: Sequence[datetime]) -> list[str]:
    """Tick labels of a series' runs: the date; with the time when two runs share a day, and
    a run number when they share a minute too."""
    days = [t.strftime("%Y-%m-%d") for t in times]
    if len(set(days)) == len(days):
        return days
    minutes = [t.strftime("%m-%d %H:%M") for t in times]
    if len(set(minutes)) == len(minutes):
        return minutes
    return [f"{m} #{n}" for n, m in enumerate(minutes, start=1)]


def every_kth(count: int, most: int = MAX_RUN_LABELS) -> int:
    """The step between labelled runs so that at most `most` are labelled."""
    return max(1, math.ceil(count / most))
