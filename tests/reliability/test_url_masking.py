"""Issue 13: a password never reaches the output or the shareable report, in any URL form.

`?password=` query parameters were printed in clear (SQLAlchemy hides only the user:password
part), and a raw `@` in a password printed part of it (the parser split at the first `@`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import main
from bench.reports import write_report
from bench.warehouse import mask_url
from tests.reports.sample_warehouse import Sample, sample  # noqa: F401  (the fixture)

MASKED = [
    (
        "postgresql+psycopg://bench:hunter2@db:5432/bench",
        "postgresql+psycopg://bench:***@db:5432/bench",
    ),
    (  # raw @ : / in the password
        "postgresql+psycopg://bench:hun@ter:2/x@db:5432/bench?sslmode=require",
        "postgresql+psycopg://bench:***@db:5432/bench?sslmode=require",
    ),
    ("redis://:hunter2@redis:6379/0", "redis://:***@redis:6379/0"),
    ("postgresql://db/bench?password=hunter2", "postgresql://db/bench?password=***"),
    (
        "postgresql://db/bench?user=bench&password=hun@ter2&sslmode=require",
        "postgresql://db/bench?user=bench&password=***&sslmode=require",
    ),
    (
        "postgresql+psycopg://bench@db/bench?sslmode=verify-full&sslpassword=hunter2",
        "postgresql+psycopg://bench@db/bench?sslmode=verify-full&sslpassword=***",
    ),
    (  # libpq key/value strings
        "host=db user=bench password=hunter2 dbname=bench",
        "host=db user=bench password=*** dbname=bench",
    ),
    ("host=db password='hun ter2' dbname=bench", "host=db password=*** dbname=bench"),
    # Unparseable: everything between :// and the last @ after the user name.
    ("://bench:hun@ter2@db", "://bench:***@db"),
    ("odd+scheme://bench:hunter2%@", "odd+scheme://bench:***@"),
]
UNCHANGED = [
    "sqlite:////var/lib/bench/warehouse.db",
    "sqlite:///:memory:",
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "postgresql+psycopg://bench:***@db:5432/bench",
]
# A password with a raw `@` in a query parameter: SQLite ignores unknown parameters of a URI
# file name, so the report's sample warehouse opens through this URL.
REPORT_QUERY = "?uri=true&password=p@ss-hunter2"


@pytest.mark.parametrize(("url", "masked"), MASKED)
def test_mask_url_hides_the_password_in_every_form(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert "hun" not in masked and "ter" not in masked  # no piece of any password


@pytest.mark.parametrize("url", UNCHANGED)
def test_mask_url_leaves_urls_without_a_password_alone(url: str) -> None:
    assert mask_url(url) == url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://bench:p@ss-hunter2@127.0.0.1:1/x", "bench:***@127.0.0.1:1/x"),
        ("postgresql+psycopg://bench@127.0.0.1:1/x?password=hunter2", "1/x?password=***"),
    ],
)
def test_the_error_for_an_unreachable_warehouse_masks_the_password(
    url: str,
    shown: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", url)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    assert main(["db", "upgrade"]) == 1
    out, err = capsys.readouterr()
    assert shown in err and len(err.splitlines()) == 1
    assert "hunter2" not in out + err and "p@ss" not in out + err


def test_the_cli_and_the_html_report_show_the_warehouse_masked(
    sample: Sample,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = sample.url.removeprefix("sqlite:///")
    url = f"sqlite:///file:{path}{REPORT_QUERY}"
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", url)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # bench makes the folder of `file:/...` relative to here
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"file:{path}?uri=true&password=***" in out and "hunter2" not in out

    html = write_report(None, tmp_path / "report", url=url).read_text()
    assert f"the warehouse at sqlite:///file:{path}?uri=true&amp;password=***" in html
    assert "hunter2" not in html and "p@ss" not in html
