"""Report figures as PNG bytes, drawn with matplotlib's Agg canvas (no pyplot, no display).

matplotlib is imported inside each function: importing bench.reports stays cheap, and the
object-oriented API (one Figure per call, no global state) is safe in the dashboard's threads.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.measure import MIB
from bench.records import Record
from bench.reports import formatting as fmt
from bench.reports.ladder import FLOOR, DeviceLadder, FrameworkLadder, Rung, pays_back
from bench.reports.narrative import Speedup
from bench.reports.snapshot import SeriesHistory
from bench.uncertainty import NO_DIFFERENCE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100
CLAIM_COLORS = {"faster": "tab:green", "slower": "tab:red"}  # same and unknown: grey
FRAMEWORK_COLORS = {"torch": "tab:orange", "tensorflow": "tab:blue", "jax": "tab:purple"}


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _empty(figure: Figure, message: str) -> bytes:
    figure.text(0.5, 0.5, message, ha="center", va="center", color="0.4")
    return _png(figure)


def timing_png(records: Sequence[Record]) -> bytes:
    """Steady epoch time per case (log scale) beside compile time, so neither hides the other."""
    timed = [r for r in records if r.status == "ok" and r.steady_epoch_seconds]
    figure = _figure(10, 0.45 * max(len(timed), 2) + 1.2)
    if not timed:
        return _empty(figure, "no timed case in this run")
    steady_ax, compile_ax = figure.subplots(1, 2, sharey=True)
    names = [f"{r.case.name} (noisy)" if r.noisy else r.case.name for r in timed]
    steady = [r.steady_epoch_seconds or 0.0 for r in timed]
    errors = _error_bars(steady, [(r.steady_ci_low, r.steady_ci_high) for r in timed])
    steady_ax.barh(names, steady, color="tab:blue", xerr=errors, ecolor="0.2", capsize=3)
    steady_ax.set_xscale("log")
    steady_ax.set_xlabel("steady epoch time (s, log scale; 95% interval)")
    steady_ax.invert_yaxis()
    compile_ax.barh(names, [r.compile_seconds or 0.0 for r in timed], color="tab:orange")
    compile_ax.set_xlabel("compile + warm-up (s)")
    for ax in (steady_ax, compile_ax):
        ax.grid(axis="x", alpha=0.3)
    return _png(figure)


def speedup_png(found: Sequence[Speedup]) -> bytes:
    """Each compiled mode's speedup over eager of its framework and device (1 = same speed),
    with its 95% interval; grey where the interval holds 1 or there is none."""
    figure = _figure(8, 0.45 * max(len(found), 2) + 1.2)
    if not found:
        return _empty(figure, "no compiled case with an eager baseline in this run")
    ax = figure.subplots()
    names = [s.case.name for s in found]
    factors = [s.factor for s in found]
    colors = [CLAIM_COLORS.get(s.claim, "0.6") for s in found]
    errors = _error_bars(factors, [s.interval or (None, None) for s in found])
    ax.barh(names, factors, color=colors, xerr=errors, ecolor="0.2", capsize=3)
    ax.axvline(1.0, color="0.2", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("speedup over eager, same framework and device (x, log scale; 95% interval)")
    ax.invert_yaxis()
    for y, (factor, above) in enumerate(zip(factors, errors[1], strict=True)):
        ax.annotate(fmt.ratio(factor), (factor + above, y), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8)  # fmt: skip
    ax.grid(axis="x", alpha=0.3)
    return _png(figure)


def ladder_png(ladder: DeviceLadder) -> bytes:
    """Per framework, steady epoch time and compile cost of each rung measured on one device,
    from the loop people write down to the floor (when known), with the break-even epochs."""
    rows = [(fw, rung) for fw in ladder.frameworks for rung in fw.rungs]
    height = 0.55 * (len(rows) + (1 if ladder.floor_seconds else 0)) + 2.2
    figure = _figure(12, height)
    steady_ax, compile_ax = figure.subplots(1, 2, sharey=True, width_ratios=[3, 2])
    ys = list(range(len(rows)))
    names = [f"{fmt.FRAMEWORK_LABELS[fw.framework]} {rung.label}" for fw, rung in rows]
    names = [name.replace(" (", "\n(", 1) for name in names]
    colors = [FRAMEWORK_COLORS.get(fw.framework, "0.5") for fw, _ in rows]
    steady = [rung.steady_seconds for _, rung in rows]
    records = [rung.record for _, rung in rows]
    errors = _error_bars(steady, [(r.steady_ci_low, r.steady_ci_high) for r in records])
    steady_ax.barh(ys, steady, color=colors, xerr=errors, ecolor="0.2", capsize=3)
    gains = [_gain(fw, rung) for fw, rung in rows]
    for y, (value, above, gain) in enumerate(zip(steady, errors[1], gains, strict=True)):
        _label(steady_ax, value + above, y, f"{fmt.seconds(value)} s{gain}")
    compiles = [r.compile_seconds or 0.0 for r in records]
    compile_ax.barh(ys, compiles, color=colors, alpha=0.6)
    pays = [_pays_back(fw, rung) for fw, rung in rows]
    for y, (record, value, note) in enumerate(zip(records, compiles, pays, strict=True)):
        _label(compile_ax, value, y, f"{fmt.seconds(record.compile_seconds)} s{note}")
    if ladder.floor_seconds:
        floor_y = len(rows)
        steady_ax.barh([floor_y], [ladder.floor_seconds], color="0.15")
        steady_ax.axvline(ladder.floor_seconds, color="0.15", linestyle="--", linewidth=1)
        _label(steady_ax, ladder.floor_seconds, floor_y, f"{fmt.seconds(ladder.floor_seconds)} s")
        ys.append(floor_y)
        names.append(f"arithmetic {FLOOR}\n(FLOPs at one-thread GEMM rate)")
    for edge in _group_edges(ladder.frameworks)[: None if ladder.floor_seconds else -1]:
        for ax in (steady_ax, compile_ax):
            ax.axhline(edge, color="0.75", linewidth=0.8)
    steady_ax.set_yticks(ys, names, fontsize=8)
    steady_ax.invert_yaxis()
    steady_ax.set_xscale("log")
    _plain_log_ticks(steady_ax, [*steady, ladder.floor_seconds or min(steady)])
    steady_ax.set_xlabel("steady epoch (s, log scale; bars: 95% interval)")
    compile_ax.set_xlabel("compile + warm-up (s): epoch 1 beyond steady")
    compile_ax.set_xlim(0, max(max(compiles) * 2.4, 1.0))
    for ax in (steady_ax, compile_ax):
        ax.grid(axis="x", alpha=0.3)
    figure.suptitle(f"From what you write to what the hardware allows, on {ladder.device}")
    floor = (
        "dark bar and dashed line: the arithmetic floor"
        if ladder.floor_seconds
        else "the arithmetic floor is not in these records: see BENCHMARKS.md"
    )
    figure.supxlabel(
        "Down each framework: idiomatic loop, eager step loop, step graph, epoch graph; a rung "
        "with several modes shows its fastest.\nBreak-even: the epoch from which a rung's total "
        f"time (compile + N x steady) is no more than the previous rung's; {floor}.",
        fontsize=8,
        color="0.3",
    )
    return _png(figure)


def _gain(ladder: FrameworkLadder, rung: Rung) -> str:
    """`` (1.7x faster)``: what the rung buys over the previous one, as its interval allows."""
    speedup = _speedup_into(ladder, rung)
    if speedup is None or speedup.claim == "unknown":
        return ""
    if speedup.claim == "same":
        return f" ({NO_DIFFERENCE})"
    if speedup.claim == "slower":
        return f" ({fmt.ratio(1 / speedup.factor)} slower)"
    return f" ({fmt.ratio(speedup.factor)} faster)"


def _pays_back(ladder: FrameworkLadder, rung: Rung) -> str:
    """`` (breaks even after 300 epochs)``: when the rung's compile cost is paid back."""
    speedup = _speedup_into(ladder, rung)
    return "" if speedup is None else f" ({pays_back(speedup)})"


def _speedup_into(ladder: FrameworkLadder, rung: Rung) -> Speedup | None:
    """The rung against the previous one; None for the first rung."""
    return next((s.speedup for s in ladder.steps if s.upper is rung), None)


def _group_edges(frameworks: Sequence[FrameworkLadder]) -> list[float]:
    """y of the lines between frameworks (and above the floor row)."""
    edges: list[float] = []
    y = 0
    for fw in frameworks:
        y += len(fw.rungs)
        edges.append(y - 0.5)
    return edges


def _label(ax: Axes, x: float, y: float, text: str) -> None:
    ax.annotate(text, (x, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)


def _plain_log_ticks(ax: Axes, values: Sequence[float]) -> None:
    """Plain numbers (0.01, 0.1, 1) on a log axis, and room on the right for value labels."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xlim(min(values) / 2.5, max(values) * 10)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _error_bars(
    values: Sequence[float], intervals: Sequence[tuple[float | None, float | None]]
) -> list[list[float]]:
    """matplotlib's asymmetric xerr (below, above each value); 0 where there is no interval."""
    below, above = [], []
    for value, (low, high) in zip(values, intervals, strict=True):
        if low is None or high is None:
            low = high = value
        below.append(max(value - low, 0.0))
        above.append(max(high - value, 0.0))
    return [below, above]


def memory_time_png(records: Sequence[Record]) -> bytes:
    """Peak memory against steady epoch time: the speed/memory trade-off, one point per case."""
    points = [
        r for r in records if r.status == "ok" and r.steady_epoch_seconds and r.peak_rss_bytes
    ]
    figure = _figure(8, 5)
    if not points:
        return _empty(figure, "no case with both time and memory in this run")
    ax = figure.subplots()
    for r in points:
        x, y = r.steady_epoch_seconds or 0.0, (r.peak_rss_bytes or 0) / MIB
        ax.scatter([x], [y], s=40)
        ax.annotate(r.case.name, (x, y), xytext=(5, 3), textcoords="offset points", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("steady epoch time (s, log scale)")
    ax.set_ylabel("peak RSS (MiB)")
    ax.grid(alpha=0.3)
    return _png(figure)


def curves_png(records: Sequence[Record]) -> bytes:
    """Training curves of one framework and device, every mode overlaid: MAE and epoch time."""
    with_epochs = [r for r in records if r.epochs]
    figure = _figure(10, 3.8)
    if not with_epochs:
        return _empty(figure, "no epochs were measured")
    mae_ax, time_ax = figure.subplots(1, 2)
    for r in with_epochs:
        epochs = [e.epoch for e in r.epochs]
        label = fmt.case_label(r.case, device=False)
        mae_ax.plot(epochs, [e.train_mae for e in r.epochs], marker=".", label=label)
        time_ax.plot(epochs, [e.seconds for e in r.epochs], marker=".", label=label)
    mae_ax.set_xlabel("epoch")
    mae_ax.set_ylabel("train MAE")
    time_ax.set_xlabel("epoch")
    time_ax.set_ylabel("epoch time (s, log scale)")
    time_ax.set_yscale("log")
    mae_ax.legend(fontsize=8)
    for ax in (mae_ax, time_ax):
        ax.grid(alpha=0.3)
    return _png(figure)


def history_png(history: SeriesHistory) -> bytes:
    """A series' last runs: steady time, peak memory and test MAE; flagged runs marked."""
    figure = _figure(10, 6.5)
    if not history.points:
        return _empty(figure, f"no runs of {history.case.name}")
    axes = figure.subplots(3, 1, sharex=True)
    xs = list(range(len(history.points)))
    panels = [
        ("steady_epoch_seconds", "steady epoch (s)",
         [p.steady_epoch_seconds for p in history.points]),
        ("peak_rss_bytes", "peak RSS (MiB)",
         [p.peak_rss_bytes / MIB if p.peak_rss_bytes else None for p in history.points]),
        (history.test_mae_metric, fmt.metric_label(history.test_mae_metric),
         [p.test_mae for p in history.points]),
    ]  # fmt: skip
    for ax, (metric, label, values) in zip(axes, panels, strict=True):
        present = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        if present:
            ax.plot(*zip(*present, strict=True), marker="o", markersize=3, color="tab:blue")
        for x, point in zip(xs, history.points, strict=True):
            value = values[x]
            for flag in history.flags_of(point.run_id):
                if flag.metric != metric or value is None or not flag.is_alert:
                    continue
                open_ = flag.acknowledgement is None
                ax.scatter([x], [value], s=90, zorder=3, marker="X" if open_ else "o",
                           color="tab:red" if open_ else "tab:green")  # fmt: skip
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[-1].set_xticks(xs, [fmt.when(p.started_at)[:10] for p in history.points], rotation=60,
                        fontsize=7)  # fmt: skip
    axes[0].set_title(
        f"{history.case.name}: last {len(xs)} run(s); red X = open flag, green o = acknowledged",
        fontsize=10,
    )
    return _png(figure)
