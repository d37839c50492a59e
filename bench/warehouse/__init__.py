"""The metrics warehouse: durable, exactly-once storage of benchmark records, and the reads.

SQLite by default (a file in the bench state directory), PostgreSQL in production; the
database is chosen by BENCH_WAREHOUSE_URL. See docs/warehouse.md for the schema.
"""

from __future__ import annotations

from bench.warehouse.engine import (
    NotFound,
    WarehouseError,
    WarehouseUnavailable,
    default_url,
    get_engine,
    mask_url,
    warehouse_url,
)
from bench.warehouse.migrate import upgrade
from bench.warehouse.queries import (
    compare_runs,
    latest_results,
    latest_run_id,
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
    "NotFound",
    "QueryError",
    "WarehouseError",
    "WarehouseUnavailable",
    "compare_runs",
    "default_url",
    "ensure_run",
    "finish_run",
    "get_engine",
    "latest_results",
    "latest_run_id",
    "mask_url",
    "read_only_query",
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
