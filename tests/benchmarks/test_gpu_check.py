"""The GPU check's plan, its assertions on GPU records built in code, its summary, --prepare.

The GPU path cannot run here; these tests hold its logic to what a real GPU run must show.
The dry run end to end is in test_gpu_check_dry_run.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.config import FRAMEWORK_MODES, Case
from bench.frameworks.base import BALLAST_ENV, EXTRA_SYNC_ENV, CheckHooks
from bench.measure import MIB
from bench.records import EvalMetric, Record
from benchmarks.gpu_check import Progress, main, summary
from benchmarks.gpu_check_plan import (
    BALLAST,
    CUDA_GRAPH_MODES,
    CUDA_GRAPHS,
    DEVICE_MEMORY,
    GPU_MATCHES_CPU,
    GPU_ONLY,
    MAX_FILES,
    SYNC,
    Step,
    assess,
    plan,
)
from benchmarks.gpu_check_prepare import (
    GPU_MACHINE_HAS,
    REPO,
    prepare,
    run_call,
    third_party_imports,
)
from tests.benchmarks.ingest_report import ingest_and_report
from tests.builders import machine_environment, make_record

Results = dict[Step, Record | None]


def gpu_results(*, dry_run: bool = False) -> Results:
    """What a good run brings back: every step ok, as the torch trainer records it."""
    results: Results = {}
    for step in plan(dry_run=dry_run):
        case, on_gpu = step.case, step.case.device == "gpu"
        env = {**machine_environment(), "gpu_name": "NVIDIA H200" if on_gpu else None}
        if case.mode != "eager":
            env["compiled_graphs"] = 1
        if on_gpu and case.mode in CUDA_GRAPH_MODES:
            env["cudagraph_skips"] = 0
        if step.probe:
            env["check_hooks"] = {"ballast": {"ballast_mib": 100}, "sync": {"extra_sync": True}}[
                step.probe
            ]
        record = make_record(
            "gpu-check-test",
            case,
            epochs=3,
            steady=0.05,
            eval_metrics=[EvalMetric(epoch=3, test_mse=0.42, test_mae=0.44)],
            environment=env,
        )
        if on_gpu:
            record.peak_device_bytes = (3 + (100 if step.probe == "ballast" else 0)) * MIB
        results[step] = record
    return results


def outcomes(results: Results, *, dry_run: bool = False) -> dict[str, str]:
    return {a.claim: a.outcome for a in assess(results, dry_run=dry_run)}


def find(results: Results, name: str, probe: str | None = None) -> Record:
    record = results[next(s for s in results if s.case.name == name and s.probe == probe)]
    assert record is not None
    return record


def test_plan_runs_every_torch_gpu_mode_the_cpu_comparison_and_two_probes() -> None:
    steps = plan(dry_run=False)
    cases = [s.case for s in steps if not s.probe]
    assert cases[0] == Case("torch", "eager", "gpu")  # a machine without a GPU stops here
    assert {c.mode for c in cases if c.device == "gpu"} == set(FRAMEWORK_MODES["torch"])
    assert Case("torch", "eager", "cpu") in cases
    assert {c.framework for c in cases} == {"torch"}  # TensorFlow cannot travel
    assert [s.label for s in steps if s.probe] == [
        "torch-eager-gpu + ballast probe",
        "torch-compile-reduce-overhead-gpu + sync probe",
    ]
    assert len(cases) == len(set(cases)) and len(cases) + 1 <= MAX_FILES


def test_dry_run_plan_is_the_same_on_cpu() -> None:
    gpu, cpu = plan(dry_run=False), plan(dry_run=True)
    assert {s.case.device for s in cpu} == {"cpu"}
    # The cpu comparison is the eager case itself: one step fewer, same modes and probes.
    assert [dataclasses.replace(s.case, device="cpu") for s in gpu if s.case.device == "gpu"] == [
        s.case for s in cpu
    ]


def test_a_good_gpu_run_passes_every_claim() -> None:
    results = outcomes(gpu_results())
    assert set(GPU_ONLY) <= set(results)
    assert set(results.values()) == {"pass"}, results


def mutate(name: str, probe: str | None, change: Callable[[Record], None]) -> Callable[..., None]:
    def apply(results: Results) -> None:
        change(find(results, name, probe))

    return apply


def set_env(key: str, value: object) -> Callable[[Record], None]:
    return lambda record: record.environment.__setitem__(key, value)


def set_attr(key: str, value: object) -> Callable[[Record], None]:
    return lambda record: setattr(record, key, value)


def shift_metrics(record: Record) -> None:
    record.eval = [EvalMetric(epoch=3, test_mse=0.5, test_mae=0.47)]


@pytest.mark.parametrize(
    ("claim", "change"),
    [
        (DEVICE_MEMORY, mutate("torch-compile-gpu", None, set_attr("peak_device_bytes", None))),
        (BALLAST, mutate("torch-eager-gpu", "ballast", set_attr("peak_device_bytes", 3 * MIB))),
        (BALLAST, mutate("torch-eager-gpu", "ballast", set_attr("peak_device_bytes", 203 * MIB))),
        (
            SYNC,
            mutate(
                "torch-compile-reduce-overhead-gpu", "sync", set_attr("steady_epoch_seconds", 0.2)
            ),
        ),
        (
            CUDA_GRAPHS,
            mutate("torch-compile-max-autotune-gpu", None, set_env("cudagraph_skips", 2)),
        ),
        (GPU_MATCHES_CPU, mutate("torch-eager-cpu", None, shift_metrics)),
        (
            "compiled modes match eager test metrics (MAE within 0.01, MSE within 0.02, after "
            "epoch 3)",
            mutate("torch-compile-gpu", None, shift_metrics),
        ),
        (
            "one compiled graph per compiled mode (no recompiles)",
            mutate("torch-compile-gpu", None, set_env("compiled_graphs", 2)),
        ),
        (
            "each probe's record names its check hook",
            mutate("torch-eager-gpu", "ballast", set_env("check_hooks", {})),
        ),
        (
            "every case and probe ran with status ok",
            mutate("torch-compile-max-autotune-gpu", None, set_attr("status", "failed")),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_gpu_claim_catches_its_failure(claim: str, change: Callable[..., None]) -> None:
    results = gpu_results()
    change(results)
    assert outcomes(results)[claim] == "fail"


def test_a_step_cut_off_by_the_budget_fails_the_check() -> None:
    results = gpu_results()
    results[plan(dry_run=False)[-1]] = None
    failed = [a for a in assess(results, dry_run=False) if a.outcome == "fail"]
    assert [a.claim for a in failed] == [
        "every case and probe ran with status ok",
        "each probe's record names its check hook",
        SYNC,
    ]
    assert "not run (time budget spent)" in failed[0].detail


def test_dry_run_skips_exactly_the_gpu_only_claims_and_says_why() -> None:
    assertions = assess(gpu_results(dry_run=True), dry_run=True)
    skipped = {a.claim: a.detail for a in assertions if a.outcome == "skip"}
    assert set(skipped) == set(GPU_ONLY)
    assert all(detail.startswith("dry run on cpu: ") for detail in skipped.values())
    assert {a.outcome for a in assertions if a.claim not in skipped} == {"pass"}


def test_summary_shows_the_gpu_figures_and_the_verdict() -> None:
    results = gpu_results()
    progress = Progress("gpu-check-test", False, list(results), results, {}, {}, 0.0)
    text = summary(progress, assess(results, dry_run=False))
    assert text.startswith("# GPU check gpu-check-test: PASS\n")
    row = next(line for line in text.splitlines() if line.startswith("| torch-eager-gpu |"))
    assert "| 3.0 |" in row and "| 0.4200 | 0.4400 |" in row
    assert "| torch-eager-gpu + ballast probe | ok |" in text and "| 103.0 |" in text
    assert "- **PASS** a 100 MiB tensor raises peak_device_bytes by 100 MiB: " in text
    assert "tensorflow: no TensorFlow on the GPU machine" in text
    assert text.count('"check_hooks"') == 2  # the probe records, in full, not as files
    unfinished = summary(progress, None)
    assert "IN PROGRESS" in unfinished.splitlines()[0]


def test_check_hooks_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CheckHooks.from_env().active() == {}
    monkeypatch.setenv(BALLAST_ENV, "100")
    monkeypatch.setenv(EXTRA_SYNC_ENV, "1")
    assert CheckHooks.from_env().active() == {"ballast_mib": 100, "extra_sync": True}


def test_prepare_fills_the_travel_folder_and_prints_the_call(
    data_home: Path, tmp_path: Path
) -> None:
    text = prepare(tmp_path / "travel", data_home=data_home, repo=REPO)
    copied = tmp_path / "travel" / "scikit_learn_data" / "cal_housing_py3.pkz"
    assert copied.read_bytes() == (data_home / "cal_housing_py3.pkz").read_bytes()
    manifest = json.loads((tmp_path / "travel" / "manifest.json").read_text())
    assert len(manifest["commit"]) == 40 and isinstance(manifest["dirty"], bool)
    assert "wheels: none needed" in text and "of the 64 MiB allowed" in text
    assert "outside the checkout: it cannot travel" in text  # tmp_path is not in the checkout


def test_the_run_call_for_the_default_folder_is_ready_to_paste() -> None:
    call = run_call(REPO / ".gpu_check", REPO)
    assert call == {
        "command": "bash scripts/gpu_check.sh",
        "carry": [".gpu_check"],
        "timeout_s": 420,
    }
    assert (
        run_call(REPO / "elsewhere", REPO)["command"] == "bash scripts/gpu_check.sh --dir elsewhere"
    )
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert "/.gpu_check/" in ignored  # it travels only when carried


def test_the_check_imports_only_what_the_gpu_machine_has() -> None:
    """No SQLAlchemy, Airflow or Great Expectations before a case starts (the GPU machine has
    none of them); scikit-learn and torch load inside each case's process."""
    assert third_party_imports(REPO) <= GPU_MACHINE_HAS


def test_without_a_prepared_folder_the_check_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--dry-run", "--dir", str(tmp_path / "absent"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gpu_check: error: ") and "--prepare" in err and err.count("\n") == 1


def test_gpu_records_ingest_and_appear_in_the_report_as_gpu_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "out"
    for step, record in gpu_results().items():
        if record is not None and not step.probe:  # what the check writes
            record.write(folder / f"{step.case.name}.json")
    html = ingest_and_report(folder, "gpu-check-test", tmp_path, monkeypatch)
    for mode in FRAMEWORK_MODES["torch"]:
        assert f'data-case="torch-{mode}-gpu"' in html
    assert 'data-case="torch-eager-cpu"' in html


@pytest.mark.integration
def test_on_a_machine_without_a_gpu_the_check_stops_after_one_case(
    data_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare(tmp_path / "travel", data_home=data_home, repo=REPO)
    assert main(["--dir", str(tmp_path / "travel"), "--out", str(tmp_path / "out")]) == 2
    summary_text = (tmp_path / "out" / "summary.md").read_text()
    assert "No GPU here (no CUDA GPU visible to torch" in summary_text
    assert "--dry-run" in summary_text
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "summary.md",
        "torch-eager-gpu.json",
    ]
    assert capsys.readouterr().out.count("[1/7] torch-eager-gpu: skipped") == 1
