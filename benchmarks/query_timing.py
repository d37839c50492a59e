"""Time the warehouse's common questions end to end (median of several calls), with plans.

Run by `python -m benchmarks.synthetic_warehouse --time-queries`; backs the figures in
BENCHMARKS.md.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from bench.warehouse.engine import connect, get_engine, mask_url
from bench.warehouse.queries import (
    latest_results,
    latest_run_id,
    results_for_run,
    series_history,
)

REPEAT = 9
CASE = ("torch", "eager", "cpu")
# The SQL behind the two headline questions, for EXPLAIN ANALYZE on PostgreSQL.
PLANS = {
    "latest_results view": "SELECT * FROM latest_results",
    "series history, one case": (
        "SELECT run_id, started_at, steady_epoch_seconds FROM series_history "
        "WHERE framework = 'torch' AND mode = 'eager' AND device = 'cpu' ORDER BY started_at"
    ),
}


def query_timings(url: str, *, repeat: int = REPEAT) -> list[dict[str, Any]]:
    """Median and min milliseconds per question, after one warm-up call each."""
    questions: dict[str, Callable[[], Any]] = {
        "bench results (latest run)": lambda: results_for_run(latest_run_id(url) or "", url),
        "latest_results view (per case)": lambda: latest_results(url),
        "series history, one case, all runs": lambda: series_history(*CASE, url=url),
        "series history, one case, last 30": lambda: series_history(*CASE, last=30, url=url),
    }
    timings = []
    for name, question in questions.items():
        rows = len(question())
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            question()
            samples.append((time.perf_counter() - started) * 1000)
        timings.append(
            {
                "question": name,
                "rows": rows,
                "median_ms": statistics.median(samples),
                "min_ms": min(samples),
            }
        )
    return timings


def explain(url: str) -> dict[str, str]:
    """EXPLAIN ANALYZE of the headline queries (PostgreSQL only; empty elsewhere)."""
    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        return {}
    plans = {}
    with connect(engine) as conn:
        for name, sql in PLANS.items():
            lines = conn.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).scalars()
            plans[name] = "\n".join(lines)
    return plans


def print_query_timings(url: str) -> None:
    with connect(get_engine(url)) as conn:
        counts = {
            table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("benchmark_runs", "benchmark_results", "epoch_metrics")
        }
    print(f"{mask_url(url)}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    print(f"{'question':<36} {'rows':>6} {'median ms':>10} {'min ms':>8}")
    for t in query_timings(url):
        print(f"{t['question']:<36} {t['rows']:>6} {t['median_ms']:>10.2f} {t['min_ms']:>8.2f}")
    for name, plan in explain(url).items():
        print(f"\nEXPLAIN ANALYZE, {name}:\n{plan}")
