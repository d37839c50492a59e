"""The static report of one run: index.html plus PNG figures, readable straight from disk."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from bench.config import state_dir
from bench.records import check_run_id
from bench.reports import data, figures
from bench.reports.render import render, run_context
from bench.reports.snapshot import SeriesHistory
from bench.serialize import write_atomic
from bench.warehouse import mask_url, warehouse_url

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
    pngs = {
        "timing": figures.timing_png(snapshot.records),
        "speedup": figures.speedup_png(context["speedups"]),
        "memory": figures.memory_time_png(snapshot.records),
        **{ladder.key: figures.ladder_png(ladder) for ladder in context["ladders"]},
        **{g.key: figures.curves_png(g.records) for g in context["groups"] if g.measured},
        **{_history_key(h): figures.history_png(h) for h in histories},
    }
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


def _history_key(history: SeriesHistory) -> str:
    return f"history-{history.case.name}"
