from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.config import Case
from bench.records import Record, environment_fingerprint
from tests.builders import make_record


def test_timing_steady_is_median_after_first_epoch() -> None:
    record = make_record(epoch_seconds=[5.0, 1.0, 3.0, 2.0])
    record.finalize_timing()
    assert record.steady_epoch_seconds == 2.0
    assert record.compile_seconds == 3.0


def test_single_epoch_has_no_steady_state() -> None:
    record = make_record(epoch_seconds=[5.0])
    record.finalize_timing()
    assert record.steady_epoch_seconds is None and record.compile_seconds is None


def test_round_trip_and_atomic_write(tmp_path: Path) -> None:
    record = make_record(epoch_seconds=[2.0, 1.0])
    record.finalize_timing()
    path = record.write(tmp_path / "sub" / "r.json")
    assert not list(tmp_path.glob("sub/*.tmp"))
    again = Record.read(path)
    assert again.to_dict() == record.to_dict()
    assert json.loads(path.read_text())["case"] == {
        "framework": "torch",
        "mode": "eager",
        "device": "cpu",
    }


def test_bad_records_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing field"):
        Record.from_dict({"run_id": "x"})
    with pytest.raises(ValueError, match="status 'weird'"):
        Record.from_dict(
            {"run_id": "x", "case": Case("torch", "eager", "cpu").as_dict(), "status": "weird"}
        )
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        Record.read(bad)


def test_fingerprint_tracks_what_makes_results_comparable() -> None:
    env = {
        "cpu_model": "X",
        "gpu_name": None,
        "framework": "torch",
        "framework_version": "2.13.0+cpu",
        "threads": {"intra_op": 1},
        "hostname": "a",
    }
    base = environment_fingerprint(env, "sha")
    assert environment_fingerprint({**env, "hostname": "b"}, "sha") == base
    assert environment_fingerprint({**env, "framework_version": "2.13.1"}, "sha") == base
    assert environment_fingerprint({**env, "framework_version": "2.14.0"}, "sha") != base
    assert environment_fingerprint({**env, "threads": {"intra_op": 2}}, "sha") != base
    assert environment_fingerprint(env, "other") != base
