"""The record types: what a run produces, the warehouse stores, detection judges and reports show.

`Record` (one case's result), `RunInfo`, `ValidationReport`, `CaseResult` (a result as detection
reads it), `Flag` (a detection verdict on one series) and `Acknowledgement`. bench.warehouse is
the only code that turns them into rows and back. Field names are part of the interface (JSON
files, warehouse columns, DAG XCom payloads).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import Case
from bench.measure import MIB
from bench.serialize import json_safe, to_json, write_atomic
from bench.uncertainty import Estimate, median_interval, steady_estimate

SCHEMA_VERSION = 1
STATUSES: tuple[str, ...] = ("ok", "skipped", "failed")


# Keys of Record.environment that decide whether two results are comparable.
FINGERPRINT_KEYS: tuple[str, ...] = ("cpu_model", "gpu_name", "framework", "threads")


def environment_fingerprint(environment: dict[str, Any], dataset_sha256: str | None) -> str:
    """Short hash of what makes results comparable: hardware, framework x.y, threads, data."""
    version = str(environment.get("framework_version") or "")
    major_minor = ".".join(version.split("+")[0].split(".")[:2])
    parts = {key: environment.get(key) for key in FINGERPRINT_KEYS}
    parts["framework_version"] = major_minor
    parts["dataset_sha256"] = dataset_sha256
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def vs_reference(steady: float | None, reference: float | None) -> float | None:
    """A time in units of the machine's reference workload: comparable across host speeds."""
    return steady / reference if steady is not None and reference else None


# A run id names files and folders (spool, reports): letters, digits and . _ : + -, no "..".
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,249}")
# Record fields that hold numbers, and those that hold whole numbers (stored as 64-bit).
FLOAT_FIELDS = (
    "compile_seconds", "steady_epoch_seconds", "steady_ci_low", "steady_ci_high", "steady_cv",
    "total_seconds", "reference_seconds",
)  # fmt: skip
INT_FIELDS = ("peak_rss_bytes", "peak_device_bytes")


def check_run_id(run_id: str) -> str:
    """The run id, or ValueError saying what a run id may hold (it names files and folders)."""
    if not RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        shown = run_id if len(run_id) <= 60 else run_id[:57] + "..."
        raise ValueError(
            f"run id {shown!r} is not usable: 1-250 characters, letters, digits and . _ : + -, "
            "starting with a letter or digit, no '..'"
        )
    return run_id


def _check_numbers(data: dict[str, Any]) -> None:
    """One line naming the field when a number in a record is not a usable number (None is:
    non-finite numbers are written as null)."""
    for name in (*FLOAT_FIELDS, *INT_FIELDS):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"record field {name}: {value!r} is not a number")
        if name in INT_FIELDS and not (isinstance(value, int) and 0 <= value < 2**63):
            raise ValueError(f"record field {name}: {value!r} is not a byte count")
        if name in FLOAT_FIELDS and math.isfinite(value) and abs(value) > 1e15:
            raise ValueError(f"record field {name}: {value!r} is out of range")
    for epoch in data.get("epochs") or []:
        for key in ("seconds", "train_mae"):
            value = epoch.get(key) if isinstance(epoch, dict) else "missing"
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ValueError(f"record epoch {key}: {value!r} is not a number")


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class EpochMetric:
    epoch: int
    seconds: float
    train_mae: float


@dataclass
class EvalMetric:
    epoch: int
    test_mse: float
    test_mae: float


@dataclass
class Record:
    run_id: str
    case: Case
    trigger: str = "cli"
    started_at: str = field(default_factory=utc_now_iso)
    status: str = "ok"
    reason: str | None = None
    epochs: list[EpochMetric] = field(default_factory=list)
    compile_seconds: float | None = None
    steady_epoch_seconds: float | None = None
    # 95% interval of the steady median and the coefficient of variation (bench.uncertainty):
    # over epochs 2..N of one process, or over the repeats in a case's summary.
    steady_ci_low: float | None = None
    steady_ci_high: float | None = None
    steady_cv: float | None = None
    total_seconds: float | None = None
    peak_rss_bytes: int | None = None
    peak_device_bytes: int | None = None
    eval: list[EvalMetric] = field(default_factory=list)
    dataset_sha256: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    # This record is repeat `repeat` of `repeats` fresh processes of its case in the run.
    repeat: int = 1
    repeats: int = 1
    # Seconds of the fixed reference workload on the case's cores (bench.calibration).
    reference_seconds: float | None = None
    # What the case ran under (bench.conditions): cores, load, other processes' CPU time.
    conditions: dict[str, Any] = field(default_factory=dict)
    noisy: str | None = None  # why the measurement was disturbed; None when it was not
    note: str | None = None  # why the run was made (`--note`); stored with the run, not the case
    schema_version: int = SCHEMA_VERSION

    def finalize_timing(self) -> None:
        """Derive steady and compile seconds, and the steady interval, from the epoch times.

        Steady = median of epochs after the first; compile = first epoch beyond steady
        (tracing, compilation, allocator warm-up). With a single epoch there is no steady state.
        """
        seconds = [e.seconds for e in self.epochs]
        if len(seconds) >= 2:
            steady = median_interval(seconds[1:])
            self.steady_epoch_seconds = steady.value
            self.steady_ci_low, self.steady_ci_high = steady.low, steady.high
            self.steady_cv = steady.cv
            self.compile_seconds = max(0.0, seconds[0] - self.steady_epoch_seconds)
        else:
            self.steady_epoch_seconds = None
            self.steady_ci_low = self.steady_ci_high = self.steady_cv = None
            self.compile_seconds = None

    @property
    def steady(self) -> Estimate | None:
        """The steady epoch time with its interval; None without a steady state."""
        if self.steady_epoch_seconds is None:
            return None
        return steady_estimate(
            self.steady_epoch_seconds,
            self.steady_ci_low,
            self.steady_ci_high,
            self.steady_cv,
            repeats=self.repeats,
            epochs=len(self.epochs),
        )

    @property
    def vs_reference(self) -> float | None:
        """Steady epoch time over the reference workload's time (bench.calibration)."""
        return vs_reference(self.steady_epoch_seconds, self.reference_seconds)

    @property
    def steady_epochs(self) -> int:
        """How many steady epochs (2..N) each process measured."""
        return max(len(self.epochs) - 1, 0)

    @property
    def environment_fingerprint(self) -> str:
        return environment_fingerprint(self.environment, self.dataset_sha256)

    def test_metrics_at(self, epoch: int) -> EvalMetric | None:
        return next((e for e in self.eval if e.epoch == epoch), None)

    @property
    def final_eval(self) -> EvalMetric | None:
        """The last test evaluation (the greatest epoch), whatever the budget; None if none."""
        return max(self.eval, key=lambda e: e.epoch, default=None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["case"] = self.case.as_dict()
        return data

    def to_json(self) -> str:
        return to_json(self.to_dict())

    def write(self, path: str | Path) -> Path:
        """Write atomically so a reader never sees half a record."""
        return write_atomic(path, self.to_json() + "\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        missing = [k for k in ("run_id", "case", "status") if k not in data]
        if missing:
            raise ValueError(f"not a bench record: missing field(s) {', '.join(missing)}")
        if data["status"] not in STATUSES:
            raise ValueError(f"record status {data['status']!r} is not one of {STATUSES}")
        check_run_id(str(data["run_id"]))
        _check_numbers(data)
        return cls(
            run_id=str(data["run_id"]),
            case=Case(**data["case"]),
            trigger=data.get("trigger") or "cli",
            started_at=data.get("started_at") or utc_now_iso(),
            status=data["status"],
            reason=data.get("reason"),
            epochs=[EpochMetric(**e) for e in data.get("epochs") or []],
            compile_seconds=data.get("compile_seconds"),
            steady_epoch_seconds=data.get("steady_epoch_seconds"),
            steady_ci_low=data.get("steady_ci_low"),
            steady_ci_high=data.get("steady_ci_high"),
            steady_cv=data.get("steady_cv"),
            total_seconds=data.get("total_seconds"),
            peak_rss_bytes=data.get("peak_rss_bytes"),
            peak_device_bytes=data.get("peak_device_bytes"),
            eval=[EvalMetric(**e) for e in data.get("eval") or []],
            dataset_sha256=data.get("dataset_sha256"),
            environment=data.get("environment") or {},
            repeat=int(data.get("repeat") or 1),
            repeats=int(data.get("repeats") or 1),
            reference_seconds=data.get("reference_seconds"),
            conditions=data.get("conditions") or {},
            noisy=data.get("noisy"),
            note=str(data["note"]) if data.get("note") else None,
            schema_version=int(data.get("schema_version", SCHEMA_VERSION)),
        )

    @classmethod
    def read(cls, path: str | Path) -> Record:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
        return cls.from_dict(data)


@dataclass
class ValidationFailure:
    """One failed expectation: what failed, where, how often, a few offending values."""

    expectation: str
    column: str | None
    unexpected_count: int | None
    examples: list[Any] = field(default_factory=list)
    detail: str | None = None


@dataclass
class ValidationReport:
    """The Great Expectations outcome for one dataset, as stored in `dataset_validations`."""

    success: bool
    statistics: dict[str, Any]
    failures: list[ValidationFailure]
    dataset_sha256: str | None = None
    source: str = "sklearn"
    validated_at: str = field(default_factory=utc_now_iso)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        return cls(
            success=bool(data["success"]),
            statistics=dict(data.get("statistics") or {}),
            failures=[ValidationFailure(**f) for f in data.get("failures") or []],
            dataset_sha256=data.get("dataset_sha256"),
            source=data.get("source") or "sklearn",
            validated_at=data.get("validated_at") or utc_now_iso(),
        )


@dataclass(frozen=True)
class RunInfo:
    """One row of benchmark_runs: a DAG run or CLI invocation."""

    run_id: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None = None
    dataset_sha256: str | None = None
    validation_outcome: str | None = None
    code_version: str | None = None
    note: str | None = None  # why the run was made (the DAG's Param `note`, `bench run --note`)


@dataclass(frozen=True)
class CaseResult:
    """One case's result in one run as detection reads it: status, trigger and its metrics."""

    run_id: str
    case: Case
    status: str
    started_at: datetime
    scheduled: bool
    fingerprint: str | None = None
    metrics: Mapping[str, float | None] = field(default_factory=dict)
    noisy: bool = False  # measured under contention (bench.conditions): kept out of baselines


# What a flag can say, most to least severe (docs/detection.md explains each).
FLAG_LABELS: tuple[str, ...] = (
    "regression",
    "drift",
    "departure",
    "failed",
    "missing",
    "skipped",
    "suspected",
    "machine",
    "improvement",
    "insufficient",
    "ok",
)
# A flag with one of these turns its run red (bench.analysis.verdict).
BLOCKING_LABELS: frozenset[str] = frozenset(
    {"regression", "drift", "departure", "failed", "missing"}
)
# The pseudo-metric of flags about a case's status rather than a number, and what they say.
STATUS_METRIC = "status"
STATUS_MEANINGS: dict[str, str] = {
    "failed": "the case failed; its reason is in `bench results`",
    "missing": "no result stored: validation failed or its task died",
    "skipped": "skipped now, but not in its previous result",
}
# A time flag relabelled `machine` says this (bench.analysis.host_speed.machine_slowdown, or
# bench.analysis.assess.metric_flag over the run-wide factor).
MACHINE_MEANING = (
    "the reference workload or most of the run's cases slowed down with it: the machine, "
    "not the code"
)
# Flags that ask a person to look at a series until someone acknowledges it (`bench ack`).
ALERT_LABELS: tuple[str, ...] = ("departure", "drift", "regression", "suspected", "machine")


@dataclass(frozen=True)
class Acknowledgement:
    """A person accepting a case's new level of one metric from a run on (`bench ack`)."""

    case: Case
    metric: str
    from_run_id: str
    note: str
    created_at: datetime
    id: int | None = None  # the warehouse's, once stored: `bench ack --withdraw ID`

    def to_dict(self) -> dict[str, Any]:
        """Flat: framework, mode, device instead of case."""
        fields = {k: v for k, v in vars(self).items() if k != "case"}
        return {**self.case.as_dict(), **fields}


@dataclass(frozen=True, kw_only=True)
class Flag:
    """A regression-detection verdict on one run, case and metric (a row of regression_flags).

    created_at is set when read from the warehouse; acknowledgement is the one that covers it.
    """

    run_id: str
    case: Case
    metric: str
    label: str
    detector_version: str
    environment_fingerprint: str | None = None
    baseline_value: float | None = None
    value: float | None = None
    change_pct: float | None = None
    z_score: float | None = None
    change_point_run_id: str | None = None
    created_at: datetime | None = None
    acknowledgement: Acknowledgement | None = None

    @property
    def blocking(self) -> bool:
        return self.label in BLOCKING_LABELS

    @property
    def is_alert(self) -> bool:
        return self.label in ALERT_LABELS

    @property
    def is_open(self) -> bool:
        """An alert nobody has acknowledged yet."""
        return self.is_alert and self.acknowledgement is None

    def describe(self) -> str:
        """e.g. `regression torch-compile-cpu steady_epoch_seconds: 0.52 vs 0.46 (+13%, z 6.2)`."""
        text = f"{self.label} {self.case.name} {self.metric}"
        if self.value is not None and self.baseline_value is not None:
            if self.metric.endswith("_bytes"):  # memory reads in MiB everywhere
                text += f": {self.value / MIB:.1f} vs {self.baseline_value / MIB:.1f} MiB"
            else:
                text += f": {self.value:.4g} vs {self.baseline_value:.4g}"
        details = []
        if self.change_pct is not None:
            details.append(f"{self.change_pct:+.1f}%")
        if self.z_score is not None:
            details.append(f"z {self.z_score:.1f}")
        if self.change_point_run_id:
            details.append(f"since run {self.change_point_run_id}")
        if self.metric == STATUS_METRIC and self.label in STATUS_MEANINGS:
            details.append(STATUS_MEANINGS[self.label])
        if self.label == "machine":
            details.append(MACHINE_MEANING)
        return text + (f" ({', '.join(details)})" if details else "")

    def to_dict(self) -> dict[str, Any]:
        """Flat and JSON-ready (framework, mode, device instead of case), for XCom and webhooks."""
        data = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("case", "acknowledgement")
        }
        return json_safe({**self.case.as_dict(), **data})


def with_acknowledgements(flags: Sequence[Flag], acks: Sequence[Acknowledgement]) -> list[Flag]:
    """Each flag with the first acknowledgement of its case and metric made after it.

    A person acknowledges what they have seen: an acknowledgement covers the flags of its case and
    metric that existed when it was made, never later ones (those judge the new level).
    """
    by_key: dict[tuple[Case, str], list[Acknowledgement]] = {}
    for ack in sorted(acks, key=lambda a: a.created_at):
        by_key.setdefault((ack.case, ack.metric), []).append(ack)
    matched = []
    for flag in flags:
        candidates = by_key.get((flag.case, flag.metric), [])
        covering = next(
            (a for a in candidates if flag.created_at and a.created_at >= flag.created_at), None
        )
        matched.append(replace(flag, acknowledgement=covering))
    return matched
