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

from bench.config import CUDA_GRAPH_MODES, FRAMEWORK_MODES, Case
from bench.frameworks.base import BALLAST_ENV, EXTRA_SYNC_ENV, CheckHooks
from bench.measure import MIB
from bench.records import EvalMetric, Record
from benchmarks.gpu_check import Progress, main, records_bundle, step_env, summary
from benchmarks.gpu_check_claims import (
    ALL_OK,
    BALLAST,
    CUDA_GRAPHS,
    DEVICE_MEMORY,
    GPU_MATCHES_CPU,
    GPU_ONLY,
    HOOKS_MARKED,
    MATCH_BASELINE,
    NO_GRAPH,
    ONE_GRAPH,
    SYNC,
    assess,
    sync_rounds,
)
from benchmarks.gpu_check_plan import (
    GPU_LIMITS,
    PROBE_HOOKS,
    RECORDS,
    SYNC_EPOCHS,
    SYNC_ROUNDS,
    Step,
    checked_frameworks,
    plan,
)
from benchmarks.gpu_check_prepare import (
    GPU_MACHINE_HAS,
    REPO,
    RUN_TIMEOUT_S,
    prepare,
    run_call,
    step_table,
    third_party_imports,
)
from tests.benchmarks.ingest_report import ingest_and_report
from tests.builders import machine_environment, make_record

Results = dict[Step, Record | None]
RO = "torch-compile-reduce-overhead-gpu"  # the sync probe's case


def gpu_results(*, dry_run: bool = False) -> Results:
    """What a good run brings back: every step ok, as the torch and JAX trainers record it; the
    sync rounds' ratios 0.98, 1.0, 1.02."""
    results: Results = {}
    for step in plan(dry_run=dry_run):
        case, on_gpu = step.case, step.case.device == "gpu"
        env = {**machine_environment(case.framework), "gpu_name": "NVIDIA H200" if on_gpu else None}
        if case.framework == "jax":
            env.update(traces=1, compiles={"warm_up": 1, "steady": 0})
        elif (case.framework, case.mode) not in NO_GRAPH:
            env["compiled_graphs"] = 1
        if on_gpu and case.framework == "torch" and case.mode in CUDA_GRAPH_MODES:
            env["cudagraph_skips"] = 0
        if step.probe:
            env["check_hooks"] = PROBE_HOOKS[step.probe]
        steady = 0.05 * (1 + 0.02 * (step.round - 2)) if step.probe == "sync" else 0.05
        record = make_record(
            "gpu-check-test",
            case,
            epochs=step.epochs,
            steady=steady,
            eval_metrics=[EvalMetric(epoch=step.epochs, test_mse=0.42, test_mae=0.44)],
            environment=env,
        )
        if on_gpu:
            record.peak_device_bytes = (3 + (100 if step.probe == "ballast" else 0)) * MIB
        results[step] = record
    return results


def outcomes(results: Results, *, dry_run: bool = False) -> dict[str, str]:
    return {a.claim: a.outcome for a in assess(results, dry_run=dry_run)}


def details(results: Results) -> dict[str, str]:
    return {a.claim: a.detail for a in assess(results, dry_run=False)}


def find(
    results: Results, name: str, probe: str | None = None, round_: int | None = None
) -> Record:
    record = results[
        next(
            s
            for s in results
            if s.case.name == name and s.probe == probe and round_ in (None, s.round)
        )
    ]
    assert record is not None
    return record


def test_plan_runs_every_checkable_gpu_mode_the_cpu_comparison_and_the_probes() -> None:
    steps = plan(dry_run=False)
    stored = [s.case for s in steps if s.stored]
    # The baselines first; a machine without a GPU stops after the first.
    assert stored[:2] == [Case("torch", "eager", "gpu"), Case("jax", "jit", "gpu")]
    assert all(s.case == s.case.baseline for s in steps[:2])
    for fw in ("torch", "jax"):
        assert {c.mode for c in stored if c.framework == fw and c.device == "gpu"} == set(
            FRAMEWORK_MODES[fw]
        )
    assert Case("torch", "eager", "cpu") in stored
    assert {c.framework for c in stored} == set(checked_frameworks()) == {"torch", "jax"}
    assert len(stored) == len(set(stored)) == len(FRAMEWORK_MODES["torch"]) + 3
    assert [s.label for s in steps if s.probe == "ballast"] == ["torch-eager-gpu + ballast probe"]
    assert sum(s.probe == "sync" for s in steps) == SYNC_ROUNDS


def test_the_order_puts_cheap_modes_before_compiles_and_max_autotune_last() -> None:
    modes = [s.case.mode for s in plan(dry_run=False) if s.stored and s.case.device == "gpu"]
    assert modes[-1] == "compile-max-autotune"  # least priority: it may autotune for minutes
    compiled = [i for i, m in enumerate(modes) if m.startswith("compile")]
    assert max(modes.index("dataloader"), modes.index("scan")) < min(compiled)
    assert modes.index("compile-reduce-overhead") == len(modes) - 2  # its rounds follow it


def test_the_sync_rounds_run_back_to_back_and_alternate_the_side_that_goes_first() -> None:
    steps = plan(dry_run=False)
    first = next(i for i, s in enumerate(steps) if s.round)
    rounds = steps[first : first + 2 * SYNC_ROUNDS]
    assert all(s.case.name == RO for s in rounds) and not any(s.round for s in steps[first + 6 :])
    assert steps[first - 1] == Step(Case("torch", "compile-reduce-overhead", "gpu"))  # stored
    sides = [(s.round, s.probe) for s in rounds]
    assert sides == [(1, None), (1, "sync"), (2, "sync"), (2, None), (3, None), (3, "sync")]
    assert not any(s.stored for s in rounds) and {s.epochs for s in rounds} == {SYNC_EPOCHS}
    assert rounds[0].label == f"{RO} (sync round 1)"
    assert rounds[1].hook_env == {BALLAST_ENV: "", EXTRA_SYNC_ENV: "1"}
    assert rounds[3].hook_env == {BALLAST_ENV: "", EXTRA_SYNC_ENV: ""}


def test_the_sync_rounds_share_one_compile_cache_and_the_other_steps_keep_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BENCH_COMPILE_CACHE", raising=False)
    steps = plan(dry_run=False)
    shared = {s.label for s in steps if "TORCHINDUCTOR_CACHE_DIR" in step_env(s, shared_cache="c")}
    assert shared == {s.label for s in steps if s.case.name == RO}
    assert len(shared) == 1 + 2 * SYNC_ROUNDS  # the stored case fills it, cold
    probe = next(s for s in steps if s.probe == "sync")
    assert step_env(probe, shared_cache="c") == {
        BALLAST_ENV: "",
        EXTRA_SYNC_ENV: "1",
        "TORCHINDUCTOR_CACHE_DIR": "c",
    }
    monkeypatch.setenv("BENCH_COMPILE_CACHE", "/warm")  # the runner gives every step that one
    assert step_env(probe, shared_cache="c") == probe.hook_env


def test_the_guessed_steps_fit_the_budget_and_the_run_outlasts_it() -> None:
    steps = plan(dry_run=False)
    total = sum(s.guess_s for s in steps)
    assert total <= GPU_LIMITS.budget_s
    assert GPU_LIMITS.budget_s + 60 <= RUN_TIMEOUT_S <= 600  # one command, with margin
    table = step_table()
    assert table[-1].startswith(f"  guessed total ~{total:.0f} s of the 480 s budget")
    assert table[-2].endswith("torch-compile-max-autotune-gpu  ~150 s") and len(table) == 18


def test_dry_run_plan_is_the_same_on_cpu() -> None:
    gpu, cpu = plan(dry_run=False), plan(dry_run=True)
    assert {s.case.device for s in cpu} == {"cpu"}
    # The cpu comparison is the eager case itself: one step fewer, same modes, probes, rounds.
    assert [
        dataclasses.replace(s, case=dataclasses.replace(s.case, device="cpu"))
        for s in gpu
        if s.case.device == "gpu"
    ] == cpu


def test_a_good_gpu_run_passes_every_claim() -> None:
    results = outcomes(gpu_results())
    assert set(GPU_ONLY) <= set(results)
    assert set(results.values()) == {"pass"}, results
    assert details(gpu_results())[SYNC] == (
        "compile-reduce-overhead, with/without per round 0.980, 1.000, 1.020: median 1.000, "
        "95% interval 0.951-1.051"
    )


def mutate(
    name: str, probe: str | None, change: Callable[[Record], None], round_: int | None = None
) -> Callable[..., None]:
    def apply(results: Results) -> None:
        change(find(results, name, probe, round_))

    return apply


def set_env(key: str, value: object) -> Callable[[Record], None]:
    return lambda record: record.environment.__setitem__(key, value)


def set_attr(key: str, value: object) -> Callable[[Record], None]:
    return lambda record: setattr(record, key, value)


def shift_metrics(record: Record) -> None:
    record.eval = [EvalMetric(epoch=3, test_mse=0.5, test_mae=0.47)]


def sync_steady(*values: float) -> Callable[..., None]:
    """The sync probe's steady times, round by round (the side without stays at 0.05)."""

    def apply(results: Results) -> None:
        for n, value in enumerate(values, start=1):
            find(results, RO, "sync", n).steady_epoch_seconds = value

    return apply


def fail_rounds(probe: str | None, *rounds: int) -> Callable[..., None]:
    """The given rounds' side with `probe` (None: the side without) failed."""

    def apply(results: Results) -> None:
        for n in rounds:
            find(results, RO, probe, n).status = "failed"

    return apply


@pytest.mark.parametrize(
    ("claim", "change"),
    [
        (DEVICE_MEMORY, mutate("torch-compile-gpu", None, set_attr("peak_device_bytes", None))),
        (DEVICE_MEMORY, mutate("jax-scan-gpu", None, set_attr("peak_device_bytes", 0))),
        (BALLAST, mutate("torch-eager-gpu", "ballast", set_attr("peak_device_bytes", 3 * MIB))),
        (BALLAST, mutate("torch-eager-gpu", "ballast", set_attr("peak_device_bytes", 203 * MIB))),
        (SYNC, sync_steady(0.2, 0.21, 0.19)),  # the times disagree
        (SYNC, sync_steady(0.05, 0.07, 0.04)),  # too noisy to show agreement
        (SYNC, fail_rounds(None, 2, 3)),  # one complete round: no interval
        (
            CUDA_GRAPHS,
            mutate("torch-compile-max-autotune-gpu", None, set_env("cudagraph_skips", 2)),
        ),
        (GPU_MATCHES_CPU, mutate("torch-eager-cpu", None, shift_metrics)),
        (MATCH_BASELINE, mutate("torch-compile-gpu", None, shift_metrics)),
        (MATCH_BASELINE, mutate("torch-dataloader-gpu", None, shift_metrics)),
        (MATCH_BASELINE, mutate("jax-scan-gpu", None, shift_metrics)),
        (MATCH_BASELINE, mutate("jax-jit-gpu", None, shift_metrics)),  # the baseline moved
        (ONE_GRAPH, mutate("torch-compile-gpu", None, set_env("compiled_graphs", 2))),
        (ONE_GRAPH, mutate("torch-compile-epoch-gpu", None, set_env("compiled_graphs", 2))),
        (ONE_GRAPH, mutate("jax-jit-gpu", None, set_env("traces", 2))),
        (
            ONE_GRAPH,
            mutate("jax-scan-gpu", None, set_env("compiles", {"warm_up": 1, "steady": 1})),
        ),
        (HOOKS_MARKED, mutate("torch-eager-gpu", "ballast", set_env("check_hooks", {}))),
        (HOOKS_MARKED, mutate(RO, "sync", set_env("check_hooks", None), 3)),
        # A record meant for the warehouse, or a round's side without, made with a hook.
        (HOOKS_MARKED, mutate("torch-eager-gpu", None, set_env("check_hooks", {"x": 1}))),
        (HOOKS_MARKED, mutate(RO, None, set_env("check_hooks", {"extra_sync": True}), 2)),
        (ALL_OK, mutate("torch-compile-max-autotune-gpu", None, set_attr("status", "failed"))),
        (ALL_OK, fail_rounds(None, 2)),
    ],
    ids=lambda v: v[:40] if isinstance(v, str) else "",
)
def test_each_gpu_claim_catches_its_failure(claim: str, change: Callable[..., None]) -> None:
    results = gpu_results()
    change(results)
    assert outcomes(results)[claim] == "fail"


def test_the_sync_claim_says_whether_the_times_disagree_or_too_few_rounds_agree() -> None:
    disagree, noisy, cut = gpu_results(), gpu_results(), gpu_results()
    sync_steady(0.2, 0.21, 0.19)(disagree)
    sync_steady(0.05, 0.07, 0.04)(noisy)
    for n in (2, 3):
        cut[Step(Case("torch", "compile-reduce-overhead", "gpu"), "sync", n)] = None
    assert details(disagree)[SYNC].endswith(": the times disagree")
    assert (
        "median 1.000" in details(noisy)[SYNC]
        and ": not shown, the interval reaches past " in (details(noisy)[SYNC])
    )
    assert details(cut)[SYNC] == (
        "1 of 3 rounds have an ok record on both sides; an interval needs 2 or more"
    )
    rounds = sync_rounds(noisy)
    assert [(r.round, r.first) for r in rounds] == [(1, "without"), (2, "with"), (3, "without")]
    assert [round(r.ratio or 0, 2) for r in rounds] == [1.0, 1.4, 0.8]


def test_a_step_cut_off_by_the_budget_fails_the_check() -> None:
    results = gpu_results()
    last = plan(dry_run=False)[-1]
    assert last.case.mode == "compile-max-autotune"
    results[last] = None
    failed = [a for a in assess(results, dry_run=False) if a.outcome == "fail"]
    assert [a.claim for a in failed] == [ALL_OK, CUDA_GRAPHS]
    assert "not run (time budget spent)" in failed[0].detail
    assert failed[1].detail == "1 of 2 CUDA-graph modes ran ok"


def test_dry_run_skips_exactly_the_gpu_only_claims_and_says_why() -> None:
    assertions = assess(gpu_results(dry_run=True), dry_run=True)
    skipped = {a.claim: a.detail for a in assertions if a.outcome == "skip"}
    assert set(skipped) == set(GPU_ONLY)
    assert all(detail.startswith("dry run on cpu: ") for detail in skipped.values())
    assert {a.outcome for a in assertions if a.claim not in skipped} == {"pass"}


def test_summary_shows_the_gpu_figures_the_sync_rounds_and_the_verdict() -> None:
    results = gpu_results()
    progress = Progress("gpu-check-test", False, list(results), results, {}, {}, 0.0)
    text = summary(progress, assess(results, dry_run=False))
    assert text.startswith("# GPU check gpu-check-test: PASS\n")
    row = next(line for line in text.splitlines() if line.startswith("| torch-eager-gpu |"))
    assert "| 3.0 |" in row and "| 0.4200 | 0.4400 |" in row
    jax = next(line for line in text.splitlines() if line.startswith("| jax-scan-gpu |"))
    assert "| 1 trace(s), 0 late compile(s) |" in jax
    assert "| torch-eager-gpu + ballast probe | ok |" in text and "| 103.0 |" in text
    assert "- **PASS** a 100 MiB tensor raises peak_device_bytes by 100 MiB: " in text
    assert "| 2 | with | 0.0500 | 0.0500 | 1.000 |" in text  # round 2: the probe went first
    assert "Median ratio 1.000 over 3 round(s), 95% interval " in text
    assert "tensorflow: no TensorFlow on the GPU machine" in text
    # The probe records and the rounds' repeats, in full, never in the bundle.
    kept_out = text.split("## Probe and repeat records (not for the warehouse)")[1]
    assert kept_out.count('"run_id"') == 1 + 2 * SYNC_ROUNDS
    assert kept_out.count('"check_hooks"') == 1 + SYNC_ROUNDS
    unfinished = summary(progress, None)
    assert "IN PROGRESS" in unfinished.splitlines()[0]


def test_the_records_come_back_in_one_bundle_of_the_stored_cases() -> None:
    results = gpu_results()
    results[plan(dry_run=False)[-1]] = None  # cut off: not in the bundle
    progress = Progress("gpu-check-test", False, list(results), results, {}, {}, 0.0)
    lines = records_bundle(progress).splitlines()
    stored = [s for s, r in results.items() if s.stored and r is not None]
    assert len(lines) == len(stored) == len(FRAMEWORK_MODES["torch"]) + 2
    records = [Record.from_dict(json.loads(line)) for line in lines]
    assert [r.case for r in records] == [s.case for s in stored]
    assert not any("check_hooks" in r.environment for r in records)


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
    assert RUN_TIMEOUT_S == 570
    assert call == {
        "command": "bash scripts/gpu_check.sh",
        "carry": [".gpu_check"],
        "timeout_s": RUN_TIMEOUT_S,
    }
    assert (
        run_call(REPO / "elsewhere", REPO)["command"] == "bash scripts/gpu_check.sh --dir elsewhere"
    )
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert "/.gpu_check/" in ignored  # it travels only when carried


def test_the_check_imports_only_what_the_gpu_machine_has() -> None:
    """No SQLAlchemy, Airflow or Great Expectations before a case starts (the GPU machine has
    none of them); scikit-learn, torch and JAX load inside each case's process."""
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
    results = gpu_results()
    progress = Progress("gpu-check-test", False, list(results), results, {}, {}, 0.0)
    folder = tmp_path / "out"  # what the check writes
    folder.mkdir()
    (folder / RECORDS).write_text(records_bundle(progress))
    (folder / "summary.md").write_text(summary(progress, None))
    html = ingest_and_report(folder, "gpu-check-test", tmp_path, monkeypatch)
    for fw in ("torch", "jax"):
        for mode in FRAMEWORK_MODES[fw]:
            assert f'data-case="{fw}-{mode}-gpu"' in html
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
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [RECORDS, "summary.md"]
    (line,) = (tmp_path / "out" / RECORDS).read_text().splitlines()
    assert Record.from_dict(json.loads(line)).status == "skipped"
    steps = len(plan(dry_run=False))
    assert capsys.readouterr().out.count(f"[1/{steps}] torch-eager-gpu: skipped") == 1
