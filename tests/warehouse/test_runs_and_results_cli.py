"""What a reader sees after any run: accuracy, epochs and the note in `bench results` and
`bench history`, every epoch with `bench results --epochs`, and the runs with `bench runs`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest

from bench.analysis.assess import new_flag
from bench.cli import main
from bench.config import Case
from bench.records import EvalMetric, Record
from bench.warehouse import ensure_run, get_engine, store_record, upgrade
from bench.warehouse.engine import connect
from bench.warehouse.store import write_flags
from tests.builders import nightly

TWO_EPOCHS = [EvalMetric(epoch=2, test_mse=0.61, test_mae=0.57)]
NOTE = "after the allocator change"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def table(out: str) -> list[dict[str, str]]:
    """The rows of a printed table (the header line starts with `framework` or `run_id`)."""
    lines = out.splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.split()[:1] in (["framework"], ["run_id"])
    )
    header = lines[start].split()
    body = []
    for line in lines[start + 2 :]:
        if not line.strip() or ": " in line:  # the legend below the table
            break
        body.append(dict(zip(header, line.split(), strict=False)))
    return body


@pytest.fixture
def short_runs(warehouse_url: str, record_factory: Callable[..., Record]) -> str:
    """Three 2-epoch runs (as `make run` makes): n0 and n1 ok, n2 with a failed case and a note."""
    for n in range(3):
        run_id = f"n{n}"
        note = NOTE if n == 2 else None
        ensure_run(run_id, trigger="manual", started_at=nightly(n), note=note, url=warehouse_url)
        for case, status in ((("torch", "eager", "cpu"), "ok"), (("jax", "jit", "cpu"), "ok"),
                             (("torch", "eager", "gpu"), "skipped")):  # fmt: skip
            if n == 2 and case[1] == "jit":
                status = "failed"
            trained = status == "ok"
            record = record_factory(
                run_id, case, status=status, started_at=nightly(n), epochs=2 if trained else 0,
                eval_metrics=TWO_EPOCHS if trained else [],
            )  # fmt: skip
            store_record(record, url=warehouse_url)
    return warehouse_url


def test_results_show_the_final_evaluation_and_epochs_in_every_format(
    short_runs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["results", "--run", "n1", "--format", "json"], capsys)
    assert code == 0
    eager = next(r for r in json.loads(out) if r["mode"] == "eager")
    assert (eager["eval_epoch"], eager["test_mse"], eager["test_mae"]) == (2, 0.61, 0.57)
    assert eager["epochs_completed"] == 2

    code, out, _ = run(["results", "--run", "n1", "--format", "csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {"eval_epoch", "test_mse", "test_mae", "epochs_completed"} <= set(rows[0])
    assert rows[0]["test_mae"] == "0.57"

    code, out, _ = run(["results", "--run", "n1"], capsys)
    shown = {(r["framework"], r["mode"], r["device"]): r for r in table(out)}
    eager_row = shown[("torch", "eager", "cpu")]
    assert eager_row["epochs"] == "2" and eager_row["eval_epoch"] == "2"
    assert eager_row["test_mse"] == "0.61" and eager_row["test_mae"] == "0.57"
    assert "test_mae_30" not in out  # no row reached the budget: the column is left out


def test_results_show_the_runs_note(short_runs: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["results"], capsys)  # the latest run: n2
    assert code == 0 and f"note: {NOTE}" in out
    code, out, _ = run(["results", "--format", "json"], capsys)
    assert {row["note"] for row in json.loads(out)} == {NOTE}
    code, out, _ = run(["results", "--run", "n1"], capsys)
    assert "note" not in out.splitlines()[1]  # a run without a note has no note line
    code, out, _ = run(["results", "--latest-per-case"], capsys)
    assert "note" in out and NOTE in out


def test_results_epochs_lists_every_epoch_with_its_test_metrics(
    short_runs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["results", "--run", "n1", "--epochs", "--format", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    eager = [r for r in rows if r["mode"] == "eager" and r["device"] == "cpu"]
    assert [r["epoch"] for r in eager] == [1, 2]
    assert [(r["test_mse"], r["test_mae"]) for r in eager] == [(None, None), (0.61, 0.57)]
    assert eager[0]["seconds"] > 0 and eager[0]["train_mae"] == 1.0
    code, out, _ = run(["results", "--run", "n1", "--epochs"], capsys)
    assert code == 0 and "train_mae" in out and "every epoch" in out

    code, _, err = run(["results", "--epochs", "--latest-per-case"], capsys)
    assert code == 2 and "--epochs" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(["results", "--run", "nope", "--epochs"], capsys)
    assert code == 1 and "bench runs" in err


def test_history_shows_epochs_and_the_final_evaluation(
    short_runs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["history", "--framework", "torch", "--mode", "eager"]
    code, out, _ = run([*argv, "--format", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert [r["epochs_completed"] for r in rows] == [2, 2, 2]
    assert {(r["eval_epoch"], r["test_mse"], r["test_mae"]) for r in rows} == {(2, 0.61, 0.57)}
    assert [r["note"] for r in rows] == [None, None, NOTE]
    code, out, _ = run(argv, capsys)
    header = out.splitlines()[0].split()
    assert {"epochs", "steady_epoch_seconds", "test_mse", "test_mae", "note"} <= set(header)


def test_runs_lists_the_newest_runs_with_counts_verdict_and_note(
    short_runs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["runs", "--last", "2", "--format", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert [r["run_id"] for r in rows] == ["n1", "n2"]  # oldest first, the newest two
    n1, n2 = rows
    assert (n1["ok"], n1["skipped"], n1["failed"], n1["verdict"]) == (2, 1, 0, "green")
    assert (n2["ok"], n2["skipped"], n2["failed"], n2["verdict"]) == (1, 1, 1, "red")
    assert n1["trigger"] == "manual" and n1["note"] is None and n2["note"] == NOTE

    code, out, _ = run(["runs", "--last", "2"], capsys)
    shown = {r["run_id"]: r for r in table(out)}
    assert set(shown) == {"n1", "n2"}
    assert shown["n2"]["failed"] == "1" and NOTE in out and "verdict: red when" in out
    code, out, _ = run(["runs"], capsys)
    assert {r["run_id"] for r in table(out)} == {"n0", "n1", "n2"}


def test_runs_counts_blocking_flags_and_lists_runs_without_results(
    warehouse_url: str, record_factory: Callable[..., Record], capsys: pytest.CaptureFixture[str]
) -> None:
    store_record(record_factory("judged"), url=warehouse_url)
    ensure_run("invalid-data", trigger="scheduled", started_at=nightly(5), url=warehouse_url)
    with connect(get_engine(warehouse_url), write=True) as conn:
        flag = new_flag(
            "judged", Case("torch", "eager", "cpu"), "steady_epoch_seconds", "regression"
        )
        write_flags(conn, "judged", [flag])
    code, out, _ = run(["runs", "--format", "json"], capsys)
    rows = {r["run_id"]: r for r in json.loads(out)}
    assert (rows["judged"]["blocking"], rows["judged"]["verdict"]) == (1, "red")
    assert rows["invalid-data"]["ok"] == 0 and rows["invalid-data"]["verdict"] == "green"


def test_runs_on_an_empty_warehouse_or_with_a_bad_count(
    warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if warehouse_url.startswith("sqlite"):  # a reader never creates the warehouse
        code, _, err = run(["runs"], capsys)
        assert code == 1 and "no warehouse at" in err
    upgrade(warehouse_url)  # a warehouse with no run yet
    code, _, err = run(["runs"], capsys)
    assert code == 1 and "no runs yet" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exited:
        main(["runs", "--last", "0"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "--last: expected a whole number of at least 1" in err
