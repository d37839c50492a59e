"""The public API is what __all__ says, and the documentation covers every table and column."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import bench.warehouse as warehouse
from bench.cli import commands_warehouse
from bench.warehouse.models import Base

DOCS = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"
API = {
    "upgrade",
    "store_record",
    "ensure_run",
    "finish_run",
    "store_validation",
    "latest_run_id",
    "results_for_run",
    "series_history",
    "compare_runs",
    "read_only_query",
    "spool_dir",
    "spool_record",
    "store_or_spool",
    "warehouse_url",
    "get_engine",
    "mask_url",
    "WarehouseUnavailable",
}


def test_all_lists_the_public_api_and_nothing_missing() -> None:
    assert set(warehouse.__all__) >= API
    assert all(hasattr(warehouse, name) for name in warehouse.__all__)
    public = {
        name
        for name, value in vars(warehouse).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert public - {"annotations"} == set(warehouse.__all__)


def test_warehouse_unavailable_is_a_runtime_error() -> None:
    assert issubclass(warehouse.WarehouseUnavailable, RuntimeError)


def test_every_table_and_column_is_documented() -> None:
    text = DOCS.read_text()
    for table in Base.metadata.sorted_tables:
        section = text.split(f"## `{table.name}`", 1)
        assert len(section) == 2, f"docs/warehouse.md has no section for {table.name}"
        body = section[1].split("\n## ", 1)[0]
        missing = [c.name for c in table.columns if f"`{c.name}`" not in body]
        assert missing == [], f"{table.name}: undocumented columns {missing}"
    for view in ("latest_results", "series_history"):
        assert f"`{view}`" in text
    assert "BENCH_WAREHOUSE_URL" in text


def test_every_warehouse_command_is_documented() -> None:
    text = DOCS.read_text()
    for command in ("bench db upgrade", "bench ingest", "bench runs", "bench results",
                    "bench history", "bench compare", "bench sql"):  # fmt: skip
        assert command in text, command
    assert commands_warehouse.register  # the module the commands come from
