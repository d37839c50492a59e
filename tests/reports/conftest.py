"""Report fixtures: one sample warehouse (SQLite in a temp folder) shared by the module's tests."""

from __future__ import annotations

import sys
from pathlib import Path

# The sample builder beside this file, for the tests here and in tests/plugins.
sys.path.insert(0, str(Path(__file__).parent))
from sample_warehouse import sample  # noqa: E402, F401  (the fixture, for these tests)
