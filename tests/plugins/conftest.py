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
from pathlib import Path

# The helpers beside this file and the sample warehouse of tests/reports.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "reports"))
from sample_warehouse import sample  # noqa: E402, F401  (the fixture, for these tests)

_PROCESS_HOME = tempfile.mkdtemp(prefix="bench-plugin-tests-")
atexit.register(shutil.rmtree, _PROCESS_HOME, True)
os.environ.setdefault("AIRFLOW_HOME", _PROCESS_HOME)
