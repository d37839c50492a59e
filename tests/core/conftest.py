from __future__ import annotations

from pathlib import Path

import pytest

from bench.config import RunSettings


@pytest.fixture
def settings(data_home: Path, compile_cache: Path, monkeypatch: pytest.MonkeyPatch) -> RunSettings:
    monkeypatch.setenv("BENCH_COMPILE_CACHE", str(compile_cache))
    return RunSettings(epochs=2, seed=42, threads=1, data_home=str(data_home), timeout_seconds=600)
