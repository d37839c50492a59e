"""Run bench_nightly once with `dag.test()` and print the outcome as one JSON line.

Usage: dag_test_driver.py CONF_JSON WHEN_ISO. Runs in its own process (with the Airflow home
of the test's environment) so the test process never holds Airflow's database state.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime

from airflow.dag_processing.dagbag import DagBag
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from sqlalchemy import select

RESULT_PREFIX = "DAG-TEST-RESULT "


def main(conf_json: str, when_iso: str) -> int:
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        print(f"import errors: {bag.import_errors}", file=sys.stderr)
        return 2
    when = datetime.fromisoformat(when_iso)
    run = bag.dags["bench_nightly"].test(
        logical_date=when, run_after=when, run_conf=json.loads(conf_json)
    )
    with create_session() as session:
        tis = session.scalars(select(TaskInstance).where(TaskInstance.run_id == run.run_id)).all()
        tasks = [
            {
                "task_id": ti.task_id,
                "map_index": ti.map_index,
                "state": _text(ti.state),
                "rendered_map_index": ti.rendered_map_index,
                "pool": ti.pool,
                "queue": ti.queue,
                "try_number": ti.try_number,
            }
            for ti in tis
        ]
    outcome = {
        "run_id": run.run_id,
        "run_type": _text(run.run_type),
        "state": _text(run.state),
        "tasks": tasks,
    }
    print(RESULT_PREFIX + json.dumps(outcome), flush=True)
    return 0


def _text(value: object) -> str | None:
    """An enum member or a plain string (Airflow returns either) as its value."""
    return None if value is None else str(getattr(value, "value", value))


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
