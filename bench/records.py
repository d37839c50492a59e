"""The result record: what one case run produces, the warehouse stores and detection judges.

Field names are part of the interface (JSON files, warehouse columns, DAG XCom payloads).
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import Case

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
    total_seconds: float | None = None
    peak_rss_bytes: int | None = None
    peak_device_bytes: int | None = None
    eval: list[EvalMetric] = field(default_factory=list)
    dataset_sha256: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def finalize_timing(self) -> None:
        """Derive steady and compile seconds from the per-epoch times.

        Steady = median of epochs after the first; compile = first epoch beyond steady
        (tracing, compilation, allocator warm-up). With a single epoch there is no steady state.
        """
        seconds = [e.seconds for e in self.epochs]
        if len(seconds) >= 2:
            self.steady_epoch_seconds = statistics.median(seconds[1:])
            self.compile_seconds = max(0.0, seconds[0] - self.steady_epoch_seconds)
        else:
            self.steady_epoch_seconds = None
            self.compile_seconds = None

    @property
    def environment_fingerprint(self) -> str:
        return environment_fingerprint(self.environment, self.dataset_sha256)

    def test_metrics_at(self, epoch: int) -> EvalMetric | None:
        return next((e for e in self.eval if e.epoch == epoch), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["case"] = self.case.as_dict()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False, default=_json_default)

    def write(self, path: str | Path) -> Path:
        """Write atomically (temp file + rename) so a reader never sees half a record."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json() + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        missing = [k for k in ("run_id", "case", "status") if k not in data]
        if missing:
            raise ValueError(f"not a bench record: missing field(s) {', '.join(missing)}")
        if data["status"] not in STATUSES:
            raise ValueError(f"record status {data['status']!r} is not one of {STATUSES}")
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
            total_seconds=data.get("total_seconds"),
            peak_rss_bytes=data.get("peak_rss_bytes"),
            peak_device_bytes=data.get("peak_device_bytes"),
            eval=[EvalMetric(**e) for e in data.get("eval") or []],
            dataset_sha256=data.get("dataset_sha256"),
            environment=data.get("environment") or {},
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


def _json_default(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"cannot serialize {type(value).__name__}")


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
