"""Reports folders for the tests of serving them: a small report, and ways out of the folder."""

from __future__ import annotations

from pathlib import Path

from bench.reports.report_files import folder_of

PNG = b"\x89PNG\r\n\x1a\n"
SECRET = "not for the dashboard"
LINKED = "linked-out"  # a report folder that is a symlink to a folder outside the root
LEAK = "figures/leak.png"  # inside a report folder, a symlink to a file outside the root


def small_report(root: Path, run_id: str, *, text: str = "a report") -> Path:
    """index.html and one figure in the run's folder under `root`; returns the folder."""
    folder = root / folder_of(run_id)
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(
        f'<!doctype html><title>{text}</title><p>{text}</p><img src="figures/timing.png">'
    )
    (folder / "figures" / "timing.png").write_bytes(PNG + b"timing")
    return folder


def plant_escapes(root: Path, run_id: str) -> Path:
    """Secret files beside `root`, and symlinks from inside it to them; returns secret.html.

    The run's report folder must exist. Beside `root`: secret.html, secret.png and a folder
    `outside/` with an index.html, all holding SECRET."""
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "index.html").write_text(SECRET)
    secret = root.parent / "secret.html"
    secret.write_text(SECRET)
    (root.parent / "secret.png").write_bytes(PNG + SECRET.encode())
    (root / LINKED).symlink_to(outside, target_is_directory=True)
    (root / folder_of(run_id) / LEAK).symlink_to(root.parent / "secret.png")
    (root / folder_of(run_id) / "notes.txt").write_text("a type reports do not have")
    return secret
