"""Warehouse test fixtures: the backend under test and the record factory.

The warehouses (SQLite, and a fresh PostgreSQL database per test that fails rather than skips
when the server is down) come from tests/conftest.py, the records from tests/builders.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import make_url

from bench.records import Record
from tests.builders import make_record


@pytest.fixture
def backend(warehouse_url: str) -> str:
    return make_url(warehouse_url).get_backend_name()


@pytest.fixture
def record_factory() -> Callable[..., Record]:
    return make_record
