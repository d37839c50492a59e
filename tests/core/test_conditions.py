"""Cores per case, and the noise guard: a real CPU hog on the case's core marks it noisy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.conditions import (
    CoresError,
    CpuWatch,
    allowed_cores,
    case_cores,
    cpu_case_cores,
    noisy_reason,
    parse_cores,
)
from bench.config import Case, RunSettings
from bench.runner import run_case
from benchmarks.contention import hog

CORES = sorted(allowed_cores())
needs_two_cores = pytest.mark.skipif(
    len(CORES) < 2, reason="pinning a case apart from a hog needs two cores (CI has two)"
)


def test_parse_cores_reads_lists_and_ranges() -> None:
    assert parse_cores("3") == {3}
    assert parse_cores("0-2,5") == {0, 1, 2, 5}
    with pytest.raises(CoresError, match="BENCH_CPU_CORES='x' is not a core list"):
        parse_cores("x")


def test_cpu_cases_default_to_the_last_core_and_gpu_cases_to_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BENCH_CPU_CORES", raising=False)
    assert cpu_case_cores(1) == (CORES[-1],)
    if len(CORES) > 1:
        assert set(case_cores("gpu", 1)) == set(CORES) - {CORES[-1]}


def test_bench_cpu_cores_chooses_and_an_unusable_core_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BENCH_CPU_CORES", str(CORES[0]))
    assert case_cores("cpu", 1) == (CORES[0],)
    monkeypatch.setenv("BENCH_CPU_CORES", "999")
    with pytest.raises(CoresError, match=r"names core\(s\) 999 this process may not use"):
        cpu_case_cores(1)


def test_noisy_reason_names_the_share_and_the_cores() -> None:
    base = {"cores": [1], "others_cpu_seconds": 0.5, "others_share": 0.25, "steal_share": 0.0}
    assert noisy_reason(base) == "other processes used 25% of core(s) 1 (0.50 s)"
    assert noisy_reason({**base, "others_share": 0.05, "others_cpu_seconds": 0.05}) is None
    assert "stole 8%" in (noisy_reason({**base, "others_share": 0.0, "steal_share": 0.08}) or "")


def test_the_watch_counts_this_process_as_its_own_work() -> None:
    watch = CpuWatch(tuple(CORES))
    watch.start()
    sum(i * i for i in range(2_000_000))
    conditions, _ = watch.stop()
    assert conditions["own_cpu_seconds"] > 0.05
    assert conditions["load_before"] is not None and "governor" in conditions


@pytest.mark.integration
@needs_two_cores
def test_a_hog_on_the_case_core_marks_it_noisy_and_the_case_stays_on_its_core(
    monkeypatch: pytest.MonkeyPatch, data_home: Path
) -> None:
    core = CORES[0]
    monkeypatch.setenv("BENCH_CPU_CORES", str(core))
    settings = RunSettings(epochs=8, data_home=str(data_home))
    case = Case("torch", "eager", "cpu")
    with hog(core):
        loaded = run_case(case, settings, run_id="hog")
    with hog(CORES[1]):  # the other core: pinning keeps the case apart from it
        apart = run_case(case, settings, run_id="apart")
    assert loaded.status == apart.status == "ok"
    assert loaded.environment["cores"] == apart.environment["cores"] == [core]
    assert loaded.noisy and f"of core(s) {core}" in loaded.noisy, loaded.conditions
    assert loaded.conditions["others_share"] > 0.2
    # How far pinning keeps a hog on the other core away is measured in BENCHMARKS.md (here
    # other tests' processes may share the machine).
    assert loaded.reference_seconds and apart.reference_seconds
    assert os.sched_getaffinity(0) == set(CORES), "the test process itself was not pinned"
