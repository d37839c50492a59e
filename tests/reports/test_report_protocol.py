"""The report of a `make run` and of a 30-epoch nightly, read as the published protocol's report
is read: the workload, per-epoch tables, time to each budget, GPU against CPU, recommendations,
what peak RSS measures; and no `-` where a value exists."""

from __future__ import annotations

import re
from pathlib import Path

from bench.config import EVAL_BUDGETS, WORKLOAD, Case
from bench.data.loading import FEATURES, N_ROWS, TARGET
from bench.records import EvalMetric
from bench.reports import data, write_report
from bench.reports import formatting as fmt
from bench.reports.budgets import time_to_epoch
from bench.reports.workload import split_sizes
from bench.warehouse import store_record
from tests.builders import make_record
from tests.reports.html_tables import pairs, table, tables, tables_by_case
from tests.reports.matrix_warehouse import GPU_SKIP, Written


def section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_run_with_one_finished_case_of_10_epochs_says_what_it_measured(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    store_record(make_record("one", Case("torch", "eager", "cpu"), epochs=10, steady=0.3), url=url)
    skipped = make_record("one", Case("torch", "eager", "gpu"), status="skipped", epochs=0,
                          steady=None, reason=GPU_SKIP)  # fmt: skip
    store_record(skipped, url=url)
    html = write_report("one", tmp_path / "out", url=url).read_text()
    found = words(section(html, "findings"))
    assert "no case finished" not in found.lower() and "Nothing to report" not in found
    assert (
        "One case finished, PyTorch eager on cpu, after 10 epoch(s): 0.3000 s per steady epoch, "
        "0.6000 s of compile and warm-up, peak RSS 512.0 MiB, test MAE 0.4500 after 10 epoch(s)."
    ) in found
    assert f"1 case(s) skipped: torch-eager-gpu ({GPU_SKIP})." in found


def test_the_workload_section_takes_its_values_from_the_code_and_records(
    nightly_report: Written,
) -> None:
    rows = pairs(nightly_report.html, "workload")
    train, test = split_sizes()
    assert train + test == N_ROWS and test == round(N_ROWS * WORKLOAD.test_fraction)
    assert f"{N_ROWS:,} rows, {len(FEATURES)} features" in rows["data"]
    assert TARGET in rows["data"] and fmt.MAE_UNIT in rows["data"]
    assert rows["split"].startswith(f"{train:,} training and {test:,} test rows")
    assert "seed 42" in rows["split"]  # the records' environment
    assert "training rows' statistics" in rows["standardization"]
    assert f"one hidden layer of {WORKLOAD.hidden} ReLU units" in rows["model"]
    assert f"learning rate {WORKLOAD.learning_rate:g}" in rows["optimizer"]
    assert "mean absolute error" in rows["loss"]
    assert rows["batch size"].startswith(f"{WORKLOAD.batch_size} ({-(-train // 64)} steps")
    assert ", ".join(map(str, EVAL_BUDGETS)) in rows["budgets"]
    assert rows["epochs"] == "30 per case"
    assert rows["threads"].startswith("1 per case") and "core(s) 1" in rows["threads"]


def test_per_epoch_tables_are_on_the_page_not_collapsed(
    make_run_report: Written, nightly_report: Written
) -> None:
    for written in (make_run_report, nightly_report):
        cases = section(written.html, "cases")
        assert "<details" not in cases
        epochs = tables_by_case(cases, "epochs")
        finished = {c.name for c in written.matrix.cases if c.device == "cpu"}
        if written.matrix.epochs == 30:
            finished |= {c.name for c in written.matrix.cases}
        assert set(epochs) == finished
        assert all(len(rows) == written.matrix.epochs for rows in epochs.values())


def test_time_to_each_budget_is_measured_then_projected(
    make_run_report: Written, nightly_report: Written
) -> None:
    snapshot = data.run_snapshot(None, url=nightly_report.matrix.url)
    rows = {row["case"]: row for row in table(nightly_report.html, "budgets")}
    assert len(rows) == 28
    for record in snapshot.records:
        row = rows[record.case.name]
        for budget in EVAL_BUDGETS:
            total = sum(e.seconds for e in record.epochs[:budget])
            assert row[f"time to {budget} epochs (s)"] == fmt.seconds(total)
        assert row["peak RSS (MiB)"] == fmt.mib(record.peak_rss_bytes)
        device = row["peak device (MiB)"]
        assert device == (fmt.mib(record.peak_device_bytes) if record.case.device == "gpu"
                          else "n/a (cpu)")  # fmt: skip
    short = data.run_snapshot(None, url=make_run_report.matrix.url)
    rows = {row["case"]: row for row in table(make_run_report.html, "budgets")}
    assert "peak device (MiB)" not in next(iter(rows.values()))  # no GPU case finished
    for record in short.ok_records:
        assert record.steady_epoch_seconds and record.compile_seconds is not None
        for budget in EVAL_BUDGETS:  # 2 epochs trained: each budget is projected
            expected = record.compile_seconds + budget * record.steady_epoch_seconds
            assert rows[record.case.name][f"time to {budget} epochs (s)"] == (
                f"≈{fmt.seconds(expected)}"
            )
    assert "projected as compile + N x steady epoch" in words(make_run_report.html)
    assert "projected as" not in words(section(nightly_report.html, "budgets"))


def test_gpu_against_cpu_for_every_mode_run_on_both(
    make_run_report: Written, nightly_report: Written
) -> None:
    snapshot = data.run_snapshot(None, url=nightly_report.matrix.url)
    by_case = {r.case: r for r in snapshot.records}
    rows = table(nightly_report.html, "devices")
    assert len(rows) == 14
    for row, (cpu, gpu) in zip(rows, _pairs(by_case), strict=True):
        assert row["framework and mode"] == fmt.case_label(cpu.case, device=False)
        assert cpu.steady_epoch_seconds and gpu.steady_epoch_seconds
        assert row["CPU steady (s)"] == fmt.seconds(cpu.steady_epoch_seconds)
        assert row["GPU steady (s)"] == fmt.seconds(gpu.steady_epoch_seconds)
        assert row["GPU speedup"] == fmt.ratio(cpu.steady_epoch_seconds / gpu.steady_epoch_seconds)
        assert row["GPU peak device (MiB)"] == fmt.mib(gpu.peak_device_bytes)
    claims = {row["framework and mode"]: row["claim"] for row in rows}
    assert claims["torch.compile"] == "GPU faster"
    assert claims["PyTorch DataLoader loop"] == "no measurable difference"
    found = words(section(nightly_report.html, "devices"))
    assert "Per steady epoch, of 14 mode(s) run on both devices: GPU faster for 13" in found
    assert words(section(make_run_report.html, "devices")).endswith(
        f"No mode finished on both CPU and GPU in this run (CPU: 14 ok; GPU: 14 skipped "
        f"({GPU_SKIP}))."
    )


def _pairs(by_case: dict[Case, object]) -> list[tuple[object, object]]:
    from bench.config import FRAMEWORK_MODES

    return [
        (by_case[Case(fw, mode, "cpu")], by_case[Case(fw, mode, "gpu")])
        for fw, modes in FRAMEWORK_MODES.items()
        for mode in modes
    ]


def test_recommendations_follow_from_the_numbers(nightly_report: Written) -> None:
    snapshot = data.run_snapshot(None, url=nightly_report.matrix.url)
    cpu = [r for r in snapshot.ok_records if r.case.device == "cpu"]
    advice = words(section(nightly_report.html, "recommendations"))
    for title, budget in (("Short training", 10), ("Long training", 30)):
        best = min(cpu, key=lambda r: time_to_epoch(r, budget).seconds)  # type: ignore[union-attr]
        seconds = time_to_epoch(best, budget)
        assert seconds is not None and seconds.measured
        assert (
            f"{title} ({budget} epochs) on cpu: use {fmt.case_label(best.case, device=False)}, "
            f"{fmt.seconds(seconds.seconds)} s for {budget} epochs"
        ) in advice
    assert "When compilation pays back on cpu" in advice
    assert "torch.compile never pays back" in advice  # slower than eager on CPU
    assert "tf.function ahead from the first epoch" in advice
    assert "Memory on cpu:" in advice and "Memory on gpu:" in advice
    lowest = min(cpu, key=lambda r: r.steady_epoch_seconds or 0.0)
    assert f"Longer still, {fmt.case_label(lowest.case)} has the lowest steady epoch" in advice


def test_the_report_says_what_peak_rss_measures(make_run_report: Written) -> None:
    note = words(section(make_run_report.html, "speed"))
    assert "What peak RSS measures." in note
    assert "VmHWM" in note and "tracemalloc" in note and "native code" in note


def test_checks_too_young_to_judge_are_counted_not_listed(nightly_report: Written) -> None:
    html = nightly_report.html
    history = section(html, "history")
    assert "insufficient</td>" not in history
    assert "28 check(s) of this run not judged: too little history" in words(history)
    rows = tables_by_case(history, "history")["torch-eager-cpu"]
    assert rows[0]["flags"] == "2 not judged (too little history)"


def test_history_draws_only_series_that_were_measured(make_run_report: Written) -> None:
    history = section(make_run_report.html, "history")
    drawn = re.findall(r'<img id="fig-history-([^"]+)"', history)
    assert sorted(drawn) == sorted(c.name for c in make_run_report.matrix.cases
                                   if c.device == "cpu")  # fmt: skip
    unmeasured = words(history).split("Nothing measured in the last 30 runs of: ")[1]
    assert unmeasured.startswith("jax-jit-gpu (skipped); jax-scan-gpu (skipped)")
    # no run reached a budget: the history table has no column of test MAE
    assert all("test MAE @30" not in row for row in tables(history, "history")[0])


def test_speedups_name_the_baseline_they_were_measured_against(make_run_report: Written) -> None:
    found = words(section(make_run_report.html, "findings"))
    assert re.search(r"JAX scan epoch trains [\d.]+x faster than JAX jit step on cpu", found)
    assert "JAX eager" not in found
    speedups = {row["case"]: row["claim"] for row in table(make_run_report.html, "speedups")}
    assert speedups["jax-scan-cpu"] == "faster than its baseline"


def test_no_dash_where_a_value_exists(make_run_report: Written, nightly_report: Written) -> None:
    """A `-` means the value does not exist: a skipped case, a baseline's own speedup, the GPU
    memory of a CPU case, a condition not measured. Never in the protocol tables."""
    for written in (make_run_report, nightly_report):
        html = written.html
        for name in ("workload", "budgets", "epochs", "devices"):
            for rows in tables(html, name):
                for row in rows:
                    assert fmt.DASH not in row.values(), (name, row)
        for row in table(html, "accuracy"):
            if row["status"] == "ok":
                assert fmt.DASH not in row.values(), row
        absent = {"speedup vs baseline", "peak device (MiB)", "reason", "noisy"}
        for row in table(html, "results"):
            if row["status"] == "ok":
                dashes = {key for key, value in row.items() if value == fmt.DASH}
                assert dashes <= absent, row
                if "gpu" in row["case"]:
                    assert row["peak device (MiB)"] != fmt.DASH
        environment = pairs(html, "environment")
        assert fmt.DASH not in environment.values()


def test_a_run_that_reached_no_budget_shows_its_last_evaluation_only(
    make_run_report: Written,
) -> None:
    rows = table(make_run_report.html, "accuracy")
    assert set(rows[0]) == {"case", "status", "last evaluation"}
    ok = next(row for row in rows if row["case"] == "torch-eager-cpu")
    assert ok["last evaluation"].startswith("epoch 2: MSE ")
    assert "<h2>Test error</h2>" in make_run_report.html


def test_a_short_run_evaluated_after_its_last_epoch_keeps_it(tmp_path: Path) -> None:
    """Budgets the run reached get columns; the last epoch is the last evaluation."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    for mode in ("eager", "compile"):
        store_record(
            make_record("r", Case("torch", mode, "cpu"), epochs=12,
                        eval_metrics=[EvalMetric(10, 0.3, 0.4), EvalMetric(12, 0.29, 0.39)]),
            url=url,
        )  # fmt: skip
    html = write_report("r", tmp_path / "out", url=url).read_text()
    row = table(html, "accuracy")[0]
    assert row["test MAE @10"] == "0.4000" and "test MAE @20" not in row
    assert row["last evaluation"] == "epoch 12: MSE 0.2900, MAE 0.3900"
