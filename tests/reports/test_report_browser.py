"""The static report of a `make run` and of a 30-epoch nightly, opened in Chromium from disk as
a reader opens it: every figure loads, nothing is wider than the window, and a full-page
screenshot goes to artifacts/report/ (git-ignored) for a person to look at.

Needs Debian's chromium and chromium-driver, like tests/plugins/test_dashboard_browser.py;
without them the test fails, it does not skip.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import chromium
from tests.reports.matrix_warehouse import Written

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "report"
WIDTH = 1400

pytestmark = pytest.mark.integration


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "chromium", width=WIDTH) as driver:
        yield driver


@pytest.mark.parametrize("which", ["make-run", "nightly"])
def test_the_report_opened_from_disk_shows_every_figure_and_fits_the_window(
    which: str, browser: Any, request: pytest.FixtureRequest
) -> None:
    written: Written = request.getfixturevalue(
        "make_run_report" if which == "make-run" else "nightly_report"
    )
    browser.get(written.index.as_uri())
    images = browser.execute_script(
        "return [...document.images].map(i => [i.id, i.complete && i.naturalWidth > 0])"
    )
    assert images and all(loaded for _, loaded in images), images
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], "the page scrolls sideways"
    hidden = browser.execute_script(
        "return [...document.querySelectorAll('table.epochs, table.budgets, table.workload')]"
        ".filter(t => t.offsetParent === null).length"
    )
    assert hidden == 0  # protocol tables are on the page, not inside a closed <details>
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{which}.png"
    shot.write_bytes(full_page(browser))
    assert shot.stat().st_size > 100_000


def full_page(browser: Any) -> bytes:
    """The whole page as one PNG (Chrome DevTools captures beyond the window)."""
    width, height = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    return base64.b64decode(shot["data"])
