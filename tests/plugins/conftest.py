"""Plugin tests: Airflow in throwaway homes, the repository's airflow.cfg and plugins folder.

The sample warehouse comes from tests/reports. Airflow reads its home when first imported, so a
temporary AIRFLOW_HOME is set here (unless another conftest already chose one) before any test
imports Airflow; nothing touches ~/airflow or the repository's airflow.db.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# The helpers beside this file and the sample warehouse of tests/reports.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "reports"))
import sample_warehouse  # noqa: E402

from bench.warehouse.engine import reset_engines  # noqa: E402
from bench.warehouse.migrate import forget_upgrades  # noqa: E402

_PROCESS_HOME = tempfile.mkdtemp(prefix="bench-plugin-tests-")
atexit.register(shutil.rmtree, _PROCESS_HOME, True)
os.environ.setdefault("AIRFLOW_HOME", _PROCESS_HOME)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sample_warehouse.Sample]:
    folder = tmp_path_factory.mktemp("warehouse")
    yield sample_warehouse.build(f"sqlite:///{folder / 'warehouse.db'}")
    reset_engines()
    forget_upgrades()
