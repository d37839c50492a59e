"""`bench results` shows how sure each time is; `bench compare` says what differs between two
runs, refuses ratios across epoch budgets unless asked, and claims a direction only when the
ratio's 95% interval excludes 1."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from bench.cli import main
from bench.records import Record
from bench.reports import formatting as fmt
from bench.warehouse import compare_runs, results_for_run, store_record
from tests.builders import machine_environment, make_record, nightly

EAGER = ("torch", "eager", "cpu")
FUNCTION = ("tensorflow", "function", "cpu")
NOISE = "other processes used 40% of core(s) 0 (1.20 s)"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def spread(steady: float, width: float, epochs: int = 30) -> list[float]:
    """Epoch times: a 3x first epoch, then `steady` within +-width (relative), evenly spread."""
    offsets = [-1.0, -0.5, 0.0, 0.5, 1.0]
    return [3 * steady] + [steady * (1 + width * offsets[e % 5]) for e in range(epochs - 1)]


def timed(run_id: str, case: tuple[str, str, str], n: int, steady: float, **kw: Any) -> Record:
    """A record whose steady time has a 95% interval about +-`width` (default 2%) wide."""
    width, epochs = kw.pop("width", 0.02), kw.pop("epochs", 30)
    return make_record(
        run_id, case, started_at=nightly(n), epoch_seconds=spread(steady, width, epochs), **kw
    )


def store(url: str, *records: Record) -> None:
    for record in records:
        store_record(record, url=url)


def store_repeats(url: str, run_id: str, n: int, steadies: list[float], **kw: Any) -> None:
    """One case measured in len(steadies) fresh processes (result_repeats + their summary)."""
    for repeat, steady in enumerate(steadies, start=1):
        record = timed(run_id, EAGER, n, steady, **kw)
        record.repeat, record.repeats = repeat, len(steadies)
        store(url, record)


def table_row(out: str, framework: str, mode: str) -> dict[str, str]:
    """The table line of one case as {column: cell}, cut where the header's dashes start."""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("framework"))
    dashes = lines[header + 1]
    starts = [i for i, c in enumerate(dashes) if c == "-" and (i == 0 or dashes[i - 1] == " ")]
    names = lines[header].split()
    for line in lines[header + 2 :]:
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        if cells[:2] == [framework, mode]:
            return dict(zip(names, cells, strict=True))
    raise AssertionError(f"no {framework} {mode} row in:\n{out}")


# --- bench results -------------------------------------------------------------------------


@pytest.fixture
def measured(warehouse_url: str) -> str:
    """Run r1: torch eager over 3 repeats; tf function noisy, one process, reference 0.05 s."""
    store_repeats(warehouse_url, "r1", 0, [0.50, 0.52, 0.51], width=0.0)
    noisy = timed("r1", FUNCTION, 0, 0.1, width=0.04)
    noisy.noisy, noisy.reference_seconds = NOISE, 0.05
    store(warehouse_url, noisy)
    return warehouse_url


def test_results_table_shows_interval_cv_repeats_vs_ref_and_a_noisy_marker(
    measured: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = {r["framework"]: r for r in results_for_run("r1", measured)}
    code, out, _ = run(["results", "--run", "r1"], capsys)
    assert code == 0
    eager, function = table_row(out, "torch", "eager"), table_row(out, "tensorflow", "function")
    torch = stored["torch"]
    assert eager["ci95_s"] == fmt.interval(torch["steady_ci_low"], torch["steady_ci_high"])
    assert eager["ci95_s"] != fmt.DASH and eager["repeats"] == "3"
    assert eager["cv"] == fmt.cv(torch["steady_cv"]) and eager["noisy"] == "-"
    assert eager["vs_ref"] == "-"  # these repeats timed no reference
    assert function["noisy"] == "yes" and function["repeats"] == "1"
    vs_ref = stored["tensorflow"]["steady_epoch_seconds"] / 0.05
    assert float(function["vs_ref"]) == pytest.approx(vs_ref, rel=1e-3)
    assert NOISE not in out and "--format csv or json gives the reason" in out
    assert eager["steady_epoch_seconds"] == "0.51" and eager["status"] == "ok"


def test_results_json_and_csv_carry_the_exact_values_and_the_full_reason(
    measured: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["results", "--run", "r1", "--format", "json"], capsys)
    rows = {r["framework"]: r for r in json.loads(out)}
    assert code == 0 and rows["tensorflow"]["noisy"] == NOISE
    assert rows["tensorflow"]["vs_ref"] == pytest.approx(
        rows["tensorflow"]["steady_epoch_seconds"] / 0.05
    )
    torch = rows["torch"]
    assert torch["repeats"] == 3 and torch["noisy"] is None and torch["vs_ref"] is None
    assert torch["steady_ci_low"] < torch["steady_epoch_seconds"] < torch["steady_ci_high"]
    assert torch["steady_cv"] > 0

    code, out, _ = run(["results", "--latest-per-case", "--format", "csv"], capsys)
    rows = {r["framework"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["tensorflow"]["noisy"] == NOISE and rows["torch"]["repeats"] == "3"
    assert float(rows["torch"]["steady_ci_high"]) == pytest.approx(torch["steady_ci_high"])


def test_results_of_old_rows_without_intervals_show_dashes(
    warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store(warehouse_url, make_record("old", EAGER, epochs=3))  # 2 steady epochs: no interval
    code, out, _ = run(["results"], capsys)
    row = table_row(out, "torch", "eager")
    assert code == 0 and row["ci95_s"] == "-" and row["vs_ref"] == "-" and row["noisy"] == "-"
    assert "noisy:" not in out


# --- bench compare ---------------------------------------------------------------------------


def test_compare_refuses_different_epoch_budgets_in_one_line(
    warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store(warehouse_url, timed("a", EAGER, 0, 0.5), timed("b", EAGER, 1, 0.5, epochs=10))
    for fmt_option in ([], ["--format", "json"]):
        code, out, err = run(["compare", "a", "b", *fmt_option], capsys)
        assert code == 2 and out == ""
        assert len(err.splitlines()) == 1
        assert "30 epochs" in err and "b 10" in err and "--allow-different-budgets" in err

    code, out, _ = run(["compare", "a", "b", "--allow-different-budgets"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "epoch budget differs: 30 in a; 10 in b"
    assert lines[1].startswith("ratios are b / a")
    assert table_row(out, "torch", "eager")["steady_epoch_seconds_ratio"] == "1"


def test_a_failed_case_with_fewer_epochs_is_not_a_budget_difference(
    warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store(
        warehouse_url,
        timed("a", EAGER, 0, 0.5),
        timed("a", FUNCTION, 0, 0.1),
        timed("b", EAGER, 1, 0.5),
        make_record("b", FUNCTION, status="failed", epochs=3, started_at=nightly(1)),
    )
    code, out, _ = run(["compare", "a", "b"], capsys)
    assert code == 0 and "differs" not in out
    assert table_row(out, "tensorflow", "function")["verdict"] == "-"


def test_compare_lists_what_differs_between_the_runs(
    warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env_a = {**machine_environment(), "hostname": "box-a"}
    env_b = {
        **machine_environment(),
        "hostname": "box-b",
        "cpu_model": "Other CPU",
        "framework_version": "2.14.1",
        "threads": {"torch": 2, "omp": "2"},
    }
    store(warehouse_url, timed("a", EAGER, 0, 0.5, environment=env_a))
    store_repeats(warehouse_url, "b", 1, [0.5, 0.5], environment=env_b, dataset_sha256="e" * 64)
    code, out, err = run(["compare", "a", "b"], capsys)
    assert code == 0 and err == ""
    before_table = out.split("ratios are", 1)[0].splitlines()
    assert before_table == [
        f"dataset differs: {'d' * 64} in a; {'e' * 64} in b",
        before_table[1],
        "cpu model differs: Test CPU in a; Other CPU in b",
        "framework version differs: torch 2.13.0 in a; torch 2.14.1 in b",
        'threads differs: {"omp": "1", "torch": 1} in a; {"omp": "2", "torch": 2} in b',
        "hostname differs: box-a in a; box-b in b",
        "repeats differs: 1 in a; 2 in b",
    ]
    assert before_table[1].startswith("environment fingerprint differs: ")

    code, out, err = run(["compare", "a", "b", "--format", "json"], capsys)
    [row] = json.loads(out)
    assert row["differences"]["hostname"] == ["box-a", "box-b"]
    assert row["differences"]["repeats"] == [1, 2] and row["same_environment"] is False
    assert "hostname differs: box-a in a; box-b in b" in err.splitlines()  # stdout stays JSON


def test_compare_claims_a_direction_only_when_the_interval_excludes_one(
    warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store(
        warehouse_url,
        timed("a", EAGER, 0, 0.50),
        timed("a", FUNCTION, 0, 0.10),
        timed("a", ("torch", "compile", "cpu"), 0, 0.30),
        timed("b", EAGER, 1, 0.505),  # overlaps A's interval
        timed("b", FUNCTION, 1, 0.08),  # clearly faster
        timed("b", ("torch", "compile", "cpu"), 1, 0.36),  # clearly slower
    )
    code, out, _ = run(["compare", "a", "b"], capsys)
    assert code == 0 and "verdict" in out.splitlines()[0]
    assert table_row(out, "torch", "eager")["verdict"] == "no measurable difference"
    faster, slower = table_row(out, "tensorflow", "function"), table_row(out, "torch", "compile")
    assert faster["verdict"] == "faster" and slower["verdict"] == "slower"
    low, high = faster["ratio_ci95"].split("-")
    assert float(high.rstrip("x")) < 1 < float(slower["ratio_ci95"].split("-")[0].rstrip("x"))

    code, out, _ = run(["compare", "a", "b", "--format", "csv"], capsys)
    rows = {r["mode"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["eager"]["verdict"] == "no measurable difference"
    eager_low = float(rows["eager"]["steady_epoch_seconds_ratio_low"])
    assert eager_low < 1 < float(rows["eager"]["steady_epoch_seconds_ratio_high"])
    assert (rows["function"]["verdict"], rows["compile"]["verdict"]) == ("faster", "slower")


def test_compare_without_intervals_says_too_few_samples(
    warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store(warehouse_url, timed("a", EAGER, 0, 0.5, epochs=4), timed("b", EAGER, 1, 0.9, epochs=4))
    code, out, _ = run(["compare", "a", "b", "--format", "json"], capsys)
    [row] = json.loads(out)
    assert code == 0 and row["verdict"] == "too few samples"
    assert row["steady_epoch_seconds_ratio"] == pytest.approx(1.8)
    assert row["steady_epoch_seconds_ratio_low"] is None


def test_compare_runs_keeps_its_keys_and_adds_the_uncertainty(warehouse_url: str) -> None:
    noisy = timed("b", EAGER, 1, 0.6)
    noisy.noisy = NOISE
    store(warehouse_url, timed("a", EAGER, 0, 0.5), noisy, timed("b", FUNCTION, 1, 0.1))
    rows = {r["mode"]: r for r in compare_runs("a", "b", warehouse_url)}
    eager = rows["eager"]
    for key in ("status_a", "status_b", "same_environment", "steady_epoch_seconds_ratio",
                "compile_seconds_a", "peak_rss_bytes_b", "test_mae_30_ratio"):  # fmt: skip
        assert key in eager
    assert eager["steady_epoch_seconds_ratio"] == pytest.approx(1.2)
    assert eager["verdict"] == "slower" and eager["noisy_b"] == NOISE and eager["noisy_a"] is None
    assert (eager["epochs_completed_a"], eager["repeats_b"], eager["differences"]) == (30, 1, {})
    only_b = rows["function"]
    assert (only_b["status_a"], only_b["verdict"], only_b["differences"]) == (None, None, {})
