"""DAG tests: a throwaway Airflow home per test, the repository's airflow.cfg, real subprocesses.

Airflow reads its configuration when first imported, so this module points the test process at
a temporary AIRFLOW_HOME before any test imports Airflow: no test touches ~/airflow or the
repository's own airflow.db. Runs that need a metadata database happen in subprocesses with
their own home (see `airflow_home`).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.dags.dag_helpers import AirflowHome, airflow_settings, base_env, run_setup

_PROCESS_HOME = tempfile.mkdtemp(prefix="bench-airflow-tests-")
atexit.register(shutil.rmtree, _PROCESS_HOME, True)
os.environ.update(airflow_settings(Path(_PROCESS_HOME)))


@pytest.fixture
def airflow_home(tmp_path: Path, data_home: Path) -> AirflowHome:
    """A fresh home set up by the same script `make run` uses (migrate, pools)."""
    home = tmp_path / "airflow"
    home.mkdir()
    env = base_env(home, data_home)
    run_setup(env)
    return AirflowHome(home, env)
