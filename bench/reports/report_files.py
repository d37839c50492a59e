"""The folder of written reports as the dashboard serves it: list them, find one file safely.

Every run's report lives in `report_dir(run_id)` under one root ($BENCH_HOME/reports). A file
is served only when it resolves, symlinks followed, to a regular file inside its run's folder
inside that root, with a suffix the report uses; anything else reads as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.config import state_dir
from bench.reports.report import report_dir

__all__ = ["CONTENT_TYPES", "Report", "folder_of", "list_reports", "report_file", "reports_root"]

INDEX = "index.html"
# What a report folder holds (index.html, figures/*.png), and the type each is served as.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Report:
    """One written report: its folder under the root, and when its index.html was written."""

    folder: str
    written: datetime


def reports_root() -> Path:
    """Where `report_dir` puts every run's report folder: $BENCH_HOME/reports."""
    return state_dir() / "reports"


def folder_of(run_id: str) -> str:
    """The name of the run's report folder; ValueError for a string that is not a run id."""
    return report_dir(run_id).name


def report_file(root: Path, run_id: str, path: str = INDEX) -> Path | None:
    """The real path of file `path` (`figures/x.png`) of the run's report; None unless it
    resolves to a regular file with a known suffix inside the run's folder inside `root`."""
    try:
        folder = folder_of(run_id)
    except ValueError:
        return None
    parts = (path or INDEX).split("/")
    if any(part in ("", ".", "..") or "\\" in part or "\0" in part for part in parts):
        return None  # absolute (a leading ""), empty, climbing or Windows-style parts
    try:
        base = root.resolve(strict=True)
        run_folder = (base / folder).resolve(strict=True)
        target = run_folder.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, a symlink loop
        return None
    inside = run_folder.parent == base and target.is_relative_to(run_folder)
    known = target.suffix.lower() in CONTENT_TYPES
    return target if inside and known and target.is_file() else None


def list_reports(root: Path) -> list[Report]:
    """Every report under `root` that `report_file` would serve, newest first."""
    try:
        children = sorted(child.name for child in root.iterdir())
    except OSError:  # no reports yet, or the folder is unreadable
        return []
    found = []
    for name in children:
        index = report_file(root, name)
        if index is None or folder_of(name) != name:
            continue
        try:
            written = datetime.fromtimestamp(index.stat().st_mtime, UTC)
        except OSError:  # removed meanwhile
            continue
        found.append(Report(folder=name, written=written))
    return sorted(found, key=lambda r: (r.written, r.folder), reverse=True)
