"""Macros of the report's protocol sections (Jinja2, autoescaped): workload, time to each
budget, GPU against CPU, what peak memory measures. Imported by the report as "protocol.html";
numbers are formatted by `bench.reports.formatting` (the `fmt` global)."""

from __future__ import annotations

MACROS = """
{% macro workload_table(rows) -%}
<table class="workload">{% for key, value in rows %}
<tr><th>{{ key }}</th><td>{{ value }}</td></tr>
{% endfor %}</table>
{%- endmacro %}

{% macro budgets_table(rows, budgets) -%}
{% if rows %}
{% set device_memory = rows | map(attribute="record.peak_device_bytes") | select | list %}
<table class="budgets"><tr><th>case</th>
{% for b in budgets %}<th>time to {{ b }} epochs (s)</th>{% endfor %}
<th>peak RSS (MiB)</th>{% if device_memory %}<th>peak device (MiB)</th>{% endif %}</tr>
{% for row in rows %}<tr data-case="{{ row.record.case.name }}">
<td>{{ row.record.case.name }}</td>
{% for t in row.times %}<td class="num{{ '' if t.measured else ' projected' }}"
data-measured="{{ 'true' if t.measured else 'false' }}">
{{- "" if t.measured else "≈" }}{{ fmt.seconds(t.seconds) }}</td>{% endfor %}
<td class="num">{{ fmt.mib(row.record.peak_rss_bytes) }}</td>
{% if device_memory %}<td class="num">{{ fmt.mib(row.record.peak_device_bytes)
  if row.record.peak_device_bytes else "n/a (" ~ row.record.case.device ~ ")" }}</td>{% endif %}
</tr>{% endfor %}</table>
{% if rows | selectattr("projected") | list %}<p class="muted">≈: projected as compile + N x
steady epoch, for budgets beyond the epochs the run trained.</p>{% endif %}
{% else %}<p class="muted">No case finished with a steady epoch time.</p>{% endif %}
{%- endmacro %}

{% macro devices_block(pairs, found, note) -%}
{% if pairs %}<table class="devices"><tr><th>framework and mode</th><th>CPU steady (s)</th>
<th>GPU steady (s)</th><th>GPU speedup</th><th>95% interval</th><th>claim</th>
<th>CPU compile (s)</th><th>GPU compile (s)</th><th>counting compile</th>
<th>CPU peak RSS (MiB)</th><th>GPU peak RSS (MiB)</th><th>GPU peak device (MiB)</th></tr>
{% for p in pairs %}{% set s = p.speedup %}<tr data-case="{{ p.gpu.case.framework }}-{{
p.gpu.case.mode }}" data-claim="{{ s.claim }}"><td>{{ p.label }}</td>
<td class="num">{{ fmt.seconds(s.eager_seconds) }}</td>
<td class="num">{{ fmt.seconds(s.compiled_seconds) }}</td>
<td class="num">{{ fmt.ratio(s.factor) }}</td>
<td class="num">{{ fmt.ratio_interval(s.interval) }}</td><td>{{ p.claim }}</td>
<td class="num">{{ fmt.seconds(p.cpu.compile_seconds) }}</td>
<td class="num">{{ fmt.seconds(p.gpu.compile_seconds) }}</td><td>{{ p.pays_back }}</td>
<td class="num">{{ fmt.mib(p.cpu.peak_rss_bytes) }}</td>
<td class="num">{{ fmt.mib(p.gpu.peak_rss_bytes) }}</td>
<td class="num">{{ fmt.mib(p.gpu.peak_device_bytes) }}</td></tr>{% endfor %}</table>
<ul class="findings">{% for f in found %}
<li data-topic="{{ f.topic }}" class="topic-{{ f.topic }}">{{ f.text }}</li>{% endfor %}</ul>
{% else %}<p class="muted">{{ note }}</p>{% endif %}
{%- endmacro %}

{% macro memory_note() -%}
<p id="memory-note"><strong>What peak RSS measures.</strong> Peak RSS is the high-water mark of
the worker process's resident memory (Linux <code>VmHWM</code>), read after training: all the
process ever held in RAM at once, the Python interpreter, the framework's libraries and runtime
(most of it, for this small model), the dataset, compiled code and caches, and the tensors of
training. One process trains a case through every budget, so it is the peak of the whole run and
also bounds the peak at the shorter budgets. It differs from <code>tracemalloc</code> figures
people may compare it with: tracemalloc counts only memory allocated through Python's own
allocator after it was started, so it cannot see the buffers PyTorch, TensorFlow, XLA or CUDA
allocate in native code, reports a few MiB where RSS reports hundreds, and slows the code it
traces. Compare peak RSS between modes and runs, not with tracemalloc. Peak device memory (GPU
only) is the framework allocator's peak, not the whole device's use.</p>
{%- endmacro %}
"""
