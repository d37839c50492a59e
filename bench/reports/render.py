"""Turn a run snapshot into page context and HTML (autoescaped Jinja2)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jinja2

from bench.analysis.verdict import run_verdict
from bench.conditions import OTHERS_LIMIT, OTHERS_MIN_SECONDS, STEAL_LIMIT
from bench.config import EVAL_BUDGETS, Case
from bench.records import Record
from bench.reports import formatting, protocol_templates, templates
from bench.reports.advice import recommendations
from bench.reports.budgets import budget_rows
from bench.reports.devices import device_findings, device_pairs, unpaired_note
from bench.reports.ladder import device_ladders, rung_modes
from bench.reports.narrative import findings, speedups
from bench.reports.snapshot import RunSnapshot
from bench.reports.workload import environment_summary, workload_rows
from bench.uncertainty import MIN_STEADY_EPOCHS

# What the measurement-conditions note cites: when a case is noisy, when it has an interval.
NOISE = {
    "others_share": OTHERS_LIMIT,
    "others_seconds": OTHERS_MIN_SECONDS,
    "steal_share": STEAL_LIMIT,
    "min_steady_epochs": MIN_STEADY_EPOCHS + 1,
}


# The flag label of a check that had too little history to judge: counted, not listed.
UNJUDGED = "insufficient"


@dataclass(frozen=True)
class CurveGroup:
    """The cases of one framework and device: their training curves share a figure."""

    key: str
    title: str
    records: list[Record]

    @property
    def measured(self) -> bool:
        """Whether any case of the group has epochs to draw (skipped cases have none)."""
        return any(r.epochs for r in self.records)


def curve_groups(records: Sequence[Record]) -> list[CurveGroup]:
    groups: dict[tuple[str, str], list[Record]] = {}
    for r in records:
        groups.setdefault((r.case.framework, r.case.device), []).append(r)
    return [
        CurveGroup(
            key=f"curves-{framework}-{device}",
            title=f"{formatting.FRAMEWORK_LABELS[framework]} on {device}",
            records=members,
        )
        for (framework, device), members in sorted(groups.items())
    ]


def reached_budgets(records: Sequence[Record]) -> list[int]:
    """The evaluation budgets at least one record has test metrics for (a 2-epoch run has
    none: its table shows the last evaluation only)."""
    return [b for b in EVAL_BUDGETS if any(r.test_metrics_at(b) for r in records)]


def run_context(snapshot: RunSnapshot) -> dict[str, Any]:
    """What every page about one run shows: verdict, findings, recommendations, speedups,
    ladders, budgets, devices, curve groups, workload, environment, measurement conditions."""
    found = speedups(snapshot.ok_records)
    by_case = {s.case: s.factor for s in found}
    pairs = device_pairs(snapshot.records)

    def speedup(case: Case) -> float | None:
        return by_case.get(case)

    return {
        "s": snapshot,
        "verdict": run_verdict(snapshot.run.run_id, snapshot.flags, snapshot.records),
        "found": findings(snapshot),
        "speedups": found,
        "speedup": speedup,
        "ladders": device_ladders(snapshot.ok_records),
        "rungs": rung_modes(),
        "vs_reference": lambda record: record.vs_reference,
        "noise": NOISE,
        "groups": curve_groups(snapshot.records),
        "env": environment_summary(snapshot.records),
        "budgets": reached_budgets(snapshot.records),
        "all_budgets": EVAL_BUDGETS,
        "advice": recommendations(snapshot.records),
        "budget_rows": budget_rows(snapshot.records),
        "pairs": pairs,
        "pair_findings": device_findings(pairs),
        "unpaired": unpaired_note(snapshot.records),
        "workload": workload_rows(snapshot.records),
        "judged_flags": [f for f in snapshot.flags if f.label != UNJUDGED],
        "unjudged": sum(1 for f in snapshot.flags if f.label == UNJUDGED),
    }


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.DictLoader(
            {
                "base.html": templates.BASE,
                "macros.html": templates.MACROS,
                "protocol.html": protocol_templates.MACROS,
                **_pages(),
            }
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["fmt"] = formatting
    return env


def _pages() -> dict[str, str]:
    from bench.reports import dashboard_templates

    return {"report.html": templates.REPORT, **dashboard_templates.PAGES}


def render(template: str, **context: Any) -> str:
    """Render one page; every value is HTML-escaped unless a template says otherwise."""
    return _environment().get_template(template).render(**context)
