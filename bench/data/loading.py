"""Load California Housing via sklearn; split deterministically; standardize on train only."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.config import WORKLOAD

if TYPE_CHECKING:
    import pandas as pd

FEATURES: tuple[str, ...] = (
    "MedInc",
    "HouseAge",
    "AveRooms",
    "AveBedrms",
    "Population",
    "AveOccup",
    "Latitude",
    "Longitude",
)
TARGET = "MedHouseVal"
N_ROWS = 20_640
CACHE_FILE = "cal_housing_py3.pkz"  # what sklearn names its cache in data_home


class DatasetUnavailable(RuntimeError):
    """The dataset is neither cached nor downloadable; the message says how to fix it."""


@dataclass(frozen=True)
class Dataset:
    features: np.ndarray  # (n, 8) float64, sklearn's column order
    target: np.ndarray  # (n,) float64
    sha256: str

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame(self.features, columns=list(FEATURES))
        frame[TARGET] = self.target
        return frame


@dataclass(frozen=True)
class Split:
    """Standardized float32 arrays ready for either framework."""

    x_train: np.ndarray
    y_train: np.ndarray  # (n, 1)
    x_test: np.ndarray
    y_test: np.ndarray  # (n, 1)
    sha256: str


def fingerprint(features: np.ndarray, target: np.ndarray) -> str:
    """sha256 of the loaded arrays (float64, C order): changes when any value changes."""
    digest = hashlib.sha256()
    for array in (features, target):
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()


def resolve_data_home(data_home: str | os.PathLike[str] | None = None) -> str | None:
    """Explicit value, else BENCH_DATA_HOME, else None (sklearn's default location)."""
    if data_home is not None:
        return os.fspath(data_home)
    return os.environ.get("BENCH_DATA_HOME") or None


def load_dataset(data_home: str | os.PathLike[str] | None = None) -> Dataset:
    """California Housing exactly as sklearn returns it (downloads once when online)."""
    from sklearn.datasets import fetch_california_housing, get_data_home

    home = resolve_data_home(data_home)
    if home is not None and not Path(home).is_dir():
        raise DatasetUnavailable(
            f"data directory {home} does not exist; set BENCH_DATA_HOME to a folder holding "
            f"sklearn's {CACHE_FILE} (or to an empty folder to download it)"
        )
    try:
        bunch = fetch_california_housing(data_home=home)
    except Exception as exc:
        cache = Path(get_data_home(home)) / CACHE_FILE
        if cache.is_file():  # a half-written or foreign file fails in joblib or numpy, many ways
            raise _unreadable_cache(cache, exc) from exc
        if not isinstance(exc, OSError):
            raise
        where = home or "sklearn's default data home"  # URLError and friends: offline, no cache
        raise DatasetUnavailable(
            f"California Housing is not cached in {where} and could not be downloaded "
            f"({exc.__class__.__name__}); set BENCH_DATA_HOME to a folder with "
            f"{CACHE_FILE} (e.g. ../shared/data/scikit_learn_data)"
        ) from exc
    features = np.asarray(bunch.data, dtype=np.float64)
    target = np.asarray(bunch.target, dtype=np.float64)
    return Dataset(features=features, target=target, sha256=fingerprint(features, target))


def _unreadable_cache(cache: Path, exc: Exception) -> DatasetUnavailable:
    """One line naming the cache, what went wrong and the fix."""
    if isinstance(exc, PermissionError):
        return DatasetUnavailable(
            f"cannot read the dataset cache {cache} (permission denied); make it readable "
            "or set BENCH_DATA_HOME to another folder"
        )
    message = " ".join(str(exc).split())[:200]
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return DatasetUnavailable(
        f"the dataset cache {cache} is corrupt ({reason}); delete it so it is downloaded "
        f"again, or replace it with a good {CACHE_FILE} (e.g. ../shared/data/scikit_learn_data)"
    )


def split_dataset(
    dataset: Dataset, *, seed: int, test_fraction: float = WORKLOAD.test_fraction
) -> Split:
    """Shuffle with `seed`, cut 80/20, standardize with train mean/std only, cast to float32."""
    n = len(dataset.target)
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    test_idx, train_idx = order[:n_test], order[n_test:]
    x_train, x_test = dataset.features[train_idx], dataset.features[test_idx]
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0
    return Split(
        x_train=((x_train - mean) / std).astype(np.float32),
        y_train=dataset.target[train_idx].astype(np.float32).reshape(-1, 1),
        x_test=((x_test - mean) / std).astype(np.float32),
        y_test=dataset.target[test_idx].astype(np.float32).reshape(-1, 1),
        sha256=dataset.sha256,
    )
