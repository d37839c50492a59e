"""The BENCHMARKS.md tables from a matrix run's records, with and without repeats."""

from __future__ import annotations

from dataclasses import replace

from bench.arithmetic_floor import FLOOR_KEY
from bench.records import Record
from benchmarks.cpu_table import case_table, main, repeats_table
from tests import builders


def repeats(steadies: list[float]) -> list[Record]:
    """One 30-epoch record per repeat of torch-eager-cpu, with these steady times."""
    return [
        replace(
            builders.make_record("m", builders.CASE, epochs=30, steady=s),
            repeat=k,
            repeats=len(steadies),
        )
        for k, s in enumerate(steadies, start=1)
    ]


def test_case_table_summarizes_repeats_and_shows_both_intervals() -> None:
    records = repeats([0.10, 0.11, 0.105])
    lines = case_table(records).splitlines()
    assert len(lines) == 3
    cells = [c.strip() for c in lines[2].split("|")]
    assert cells[1] == "torch-eager-cpu" and cells[3] == "0.1050"
    assert cells[6] == "3", "repeats"
    assert cells[5].endswith("%") and cells[7].endswith("%")


def test_repeats_table_widths_shrink_and_wall_time_grows_with_repeats() -> None:
    records = repeats([0.10, 0.11, 0.105, 0.102, 0.108])
    lines = repeats_table(records, wall_seconds=600).splitlines()[2:]
    assert [line.split("|")[2].strip() for line in lines] == [
        "2.0 min", "4.0 min", "6.0 min", "8.0 min", "10.0 min",
    ]  # fmt: skip
    widths = [float(line.split("|")[3].strip().rstrip("%")) for line in lines[1:]]
    assert widths[-1] < widths[0], "five processes pin the median down better than two"


def test_with_a_floor_each_case_shows_its_steady_time_in_floors() -> None:
    records = repeats([0.10, 0.11, 0.105])
    lines = case_table(records, floor_s=0.0021).splitlines()
    header = [c.strip() for c in lines[0].split("|")]
    assert header[3:5] == ["steady s/epoch", "x floor"]
    assert lines[1].count("|") == lines[0].count("|") == lines[2].count("|")
    cells = [c.strip() for c in lines[2].split("|")]
    assert cells[4] == "50.0", "0.105 s / 2.1 ms"
    assert "x floor" not in case_table(records)


def test_without_a_floor_file_the_records_own_floors_are_used(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    records = repeats([0.10, 0.11, 0.105])
    for record, floor in zip(records, (0.0019, 0.0021, 0.0030), strict=True):
        record.environment[FLOOR_KEY] = floor
        record.write(tmp_path / f"r{record.repeat}.json")
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "floor: 2.10 ms/epoch (median of the floors 3 records measured)" in out
    assert "| 50.0 |" in out, "0.105 s / 2.1 ms"
