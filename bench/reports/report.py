"""The static report of one run: index.html plus PNG figures, readable straight from disk."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.config import state_dir
from bench.records import check_run_id
from bench.reports import data, figures
from bench.reports.plotting import to_png
from bench.reports.render import render, run_context
from bench.reports.snapshot import SeriesHistory
from bench.serialize import write_atomic
from bench.warehouse import mask_url, warehouse_url

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_HISTORY = 30


def report_dir(run_id: str) -> Path:
    """Where a run's report lives by default: $BENCH_HOME/reports/<run id, file-name safe>.

    ValueError for a run id that is not one (bench.records.check_run_id): `..` must never
    climb out of the reports folder."""
    return state_dir() / "reports" / re.sub(r"[^A-Za-z0-9._-]+", "_", check_run_id(run_id))


def write_report(
    run_id: str | None,
    out_dir: Path,
    *,
    url: str | None = None,
    history: int = DEFAULT_HISTORY,
) -> Path:
    """Write the report of `run_id` (None: the latest run with results) into `out_dir`.

    Returns the path of index.html. Figures go to `out_dir/figures/`; the page refers to them
    by relative paths, so the folder can be moved or served as is. Raises
    bench.warehouse.NotFound when the warehouse has no such run.
    """
    if history < 1:
        raise ValueError(f"history must be at least 1 run, got {history}")
    snapshot = data.run_snapshot(run_id, url=url)
    histories = [data.series(r.case, last=history, url=url) for r in snapshot.records]
    context = run_context(snapshot)
    out_dir = Path(out_dir)
    figure_dir = out_dir / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    pngs = {key: to_png(draw()) for key, draw in report_figures(context, histories).items()}
    sources = {}
    for key, png in pngs.items():
        (figure_dir / f"{key}.png").write_bytes(png)
        sources[key] = f"figures/{key}.png"
    html = render(
        "report.html",
        **context,
        histories=histories,
        figures=sources,
        history=history,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=mask_url(url or warehouse_url()),
    )
    return write_atomic(out_dir / "index.html", html)


def report_figures(
    context: dict[str, Any], histories: Sequence[SeriesHistory]
) -> dict[str, Callable[[], Figure]]:
    """The figures a report shows, by key, each drawn when called: only those with something
    to draw, so the page shows no empty chart. `context` is render.run_context's."""
    snapshot = context["s"]
    records = snapshot.records
    found: dict[str, Callable[[], Figure]] = {}
    if any(r.status == "ok" and r.steady_epoch_seconds for r in records):
        found["timing"] = partial(figures.timing_figure, records)
    if context["speedups"]:
        found["speedup"] = partial(
            figures.speedup_figure, context["speedups"], run_id=snapshot.run.run_id
        )
    if any(r.status == "ok" and r.steady_epoch_seconds and r.peak_rss_bytes for r in records):
        found["memory"] = partial(figures.memory_time_figure, records)
    for ladder in context["ladders"]:
        found[ladder.key] = partial(figures.ladder_figure, ladder)
    for group in context["groups"]:
        if group.measured:
            found[group.key] = partial(figures.curves_figure, group.records)
    for h in histories:
        if h.measured:
            found[_history_key(h)] = partial(figures.history_figure, h)
    return found


def _history_key(history: SeriesHistory) -> str:
    return f"history-{history.case.name}"
