"""One threshold per peer for the whole machine, and whether a tuned peer's lead over bench is
more than chance (issue 16).

benchmarks/detector_peers.py re-tunes each peer to bench's false-alarm rate on each recording
alone: a threshold chosen after the fact on the very series it is then scored on, which no
deployment has, since it keeps one threshold whatever the host does on a given day. Here each
peer also gets one threshold for all the given recordings together (the most sensitive of its
grid, or with --exact of any value, whose false alarms over all their noise-only scenarios are
at most bench's over the same), and every cell where a tuned peer catches more steps than bench
is tested on the very same series: the exact McNemar test on the series only one of the two
caught, its p adjusted by Holm over all the cells where a peer leads.
Run: .venv/bin/python -m benchmarks.pooled_tuning [--exact] SCORES.npz [SCORES.npz ...]
     (each written by `python -m benchmarks.detector_peers ... --scores SCORES.npz`)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

from benchmarks.detector_peers import (
    WITHIN,
    Peer,
    caught_within,
    default_peers,
    evaluate,
    format_rows,
    tuned_thresholds,
)
from benchmarks.peer_scores import Table, load_scores


@dataclass(frozen=True)
class Lead:
    """A cell where a tuned peer caught more of a scenario's steps within `within` runs."""

    recording: str
    scenario: str
    peer: str
    threshold: float
    within: int
    peer_share: float
    bench_share: float
    peer_only: int  # series the peer caught and bench did not
    bench_only: int
    p: float  # exact McNemar, two-sided
    adjusted: float = 1.0  # Holm over every lead of the same tuning


def mcnemar(first: np.ndarray, second: np.ndarray) -> tuple[int, int, float]:
    """Series only `first` caught, only `second` caught, and the exact two-sided p that both
    catch as often (a binomial test on the discordant series)."""
    only_first = int((first & ~second).sum())
    only_second = int((second & ~first).sum())
    if only_first + only_second == 0:
        return 0, 0, 1.0
    return only_first, only_second, binomtest(only_first, only_first + only_second).pvalue


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment, in the order given."""
    order = np.argsort(pvalues)
    adjusted = [1.0] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def leads(recording: str, table: Table, thresholds: dict[str, float]) -> list[Lead]:
    """Every cell of a step to a slower level where a peer at its threshold catches a larger
    share than bench."""
    found = []
    for n, own in enumerate(table["bench"]):
        if own.scenario.kind != "step" or own.scenario.size < 0:
            continue  # a drift has no step run to count from
        for peer, threshold in thresholds.items():
            theirs = table[peer][n]
            for k in WITHIN:
                mine, other = caught_within(own, 1.0, k), caught_within(theirs, threshold, k)
                if other.mean() > mine.mean():
                    peer_only, bench_only, p = mcnemar(other, mine)
                    found.append(
                        Lead(
                            recording,
                            own.scenario.name,
                            peer,
                            threshold,
                            k,
                            float(other.mean()),
                            float(mine.mean()),
                            peer_only,
                            bench_only,
                            p,
                        )
                    )
    return found


def format_leads(found: Sequence[Lead]) -> str:
    lines = [
        "| recording | scenario | within | peer (threshold) | peer | bench | peer only "
        "| bench only | p | Holm p |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for x in found:
        lines.append(
            f"| {x.recording} | {x.scenario} | {x.within} | {x.peer} ({x.threshold:g}) "
            f"| {x.peer_share:.1%} | {x.bench_share:.1%} | {x.peer_only} | {x.bench_only} "
            f"| {x.p:.2g} | {x.adjusted:.2g} |"
        )
    return "\n".join(lines) if found else "(no peer catches more than bench in any cell)"


def report(recordings: dict[str, Table], peers: Sequence[Peer], *, exact: bool = False) -> str:
    """Thresholds and leads, each recording tuned alone and all tuned together."""
    pooled = tuned_thresholds(list(recordings.values()), peers, exact=exact)
    alone = {n: tuned_thresholds([t], peers, exact=exact) for n, t in recordings.items()}
    out = ["| peer | " + " | ".join(f"alone: {n}" for n in recordings) + " | one for all |"]
    out.append("|---|" + "---:|" * (len(recordings) + 1))
    for peer in pooled:
        cells = [f"{alone[n].get(peer, float('nan')):g}" for n in recordings]
        out.append(f"| {peer} | " + " | ".join(cells) + f" | {pooled[peer]:g} |")
    each = [lead for name, t in recordings.items() for lead in leads(name, t, alone[name])]
    out += ["", "Where a peer tuned on each recording alone leads:", format_leads(holm_all(each))]
    together = [lead for name, t in recordings.items() for lead in leads(name, t, pooled)]
    out += ["", "Where a peer with one threshold for all leads:", format_leads(holm_all(together))]
    for name, table in recordings.items():
        rows = [evaluate(s, 1.0) for s in table["bench"]]
        rows += [evaluate(s, pooled[p], tuned=True) for p in pooled for s in table[p]]
        out += ["", f"{name}, peers at one threshold for all:", format_rows(rows)]
    return "\n".join(out)


def holm_all(found: Sequence[Lead]) -> list[Lead]:
    """The leads with Holm's adjustment over all of them (not per recording)."""
    return [replace(x, adjusted=a) for x, a in zip(found, holm([x.p for x in found]), strict=True)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pooled_tuning", description=__doc__)
    parser.add_argument("scores", nargs="+", type=Path, help="detector_peers --scores files")
    parser.add_argument(
        "--exact",
        action="store_true",
        help="tune each peer to the most sensitive threshold of any value, not only of its grid "
        "(so its false alarms come as close to bench's as its scores allow)",
    )
    args = parser.parse_args(argv)
    recordings = {}
    for path in args.scores:
        try:
            table, source = load_scores(path)
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"cannot read {path} ({exc}); write it with detector_peers --scores")
        if "bench" not in table:
            parser.error(f"{path} has no bench scores; run detector_peers with bench among --peers")
        recordings[path.stem] = table
        print(f"{path.stem}: {source}")
    known = {p.name: p for p in default_peers()}
    names = dict.fromkeys(n for t in recordings.values() for n in t)
    peers = [known[n] for n in names if all(n in t for t in recordings.values())]
    print(report(recordings, peers, exact=args.exact))
    return 0


if __name__ == "__main__":
    sys.exit(main())
