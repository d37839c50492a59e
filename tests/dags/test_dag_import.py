"""The DAG folder imports cleanly and fast, without the heavy frameworks (a fresh process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.dags.dag_helpers import HEAVY_MODULES, REPO

PARSE_BUDGET_SECONDS = 0.5

# Airflow itself is imported before the clock starts: the budget is for our DAG file.
PARSE = r"""
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
heavy = set(sys.argv[2].split(","))
before = {name.split(".")[0] for name in sys.modules} & heavy
start = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({
    "errors": {str(path): str(error) for path, error in bag.import_errors.items()},
    "dag_ids": sorted(bag.dag_ids),
    "seconds": seconds,
    "heavy_before": sorted(before),
    "heavy_after": sorted({name.split(".")[0] for name in sys.modules} & heavy),
}))
"""


def test_dag_folder_parses_fast_and_light() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PARSE, str(REPO / "dags"), ",".join(HEAVY_MODULES)],
        env=dict(os.environ), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == {}
    assert outcome["dag_ids"] == ["bench_nightly"]
    assert outcome["heavy_before"] == [], "Airflow itself imported a heavy module"
    assert outcome["heavy_after"] == [], "parsing the DAG imported heavy modules"
    assert outcome["seconds"] < PARSE_BUDGET_SECONDS, f"parse took {outcome['seconds']:.3f} s"
