"""`bench ingest` of a records bundle (.jsonl, one record per line: what the GPU check brings
back): every good line stored, every bad one listed as FILE:LINE, exit 1, as for files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.cli import main
from bench.records import Record
from bench.serialize import to_json
from bench.warehouse import results_for_run, spool_dir


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def line(record: Record) -> str:
    return to_json(record.to_dict(), indent=None)


def cases(make: Callable[..., Record], run_id: str) -> list[Record]:
    return [
        make(run_id, (fw, mode, "gpu"))
        for fw, mode in (("torch", "eager"), ("torch", "compile"), ("jax", "jit"))
    ]


def test_a_bundle_stores_each_line_as_a_record(
    warehouse_url: str, record_factory: Callable[..., Record], tmp_path: Path, capsys
) -> None:
    bundle = tmp_path / "records.jsonl"
    bundle.write_text("".join(line(r) + "\n" for r in cases(record_factory, "gpu-1")))
    code, out, err = run(["ingest", str(bundle)], capsys)
    assert (code, err) == (0, "") and "stored 3 record(s)" in out
    assert run(["ingest", str(bundle)], capsys)[0] == 0  # idempotent
    rows = results_for_run("gpu-1", warehouse_url)
    assert sorted((r["framework"], r["mode"]) for r in rows) == [
        ("jax", "jit"),
        ("torch", "compile"),
        ("torch", "eager"),
    ]


def test_bad_lines_are_listed_by_line_and_the_good_ones_stored(
    warehouse_url: str, record_factory: Callable[..., Record], tmp_path: Path, capsys
) -> None:
    good = cases(record_factory, "gpu-2")
    fast = json.loads(line(record_factory("gpu-2", ("torch", "dataloader", "gpu"))))
    fast["steady_epoch_seconds"] = "fast"
    bundle = tmp_path / "records.jsonl"
    bundle.write_text(
        "\n".join(
            [
                line(good[0]),
                "{not json",
                "",
                json.dumps(fast),
                line(good[1]),
                "[1, 2]",
                line(good[2]),
            ]
        )
        + "\n"
    )
    code, out, err = run(["ingest", str(bundle)], capsys)
    assert code == 1 and "stored 3 record(s)" in out
    errors = err.strip().splitlines()
    assert errors[0].startswith(f"bench ingest: error: {bundle}:2: not valid JSON")
    assert errors[1] == (
        f"bench ingest: error: {bundle}:4: record field steady_epoch_seconds: 'fast' is not a "
        "number"
    )
    assert errors[2].startswith(f"bench ingest: error: {bundle}:6: not a bench record")
    assert errors[3].endswith(
        "3 line(s) of .jsonl bundles could not be read or stored as records (listed above); "
        "the others were stored"
    )
    assert "Traceback" not in err and len(errors) == 4
    assert len(results_for_run("gpu-2", warehouse_url)) == 3


def test_a_folder_holds_files_and_bundles_and_bad_ones_of_each_are_counted(
    warehouse_url: str, record_factory: Callable[..., Record], tmp_path: Path, capsys
) -> None:
    first, second, third = cases(record_factory, "gpu-3")
    first.write(tmp_path / "one.json")
    (tmp_path / "records.jsonl").write_text(f"{line(second)}\n{line(third)}\nnope\n")
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "summary.md").write_text("# not a record\n")  # neither suffix: not read
    code, out, err = run(["ingest", str(tmp_path)], capsys)
    assert code == 1 and "stored 3 record(s)" in out
    assert f"{tmp_path / 'records.jsonl'}:3: not valid JSON" in err and "summary.md" not in err
    assert err.strip().endswith(
        "1 file(s) and 1 line(s) of .jsonl bundles could not be read or stored as records "
        "(listed above); the others were stored"
    )


def test_a_bundle_leaves_the_spool_only_when_every_line_was_stored(
    warehouse_url: str, record_factory: Callable[..., Record], capsys
) -> None:
    spool_dir().mkdir(parents=True, exist_ok=True)
    whole = spool_dir() / "whole.jsonl"
    whole.write_text(line(record_factory("gpu-4")) + "\n")
    partial = spool_dir() / "partial.jsonl"
    partial.write_text(line(record_factory("gpu-5")) + "\n{not json\n")
    code, out, _ = run(["ingest", str(whole), str(partial)], capsys)
    assert code == 1 and "stored 2 record(s)" in out and "1 removed from the spool" in out
    assert not whole.exists() and partial.exists()


def test_an_unreadable_bundle_is_one_bad_file(
    warehouse_url: str, record_factory: Callable[..., Record], tmp_path: Path, capsys
) -> None:
    bundle = tmp_path / "records.jsonl"
    bundle.write_bytes(b"\xff\xfe not text\n")
    good = record_factory("gpu-6").write(tmp_path / "good.json")
    code, out, err = run(["ingest", str(bundle), str(good)], capsys)
    assert code == 1 and "stored 1 record(s)" in out
    assert f"bench ingest: error: {bundle}: " in err
    assert "1 file(s) could not be read or stored as records" in err
