"""Reads: latest run, latest result per case (the view), one series, run comparison."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench.records import Record
from bench.warehouse import (
    NotFound,
    compare_runs,
    ensure_run,
    latest_results,
    latest_run_id,
    read_only_query,
    results_for_run,
    series_history,
    store_record,
    upgrade,
)
from tests.builders import nightly

EAGER, COMPILE = ("torch", "eager", "cpu"), ("torch", "compile", "cpu")


def test_empty_warehouse_has_no_latest_run(warehouse_url: str) -> None:
    assert latest_run_id(warehouse_url) is None
    assert latest_results(warehouse_url) == []


def test_latest_run_is_the_newest_with_results(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    store_record(record_factory("old", started_at=nightly(0)), url=warehouse_url)
    store_record(record_factory("new", started_at=nightly(1)), url=warehouse_url)
    ensure_run("started-no-results", trigger="scheduled", started_at=nightly(2), url=warehouse_url)
    assert latest_run_id(warehouse_url) == "new"
    assert [r["run_id"] for r in results_for_run("new", warehouse_url)] == ["new"]
    assert results_for_run("missing", warehouse_url) == []


def test_latest_results_is_each_cases_most_recent_run(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    store_record(record_factory("n1", EAGER, started_at=nightly(1), steady=1.0), url=warehouse_url)
    store_record(record_factory("n1", COMPILE, started_at=nightly(1)), url=warehouse_url)
    store_record(
        record_factory("n1", ("torch", "eager", "gpu"), started_at=nightly(1)), url=warehouse_url
    )
    store_record(
        record_factory("n2", EAGER, started_at=nightly(2), status="failed"), url=warehouse_url
    )
    # Same start time: the greater run_id wins, deterministically.
    store_record(
        record_factory("n3a", ("tensorflow", "xla", "gpu"), started_at=nightly(3)),
        url=warehouse_url,
    )
    store_record(
        record_factory("n3b", ("tensorflow", "xla", "gpu"), started_at=nightly(3)),
        url=warehouse_url,
    )

    latest = {(r["framework"], r["mode"], r["device"]): r for r in latest_results(warehouse_url)}
    assert {case: row["run_id"] for case, row in latest.items()} == {
        EAGER: "n2",
        COMPILE: "n1",
        ("torch", "eager", "gpu"): "n1",
        ("tensorflow", "xla", "gpu"): "n3b",
    }
    assert latest[EAGER]["status"] == "failed"  # latest means latest, whatever its status
    # psql users asking the view get the same rows.
    _, view_rows = read_only_query(
        "SELECT run_id FROM latest_results ORDER BY run_id", warehouse_url
    )
    assert [r[0] for r in view_rows] == ["n1", "n1", "n2", "n3b"]


def test_series_history_is_one_case_oldest_first(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    for n in (3, 1, 2, 0):  # stored out of order
        store_record(
            record_factory(f"n{n}", EAGER, started_at=nightly(n), steady=1 + n), url=warehouse_url
        )
    store_record(record_factory("n9", COMPILE, started_at=nightly(9)), url=warehouse_url)

    series = series_history(*EAGER, url=warehouse_url)
    assert [(s["run_id"], s["value"]) for s in series] == [
        ("n0", 1.0),
        ("n1", 2.0),
        ("n2", 3.0),
        ("n3", 4.0),
    ]
    assert series[0]["trigger"] == "cli" and series[0]["code_version"] == "abc1234"
    last_two = series_history(*EAGER, last=2, metric="test_mae_30", url=warehouse_url)
    assert [s["run_id"] for s in last_two] == ["n2", "n3"]
    assert last_two[0]["value"] == pytest.approx(0.35)
    assert series_history("torch", "eager", "gpu", url=warehouse_url) == []
    with pytest.raises(ValueError, match="unknown metric 'speed'; choose one of"):
        series_history(*EAGER, metric="speed", url=warehouse_url)


def test_compare_runs_gives_per_case_ratios(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    store_record(record_factory("a", EAGER, steady=0.5), url=warehouse_url)
    store_record(record_factory("a", COMPILE, steady=0.4), url=warehouse_url)
    other_env = {**record_factory().environment, "cpu_model": "Other CPU"}
    store_record(record_factory("b", EAGER, steady=0.75, environment=other_env), url=warehouse_url)

    rows = {(r["framework"], r["mode"]): r for r in compare_runs("a", "b", warehouse_url)}
    eager = rows[("torch", "eager")]
    assert eager["steady_epoch_seconds_ratio"] == pytest.approx(1.5)
    assert eager["same_environment"] is False
    only_a = rows[("torch", "compile")]
    assert (only_a["status_a"], only_a["status_b"], only_a["steady_epoch_seconds_ratio"]) == (
        "ok",
        None,
        None,
    )
    with pytest.raises(NotFound, match="no results for run 'zzz'"):
        compare_runs("a", "zzz", warehouse_url)


def test_views_answer_after_a_fresh_upgrade(warehouse_url: str) -> None:
    upgrade(warehouse_url)
    columns, rows = read_only_query("SELECT * FROM series_history", warehouse_url)
    assert rows == [] and "steady_epoch_seconds" in columns and "trigger" in columns
