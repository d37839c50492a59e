"""Plugin tests: Airflow in throwaway homes, the repository's airflow.cfg and plugins folder.

The sample warehouse comes from tests/reports. Airflow reads its home when first imported, so a
temporary AIRFLOW_HOME is set here (unless another conftest already chose one) before any test
imports Airflow; nothing touches ~/airflow or the repository's airflow.db.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from tests.reports.sample_warehouse import sample  # noqa: F401  (the fixture, for these tests)

_PROCESS_HOME = tempfile.mkdtemp(prefix="bench-plugin-tests-")
atexit.register(shutil.rmtree, _PROCESS_HOME, True)
os.environ.setdefault("AIRFLOW_HOME", _PROCESS_HOME)
