"""Issue 13: a trained record is never lost. Whatever fails after training (its --json file, the
warehouse: down, corrupt, a newer schema; the spool) the record is kept somewhere, one line
says where, the exit code is not 0, and a stored record is never also spooled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench import pipeline
from bench.warehouse import spool_dir, store_or_spool, upgrade
from bench.warehouse.engine import reset_engines
from bench.warehouse.migrate import VERSION_TABLE, forget_upgrades
from bench.warehouse.store import spool_record, try_store
from tests.builders import make_record

UNREACHABLE = "postgresql+psycopg://bench:s3cret@127.0.0.1:1/nowhere"
LONG_RUN_ID = "r" + "x" * 249  # the longest run id check_run_id allows
TORCH_EAGER = ("--framework", "torch", "--mode", "eager", "--epochs", "1", "--quiet")


def bench(
    *args: str, home: Path, data_home: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "BENCH_WAREHOUSE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        env={**base, "BENCH_HOME": str(home), "BENCH_DATA_HOME": str(data_home), **(env or {})},
        timeout=600,
    )


def error_line(result: subprocess.CompletedProcess[str], command: str = "run") -> str:
    """The one error line of a run that failed (exit 1): exactly one, and no traceback."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if f"bench {command}: error:" in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


def spooled(home: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((home / "spool").glob("*.json"))]


def garbage_warehouse(tmp_path: Path) -> str:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not an SQLite database" * 100)
    return f"sqlite:///{path}"


@pytest.mark.integration
def test_an_unwritable_json_path_keeps_the_record_in_the_spool(
    tmp_path: Path, data_home: Path
) -> None:
    result = bench(
        "run", *TORCH_EAGER, "--run-id", "no-json", "--json", "/proc/forbidden.json",
        "--no-store", home=tmp_path, data_home=data_home,
    )  # fmt: skip
    line = error_line(result)
    assert "/proc/forbidden.json" in line and str(tmp_path / "spool") in line
    [record] = spooled(tmp_path)
    assert record["run_id"] == "no-json" and record["status"] == "ok"


@pytest.mark.integration
def test_an_unwritable_json_path_with_a_working_warehouse_stores_once(
    tmp_path: Path, data_home: Path
) -> None:
    result = bench(
        "run", *TORCH_EAGER, "--run-id", "stored-once", "--json", "/proc/forbidden.json",
        home=tmp_path, data_home=data_home,
    )  # fmt: skip
    line = error_line(result)
    assert "/proc/forbidden.json" in line and "stored in the warehouse" in line
    assert not (tmp_path / "spool").exists(), "a stored record is never also spooled"
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT run_id FROM benchmark_results")).scalars().all()
    engine.dispose()
    assert runs == ["stored-once"]


def newer_warehouse(tmp_path: Path) -> str:
    """A warehouse whose schema revision this bench does not know (a newer bench wrote it)."""
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = 'r9999_from_the_future'"))
    engine.dispose()
    reset_engines()
    forget_upgrades()
    return url


@pytest.mark.integration
@pytest.mark.parametrize(
    "make_warehouse, words",
    [(garbage_warehouse, ["not a database"]),
     (newer_warehouse, ["r9999_from_the_future", "upgrade bench"])],
    ids=["garbage", "newer-schema"],
)  # fmt: skip
def test_a_warehouse_that_cannot_take_the_record_spools_it(
    make_warehouse: Callable[[Path], str], words: list[str], tmp_path: Path, data_home: Path
) -> None:
    url = make_warehouse(tmp_path)
    result = bench(
        "run", *TORCH_EAGER, "--run-id", "refused", home=tmp_path, data_home=data_home,
        env={"BENCH_WAREHOUSE_URL": url},
    )  # fmt: skip
    line = error_line(result)
    assert all(word in line for word in words), line
    assert f"bench ingest {tmp_path / 'spool'}" in line
    assert [r["run_id"] for r in spooled(tmp_path)] == ["refused"]


@pytest.mark.integration
def test_an_unwritable_spool_and_a_down_warehouse_leave_the_record_in_the_json_file(
    tmp_path: Path, data_home: Path
) -> None:
    (tmp_path / "a-file").write_text("BENCH_HOME below a file: nothing can be written there\n")
    out = tmp_path / "record.json"
    result = bench(
        "run", *TORCH_EAGER, "--run-id", "json-only", "--json", str(out),
        home=tmp_path / "a-file" / "home", data_home=data_home,
        env={"BENCH_WAREHOUSE_URL": UNREACHABLE},
    )  # fmt: skip
    line = error_line(result)
    assert "cannot write the spool" in line and str(out) in line
    assert "s3cret" not in result.stderr
    assert json.loads(out.read_text())["run_id"] == "json-only"


@pytest.mark.integration
def test_with_nowhere_to_write_the_record_is_printed_as_json(
    tmp_path: Path, data_home: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    result = bench(
        "run", *TORCH_EAGER, "--run-id", "printed", home=tmp_path / "a-file" / "home",
        data_home=data_home, env={"BENCH_WAREHOUSE_URL": UNREACHABLE},
    )  # fmt: skip
    line = error_line(result)
    assert "cannot write the spool" in line and "printed as JSON on stdout" in line
    [printed] = [json.loads(s) for s in result.stdout.splitlines() if s.startswith("{")]
    assert printed["run_id"] == "printed" and printed["status"] == "ok"


@pytest.mark.integration
def test_matrix_keeps_every_record_when_json_dir_and_warehouse_fail(
    tmp_path: Path, data_home: Path
) -> None:
    url = garbage_warehouse(tmp_path)
    result = bench(
        "matrix", "--framework", "torch", "--mode", "eager", "--device", "cpu", "--epochs", "1",
        "--repeats", "2", "--quiet", "--run-id", "matrix-kept", "--json-dir", "/proc/no-dir",
        home=tmp_path, data_home=data_home, env={"BENCH_WAREHOUSE_URL": url},
    )  # fmt: skip
    line = error_line(result, "matrix")
    assert "/proc/no-dir" in line and "not a database" in line and "2 record(s) kept" in line
    assert sorted(r["repeat"] for r in spooled(tmp_path)) == [1, 2]


@pytest.mark.integration
def test_the_dag_store_step_spools_a_record_the_warehouse_refuses(
    tmp_path: Path, data_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    case = {"framework": "torch", "mode": "eager", "device": "cpu", "name": "torch-eager-cpu"}
    with pytest.raises(pipeline.NotStored) as caught:
        pipeline.train_and_store(
            case, run_id="dag-run", trigger="scheduled", epochs=1, data_home=str(data_home),
            url=garbage_warehouse(tmp_path),
        )  # fmt: skip
    reset_engines()
    message = str(caught.value)
    assert "\n" not in message and "not a database" in message and "bench ingest" in message
    [record] = spooled(tmp_path)
    assert record["run_id"] == "dag-run" and record["trigger"] == "scheduled"


@pytest.mark.integration
def test_the_dag_store_step_logs_the_record_when_the_spool_is_unwritable_too(
    tmp_path: Path,
    data_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "a-file" / "home"))
    case = {"framework": "torch", "mode": "eager", "device": "cpu", "name": "torch-eager-cpu"}
    with pytest.raises(pipeline.NotStored, match="this task's log") as caught:
        pipeline.train_and_store(
            case, run_id="dag-logged", trigger="manual", epochs=1, data_home=str(data_home),
            url=UNREACHABLE,
        )  # fmt: skip
    assert "\n" not in str(caught.value)
    logged = [r.getMessage() for r in caplog.records if '"run_id": "dag-logged"' in r.getMessage()]
    assert len(logged) == 1


def test_store_or_spool_spools_on_any_storing_failure_not_only_an_unreachable_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    path = store_or_spool(make_record("corrupt"), url=garbage_warehouse(tmp_path))
    reset_engines()
    assert path is not None and path.parent == spool_dir() and path.is_file()
    reason = try_store(make_record("corrupt"), url=garbage_warehouse(tmp_path))
    reset_engines()
    assert reason is not None and "\n" not in reason and "not a database" in reason


def test_the_longest_run_id_still_fits_a_spool_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    record = make_record(LONG_RUN_ID)
    path = store_or_spool(record, url=UNREACHABLE)
    assert path is not None and len(path.name) < 255
    assert json.loads(path.read_text())["run_id"] == LONG_RUN_ID
    other = spool_record(make_record(LONG_RUN_ID[:-1] + "y"))
    assert other != path, "run ids cut to the same length keep apart by their hash"


@pytest.mark.postgres
def test_a_value_postgresql_refuses_spools_the_record_and_stores_nothing(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite ignores column lengths, PostgreSQL refuses them: not a connection failure."""
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    record = make_record(LONG_RUN_ID)
    record.environment["framework_version"] = "9" * 100  # the column holds 64
    reason = try_store(record, url=pg_database)
    assert reason is not None and "\n" not in reason and "too long" in reason
    path = store_or_spool(record, url=pg_database)
    assert path is not None and json.loads(path.read_text())["run_id"] == LONG_RUN_ID
    engine = sa.create_engine(pg_database)
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT count(*) FROM benchmark_runs")).scalar_one()
    engine.dispose()
    assert runs == 0, "one transaction: nothing of the refused record was stored"
