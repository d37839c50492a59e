"""detect_regressions and the CLI against real warehouses (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bench.analysis import acknowledge, detect_regressions, list_acknowledgements
from bench.cli import main
from bench.config import Case
from bench.warehouse import store_record
from bench.warehouse.engine import get_engine

from .conftest import StoreSeries, make_record, wobble

STEADY = "steady_epoch_seconds"


def flag_rows(url: str) -> list[tuple[str, str, str]]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text("SELECT run_id, metric, label FROM regression_flags"))
        return sorted((r.run_id, r.metric, r.label) for r in rows)


@pytest.fixture
def slowed(store_series: StoreSeries) -> list[str]:
    """30 steady nights at 0.5 s, then 3 at 0.6 s (+20%)."""
    base = [wobble(i, 0.5) for i in range(30)]
    return store_series(base + [wobble(i, 0.6) for i in range(30, 33)])


def test_a_step_is_a_regression_stored_once(warehouse_url: str, slowed: list[str]) -> None:
    result = detect_regressions(url=warehouse_url)
    assert result.run_id == slowed[-1] and result.verdict.red
    flags = {f.metric: f for f in result.flags}
    assert flags[STEADY].label == "regression"
    assert flags[STEADY].change_point_run_id == slowed[30]
    assert flags["total_seconds"].label == "regression"
    assert 17 < (flags[STEADY].change_pct or 0) < 23
    first = flag_rows(warehouse_url)
    again = detect_regressions(slowed[-1], url=warehouse_url)
    assert flag_rows(warehouse_url) == first  # idempotent: same rows, no duplicates
    assert [f.label for f in again.flags] == [f.label for f in result.flags]
    assert "regression torch-eager-cpu steady_epoch_seconds" in result.summary()


def test_quiet_history_has_no_flags(warehouse_url: str, store_series: StoreSeries) -> None:
    store_series([wobble(i, 0.5) for i in range(35)])
    result = detect_regressions(url=warehouse_url)
    assert result.flags == [] and not result.verdict.red
    # steady, compile, total seconds, peak RSS, test MSE and MAE at 30 (no GPU memory)
    assert result.series_judged == 6
    assert flag_rows(warehouse_url) == []


def test_a_stale_flag_goes_when_the_run_is_judged_again(
    warehouse_url: str, slowed: list[str]
) -> None:
    detect_regressions(url=warehouse_url)
    acknowledge(Case("torch", "eager", "cpu"), [STEADY, "total_seconds"], slowed[30],
                note="new loop", url=warehouse_url)  # fmt: skip
    result = detect_regressions(url=warehouse_url)
    # the baseline restarted at run 30: too little history yet, and no regression any more
    assert {(f.metric, f.label) for f in result.flags} == {
        (STEADY, "insufficient"), ("total_seconds", "insufficient"),
    }  # fmt: skip
    assert not result.verdict.red
    assert {label for _, _, label in flag_rows(warehouse_url)} == {"insufficient"}
    [ack, _] = list_acknowledgements(url=warehouse_url)
    assert ack.from_run_id == slowed[30] and ack.note == "new loop"
    assert ack.case == Case("torch", "eager", "cpu")


def test_manual_runs_stay_out_of_the_baseline(
    warehouse_url: str, store_series: StoreSeries
) -> None:
    store_series([wobble(i, 0.5) for i in range(30)])
    # three slow manual runs would be a new level if they counted; they are only judged
    store_series([0.6, 0.6], first_day=30, trigger="manual")
    store_series([wobble(32, 0.5)], first_day=32)
    result = detect_regressions(url=warehouse_url)
    assert result.flags == []
    store_record(make_record("manual-1", 33, steady=0.6, trigger="manual"), url=warehouse_url)
    result = detect_regressions("manual-1", url=warehouse_url)
    assert {f.metric: f.label for f in result.flags}[STEADY] == "suspected"


def test_status_findings(warehouse_url: str, store_series: StoreSeries) -> None:
    for case in (("torch", "eager", "cpu"), ("torch", "compile", "cpu")):
        store_series([0.5] * 3, case=case)
    store_record(make_record("run-003", 3, status="failed"), url=warehouse_url)
    result = detect_regressions(url=warehouse_url)
    labels = {(f.case.mode, f.metric): f.label for f in result.flags}
    assert labels == {("eager", "status"): "failed", ("compile", "status"): "missing"}
    # a failed or missing case makes the run red, as the DAG's verdict does
    assert result.verdict.red and result.to_dict()["red"] is True
    assert [f.label for f in result.verdict.blocking] == ["failed", "missing"]
    result = detect_regressions(url=warehouse_url, expected_cases=[{"framework": "torch",
        "mode": "eager", "device": "cpu"}])  # fmt: skip
    assert {f.label for f in result.flags} == {"failed"}


def test_cli_exit_codes_and_formats(
    warehouse_url: str, slowed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect"]) == 2
    out = capsys.readouterr().out
    assert "regression" in out and "steady_epoch_seconds" in out
    assert main(["detect", "--run", slowed[29], "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["run_id"] == slowed[29] and data["red"] is False
    ack = ["ack", "--framework", "torch", "--mode", "eager", "--metric", STEADY]
    assert main([*ack, "--metric", "total_seconds", "--from", slowed[30], "--note", "ok"]) == 0
    assert "acknowledged 2 metric(s)" in capsys.readouterr().out
    assert main(["detect"]) == 0  # acknowledged: a new, short baseline
    assert "insufficient" in capsys.readouterr().out
    assert main(["ack"]) == 0
    assert slowed[30] in capsys.readouterr().out


def test_cli_errors_are_one_line(warehouse_url: str, slowed: list[str], capsys) -> None:
    assert main(["detect", "--run", "nope"]) == 1
    assert "no run 'nope'" in capsys.readouterr().err
    assert main(["ack", "--framework", "torch"]) == 2  # a usage error, as argparse's are
    assert "bench ack needs --mode, --metric, --from, --note" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["ack", "--framework", "torch", "--mode", "eager", "--metric", "x",
              "--from", slowed[0], "--note", "why"])  # fmt: skip
    assert exit_info.value.code == 2
    assert "invalid choice: 'x'" in capsys.readouterr().err


def store_with_reference(url: str, steadies: list[float], references: list[float]) -> None:
    for day, (steady, reference) in enumerate(zip(steadies, references, strict=True)):
        record = make_record(f"run-{day:03d}", day, steady=steady)
        record.reference_seconds = reference
        store_record(record, url=url)


def test_times_are_judged_at_the_hosts_speed(warehouse_url: str) -> None:
    # the time stayed at 0.5 s while the host got 12% faster (reference 0.05 -> 0.044 s): at the
    # host's usual speed the case is 13.6% slower
    steadies = [wobble(i, 0.5) for i in range(33)]
    store_with_reference(
        warehouse_url, steadies, [wobble(i + 3, 0.05 if i < 30 else 0.044) for i in range(33)]
    )
    result = detect_regressions(url=warehouse_url)
    flags = {f.metric: f for f in result.flags}
    assert flags[STEADY].label == "regression" and result.verdict.red
    assert flags[STEADY].value == pytest.approx(steadies[-1])  # the time as measured
    assert flags[STEADY].detector_version == "robust-lr-11"
    assert (result.run_id, STEADY, "regression") in flag_rows(warehouse_url)


def test_a_slower_host_is_the_machine_not_a_red_run(warehouse_url: str) -> None:
    # case and reference both 30% slower on the last 3 nights
    store_with_reference(
        warehouse_url,
        [wobble(i, 0.5 if i < 30 else 0.65) for i in range(33)],
        [wobble(i + 3, 0.05 if i < 30 else 0.065) for i in range(33)],
    )
    result = detect_regressions(url=warehouse_url)
    flags = {f.metric: f for f in result.flags}
    assert flags[STEADY].label == "machine" and not result.verdict.red
    assert 25 < (flags[STEADY].change_pct or 0) < 35  # the time's own change
