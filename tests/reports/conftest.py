"""Report fixtures: one sample warehouse (SQLite in a temp folder) shared by the module's tests,
and the whole matrix as `make run` and the nightly leave it, with their reports."""

from tests.reports.matrix_warehouse import make_run_report, nightly_report  # noqa: F401
from tests.reports.sample_warehouse import sample  # noqa: F401  (the fixture, for these tests)
