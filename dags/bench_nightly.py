"""bench_nightly: validate the dataset, train every selected case on its pool and queue, report.

Runs nightly on the cron of `[bench] schedule` (AIRFLOW__BENCH__SCHEDULE), or when triggered
with Params choosing frameworks, modes, devices, the epoch budget, repeats and a note. Results
land in the warehouse keyed by the DAG run id (and repeat), so a retried or cleared task never
duplicates a row.

- `validate_dataset`: Great Expectations on the data; a failure stops the run before training.
- `plan_cpu_cases`, `plan_gpu_cases`: the selected cases of each device.
- `train_cpu`, `train_gpu`: one mapped task per case and repeat, named after it
  (`torch-compile-cpu`, or `torch-compile-cpu #2` with repeats), in interleaved order (round
  robin over cases, rotated each repeat: the Param `repeats`, nightly default `[bench] repeats`).
  CPU cases share pool `bench_cpu` (one slot per CPU host: side-by-side CPU benchmarks corrupt
  each other's timings) on queue `cpu`; GPU cases use pool `bench_gpu` (slots = GPUs) on queue
  `gpu`. A GPU case on a worker without a GPU ends `skipped` and the task succeeds.
- `detect_regressions`: runs last whatever happened (a teardown without setup): closes the run,
  judges it against history (regression_flags), writes the HTML report and alerts; it fails,
  and so turns the run red, when the run's verdict is red (bench.analysis.verdict: a
  regression, drift or departure, or a failed or missing case). The alert never changes that
  verdict and gives up after BENCH_ALERT_DEADLINE (15 s).

Every task try has an `execution_timeout`: `[bench] train_timeout_minutes` for a training try
(keep it above BENCH_CASE_TIMEOUT), `[bench] step_timeout_minutes` for the others.

Every task calls one function of `bench.pipeline`; parsing this file imports no framework.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, conf, dag, task

from bench import pipeline
from bench.config import DEVICES, FRAMEWORK_MODES
from bench.host_devices import AUTO, resolve_devices

ALL_MODES = sorted({mode for modes in FRAMEWORK_MODES.values() for mode in modes})
SCHEDULE = conf.get("bench", "schedule", fallback="0 2 * * *")
DEFAULT_EPOCHS = conf.getint("bench", "epochs", fallback=30)
DEFAULT_REPEATS = conf.getint("bench", "repeats", fallback=1)
# Devices of a scheduled run: `auto` (cpu, plus gpu when this host has one: the local run) or a
# list; the compose cluster sets `cpu,gpu`, its gpu worker being another host.
DEFAULT_DEVICES = resolve_devices(conf.get("bench", "devices", fallback=AUTO))
# Hard limits per task try: a hung task fails instead of holding the only active run
# (max_active_runs=1) into the next nights. A training try is one repeat of one case, which the
# runner itself kills after BENCH_CASE_TIMEOUT (3600 s): its limit adds loading and storing.
TRAIN_TIMEOUT = timedelta(minutes=conf.getint("bench", "train_timeout_minutes", fallback=75))
STEP_TIMEOUT = timedelta(minutes=conf.getint("bench", "step_timeout_minutes", fallback=10))


def _choice(options: list[str], default: list[str], title: str, description: str) -> Param:
    """A multi-select Param: a non-empty list of distinct names from `options`."""
    return Param(
        default,
        type="array",
        items={"type": "string", "enum": options},
        examples=options,
        minItems=1,
        uniqueItems=True,
        title=title,
        description=description,
    )


@dag(
    dag_id="bench_nightly",
    schedule=SCHEDULE,
    catchup=False,
    max_active_runs=1,
    tags=["bench"],
    doc_md=__doc__,
    default_args={"owner": "bench", "execution_timeout": STEP_TIMEOUT},
    params={
        "frameworks": _choice(
            list(FRAMEWORK_MODES), list(FRAMEWORK_MODES), "Frameworks", "Frameworks to benchmark."
        ),
        "modes": _choice(
            ALL_MODES, ALL_MODES, "Modes", "Execution modes; each framework runs those it has."
        ),
        "devices": _choice(
            list(DEVICES), DEFAULT_DEVICES, "Devices", "GPU cases skip on workers without a GPU."
        ),
        "epochs": Param(
            DEFAULT_EPOCHS,
            type="integer",
            minimum=1,
            maximum=100,
            title="Epochs",
            description="Epoch budget per case (30 gives the 10, 20 and 30 epoch test metrics).",
        ),
        "repeats": Param(
            DEFAULT_REPEATS,
            type="integer",
            minimum=1,
            maximum=20,
            title="Repeats",
            description="Fresh processes per case, interleaved; each case's result is the "
            "median over its repeats with a 95% interval across processes.",
        ),
        "note": Param(
            "",
            type="string",
            maxLength=500,
            title="Note",
            description="Why this run was made; kept with the run and shown by `bench runs`, "
            "`bench results`, the report and the dashboard.",
        ),
    },
)
def bench_nightly() -> None:
    @task(retries=0)
    def validate_dataset(*, run_id: str, dag_run: Any, params: dict[str, Any]) -> dict[str, Any]:
        return pipeline.validate_and_record(
            run_id,
            trigger=pipeline.trigger_for(dag_run.run_type),
            started_at=dag_run.start_date,
            note=params["note"],
        )

    @task(retries=0)
    def plan_cases(device: str, *, params: dict[str, Any]) -> list[dict[str, Any]]:
        return pipeline.plan_cases(
            device,
            frameworks=params["frameworks"],
            modes=params["modes"],
            devices=params["devices"],
            repeats=params["repeats"],
        )

    @task(
        retries=1,
        retry_delay=timedelta(minutes=1),
        execution_timeout=TRAIN_TIMEOUT,
        map_index_template="{{ task.op_kwargs['case']['label'] }}",
    )
    def train(
        case: dict[str, Any], *, run_id: str, dag_run: Any, params: dict[str, Any]
    ) -> dict[str, Any]:
        return pipeline.train_and_store(
            case,
            run_id=run_id,
            trigger=pipeline.trigger_for(dag_run.run_type),
            epochs=params["epochs"],
        )

    @task
    def detect_regressions(*, run_id: str, dag_run: Any, params: dict[str, Any]) -> dict[str, Any]:
        return pipeline.judge_run(
            run_id,
            trigger=pipeline.trigger_for(dag_run.run_type),
            frameworks=params["frameworks"],
            modes=params["modes"],
            devices=params["devices"],
        )

    validated = validate_dataset()
    report = detect_regressions()
    for device in DEVICES:
        planned = plan_cases.override(task_id=f"plan_{device}_cases")(device)
        trained = train.override(
            task_id=f"train_{device}",
            pool=pipeline.pool_for(device),
            queue=pipeline.queue_for(device),
        ).expand(case=planned)
        validated >> planned
        trained >> report
    # Runs whatever happened; a regression it finds fails the run (after storing everything).
    report.as_teardown(on_failure_fail_dagrun=True)


bench_nightly()
