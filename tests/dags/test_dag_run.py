"""Whole bench_nightly runs with `dag.test()`: real data, real training, a real warehouse.

The whole default matrix at one epoch takes ~3 minutes here (three torch.compile cases), too
long to run twice; a selection of both frameworks in two modes on both devices covers every
task and path (CPU trains, GPU is skipped on this machine) in about a minute per run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import joblib
import pytest

from tests.dags.dag_helpers import (
    AirflowHome,
    case_name,
    run_dag_test,
    warehouse_counts,
    warehouse_rows,
)

SELECTION = {"frameworks": ["torch", "tensorflow"], "modes": ["eager", "function"]}
EXPECTED_CASES = {
    "torch-eager-cpu",
    "torch-eager-gpu",
    "tensorflow-eager-cpu",
    "tensorflow-eager-gpu",
    "tensorflow-function-cpu",
    "tensorflow-function-gpu",
}
WHEN = "2026-11-01T02:00:00+00:00"


@pytest.mark.integration
def test_run_stores_one_row_per_case_and_a_rerun_changes_no_counts(
    airflow_home: AirflowHome,
) -> None:
    conf = {**SELECTION, "devices": ["cpu", "gpu"], "epochs": 1, "repeats": 2, "note": "dag.test"}
    first = run_dag_test(airflow_home, conf, when=WHEN)
    states = {(t["task_id"], t["rendered_map_index"]): t["state"] for t in first["tasks"]}
    assert first["state"] == "success", states
    assert first["run_type"] == "manual"
    assert set(states.values()) == {"success"}
    trained = {t["rendered_map_index"]: t for t in first["tasks"] if t["map_index"] >= 0}
    assert set(trained) == {f"{c} #{r}" for c in EXPECTED_CASES for r in (1, 2)}, (
        "map_index_template names each case and repeat"
    )
    cpu_order = sorted((t["map_index"], name) for name, t in trained.items() if "cpu" in name)
    assert [name for _, name in cpu_order] == [
        "torch-eager-cpu #1", "tensorflow-eager-cpu #1", "tensorflow-function-cpu #1",
        "tensorflow-eager-cpu #2", "tensorflow-function-cpu #2", "torch-eager-cpu #2",
    ], "repeats interleaved: round robin, rotated each repeat"  # fmt: skip
    for name, ti in trained.items():
        device = name.split(" ")[0].rsplit("-", 1)[1]
        assert ti["task_id"] == f"train_{device}"
        assert ti["pool"] == f"bench_{device}"

    url = airflow_home.warehouse_url
    run_id = first["run_id"]
    runs = warehouse_rows(url, "SELECT * FROM benchmark_runs")
    assert [(r["run_id"], r["trigger"], r["validation_outcome"]) for r in runs] == [
        (run_id, "manual", "passed")
    ]
    assert runs[0]["finished_at"] is not None
    validations = warehouse_rows(url, "SELECT run_id, success FROM dataset_validations")
    assert [(v["run_id"], bool(v["success"])) for v in validations] == [(run_id, True)]

    results = warehouse_rows(url, "SELECT * FROM benchmark_results WHERE run_id = :r", r=run_id)
    by_case = {case_name(row): row for row in results}
    assert len(results) == len(by_case) == len(EXPECTED_CASES)
    assert set(by_case) == EXPECTED_CASES
    for name, row in by_case.items():
        if name.endswith("-gpu"):
            assert row["status"] == "skipped", row
            assert "GPU" in row["reason"]
        else:
            assert (row["status"], row["epochs_completed"], row["repeats"]) == ("ok", 1, 2), row
            environment = row["environment"]
            environment = json.loads(environment) if isinstance(environment, str) else environment
            assert environment["data_validation"] == "passed", "trained after the gate"
    counts = warehouse_counts(url)
    assert counts["epoch_metrics"] == 3, "one epoch per CPU case (its median repeat's)"
    assert counts["result_repeats"] == 2 * len(EXPECTED_CASES), "every repeat kept once"
    # Detection judged the run (no history yet: `insufficient`) and the report was written.
    flags = warehouse_rows(url, "SELECT label FROM regression_flags WHERE run_id = :r", r=run_id)
    assert flags and {f["label"] for f in flags} <= {"insufficient", "skipped", "missing"}
    reports = list((Path(airflow_home.env["BENCH_HOME"]) / "reports").glob("*/index.html"))
    assert len(reports) == 1 and "torch-eager-cpu" in reports[0].read_text()

    again = run_dag_test(airflow_home, conf, when=WHEN)
    assert (again["run_id"], again["state"]) == (run_id, "success")
    assert warehouse_counts(url) == counts
    rerun = warehouse_rows(url, "SELECT * FROM benchmark_results WHERE run_id = :r", r=run_id)
    assert {case_name(row): row["id"] for row in rerun} == {
        name: row["id"] for name, row in by_case.items()
    }, "a rerun updates each result in place"
    assert all(row["stored_at"] > by_case[case_name(row)]["stored_at"] for row in rerun), (
        "the rerun really wrote every result again"
    )


@pytest.mark.integration
def test_invalid_dataset_stops_the_run_before_training(
    airflow_home: AirflowHome, data_home: Path, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt_data"
    corrupt.mkdir()
    source = data_home / "cal_housing_py3.pkz"
    table = joblib.load(source)
    table[:5, 2] = 500.0  # HouseAge column of the raw table: 500 years, out of range
    joblib.dump(table, corrupt / source.name, compress=6)
    shutil.copymode(source, corrupt / source.name)
    airflow_home.env["BENCH_DATA_HOME"] = str(corrupt)

    conf = {"frameworks": ["torch"], "modes": ["eager"], "devices": ["cpu", "gpu"], "epochs": 1}
    outcome = run_dag_test(airflow_home, conf, when=WHEN)
    states = {t["task_id"]: t["state"] for t in outcome["tasks"]}
    assert outcome["state"] == "failed"
    assert states["validate_dataset"] == "failed"
    for task_id in ("plan_cpu_cases", "plan_gpu_cases", "train_cpu", "train_gpu"):
        assert states[task_id] == "upstream_failed", states
    # It ran although everything upstream failed, and its verdict turned the run red.
    assert states["detect_regressions"] == "failed"
    assert "missing torch-eager-cpu status (no result stored" in outcome["output"]
    assert "dataset validation failed" in outcome["output"]
    assert "HouseAge" in outcome["output"]

    url = airflow_home.warehouse_url
    validations = warehouse_rows(url, "SELECT * FROM dataset_validations")
    assert len(validations) == 1 and not validations[0]["success"]
    assert "HouseAge" in str(validations[0]["failures"])
    runs = warehouse_rows(url, "SELECT * FROM benchmark_runs")
    assert [(r["validation_outcome"], r["finished_at"] is not None) for r in runs] == [
        ("failed", True)
    ]
    assert warehouse_counts(url)["benchmark_results"] == 0
