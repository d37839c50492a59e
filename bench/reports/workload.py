"""What was run, and where: the workload (data, split, model, optimizer, budgets) as the code
defines it, and the environment the records carry. Pure functions over records.

Numbers come from where the code keeps them (bench.config.WORKLOAD, bench.data.loading, the
records' environment), so the report cannot drift from what ran.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

from bench.config import EVAL_BUDGETS, WORKLOAD
from bench.data.loading import FEATURES, N_ROWS, TARGET
from bench.records import Record
from bench.reports import formatting as fmt

__all__ = ["ENVIRONMENT_KEYS", "environment_summary", "split_sizes", "workload_rows"]

# Environment entries shown in reports, in this order (see bench.measure.base_environment).
ENVIRONMENT_KEYS: tuple[str, ...] = (
    "python", "platform", "hostname", "cpu_model", "cpu_count", "numpy", "threads",
    "gpu_name", "cuda_version", "seed", "bench_version", "git_commit",
)  # fmt: skip


def split_sizes(
    rows: int = N_ROWS, test_fraction: float = WORKLOAD.test_fraction
) -> tuple[int, int]:
    """(train rows, test rows), cut as bench.data.loading.split_dataset cuts them."""
    test = int(round(rows * test_fraction))
    return rows - test, test


def workload_rows(records: Sequence[Record]) -> list[tuple[str, str]]:
    """The workload section: one (topic, description) row each, values from the code and the
    run's records."""
    train, test = split_sizes()
    batch = WORKLOAD.batch_size
    steps = math.ceil(train / batch)
    inputs, hidden = len(FEATURES), WORKLOAD.hidden
    parameters = inputs * hidden + hidden + hidden + 1
    seeds = _distinct(r.environment.get("seed") for r in records)
    rows = [
        ("data", f"California Housing (scikit-learn): {N_ROWS:,} rows, {inputs} features "
                 f"({', '.join(FEATURES)}); target {TARGET}, the median house value in units "
                 f"of {fmt.MAE_UNIT}"),
        ("split", f"{train:,} training and {test:,} test rows ({WORKLOAD.test_fraction:.0%} "
                  f"test), shuffled with seed {seeds or 'unknown'}; the same split for every "
                  "case"),
        ("standardization", "each feature scaled to mean 0 and standard deviation 1 with the "
                            "training rows' statistics (applied unchanged to the test rows); "
                            "the target is not scaled; float32 arrays"),
        ("model", f"{inputs} inputs, one hidden layer of {hidden} ReLU units, 1 output "
                  f"({parameters:,} parameters), the same in every framework"),
        ("optimizer", f"Adam, learning rate {WORKLOAD.learning_rate:g}, the frameworks' "
                      "default betas and epsilon"),
        ("loss", "mean absolute error (L1); train MAE is the epoch's mean batch loss, test "
                 "MSE and MAE are measured on the test rows"),
        ("batch size", f"{batch} ({steps} steps per epoch, batches in a fresh shuffled order "
                       "every epoch)"),
        ("epochs", _epochs(records)),
        ("budgets", f"test set evaluated after epochs {', '.join(map(str, EVAL_BUDGETS))} (the "
                    "published protocol's budgets) when the run reaches them, and after its "
                    "last epoch"),
        ("repeats", f"{_distinct(r.repeats for r in records)} fresh process(es) per case"),
        ("threads", _threads(records)),
    ]  # fmt: skip
    return rows


def _epochs(records: Sequence[Record]) -> str:
    trained = _distinct(len(r.epochs) for r in records if r.status == "ok")
    return f"{trained} per case" if trained else "no case finished"


def _threads(records: Sequence[Record]) -> str:
    requested = _distinct(
        t.get("requested") for r in records if isinstance(t := r.environment.get("threads"), dict)
    )
    cores = _distinct(
        ",".join(map(str, c)) for r in records if isinstance(c := r.environment.get("cores"), list)
    )
    text = f"{requested or 'unknown'} per case (framework pools and OMP_NUM_THREADS; inter-op 1)"
    return text + (f", pinned to core(s) {cores}" if cores else "")


def _distinct(values: Iterable[object]) -> str:
    """The distinct values, joined ("1" or "1, 2"); empty when there are none."""
    found = sorted({str(v) for v in values if v is not None})
    return ", ".join(found)


def environment_summary(records: Sequence[Record]) -> list[tuple[str, str]]:
    """The environment keys of the run's records; values that differ by case are listed."""
    rows = []
    for key in ENVIRONMENT_KEYS:
        values = sorted({_text(r.environment.get(key)) for r in records if key in r.environment})
        if values:
            rows.append((key, ", ".join(values)))
    versions = sorted(
        {
            f"{r.environment.get('framework') or r.case.framework} "
            f"{r.environment.get('framework_version')}"
            for r in records
            if r.environment.get("framework_version")
        }
    )
    if versions:
        rows.append(("frameworks", ", ".join(versions)))
    return rows


def _text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)
