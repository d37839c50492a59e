"""HTML templates (Jinja2, autoescaped) shared by the static report and the dashboard.

Kept as Python strings, so they ship inside the modules and need no template folder. Numbers
are formatted by `bench.reports.formatting` (the `fmt` global), never in the templates.
"""

from __future__ import annotations

BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}bench{% endblock %}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 80rem; padding: 0 1rem;
       color: #1b1f24; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2.2rem;
     border-bottom: 1px solid #d0d7de; } h3 { font-size: 1.05rem; margin-top: 1.4rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.88rem; }
th, td { border: 1px solid #d0d7de; padding: 0.2rem 0.55rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f6f8fa; }
img { max-width: 100%; border: 1px solid #eee; }
.muted { color: #57606a; } .bad { color: #b42318; font-weight: 600; }
.ok { color: #1a7f37; } .skipped { color: #9a6700; } .failed { color: #b42318; }
.noisy { color: #9a6700; font-weight: 600; } li.topic-caveat { color: #9a6700; }
nav a { margin-right: 1rem; } nav { margin-bottom: 1rem; }
details { margin: 0.4rem 0; } form { margin: 0.6rem 0; }
.epoch-tables { display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; align-items: flex-start; }
caption { font-weight: 600; text-align: left; } td.projected { font-style: italic; }
.history-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(34rem, 1fr));
                gap: 0 1.5rem; }
</style></head>
<body>{% block nav %}{% endblock %}{% block body %}{% endblock %}</body></html>
"""

MACROS = """
{% macro verdict_block(v) -%}
<p id="verdict" class="{{ 'bad' if v.red else '' }}" data-red="{{ 'true' if v.red else 'false' }}">
{{ v.headline() }}</p>
{% if v.red %}<ul class="verdict">{% for line in v.reasons() %}<li>{{ line }}</li>{% endfor %}
</ul>{% endif %}
{%- endmacro %}

{% macro findings_list(found) -%}
<ul class="findings">{% for f in found %}
<li data-topic="{{ f.topic }}" class="topic-{{ f.topic }}">{{ f.text }}</li>
{% else %}<li class="muted">No findings.</li>{% endfor %}</ul>
{%- endmacro %}

{% macro run_header(run) -%}
<table class="run"><tr><th>run</th><td>{{ run.run_id }}</td>
<th>trigger</th><td>{{ run.trigger }}</td></tr>
<tr><th>started</th><td>{{ fmt.when(run.started_at) }}</td><th>finished</th>
<td>{{ fmt.when(run.finished_at) }}</td></tr>
<tr><th>code version</th><td>{{ run.code_version or "-" }}</td><th>dataset validation</th>
<td>{{ run.validation_outcome or "not validated" }}</td></tr>
{% if run.note %}<tr><th>note</th><td colspan="3" id="run-note">{{ run.note }}</td></tr>{% endif %}
</table>
{%- endmacro %}

{% macro results_table(records, speedup, vs_reference) -%}
<table class="results"><tr><th>case</th><th>status</th><th>steady epoch (s)</th>
<th>95% interval (s)</th><th>CV</th><th>repeats</th><th>vs ref</th>
<th>compile (s)</th><th>speedup vs baseline</th><th>peak RSS (MiB)</th><th>peak device (MiB)</th>
<th>total training (s)</th><th>epochs</th><th>noisy</th><th>reason</th></tr>
{% for r in records %}
<tr data-case="{{ r.case.name }}"{% if r.noisy %} class="noisy" data-noisy="true"{% endif %}>
<td>{{ r.case.name }}</td><td class="{{ r.status }}">{{ r.status }}</td>
<td class="num">{{ fmt.seconds(r.steady_epoch_seconds) }}</td>
<td class="num">{{ fmt.interval(r.steady_ci_low, r.steady_ci_high) }}</td>
<td class="num">{{ fmt.cv(r.steady_cv) }}</td><td class="num">{{ r.repeats }}</td>
<td class="num">{{ fmt.ratio(vs_reference(r)) }}</td>
<td class="num">{{ fmt.seconds(r.compile_seconds) }}</td>
<td class="num">{{ fmt.ratio(speedup(r.case)) }}</td>
<td class="num">{{ fmt.mib(r.peak_rss_bytes) }}</td>
<td class="num">{{ fmt.mib(r.peak_device_bytes) }}</td>
<td class="num">{{ fmt.seconds(r.total_seconds) }}</td><td class="num">{{ r.epochs | length }}</td>
<td>{% if r.noisy %}<span class="noisy">noisy</span>: {{ r.noisy }}{% endif %}</td>
<td>{{ r.reason or "" }}</td></tr>{% endfor %}</table>
{%- endmacro %}

{% macro speedups_table(found) -%}
{% if found %}<table class="speedups"><tr><th>case</th><th>baseline steady (s)</th>
<th>steady (s)</th><th>speedup</th><th>95% interval</th><th>claim</th></tr>
{% for s in found %}<tr data-case="{{ s.case.name }}" data-claim="{{ s.claim }}">
<td>{{ s.case.name }}</td><td class="num">{{ fmt.seconds(s.eager_seconds) }}</td>
<td class="num">{{ fmt.seconds(s.compiled_seconds) }}</td>
<td class="num">{{ fmt.ratio(s.factor) }}</td>
<td class="num">{{ fmt.ratio_interval(s.interval) }}</td>
<td>{{ fmt.claim(s.claim) }}</td></tr>{% endfor %}</table>
{% else %}<p class="muted">No case with its baseline (eager; JAX: jit) in this run.</p>{% endif %}
{%- endmacro %}

{% macro ladder_block(ladders, rungs, prefix, suffix) -%}
<p>Each framework's rungs, from the loop people write to what the hardware allows:
{% for rung, modes in rungs %}<strong>{{ rung }}</strong> ({{ modes | join(", ") }}){{ "; " if not
loop.last }}{% endfor %}; then the <strong>floor</strong>, the epoch's FLOPs at the machine's
one-thread GEMM rate. A rung with several modes is represented by its fastest. Each rung is
compared with the previous rung measured: the ratio of steady times, claimed only when its 95%
interval excludes 1; compile = epoch 1 beyond steady; break-even = the first epoch count N at
which the rung's compile + N x steady is no more than the previous rung's compile + N x steady
("never" when it is not measurably faster).
Each CPU case measures the floor on its own cores before it trains; no floor is measured for a
GPU{% if not ladders | selectattr("floor_seconds") | list %}, and these records carry none
(older records do not){% endif %}.</p>
{% for l in ladders %}<h3 id="ladder-{{ l.device }}">On {{ l.device }}</h3>
<img id="fig-{{ l.key }}" src="{{ prefix }}{{ l.key }}{{ suffix }}"
alt="steady and compile time per rung on {{ l.device }}">
{{ findings_list(l.findings) }}
{% else %}<p class="muted">No framework has two rungs measured in this run.</p>{% endfor %}
{%- endmacro %}

{% macro conditions_block(records, noise) -%}
<p>How sure the times are: within one process, a steady time's 95% interval is the
order-statistic interval of the median of epochs 2..N (distribution-free; it needs
{{ noise.min_steady_epochs }} or more steady epochs); across repeats (fresh processes of a case),
it is a t interval on the logarithms of the repeats' medians (Kalibera &amp; Jones, 2013). CV is
the standard deviation over the mean of the same samples. A speedup's interval divides the ends of
the two intervals crosswise, so it is conservative: a difference is stated only when it excludes 1.
A case is <span class="noisy">noisy</span> when, while it trained, other processes used at least
{{ fmt.share(noise.others_share) }} of its cores (and {{ fmt.seconds(noise.others_seconds) }} s of
CPU or more) or the hypervisor stole at least {{ fmt.share(noise.steal_share) }} of them. A noisy
case is kept and shown; regression detection leaves it out of baselines, and over repeats its noisy
repeats are left out of the summary unless all are noisy. "vs ref" is the steady epoch time over
the time of a fixed reference workload (a GEMM burst and a Python loop) on the case's cores: a
slower machine moves both. After the first epoch the worker collects Python's garbage once and
freezes the survivors, off the clock, so a full collection of the framework's objects (0.2 s with
TensorFlow) cannot land in one steady epoch; "GC pauses" is what the collector still took from
epoch 2 on (and how many full collections).</p>
{% set measured = records | rejectattr("status", "equalto", "skipped") | list %}
{% if measured %}<table class="conditions"><tr><th>case</th><th>cores</th>
<th>load before (1/5/15 min)</th><th>load after</th><th>others' CPU share</th><th>steal</th>
<th>governor</th><th>reference (s)</th><th>GC pauses</th><th>repeats used</th>
<th>noisy</th></tr>
{% for r in measured %}{% set c = r.conditions %}
<tr data-case="{{ r.case.name }}"{% if r.noisy %} class="noisy" data-noisy="true"{% endif %}>
<td>{{ r.case.name }}</td><td>{{ fmt.cores(c.get("cores") or r.environment.get("cores")) }}</td>
<td class="num">{{ fmt.load(c.get("load_before")) }}</td>
<td class="num">{{ fmt.load(c.get("load_after")) }}</td>
<td class="num">{{ fmt.share(c.get("others_share")) }}</td>
<td class="num">{{ fmt.share(c.get("steal_share")) }}</td>
<td>{{ c.get("governor") or "-" }}</td>
<td class="num">{{ fmt.seconds(r.reference_seconds) }}</td>
<td class="num">{{ fmt.gc_pauses(c.get("gc")) }}</td>
<td>{{ fmt.repeats_used(c.get("repeats_used"), r.repeats) }}</td>
<td>{% if r.noisy %}<span class="noisy">noisy</span>: {{ r.noisy }}{% else %}no{% endif %}</td>
</tr>{% endfor %}</table>
{% endif %}
{%- endmacro %}

{% macro accuracy_table(records, budgets) -%}
<table class="accuracy"><tr><th>case</th><th>status</th>
{% for b in budgets %}<th>test MSE @{{ b }}</th><th>test MAE @{{ b }}</th>{% endfor %}
<th>last evaluation</th></tr>
{% for r in records %}<tr data-case="{{ r.case.name }}"><td>{{ r.case.name }}</td>
<td class="{{ r.status }}">{{ r.status }}</td>
{% for b in budgets %}{% set m = r.test_metrics_at(b) %}
<td class="num">{{ fmt.metric(m.test_mse if m else None) }}</td>
<td class="num">{{ fmt.metric(m.test_mae if m else None) }}</td>{% endfor %}
<td>{% if r.eval %}{% set last = r.eval[-1] %}epoch {{ last.epoch }}:
MSE {{ fmt.metric(last.test_mse) }},
MAE {{ fmt.metric(last.test_mae) }}{% else %}-{% endif %}</td></tr>{% endfor %}</table>
{%- endmacro %}

{% macro epoch_table(record) -%}
<table class="epochs" data-case="{{ record.case.name }}"><caption>{{ record.case.name }}
{% if record.status != "ok" %}({{ record.status }}){% endif %}</caption>
<tr><th>epoch</th><th>seconds</th><th>train MAE ({{ fmt.MAE_UNIT }})</th></tr>
{% for e in record.epochs %}<tr><td class="num">{{ e.epoch }}</td>
<td class="num">{{ fmt.seconds(e.seconds) }}</td>
<td class="num">{{ fmt.metric(e.train_mae) }}</td></tr>
{% endfor %}</table>
{%- endmacro %}

{% macro flags_table(flags, show_run=True) -%}
{% if flags %}<table class="flags"><tr>{% if show_run %}<th>run</th>{% endif %}<th>case</th>
<th>metric</th><th>label</th><th>value</th><th>baseline</th><th>change</th><th>z</th>
<th>acknowledged</th></tr>
{% for f in flags %}<tr data-case="{{ f.case.name }}">
{% if show_run %}<td>{{ f.run_id }}</td>{% endif %}
<td>{{ f.case.name }}</td><td>{{ fmt.metric_label(f.metric) }}</td>
<td class="{{ 'bad' if f.is_open else '' }}">{{ f.label }}</td>
<td class="num">{{ fmt.metric_value(f.metric, f.value) }}</td>
<td class="num">{{ fmt.metric_value(f.metric, f.baseline_value) }}</td>
<td class="num">{{ fmt.percent(f.change_pct) }}</td>
<td class="num">{{ "%.1f" | format(f.z_score) if f.z_score is not none else "-" }}</td>
<td>{% if f.acknowledgement %}{{ fmt.when(f.acknowledgement.created_at) }}:
{{ f.acknowledgement.note }}{% else %}no{% endif %}</td></tr>{% endfor %}</table>
{% else %}<p class="muted">No regression flags.</p>{% endif %}
{%- endmacro %}

{% macro history_table(h) -%}
{% set has_mae = h.points | map(attribute="test_mae") | select("number") | list %}
<table class="history" data-case="{{ h.case.name }}"><tr><th>run</th><th>started</th><th>status</th>
<th>steady epoch (s)</th><th>peak RSS (MiB)</th>
{% if has_mae %}<th>{{ fmt.metric_label(h.test_mae_metric) }}</th>{% endif %}<th>flags</th></tr>
{% for p in h.points | reverse %}<tr><td>{{ p.run_id }}</td><td>{{ fmt.when(p.started_at) }}</td>
<td class="{{ p.status }}">{{ p.status }}</td>
<td class="num">{{ fmt.seconds(p.steady_epoch_seconds) }}</td>
<td class="num">{{ fmt.mib(p.peak_rss_bytes) }}</td>
{% if has_mae %}<td class="num">{{ fmt.metric(p.test_mae) }}</td>{% endif %}
{% set flags = h.flags_of(p.run_id) %}
{% set unjudged = flags | selectattr("label", "equalto", "insufficient") | list %}
{% set judged = flags | rejectattr("label", "equalto", "insufficient") | list %}
<td>{% for f in judged %}<span class="{{ 'bad' if f.is_open else '' }}">{{ f.label }}
{{ fmt.metric_label(f.metric) }}{% if f.acknowledgement %} (acknowledged){% endif %}</span>
{% if not loop.last %}; {% endif %}{% endfor %}{% if unjudged %}{{ "; " if judged }}
<span class="muted">{{ unjudged | length }} not judged (too little history)</span>{% endif %}</td>
</tr>{% endfor %}</table>
{% if h.acknowledgements %}<p>Acknowledgements:</p><ul>{% for a in h.acknowledgements %}
<li>{{ fmt.when(a.created_at) }}: {{ fmt.metric_label(a.metric) }} from run {{ a.from_run_id }},
{{ a.note }}</li>{% endfor %}</ul>{% endif %}
{%- endmacro %}

{% macro environment_table(rows) -%}
<table class="environment">{% for key, value in rows %}
<tr><th>{{ key }}</th><td>{{ value }}</td></tr>
{% endfor %}</table>
{%- endmacro %}

{% macro validation_block(v, run) -%}
{% if v %}<p>Great Expectations validation of the dataset:
<strong class="{{ 'ok' if v.success else 'bad' }}">
{{- "passed" if v.success else "failed" }}</strong>,
{{ v.statistics.get("evaluated_expectations", "-") }} expectations evaluated,
{{ v.statistics.get("unsuccessful_expectations", "-") }} unsuccessful
(source {{ v.source }}, validated {{ fmt.when(v.validated_at) }}).</p>
<p>Dataset SHA-256: <code>{{ v.dataset_sha256 or run.dataset_sha256 or "-" }}</code></p>
{% if v.failures %}<table class="failures"><tr><th>expectation</th><th>column</th>
<th>unexpected</th><th>examples</th></tr>{% for f in v.failures %}<tr><td>{{ f.expectation }}</td>
<td>{{ f.column or "-" }}</td>
<td class="num">{{ "-" if f.unexpected_count is none else f.unexpected_count }}</td>
<td>{{ f.examples | join(", ") }}</td></tr>{% endfor %}</table>{% endif %}
{% else %}<p class="muted">This run has no dataset validation in the warehouse.</p>{% endif %}
{%- endmacro %}
"""

REPORT = """{% extends "base.html" %}{% import "macros.html" as m with context %}
{% import "protocol.html" as p %}
{% block title %}bench report: {{ s.run.run_id }}{% endblock %}
{% block body %}
<h1>Benchmark report: run {{ s.run.run_id }}</h1>
<p class="muted">One small regression network (California Housing) trained in PyTorch,
TensorFlow and JAX, from the loops people write to whole epochs compiled as one program.
Generated {{ generated }} from the warehouse at {{ warehouse }}.</p>
<nav><a href="#findings">Findings</a><a href="#recommendations">Recommendations</a>
<a href="#workload">Workload</a><a href="#speed">Speed and memory</a>
<a href="#budgets">Time to each budget</a><a href="#ladder">Ladder</a>
<a href="#devices">GPU and CPU</a><a href="#conditions">Measurement conditions</a>
<a href="#accuracy">Test error</a><a href="#cases">Training per case</a>
<a href="#history">History</a>
<a href="#environment">Environment</a><a href="#validation">Data validation</a></nav>
{{ m.run_header(s.run) }}
{{ m.verdict_block(verdict) }}
<section id="findings"><h2>Findings</h2>{{ m.findings_list(found) }}</section>
<section id="recommendations"><h2>Recommendations</h2>
<p>Computed from this run's numbers: training time to a budget is compile + N x steady epoch
(measured where the run trained that far), the model the break-even epochs use.</p>
{% if advice %}{{ m.findings_list(advice) }}{% else %}<p class="muted">Nothing to recommend:
no device has two finished modes in this run.</p>{% endif %}</section>
<section id="workload"><h2>Workload</h2>
<p>What every case trains, as the code and the records define it.</p>
{{ p.workload_table(workload) }}</section>
<section id="speed"><h2>Speed, compile time and memory</h2>
<p>Steady epoch = median of epochs 2..N (over repeats: the median of the repeats' medians), with
its 95% interval and CV; compile = epoch 1 beyond steady; speedup = steady time of the framework's
baseline on the same device (eager; for JAX the jitted step) / this case's; vs ref =
steady / reference workload time (see
<a href="#conditions">Measurement conditions</a>).</p>
{{ m.results_table(s.records, speedup, vs_reference) }}
<h3>Speedup of each mode over its baseline, with its 95% interval</h3>
{{ m.speedups_table(speedups) }}
{% if "timing" in figures %}<h3>Steady epoch time, compile time apart</h3>
<img id="fig-timing" src="{{ figures.timing }}" alt="steady epoch and compile time per case">
{% endif %}
{% if "speedup" in figures %}<h3>Speedup over the baseline (bars: 95% interval)</h3>
<img id="fig-speedup" src="{{ figures.speedup }}" alt="speedup over eager">{% endif %}
{% if "memory" in figures %}<h3>Peak memory against time</h3>
<img id="fig-memory" src="{{ figures.memory }}" alt="peak memory against steady epoch time">
{% endif %}
{{ p.memory_note() }}
</section>
<section id="budgets"><h2>Time to {{ all_budgets | join(", ") }} epochs, and peak memory</h2>
<p>Training seconds until the end of each budget's last epoch (compile and warm-up included),
from the case's own epoch times; peak memory is the whole run's (see
<a href="#memory-note">what peak RSS measures</a>).</p>
{{ p.budgets_table(budget_rows, all_budgets) }}</section>
<section id="ladder"><h2>From what you write to what the hardware allows</h2>
{{ m.ladder_block(ladders, rungs, "figures/", ".png") }}</section>
<section id="devices"><h2>GPU against CPU</h2>
<p>Each framework and mode that finished on both devices: GPU speedup = CPU steady epoch / GPU
steady epoch, claimed only when its 95% interval excludes 1; counting compile = from which epoch
the GPU's compile + N x steady is no more than the CPU's.</p>
{{ p.devices_block(pairs, pair_findings, unpaired) }}</section>
<section id="conditions"><h2>Measurement conditions</h2>
{{ m.conditions_block(s.records, noise) }}</section>
<section id="accuracy"><h2>Test error{% if budgets %} at {{ budgets | join(", ") }} epochs
{%- endif %}</h2>
<p>Test MSE and MAE on the held-out rows, in units of {{ fmt.MAE_UNIT }} (MSE: squared).</p>
{{ m.accuracy_table(s.records, budgets) }}</section>
<section id="cases"><h2>Training per case</h2>
{% for g in groups %}<h3>{{ g.title }}</h3>
{% if g.key in figures %}
<img id="fig-{{ g.key }}" src="{{ figures[g.key] }}" alt="training curves {{ g.title }}">
{% endif %}
<div class="epoch-tables">{% for r in g.records if r.epochs %}{{ m.epoch_table(r) }}
{% endfor %}</div>
{% set idle = g.records | rejectattr("epochs") | list %}
{% if idle %}<p class="muted">No epochs: {% for r in idle %}{{ r.case.name }} ({{ r.status }}:
{{ r.reason or "no reason given" }}){{ "; " if not loop.last }}{% endfor %}.</p>{% endif %}
{% endfor %}
</section>
<section id="history"><h2>History: the last {{ history }} runs of each series</h2>
<p>Flags on this run:</p>{{ m.flags_table(judged_flags, show_run=False) }}
{% if unjudged %}<p class="muted" id="unjudged">{{ unjudged }} check(s) of this run not judged:
too little history (label <code>insufficient</code>).</p>{% endif %}
{% set idle = histories | rejectattr("measured") | list %}
{% if idle %}<p class="muted" id="history-unmeasured">Nothing measured in the last {{ history }}
runs of: {% for h in idle %}{{ h.case.name }} ({{ h.points | map(attribute="status") | unique
| join(", ") }}){{ "; " if not loop.last }}{% endfor %}.</p>{% endif %}
<div class="history-grid">
{% for h in histories if h.measured %}<div><h3 id="history-{{ h.case.name }}">{{ h.case.name }}</h3>
<img id="fig-history-{{ h.case.name }}" src="{{ figures['history-' + h.case.name] }}"
alt="history of {{ h.case.name }}">
<details><summary>The {{ h.points | length }} run(s) as a table</summary>
{{ m.history_table(h) }}</details></div>{% endfor %}</div>
</section>
<section id="environment"><h2>Environment</h2>{{ m.environment_table(env) }}</section>
<section id="validation"><h2>Data validation</h2>
{{ m.validation_block(s.validation, s.run) }}</section>
{% endblock %}
"""
