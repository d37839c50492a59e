"""One way to print rows for every command: an aligned table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from bench.measure import MIB
from bench.serialize import to_json

FORMATS: tuple[str, ...] = ("table", "csv", "json")


def print_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str = "table",
    *,
    file: IO[str] | None = None,
) -> None:
    """Print `columns` of `rows`: table (aligned, rounded for reading), csv or json (exact)."""
    out = file or sys.stdout
    if fmt == "json":
        out.write(to_json([{c: row.get(c) for c in columns} for row in rows]) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else _text(row.get(c)) for c in columns])
    elif fmt == "table":
        out.write(format_table(rows, columns) + "\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def bytes_as_mib(rows: Sequence[dict[str, Any]], column: str) -> str:
    """Add `column` (`*_bytes`) of every row in MiB as `*_mib`, the name returned: tables show
    memory in MiB, with the unit in the column name."""
    name = column.removesuffix("_bytes") + "_mib"
    for row in rows:
        value = row.get(column)
        row[name] = None if value is None else value / MIB
    return name


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Aligned plain-text columns: numbers right-aligned to four significant digits, None as -."""
    cells = [[_table_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    numeric = [
        all(_is_number(row.get(c)) or row.get(c) is None for row in rows) and bool(rows)
        for c in columns
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _table_cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | Decimal):
        return _round(float(value))
    return _text(value)


def _round(value: float) -> str:
    """Four significant digits, never scientific notation for everyday magnitudes."""
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1e4:
        return f"{value:.0f}"
    return f"{value:.4g}"


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)
