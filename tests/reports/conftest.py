"""Report fixtures: one sample warehouse (SQLite in a temp folder) shared by the module's tests."""

from tests.reports.sample_warehouse import sample  # noqa: F401  (the fixture, for these tests)
