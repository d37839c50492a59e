"""One home per idea: the record types live in bench.records only, constants are defined once,
and no two modules share a file name (so `findings.py` can never mean two things again)."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.records import (
    ALERT_LABELS,
    BLOCKING_LABELS,
    FLAG_LABELS,
    Acknowledgement,
    CaseResult,
    Flag,
    Record,
    RunInfo,
    ValidationReport,
    with_acknowledgements,
)

ROOT = Path(__file__).resolve().parents[2]
RECORDS = "bench/records.py"
RECORD_TYPES = (Record, RunInfo, CaseResult, Flag, Acknowledgement, ValidationReport)
SINGLE_HOMES = {
    "MIB": "bench/measure.py",
    "FLAG_LABELS": RECORDS,
    "BLOCKING_LABELS": RECORDS,
    "ALERT_LABELS": RECORDS,
}


def modules(*folders: str) -> Iterator[tuple[str, ast.Module]]:
    """(path relative to the repository, parsed module) for every .py file under `folders`."""
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), str(path))


def class_homes() -> dict[str, list[str]]:
    """Public class name -> the modules under bench/ that define a class of that name."""
    homes: dict[str, list[str]] = defaultdict(list)
    for name, tree in modules("bench"):
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                homes[node.name].append(name)
    return homes


def assigned_names(tree: ast.Module) -> set[str]:
    targets: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets.extend(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets.append(node.target)
    return {t.id for t in targets if isinstance(t, ast.Name)}


@pytest.mark.parametrize("kind", RECORD_TYPES, ids=lambda kind: kind.__name__)
def test_record_types_are_defined_in_bench_records(kind: type) -> None:
    assert kind.__module__ == "bench.records"


def test_the_label_sets_and_acknowledging_come_from_bench_records() -> None:
    assert with_acknowledgements.__module__ == "bench.records"
    assert set(ALERT_LABELS) | BLOCKING_LABELS <= set(FLAG_LABELS)


@pytest.mark.parametrize("kind", RECORD_TYPES, ids=lambda kind: kind.__name__)
def test_no_other_module_defines_a_record_type_of_the_same_name(kind: type) -> None:
    assert class_homes()[kind.__name__] == [RECORDS]


def test_no_public_class_name_is_defined_in_two_modules() -> None:
    twice = {name: where for name, where in class_homes().items() if len(where) > 1}
    assert twice == {}


def test_constants_are_assigned_in_one_module() -> None:
    homes: dict[str, list[str]] = defaultdict(list)
    for name, tree in modules("bench", "dags", "plugins", "benchmarks"):
        for constant in assigned_names(tree) & set(SINGLE_HOMES):
            homes[constant].append(name)
    assert {constant: where for constant, where in homes.items()} == {
        constant: [home] for constant, home in SINGLE_HOMES.items()
    }


def test_no_two_modules_share_a_file_name() -> None:
    places: dict[str, list[str]] = defaultdict(list)
    for name, _tree in modules("bench", "dags", "plugins", "benchmarks"):
        path = Path(name)
        if path.name == "__init__.py" or (path.name == "env.py" and "migrations" in path.parts):
            continue
        places[path.name].append(name)
    assert len(places) > 20, "the walk found the modules"
    assert {file: where for file, where in places.items() if len(where) > 1} == {}
