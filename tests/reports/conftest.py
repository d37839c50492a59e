"""Report fixtures: one sample warehouse (SQLite in a temp folder) shared by the module's tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.warehouse.engine import reset_engines
from bench.warehouse.migrate import forget_upgrades

# The sample builder beside this file, for the tests here and in tests/plugins.
sys.path.insert(0, str(Path(__file__).parent))
import sample_warehouse  # noqa: E402


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sample_warehouse.Sample]:
    """Five nightly runs of seven cases, flags and an acknowledgement (read-only for tests)."""
    folder = tmp_path_factory.mktemp("warehouse")
    yield sample_warehouse.build(f"sqlite:///{folder / 'warehouse.db'}")
    reset_engines()
    forget_upgrades()
