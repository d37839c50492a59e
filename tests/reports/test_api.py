"""The package's public surface: `__all__` is honest and importing it stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import bench.reports
import bench.reports.advice
import bench.reports.budgets
import bench.reports.data
import bench.reports.devices
import bench.reports.figures
import bench.reports.history_figure
import bench.reports.ladder
import bench.reports.plotting
import bench.reports.workload

MODULES = [
    bench.reports,
    bench.reports.advice,
    bench.reports.budgets,
    bench.reports.data,
    bench.reports.devices,
    bench.reports.figures,
    bench.reports.history_figure,
    bench.reports.ladder,
    bench.reports.plotting,
    bench.reports.workload,
]


@pytest.mark.parametrize("module", MODULES)
def test_all_lists_only_what_exists(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert names == sorted(names)
    for name in names:
        assert hasattr(module, name), name


def test_importing_the_package_loads_no_plotting_web_or_framework_module() -> None:
    heavy = ["matplotlib", "fastapi", "airflow", "torch", "tensorflow", "pandas", "scipy"]
    code = (
        "import json, sys, bench.reports; "
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert json.loads(out) == []


def test_alert_labels_are_blocking_labels_of_series_suspected_and_machine() -> None:
    from bench.records import ALERT_LABELS, BLOCKING_LABELS, FLAG_LABELS

    assert set(ALERT_LABELS) == (BLOCKING_LABELS - {"failed", "missing"}) | {
        "suspected",
        "machine",
    }
    assert set(ALERT_LABELS) <= set(FLAG_LABELS)
    assert set(FLAG_LABELS) >= BLOCKING_LABELS
