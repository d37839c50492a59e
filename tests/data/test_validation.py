"""The Great Expectations suite: real data passes, each kind of corruption fails by name."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from bench.data.loading import DatasetUnavailable, load_dataset
from bench.data.validation import (
    COLUMNS,
    RANGES,
    RELATION_EXPECTATION,
    TARGET_RELATION,
    format_report,
    summarize_failures,
    validate_dataset,
    validate_frame,
    validation_verdict,
)
from bench.records import ValidationFailure, ValidationReport

if TYPE_CHECKING:
    import pandas as pd

REPO = Path(__file__).resolve().parents[2]
# Table shape, per-column dtype/null/range, duplicates, and bench's MedInc-MedHouseVal correlation.
N_EXPECTATIONS = 2 + 3 * len(COLUMNS) + 1 + 1
BETWEEN = "expect_column_values_to_be_between"


@pytest.fixture(scope="session")
def real_csv(data_home: Path) -> Path:
    path = data_home.parent / "california_housing.csv"
    if not path.is_file():
        pytest.fail(f"{path} not found; it sits beside the sklearn data folder", pytrace=False)
    return path


@pytest.fixture(scope="module")
def real_frame(data_home: Path) -> pd.DataFrame:
    return load_dataset(data_home).frame()


@pytest.fixture
def frame(real_frame: pd.DataFrame) -> pd.DataFrame:
    """A private copy to corrupt (corruptions may edit it in place and return it)."""
    return real_frame.copy()


def failures_by_key(report: ValidationReport) -> dict[tuple[str, str | None], ValidationFailure]:
    return {(f.expectation, f.column): f for f in report.failures}


def test_real_data_passes_from_sklearn(data_home: Path) -> None:
    report = validate_dataset(data_home=data_home)
    assert report.success, format_report(report)
    assert report.failures == []
    assert report.source == "sklearn"
    assert report.dataset_sha256 == load_dataset(data_home).sha256
    assert report.statistics["row_count"] == 20640
    assert report.statistics["evaluated_expectations"] == N_EXPECTATIONS
    assert report.statistics["unsuccessful_expectations"] == 0
    assert report.statistics["success_percent"] == 100.0


def test_real_csv_passes_with_the_same_fingerprint(real_csv: Path, data_home: Path) -> None:
    report = validate_dataset(csv_path=real_csv)
    assert report.success, format_report(report)
    assert report.source == "csv"
    assert report.dataset_sha256 == load_dataset(data_home).sha256


def _nans(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[::50, "AveOccup"] = np.nan
    return frame


def _drop_column(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="HouseAge")


def _rename_column(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"Latitude": "lat"})


def _out_of_range(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[7, "Latitude"] = 60.0
    return frame


def _duplicate_flood(frame: pd.DataFrame) -> pd.DataFrame:
    frame.iloc[1:2001] = frame.iloc[0].to_numpy()
    return frame


def _string_column(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(MedInc=frame["MedInc"].astype(str))


def _zero_population(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[3, "Population"] = 0.0
    return frame


def _short_table(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[10:]


@pytest.mark.parametrize(
    ("corrupt", "expectation", "column", "detail"),
    [
        (_nans, "expect_column_values_to_not_be_null", "AveOccup", "no null"),
        (_drop_column, "expect_table_columns_to_match_set", None, "missing HouseAge"),
        (_drop_column, "expect_column_values_to_be_between", "HouseAge", "HouseAge is missing"),
        (_drop_column, "expect_column_values_to_not_be_null", "HouseAge", "HouseAge is missing"),
        (_rename_column, "expect_table_columns_to_match_set", None, "unexpected lat"),
        (_rename_column, "expect_column_values_to_be_between", "Latitude", "Latitude is missing"),
        (_out_of_range, "expect_column_values_to_be_between", "Latitude", "32.5 <= value <= 42.0"),
        (_duplicate_flood, "expect_compound_columns_to_be_unique", None, "1%"),
        (_string_column, "expect_column_values_to_be_in_type_list", "MedInc", "float64"),
        (_zero_population, "expect_column_values_to_be_between", "Population", "0.0 < value"),
        (_short_table, "expect_table_row_count_to_equal", None, "expected 20640 rows, got 20630"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_corruption_fails_naming_expectation_and_column(
    frame: pd.DataFrame,
    corrupt: Callable[[pd.DataFrame], pd.DataFrame],
    expectation: str,
    column: str | None,
    detail: str,
) -> None:
    report = validate_frame(corrupt(frame))
    assert not report.success
    failures = failures_by_key(report)
    assert (expectation, column) in failures, format_report(report)
    assert detail in (failures[(expectation, column)].detail or "")
    json.dumps(report.to_dict(), allow_nan=False)  # NaN examples and numpy scalars are cleaned


def test_value_failures_count_and_show_examples(frame: pd.DataFrame) -> None:
    frame.loc[[7, 8], "Latitude"] = [60.0, 61.5]
    failures = failures_by_key(validate_frame(_nans(frame)))
    latitude = failures[("expect_column_values_to_be_between", "Latitude")]
    assert latitude.unexpected_count == 2
    assert latitude.examples == [60.0, 61.5]
    nulls = failures[("expect_column_values_to_not_be_null", "AveOccup")]
    assert nulls.unexpected_count == 413
    assert nulls.examples == [None]
    assert len(failures) == 2  # NaN is not also reported as out of range


@pytest.mark.parametrize(
    ("value", "shown"),
    [(np.inf, "inf"), (-np.inf, "-inf"), (1e300, 1e300)],
    ids=["inf", "-inf", "1e300"],
)
def test_every_column_rejects_non_finite_and_absurd_values(
    frame: pd.DataFrame, value: float, shown: object
) -> None:
    """One bad value per column, each in its own row: every column reports exactly that one."""
    for row, column in enumerate(COLUMNS):
        frame.loc[100 * row, column] = value
    report = validate_frame(frame)
    assert not report.success
    failures = failures_by_key(report)
    assert len(failures) == len(COLUMNS), format_report(report)  # the correlation still holds
    for column in COLUMNS:
        failure = failures[(BETWEEN, column)]
        assert failure.unexpected_count == 1, format_report(report)
        assert failure.examples == [shown]  # infinities shown as text, not as a null


def test_every_range_is_finite_and_holds_the_real_data(real_frame: pd.DataFrame) -> None:
    for column, bounds in RANGES.items():
        assert np.isfinite([bounds.min_value, bounds.max_value]).all(), column
        values = real_frame[column]
        low_ok = values > bounds.min_value if bounds.strict_min else values >= bounds.min_value
        assert low_ok.all() and (values <= bounds.max_value).all(), column


def test_shuffled_target_fails_on_the_correlation_alone(frame: pd.DataFrame) -> None:
    """A permuted target keeps every column's values, so only the relation between rows shows it."""
    frame["MedHouseVal"] = np.random.default_rng(13).permutation(frame["MedHouseVal"].to_numpy())
    report = validate_frame(frame)
    assert not report.success
    assert list(failures_by_key(report)) == [(RELATION_EXPECTATION, "MedHouseVal")]
    found = re.search(r"correlation with MedInc is (-?[\d.]+)", report.failures[0].detail or "")
    assert found and abs(float(found.group(1))) < 0.05, report.failures[0].detail
    assert report.statistics["unsuccessful_expectations"] == 1
    assert report.statistics["evaluated_expectations"] == N_EXPECTATIONS


def test_real_data_keeps_a_wide_margin_above_the_correlation_threshold(
    real_frame: pd.DataFrame,
) -> None:
    r = float(np.corrcoef(real_frame["MedInc"], real_frame["MedHouseVal"])[0, 1])
    assert r == pytest.approx(TARGET_RELATION.real_r, abs=0.005)
    assert r - TARGET_RELATION.min_r > 0.3


def test_verdict_and_summary_are_one_line(real_frame: pd.DataFrame, frame: pd.DataFrame) -> None:
    assert validation_verdict(validate_frame(real_frame)) == "passed"
    frame["Latitude"] += 20
    verdict = validation_verdict(validate_frame(frame))
    assert verdict == (
        "failed: Latitude: expect_column_values_to_be_between, 20640 unexpected: "
        "expected 32.5 <= value <= 42.0"
    )
    many = summarize_failures(validate_frame(_drop_column(_nans(frame))))
    assert "\n" not in many and many.endswith("more") and many.count(";") == 3


def test_a_handful_of_duplicate_rows_passes(frame: pd.DataFrame) -> None:
    frame.iloc[1:6] = frame.iloc[0].to_numpy()
    report = validate_frame(frame)
    assert report.success, format_report(report)


def test_only_the_exact_column_set_passes(frame: pd.DataFrame) -> None:
    frame["Extra"] = 1.0
    failures = failures_by_key(validate_frame(frame))
    assert list(failures) == [("expect_table_columns_to_match_set", None)]


def test_report_round_trips_through_json(frame: pd.DataFrame) -> None:
    report = validate_frame(_drop_column(_nans(frame)), source="test", dataset_sha256="abc")
    restored = ValidationReport.from_dict(json.loads(json.dumps(report.to_dict(), allow_nan=False)))
    assert restored == report


def test_format_report_lists_each_failure(frame: pd.DataFrame) -> None:
    text = format_report(validate_frame(_nans(_out_of_range(frame))))
    lines = text.splitlines()
    assert lines[0].startswith("FAILED: 2 of")
    assert any(
        "Latitude" in line
        and "expect_column_values_to_be_between" in line
        and "1 unexpected" in line
        and "60.0" in line
        for line in lines[1:]
    )
    assert len(lines) == 3


def test_format_report_ok_is_one_line(real_frame: pd.DataFrame) -> None:
    text = format_report(validate_frame(real_frame))
    assert text.startswith("OK:") and "\n" not in text
    assert f"{N_EXPECTATIONS} expectations" in text


def test_validation_never_touches_the_network(
    real_frame: pd.DataFrame, no_network: list[object]
) -> None:
    assert validate_frame(real_frame.head(100)).failures
    assert no_network == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "does not exist"),
        (b"", "cannot read"),
        (b"\xff\xfe\x00\x81" * 50, "cannot read"),
        (b"-122.23,37.88,41.0\n-122.22,37.86,21.0\n", "none of the expected columns"),
    ],
    ids=["missing", "empty", "binary", "no-header"],
)
def test_unreadable_csv_is_unavailable(tmp_path: Path, content: bytes | None, problem: str) -> None:
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DatasetUnavailable, match=problem):
        validate_dataset(csv_path=path)


def test_csv_and_data_home_together_are_rejected(real_csv: Path, data_home: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        validate_dataset(csv_path=real_csv, data_home=data_home)


def test_module_imports_without_pandas_or_great_expectations() -> None:
    code = (
        "import sys, bench.data.validation; "
        "heavy = {'pandas', 'great_expectations'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# The `bench validate` command.


def run_cli(*args: str) -> int:
    from bench.cli import main

    return main(["validate", *args])


def test_cli_real_csv_exits_0(real_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("--csv", str(real_csv)) == 0
    assert capsys.readouterr().out.startswith("OK:")


def test_cli_data_home_exits_0(data_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("--data-home", str(data_home)) == 0
    assert "sklearn" in capsys.readouterr().out


def test_cli_corrupted_csv_exits_1_and_writes_json(
    frame: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "bad.csv"
    _out_of_range(frame).to_csv(csv, index=False)
    report_path = tmp_path / "out" / "report.json"
    assert run_cli("--csv", str(csv), "--json", str(report_path)) == 1
    out = capsys.readouterr().out
    assert "expect_column_values_to_be_between" in out and "Latitude" in out
    saved = json.loads(report_path.read_text())
    assert saved["success"] is False
    assert saved["failures"][0]["column"] == "Latitude"


def test_cli_missing_csv_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("--csv", str(tmp_path / "absent.csv")) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "absent.csv does not exist" in captured.err


def test_cli_missing_data_home_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("--data-home", str(tmp_path / "nowhere")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "BENCH_DATA_HOME" in err


def test_cli_rejects_csv_with_data_home(real_csv: Path, data_home: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli("--csv", str(real_csv), "--data-home", str(data_home))
    assert exit_info.value.code == 2


def test_cli_as_a_process(real_csv: Path, tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "bench", "validate", "--csv", str(real_csv)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK:")
    assert "it/s" not in ok.stderr and "Calculating Metrics" not in ok.stderr  # no progress bars
    missing = subprocess.run(
        [sys.executable, "-m", "bench", "validate", "--csv", str(tmp_path / "absent.csv")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("bench validate: error:") and missing.stderr.count("\n") == 1
