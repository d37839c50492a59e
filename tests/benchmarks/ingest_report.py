"""Load record files with `bench ingest` into a new SQLite warehouse and render `bench report`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import main
from bench.warehouse.engine import reset_engines
from bench.warehouse.migrate import forget_upgrades


def ingest_and_report(
    folder: Path, run_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The report's HTML for run_id after `bench ingest folder`; both commands must exit 0."""
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'warehouse.db'}")
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    try:
        assert main(["ingest", str(folder)]) == 0
        assert main(["report", "--run", run_id, "--out", str(tmp_path / "report")]) == 0
    finally:
        reset_engines()
        forget_upgrades()
    return (tmp_path / "report" / "index.html").read_text()
