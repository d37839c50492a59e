"""bench_nightly as designed: tasks, dependencies, pools, queues, schedule and Params."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import TriggerRule
from airflow.sdk.definitions.param import ParamsDict
from airflow.sdk.exceptions import ParamValidationError

from bench.config import FRAMEWORK_MODES, RunSettings
from bench.host_devices import has_gpu
from tests.dags.dag_helpers import REPO

DAG_ID = "bench_nightly"
TRAINING = {"train_cpu": ("bench_cpu", "cpu"), "train_gpu": ("bench_gpu", "gpu")}


def load_dag() -> Any:
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


@pytest.fixture(scope="module")
def dag() -> Any:
    return load_dag()


def test_tasks_and_dependencies(dag: Any) -> None:
    upstream = {task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks}
    assert upstream == {
        "validate_dataset": [],
        "plan_cpu_cases": ["validate_dataset"],
        "plan_gpu_cases": ["validate_dataset"],
        "train_cpu": ["plan_cpu_cases"],
        "train_gpu": ["plan_gpu_cases"],
        "detect_regressions": ["train_cpu", "train_gpu"],
    }


def test_training_is_mapped_per_case_on_its_pool_and_queue(dag: Any) -> None:
    for task_id, (pool, queue) in TRAINING.items():
        task = dag.get_task(task_id)
        assert task.is_mapped, f"{task_id} must be one mapped task instance per case"
        assert (task.pool, task.queue) == (pool, queue)
        assert task.map_index_template == "{{ task.op_kwargs['case']['label'] }}"
        assert task.retries == 1


def test_other_tasks_use_the_default_cpu_queue_and_pool(dag: Any) -> None:
    for task in dag.tasks:
        if task.task_id not in TRAINING:
            assert (task.pool, task.queue) == ("default_pool", "cpu"), task.task_id


def test_validation_is_not_retried(dag: Any) -> None:
    assert dag.get_task("validate_dataset").retries == 0


def test_detect_regressions_runs_whatever_happened_and_fails_the_run_on_regression(
    dag: Any,
) -> None:
    detect = dag.get_task("detect_regressions")
    assert detect.is_teardown
    assert detect.on_failure_fail_dagrun  # a regression it raises turns the run red
    # No setup upstream: it runs once every training task is done, whatever its state.
    assert detect.trigger_rule == TriggerRule.ALL_DONE_SETUP_SUCCESS
    assert not any(dag.get_task(t).is_setup for t in detect.upstream_task_ids)


def test_every_task_has_an_execution_timeout(dag: Any) -> None:
    """With max_active_runs=1, one hung task would hold every later night back."""
    limits = {task.task_id: task.execution_timeout for task in dag.tasks}
    assert all(limits.values()), f"tasks without execution_timeout: {limits}"
    case_timeout = timedelta(seconds=RunSettings().timeout_seconds)
    for task_id in TRAINING:  # the runner's own kill (BENCH_CASE_TIMEOUT) comes first
        assert limits[task_id] > case_timeout + timedelta(minutes=5), task_id
    for task_id in set(limits) - set(TRAINING):
        assert timedelta(minutes=1) <= limits[task_id] <= timedelta(minutes=30), task_id


def test_execution_timeouts_come_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__BENCH__TRAIN_TIMEOUT_MINUTES", "200")
    monkeypatch.setenv("AIRFLOW__BENCH__STEP_TIMEOUT_MINUTES", "3")
    dag = load_dag()
    assert dag.get_task("train_cpu").execution_timeout == timedelta(minutes=200)
    assert dag.get_task("detect_regressions").execution_timeout == timedelta(minutes=3)


def test_schedule_is_nightly_without_catchup(dag: Any) -> None:
    assert dag.timetable.expression == "0 2 * * *"
    assert dag.catchup is False
    assert dag.max_active_runs == 1


def test_schedule_and_default_epochs_come_from_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__BENCH__SCHEDULE", "30 3 * * 1")
    monkeypatch.setenv("AIRFLOW__BENCH__EPOCHS", "7")
    monkeypatch.setenv("AIRFLOW__BENCH__DEVICES", "cpu")
    monkeypatch.setenv("AIRFLOW__BENCH__REPEATS", "5")
    dag = load_dag()
    assert dag.timetable.expression == "30 3 * * 1"
    assert dag.params["epochs"] == 7
    assert dag.params["repeats"] == 5
    assert dag.params["devices"] == ["cpu"]
    assert dag.params.get_param("devices").schema["items"]["enum"] == ["cpu", "gpu"]
    monkeypatch.setenv("AIRFLOW__BENCH__DEVICES", "cpu,gpu")  # what the compose cluster sets
    assert load_dag().params["devices"] == ["cpu", "gpu"]


def test_params_default_to_the_whole_matrix(dag: Any) -> None:
    params = dag.params.validate()
    assert params["frameworks"] == list(FRAMEWORK_MODES)
    assert set(params["modes"]) == {m for modes in FRAMEWORK_MODES.values() for m in modes}
    # airflow.cfg's `auto`: cpu, plus gpu where this host has one
    assert params["devices"] == (["cpu", "gpu"] if has_gpu() else ["cpu"])
    assert params["epochs"] == 30
    assert params["repeats"] == 5, "the nightly default of airflow.cfg"
    assert params["note"] == ""


def test_params_are_shown_as_multi_selects_in_the_trigger_form(dag: Any) -> None:
    for name in ("frameworks", "modes", "devices"):
        param = dag.params.get_param(name)
        assert param.schema["type"] == "array"
        assert param.schema["examples"] == param.schema["items"]["enum"]
        assert param.schema["title"] and param.description


@pytest.mark.parametrize(
    "override",
    [
        {"frameworks": ["mxnet"]},
        {"frameworks": []},
        {"modes": ["turbo"]},
        {"devices": ["tpu"]},
        {"devices": ["cpu", "cpu"]},
        {"epochs": 0},
        {"epochs": 101},
        {"epochs": "ten"},
        {"repeats": 0},
        {"repeats": 21},
        {"note": "x" * 501},
    ],
    ids=lambda override: json.dumps(override)[:40],
)
def test_params_reject_invalid_values(dag: Any, override: dict[str, Any]) -> None:
    params = ParamsDict(dag.params)
    with pytest.raises(ParamValidationError):
        params.update(override)  # each value is checked as it is set
        params.validate()


def test_pools_file_defines_the_pools_the_dag_uses(dag: Any) -> None:
    pools = json.loads((REPO / "pools.json").read_text())
    used = {dag.get_task(task_id).pool for task_id in TRAINING}
    assert used <= set(pools)
    assert pools["bench_cpu"]["slots"] == 1, "CPU benchmarks side by side corrupt timings"
    for pool in pools.values():
        assert pool["slots"] >= 1 and pool["description"]
