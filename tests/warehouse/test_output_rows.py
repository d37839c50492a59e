"""print_rows: one formatter for every command's table, CSV and JSON."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from bench.cli.output import format_table, print_rows

ROWS = [
    {"case": "torch-eager-cpu", "steady": 0.512345, "rss": 536870912, "at": None},
    {"case": "tf-xla", "steady": 12.0, "rss": 1, "at": datetime(2026, 11, 1, 2, tzinfo=UTC)},
]
COLUMNS = ["case", "steady", "rss", "at"]


def render(fmt: str) -> str:
    out = io.StringIO()
    print_rows(ROWS, COLUMNS, fmt, file=out)
    return out.getvalue()


def test_table_aligns_and_rounds() -> None:
    lines = render("table").splitlines()
    assert lines[0].split() == COLUMNS
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert "0.5123" in lines[2] and "536870912" in lines[2] and lines[2].endswith("-")
    assert lines[2].index("0.5123") + len("0.5123") == lines[3].index("12") + len("12")
    assert "2026-11-01 02:00:00+00:00" in lines[3]


def test_csv_and_json_are_exact() -> None:
    assert render("csv").splitlines()[1] == "torch-eager-cpu,0.512345,536870912,"
    data = json.loads(render("json"))
    assert data[0] == {"case": "torch-eager-cpu", "steady": 0.512345, "rss": 536870912, "at": None}
    assert data[1]["at"] == "2026-11-01T02:00:00+00:00"


def test_empty_rows_and_unknown_format() -> None:
    assert format_table([], ["a", "b"]).splitlines() == ["a  b", "-  -"]
    assert (
        json.loads(render("json"))
        and json.loads(
            (lambda o: (print_rows([], ["a"], "json", file=o), o.getvalue())[1])(io.StringIO())
        )
        == []
    )
    with pytest.raises(ValueError, match="unknown format"):
        print_rows(ROWS, COLUMNS, "xml")
