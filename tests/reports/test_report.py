"""`write_report` on the sample warehouse: every section, real figures, the warehouse's numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.config import Case
from bench.records import EpochMetric, EvalMetric, Record
from bench.reports import formatting as fmt
from bench.reports import write_report
from bench.warehouse import NotFound, get_engine, results_for_run, series_history, store_record
from bench.warehouse.models import EPOCHS, RESULTS
from tests.reports.html_tables import pairs, table, tables, tables_by_case
from tests.reports.sample_warehouse import (
    ACKED,
    NOISY,
    REGRESSED,
    RUNS,
    SKIP_REASON,
    SKIPPED,
    Sample,
    sample_record,
)

SECTIONS = (
    "findings", "recommendations", "workload", "speed", "budgets", "ladder", "devices",
    "conditions", "accuracy", "cases", "history", "environment", "validation",
)  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    index = write_report(None, tmp_path_factory.mktemp("report"), url=sample.url, history=4)
    return index, index.read_text()


def test_every_section_is_present(report: tuple[Path, str], sample: Sample) -> None:
    index, html = report
    assert index.name == "index.html"
    for section in SECTIONS:
        assert f'<section id="{section}">' in html, section
    assert f"Benchmark report: run {sample.latest}" in html


def test_figures_are_non_empty_pngs_referenced_relatively(report: tuple[Path, str]) -> None:
    index, html = report
    sources = re.findall(r'<img id="[^"]+" src="([^"]+)"', html)
    ok_cases = 6
    # timing, speedup, memory; the cpu ladder; curves of torch-cpu and tensorflow-cpu; history
    # of each case measured at least once (not the skipped gpu case)
    assert len(sources) == 3 + 1 + 2 + ok_cases
    for source in sources:
        assert not source.startswith(("/", "http")), source
        png = (index.parent / source).read_bytes()
        assert png.startswith(PNG) and len(png) > 5_000, source


def test_results_table_shows_the_warehouse_values(report: tuple[Path, str], sample: Sample) -> None:
    rows = {row["case"]: row for row in table(report[1], "results")}
    stored = results_for_run(sample.latest, sample.url)
    assert set(rows) == {f"{r['framework']}-{r['mode']}-{r['device']}" for r in stored}
    for r in stored:
        row = rows[f"{r['framework']}-{r['mode']}-{r['device']}"]
        assert row["status"] == r["status"]
        assert row["steady epoch (s)"] == fmt.seconds(r["steady_epoch_seconds"])
        assert row["compile (s)"] == fmt.seconds(r["compile_seconds"])
        assert row["peak RSS (MiB)"] == fmt.mib(r["peak_rss_bytes"])
        assert row["total training (s)"] == fmt.seconds(r["total_seconds"])
    eager = next(r for r in stored if r["framework"] == "tensorflow" and r["mode"] == "eager")
    function = next(r for r in stored if r["framework"] == "tensorflow" and r["mode"] == "function")
    factor = eager["steady_epoch_seconds"] / function["steady_epoch_seconds"]
    assert rows["tensorflow-function-cpu"]["speedup vs baseline"] == fmt.ratio(factor)
    assert rows["torch-eager-gpu"]["reason"] == SKIP_REASON


def test_results_and_conditions_say_how_sure_each_time_is(
    report: tuple[Path, str], sample: Sample
) -> None:
    """Interval, CV, repeats, vs ref and noise as stored; the noisy case kept and marked."""
    html = report[1]
    results = {row["case"]: row for row in table(html, "results")}
    conditions = {row["case"]: row for row in table(html, "conditions")}
    assert set(conditions) == {c.name for c in sample.cases} - {SKIPPED.name}
    for case in conditions:
        stored = sample_record(len(RUNS) - 1, next(c for c in sample.cases if c.name == case))
        row = results[case]
        assert row["95% interval (s)"] == fmt.interval(stored.steady_ci_low, stored.steady_ci_high)
        assert row["95% interval (s)"] != "-"
        assert row["CV"] == fmt.cv(stored.steady_cv) != "-"
        assert row["repeats"] == "1"
        assert stored.steady_epoch_seconds and stored.reference_seconds
        assert row["vs ref"] == fmt.ratio(stored.steady_epoch_seconds / stored.reference_seconds)
        assert conditions[case]["cores"] == "1"
        assert conditions[case]["reference (s)"] == fmt.seconds(stored.reference_seconds)
        assert conditions[case]["others' CPU share"] == ("23.0%" if case == NOISY.name else "1.0%")
    reason = sample_record(len(RUNS) - 1, NOISY).noisy
    assert reason and reason.startswith("other processes used 23% of core(s) 1")
    assert results[NOISY.name]["noisy"] == conditions[NOISY.name]["noisy"] == f"noisy: {reason}"
    assert results[REGRESSED.name]["noisy"] == "" and conditions[REGRESSED.name]["noisy"] == "no"
    speedups = {row["case"]: row for row in table(html, "speedups")}
    assert speedups["tensorflow-function-cpu"]["claim"] == "faster than its baseline"
    assert speedups["torch-compile-max-autotune-cpu"]["claim"] == "slower than its baseline"


def test_test_error_table_has_every_budget_of_every_case(
    report: tuple[Path, str], sample: Sample
) -> None:
    rows = {row["case"]: row for row in table(report[1], "accuracy")}
    for r in results_for_run(sample.latest, sample.url):
        row = rows[f"{r['framework']}-{r['mode']}-{r['device']}"]
        for budget in (10, 20, 30):
            assert row[f"test MSE @{budget}"] == fmt.metric(r[f"test_mse_{budget}"])
            assert row[f"test MAE @{budget}"] == fmt.metric(r[f"test_mae_{budget}"])


def test_per_epoch_tables_match_the_stored_epochs(report: tuple[Path, str], sample: Sample) -> None:
    query = (
        sa.select(EPOCHS.c.epoch, EPOCHS.c.seconds, EPOCHS.c.train_mae)
        .join(RESULTS, RESULTS.c.id == EPOCHS.c.result_id)
        .where(RESULTS.c.run_id == sample.latest, RESULTS.c.mode == "compile")
        .order_by(EPOCHS.c.epoch)
    )
    with get_engine(sample.url).connect() as conn:
        stored = conn.execute(query).all()
    rows = tables_by_case(report[1], "epochs")["torch-compile-cpu"]
    assert len(rows) == len(stored) == 30
    for row, (epoch, seconds, mae) in zip(rows, stored, strict=True):
        assert row == {
            "epoch": str(epoch),
            "seconds": fmt.seconds(seconds),
            "train MAE (100,000 USD)": fmt.metric(mae),
        }


def test_findings_state_the_headline_facts(report: tuple[Path, str]) -> None:
    html = report[1]
    assert re.search(r"tf\.function trains \d+x faster than TensorFlow eager on cpu", html)
    assert "torch.compile max-autotune is slower than PyTorch eager on cpu for this model" in html
    assert "1 case(s) skipped: torch-eager-gpu (no CUDA device on this worker)." in html


def test_the_ladder_shows_each_device_with_two_rungs_and_what_each_rung_buys(
    report: tuple[Path, str],
) -> None:
    """The sample has eager and step graphs on cpu (the gpu case was skipped): one ladder."""
    index, html = report
    ladder = _section(html, "ladder")
    assert re.findall(r'<img id="(fig-ladder-[^"]+)" src="([^"]+)"', ladder) == [
        ("fig-ladder-cpu", "figures/ladder-cpu.png")
    ]
    assert (index.parent / "figures" / "ladder-cpu.png").read_bytes().startswith(PNG)
    found = [" ".join(t.split()) for t in re.findall(r'data-topic="ladder"[^>]*>([^<]+)<', ladder)]
    assert len(found) == 2  # torch and TensorFlow: eager to step graph
    assert found[0].startswith(
        "PyTorch on cpu, eager (PyTorch eager) to step graph (torch.compile, fastest of 2): slower"
    )
    # XLA's 3.9 s of compile is repaid by its first epoch: it saves 10 s a steady epoch
    assert re.match(
        r"TensorFlow on cpu, eager \(TensorFlow eager\) to step graph \(tf\.function with XLA, "
        r"fastest of 2\): \d+x faster per steady epoch .*: ahead from the first epoch\.$",
        found[1],
    )
    assert "these records carry none (older records do not)" in " ".join(ladder.split())
    assert "No framework has two rungs measured" not in ladder


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def test_history_marks_flags_and_acknowledgements(report: tuple[Path, str], sample: Sample) -> None:
    html = report[1]
    by_case = tables_by_case(html, "history")
    assert set(by_case) == {c.name for c in sample.cases} - {SKIPPED.name}
    assert f"Nothing measured in the last 4 runs of: {SKIPPED.name} (skipped)" in " ".join(
        html.split()
    )
    regressed = by_case[REGRESSED.name]
    assert [row["run"] for row in regressed] == RUNS[:0:-1]  # history=4: newest four, newest first
    stored = series_history(*REGRESSED.as_dict().values(), last=4, url=sample.url)
    assert regressed[0]["steady epoch (s)"] == fmt.seconds(stored[-1]["value"])
    assert regressed[0]["flags"] == "regression steady epoch (s)"
    acked = {row["run"]: row for row in by_case[ACKED.name]}
    assert acked[RUNS[2]]["flags"] == "regression peak RSS (MiB) (acknowledged)"
    assert "TensorFlow 2.21 raised memory; new level accepted" in html
    (run_flags,) = tables(html, "flags")
    assert [(f["case"], f["label"], f["acknowledged"]) for f in run_flags] == [
        (REGRESSED.name, "regression", "no")
    ]


def test_the_verdict_is_red_with_the_blocking_flags_as_reasons(report: tuple[Path, str]) -> None:
    html = report[1]
    assert '<p id="verdict"' in html and 'data-red="true"' in html
    assert f"run {RUNS[-1]} is red: 1 blocking flag(s)" in html
    assert f"regression {REGRESSED.name} steady_epoch_seconds" in html


def test_environment_and_validation_summaries(report: tuple[Path, str]) -> None:
    environment = pairs(report[1], "environment")
    assert environment["python"] == "3.11.7"
    assert environment["cpu_model"] == "Intel(R) Xeon(R) Test CPU @ 2.10GHz"
    assert environment["frameworks"] == "tensorflow 2.21.0, torch 2.13.0"
    assert "15 expectations evaluated, 0 unsuccessful" in " ".join(report[1].split())


def test_text_from_the_warehouse_is_escaped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    store_record(
        Record(run_id="xss", case=Case("torch", "eager", "gpu"), status="skipped",
               reason="<img src=x onerror=alert(2)>",
               environment={"hostname": "<script>alert(1)</script>"}),
        url=url,
    )  # fmt: skip
    html = write_report(None, tmp_path / "out", url=url).read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_runs_and_empty_warehouses_are_not_found(tmp_path: Path, sample: Sample) -> None:
    with pytest.raises(NotFound, match="no run 'nope' in the warehouse"):
        write_report("nope", tmp_path, url=sample.url)
    with pytest.raises(NotFound, match="no results yet"):
        write_report(None, tmp_path, url=f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(ValueError, match="at least 1"):
        write_report(None, tmp_path, url=sample.url, history=0)


def test_a_short_run_with_a_failed_case_still_reports(tmp_path: Path) -> None:
    """`make run` trains 2 epochs: no 10/20/30 budgets, evaluation after epoch 2 only."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    for case, status in [
        (("torch", "eager", "cpu"), "ok"),
        (("torch", "compile", "cpu"), "failed"),
    ]:
        record = Record(
            run_id="cli-short",
            case=Case(*case),
            status=status,
            reason=None if status == "ok" else "loss became NaN at epoch 2",
            epochs=[EpochMetric(1, 0.9, 0.8), EpochMetric(2, 0.5, 0.6)],
            eval=[EvalMetric(2, 0.45, 0.52)] if status == "ok" else [],
        )
        record.finalize_timing()
        store_record(record, url=url)
    html = write_report("cli-short", tmp_path / "out", url=url).read_text()
    rows = {row["case"]: row for row in table(html, "accuracy")}
    assert "test MAE @10" not in rows["torch-eager-cpu"]  # no column of budgets nobody reached
    assert rows["torch-eager-cpu"]["last evaluation"] == "epoch 2: MSE 0.4500, MAE 0.5200"
    assert "1 case(s) failed: torch-compile-cpu (loss became NaN at epoch 2)." in html
    failed = next(row for row in table(html, "results") if row["status"] == "failed")
    assert failed["reason"] == "loss became NaN at epoch 2"
    # never judged by detection, yet red: the failed record is a blocking reason
    assert 'data-red="true"' in html and "failed torch-compile-cpu status" in html
    # one rung measured (the compiled case failed): no ladder drawn, and the page says why
    assert "fig-ladder" not in html
    assert not (tmp_path / "out" / "figures" / "ladder-cpu.png").exists()
    assert "No framework has two rungs measured in this run." in html


def test_a_report_folder_never_climbs_out_of_the_reports_folder() -> None:
    from bench.reports import report_dir

    assert report_dir("manual__2026-12-01T05:21:33+00:00").parent.name == "reports"
    with pytest.raises(ValueError, match=r"run id '\.\.' is not usable"):
        report_dir("..")
