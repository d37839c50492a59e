"""Report figures of one run, as PNG bytes (`*_png`: what pages serve) drawn from matplotlib
Figure objects (`*_figure`: what tests inspect). Every figure carries its title and units;
bench.reports.plotting holds the drawing rules they share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.measure import MIB
from bench.records import Record
from bench.reports import formatting as fmt
from bench.reports.history_figure import history_figure, history_png
from bench.reports.ladder import FLOOR, DeviceLadder, FrameworkLadder, Rung, pays_back
from bench.reports.narrative import Speedup
from bench.reports.plotting import (
    empty,
    integer_ticks,
    label_bars,
    make_room,
    new_figure,
    place_labels,
    plain_log_axis,
    to_png,
)
from bench.uncertainty import NO_DIFFERENCE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "curves_figure",
    "curves_png",
    "history_figure",
    "history_png",
    "ladder_figure",
    "ladder_png",
    "memory_time_figure",
    "memory_time_png",
    "speedup_figure",
    "speedup_png",
    "timing_figure",
    "timing_png",
]

CLAIM_COLORS = {"faster": "tab:green", "slower": "tab:red"}  # same and unknown: grey
FRAMEWORK_COLORS = {"torch": "tab:orange", "tensorflow": "tab:blue", "jax": "tab:purple"}
DEVICE_MARKERS = {"cpu": "o", "gpu": "s"}
# Curves of modes that train alike coincide: each mode gets its own hollow marker and size, the
# largest first, so every one stays visible on top of the others.
CURVE_STYLES = (
    ("o", 10.0, "-"), ("s", 7.5, "--"), ("^", 6.0, ":"), ("D", 4.5, "-."), ("v", 3.5, "-"),
    ("P", 3.0, "--"), ("x", 2.5, ":"),
)  # fmt: skip


def _of_run(records: Sequence[Record]) -> str:
    return f", run {records[0].run_id}" if records else ""


def timing_figure(records: Sequence[Record]) -> Figure:
    """Steady epoch time per case (log scale) beside compile time, so neither hides the other."""
    timed = [r for r in records if r.status == "ok" and r.steady_epoch_seconds]
    figure = new_figure(
        11, 0.45 * max(len(timed), 2) + 1.6, f"Time per steady epoch and compile{_of_run(records)}"
    )
    if not timed:
        return empty(figure, "no timed case in this run")
    steady_ax, compile_ax = figure.subplots(1, 2, sharey=True, width_ratios=[3, 2])
    ys = list(range(len(timed)))
    names = [f"{r.case.name} (noisy)" if r.noisy else r.case.name for r in timed]
    steady = [r.steady_epoch_seconds or 0.0 for r in timed]
    errors = _error_bars(steady, [(r.steady_ci_low, r.steady_ci_high) for r in timed])
    steady_ax.barh(ys, steady, color="tab:blue", xerr=errors, ecolor="0.2", capsize=3)
    ends = [v + above for v, above in zip(steady, errors[1], strict=True)]
    plain_log_axis(steady_ax.xaxis, [*[v - b for v, b in zip(steady, errors[0], strict=True)],
                                     *ends])  # fmt: skip
    label_bars(steady_ax, ends, [f"{fmt.seconds(v)} s" for v in steady])
    steady_ax.set_yticks(ys, names, fontsize=8)
    steady_ax.invert_yaxis()
    steady_ax.set_xlabel("steady epoch (s, log scale; bars: 95% interval)")
    compiles = [r.compile_seconds or 0.0 for r in timed]
    compile_ax.barh(ys, compiles, color="tab:orange")
    label_bars(compile_ax, compiles, [f"{fmt.seconds(r.compile_seconds)} s" for r in timed])
    compile_ax.set_xlim(0, max(max(compiles) * 1.1, 1.0))
    compile_ax.set_xlabel("compile + warm-up (s): epoch 1 beyond steady")
    for ax in (steady_ax, compile_ax):
        ax.grid(axis="x", alpha=0.3)
        make_room(ax)
    return figure


def timing_png(records: Sequence[Record]) -> bytes:
    return to_png(timing_figure(records))


def speedup_figure(found: Sequence[Speedup], *, run_id: str | None = None) -> Figure:
    """Each compiled mode's speedup over eager of its framework and device (1 = same speed),
    with its 95% interval; grey where the interval holds 1 or there is none."""
    title = "Speedup over the baseline of the same framework and device" + (
        f", run {run_id}" if run_id else ""
    )
    figure = new_figure(9, 0.45 * max(len(found), 2) + 1.6, title)
    if not found:
        return empty(figure, "no compiled case with its baseline in this run")
    ax = figure.subplots()
    ys = list(range(len(found)))
    factors = [s.factor for s in found]
    colors = [CLAIM_COLORS.get(s.claim, "0.6") for s in found]
    errors = _error_bars(factors, [s.interval or (None, None) for s in found])
    ax.barh(ys, factors, color=colors, xerr=errors, ecolor="0.2", capsize=3)
    ax.axvline(1.0, color="0.2", linewidth=1)
    ends = [f + above for f, above in zip(factors, errors[1], strict=True)]
    lows = [f - below for f, below in zip(factors, errors[0], strict=True)]
    plain_log_axis(ax.xaxis, [*lows, *ends, 1.0])
    label_bars(ax, ends, [fmt.ratio(f) for f in factors])
    ax.set_yticks(ys, [s.case.name for s in found], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("speedup (x: baseline steady epoch / this steady epoch; log scale; 95% interval)")
    ax.grid(axis="x", alpha=0.3)
    make_room(ax)
    return figure


def speedup_png(found: Sequence[Speedup], *, run_id: str | None = None) -> bytes:
    return to_png(speedup_figure(found, run_id=run_id))


def ladder_figure(ladder: DeviceLadder) -> Figure:
    """Per framework, steady epoch time and compile cost of each rung measured on one device,
    from the loop people write down to the floor (when known), with the break-even epochs."""
    rows = [(fw, rung) for fw in ladder.frameworks for rung in fw.rungs]
    height = 0.55 * (len(rows) + (1 if ladder.floor_seconds else 0)) + 2.2
    figure = new_figure(
        12, height, f"From what you write to what the hardware allows, on {ladder.device}"
    )
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
    ends = [value + above for value, above in zip(steady, errors[1], strict=True)]
    label_bars(steady_ax, ends, [f"{fmt.seconds(v)} s{g}" for v, g in zip(steady, gains,
                                                                        strict=True)])  # fmt: skip
    compiles = [r.compile_seconds or 0.0 for r in records]
    compile_ax.barh(ys, compiles, color=colors, alpha=0.6)
    pays = [_pays_back(fw, rung) for fw, rung in rows]
    label_bars(compile_ax, compiles, [f"{fmt.seconds(r.compile_seconds)} s{note}"
                                      for r, note in zip(records, pays, strict=True)])  # fmt: skip
    if ladder.floor_seconds:
        floor_y = len(rows)
        steady_ax.barh([floor_y], [ladder.floor_seconds], color="0.15")
        steady_ax.axvline(ladder.floor_seconds, color="0.15", linestyle="--", linewidth=1)
        steady_ax.annotate(f"{fmt.seconds(ladder.floor_seconds)} s", (ladder.floor_seconds,
                           floor_y), xytext=(4, 0), textcoords="offset points", va="center",
                           fontsize=8)  # fmt: skip
        ys.append(floor_y)
        names.append(f"arithmetic {FLOOR}\n(FLOPs at one-thread GEMM rate)")
    for edge in _group_edges(ladder.frameworks)[: None if ladder.floor_seconds else -1]:
        for ax in (steady_ax, compile_ax):
            ax.axhline(edge, color="0.75", linewidth=0.8)
    steady_ax.set_yticks(ys, names, fontsize=8)
    steady_ax.invert_yaxis()
    plain_log_axis(steady_ax.xaxis, [*steady, *ends, ladder.floor_seconds or min(steady)])
    steady_ax.set_xlabel("steady epoch (s, log scale; bars: 95% interval)")
    compile_ax.set_xlabel("compile + warm-up (s): epoch 1 beyond steady")
    compile_ax.set_xlim(0, max(max(compiles) * 1.1, 1.0))
    floor = (
        "dark bar and dashed line: the arithmetic floor"
        if ladder.floor_seconds
        else "no arithmetic floor in these records (none is measured for a GPU)"
    )
    figure.supxlabel(
        "Down each framework: idiomatic loop, eager step loop, step graph, epoch graph; a rung "
        "with several modes shows its fastest.\nBreak-even: the epoch from which a rung's total "
        f"time (compile + N x steady) is no more than the previous rung's; {floor}.",
        fontsize=8,
        color="0.3",
    )
    for ax in (steady_ax, compile_ax):
        ax.grid(axis="x", alpha=0.3)
        make_room(ax)
    return figure


def ladder_png(ladder: DeviceLadder) -> bytes:
    return to_png(ladder_figure(ladder))


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


def memory_time_figure(records: Sequence[Record]) -> Figure:
    """Peak memory against steady epoch time: the speed/memory trade-off, one point per case
    and one panel per device, each point labelled where no other label or point hides it."""
    points = [
        r for r in records if r.status == "ok" and r.steady_epoch_seconds and r.peak_rss_bytes
    ]
    devices = sorted({r.case.device for r in points})
    figure = new_figure(
        9, 5.2 * max(len(devices), 1) + 0.6,
        f"Peak memory (RSS) against steady epoch time{_of_run(records)}",
    )  # fmt: skip
    if not points:
        return empty(figure, "no case with both time and memory in this run")
    axes = figure.subplots(len(devices), 1, squeeze=False, sharey=True)[:, 0]
    for ax, device in zip(axes, devices, strict=True):
        mine = [r for r in points if r.case.device == device]
        xs = [r.steady_epoch_seconds or 0.0 for r in mine]
        ys = [(r.peak_rss_bytes or 0) / MIB for r in mine]
        for framework in FRAMEWORK_COLORS:
            chosen = [i for i, r in enumerate(mine) if r.case.framework == framework]
            if chosen:
                ax.scatter([xs[i] for i in chosen], [ys[i] for i in chosen], s=36, zorder=3,
                           color=FRAMEWORK_COLORS[framework], marker=DEVICE_MARKERS[device],
                           label=fmt.FRAMEWORK_LABELS[framework])  # fmt: skip
        plain_log_axis(ax.xaxis, xs)
        ax.set_xlim(min(xs) / 3, max(xs) * 5)
        ax.set_title(f"on {device}", fontsize=10)
        ax.set_xlabel("steady epoch (s, log scale)")
        ax.set_ylabel("peak RSS of the worker process (MiB)")
        ax.grid(alpha=0.3)
    every = [(r.peak_rss_bytes or 0) / MIB for r in points]
    span = max(every) - min(every) or max(every) * 0.2
    axes[0].set_ylim(max(0.0, min(every) - 0.25 * span), max(every) + 0.25 * span)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    for ax, device in zip(axes, devices, strict=True):
        mine = [r for r in points if r.case.device == device]
        place_labels(ax, [(r.steady_epoch_seconds or 0.0, (r.peak_rss_bytes or 0) / MIB)
                          for r in mine],
                     [fmt.case_label(r.case, device=False) for r in mine])  # fmt: skip
    return figure


def memory_time_png(records: Sequence[Record]) -> bytes:
    return to_png(memory_time_figure(records))


def curves_figure(records: Sequence[Record]) -> Figure:
    """Training curves of one framework and device, every mode overlaid: train MAE and epoch
    time per epoch; curves that coincide stay visible through hollow markers of their own
    shape and size."""
    with_epochs = [r for r in records if r.epochs]
    group = ""
    if records:
        case = records[0].case
        group = f" of {fmt.FRAMEWORK_LABELS[case.framework]} on {case.device}"
    figure = new_figure(11, 4.6, f"Training curves{group}{_of_run(records)}")
    if not with_epochs:
        return empty(figure, "no epochs were measured")
    mae_ax, time_ax = figure.subplots(1, 2)
    seconds: list[float] = []
    for r, (marker, size, line) in zip(with_epochs, _styles(len(with_epochs)), strict=True):
        epochs = [e.epoch for e in r.epochs]
        style = {"marker": marker, "markersize": size, "linestyle": line, "fillstyle": "none",
                 "linewidth": 1.2, "label": fmt.case_label(r.case, device=False)}  # fmt: skip
        mae_ax.plot(epochs, [e.train_mae for e in r.epochs], **style)
        time_ax.plot(epochs, [e.seconds for e in r.epochs], **style)
        seconds += [e.seconds for e in r.epochs]
    mae_ax.set_ylabel(f"train MAE ({fmt.MAE_UNIT})")
    time_ax.set_ylabel("epoch time (s, log scale)")
    plain_log_axis(time_ax.yaxis, seconds)
    for ax in (mae_ax, time_ax):
        ax.set_xlabel("epoch")
        integer_ticks(ax.xaxis)
        ax.margins(x=0.04)
        ax.grid(alpha=0.3)
    figure.legend(
        *mae_ax.get_legend_handles_labels(),
        loc="outside lower center",
        ncols=min(len(with_epochs), 4),
        fontsize=8,
        title="hollow markers of different sizes keep curves that coincide visible",
        title_fontsize=8,
    )
    return figure


def _styles(count: int) -> list[tuple[str, float, str]]:
    return [CURVE_STYLES[i % len(CURVE_STYLES)] for i in range(count)]


def curves_png(records: Sequence[Record]) -> bytes:
    return to_png(curves_figure(records))
