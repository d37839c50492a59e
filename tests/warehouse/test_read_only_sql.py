"""`bench sql` is read-only because the database says so: every kind of write is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bench.records import Record
from bench.warehouse import QueryError, get_engine, read_only_query, store_record

WRITES = [
    "INSERT INTO benchmark_runs (run_id, trigger, started_at, created_at) "
    "VALUES ('x', 'cli', '2026-01-01', '2026-01-01')",
    "UPDATE benchmark_results SET status = 'failed'",
    "DELETE FROM epoch_metrics",
    "DROP TABLE epoch_metrics",
    "DROP VIEW latest_results",
    "CREATE TABLE sneaky (x integer)",
    "SELECT 1; DROP TABLE epoch_metrics",
    "SELECT 1; DELETE FROM epoch_metrics",
    "COMMIT; DROP TABLE epoch_metrics",
]
# A write behind a CTE: PostgreSQL's data-modifying WITH, SQLite's WITH ... DELETE.
CTE_WRITES = {
    "postgresql": "WITH gone AS (DELETE FROM epoch_metrics RETURNING 1) SELECT count(*) FROM gone",
    "sqlite": "WITH ids AS (SELECT result_id FROM epoch_metrics) "
    "DELETE FROM epoch_metrics WHERE result_id IN (SELECT result_id FROM ids)",
}


def snapshot(url: str) -> tuple[int, int, int, set[str]]:
    engine = get_engine(url)
    with engine.connect() as conn:
        counts = tuple(
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("benchmark_runs", "benchmark_results", "epoch_metrics")
        )
    names = set(sa.inspect(engine).get_table_names()) | set(sa.inspect(engine).get_view_names())
    return (*counts, names)  # type: ignore[return-value]


@pytest.fixture
def stored(warehouse_url: str, record_factory: Callable[..., Record]) -> str:
    store_record(record_factory(), url=warehouse_url)
    return warehouse_url


def test_select_returns_columns_and_rows(stored: str) -> None:
    columns, rows = read_only_query(
        "SELECT framework, count(*) AS n FROM epoch_metrics e "
        "JOIN benchmark_results r ON r.id = e.result_id GROUP BY framework",
        stored,
    )
    assert columns == ["framework", "n"]
    assert rows == [("torch", 30)]


def test_percent_signs_are_plain_sql(stored: str) -> None:
    _, rows = read_only_query(
        "SELECT count(*) FROM benchmark_results WHERE mode LIKE 'ea%'", stored
    )
    assert rows == [(1,)]


@pytest.mark.parametrize("sql", WRITES)
def test_writes_are_refused_and_change_nothing(stored: str, sql: str) -> None:
    before = snapshot(stored)
    with pytest.raises(QueryError) as caught:
        read_only_query(sql, stored)
    assert "\n" not in str(caught.value)
    assert snapshot(stored) == before


def test_a_write_hidden_in_a_cte_is_refused(stored: str, backend: str) -> None:
    before = snapshot(stored)
    with pytest.raises(QueryError):
        read_only_query(CTE_WRITES[backend], stored)
    assert snapshot(stored) == before


def test_a_failed_query_is_one_line(stored: str) -> None:
    with pytest.raises(QueryError, match="no_such_table"):
        read_only_query("SELECT * FROM no_such_table", stored)
