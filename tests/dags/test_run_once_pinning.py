"""`make run` keeps Airflow off the CPU case's cores: scripts/on_service_cores.sh, used by
scripts/airflow_run_once.sh, pins `airflow dags test` to the service cores (a fake `airflow`
reports where it ran; no real Airflow run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.conditions import allowed_cores, cpu_case_cores, format_cores, service_cores
from tests.dags.dag_helpers import REPO

WRAPPER = REPO / "scripts" / "on_service_cores.sh"
REPORT_PREFIX = "FAKE-AIRFLOW "
# Stands in for `airflow`: where it runs, and where bench would put the cases it starts.
FAKE_AIRFLOW = f"""#!{sys.executable}
import json, os
from bench.conditions import case_cores
seen = {{"affinity": sorted(os.sched_getaffinity(0)), "env": os.environ.get("BENCH_CPU_CORES")}}
try:
    seen["cpu_case"], seen["gpu_case"] = list(case_cores("cpu", 1)), list(case_cores("gpu", 1))
except Exception as exc:
    seen["error"] = str(exc)
print({REPORT_PREFIX!r} + json.dumps(seen))
"""
needs_taskset = pytest.mark.skipif(not shutil.which("taskset"), reason="no taskset (util-linux)")
needs_two_cores = pytest.mark.skipif(len(allowed_cores()) < 2, reason="one core: nothing to pin")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The default layout (no BENCH_CPU_CORES, one thread), a fake `airflow` and `bench`."""
    for name in ("BENCH_CPU_CORES", "BENCH_THREADS"):
        monkeypatch.delenv(name, raising=False)
    fake = tmp_path / "airflow"
    fake.write_text(FAKE_AIRFLOW)
    fake.chmod(0o755)
    return {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW_BIN": str(fake),
        "BENCH_BIN": "true",
        "PYTHON_BIN": sys.executable,
        "BENCH_HOME": str(tmp_path / "state"),
        "PYTHONPATH": str(REPO),  # this checkout's bench, in the fake too
    }


def fake_airflow_report(output: str) -> dict[str, object]:
    lines = [line for line in output.splitlines() if line.startswith(REPORT_PREFIX)]
    assert len(lines) == 1, output
    report: dict[str, object] = json.loads(lines[0][len(REPORT_PREFIX) :])
    return report


def wrapped(env: dict[str, str], *prefix: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, "bash", str(WRAPPER), env["AIRFLOW_BIN"]],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@needs_taskset
@needs_two_cores
def test_run_once_runs_airflow_on_the_service_cores(env: dict[str, str]) -> None:
    service, cpu = list(service_cores()), list(cpu_case_cores(1))
    assert not set(service) & set(cpu)
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "airflow_run_once.sh"), "1"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    log = (Path(env["AIRFLOW_HOME"]) / "logs" / "bench_nightly_run_once.log").read_text()
    assert done.returncode == 0, done.stdout + done.stderr
    layout = f"cores: Airflow and GPU cases on {format_cores(service)}, CPU cases on"
    assert layout in done.stdout, f"the layout is not shown on the terminal:\n{done.stdout}"
    report = fake_airflow_report(log)
    assert report["affinity"] == service, f"airflow was not pinned to the service cores:\n{log}"
    assert report["env"] == format_cores(cpu)
    # The cases Airflow starts from its pinned process keep the layout computed outside it.
    assert report.get("cpu_case") == cpu and report.get("gpu_case") == service, report


@needs_taskset
def test_on_one_core_the_command_runs_unpinned_and_says_so(env: dict[str, str]) -> None:
    core = str(max(allowed_cores()))
    done = wrapped(env, "taskset", "-c", core)
    assert done.returncode == 0, done.stderr
    assert f"cores: one core ({core}): nothing to keep apart" in done.stderr
    assert fake_airflow_report(done.stdout)["affinity"] == [int(core)]


@needs_two_cores
def test_without_taskset_the_command_runs_unpinned_and_says_so(env: dict[str, str]) -> None:
    done = wrapped({**env, "TASKSET_BIN": "/nonexistent/taskset"})
    assert done.returncode == 0, done.stderr
    assert "taskset (util-linux) not found: running unpinned" in done.stderr
    assert fake_airflow_report(done.stdout)["affinity"] == sorted(allowed_cores())


def test_an_unusable_bench_cpu_cores_stops_before_the_command(env: dict[str, str]) -> None:
    done = wrapped({**env, "BENCH_CPU_CORES": "4096"})
    assert done.returncode == 2
    assert done.stderr.startswith("cores: BENCH_CPU_CORES=4096 names core(s) 4096")
    assert REPORT_PREFIX not in done.stdout
