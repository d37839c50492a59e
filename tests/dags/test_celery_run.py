"""A real distributed run: CeleryExecutor over Redis, PostgreSQL metadata and warehouse, a
scheduler, a dag-processor, an api-server and two Celery workers (queues `cpu` and `gpu`).

Everything is private to the test: fresh PostgreSQL databases (dropped after), a Redis key
prefix (deleted after), a temporary AIRFLOW_HOME, and components that are subprocesses of the
test, stopped with their process groups. Which worker ran a task comes from Celery's own record
(`celery_taskmeta.worker`, kept with `result_extended`), joined on the task instance's
`external_executor_id`.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.dags.airflow_cluster import Cluster, free_port
from tests.dags.dag_helpers import base_env, case_name, run_setup, warehouse_counts, warehouse_rows

PG_URL_ENV = "BENCH_TEST_PG_URL"
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("BENCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Two cores: one case per framework and device keeps the run to a few minutes.
CONF = {
    "frameworks": ["torch", "tensorflow"],
    "modes": ["eager"],
    "devices": ["cpu", "gpu"],
    "epochs": 1,
    "repeats": 1,
    "note": "celery integration test",
}
EXPECTED_CASES = {
    "torch-eager-cpu",
    "tensorflow-eager-cpu",
    "torch-eager-gpu",
    "tensorflow-eager-gpu",
}
CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"
START_TIMEOUT = 180
RUN_TIMEOUT = 600


@pytest.fixture
def services() -> dict[str, str]:
    """The machine's PostgreSQL and Redis; unreachable services fail the test, never skip it."""
    import redis

    admin_url = os.environ.get(PG_URL_ENV) or PG_DEFAULT_URL
    engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {admin_url} is unreachable ({exc.orig}); start it", False)
    finally:
        engine.dispose()
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is unreachable ({exc}); start it", False)
    return {"pg_admin_url": admin_url, "redis_url": REDIS_URL}


@pytest.fixture
def databases(services: dict[str, str]) -> Iterator[dict[str, str]]:
    """Fresh PostgreSQL databases for the Airflow metadata and the warehouse, dropped after."""
    admin_url = services["pg_admin_url"]
    suffix = secrets.token_hex(4)
    names = {"metadata": f"bench_test_airflow_{suffix}", "warehouse": f"bench_test_wh_{suffix}"}
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        base = make_url(admin_url)
        yield {
            key: base.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False
            )
            for key, name in names.items()
        }
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def redis_prefix(services: dict[str, str]) -> Iterator[str]:
    """A key prefix private to this test for Celery's queues; its keys are deleted after."""
    import redis

    prefix = f"bench-test-{secrets.token_hex(4)}:"
    yield prefix
    client = redis.Redis.from_url(services["redis_url"])
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        client.delete(key)


@pytest.fixture
def cluster(
    tmp_path: Path,
    data_home: Path,
    services: dict[str, str],
    databases: dict[str, str],
    redis_prefix: str,
) -> Iterator[Cluster]:
    """api-server, scheduler, dag-processor and the two workers, set up like production."""
    home = tmp_path / "airflow"
    home.mkdir()
    api_port, scheduler_health_port = free_port(), free_port()
    # A cron twelve hours away: the test's run is the only run.
    far_hour = (datetime.now(UTC) + timedelta(hours=12)).hour
    env = base_env(home, data_home)
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": databases["metadata"],
            "AIRFLOW__CELERY__BROKER_URL": services["redis_url"],
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{databases['metadata']}",
            "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG": json.dumps({"result_extended": True}),
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": redis_prefix,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": "cpu",
            "AIRFLOW__BENCH__SCHEDULE": f"0 {far_hour} * * *",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(scheduler_health_port),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "BENCH_WAREHOUSE_URL": databases["warehouse"],
            "BENCH_CASE_TIMEOUT": "300",
        }
    )
    run_setup(env)

    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    running = Cluster(env=env, log_dir=log_dir, api_port=api_port)
    host = f"bench-test-{redis_prefix.split('-')[-1].rstrip(':')}"
    try:
        running.start("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(api_port)])
        running.start("scheduler", ["scheduler"])
        running.start("dag-processor", ["dag-processor"])
        for queue in ("cpu", "gpu"):
            running.worker_names[queue] = f"{queue}@{host}"
            running.start(
                f"worker-{queue}",
                ["celery", "worker", "--queues", queue, "--concurrency", "1",
                 "--celery-hostname", running.worker_names[queue]],
                AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            )  # fmt: skip
        # The probes docker-compose.yaml uses as healthchecks, then the REST API's view.
        running.wait_for(
            "the scheduler's health endpoint",
            lambda: (
                httpx.get(f"http://127.0.0.1:{scheduler_health_port}/health").is_success or None
            ),
            timeout=START_TIMEOUT,
        )
        for queue, name in running.worker_names.items():
            running.wait_for(
                f"the {queue} worker to answer a ping",
                lambda name=name: _celery_ping(env, name),
                timeout=START_TIMEOUT,
                every=5,
            )
        running.wait_for(
            "a healthy scheduler and dag-processor", _healthy(running), timeout=START_TIMEOUT
        )
        running.wait_for(
            "bench_nightly to be parsed and unpaused",
            lambda: _unpaused(running),
            timeout=START_TIMEOUT,
        )
        yield running
    finally:
        running.stop()


def _celery_ping(env: dict[str, str], worker: str) -> bool | None:
    ping = subprocess.run(
        ["celery", "--app", CELERY_APP, "inspect", "ping", "-d", worker],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return True if ping.returncode == 0 else None


def _healthy(running: Cluster) -> Any:
    def probe() -> bool | None:
        health = running.api("GET", "/monitor/health")
        ok = all(
            (health.get(part) or {}).get("status") == "healthy"
            for part in ("metadatabase", "scheduler", "dag_processor")
        )
        return True if ok else None

    return probe


def _unpaused(running: Cluster) -> bool | None:
    try:
        dag = running.api("GET", "/dags/bench_nightly")
    except Exception:  # noqa: BLE001 - 404 until the dag-processor has parsed the file
        return None
    return True if dag["is_paused"] is False else None


@pytest.mark.integration
@pytest.mark.postgres
def test_distributed_run_routes_cases_to_their_workers_and_stores_each_once(
    cluster: Cluster, databases: dict[str, str]
) -> None:
    run_id = f"bench-test-{secrets.token_hex(4)}"
    cluster.api(
        "POST", "/dags/bench_nightly/dagRuns",
        json={"dag_run_id": run_id, "logical_date": None, "conf": CONF},
    )  # fmt: skip
    assert _wait_for_run(cluster, run_id) == "success", cluster.logs()

    tis = _task_instances(databases["metadata"], run_id)
    trained = {ti["rendered_map_index"]: ti for ti in tis if ti["map_index"] >= 0}
    assert set(trained) == EXPECTED_CASES
    for name, ti in trained.items():
        device = name.rsplit("-", 1)[1]
        assert (ti["task_id"], ti["queue"], ti["pool"], ti["state"]) == (
            f"train_{device}", device, f"bench_{device}", "success",
        ), ti  # fmt: skip
        assert ti["worker"] == cluster.worker_names[device], f"{name} ran on {ti['worker']}"
    for ti in tis:
        if ti["map_index"] < 0:
            assert (ti["queue"], ti["worker"]) == ("cpu", cluster.worker_names["cpu"]), ti

    url = databases["warehouse"]
    results = _results(url, run_id)
    assert sorted(results) == sorted(EXPECTED_CASES), "each case exactly once"
    for name, row in results.items():
        expected = "skipped" if name.endswith("-gpu") else "ok"
        assert row["status"] == expected, row
    runs = warehouse_rows(url, "SELECT trigger, finished_at FROM benchmark_runs")
    assert [r["trigger"] for r in runs] == ["manual"] and runs[0]["finished_at"] is not None
    counts = warehouse_counts(url)
    assert counts["dataset_validations"] == 1

    # Clear one training task: it runs again (try 2) and replaces its row, adding none.
    cleared = "torch-eager-cpu"
    map_index = trained[cleared]["map_index"]
    cluster.api(
        "POST", "/dags/bench_nightly/clearTaskInstances",
        json={"dry_run": False, "dag_run_id": run_id, "task_ids": [["train_cpu", map_index]],
              "only_failed": False, "reset_dag_runs": True},
    )  # fmt: skip
    cluster.wait_for(
        f"{cleared} to run again",
        lambda: _retried(databases["metadata"], run_id, map_index),
        timeout=RUN_TIMEOUT,
    )
    assert _wait_for_run(cluster, run_id) == "success", cluster.logs()
    rerun = _results(url, run_id)
    assert sorted(rerun) == sorted(EXPECTED_CASES)
    assert rerun[cleared]["id"] == results[cleared]["id"]
    assert rerun[cleared]["stored_at"] > results[cleared]["stored_at"], "the rerun stored again"
    assert warehouse_counts(url) == counts


def _wait_for_run(cluster: Cluster, run_id: str) -> str:
    def finished() -> str | None:
        state = cluster.api("GET", f"/dags/bench_nightly/dagRuns/{run_id}")["state"]
        return state if state in ("success", "failed") else None

    time.sleep(2)  # a cleared run goes back to queued first
    return cluster.wait_for(f"run {run_id} to finish", finished, timeout=RUN_TIMEOUT, every=5)


def _task_instances(metadata_url: str, run_id: str) -> list[dict[str, Any]]:
    """The run's task instances with the Celery worker that executed each."""
    engine = sa.create_engine(metadata_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT ti.task_id, ti.map_index, ti.rendered_map_index, ti.queue, ti.pool,"
                    " ti.state, ti.try_number, meta.worker FROM task_instance ti"
                    " LEFT JOIN celery_taskmeta meta ON meta.task_id = ti.external_executor_id"
                    " WHERE ti.dag_id = 'bench_nightly' AND ti.run_id = :run_id"
                ),
                {"run_id": run_id},
            ).mappings()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


def _retried(metadata_url: str, run_id: str, map_index: int) -> bool | None:
    for ti in _task_instances(metadata_url, run_id):
        if (ti["task_id"], ti["map_index"]) == ("train_cpu", map_index):
            return True if ti["try_number"] >= 2 and ti["state"] == "success" else None
    return None


def _results(url: str, run_id: str) -> dict[str, dict[str, Any]]:
    rows = warehouse_rows(
        url, "SELECT * FROM benchmark_results WHERE run_id = :run_id", run_id=run_id
    )
    by_case = {case_name(row): row for row in rows}
    assert len(by_case) == len(rows), "a case has more than one row"
    return by_case
