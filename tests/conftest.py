"""Shared fixtures: the real California Housing copy and a way to prove code stays offline."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

DEFAULT_DATA_HOME = Path(__file__).resolve().parents[1] / "../shared/data/scikit_learn_data"


@pytest.fixture(scope="session")
def data_home() -> Path:
    """sklearn data folder with cal_housing_py3.pkz: BENCH_DATA_HOME, else ../shared/data."""
    path = Path(os.environ.get("BENCH_DATA_HOME") or DEFAULT_DATA_HOME).resolve()
    if not (path / "cal_housing_py3.pkz").is_file():
        pytest.fail(
            f"California Housing cache not found at {path / 'cal_housing_py3.pkz'}; "
            "set BENCH_DATA_HOME to a folder holding sklearn's cal_housing_py3.pkz",
            pytrace=False,
        )
    return path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every connection attempt and DNS lookup raises OSError; returns the attempted addresses."""
    attempts: list[object] = []

    def refuse_connect(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network blocked by test")

    def refuse_lookup(host: object, *args: object, **kwargs: object) -> list[object]:
        attempts.append(host)
        raise socket.gaierror("network blocked by test")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    return attempts
