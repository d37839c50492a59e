"""Helpers for the DAG tests: Airflow environments, dag.test() in a subprocess, warehouse counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
HEAVY_MODULES = ("torch", "tensorflow", "pandas", "great_expectations")
RESULT_PREFIX = "DAG-TEST-RESULT "


def airflow_settings(home: Path) -> dict[str, str]:
    """Environment that runs Airflow from `home` with the repository's airflow.cfg and DAGs."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CONFIG": str(REPO / "airflow.cfg"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
    }


@dataclass
class AirflowHome:
    """A migrated Airflow home with the bench pools, and the environment to run in it."""

    path: Path
    env: dict[str, str]

    @property
    def warehouse_url(self) -> str:
        return self.env["BENCH_WAREHOUSE_URL"]


def base_env(home: Path, data_home: Path) -> dict[str, str]:
    """The process environment plus Airflow in `home`, bench state and warehouse under it."""
    env = dict(os.environ)
    env.update(airflow_settings(home))
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "BENCH_HOME": str(home / "bench"),
            "BENCH_DATA_HOME": str(data_home),
            "BENCH_WAREHOUSE_URL": f"sqlite:///{home / 'bench' / 'warehouse.db'}",
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def run_setup(env: dict[str, str]) -> None:
    """Prepare an Airflow home with the script `make run` and the compose init use."""
    setup = subprocess.run(
        ["bash", str(REPO / "scripts" / "airflow_setup.sh")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert setup.returncode == 0, f"airflow_setup.sh failed:\n{setup.stdout}\n{setup.stderr}"


def run_dag_test(
    home: AirflowHome, conf: dict[str, Any], *, when: str, timeout: float = 900
) -> dict[str, Any]:
    """Run bench_nightly once with `dag.test()` in a subprocess; return its run and task states.

    `when` fixes the logical date and run_after, hence the run id: the same `when` reruns the
    same run id.
    """
    driver = Path(__file__).with_name("dag_test_driver.py")
    proc = subprocess.run(
        [sys.executable, str(driver), json.dumps(conf), when],
        env=home.env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
        pytest.fail(f"dag.test() driver exited {proc.returncode}:\n{tail}", pytrace=False)
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
    result["output"] = proc.stdout + proc.stderr
    return result


WAREHOUSE_TABLES = (
    "benchmark_runs",
    "benchmark_results",
    "result_repeats",
    "epoch_metrics",
    "dataset_validations",
    "regression_flags",
)


def warehouse_counts(url: str) -> dict[str, int]:
    """Rows per warehouse table."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in WAREHOUSE_TABLES
            }
    finally:
        engine.dispose()


def warehouse_rows(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    """The rows of one SELECT against the warehouse, as dicts."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(row) for row in conn.execute(sa.text(sql), params).mappings()]
    finally:
        engine.dispose()


def case_name(row: dict[str, Any]) -> str:
    return f"{row['framework']}-{row['mode']}-{row['device']}"
