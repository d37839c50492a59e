"""Helpers for the deployment tests: docker/check_secrets.py as a module, a compose
implementation's `config` (the real parser and schema; no container can start here)."""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[2]
CHECK_SECRETS = REPO / "docker" / "check_secrets.py"
COMPOSE_FILE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"


def _load_check_secrets() -> ModuleType:
    # docker/ is no package (and `docker` is a PyPI name): load the script by its path.
    spec = importlib.util.spec_from_file_location("check_secrets", CHECK_SECRETS)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_secrets = _load_check_secrets()


def env_example() -> dict[str, str]:
    """The KEY=value lines of .env.example."""
    pairs = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def good_env() -> dict[str, str]:
    """.env.example with every secret generated as its comments say."""
    env = env_example()
    for name in env:
        if check_secrets.is_secret(name):
            fernet = "FERNET" in name
            env[name] = Fernet.generate_key().decode() if fernet else secrets.token_urlsafe(48)
    return env


def run_check(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """docker/check_secrets.py as the secrets-check service runs it: a process, this env only."""
    return subprocess.run(
        [sys.executable, str(CHECK_SECRETS)], env=environ, capture_output=True, text=True
    )


def compose_command() -> list[str]:
    """Debian's docker-compose, or Docker's `docker compose`; no implementation fails the test
    (never a skip: CI installs one)."""
    if found := shutil.which("docker-compose"):
        return [found]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    pytest.fail(
        "no compose implementation: apt-get install docker-compose (.ci/run does)", pytrace=False
    )


def compose_config(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`compose config` of the repository's file with exactly `env`: an empty --env-file, so a
    developer's own .env plays no part."""
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    command = [*compose_command(), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"]
    environ = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)), **env}
    return subprocess.run(command, env=environ, capture_output=True, text=True, cwd=REPO)


def resolved(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The services of a successful `compose config`."""
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    return services
