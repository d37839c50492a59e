"""scripts/gpu_check.sh end to end on this machine: --prepare, then --dry-run (device forced to
cpu), then its records through `bench ingest` and `bench report`; so the check cannot rot
between GPU lends. All 15 steps, the sync rounds and max-autotune included (nothing skipped):
about 2 minutes on the 2-core development machine with the session's compile cache (120 s;
an earlier 14-step version took 162 s while other work ran beside it).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.config import FRAMEWORK_MODES
from bench.records import Record
from benchmarks.gpu_check_claims import GPU_ONLY
from benchmarks.gpu_check_plan import MAX_FILES, RECORDS, SYNC_ROUNDS, checked_frameworks, plan
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


def test_dry_run_runs_every_step_and_shows_the_sync_rounds(dry_run: DryRun) -> None:
    steps = plan(dry_run=True)
    assert f"[{len(steps)}/{len(steps)}] {steps[-1].label}: ok" in dry_run.stdout
    summary = (dry_run.out / "summary.md").read_text()
    rows = [line for line in summary.splitlines() if line.startswith("| ") and " | ok | " in line]
    assert len(rows) == len(steps)
    assert summary.count(" | without | ") + summary.count(" | with | ") == SYNC_ROUNDS
    assert f" over {SYNC_ROUNDS} round(s), 95% interval " in summary


def test_dry_run_writes_one_bundle_of_the_cases_and_one_summary(dry_run: DryRun) -> None:
    files = sorted(p.name for p in dry_run.out.iterdir())
    assert files == [RECORDS, "summary.md"] and len(files) <= MAX_FILES
    lines = (dry_run.out / RECORDS).read_text().splitlines()
    records = [Record.from_dict(json.loads(line)) for line in lines]
    expected = [f"{fw}-{mode}-cpu" for fw in checked_frameworks() for mode in FRAMEWORK_MODES[fw]]
    assert sorted(r.case.name for r in records) == sorted(expected)
    assert {r.status for r in records} == {"ok"} and len({r.run_id for r in records}) == 1
    assert all(len(r.epochs) == 3 and "check_hooks" not in r.environment for r in records)


def test_dry_run_records_ingest_and_render(
    dry_run: DryRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = (dry_run.out / RECORDS).read_text().splitlines()[0]
    run_id = Record.from_dict(json.loads(first)).run_id
    assert run_id.startswith("gpu-check-dry-")
    html = ingest_and_report(dry_run.out, run_id, tmp_path, monkeypatch)
    for fw in checked_frameworks():
        for mode in FRAMEWORK_MODES[fw]:
            assert f'data-case="{fw}-{mode}-cpu"' in html
