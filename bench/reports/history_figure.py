"""The figure of one series' last runs: one panel per metric the runs have, flagged runs marked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.measure import MIB
from bench.reports import formatting as fmt
from bench.reports.plotting import (
    empty,
    every_kth,
    new_figure,
    readable_range,
    run_labels,
    to_png,
)
from bench.reports.snapshot import SeriesHistory

if TYPE_CHECKING:
    from matplotlib.figure import Figure


__all__ = ["Panel", "history_figure", "history_panels", "history_png"]


@dataclass(frozen=True)
class Panel:
    """One metric of a series over its runs (None where a run has no value)."""

    metric: str
    label: str
    values: list[float | None]


def history_panels(history: SeriesHistory) -> list[Panel]:
    """The panels worth drawing: metrics at least one of the runs has (a series skipped every
    time has none; a 2-epoch run has no test MAE at 30 epochs)."""
    points = history.points
    panels = [
        Panel("steady_epoch_seconds", "steady epoch (s)",
              [p.steady_epoch_seconds for p in points]),
        Panel("peak_rss_bytes", "peak RSS (MiB)",
              [p.peak_rss_bytes / MIB if p.peak_rss_bytes else None for p in points]),
        Panel(history.test_mae_metric,
              f"{fmt.metric_label(history.test_mae_metric)}\n({fmt.MAE_UNIT})",
              [p.test_mae for p in points]),
    ]  # fmt: skip
    return [p for p in panels if any(v is not None for v in p.values)]


def history_figure(history: SeriesHistory) -> Figure:
    """A series' last runs: steady time, peak memory and test MAE, as far as the runs have
    them; open flags as red crosses, acknowledged ones as green circles."""
    panels = history_panels(history)
    title = (
        f"History of {history.case.name}: last {len(history.points)} run(s)\n"
        "red X = open flag, green o = acknowledged"
    )
    figure = new_figure(7.5, 1.5 * max(len(panels), 1) + 1.9, title)
    if not panels:
        statuses = sorted({p.status for p in history.points})
        return empty(
            figure,
            f"nothing measured in these runs (status: {', '.join(statuses) or 'no runs'})",
        )
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    xs = list(range(len(history.points)))
    for ax, panel in zip(axes, panels, strict=True):
        present = [(x, v) for x, v in zip(xs, panel.values, strict=True) if v is not None]
        ax.plot(*zip(*present, strict=True), marker="o", markersize=3, color="tab:blue")
        readable_range(ax, [v for _, v in present])
        for x, point in zip(xs, history.points, strict=True):
            value = panel.values[x]
            for flag in history.flags_of(point.run_id):
                if flag.metric != panel.metric or value is None or not flag.is_alert:
                    continue
                open_ = flag.acknowledgement is None
                ax.scatter([x], [value], s=90, zorder=3, marker="X" if open_ else "o",
                           color="tab:red" if open_ else "tab:green")  # fmt: skip
        ax.set_ylabel(panel.label, fontsize=9)
        ax.grid(alpha=0.3)
    step = every_kth(len(xs))
    labels = run_labels([p.started_at for p in history.points])
    axes[-1].set_xticks(xs[::step], labels[::step], rotation=60, fontsize=7)
    axes[-1].set_xlabel("run (start, UTC)")
    axes[-1].set_xlim(-0.5, len(xs) - 0.5)
    return figure


def history_png(history: SeriesHistory) -> bytes:
    return to_png(history_figure(history))
