"""A run's note (the DAG's Param `note`, `bench run --note`) heads its report and dashboard page."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.testclient import TestClient

from bench.config import Case
from bench.records import EpochMetric, EvalMetric, Record
from bench.reports import write_report
from bench.reports.dashboard import create_app
from bench.warehouse import ensure_run, store_record

NOTE = "<b>why</b>: the allocator change"
SHOWN = 'id="run-note">&lt;b&gt;why&lt;/b&gt;: the allocator change</td>'  # escaped


def allow(request: Request) -> None:
    return None


def test_the_note_heads_the_report_and_the_dashboard_run_page(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    ensure_run("noted", trigger="manual", note=NOTE, url=url)
    record = Record(
        run_id="noted",
        case=Case("torch", "eager", "cpu"),
        epochs=[EpochMetric(1, 0.9, 0.8), EpochMetric(2, 0.5, 0.6)],
        eval=[EvalMetric(2, 0.45, 0.52)],
    )
    record.finalize_timing()
    store_record(record, url=url)

    html = write_report("noted", tmp_path / "out", url=url).read_text()
    assert SHOWN in html
    app = create_app(authorize=allow, url=url, reports=tmp_path / "reports")
    with TestClient(app) as client:
        assert SHOWN in client.get("/", params={"run": "noted"}).text


def test_a_run_without_a_note_has_no_note_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    store_record(
        Record(run_id="plain", case=Case("torch", "eager", "gpu"), status="skipped"), url=url
    )
    assert 'id="run-note"' not in write_report("plain", tmp_path / "out", url=url).read_text()
