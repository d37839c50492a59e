"""The task bodies in bench.pipeline, without Airflow: planning, triggers, the run summary."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import pipeline
from bench.cli import main
from bench.config import Case
from bench.records import EpochMetric, Record
from bench.warehouse import ensure_run, store_record
from bench.warehouse.engine import reset_engines
from tests.builders import T0, make_record
from tests.dags.dag_helpers import warehouse_counts, warehouse_rows


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    yield url
    reset_engines()


def test_public_api_is_listed() -> None:
    defined_here = {
        name
        for name, value in vars(pipeline).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == pipeline.__name__
    }
    assert sorted(pipeline.__all__) == sorted(defined_here)


def test_importing_the_pipeline_is_cheap() -> None:
    heavy = "{'torch', 'tensorflow', 'pandas', 'great_expectations', 'sqlalchemy', 'airflow'}"
    code = f"import sys, bench.pipeline; print(sorted(set(sys.modules) & {heavy}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("run_type", "trigger"),
    [("scheduled", "scheduled"), ("manual", "manual"), ("backfill", "manual"),
     ("asset_triggered", "manual")],
)  # fmt: skip
def test_trigger_for_run_type(run_type: str, trigger: str) -> None:
    assert pipeline.trigger_for(run_type) == trigger


def test_pools_and_queues_per_device() -> None:
    assert [(pipeline.pool_for(d), pipeline.queue_for(d)) for d in ("cpu", "gpu")] == [
        ("bench_cpu", "cpu"),
        ("bench_gpu", "gpu"),
    ]


def test_plan_cases_splits_the_selection_by_device() -> None:
    selection = {"frameworks": ["torch", "tensorflow"], "modes": ["eager", "xla"]}
    cpu = pipeline.plan_cases("cpu", **selection, devices=["cpu", "gpu"])
    gpu = pipeline.plan_cases("gpu", **selection, devices=["cpu", "gpu"])
    assert [c["name"] for c in cpu] == [
        "torch-eager-cpu",
        "tensorflow-eager-cpu",
        "tensorflow-xla-cpu",
    ]
    assert [c["name"] for c in gpu] == [
        "torch-eager-gpu",
        "tensorflow-eager-gpu",
        "tensorflow-xla-gpu",
    ]
    assert cpu[0] == {
        "framework": "torch",
        "mode": "eager",
        "device": "cpu",
        "name": "torch-eager-cpu",
        "label": "torch-eager-cpu",
        "repeat": 1,
        "repeats": 1,
    }


def test_plan_cases_interleaves_repeats_round_robin_rotated_each_repeat() -> None:
    selection = {"frameworks": ["torch"], "modes": ["eager", "compile", "compile-max-autotune"]}
    planned = pipeline.plan_cases("cpu", **selection, repeats=3)
    assert [c["label"] for c in planned] == [
        "torch-eager-cpu #1",
        "torch-compile-cpu #1",
        "torch-compile-max-autotune-cpu #1",
        "torch-compile-cpu #2",
        "torch-compile-max-autotune-cpu #2",
        "torch-eager-cpu #2",
        "torch-compile-max-autotune-cpu #3",
        "torch-eager-cpu #3",
        "torch-compile-cpu #3",
    ]
    assert {c["repeats"] for c in planned} == {3}


def test_plan_cases_for_an_unselected_device_is_empty() -> None:
    assert pipeline.plan_cases("gpu", devices=["cpu"]) == []


def test_plan_cases_without_a_selection_is_the_whole_matrix() -> None:
    assert len(pipeline.plan_cases("cpu")) == 14


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ({"frameworks": ["mxnet"]}, "unknown framework 'mxnet'"),
        ({"frameworks": ["torch"], "modes": ["function"]}, "unknown mode 'function'"),
        ({"devices": ["tpu"]}, "unknown device 'tpu'"),
    ],
)
def test_plan_cases_names_the_choices_on_a_bad_selection(
    selection: dict[str, list[str]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        pipeline.plan_cases("cpu", **selection)


def _record(run_id: str, name: str, status: str, reason: str | None = None) -> Record:
    framework, mode, device = name.split("-")
    epochs = [EpochMetric(epoch=1, seconds=0.5, train_mae=0.7)] if status == "ok" else []
    return Record(
        run_id=run_id, case=Case(framework, mode, device), trigger="manual", status=status,
        reason=reason, epochs=epochs,
    )  # fmt: skip


def test_summarize_run_reports_failed_skipped_and_missing_cases(
    warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    run_id = "manual__2026-11-01T02:00:00+00:00"
    store_record(_record(run_id, "torch-eager-cpu", "ok"), url=warehouse)
    store_record(_record(run_id, "torch-eager-gpu", "skipped", "no CUDA GPU"), url=warehouse)
    store_record(_record(run_id, "tensorflow-eager-cpu", "failed", "NonFiniteLoss"), url=warehouse)
    with caplog.at_level(logging.INFO, logger="bench.pipeline"):
        summary = pipeline.summarize_run(
            run_id, trigger="manual", frameworks=["torch", "tensorflow"], modes=["eager"],
            devices=["cpu", "gpu"], url=warehouse,
        )  # fmt: skip
    assert summary == {
        "run_id": run_id,
        "ok": ["torch-eager-cpu"],
        "skipped": [{"case": "torch-eager-gpu", "reason": "no CUDA GPU"}],
        "failed": [{"case": "tensorflow-eager-cpu", "reason": "NonFiniteLoss"}],
        "missing": ["tensorflow-eager-gpu"],
    }
    assert "1 ok, 1 skipped, 1 failed, 1 missing" in caplog.text
    assert "failed tensorflow-eager-cpu: NonFiniteLoss" in caplog.text
    runs = warehouse_rows(warehouse, "SELECT finished_at FROM benchmark_runs")
    assert runs[0]["finished_at"] is not None


def test_summarize_run_without_results_closes_the_run(warehouse: str) -> None:
    summary = pipeline.summarize_run(
        "r1", trigger="scheduled", frameworks=["torch"], modes=["eager"], devices=["cpu"],
        url=warehouse,
    )  # fmt: skip
    assert summary["missing"] == ["torch-eager-cpu"]
    assert warehouse_rows(warehouse, "SELECT run_id, trigger FROM benchmark_runs") == [
        {"run_id": "r1", "trigger": "scheduled"}
    ]


@pytest.mark.integration
def test_train_and_store_skips_a_gpu_case_here_and_stores_it_once(
    warehouse: str, data_home: Path
) -> None:
    ensure_run("r1", trigger="scheduled", url=warehouse)
    case = {"framework": "torch", "mode": "eager", "device": "gpu", "name": "torch-eager-gpu"}
    for _attempt in range(2):  # a retry replaces the row
        summary = pipeline.train_and_store(
            case, run_id="r1", trigger="scheduled", epochs=1, data_home=str(data_home),
            url=warehouse,
        )  # fmt: skip
    assert summary["case"] == "torch-eager-gpu"
    assert summary["status"] == "skipped" and "GPU" in summary["reason"]
    assert warehouse_counts(warehouse)["benchmark_results"] == 1


@pytest.mark.integration
def test_train_and_store_keeps_every_repeat_once_and_summarizes_them(
    warehouse: str, data_home: Path
) -> None:
    ensure_run("r3", trigger="manual", url=warehouse)
    planned = pipeline.plan_cases(
        "cpu", frameworks=["torch"], modes=["eager"], devices=["cpu"], repeats=2
    )
    for case in [*planned, planned[0]]:  # the first repeat is retried: replaced, not added
        summary = pipeline.train_and_store(
            case, run_id="r3", trigger="manual", epochs=3, data_home=str(data_home),
            url=warehouse,
        )  # fmt: skip
        assert summary["status"] == "ok" and summary["repeat"] == case["repeat"]
    repeats = warehouse_rows(
        warehouse, "SELECT repeat, steady_epoch_seconds FROM result_repeats ORDER BY repeat"
    )
    assert [r["repeat"] for r in repeats] == [1, 2]
    (result,) = warehouse_rows(
        warehouse, "SELECT repeats, steady_epoch_seconds, steady_ci_low, steady_ci_high, "
        "environment FROM benchmark_results WHERE run_id = 'r3'"
    )  # fmt: skip
    steady = sorted(r["steady_epoch_seconds"] for r in repeats)
    assert result["repeats"] == 2
    assert result["steady_epoch_seconds"] == pytest.approx(sum(steady) / 2)
    assert result["steady_ci_low"] <= steady[0] and result["steady_ci_high"] >= steady[1]


@pytest.mark.integration
def test_train_and_store_raises_after_storing_a_failed_case(warehouse: str, tmp_path: Path) -> None:
    case = {"framework": "torch", "mode": "eager", "device": "cpu", "name": "torch-eager-cpu"}
    empty = tmp_path / "no_data"  # a data home without the dataset, offline: the case fails
    with pytest.raises(pipeline.CaseFailed, match="torch-eager-cpu failed"):
        pipeline.train_and_store(
            case, run_id="r2", trigger="manual", epochs=1, data_home=str(empty), url=warehouse
        )
    rows = warehouse_rows(warehouse, "SELECT status, reason FROM benchmark_results")
    assert [row["status"] for row in rows] == ["failed"]


def _nightly(run_id: str, day: int, steady: float) -> Record:
    """A stored scheduled result of torch-eager-cpu; only the steady time varies."""
    from datetime import UTC, datetime, timedelta

    from bench.records import EvalMetric

    return Record(
        run_id=run_id,
        case=Case("torch", "eager", "cpu"),
        trigger="scheduled",
        started_at=(datetime(2026, 1, 1, 2, tzinfo=UTC) + timedelta(days=day)).isoformat(),
        compile_seconds=1.0,
        steady_epoch_seconds=steady,
        total_seconds=steady * 30,
        peak_rss_bytes=500 * 2**20,
        eval=[EvalMetric(epoch=30, test_mse=0.3, test_mae=0.4)],
        dataset_sha256="d" * 64,
        environment={"cpu_model": "CPU", "framework": "torch", "framework_version": "2.13.0"},
    )


def test_judge_run_stores_flags_and_report_then_fails_on_a_regression(
    warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    steadies = [0.5 * (1 + 0.01 * ((i * 7) % 5 - 2)) for i in range(30)] + [0.6, 0.61, 0.6]
    for day, steady in enumerate(steadies):
        store_record(_nightly(f"night-{day:02d}", day, steady), url=warehouse)
    last = f"night-{len(steadies) - 1:02d}"
    with pytest.raises(RuntimeError, match="regression torch-eager-cpu steady_epoch_seconds"):
        pipeline.judge_run(
            last, trigger="scheduled", frameworks=["torch"], modes=["eager"], devices=["cpu"],
            url=warehouse,
        )  # fmt: skip
    flags = warehouse_rows(
        warehouse, "SELECT metric, label FROM regression_flags WHERE run_id = :r", r=last
    )
    assert ("steady_epoch_seconds", "regression") in {(f["metric"], f["label"]) for f in flags}
    assert list((tmp_path / "home" / "reports").glob("*/index.html")), "report written first"
    finished = warehouse_rows(
        warehouse, "SELECT finished_at FROM benchmark_runs WHERE run_id = :r", r=last
    )
    assert finished[0]["finished_at"] is not None


def test_judge_run_passes_a_quiet_run(
    warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    for day in range(12):
        store_record(_nightly(f"night-{day:02d}", day, 0.5), url=warehouse)
    summary = pipeline.judge_run(
        "night-11", trigger="scheduled", frameworks=["torch"], modes=["eager"], devices=["cpu"],
        url=warehouse,
    )  # fmt: skip
    assert summary["ok"] == ["torch-eager-cpu"]
    assert summary["detection"]["red"] is False
    assert summary["report"].endswith("index.html")


def test_judge_run_fails_the_run_for_failed_and_missing_cases(
    warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    broken = _nightly("night-00", 0, 0.5)
    broken.status, broken.reason = "failed", "RuntimeError: boom"
    store_record(broken, url=warehouse)
    with pytest.raises(pipeline.RunFailed) as info:
        pipeline.judge_run(
            "night-00", trigger="scheduled", frameworks=["torch"], modes=["eager", "compile"],
            devices=["cpu"], url=warehouse,
        )  # fmt: skip
    message = str(info.value)
    assert message.startswith("run night-00 is red: 2 blocking flag(s)")
    assert "failed torch-eager-cpu status" in message
    assert "missing torch-compile-cpu status" in message
    flags = warehouse_rows(warehouse, "SELECT metric, label FROM regression_flags")
    assert {f["label"] for f in flags} >= {"failed", "missing"}, "stored before failing"


RUN_ID = "manual__2026-11-01T02:00:00+00:00"
TORCH_EAGER, TF_EAGER = ("torch", "eager", "cpu"), ("tensorflow", "eager", "cpu")


def _store_manual_run(url: str, tf_status: str) -> None:
    """One manual run of two cases: torch eager ok, tensorflow eager with `tf_status`."""
    ensure_run(RUN_ID, trigger="manual", started_at=T0, url=url)
    store_record(make_record(RUN_ID, TORCH_EAGER, trigger="manual"), url=url)
    store_record(make_record(RUN_ID, TF_EAGER, trigger="manual", status=tf_status), url=url)


def _judge(url: str) -> dict[str, Any]:
    return pipeline.judge_run(
        RUN_ID, trigger="manual", frameworks=["torch", "tensorflow"], modes=["eager"],
        devices=["cpu"], url=url,
    )  # fmt: skip


def test_a_failed_case_turns_the_run_red_for_the_dag_and_for_bench_detect(
    warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One verdict: the DAG's last task and `bench detect` agree that a failed case is red."""
    _store_manual_run(warehouse_url, "failed")
    with pytest.raises(pipeline.RunFailed) as info:
        _judge(warehouse_url)
    assert str(info.value).startswith(f"run {RUN_ID} is red: 1 blocking flag(s)")
    assert "failed tensorflow-eager-cpu status" in str(info.value)
    capsys.readouterr()

    assert main(["detect", "--run", RUN_ID]) == 2
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == f"run {RUN_ID} is red: 1 blocking flag(s)"


def test_a_run_whose_cases_are_all_ok_is_green_for_the_dag_and_for_bench_detect(
    warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _store_manual_run(warehouse_url, "ok")
    summary = _judge(warehouse_url)
    assert sorted(summary["ok"]) == ["tensorflow-eager-cpu", "torch-eager-cpu"]
    assert summary["detection"]["red"] is False
    capsys.readouterr()

    assert main(["detect", "--run", RUN_ID]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == f"run {RUN_ID} is green: nothing blocking"


@pytest.mark.parametrize("run_id", ["..", "a/b", "x" * 251])
def test_an_unusable_run_id_fails_before_anything_trains(run_id: str, tmp_path: Path) -> None:
    case = {"framework": "torch", "mode": "eager", "device": "cpu", "name": "torch-eager-cpu"}
    with pytest.raises(ValueError, match="is not usable"):
        pipeline.train_and_store(case, run_id=run_id, trigger="manual", epochs=1)
    with pytest.raises(ValueError, match="is not usable"):
        pipeline.validate_and_record(run_id, trigger="manual")
