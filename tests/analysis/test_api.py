"""The public API is what __all__ says; the docs cover the commands, labels and defaults."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import bench.analysis as analysis
from bench.analysis import DEFAULT_CONFIG, METRIC_POLICIES
from bench.analysis.policy import REFERENCE_METRIC
from bench.cli import build_parser
from bench.records import FLAG_LABELS
from bench.warehouse.models import FLAGS, METRIC_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "detection.md"


def test_all_lists_the_public_api() -> None:
    assert all(hasattr(analysis, name) for name in analysis.__all__)
    public = {
        name
        for name, value in vars(analysis).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert public - {"annotations"} == set(analysis.__all__)
    assert {"detect_regressions", "alert", "acknowledge", "DetectionResult"} <= public


def test_every_warehouse_metric_has_a_policy_and_fits_the_flags_table() -> None:
    # The reference workload is read to judge times over it (the host's speed), not judged.
    assert set(METRIC_POLICIES) == set(METRIC_COLUMNS) - {REFERENCE_METRIC}
    assert max(map(len, FLAG_LABELS)) <= FLAGS.c.label.type.length  # type: ignore[attr-defined]
    assert len("accuracy_vs_eager:test_mae@30") <= FLAGS.c.metric.type.length  # type: ignore[attr-defined]


def test_docs_cover_commands_labels_and_defaults() -> None:
    text = DOCS.read_text()
    for phrase in ("bench detect", "bench ack", "BENCH_ALERT_WEBHOOK", "detect_regressions"):
        assert phrase in text, phrase
    for label in FLAG_LABELS:
        assert f"`{label}`" in text, label
    knobs = (
        "baseline_runs", "evidence_threshold", "outlier_z", "z_threshold", "spread_floor",
        "inside_shift_cap", "outlier_pair_rate", "over_reference", "over_run", "machine_share",
        "precise_z", "large_shift_penalty", "rare_shift_penalty",
    )  # fmt: skip
    for knob in knobs:
        assert f"`{knob}`" in text and str(getattr(DEFAULT_CONFIG, knob)) in text, knob
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"detect", "ack"} <= set(commands)
    assert f"(default: {DEFAULT_CONFIG.baseline_runs}," in commands["detect"].format_help()
    assert "## Regression detection" in (ROOT / "BENCHMARKS.md").read_text()
