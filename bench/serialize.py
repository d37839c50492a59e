"""JSON that every reader and database accepts, and files that are written whole or not at all."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


def json_safe(value: Any) -> Any:
    """A plain-JSON copy: NaN and infinities as None (PostgreSQL's JSONB and strict readers
    reject them), numpy scalars and Decimals as numbers, times as ISO-8601, anything else as text.
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    elif not isinstance(value, bool | int | float | str) and callable(getattr(value, "item", None)):
        try:
            value = value.item()  # numpy scalar
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def finite(value: float | None) -> float | None:
    """The number, or None when it is missing, NaN or infinite (stored as NULL)."""
    return None if value is None or not math.isfinite(value) else float(value)


def to_json(value: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of json_safe(value)."""
    return json.dumps(json_safe(value), indent=indent, allow_nan=False)


def write_atomic(path: str | Path, text: str) -> Path:
    """Write through a temporary file and a rename, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path
