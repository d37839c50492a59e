"""Loading, fingerprinting and splitting California Housing (real data, offline)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bench.data.loading import (
    CACHE_FILE,
    FEATURES,
    N_ROWS,
    TARGET,
    Dataset,
    DatasetUnavailable,
    fingerprint,
    load_dataset,
    split_dataset,
)

# sha256 of the float64 arrays sklearn returns; the values do not depend on library versions.
REAL_SHA256 = "f8ce03213e1c375e51c57d02cb41558c30b643325347f1cc0b26ce713ce3a0b7"


@pytest.fixture(scope="module")
def dataset(data_home: Path) -> Dataset:
    return load_dataset(data_home)


def test_dataset_has_sklearn_shape_and_dtype(dataset: Dataset) -> None:
    assert dataset.features.shape == (N_ROWS, len(FEATURES)) == (20640, 8)
    assert dataset.target.shape == (20640,)
    assert dataset.features.dtype == dataset.target.dtype == np.float64


def test_frame_has_features_then_target(dataset: Dataset) -> None:
    frame = dataset.frame()
    assert list(frame.columns) == [*FEATURES, TARGET]
    assert frame.shape == (20640, 9)


def test_fingerprint_is_stable(dataset: Dataset, data_home: Path) -> None:
    assert dataset.sha256 == REAL_SHA256
    assert load_dataset(data_home).sha256 == dataset.sha256
    assert fingerprint(dataset.features, dataset.target) == dataset.sha256


def test_fingerprint_changes_when_one_value_changes(dataset: Dataset) -> None:
    features = dataset.features.copy()
    features[123, 4] += 1.0
    assert fingerprint(features, dataset.target) != dataset.sha256
    target = dataset.target.copy()
    target[-1] = np.nextafter(target[-1], np.inf)
    assert fingerprint(dataset.features, target) != dataset.sha256


def test_split_is_deterministic_for_a_seed(dataset: Dataset) -> None:
    first, again = split_dataset(dataset, seed=7), split_dataset(dataset, seed=7)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    other = split_dataset(dataset, seed=8)
    assert not np.array_equal(first.y_train, other.y_train)
    assert first.sha256 == other.sha256 == dataset.sha256


def test_split_is_80_20_with_float32_outputs(dataset: Dataset) -> None:
    split = split_dataset(dataset, seed=42)
    assert split.x_train.shape == (16512, 8)
    assert split.x_test.shape == (4128, 8)
    assert split.y_train.shape == (16512, 1)
    assert split.y_test.shape == (4128, 1)
    for array in (split.x_train, split.y_train, split.x_test, split.y_test):
        assert array.dtype == np.float32


def test_standardization_uses_train_statistics(dataset: Dataset) -> None:
    split = split_dataset(dataset, seed=42)
    np.testing.assert_allclose(split.x_train.mean(axis=0, dtype=np.float64), 0.0, atol=1e-5)
    np.testing.assert_allclose(split.x_train.std(axis=0, dtype=np.float64), 1.0, atol=1e-4)
    # Test statistics must not leak in: the test set is close to, but not exactly, centred.
    test_means = np.abs(split.x_test.mean(axis=0, dtype=np.float64))
    assert test_means.max() > 1e-3


def test_test_rows_are_scaled_with_train_mean_and_std() -> None:
    """Row i has features 10*i + column and target i, so the target says where a row came from."""
    n = 1000
    rows = np.arange(n, dtype=np.float64)
    features = rows[:, None] * 10.0 + np.arange(3, dtype=np.float64)
    toy = Dataset(features=features, target=rows, sha256="toy")
    split = split_dataset(toy, seed=3)
    train_raw = features[split.y_train[:, 0].astype(int)]
    test_raw = features[split.y_test[:, 0].astype(int)]
    expected = (test_raw - train_raw.mean(axis=0)) / train_raw.std(axis=0)
    np.testing.assert_allclose(split.x_test, expected, rtol=1e-5, atol=1e-5)
    assert len(split.y_test) == 200


def test_missing_data_home_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable, match="BENCH_DATA_HOME"):
        load_dataset(tmp_path / "nowhere")


@pytest.mark.filterwarnings("ignore:Retry downloading")
def test_empty_data_home_offline_is_unavailable(
    tmp_path: Path, no_network: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sklearn.datasets._base as sklearn_base

    monkeypatch.setattr(sklearn_base.time, "sleep", lambda seconds: None)  # skip retry delays
    with pytest.raises(DatasetUnavailable, match="BENCH_DATA_HOME"):
        load_dataset(tmp_path)
    assert no_network, "the download was expected to try the network"


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda good: b"this is not a joblib file\n" * 40,
        lambda good: good[: len(good) // 2],
        lambda good: b"",
    ],
    ids=["garbage", "truncated", "empty"],
)
def test_corrupt_cache_names_the_file_and_the_fix(
    tmp_path: Path, data_home: Path, corrupt: Callable[[bytes], bytes]
) -> None:
    cache = tmp_path / CACHE_FILE
    cache.write_bytes(corrupt((data_home / CACHE_FILE).read_bytes()))
    with pytest.raises(DatasetUnavailable) as raised:
        load_dataset(tmp_path)
    message = str(raised.value)
    assert f"the dataset cache {cache} is corrupt (" in message
    assert "delete it" in message and "\n" not in message
