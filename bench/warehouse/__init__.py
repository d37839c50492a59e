"""The metrics warehouse: durable, exactly-once storage of benchmark records, and the reads.

SQLite by default (a file in the bench state directory), PostgreSQL in production; the
database is chosen by BENCH_WAREHOUSE_URL. See docs/warehouse.md for the schema.
"""

from __future__ import annotations

from bench.warehouse.engine import (
    NotFound,
    NoWarehouse,
    WarehouseError,
    WarehouseUnavailable,
    default_url,
    get_engine,
    mask_url,
    warehouse_url,
)
from bench.warehouse.migrate import require_warehouse, upgrade
from bench.warehouse.queries import (
    compare_runs,
    epochs_for_run,
    latest_results,
    latest_run_id,
    list_runs,
    results_for_run,
    series_history,
)
from bench.warehouse.readonly import QueryError, read_only_query
from bench.warehouse.store import (
    ensure_run,
    finish_run,
    spool_dir,
    spool_record,
    store_or_spool,
    store_record,
    store_validation,
)

__all__ = [
    "NoWarehouse",
    "NotFound",
    "QueryError",
    "WarehouseError",
    "WarehouseUnavailable",
    "compare_runs",
    "default_url",
    "ensure_run",
    "epochs_for_run",
    "finish_run",
    "get_engine",
    "latest_results",
    "latest_run_id",
    "list_runs",
    "mask_url",
    "read_only_query",
    "require_warehouse",
    "results_for_run",
    "series_history",
    "spool_dir",
    "spool_record",
    "store_or_spool",
    "store_record",
    "store_validation",
    "upgrade",
    "warehouse_url",
]
