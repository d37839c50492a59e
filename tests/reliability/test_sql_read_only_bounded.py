"""Issue 13: `bench sql` is read-only for real, and bounded.

On PostgreSQL a read-only transaction did not stop the superuser compose connected as: COPY TO
PROGRAM ran a shell command, pg_read_file / pg_ls_dir / lo_import read server files and
pg_reload_conf ran. SQLite's ATTACH and VACUUM INTO created files. An infinite recursive CTE
died with a MemoryError, pg_sleep(3600) outlived the client, COPY TO STDOUT was a traceback.
"""

from __future__ import annotations

import os
import resource
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.cli import main
from bench.warehouse import read_only_query, store_record
from bench.warehouse.engine import READ_URL_ENV, READER_ROLE, read_url, reset_engines
from tests.builders import make_record

INFINITE = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r"
INSUFFICIENT_PRIVILEGE = "42501"
QUICK = 20.0  # seconds: generous for a busy 2-core machine; the unbounded query never ended
SERVER_ATTACKS = {
    "copy to program": "COPY (SELECT 1) TO PROGRAM 'touch {marker}'",
    "pg_read_file": "SELECT pg_read_file('PG_VERSION')",
    "pg_ls_dir": "SELECT count(*) FROM pg_ls_dir('.')",
    "lo_import": "SELECT lo_import('/etc/passwd')",
    "pg_reload_conf": "SELECT pg_reload_conf()",
}
ROLE_WRITES = [
    "INSERT INTO benchmark_runs (run_id, trigger, started_at, created_at) "
    "VALUES ('x', 'cli', now(), now())",
    "UPDATE benchmark_results SET status = 'failed'",
    "DELETE FROM epoch_metrics",
    "TRUNCATE epoch_metrics",
    "DROP VIEW latest_results",
]


def bench_sql(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["sql", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    """The message, after checking it is one line, exit 1, no traceback."""
    assert code == 1, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("bench sql: error: "), err
    return err


@pytest.fixture
def stored(warehouse_url: str) -> str:
    store_record(make_record(), url=warehouse_url)
    return warehouse_url


@pytest.fixture
def sqlite_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", url)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    store_record(make_record(), url=url)
    yield url
    reset_engines()


@pytest.fixture
def pg(pg_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL warehouse (as the superuser, like compose before) with one record stored."""
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", pg_database)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(READ_URL_ENV, raising=False)
    store_record(make_record(), url=pg_database)
    yield pg_database
    reset_engines()


@pytest.mark.postgres
@pytest.mark.parametrize("attack", sorted(SERVER_ATTACKS))
def test_server_files_and_programs_are_refused(
    pg: str, attack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = Path(f"/tmp/bench-sql-{secrets.token_hex(6)}")  # where COPY TO PROGRAM would write
    code, out, err = bench_sql(SERVER_ATTACKS[attack].format(marker=marker), capsys=capsys)
    one_line_error(code, err)
    assert out == "" and not marker.exists()


@pytest.mark.postgres
def test_the_reader_role_itself_cannot_touch_the_server_or_write(pg: str) -> None:
    """Least privilege holds without bench's own checks: straight to the reader role."""
    engine = sa.create_engine(read_url(pg))
    try:
        with engine.connect() as conn:
            user, superuser = conn.execute(
                sa.text("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
            ).one()
            runs = conn.execute(sa.text("SELECT count(*) FROM benchmark_runs")).scalar_one()
            conn.rollback()
        assert (user, superuser, runs) == (READER_ROLE, False, 1)
        marker = Path(f"/tmp/bench-sql-{secrets.token_hex(6)}")
        for sql in [*(a.format(marker=marker) for a in SERVER_ATTACKS.values()), *ROLE_WRITES]:
            with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError) as caught:
                conn.exec_driver_sql(sql)
            assert getattr(caught.value.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE, sql
        assert not marker.exists()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_reader_can_select_every_table_and_view(pg: str) -> None:
    _, rows = read_only_query("SELECT current_user", pg)
    assert rows == [(READER_ROLE,)]
    engine = sa.create_engine(pg)
    try:
        with engine.connect() as conn:
            relations = conn.execute(
                sa.text(
                    "SELECT relname FROM pg_class WHERE relkind IN ('r', 'v', 'p', 'm') "
                    "AND relnamespace = CAST(current_schema() AS regnamespace)"
                )
            ).scalars()
            names = sorted(relations)
    finally:
        engine.dispose()
    assert {"benchmark_runs", "latest_results", "series_history"} <= set(names)
    for name in names:
        columns, _ = read_only_query(f'SELECT * FROM "{name}" LIMIT 1', pg)
        assert columns, name


@pytest.mark.postgres
def test_sql_refuses_to_run_as_a_superuser(
    pg: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(READ_URL_ENV, pg)  # no reader role: the superuser's URL
    code, _, err = bench_sql("SELECT 1", capsys=capsys)
    one_line_error(code, err)
    assert "superuser" in err and READ_URL_ENV in err and "bench db upgrade" in err


@pytest.fixture
def writer_url(pg: str, pg_admin_engine: sa.Engine) -> Iterator[str]:
    """A non-superuser role that may INSERT into one table (roles are cluster-wide: dropped)."""
    role = f"bench_test_writer_{secrets.token_hex(4)}"
    admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT SELECT, INSERT ON benchmark_runs TO "{role}"'))
    yield sa.make_url(pg).set(username=role).render_as_string(hide_password=False)
    reset_engines()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
    admin.dispose()
    with pg_admin_engine.connect() as conn:
        conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))


@pytest.mark.postgres
def test_sql_refuses_a_role_that_can_write(
    writer_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(READ_URL_ENV, writer_url)
    code, _, err = bench_sql("SELECT 1", capsys=capsys)
    one_line_error(code, err)
    assert "can write to benchmark_runs" in err and READ_URL_ENV in err


@pytest.mark.parametrize("statement", ["ATTACH '{path}' AS elsewhere", "VACUUM INTO '{path}'"])
def test_sqlite_attach_and_vacuum_into_are_refused_and_create_no_file(
    sqlite_warehouse: str, statement: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "created.db"
    code, _, err = bench_sql(statement.format(path=target), capsys=capsys)
    assert "only reads" in one_line_error(code, err)
    assert not target.exists()


def test_an_endless_query_is_cut_at_the_row_limit_quickly(
    stored: str, capsys: pytest.CaptureFixture[str]
) -> None:
    started, peak_kib = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # The default row limit; --timeout only so that a bench without bounds fails at once.
    code, out, err = bench_sql(INFINITE, "--format", "csv", "--timeout", "600", capsys=capsys)
    assert code == 0, err
    assert time.monotonic() - started < QUICK
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_kib < 512 * 1024
    lines = out.splitlines()
    assert lines[0] == "n" and lines[1:] == [str(n) for n in range(1, 10_001)]
    assert "output cut at 10000 rows" in err and "--max-rows" in err

    code, out, _ = bench_sql(INFINITE, "--max-rows", "3", capsys=capsys)
    assert code == 0 and "output cut at 3 rows" in out  # a table's note goes with the table


def test_a_long_query_is_stopped_at_the_time_limit(
    stored: str, backend_sleep: str, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code, _, err = bench_sql(backend_sleep, "--timeout", "1", capsys=capsys)
    assert time.monotonic() - started < QUICK
    assert "time limit of 1 s" in one_line_error(code, err) and "--timeout" in err


@pytest.fixture
def backend_sleep(warehouse_url: str) -> str:
    """A statement that runs for an hour (SQLite has no sleep: an endless aggregate)."""
    if warehouse_url.startswith("sqlite"):
        return INFINITE.replace("SELECT n FROM r", "SELECT max(n) FROM r")
    return "SELECT pg_sleep(3600)"


@pytest.mark.postgres
def test_a_stopped_query_does_not_outlive_the_client(
    pg: str, pg_admin_engine: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = bench_sql("SELECT pg_sleep(3600)", "--timeout", "1", capsys=capsys)
    one_line_error(code, err)
    database = sa.make_url(pg).database
    with pg_admin_engine.connect() as conn:
        running = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                "AND query LIKE '%pg_sleep(3600)%' AND state = 'active' "
                "AND pid <> pg_backend_pid()"
            ),
            {"db": database},
        ).scalar_one()
    assert running == 0


@pytest.mark.postgres
def test_copy_to_stdout_is_one_line_from_a_real_process(pg: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "sql", "COPY (SELECT 1) TO STDOUT"],
        env={**os.environ, "BENCH_WAREHOUSE_URL": pg, "BENCH_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    err = one_line_error(done.returncode, done.stderr)
    assert "--format csv" in err and done.stdout == ""


@pytest.mark.parametrize("flag", ["--timeout", "--max-rows"])
@pytest.mark.parametrize("value", ["0", "-1", "lots"])
def test_bad_bounds_are_one_line(flag: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sql", "SELECT 1", flag, value])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    expected = "a positive number" if flag == "--timeout" else "a whole number of at least 1"
    assert len(err.splitlines()) == 1 and f"{flag}: expected {expected}, got {value!r}" in err
