"""scripts/gpu_check.sh end to end on this machine: --prepare, then --dry-run (device forced to
cpu), then its records through `bench ingest` and `bench report`; so the check cannot rot
between GPU lends. About 1.5 minutes with a warm compile cache, 2.5 cold.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.config import FRAMEWORK_MODES
from bench.records import Record
from benchmarks.gpu_check_plan import GPU_ONLY, MAX_FILES
from benchmarks.gpu_check_prepare import REPO
from tests.benchmarks.ingest_report import ingest_and_report

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@dataclass(frozen=True)
class DryRun:
    returncode: int
    stdout: str
    out: Path


def script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "gpu_check.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )


@pytest.fixture(scope="module")
def dry_run(
    data_home: Path, compile_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> DryRun:
    root = tmp_path_factory.mktemp("gpu_check")
    env = {
        **os.environ,
        "BENCH_DATA_HOME": str(data_home),
        "BENCH_COMPILE_CACHE": str(compile_cache),
        "OUT": str(root / "out"),
    }
    prepared = script("--prepare", "--dir", str(root / "travel"), env=env)
    assert prepared.returncode == 0, prepared.stderr
    done = script("--dry-run", "--dir", str(root / "travel"), env=env)
    assert done.returncode in (0, 1), done.stderr  # 1: a claim failed, which a test shows
    return DryRun(done.returncode, done.stdout, root / "out")


def test_dry_run_passes_and_skips_only_the_gpu_claims(dry_run: DryRun) -> None:
    summary = (dry_run.out / "summary.md").read_text()
    assert dry_run.returncode == 0, summary
    assert summary.splitlines()[0].endswith(": PASS") and summary in dry_run.stdout
    assert "**FAIL**" not in summary
    for claim, why in GPU_ONLY.items():
        assert f"- **SKIP** {claim}: dry run on cpu: {why}" in summary
    assert summary.count("- **PASS** ") == 5


def test_dry_run_writes_a_record_per_case_and_one_summary(dry_run: DryRun) -> None:
    files = sorted(p.name for p in dry_run.out.iterdir())
    expected = [f"torch-{mode}-cpu.json" for mode in FRAMEWORK_MODES["torch"]]
    assert files == sorted([*expected, "summary.md"]) and len(files) <= MAX_FILES
    records = [Record.read(dry_run.out / name) for name in expected]
    assert {r.status for r in records} == {"ok"} and len({r.run_id for r in records}) == 1
    assert all(len(r.epochs) == 3 and "check_hooks" not in r.environment for r in records)


def test_dry_run_records_ingest_and_render(
    dry_run: DryRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = Record.read(dry_run.out / "torch-eager-cpu.json").run_id
    assert run_id.startswith("gpu-check-dry-")
    html = ingest_and_report(dry_run.out, run_id, tmp_path, monkeypatch)
    for mode in FRAMEWORK_MODES["torch"]:
        assert f'data-case="torch-{mode}-cpu"' in html
