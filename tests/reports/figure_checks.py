"""What a reader checks in a figure, as functions of a drawn matplotlib Figure: its title, units
on its axes, plain tick labels, whole epochs, and labels that do not cover each other."""

from __future__ import annotations

import itertools
import re
import weakref
from typing import Any

from matplotlib.figure import Figure
from matplotlib.text import Text

# Axis labels that name a count, not a quantity with a unit.
UNITLESS = ("epoch", "run (start, UTC)")


_DRAWN: weakref.WeakKeyDictionary[Figure, Any] = weakref.WeakKeyDictionary()


def draw(figure: Figure) -> Any:
    """Draw the figure as the PNG is drawn (once: the checks only read it); returns the
    renderer."""
    if figure not in _DRAWN:
        figure.canvas.draw()
        _DRAWN[figure] = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    return _DRAWN[figure]


def title(figure: Figure) -> str:
    suptitle = figure.get_suptitle()
    return suptitle.strip()


def visible_texts(figure: Figure) -> list[Text]:
    """Every text drawn on the figure: titles, axis and tick labels, value labels, legends."""
    draw(figure)
    found = []
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                if low - 1e-9 * abs(high) <= tick.get_loc() <= high * (1 + 1e-9):
                    found.append(tick.label1)
            found += [axis.label, axis.get_offset_text()]
        found += [ax.title, *ax.texts]
        legend = ax.get_legend()
        if legend:
            found += [*legend.get_texts(), legend.get_title()]
    for legend in figure.legends:
        found += [*legend.get_texts(), legend.get_title()]
    found += list(figure.texts)
    # matplotlib keeps the figure's title and bottom label apart from figure.texts
    found += [t for t in (figure._suptitle, figure._supxlabel) if t is not None]
    unique = list({id(t): t for t in found}.values())
    return [t for t in unique if t.get_visible() and t.get_text().strip()]


def overlapping_texts(figure: Figure, *, slack: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose boxes overlap (by more than `slack` pixels each way)."""
    renderer = draw(figure)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in visible_texts(figure)]
    found = []
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        if width > slack and height > slack:
            found.append((a, b))
    return found


def texts_outside(figure: Figure) -> list[str]:
    """Drawn texts that stick out of the figure (cut off in the PNG)."""
    renderer = draw(figure)
    frame = figure.bbox
    return [
        t.get_text()
        for t in visible_texts(figure)
        if (box := t.get_window_extent(renderer)).x0 < frame.x0 - 1
        or box.x1 > frame.x1 + 1
        or box.y0 < frame.y0 - 1
        or box.y1 > frame.y1 + 1
    ]


def offsets(figure: Figure) -> list[str]:
    """Offset or multiplier texts (``+6.5053e2``, ``1e6``) on any axis."""
    draw(figure)
    return [
        text
        for ax in figure.axes
        for axis in (ax.xaxis, ax.yaxis)
        if (text := axis.get_offset_text().get_text())
    ]


def axes_without_units(figure: Figure) -> list[str]:
    """Labels of numeric axes that name no unit in parentheses (counts like epochs aside)."""
    draw(figure)
    missing = []
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
            if not labels or not all(_number(text) for text in labels):
                continue
            name = axis.get_label_text()
            if name.startswith(UNITLESS):
                continue
            if not re.search(r"\(.+\)", name):
                missing.append(name or f"<unlabelled {axis.axis_name} axis>")
    return missing


def log_tick_labels(figure: Figure) -> list[str]:
    """The major tick labels of every log axis, as drawn."""
    draw(figure)
    return [
        t.get_text()
        for ax in figure.axes
        for axis in (ax.xaxis, ax.yaxis)
        if axis.get_scale() == "log"
        for t in axis.get_ticklabels()
        if t.get_text()
    ]


def _number(text: str) -> bool:
    if text.startswith("$"):  # mathtext, e.g. 10^-1 on a log axis
        return True
    try:
        float(text.replace("\u2212", "-"))
    except ValueError:
        return False
    return True


def empty_axes(figure: Figure) -> list[str]:
    """Axes that draw no data (no line, point, bar or text): an empty chart."""
    return [
        ax.get_title() or ax.get_ylabel() or "axes"
        for ax in figure.axes
        if not (ax.lines or ax.collections or ax.patches)
    ]
