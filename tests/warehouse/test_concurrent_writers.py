"""Several processes write one run at once, into a brand-new database: no errors, no doubles."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from bench.records import Record
from bench.warehouse import get_engine, results_for_run

# Each writer says it is ready and waits for the start file, so they all hit the database
# together; then it stores its records three times (a retried task storing again).
WRITER = """
import sys, time
from pathlib import Path
from bench.records import Record
from bench.warehouse import store_record

url, ready, go, *paths = sys.argv[1:]
records = [Record.read(p) for p in paths]
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.01)
for _ in range(3):
    for record in records:
        store_record(record, url=url)
"""
CASES = [
    ("torch", "eager", "cpu"),
    ("torch", "compile", "cpu"),
    ("tensorflow", "eager", "cpu"),
    ("tensorflow", "xla", "cpu"),
]


def test_concurrent_writers_end_with_one_row_per_key(
    warehouse_url: str, record_factory: Callable[..., Record], tmp_path: Path
) -> None:
    def saved(name: str, record: Record) -> str:
        return str(record.write(tmp_path / f"{name}.json"))

    # Two writers with two different cases each, and two racing on the SAME key with
    # different contents: whichever commits last wins, whole.
    jobs = [
        [saved(f"case{i}", record_factory("run-1", CASES[i])) for i in (0, 1)],
        [saved(f"case{i}", record_factory("run-1", CASES[i])) for i in (2, 3)],
        [saved("same-a", record_factory("run-1", ("torch", "eager", "gpu"), epochs=30))],
        [saved("same-b", record_factory("run-1", ("torch", "eager", "gpu"), epochs=7))],
    ]
    go = tmp_path / "go"
    ready = [tmp_path / f"ready{i}" for i in range(len(jobs))]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, warehouse_url, str(flag), str(go), *paths],
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag, paths in zip(ready, jobs, strict=True)
    ]
    deadline = time.monotonic() + 60
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.02)
    go.write_text("go")  # the database is still empty: they also race to migrate it
    errors = [w.communicate(timeout=120)[1] for w in writers]

    assert [w.returncode for w in writers] == [0, 0, 0, 0], errors
    assert errors == ["", "", "", ""]
    results = results_for_run("run-1", warehouse_url)
    keys = [(r["framework"], r["mode"], r["device"]) for r in results]
    assert sorted(keys) == sorted([*CASES, ("torch", "eager", "gpu")])
    with get_engine(warehouse_url).connect() as conn:
        per_result = dict(
            conn.execute(
                sa.text("SELECT result_id, count(*) FROM epoch_metrics GROUP BY result_id")
            ).all()
        )
        assert conn.execute(sa.text("SELECT count(*) FROM benchmark_runs")).scalar_one() == 1
    raced = next(r for r in results if r["device"] == "gpu")
    assert raced["epochs_completed"] in (30, 7)
    with get_engine(warehouse_url).connect() as conn:
        ids = dict(
            conn.execute(sa.text("SELECT id, epochs_completed FROM benchmark_results")).all()
        )
    assert per_result == ids  # every result has exactly its own epochs, nothing mixed


def test_a_new_connection_waits_for_a_writer_before_switching_to_wal(tmp_path: Path) -> None:
    """On a new (not yet WAL) database, SQLite refuses the switch at once while another
    connection writes, ignoring the busy timeout; the engine waits instead (a race that failed
    writers migrating a brand-new warehouse together)."""
    import sqlite3
    import threading

    path = tmp_path / "new.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE t (i INTEGER)")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        engine = get_engine(f"sqlite:///{path}")
        started = time.monotonic()
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
        assert time.monotonic() - started >= 0.3, "it waited for the writer"
    finally:
        release.join()
        holder.close()
