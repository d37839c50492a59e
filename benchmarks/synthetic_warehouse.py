"""A synthetic warehouse at production scale: years of nightly runs x many cases.

For checking that the indexes and views keep the common questions fast. PostgreSQL is loaded
with COPY through psycopg; SQLite with executemany. Deterministic for a given seed.
Run: python -m benchmarks.synthetic_warehouse --url URL --years 10 --cases 60 [--time-queries]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

from bench.config import EVAL_BUDGETS, FRAMEWORK_MODES
from bench.measure import MIB
from bench.records import environment_fingerprint
from bench.warehouse.engine import connect, get_engine, mask_url, normalize_url
from bench.warehouse.migrate import upgrade
from bench.warehouse.models import EPOCHS, RESULTS, RUNS

END = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
DATASET_SHA256 = "5" * 64
Row = tuple[Any, ...]
Case3 = tuple[str, str, str]
REFERENCE_SECONDS = 0.05  # the reference workload at the host's usual speed
CHUNK_DAYS = 60  # runs per transaction: bounds memory and PostgreSQL's queued FK checks


@dataclass(frozen=True)
class Totals:
    runs: int
    results: int
    epochs: int
    seconds: float


def synthetic_cases(count: int) -> list[tuple[str, str, str]]:
    """The real matrix first (FRAMEWORK_MODES x cpu, gpu); beyond it, the same cases on more
    machines (cpu-2, ...)."""
    base = [
        (fw, mode, dev)
        for fw, modes in FRAMEWORK_MODES.items()
        for mode in modes
        for dev in ("cpu", "gpu")
    ]
    cases = []
    for i in range(count):
        framework, mode, device = base[i % len(base)]
        machine = i // len(base)
        cases.append((framework, mode, device if machine == 0 else f"{device}-{machine + 1}"))
    return cases


def generate(url: str, *, days: int, cases: int, epochs: int = 30, seed: int = 0) -> Totals:
    """Fill an empty warehouse with `days` nightly runs of `cases` cases (refuses a used one)."""
    upgrade(url)
    engine = get_engine(url)
    with connect(engine) as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(RUNS)).scalar_one():
            raise ValueError(f"the warehouse at {mask_url(url)} is not empty; use a new database")
    started = time.perf_counter()
    model = _Model(synthetic_cases(cases), epochs, seed)
    counts: list[int] = [0, 0, 0]
    next_id = 1
    for first in range(0, days, CHUNK_DAYS):
        nights = [
            END - timedelta(days=days - 1 - d) for d in range(first, min(first + CHUNK_DAYS, days))
        ]
        runs, results, epoch_rows = model.rows(nights, next_id)
        next_id += len(results)
        _write(engine, runs, results, epoch_rows)
        counts = [counts[0] + len(runs), counts[1] + len(results), counts[2] + len(epoch_rows)]
    with connect(engine, write=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('benchmark_results', 'id'), :n)"),
                {"n": next_id},
            )
            for table in ("benchmark_runs", "benchmark_results", "epoch_metrics"):
                conn.execute(sa.text(f"ANALYZE {table}"))
        else:
            conn.execute(sa.text("ANALYZE"))
    return Totals(counts[0], counts[1], counts[2], time.perf_counter() - started)


class _Model:
    """Per case: a base speed, slow drift, a few level shifts (real regressions) and noise."""

    def __init__(self, cases: list[tuple[str, str, str]], epochs: int, seed: int) -> None:
        self.cases, self.epochs = cases, epochs
        self.rng = np.random.default_rng(seed)
        n = len(cases)
        self.base = np.exp(self.rng.uniform(np.log(0.01), np.log(10.0), n))
        self.compile = self.base * self.rng.uniform(0.5, 60.0, n)
        self.rss = self.rng.integers(300, 3000, n) * MIB
        self.level = np.ones(n)

    def rows(
        self, nights: list[datetime], first_id: int
    ) -> tuple[list[Row], list[dict[str, Any]], list[Row]]:
        """The runs, results and epoch rows of these nights; result ids count from first_id."""
        runs: list[Row] = []
        results: list[dict[str, Any]] = []
        epochs: list[Row] = []
        for night in nights:
            run_id = f"scheduled__{night.isoformat()}"
            finished = night + timedelta(hours=2)
            runs.append(
                (
                    run_id,
                    "scheduled",
                    night,
                    finished,
                    DATASET_SHA256,
                    "passed",
                    _version(night),
                    night,
                )
            )
            seconds, mae, failed, reference = self._measure()
            for c, case in enumerate(self.cases):
                done = int(self.rng.integers(0, self.epochs)) if failed[c] else self.epochs
                started = night + timedelta(minutes=c)
                row = self._result(first_id + len(results), run_id, case, started, done, failed[c])
                row["compile_seconds"] = float(self.compile[c]) if not failed[c] else None
                row["steady_epoch_seconds"] = (
                    float(np.median(seconds[c, 1:])) if not failed[c] else None
                )
                row["total_seconds"] = float(seconds[c, :done].sum())
                row["reference_seconds"] = float(reference[c])
                row["peak_rss_bytes"] = int(self.rss[c])
                row["peak_device_bytes"] = (
                    int(self.rss[c] // 2) if case[2].startswith("gpu") else None
                )
                for budget in EVAL_BUDGETS:
                    test_mae = float(mae[c, budget - 1] * 1.05) if budget <= done else None
                    row[f"test_mae_{budget}"] = test_mae
                    row[f"test_mse_{budget}"] = test_mae * test_mae * 2.2 if test_mae else None
                    if test_mae:
                        row["eval_metrics"].append(
                            {
                                "epoch": budget,
                                "test_mse": row[f"test_mse_{budget}"],
                                "test_mae": test_mae,
                            }
                        )
                epochs.extend(
                    zip(
                        [row["id"]] * done,
                        range(1, done + 1),
                        seconds[c, :done].tolist(),
                        mae[c, :done].tolist(),
                        strict=True,
                    )
                )
                results.append(row)
        return runs, results, epochs

    def _measure(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One night: epoch seconds and train MAE per case and epoch, which cases failed, and
        each case's reference workload time. The host's speed that night moves every case and
        its reference together (bench.analysis.host_speed)."""
        rng, n, e = self.rng, len(self.cases), self.epochs
        self.level *= np.where(rng.random(n) < 1 / 400, rng.choice([0.8, 1.25], n), 1.0)
        host = rng.lognormal(0, 0.02)
        reference = REFERENCE_SECONDS * host * rng.lognormal(0, 0.01, n)
        steady = self.base * self.level * host * rng.lognormal(0, 0.03, n)
        seconds = steady[:, None] * rng.lognormal(0, 0.05, (n, e))
        seconds[:, 0] += self.compile
        decay = np.exp(-np.arange(1, e + 1) / 8)[None, :]
        mae = 0.35 + 0.6 * decay * rng.lognormal(0, 0.05, (n, e))
        return seconds, mae, rng.random(n) < 0.01, reference

    @staticmethod
    def _result(
        result_id: int, run_id: str, case: Case3, started: datetime, done: int, failed: bool
    ) -> dict[str, Any]:
        framework, mode, device = case
        env = _environment(framework, device, started)
        return {
            "id": result_id,
            "run_id": run_id,
            "framework": framework,
            "mode": mode,
            "device": device,
            "started_at": started,
            "epochs_completed": done,
            "status": "failed" if failed else "ok",
            "reason": "synthetic failure" if failed else None,
            "eval_metrics": [],
            "dataset_sha256": DATASET_SHA256,
            "framework_version": env["framework_version"],
            "environment_fingerprint": environment_fingerprint(env, DATASET_SHA256),
            "environment": env,
            "schema_version": 1,
            "stored_at": started + timedelta(hours=2),
        }


def _version(night: datetime) -> str:
    return f"{night.year}.{night.month:02d}"


def _environment(framework: str, device: str, night: datetime) -> dict[str, Any]:
    minor = (night.year - 2016) * 2 + night.month // 7  # a new framework minor every 6 months
    return {
        "framework": framework,
        "framework_version": f"2.{minor}.0",
        "cpu_model": "Synthetic CPU @ 3.0GHz",
        "cpu_count": 2,
        "gpu_name": "Synthetic GPU" if device.startswith("gpu") else None,
        "threads": {"torch": 1, "omp": "1"},
        "python": "3.11.7",
        "platform": "Linux-x86_64",
    }


def _write(
    engine: sa.Engine,
    runs: list[tuple[Any, ...]],
    results: list[dict[str, Any]],
    epochs: list[tuple[Any, ...]],
) -> None:
    run_columns = [
        "run_id",
        "trigger",
        "started_at",
        "finished_at",
        "dataset_sha256",
        "validation_outcome",
        "code_version",
        "created_at",
    ]
    if engine.dialect.name != "postgresql":
        with connect(engine, write=True) as conn:
            conn.execute(sa.insert(RUNS), [dict(zip(run_columns, r, strict=True)) for r in runs])
            conn.execute(sa.insert(RESULTS), results)
            conn.execute(
                sa.insert(EPOCHS),
                [
                    dict(zip(("result_id", "epoch", "seconds", "train_mae"), r, strict=True))
                    for r in epochs
                ],
            )
        return
    result_columns = list(results[0])
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        _copy(cursor, "benchmark_runs", run_columns, iter(runs))
        _copy(
            cursor,
            "benchmark_results",
            result_columns,
            (tuple(_pg_value(r[c]) for c in result_columns) for r in results),
        )
        _copy(cursor, "epoch_metrics", ["result_id", "epoch", "seconds", "train_mae"], iter(epochs))
        raw.commit()
    finally:
        raw.close()


def _copy(cursor: Any, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _pg_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.synthetic_warehouse", description=__doc__
    )
    parser.add_argument("--url", required=True, help="an empty warehouse database")
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--years", type=float, default=10.0, help="years of nightly runs (default 10)"
    )
    size.add_argument("--days", type=int, help="days of nightly runs (instead of --years)")
    parser.add_argument("--cases", type=int, default=60, help="cases per run (default 60)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-queries", action="store_true", help="then time the common queries")
    parser.add_argument("--skip-generate", action="store_true", help="only time an existing one")
    args = parser.parse_args(argv)
    url = normalize_url(args.url)
    if not args.skip_generate:
        days = args.days or round(args.years * 365.25)
        totals = generate(url, days=days, cases=args.cases, seed=args.seed)
        print(
            f"generated {totals.runs} runs, {totals.results} results, {totals.epochs} epoch rows "
            f"in {totals.seconds:.1f} s into {mask_url(url)}"
        )
    if args.time_queries or args.skip_generate:
        from benchmarks.query_timing import print_query_timings

        print_query_timings(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
