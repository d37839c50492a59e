"""`bench ack`: a note is required, a metric is acknowledged once per run, an acknowledgement can
be withdrawn (and detection then judges against the old level again); `bench detect` shows
memory in MiB like every other command."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bench.analysis import acknowledge, detect_regressions, list_acknowledgements
from bench.cli import main
from bench.config import Case
from bench.measure import MIB
from bench.warehouse import store_record
from bench.warehouse.engine import get_engine
from bench.warehouse.runs import read_flags
from tests import builders

from .conftest import StoreSeries, wobble

STEADY = "steady_epoch_seconds"
CASE = Case("torch", "eager", "cpu")
ACK = ["ack", "--framework", "torch", "--mode", "eager", "--metric", STEADY]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def ack_rows(url: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM acknowledgements")).scalar_one())


@pytest.fixture
def slowed(store_series: StoreSeries) -> list[str]:
    """30 steady nights at 0.5 s, then 3 at 0.6 s (+20%)."""
    return store_series(
        [wobble(i, 0.5) for i in range(30)] + [wobble(i, 0.6) for i in range(30, 33)]
    )


def test_an_acknowledgement_needs_a_note(warehouse_url: str, slowed: list[str], capsys) -> None:
    code, out, err = run([*ACK, "--from", slowed[30]], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "bench ack needs --note" in err
    code, _, err = run([*ACK, "--from", slowed[30], "--note", "  "], capsys)
    assert code == 2 and "--note" in err
    code, _, err = run([*ACK, "--note", "why"], capsys)
    assert code == 2 and "needs --from" in err
    assert ack_rows(warehouse_url) == 0


def test_a_duplicate_is_refused_and_nothing_is_stored(
    warehouse_url: str, slowed: list[str], capsys
) -> None:
    assert run([*ACK, "--from", slowed[30], "--note", "new loop"], capsys)[0] == 0
    # with a new metric alongside: all or nothing
    argv = [*ACK, "--metric", "total_seconds", "--from", slowed[30], "--note", "again"]
    code, _, err = run(argv, capsys)
    assert code == 1 and len(err.splitlines()) == 1
    assert f"torch-eager-cpu {STEADY} is already acknowledged from run {slowed[30]}" in err
    assert "bench ack --withdraw 1" in err
    assert ack_rows(warehouse_url) == 1
    with pytest.raises(ValueError, match="already acknowledged"):
        acknowledge(CASE, [STEADY], slowed[30], note="library too", url=warehouse_url)
    # another run starts another level: not a duplicate
    assert acknowledge(CASE, [STEADY], slowed[31], note="later", url=warehouse_url) == [2]


def acknowledged(url: str, run_id: str) -> dict[str, int | None]:
    """The stored flags of a run: metric -> id of the acknowledgement that covers it."""
    with get_engine(url).connect() as conn:
        flags = read_flags(conn, run_ids=[run_id])
    return {f.metric: f.acknowledgement and f.acknowledgement.id for f in flags}


def test_a_withdrawn_acknowledgement_is_no_longer_honoured(
    warehouse_url: str, slowed: list[str], capsys
) -> None:
    assert run(["detect"], capsys)[0] == 2  # the step is a regression (flags stored)
    argv = [*ACK, "--metric", "total_seconds", "--from", slowed[30], "--note", "new loop"]
    code, out, _ = run(argv, capsys)
    assert code == 0 and "(id 1, 2;" in out
    code, out, _ = run(["ack", "--list"], capsys)
    assert out.splitlines()[0].split()[:2] == ["id", "framework"]
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["1", "2"]
    assert acknowledged(warehouse_url, slowed[-1]) == {STEADY: 1, "total_seconds": 2}
    assert run(["detect", "--no-store"], capsys)[0] == 0  # a new, short baseline

    code, out, _ = run(["ack", "--withdraw", "1"], capsys)
    assert code == 0 and f"withdrew acknowledgement 1: torch-eager-cpu {STEADY}" in out
    assert [a.metric for a in list_acknowledgements(url=warehouse_url)] == ["total_seconds"]
    assert acknowledged(warehouse_url, slowed[-1]) == {STEADY: None, "total_seconds": 2}
    result = detect_regressions(url=warehouse_url, store=False)
    labels = {f.metric: f.label for f in result.flags}
    assert labels == {STEADY: "regression", "total_seconds": "insufficient"}

    code, _, err = run(["ack", "--withdraw", "1"], capsys)
    assert code == 1 and "no acknowledgement 1" in err and len(err.splitlines()) == 1
    code, _, err = run(["ack", "--withdraw", "1", "--note", "x"], capsys)
    assert code == 2 and "--withdraw ID takes no other option" in err


def test_detect_shows_memory_in_mib(warehouse_url: str, capsys) -> None:
    for day in range(33):
        grown = 1.3 if day >= 30 else 1.0
        record = builders.make_record(
            f"run-{day:03d}",
            trigger="scheduled",
            started_at=builders.nightly(day),
            steady=wobble(day, 0.5),
            peak_rss_bytes=round(wobble(day, 500) * grown * MIB),
        )
        store_record(record, url=warehouse_url)
    code, out, _ = run(["detect", "--no-store"], capsys)
    assert code == 2, out
    [row] = [line.split() for line in out.splitlines() if "peak_rss_bytes" in line.split()]
    header = next(line.split() for line in out.splitlines() if line.startswith("label"))
    shown = dict(zip(header, row, strict=False))
    assert shown["unit"] == "MiB"
    assert 640 < float(shown["value"]) < 660 and 490 < float(shown["baseline_value"]) < 510
    code, out, _ = run(["detect", "--no-store", "--format", "json"], capsys)
    reason = next(line for line in json.loads(out)["summary"].splitlines() if "peak_rss" in line)
    assert " MiB (+" in reason and "e+08" not in reason, reason
