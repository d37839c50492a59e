"""Great Expectations checks that the California Housing frame is the data the benchmark expects,
plus one check of bench's own that GX lacks: income and house value still correlate (a shuffled
target keeps every column's values and fails only there). Callers gate training on the report.

Great Expectations and pandas are imported inside functions: Airflow parses DAG files that import
bench modules, and `import great_expectations` alone takes seconds.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.data.loading import (
    FEATURES,
    N_ROWS,
    TARGET,
    DatasetUnavailable,
    fingerprint,
    load_dataset,
)
from bench.records import ValidationFailure, ValidationReport
from bench.serialize import json_safe

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMNS",
    "DATA_VALIDATION_KEY",
    "RANGES",
    "TARGET_RELATION",
    "format_report",
    "summarize_failures",
    "validate_dataset",
    "validate_frame",
    "validation_verdict",
]

COLUMNS: tuple[str, ...] = (*FEATURES, TARGET)
FLOAT_DTYPES: tuple[str, ...] = ("float64", "float32")
# Share of rows that must be unique: a handful of repeated block groups passes, a flood fails.
UNIQUE_ROWS_MOSTLY = 0.99
EXAMPLES_PER_FAILURE = 5


@dataclass(frozen=True)
class Range:
    """Plausible values of one column; `strict_min` excludes the minimum itself. Both bounds are
    finite, so the range check also rejects +-inf and absurd magnitudes such as 1e300."""

    min_value: float
    max_value: float
    strict_min: bool = False


# Physical limits with slack around the real data (see shared/data/README.md):
# California spans ~32.5-42.0 N and ~124.5-114.0 W; HouseAge and MedHouseVal are censored
# at 52 years and 5.00001 (x 100,000 USD); MedInc is top-coded at 15.0001. The per-household
# averages have long real tails (resorts, dormitories, prisons: AveRooms 142, AveBedrms 34,
# AveOccup 1243), so their caps sit 7-8x above the real maxima; Population caps at ~3x the
# largest real block group (35,682; census block groups aim at 600-3,000 people).
RANGES: dict[str, Range] = {
    "MedInc": Range(0.0, 15.1, strict_min=True),
    "HouseAge": Range(1.0, 52.0),
    "AveRooms": Range(0.0, 1_000.0, strict_min=True),
    "AveBedrms": Range(0.0, 250.0, strict_min=True),
    "Population": Range(0.0, 100_000.0, strict_min=True),
    "AveOccup": Range(0.0, 10_000.0, strict_min=True),
    "Latitude": Range(32.5, 42.0),
    "Longitude": Range(-124.5, -114.0),
    "MedHouseVal": Range(0.14, 5.01),
}


@dataclass(frozen=True)
class Relation:
    """`column` must correlate (Pearson) with `other` at least `min_r`: rows still belong
    together. Great Expectations has no correlation expectation, so bench checks this itself."""

    column: str
    other: str
    min_r: float
    real_r: float  # what the real data gives, for the failure text


# Income predicts house value: r = 0.69 in the real data, while permuting MedHouseVal across rows
# gives r = 0 +- 0.007 (1/sqrt(20640)). 0.3 sits over 40 standard errors above a shuffle and 0.39
# below the real value; shuffling a share s of the rows gives about 0.69 x (1 - s), so any
# shuffle of more than ~55% of the rows fails.
TARGET_RELATION = Relation(TARGET, "MedInc", min_r=0.3, real_r=0.69)
RELATION_EXPECTATION = "expect_column_pair_correlation_to_be_at_least"
# The key of Record.environment that says whether the data a case trained on passed validation.
DATA_VALIDATION_KEY = "data_validation"


def validate_dataset(
    *,
    data_home: str | os.PathLike[str] | None = None,
    csv_path: str | os.PathLike[str] | None = None,
) -> ValidationReport:
    """Validate a CSV export when `csv_path` is given, else the sklearn copy in `data_home`.

    Raises DatasetUnavailable when the data cannot be found or read.
    """
    if csv_path is not None and data_home is not None:
        raise ValueError("give either csv_path or data_home, not both")
    if csv_path is not None:
        frame = _read_csv(Path(csv_path))
        return validate_frame(frame, source="csv", dataset_sha256=_frame_fingerprint(frame))
    dataset = load_dataset(data_home)
    return validate_frame(dataset.frame(), source="sklearn", dataset_sha256=dataset.sha256)


def validate_frame(
    frame: pd.DataFrame, *, source: str = "sklearn", dataset_sha256: str | None = None
) -> ValidationReport:
    """Run the suite on `frame`; every failed expectation becomes one ValidationFailure."""
    import great_expectations as gx

    context = _ephemeral_context()
    batch = (
        context.data_sources.add_pandas("california_housing")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole_frame")
    )
    expectations = _expectations()
    suite = context.suites.add(gx.ExpectationSuite(name="california_housing"))
    for expectation in expectations:
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="california_housing", data=batch, suite=suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20},
    )
    # GX returns results in its own order; report them in suite order.
    order = {
        _key(e.expectation_type, e.configuration.kwargs): i for i, e in enumerate(expectations)
    }
    failed = [r for r in result.results if not r.success]
    failed.sort(
        key=lambda r: order.get(_key(r.expectation_config.type, r.expectation_config.kwargs), -1)
    )
    columns = {str(c) for c in frame.columns}
    failures = [_failure(r, columns) for r in failed]
    relation = _check_relation(frame, TARGET_RELATION)
    if relation is not None:
        failures.append(relation)
    statistics = _count_check(dict(result.statistics), passed=relation is None)
    statistics["row_count"] = len(frame)
    return ValidationReport(
        success=bool(result.success) and relation is None,
        statistics=json_safe(statistics),
        failures=failures,
        dataset_sha256=dataset_sha256,
        source=source,
    )


def _check_relation(frame: pd.DataFrame, relation: Relation) -> ValidationFailure | None:
    """None when the columns correlate enough. Rows that a range check rejects (NaN, inf, 1e300)
    are left out: they fail there, and would only turn the correlation into NaN here."""
    import numpy as np
    import pandas as pd

    def failed(detail: str) -> ValidationFailure:
        return ValidationFailure(RELATION_EXPECTATION, relation.column, None, [], detail)

    columns = [relation.column, relation.other]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        return failed(_missing_detail(missing))
    values = frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
    low = np.array([RANGES[c].min_value for c in columns])
    high = np.array([RANGES[c].max_value for c in columns])
    values = values[((values >= low) & (values <= high)).all(axis=1)]
    if len(values) < 3:
        return failed(f"could not evaluate: fewer than 3 rows in range in {' and '.join(columns)}")
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant column gives NaN: fails
        r = float(np.corrcoef(values.T)[0, 1])
    if r >= relation.min_r:
        return None
    return failed(
        f"correlation with {relation.other} is {r:.2f}, expected at least {relation.min_r:g} "
        f"({relation.real_r:g} in the real data; about 0 when rows are shuffled)"
    )


def _count_check(statistics: dict[str, Any], *, passed: bool) -> dict[str, Any]:
    """GX's counts, plus one check bench ran itself."""
    evaluated = int(statistics.get("evaluated_expectations") or 0) + 1
    successful = int(statistics.get("successful_expectations") or 0) + int(passed)
    statistics.update(
        evaluated_expectations=evaluated,
        successful_expectations=successful,
        unsuccessful_expectations=evaluated - successful,
        success_percent=100.0 * successful / evaluated,
    )
    return statistics


def format_report(report: ValidationReport) -> str:
    """Human text: a one-line OK summary, or a headline and one line per failure."""
    stats = report.statistics
    evaluated = stats.get("evaluated_expectations", "?")
    rows = stats.get("row_count", "?")
    sha = f", sha256 {report.dataset_sha256[:12]}" if report.dataset_sha256 else ""
    if report.success:
        return f"OK: {evaluated} expectations passed on {rows} rows ({report.source}{sha})"
    lines = [
        f"FAILED: {len(report.failures)} of {evaluated} expectations failed "
        f"on {rows} rows ({report.source}{sha})"
    ]
    lines += [f"  {_failure_line(failure, examples=True)}" for failure in report.failures]
    return "\n".join(lines)


def summarize_failures(report: ValidationReport, *, limit: int = 3) -> str:
    """The failures on one line (the first `limit`, then how many more): for errors and records."""
    parts = [_failure_line(f, examples=False) for f in report.failures[:limit]]
    if len(report.failures) > limit:
        parts.append(f"and {len(report.failures) - limit} more")
    return "; ".join(parts)


def validation_verdict(report: ValidationReport) -> str:
    """What a record says about its data under DATA_VALIDATION_KEY: `passed` or `failed: ...`."""
    return "passed" if report.success else f"failed: {summarize_failures(report)}"


def _failure_line(failure: ValidationFailure, *, examples: bool) -> str:
    where = failure.column or "(table)"
    count = "" if failure.unexpected_count is None else f", {failure.unexpected_count} unexpected"
    detail = f": {failure.detail}" if failure.detail else ""
    shown = f"; e.g. {_shorten(repr(failure.examples))}" if examples and failure.examples else ""
    return f"{where}: {failure.expectation}{count}{detail}{shown}"


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _expectations() -> list[Any]:
    """The suite, in report order: table shape first, then per-column checks."""
    import great_expectations.expectations as gxe

    suite: list[Any] = [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(COLUMNS), exact_match=True),
        gxe.ExpectTableRowCountToEqual(value=N_ROWS),
    ]
    for column in COLUMNS:
        bounds = RANGES[column]
        suite += [
            gxe.ExpectColumnValuesToBeInTypeList(column=column, type_list=list(FLOAT_DTYPES)),
            gxe.ExpectColumnValuesToNotBeNull(column=column),
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=bounds.min_value,
                max_value=bounds.max_value,
                strict_min=bounds.strict_min,
            ),
        ]
    suite.append(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(COLUMNS), mostly=UNIQUE_ROWS_MOSTLY)
    )
    return suite


def _ephemeral_context() -> Any:
    """An in-memory context: no files, no progress bars, no analytics, no network."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _key(expectation_type: str, kwargs: dict[str, Any]) -> tuple[str, str | None]:
    return expectation_type, kwargs.get("column")


def _failure(result: Any, columns: set[str]) -> ValidationFailure:
    """Translate one failed GX result, including those that raised instead of measuring."""
    config = result.expectation_config
    kwargs = config.kwargs
    outcome = result.result or {}
    column = kwargs.get("column")
    missing = [
        c for c in kwargs.get("column_list") or [column] if c is not None and c not in columns
    ]
    detail: str | None
    if missing:
        detail = _missing_detail(missing)
    elif _raised(result.exception_info):
        detail = f"could not evaluate: {_exception_message(result.exception_info)}"
    else:
        detail = _describe(config.type, kwargs, outcome, columns)
    count = outcome.get("unexpected_count")
    examples = outcome.get("partial_unexpected_list") or []
    return ValidationFailure(
        expectation=config.type,
        column=column,
        unexpected_count=None if count is None else int(count),
        examples=_distinct(json_safe([_shown(v) for v in examples]))[:EXAMPLES_PER_FAILURE],
        detail=detail,
    )


def _missing_detail(missing: list[str]) -> str:
    if len(missing) == 1:
        return f"column {missing[0]} is missing"
    return f"columns {', '.join(missing)} are missing"


def _shown(value: Any) -> Any:
    """Infinities as text: json_safe would turn them into null, which reads as a missing value."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isinf(value):
        return "inf" if float(value) > 0 else "-inf"
    return value


def _describe(
    expectation_type: str, kwargs: dict[str, Any], outcome: dict[str, Any], columns: set[str]
) -> str | None:
    """Short text for a failure that was measured: what was expected versus what was seen."""
    observed = outcome.get("observed_value")
    if expectation_type == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        low_op = "<" if kwargs.get("strict_min") else "<="
        high_op = "<" if kwargs.get("strict_max") else "<="
        left = "" if low is None else f"{low} {low_op} "
        right = "" if high is None else f" {high_op} {high}"
        return f"expected {left}value{right}"
    if expectation_type == "expect_column_values_to_be_in_type_list":
        return f"expected dtype {' or '.join(kwargs.get('type_list') or [])}, got {observed}"
    if expectation_type == "expect_column_values_to_not_be_null":
        return "expected no null values"
    if expectation_type == "expect_table_row_count_to_equal":
        return f"expected {kwargs.get('value')} rows, got {observed}"
    if expectation_type == "expect_table_columns_to_match_set":
        expected = set(kwargs.get("column_set") or [])
        parts = []
        if expected - columns:
            parts.append(f"missing {', '.join(sorted(expected - columns))}")
        if columns - expected:
            parts.append(f"unexpected {', '.join(sorted(columns - expected))}")
        return "; ".join(parts) or None
    if expectation_type == "expect_compound_columns_to_be_unique":
        share = 1 - float(kwargs.get("mostly") or 1.0)
        return f"rows that repeat another row exceed {share:.0%} of the table"
    return None


def _raised(info: Any) -> bool:
    """GX reports exceptions flat or keyed by metric id; either shape may appear."""
    if not isinstance(info, dict):
        return False
    if "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(isinstance(v, dict) and v.get("exception_message") for v in info.values())


def _exception_message(info: dict[str, Any]) -> str:
    entries = [info] if "raised_exception" in info else list(info.values())
    for entry in entries:
        message = isinstance(entry, dict) and entry.get("exception_message")
        if message:
            return str(message).strip().splitlines()[-1][:200]
    return "unknown error"


def _distinct(values: list[Any]) -> list[Any]:
    """First occurrence of each value: twenty copies of one duplicated row say nothing more."""
    seen: set[str] = set()
    kept = []
    for value in values:
        key = json.dumps(value, sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(value)
    return kept


def _read_csv(path: Path) -> pd.DataFrame:
    """pandas' reader, with its many failure types turned into one clear DatasetUnavailable."""
    if not path.is_file():
        problem = "is a directory" if path.is_dir() else "does not exist"
        raise DatasetUnavailable(f"CSV file {path} {problem}; give the path of a CSV file")
    import pandas as pd

    wanted = f"give a CSV with a header line and columns {','.join(COLUMNS)}"
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetUnavailable(f"cannot read {path} as CSV ({reason}); {wanted}") from exc
    if not set(COLUMNS) & {str(c) for c in frame.columns}:
        header = _shorten(",".join(str(c) for c in frame.columns), 60)
        raise DatasetUnavailable(
            f"{path} has none of the expected columns (header: {header}); {wanted}"
        )
    return frame


def _frame_fingerprint(frame: pd.DataFrame) -> str | None:
    """The same sha256 that load_dataset gives, when the frame has the numeric columns."""
    if not set(COLUMNS) <= {str(c) for c in frame.columns}:
        return None
    try:
        features = frame[list(FEATURES)].to_numpy(dtype="float64")
        target = frame[TARGET].to_numpy(dtype="float64")
    except (TypeError, ValueError):
        return None
    return fingerprint(features, target)
