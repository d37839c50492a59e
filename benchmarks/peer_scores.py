"""The raw scores of benchmarks/detector_peers.py, kept on disk (`--scores`), so thresholds can be
chosen again afterwards (benchmarks/pooled_tuning.py) without judging every series again."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.detection_sim import Scenario


@dataclass
class Scores:
    """One detector's scores on one scenario: a row per series, a column per judged run."""

    peer: str
    scenario: Scenario
    change_at: int  # column of the first changed run (0: the first judged run)
    values: np.ndarray
    seconds_per_run: float


Table = dict[str, list[Scores]]  # per detector, its scores on each scenario in order


def save_scores(path: Path | str, table: Table, *, source: str) -> None:
    """Every detector's scores, with what they were measured on (`source`)."""
    meta = {"source": source, "scores": []}
    arrays = {}
    for peer, all_ in table.items():
        for n, s in enumerate(all_):
            key = f"s{len(arrays)}"
            arrays[key] = s.values
            meta["scores"].append(
                {
                    "key": key,
                    "peer": peer,
                    "number": n,
                    "scenario": asdict(s.scenario),
                    "change_at": s.change_at,
                    "seconds_per_run": s.seconds_per_run,
                }
            )
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)


def load_scores(path: Path | str) -> tuple[Table, str]:
    """What save_scores wrote: the table and its source line."""
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        table: Table = {}
        for item in meta["scores"]:  # saved peer by peer, scenarios in order
            table.setdefault(item["peer"], []).append(
                Scores(
                    item["peer"],
                    Scenario(**item["scenario"]),
                    item["change_at"],
                    data[item["key"]],
                    item["seconds_per_run"],
                )
            )
    return table, meta["source"]
