"""Reports and the dashboard: tables, findings and figures read from the metrics warehouse.

No measuring and no writes to the warehouse. `write_report` makes the static HTML report of a
run; `bench.reports.dashboard.create_app` builds the dashboard the Airflow plugin serves.
Importing this package is cheap: matplotlib and FastAPI load only when used.
"""

from __future__ import annotations

from bench.reports.report import DEFAULT_HISTORY, report_dir, write_report

__all__ = ["DEFAULT_HISTORY", "report_dir", "write_report"]
