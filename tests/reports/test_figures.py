"""Every figure of the `make run` and nightly reports, checked as a reader would: a title inside
the PNG, units on every axis, plain numbers, whole epochs, labels that cover nothing, no empty
chart. Figures are inspected as matplotlib objects, drawn exactly as the PNGs are."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from matplotlib.figure import Figure

from bench.config import Case
from bench.measure import MIB
from bench.reports import data
from bench.reports import formatting as fmt
from bench.reports.figures import curves_figure
from bench.reports.history_figure import history_figure, history_panels
from bench.reports.plotting import new_figure, run_labels
from bench.reports.render import run_context
from bench.reports.report import DEFAULT_HISTORY, report_figures
from bench.reports.snapshot import SeriesHistory, SeriesPoint
from tests.builders import make_record
from tests.reports import figure_checks as checks
from tests.reports.matrix_warehouse import Written

RUN_FIGURES = ("timing", "speedup", "memory", "curves-")


@pytest.fixture(scope="module", params=["make-run", "nightly"])
def drawn(request: pytest.FixtureRequest) -> tuple[Written, dict[str, Figure]]:
    """The report and the figures it shows, drawn as matplotlib Figures."""
    written: Written = request.getfixturevalue(
        "make_run_report" if request.param == "make-run" else "nightly_report"
    )
    url = written.matrix.url
    snapshot = data.run_snapshot(None, url=url)
    histories = [data.series(r.case, last=DEFAULT_HISTORY, url=url) for r in snapshot.records]
    figures = report_figures(run_context(snapshot), histories)
    return written, {key: draw() for key, draw in figures.items()}


def test_the_page_shows_each_figure_once_and_none_is_empty(
    drawn: tuple[Written, dict[str, Figure]],
) -> None:
    written, figures = drawn
    shown = {src.split("/")[-1].removesuffix(".png") for src in _sources(written.html)}
    assert shown == set(figures)
    for key, figure in figures.items():
        assert figure.axes and not checks.empty_axes(figure), key
        assert (written.index.parent / "figures" / f"{key}.png").stat().st_size > 5_000


def test_every_figure_says_what_it_shows_inside_the_png(
    drawn: tuple[Written, dict[str, Figure]],
) -> None:
    written, figures = drawn
    for key, figure in figures.items():
        title = checks.title(figure)
        assert len(title) > 20, key
        if key.startswith(RUN_FIGURES):
            assert written.matrix.latest in title, key


def test_no_label_covers_another_or_leaves_the_figure(
    drawn: tuple[Written, dict[str, Figure]],
) -> None:
    for key, figure in drawn[1].items():
        assert checks.overlapping_texts(figure) == [], key
        assert checks.texts_outside(figure) == [], key


def test_numbers_are_plain_and_every_axis_names_its_unit(
    drawn: tuple[Written, dict[str, Figure]],
) -> None:
    for key, figure in drawn[1].items():
        assert checks.offsets(figure) == [], key
        assert checks.axes_without_units(figure) == [], key
        logs = checks.log_tick_labels(figure)
        assert all(float(label) > 0 for label in logs), (key, logs)  # 0.1, not 10^-1


def test_log_axes_have_two_labels_or_more(drawn: tuple[Written, dict[str, Figure]]) -> None:
    for key, figure in drawn[1].items():
        for ax in figure.axes:
            for axis in (ax.xaxis, ax.yaxis):
                if axis.get_scale() == "log":
                    labels = [t for t in axis.get_ticklabels() if t.get_text()]
                    assert len(labels) >= 2, key


def test_bars_on_a_log_axis_carry_their_values(drawn: tuple[Written, dict[str, Figure]]) -> None:
    written, figures = drawn
    steady_ax = figures["timing"].axes[0]
    snapshot = data.run_snapshot(None, url=written.matrix.url)
    timed = [r for r in snapshot.records if r.status == "ok" and r.steady_epoch_seconds]
    assert steady_ax.get_xscale() == "log"
    assert [t.get_text() for t in steady_ax.texts] == [
        f"{fmt.seconds(r.steady_epoch_seconds)} s" for r in timed
    ]
    speedup_ax = figures["speedup"].axes[0]
    assert len(speedup_ax.texts) == len(speedup_ax.patches) > 0


def test_epoch_axes_tick_whole_epochs_and_train_mae_has_its_unit(
    drawn: tuple[Written, dict[str, Figure]],
) -> None:
    curves = {key: f for key, f in drawn[1].items() if key.startswith("curves-")}
    assert curves
    for key, figure in curves.items():
        mae_ax, time_ax = figure.axes
        assert mae_ax.get_ylabel() == f"train MAE ({fmt.MAE_UNIT})"
        assert time_ax.get_ylabel() == "epoch time (s, log scale)"
        for ax in (mae_ax, time_ax):
            low, high = ax.get_xlim()
            ticks = [t for t in ax.get_xticks() if low <= t <= high]
            assert ticks and all(float(t).is_integer() for t in ticks), (key, ticks)


def test_the_three_torch_compile_modes_of_the_memory_scatter_are_all_named(
    drawn: tuple[Written, dict[str, Figure]],
) -> None:
    """They measure alike: one label lists them, beside the point, covering nothing."""
    figure = drawn[1]["memory"]
    for ax in figure.axes:
        texts = " ".join(t.get_text() for t in ax.texts)
        for mode in ("compile", "compile-reduce-overhead", "compile-max-autotune"):
            assert fmt.MODE_LABELS[("torch", mode)] in texts
        together = [t.get_text() for t in ax.texts if "max-autotune" in t.get_text()]
        assert len(together) == 1 and together[0].count("torch.compile") == 3


def test_history_draws_only_the_metrics_its_runs_have(
    drawn: tuple[Written, dict[str, Figure]],
) -> None:
    written, figures = drawn
    url = written.matrix.url
    measured = data.series(Case("torch", "compile", "cpu"), url=url)
    panels = [p.metric for p in history_panels(measured)]
    if written.matrix.epochs == 2:  # no run reached a budget: no test MAE panel
        assert panels == ["steady_epoch_seconds", "peak_rss_bytes"]
        skipped = data.series(Case("torch", "compile", "gpu"), url=url)
        assert history_panels(skipped) == [] and not skipped.measured
        assert "history-torch-compile-gpu" not in figures
    else:
        assert panels == ["steady_epoch_seconds", "peak_rss_bytes", "test_mae_30"]
    figure = figures["history-torch-compile-cpu"]
    assert len(figure.axes) == len(panels)


def test_same_day_runs_are_told_apart_on_the_history_axis(
    make_run_report: Written,
) -> None:
    url = make_run_report.matrix.url
    snapshot = data.run_snapshot(None, url=url)
    histories = [data.series(r.case, url=url) for r in snapshot.records]
    figure = report_figures(run_context(snapshot), histories)["history-torch-eager-cpu"]()
    checks.draw(figure)
    labels = [t.get_text() for t in figure.axes[-1].get_xticklabels()]
    assert labels == ["11-03 09:01", "11-03 14:01"]


def test_run_labels_add_the_time_then_a_number_only_when_needed() -> None:
    day = [datetime(2026, 11, d, 2, tzinfo=UTC) for d in (1, 2)]
    assert run_labels(day) == ["2026-11-01", "2026-11-02"]
    same_day = [datetime(2026, 11, 3, h, tzinfo=UTC) for h in (9, 14)]
    assert run_labels(same_day) == ["11-03 09:00", "11-03 14:00"]
    same_minute = [datetime(2026, 11, 3, 9, tzinfo=UTC)] * 2
    assert run_labels(same_minute) == ["11-03 09:00 #1", "11-03 09:00 #2"]


def test_curves_that_coincide_stay_visible_and_the_figure_says_so() -> None:
    alike = [
        make_record("run-1", Case("torch", mode, "cpu"), epochs=12, steady=0.4)
        for mode in ("eager", "compile", "compile-max-autotune")
    ]
    figure = curves_figure(alike)
    mae_ax = figure.axes[0]
    styles = {(line.get_marker(), line.get_markersize()) for line in mae_ax.lines}
    assert len(styles) == len(alike)  # each its own shape and size: none hides another
    assert all(line.get_fillstyle() == "none" for line in mae_ax.lines)
    assert "coincide" in figure.legends[0].get_title().get_text()
    assert checks.overlapping_texts(figure) == []


def test_a_series_that_barely_moves_reads_flat_with_plain_numbers() -> None:
    """780 MiB, then 4 KiB more each run: no ``+7.8e2`` offset, not drawn as a steep climb."""
    points = [
        SeriesPoint(f"run-{n}", datetime(2026, 11, n, 2, tzinfo=UTC), "ok", 0.65 + 0.0001 * n,
                    780 * MIB + n * 4096, None)
        for n in (1, 2, 3)
    ]  # fmt: skip
    history = SeriesHistory(Case("torch", "eager", "cpu"), points, "test_mae_30")
    figure = history_figure(history)
    steady_ax, memory_ax = figure.axes
    assert checks.offsets(figure) == []
    for ax, value in ((steady_ax, 0.65), (memory_ax, 780.0)):
        low, high = ax.get_ylim()
        assert high - low >= 0.05 * value


def test_the_checks_catch_what_they_look_for() -> None:
    """A figure with every defect the report had: the checks must see each one."""
    figure = new_figure(4, 3, "")
    ax = figure.subplots()
    ax.plot([1, 2], [650.53, 650.5301])
    ax.set_xscale("log")
    ax.annotate("torch.compile", (1, 650.53))
    ax.annotate("torch.compile max-autotune", (1, 650.53))
    assert checks.title(figure) == ""
    assert checks.offsets(figure) == ["+6.5053e2"]
    assert ("torch.compile", "torch.compile max-autotune") in checks.overlapping_texts(figure)
    assert checks.axes_without_units(figure)
    assert any("10^" in label for label in checks.log_tick_labels(figure))
    empty = new_figure(4, 3, "nothing")
    empty.subplots()
    assert checks.empty_axes(empty)


def _sources(html: str) -> list[str]:
    return re.findall(r'<img id="[^"]+" src="([^"]+)"', html)
