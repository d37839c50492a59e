"""`--prepare`: build the folder that travels to the GPU machine and print the call that runs it.

Only the checkout travels (tracked files and untracked ones git does not ignore), plus ignored
paths named in the device tool's `carry`: the folder holds what the checkout lacks, the dataset
cache file and a manifest naming the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.data.loading import resolve_data_home
from bench.measure import MIB
from bench.records import utc_now_iso
from bench.serialize import to_json, write_atomic
from benchmarks.gpu_check_plan import GPU_LIMITS, RECORDS, SUMMARY, plan

REPO = Path(__file__).resolve().parents[1]
TRAVEL_DIR = ".gpu_check"
DATA_DIR = "scikit_learn_data"  # passed to the cases as sklearn's data_home
DATA_FILE = "cal_housing_py3.pkz"
MANIFEST = "manifest.json"
TRAVEL_LIMIT_MIB = 64
# The device run's limit: the check's budget (480 s), then the kill of a case still running, the
# summary and the interpreter's start, with a margin; under the 600 s a command may take.
RUN_TIMEOUT_S = 570
COMMAND = "bash scripts/gpu_check.sh"
# What the check's process and bench's worker path import at module level beyond the standard
# library; the GPU machine has it (and scikit-learn, torch, JAX, optax, imported inside each case,
# and scipy, which the sync rounds' interval imports when it is computed).
GPU_MACHINE_HAS = frozenset({"numpy"})
_IMPORTS = """
import sys
before = set(sys.modules)
import benchmarks.gpu_check, bench.worker
new = {name.partition(".")[0] for name in set(sys.modules) - before}
print(" ".join(sorted(new - set(sys.stdlib_module_names) - {"bench", "benchmarks"})))
"""


class PrepareError(Exception):
    """Preparation cannot finish; the message says what to do."""


def default_data_home(repo: Path) -> Path:
    """BENCH_DATA_HOME, else ../shared/data/scikit_learn_data beside the checkout."""
    return Path(resolve_data_home() or repo.parent / "shared" / "data" / "scikit_learn_data")


def prepare(travel_dir: Path, *, data_home: Path, repo: Path) -> str:
    """Fill travel_dir (dataset cache, manifest); return what travels and the run call to paste."""
    source = data_home / DATA_FILE
    if not source.is_file():
        raise PrepareError(
            f"{source} not found: set BENCH_DATA_HOME (or --data-home) to the folder holding "
            f"sklearn's {DATA_FILE}"
        )
    extra = third_party_imports(repo)
    if extra - GPU_MACHINE_HAS:
        raise PrepareError(
            "the check or bench's worker path now imports "
            f"{', '.join(sorted(extra - GPU_MACHINE_HAS))} at module level, which the GPU machine "
            "lacks: import it lazily, or add its wheel to the travel folder and to the docs"
        )
    shutil.rmtree(travel_dir / DATA_DIR, ignore_errors=True)
    (travel_dir / DATA_DIR).mkdir(parents=True)
    shutil.copy2(source, travel_dir / DATA_DIR / DATA_FILE)
    commit = _git(repo, "rev-parse", "HEAD").strip()
    dirty = bool(_git(repo, "status", "--porcelain", "--untracked-files=no").strip())
    manifest = {
        "commit": commit,
        "dirty": dirty,
        "at": utc_now_iso(),
        "files": {f"{DATA_DIR}/{DATA_FILE}": _sha256(source)},
    }
    write_atomic(travel_dir / MANIFEST, to_json(manifest) + "\n")
    return _instructions(travel_dir, repo=repo, source=source, manifest=manifest)


def third_party_imports(repo: Path) -> set[str]:
    """Top-level packages outside the standard library that the check imports before a case."""
    env = {**os.environ, "PYTHONPATH": str(repo)}
    out = subprocess.run(
        [sys.executable, "-c", _IMPORTS], env=env, cwd=repo, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise PrepareError(f"importing the check failed: {out.stderr.strip().splitlines()[-1:]}")
    return set(out.stdout.split())


def _instructions(travel_dir: Path, *, repo: Path, source: Path, manifest: dict[str, Any]) -> str:
    tree_files, tree_bytes = _working_tree(repo)
    travel_bytes = sum(p.stat().st_size for p in travel_dir.rglob("*") if p.is_file())
    total_mib = (tree_bytes + travel_bytes) / MIB
    if total_mib > TRAVEL_LIMIT_MIB:
        raise PrepareError(
            f"{total_mib:.1f} MiB would travel, over the {TRAVEL_LIMIT_MIB} MiB allowed: "
            "remove large untracked files from the checkout"
        )
    call = run_call(travel_dir, repo)
    carry = call["carry"][0]
    state = "uncommitted changes travel too" if manifest["dirty"] else "clean"
    return "\n".join(
        [
            f"Prepared {carry} for the GPU check (commit {manifest['commit'] or '?'}; {state}):",
            f"  {DATA_DIR}/{DATA_FILE}  {source.stat().st_size / MIB:.1f} MiB  "
            f"(from {source.parent})",
            f"  {MANIFEST}  (commit, time, sha256 of the dataset file)",
            "  wheels: none needed (before a case starts the check imports only the standard "
            "library and numpy; scikit-learn, torch, JAX and optax are imported inside each "
            "case, scipy for the sync rounds' interval; the GPU machine has them all)",
            f"What travels: the working tree ({tree_files} files git tracks or does not ignore, "
            f"{tree_bytes / MIB:.1f} MiB) and {carry}, named in carry ({travel_bytes / MIB:.1f} "
            f"MiB): {total_mib:.1f} MiB of the {TRAVEL_LIMIT_MIB} MiB allowed.",
            "Run it on the GPU machine with the device tool's run (paste these arguments):",
            f"  {json.dumps(call)}",
            f"Time limit: timeout_s {RUN_TIMEOUT_S}. The check stops at {GPU_LIMITS.budget_s:.0f} "
            "s (no step starts later; a case still running then is killed and fails); the rest "
            f"is margin. It writes {RECORDS} (the cases, one record per line) and {SUMMARY} "
            "into $OUT: 2 files, however many cases.",
            *step_table(),
            "Back here, with the folder the files came back to:",
            "  bench ingest FOLDER && bench report --run RUN_ID    # RUN_ID: first line of "
            "summary.md",
            "  then copy the figures into BENCHMARKS.md (section GPU).",
        ]
    )


def step_table() -> list[str]:
    """The GPU steps in the order they run, each with its guessed seconds (no step has run on a
    GPU yet: guesses, not readings), and their total against the budget."""
    steps = plan(dry_run=False)
    total = sum(s.guess_s for s in steps)
    lines = [
        f"Steps, in order, with guessed seconds on the H200 (guesses; {len(steps)} processes):"
    ]
    lines += [f"  {n:2}. {s.label}  ~{s.guess_s:.0f} s" for n, s in enumerate(steps, start=1)]
    lines.append(
        f"  guessed total ~{total:.0f} s of the {GPU_LIMITS.budget_s:.0f} s budget; "
        "compile-max-autotune runs last (least priority: it may autotune for minutes)"
    )
    return lines


def run_call(travel_dir: Path, repo: Path) -> dict[str, Any]:
    """The device tool's run arguments: the command, the folder to carry and the time limit."""
    try:
        carry = travel_dir.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        carry = f"{travel_dir} (outside the checkout: it cannot travel; use the default)"
    command = COMMAND if carry == TRAVEL_DIR else f"{COMMAND} --dir {carry}"
    return {"command": command, "carry": [carry], "timeout_s": RUN_TIMEOUT_S}


def _working_tree(repo: Path) -> tuple[int, int]:
    """Files the device tool copies (tracked, and untracked but not ignored) and their bytes."""
    listing = _git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    files, size = 0, 0
    for name in set(filter(None, listing.split("\0"))):
        path = repo / name
        if path.is_file() and not path.is_symlink():
            files, size = files + 1, size + path.stat().st_size
    return files, size


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise PrepareError(f"git {args[0]} failed in {repo}: {out.stderr.strip()}")
    return out.stdout


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
