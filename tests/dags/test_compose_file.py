"""docker-compose.yaml, .env.example and the images, checked structurally (no Docker engine)."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from bench import conditions
from bench.conditions import CORES_ENV, parse_cores
from tests.dags.dag_helpers import REPO
from tests.reliability.deployment import check_secrets, compose_config, good_env, resolved
from tests.reliability.deployment import env_example as read_env_example

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker-cpu",
    "airflow-worker-gpu",
}
SECRETS_CHECK = "secrets-check"
LONG_RUNNING = {"postgres", "redis"} | AIRFLOW_SERVICES - {"airflow-init"}
WORKERS = {"airflow-worker-cpu": "cpu", "airflow-worker-gpu": "gpu"}
CPU_WORKER = "airflow-worker-cpu"
API_SERVER = "airflow-apiserver"  # where Airflow mounts the plugin's dashboard
# ${NAME}, ${NAME:-default}, ${NAME:?error}; `$$` is compose's escape for a literal `$`.
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose_text() -> str:
    return (REPO / "docker-compose.yaml").read_text()


@pytest.fixture(scope="module")
def services(compose_text: str) -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(compose_text)["services"]
    return services


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_example()


def test_services(services: dict[str, Any]) -> None:
    assert set(services) == {SECRETS_CHECK, "postgres", "redis"} | AIRFLOW_SERVICES


def test_airflow_runs_on_celery_with_postgres_and_redis(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg://")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(":5432/airflow")
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        assert env["BENCH_WAREHOUSE_URL"].endswith(":5432/bench"), "the warehouse on PostgreSQL"
        assert env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] == "cpu"
        # Components agree on the secrets and where the execution API is.
        for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
            assert VARIABLE.fullmatch(env[key]), f"{name}: {key} must come from .env"
        assert "/execution/" in env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
        assert env["BENCH_DATA_HOME"] in " ".join(services[name]["volumes"])


def test_postgres_holds_the_metadata_and_the_warehouse_databases(
    services: dict[str, Any],
) -> None:
    postgres = services["postgres"]
    assert postgres["environment"]["POSTGRES_DB"] == "airflow"
    init_sql = next(v for v in postgres["volumes"] if "docker-entrypoint-initdb.d" in v)
    script = REPO / init_sql.split(":")[0]
    assert "CREATE DATABASE bench" in script.read_text()


def test_workers_serve_one_queue_each_one_task_at_a_time(services: dict[str, Any]) -> None:
    hostnames = set()
    for name, queue in WORKERS.items():
        command = services[name]["command"]
        assert command[:2] == ["celery", "worker"]
        assert command[command.index("--queues") + 1] == queue
        assert command[command.index("--concurrency") + 1] == "1"
        hostnames.add(command[command.index("--celery-hostname") + 1])
    assert len(hostnames) == 2


def test_gpu_worker_reserves_an_nvidia_gpu_and_has_the_cuda_builds(
    services: dict[str, Any],
) -> None:
    gpu = services["airflow-worker-gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert gpu["build"]["args"]["BENCH_VARIANT"] == "gpu"
    assert gpu["image"] != services["airflow-worker-cpu"]["image"]
    for name in AIRFLOW_SERVICES - {"airflow-worker-gpu"}:
        assert services[name]["build"]["args"]["BENCH_VARIANT"] == "cpu"
        assert "deploy" not in services[name]


def test_default_install_is_cpu_only_and_gpu_requirements_are_cuda_builds() -> None:
    default = (REPO / "requirements.txt").read_text()
    gpu = [
        line.strip()
        for line in (REPO / "requirements-gpu.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert "tensorflow-cpu==" in default
    assert gpu == ["torch==2.13.0", "tensorflow[and-cuda]==2.21.0", "jax[cuda13]==0.10.2"]
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    assert "requirements-gpu.txt" in dockerfile and "download.pytorch.org/whl/cpu" in dockerfile


def test_init_migrates_and_creates_pools_and_the_admin_user(services: dict[str, Any]) -> None:
    init = services["airflow-init"]
    script = "\n".join(init["command"])
    assert "scripts/airflow_setup.sh" in script
    assert "bench db upgrade" in script
    assert "AIRFLOW_ADMIN_PASSWORD" in script
    assert init["environment"]["BENCH_GPU_SLOTS"].startswith("${BENCH_GPU_SLOTS")
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        condition = services[name]["depends_on"]["airflow-init"]["condition"]
        assert condition == "service_completed_successfully"


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        check = services[name]["healthcheck"]
        assert check["test"] and check["interval"] and check["retries"], name
    for name, queue in WORKERS.items():
        assert f"{queue}@$${{HOSTNAME}}" in " ".join(services[name]["healthcheck"]["test"])
    scheduler = services["airflow-scheduler"]
    assert scheduler["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_secrets_come_from_env_with_no_default(compose_text: str) -> None:
    for match in VARIABLE.finditer(compose_text):
        name, operator, default = match.groups()
        if check_secrets.is_secret(name):
            assert operator in (None, ":?"), f"{name} must not have a default ({default!r})"


def test_secrets_check_gets_every_secret(compose_text: str, services: dict[str, Any]) -> None:
    # That every other service waits for it: tests/reliability/test_deployment_secrets.py,
    # through a real compose implementation.
    secrets = {m[1] for m in VARIABLE.finditer(compose_text) if check_secrets.is_secret(m[1])}
    check = services[SECRETS_CHECK]
    assert set(check["environment"]) == secrets, "pass every secret to secrets-check"
    assert "docker/check_secrets.py" in " ".join(check["volumes"])
    assert check["restart"] == "no"


def test_env_example_lists_every_variable_with_placeholders_for_secrets(
    compose_text: str, env_example: dict[str, str]
) -> None:
    required = {m.group(1) for m in VARIABLE.finditer(compose_text) if m.group(2) in (None, ":?")}
    assert required <= set(env_example), f"missing from .env.example: {required - set(env_example)}"
    for key, value in env_example.items():
        if check_secrets.is_secret(key):
            assert re.fullmatch(r"<[a-z-]+>", value), f"{key} must be a placeholder, not {value!r}"
            assert check_secrets.problem(key, value), f"secrets-check must refuse {key}={value}"


def cpuset_variable(name: str, service: dict[str, Any]) -> tuple[str, str]:
    """(variable, default) of a service's `cpuset: ${VARIABLE:-default}`."""
    match = VARIABLE.fullmatch(str(service.get("cpuset", "")))
    assert match and match.group(2) == ":-", f"{name}: cpuset must be ${{VARIABLE:-default}}"
    return match.group(1), match.group(3)


def test_no_service_shares_the_cpu_workers_cores_by_default(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    cpusets = {name: cpuset_variable(name, service) for name, service in services.items()}
    for variable, default in cpusets.values():
        assert env_example.get(variable) == default, f".env.example must list {variable}={default}"
    cpu_variable, cpu_default = cpusets.pop(CPU_WORKER)
    for name, (variable, default) in cpusets.items():
        assert variable != cpu_variable, f"{name} must not follow the cpu worker's cpuset"
        shared = parse_cores(default) & parse_cores(cpu_default)
        assert not shared, f"{name} shares core(s) {shared} with the cpu worker by default"


def test_bench_cpu_cores_goes_to_the_cpu_worker_alone_and_within_its_cpuset(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    match = VARIABLE.fullmatch(services[CPU_WORKER]["environment"][CORES_ENV])
    assert match and match.group(1) == CORES_ENV, f"pass {CORES_ENV} through from .env"
    cpuset = parse_cores(cpuset_variable(CPU_WORKER, services[CPU_WORKER])[1])
    if match.group(3):
        assert parse_cores(match.group(3)) <= cpuset
    for name in AIRFLOW_SERVICES - {CPU_WORKER}:
        # Elsewhere it would name cores outside the container's cpuset: CoresError.
        assert CORES_ENV not in services[name]["environment"], name
    # In a container a process may use its cpuset: where bench puts cases by default.
    monkeypatch.delenv(CORES_ENV, raising=False)
    monkeypatch.setattr(conditions, "allowed_cores", lambda: cpuset)
    assert set(conditions.case_cores("cpu", 1)) <= cpuset
    gpu_cpuset = parse_cores(cpuset_variable("gpu", services["airflow-worker-gpu"])[1])
    monkeypatch.setattr(conditions, "allowed_cores", lambda: gpu_cpuset)
    assert not set(conditions.case_cores("gpu", 1)) & cpuset


def bench_home(service: dict[str, Any]) -> PurePosixPath:
    """BENCH_HOME in a service: its environment's, else the image's (docker/Dockerfile ENV)."""
    if value := service["environment"].get("BENCH_HOME"):
        return PurePosixPath(value)
    match = re.search(r"\bBENCH_HOME=(\S+)", (REPO / "docker" / "Dockerfile").read_text())
    assert match, "docker/Dockerfile must set BENCH_HOME"
    return PurePosixPath(match.group(1))


def mount_at(service: dict[str, Any], path: PurePosixPath) -> tuple[str, str, bool]:
    """(source, target, read-only) of the service's mount that holds `path` (the deepest)."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):  # short syntax: SOURCE:TARGET[:MODE]
            source, target, *mode = VARIABLE.sub("$VARIABLE", volume).split(":")
            mounts.append((source, target, "ro" in mode))
        else:  # long syntax, as `compose config` writes it
            mounts.append((volume["source"], volume["target"], bool(volume.get("read_only"))))
    holding = [m for m in mounts if path.is_relative_to(m[1])]
    assert holding, f"nothing is mounted at {path}"
    return max(holding, key=lambda m: len(PurePosixPath(m[1]).parts))


def report_writer(services: dict[str, Any]) -> str:
    """The worker that runs detect_regressions, which writes the report: it names no queue, so
    the default queue's (tests/dags/test_dag_structure.py checks that it names none)."""
    default_queue = services[API_SERVER]["environment"]["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
    (writer,) = [name for name, queue in WORKERS.items() if queue == default_queue]
    return writer


def check_reports_reach_the_dashboard(services: dict[str, Any], volumes: dict[str, Any]) -> None:
    writer = report_writer(services)
    reports = bench_home(services[writer]) / "reports"
    assert bench_home(services[API_SERVER]) / "reports" == reports
    written = mount_at(services[writer], reports)
    read = mount_at(services[API_SERVER], reports)
    assert written[0] in volumes, f"{reports} must be on a named volume, not {written[0]}"
    assert written[:2] == read[:2], "the api-server must mount the volume the reports are on"
    assert not written[2], f"{writer} must be able to write {reports}"


def test_reports_are_on_a_volume_the_writing_worker_and_the_api_server_share(
    compose_text: str, services: dict[str, Any]
) -> None:
    check_reports_reach_the_dashboard(services, yaml.safe_load(compose_text)["volumes"])


def test_compose_itself_mounts_the_reports_volume_in_both(tmp_path: Path) -> None:
    config = compose_config(good_env(), tmp_path)
    check_reports_reach_the_dashboard(resolved(config), yaml.safe_load(config.stdout)["volumes"])
