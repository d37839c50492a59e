"""How sure the times are, as the report and the dashboard's run page show it: intervals, CV,
repeats, the reference, noisy cases, the speedup claims and the measurement conditions.

Pages are rendered from a run built in code (every new field set explicitly), so each number
is known; test_report.py checks the same tables on the sample warehouse.
"""

from __future__ import annotations

import html as html_text
import re
from collections import defaultdict
from collections.abc import Callable

import pytest

from bench.conditions import OTHERS_LIMIT, STEAL_LIMIT, noisy_reason
from bench.config import Case
from bench.records import Record, RunInfo
from bench.reports import formatting as fmt
from bench.reports import render as render_module
from bench.reports.narrative import Finding
from bench.reports.render import render, run_context
from bench.reports.snapshot import RunSnapshot
from tests.builders import T0, make_record, measured_conditions
from tests.reports.html_tables import table

RUN = "run-uncertainty"
EAGER = Case("torch", "eager", "cpu")
SAME = Case("torch", "compile", "cpu")  # 1.02x, interval 0.98x-1.06x: holds 1
FASTER = Case("torch", "compile-max-autotune", "cpu")  # 1.25x, interval 1.20x-1.31x
NOISY = Case("tensorflow", "eager", "cpu")  # others took 23% of its core
SHORT = Case("tensorflow", "function", "cpu")  # 2 epochs: 1 steady epoch, no interval
NOISY_REASON = "other processes used 23% of core(s) 1 (4.60 s)"


def measured(
    case: Case,
    steady: float,
    interval: tuple[float, float] | None,
    *,
    cv: float | None = 0.012,
    repeats: int = 1,
    others_share: float = 0.01,
    epochs: int = 30,
) -> Record:
    record = make_record(RUN, case, epochs=epochs, steady=steady, started_at=T0)
    record.steady_epoch_seconds = steady
    record.steady_ci_low, record.steady_ci_high = interval or (None, None)
    record.steady_cv = cv
    record.repeats = repeats
    record.reference_seconds = 0.04
    record.environment["cores"] = [1]
    record.conditions = measured_conditions([1], others_share=others_share)
    record.noisy = noisy_reason(record.conditions)
    return record


@pytest.fixture(scope="module")
def run() -> RunSnapshot:
    eager = measured(EAGER, 0.50, (0.49, 0.51), repeats=5)
    eager.conditions.update(repeats_used=[1, 2, 3, 5], repeats_noisy=[4])
    records = [
        eager,
        measured(SAME, 0.49, (0.48, 0.50)),
        measured(FASTER, 0.40, (0.39, 0.41)),
        measured(NOISY, 10.5, (10.3, 10.7), others_share=0.23),
        measured(SHORT, 0.63, None, cv=None, epochs=2),
    ]
    return RunSnapshot(RunInfo(RUN, "manual", T0), records)


def report_page(snapshot: RunSnapshot) -> str:
    """The static report's page, without figure files (their sources are left empty)."""
    return render(
        "report.html",
        **run_context(snapshot),
        histories=[],
        figures=defaultdict(str),
        history=1,
        generated="now",
        warehouse="sqlite:///test.db",
    )


def dashboard_page(snapshot: RunSnapshot) -> str:
    return render("dash_run.html", **run_context(snapshot), runs=[snapshot.run], latest=True)


Page = Callable[[RunSnapshot], str]
PAGES: list[Page] = [report_page, dashboard_page]


def findings_shown(page: str) -> list[tuple[str, str]]:
    """(topic, text) of every finding in the page's findings list (the first; the ladder's
    lists come later), as a reader sees it."""
    first = re.search(r'<ul class="findings">(.*?)</ul>', page, re.S)
    assert first is not None
    items = re.findall(r'<li data-topic="([^"]+)"[^>]*>(.*?)</li>', first.group(1), re.S)
    return [(topic, " ".join(html_text.unescape(text).split())) for topic, text in items]


@pytest.mark.parametrize("page", PAGES)
def test_results_show_interval_cv_repeats_reference_and_noise(page: Page, run: RunSnapshot) -> None:
    html = page(run)
    rows = {row["case"]: row for row in table(html, "results")}
    eager = rows[EAGER.name]
    assert eager["steady epoch (s)"] == "0.5000"
    assert eager["95% interval (s)"] == "0.4900-0.5100" == fmt.interval(0.49, 0.51)
    assert eager["CV"] == "1.2%"
    assert eager["repeats"] == "5"
    assert eager["vs ref"] == fmt.ratio(0.50 / 0.04) == "12x"
    assert eager["noisy"] == ""
    assert rows[SHORT.name]["95% interval (s)"] == "-" and rows[SHORT.name]["CV"] == "-"
    # The noisy case is kept, marked and explained, not hidden.
    assert rows[NOISY.name]["steady epoch (s)"] == "10.5000"
    assert rows[NOISY.name]["noisy"] == f"noisy: {NOISY_REASON}"
    assert f'<tr data-case="{NOISY.name}" class="noisy" data-noisy="true">' in html


@pytest.mark.parametrize("page", PAGES)
def test_speedups_show_their_interval_and_claim(page: Page, run: RunSnapshot) -> None:
    rows = {row["case"]: row for row in table(page(run), "speedups")}
    assert rows[SAME.name]["speedup"] == "1.02x"
    assert rows[SAME.name]["95% interval"] == "0.98x-1.06x"
    assert rows[SAME.name]["claim"] == "no measurable difference"
    assert rows[FASTER.name]["speedup"] == "1.25x"
    assert rows[FASTER.name]["95% interval"] == "1.20x-1.31x"
    assert rows[FASTER.name]["claim"] == "faster than its baseline"
    assert rows[SHORT.name]["95% interval"] == "-"
    assert rows[SHORT.name]["claim"] == "too few samples"


@pytest.mark.parametrize("page", PAGES)
def test_findings_claim_only_what_the_intervals_show(page: Page, run: RunSnapshot) -> None:
    shown = findings_shown(page(run))
    speed = [text for topic, text in shown if topic == "speed"]
    assert (
        "No measurable difference between torch.compile and PyTorch eager on cpu (0.4900 s vs "
        "0.5000 s per steady epoch; the factor's 95% interval 0.98x-1.06x includes 1)." in speed
    )
    assert (
        "torch.compile max-autotune trains 1.25x faster than PyTorch eager on cpu (steady epoch "
        "0.4000 s vs 0.5000 s; 95% interval 1.20x-1.31x)." in speed
    )
    assert any(text.endswith("too few samples to say which is faster.") for text in speed)
    caveats = [text for topic, text in shown if topic == "caveat"]
    (caveat,) = [text for text in caveats if "steady epoch(s) in a single process" in text]
    assert caveat.startswith("1 case(s) measured 1 steady epoch(s) in a single process")


@pytest.mark.parametrize("page", PAGES)
def test_measurement_conditions_per_case_and_how_to_read_them(page: Page, run: RunSnapshot) -> None:
    html = page(run)
    rows = {row["case"]: row for row in table(html, "conditions")}
    assert set(rows) == {r.case.name for r in run.records}
    eager = rows[EAGER.name]
    assert eager["cores"] == "1"
    assert eager["load before (1/5/15 min)"] == "0.12 0.30 0.25"
    assert eager["load after"] == "1.02 0.55 0.33"
    assert eager["others' CPU share"] == "1.0%"
    assert eager["steal"] == "0.0%"
    assert eager["governor"] == "performance"
    assert eager["reference (s)"] == "0.0400"
    assert eager["repeats used"] == "1,2,3,5 of 5"
    assert eager["noisy"] == "no"
    assert rows[NOISY.name]["others' CPU share"] == "23.0%"
    assert rows[NOISY.name]["noisy"] == f"noisy: {NOISY_REASON}"
    note = " ".join(html_text.unescape(html).split())
    assert "order-statistic interval of the median of epochs 2..N" in note
    assert "t interval on the logarithms of the repeats' medians (Kalibera & Jones, 2013)" in note
    assert "conservative: a difference is stated only when it excludes 1" in note
    assert f"other processes used at least {fmt.share(OTHERS_LIMIT)} of its cores" in note
    assert f"the hypervisor stole at least {fmt.share(STEAL_LIMIT)} of them" in note


def test_the_report_links_the_conditions_section(run: RunSnapshot) -> None:
    html = report_page(run)
    assert '<section id="conditions"><h2>Measurement conditions</h2>' in html
    assert '<a href="#conditions">Measurement conditions</a>' in html


def test_a_skipped_case_has_no_conditions_row(run: RunSnapshot) -> None:
    skipped = make_record(RUN, ("torch", "eager", "gpu"), status="skipped", epochs=0, steady=None)
    snapshot = RunSnapshot(run.run, [*run.records, skipped])
    rows = {row["case"]: row for row in table(report_page(snapshot), "conditions")}
    assert skipped.case.name not in rows and EAGER.name in rows


@pytest.mark.parametrize("page", PAGES)
def test_every_finding_is_shown_whatever_its_topic(
    page: Page, run: RunSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = [Finding("caveat", "Few samples."), Finding("a-new-topic", "Something new.")]
    monkeypatch.setattr(render_module, "findings", lambda snapshot: found)
    assert findings_shown(page(run)) == [
        ("caveat", "Few samples."),
        ("a-new-topic", "Something new."),
    ]
