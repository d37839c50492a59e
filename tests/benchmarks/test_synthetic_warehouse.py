"""The scale generator, at a tiny size: right row counts, and the reads work on its data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bench.warehouse import get_engine, latest_results, latest_run_id, series_history
from benchmarks.query_timing import query_timings
from benchmarks.synthetic_warehouse import generate, main, synthetic_cases


def test_synthetic_cases_start_with_the_real_matrix() -> None:
    cases = synthetic_cases(60)
    assert len(set(cases)) == 60
    assert cases[0] == ("torch", "eager", "cpu")
    assert ("torch", "eager", "cpu-2") in cases and ("torch", "eager", "cpu-3") in cases


def test_generate_30_days_of_3_cases(warehouse_url: str) -> None:
    totals = generate(warehouse_url, days=30, cases=3, seed=1)
    with get_engine(warehouse_url).connect() as conn:
        counts = [
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("benchmark_runs", "benchmark_results", "epoch_metrics")
        ]
        completed = conn.execute(
            sa.text("SELECT sum(epochs_completed) FROM benchmark_results")
        ).scalar_one()
        reference = conn.execute(
            sa.text("SELECT min(reference_seconds), max(reference_seconds) FROM benchmark_results")
        ).one()
    assert counts == [30, 90, totals.epochs]
    assert (totals.runs, totals.results) == (30, 90)
    assert completed == totals.epochs and 80 * 30 <= totals.epochs <= 90 * 30
    assert 0.04 < reference[0] < reference[1] < 0.06  # every result has the host's speed
    assert latest_run_id(warehouse_url) == "scheduled__2026-11-01T02:00:00+00:00"
    assert len(latest_results(warehouse_url)) == 3
    assert len(series_history("torch", "eager", "cpu", url=warehouse_url)) == 30
    assert {t["rows"] for t in query_timings(warehouse_url, repeat=1)} == {3, 30}

    with pytest.raises(ValueError, match="not empty"):
        generate(warehouse_url, days=1, cases=1)


def test_command_line(warehouse_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", warehouse_url, "--days", "2", "--cases", "2", "--time-queries"]) == 0
    out = capsys.readouterr().out
    assert "generated 2 runs, 4 results" in out and "median ms" in out
