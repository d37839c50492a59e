"""Issue 13: the deployment refuses to start with a placeholder, short or malformed secret.

With .env.example's placeholder JWT secret a forged admin token got 200 from the Airflow API:
`${X:?}` passes any value. docker/check_secrets.py runs as compose's `secrets-check` service,
which every other service waits for. The compose file goes through a real compose
implementation's `config` (its parser and schema), since no container can start here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.reliability.deployment import (
    check_secrets,
    compose_config,
    env_example,
    good_env,
    resolved,
    run_check,
)

STRONG = "A" * 64
GENERATE = "generate one with: python -c"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("AIRFLOW_JWT_SECRET", "", "is not set"),
        ("AIRFLOW_JWT_SECRET", "<random-secret>", "placeholder <random-secret>"),
        ("POSTGRES_PASSWORD", "<choose-a-postgres-password>", "placeholder"),
        ("POSTGRES_PASSWORD", "a" * 31, "31 characters, fewer than 32"),
        ("AIRFLOW_JWT_SECRET", "a" * 63, "63 characters, fewer than 64"),  # HS512
        ("AIRFLOW_API_SECRET_KEY", "a" * 40, "fewer than 64"),
        ("REDIS_PASSWORD", "p@ss:w/rd" + "a" * 40, "break URLs"),
        ("AIRFLOW_ADMIN_PASSWORD", "a" * 30 + " $x", "break URLs"),
        ("AIRFLOW_FERNET_KEY", "a" * 44, "not a Fernet key"),
        ("AIRFLOW_FERNET_KEY", Fernet.generate_key().decode()[:-2], "not a Fernet key"),
        ("AIRFLOW_FERNET_KEY", STRONG, "not a Fernet key"),
    ],
)
def test_a_bad_secret_is_one_line_naming_it_and_how_to_make_one(
    name: str, value: str, says: str
) -> None:
    line = check_secrets.problem(name, value)
    assert line is not None and line.startswith(f"{name} ") and says in line
    assert GENERATE in line and "\n" not in line
    assert ("Fernet.generate_key" in line) == ("FERNET" in name)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("POSTGRES_PASSWORD", "a" * 32),
        ("AIRFLOW_JWT_SECRET", STRONG),
        ("AIRFLOW_FERNET_KEY", Fernet.generate_key().decode()),
        # Airflow's key rotation: the new key, then the old one.
        (
            "AIRFLOW_FERNET_KEY",
            f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        ),
    ],
)
def test_a_good_secret_passes(name: str, value: str) -> None:
    assert check_secrets.problem(name, value) is None


def test_every_env_example_secret_is_refused_as_a_placeholder() -> None:
    example = env_example()
    names = [name for name in example if check_secrets.is_secret(name)]
    assert len(names) >= 6
    for name in names:
        line = check_secrets.problem(name, example[name])
        assert line and "placeholder" in line, name


def test_the_script_exits_1_with_one_line_per_bad_secret_and_0_when_all_are_good() -> None:
    good = {name: value for name, value in good_env().items() if check_secrets.is_secret(name)}
    passed = run_check(good)
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout == f"secrets-check: {len(good)} secrets are set and strong\n"

    bad = {**good, "AIRFLOW_JWT_SECRET": "<random-secret>", "REDIS_PASSWORD": "short"}
    refused = run_check(bad)
    assert refused.returncode == 1 and refused.stdout == ""
    lines = refused.stderr.splitlines()
    assert [line.split()[0] for line in lines] == ["AIRFLOW_JWT_SECRET", "REDIS_PASSWORD"]

    nothing = run_check({"PATH": "/usr/bin"})
    assert nothing.returncode == 1 and "no secrets to check" in nothing.stderr


def test_compose_accepts_a_complete_env_and_the_check_passes_its_secrets(
    tmp_path: Path,
) -> None:
    services = resolved(compose_config(good_env(), tmp_path))
    checked = {k: str(v) for k, v in services["secrets-check"]["environment"].items()}
    assert run_check(checked).returncode == 0
    for name, service in services.items():
        if name != "secrets-check":
            condition = service["depends_on"]["secrets-check"]["condition"]
            assert condition == "service_completed_successfully", name


def test_placeholders_pass_compose_but_the_check_refuses_every_one(tmp_path: Path) -> None:
    services = resolved(compose_config(env_example(), tmp_path))  # `${X:?}` lets them through
    checked = {k: str(v) for k, v in services["secrets-check"]["environment"].items()}
    refused = run_check(checked)
    assert refused.returncode == 1
    assert {line.split()[0] for line in refused.stderr.splitlines()} == set(checked)
    assert all("placeholder" in line for line in refused.stderr.splitlines())


def test_compose_refuses_a_missing_secret(tmp_path: Path) -> None:
    env = good_env()
    del env["AIRFLOW_JWT_SECRET"]
    result = compose_config(env, tmp_path)
    assert result.returncode != 0 and "set AIRFLOW_JWT_SECRET in .env" in result.stderr
