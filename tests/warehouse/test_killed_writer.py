"""A writer killed in the middle of its transaction leaves nothing behind; the retry lands once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.records import Record
from bench.warehouse import get_engine, results_for_run, store_record, upgrade

# The child writes the whole record inside one transaction, says so, then hangs uncommitted.
CHILD = """
import sys, time
from pathlib import Path
from bench.records import Record
from bench.warehouse import get_engine, upgrade
from bench.warehouse.engine import connect
from bench.warehouse.store import write_record

url, record_path, signal_path = sys.argv[1:]
upgrade(url)
with connect(get_engine(url), write=True) as conn:
    result_id = write_record(conn, Record.read(record_path))
    written = conn.exec_driver_sql(
        f"SELECT count(*) FROM epoch_metrics WHERE result_id = {result_id}"
    ).scalar_one()
    partial = Path(signal_path + ".part")  # renamed whole: the parent never reads it empty
    partial.write_text(str(written))
    partial.replace(signal_path)
    time.sleep(600)
"""


def counts(url: str) -> tuple[int, int, int]:
    with get_engine(url).connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("benchmark_runs", "benchmark_results", "epoch_metrics")
        )


def kill_mid_write(url: str, record: Record, tmp_path: Path) -> None:
    record_path = record.write(tmp_path / "record.json")
    signal_path = tmp_path / "written"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(record_path), str(signal_path)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not signal_path.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"writer child never reached its write: {child.communicate()[1]}")
            time.sleep(0.05)
        assert int(signal_path.read_text()) == len(record.epochs)  # rows written, uncommitted
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("previous", [False, True], ids=["new-key", "replacing"])
def test_killed_writer_leaves_no_partial_rows_and_the_retry_lands_once(
    warehouse_url: str,
    record_factory: Callable[..., Record],
    tmp_path: Path,
    previous: bool,
) -> None:
    upgrade(warehouse_url)
    if previous:
        store_record(record_factory(epochs=5, steady=0.9), url=warehouse_url)
    before = counts(warehouse_url)
    record = record_factory(epochs=30, steady=0.5)

    kill_mid_write(warehouse_url, record, tmp_path)

    assert counts(warehouse_url) == before
    if previous:
        [kept] = results_for_run("run-1", warehouse_url)
        assert (kept["epochs_completed"], kept["steady_epoch_seconds"]) == (5, 0.9)

    store_record(record, url=warehouse_url)  # the retry, e.g. Airflow's next try
    assert counts(warehouse_url) == (1, 1, 30)
    [result] = results_for_run("run-1", warehouse_url)
    assert (result["epochs_completed"], result["steady_epoch_seconds"]) == (30, 0.5)
