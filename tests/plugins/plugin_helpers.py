"""Helpers for the plugin tests: Airflow homes with a known login, the plugin module."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"
VENV_BIN = Path(sys.executable).parent
USERNAME = "tester"


@dataclass(frozen=True)
class AirflowHome:
    """An Airflow home with a known viewer login; env runs Airflow commands in it."""

    path: Path
    env: dict[str, str]
    password: str


def airflow_home(path: Path, *, warehouse_url: str | None = None) -> AirflowHome:
    """Environment for Airflow subprocesses in `path`: the repository's airflow.cfg, our
    plugins, no DAGs, a SimpleAuthManager user `tester` (role viewer) with a known password."""
    password = secrets.token_urlsafe(12)
    (path / "dags").mkdir(parents=True, exist_ok=True)
    passwords = path / "simple_auth_manager_passwords.json.generated"
    passwords.write_text(json.dumps({USERNAME: password}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(path),
            "AIRFLOW_CONFIG": str(REPO / "airflow.cfg"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS),
            "AIRFLOW__CORE__DAGS_FOLDER": str(path / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{path / 'airflow.db'}",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "BENCH_HOME": str(path / "bench"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if warehouse_url:
        env["BENCH_WAREHOUSE_URL"] = warehouse_url
    return AirflowHome(path=path, env=env, password=password)


def migrate(home: AirflowHome) -> None:
    """`airflow db migrate` in the home (the token checks need the metadata database)."""
    done = subprocess.run(
        ["airflow", "db", "migrate"],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"airflow db migrate failed:\n{done.stdout}\n{done.stderr}"


def load_plugin_module() -> ModuleType:
    """plugins/bench_dashboard.py, imported from its file as Airflow's plugin manager does."""
    spec = importlib.util.spec_from_file_location("bench_dashboard", PLUGINS / "bench_dashboard.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
