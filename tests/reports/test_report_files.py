"""The reports folder as the dashboard reads it: every report listed, nothing outside served."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.reports import report_dir
from bench.reports import report_files as files
from tests.reports.report_folders import LEAK, LINKED, plant_escapes, small_report

RUN = "scheduled__2026-11-05T02:00:00+00:00"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "reports"
    small_report(root, RUN)
    plant_escapes(root, RUN)
    return root


def test_the_root_is_where_report_dir_writes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    assert files.reports_root() == tmp_path / "reports" == report_dir(RUN).parent
    assert files.folder_of(RUN) == report_dir(RUN).name == "scheduled__2026-11-05T02_00_00_00_00"


def test_a_reports_files_are_found_by_run_id_or_by_folder(root: Path) -> None:
    folder = root / files.folder_of(RUN)
    assert files.report_file(root, RUN) == (folder / "index.html").resolve()
    assert files.report_file(root, RUN, "") == (folder / "index.html").resolve()
    assert (
        files.report_file(root, folder.name, "figures/timing.png")
        == (folder / "figures" / "timing.png").resolve()
    )
    assert files.report_file(root, "other-run") is None


@pytest.mark.parametrize(
    "run, path",
    [
        (RUN, "../../secret.html"),
        (RUN, "figures/../../../secret.html"),
        (RUN, "./index.html"),
        (RUN, "figures//timing.png"),
        ("..", "secret.html"),
        (".", "index.html"),
        ("a/../..", "secret.html"),
        (RUN, LEAK),  # a symlink out of the folder
        (LINKED, "index.html"),  # a report folder that is a symlink out of the root
        (RUN, "notes.txt"),  # not a type a report has
        (RUN, "figures"),  # a folder
        (RUN, "index.html\0.png"),
        (RUN, "figures\\..\\..\\..\\secret.html"),
    ],
)
def test_nothing_outside_a_reports_folder_is_found(root: Path, run: str, path: str) -> None:
    assert files.report_file(root, run, path) is None


def test_an_absolute_path_is_refused(root: Path) -> None:
    secret = root.parent / "secret.html"
    assert secret.is_file()
    assert files.report_file(root, RUN, str(secret)) is None
    assert files.report_file(root, RUN, str(secret).lstrip("/")) is None  # not there either


def test_a_root_reached_through_a_symlink_still_serves(root: Path, tmp_path: Path) -> None:
    link = tmp_path / "via-link"
    link.symlink_to(root, target_is_directory=True)
    assert files.report_file(link, RUN) == (root / files.folder_of(RUN) / "index.html").resolve()


def test_every_report_is_listed_newest_first(root: Path) -> None:
    older = small_report(root, "manual__older")
    os.utime(older / "index.html", (1_000_000_000, 1_000_000_000))
    (root / "no-index").mkdir()  # a folder without index.html: not a report
    (root / ".hidden").mkdir()
    listed = files.list_reports(root)
    assert [r.folder for r in listed] == [files.folder_of(RUN), "manual__older"]
    assert listed[1].written.timestamp() == 1_000_000_000
    assert listed[0].written.tzinfo is not None


def test_no_folder_no_reports(tmp_path: Path) -> None:
    assert files.list_reports(tmp_path / "nothing-here") == []


def test_all_lists_only_what_exists() -> None:
    assert files.__all__ == sorted(files.__all__)
    assert all(hasattr(files, name) for name in files.__all__)
