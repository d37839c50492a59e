"""The dashboard's pages (Jinja2, autoescaped); they reuse the report's macros.

Every link is relative (no leading slash), so the pages work wherever Airflow mounts the app and
behind any `[api] base_url`.
"""

from __future__ import annotations

DASH_BASE = """{% extends "base.html" %}
{% block title %}bench dashboard{% endblock %}
{% block nav %}<nav><strong>bench</strong> <a href="./">Latest run</a>
<a href="series">Series history</a>
<a href="flags">Open regression flags</a><a href="compare">Compare runs</a>
<a href="reports">Reports</a></nav>{% endblock %}
"""

RUN = """{% extends "dash_base.html" %}{% import "macros.html" as m with context %}
{% block body %}
<h1>Run {{ s.run.run_id }}{% if latest %} <span class="muted">(latest)</span>{% endif %}</h1>
<form method="get" action="./"><label>Run <select name="run">
{% for r in runs %}<option value="{{ r.run_id }}" {{ "selected" if r.run_id == s.run.run_id }}>
{{ r.run_id }} ({{ fmt.when(r.started_at) }})</option>{% endfor %}</select></label>
<button type="submit">Show</button></form>
{{ m.run_header(s.run) }}
{% if report | default(false) %}
<p><a id="report-link" href="reports/{{ s.run.run_id | urlencode }}/">The run's report</a>
(the static HTML page written at its end)</p>{% endif %}
{{ m.verdict_block(verdict) }}
<h2>Findings</h2>{{ m.findings_list(found) }}
<h2>Cases</h2>{{ m.results_table(s.records, speedup, vs_reference) }}
<h3>Speedup over eager, with its 95% interval</h3>{{ m.speedups_table(speedups) }}
<p>History of a case: {% for r in s.records %}<a href="series?case={{ r.case.name | urlencode }}">
{{ r.case.name }}</a>{{ ", " if not loop.last }}{% endfor %}</p>
<h2>Regression flags on this run</h2>{{ m.flags_table(s.flags, show_run=False) }}
<h2>Speed, compile time and memory</h2>
<img src="charts/run/timing.png?run={{ s.run.run_id | urlencode }}" alt="steady and compile time">
<img src="charts/run/speedup.png?run={{ s.run.run_id | urlencode }}" alt="speedup over eager">
<img src="charts/run/memory.png?run={{ s.run.run_id | urlencode }}" alt="memory against time">
<h2>From what you write to what the hardware allows</h2>
{{ m.ladder_block(ladders, rungs, "charts/run/", ".png?run=" ~ (s.run.run_id | urlencode)) }}
<h2>Measurement conditions</h2>{{ m.conditions_block(s.records, noise) }}
<h2>Test error</h2>{{ m.accuracy_table(s.records, budgets) }}
<h2>Training curves</h2>
{% for g in groups if g.measured %}<h3>{{ g.title }}</h3>
<img src="charts/run/{{ g.key }}.png?run={{ s.run.run_id | urlencode }}" alt="curves {{ g.title }}">
{% endfor %}
<h2>Environment</h2>{{ m.environment_table(env) }}
<h2>Data validation</h2>{{ m.validation_block(s.validation, s.run) }}
{% endblock %}
"""

SERIES = """{% extends "dash_base.html" %}{% import "macros.html" as m with context %}
{% block body %}
<h1>Series history{% if h %}: {{ h.case.name }}{% endif %}</h1>
<form method="get" action="series"><label>Case <select name="case">
{% for c in cases %}<option value="{{ c.name }}" {{ "selected" if h and c == h.case }}>
{{ c.name }}</option>
{% endfor %}</select></label> <label>last <input name="last" type="number" min="1" max="1000"
value="{{ last }}"> runs</label> <button type="submit">Show</button></form>
{% if h %}
<img src="charts/series.png?case={{ h.case.name | urlencode }}&amp;last={{ last }}"
alt="history of {{ h.case.name }}">
{{ m.history_table(h) }}
{% else %}<p class="muted">The warehouse has no results yet.</p>{% endif %}
{% endblock %}
"""

FLAGS = """{% extends "dash_base.html" %}{% import "macros.html" as m with context %}
{% block body %}
<h1>Open regression flags</h1>
<p class="muted">Flags labelled {{ alert_labels | join(", ") }} that nobody has acknowledged yet
(<code>bench ack</code>), newest run first.</p>
{{ m.flags_table(flags) }}
{% endblock %}
"""

COMPARE = """{% extends "dash_base.html" %}
{% block body %}
<h1>Compare two runs</h1>
<form method="get" action="compare">{% for field, chosen in (("a", a), ("b", b)) %}
<label>Run {{ field | upper }} <select name="{{ field }}">{% for r in runs %}
<option value="{{ r.run_id }}" {{ "selected" if r.run_id == chosen }}>{{ r.run_id }}</option>
{% endfor %}</select></label> {% endfor %}<button type="submit">Compare</button></form>
{% if rows %}<p>Ratio = B / A: above 1, run B is slower or larger (in red above 1.1).</p>
<table class="compare"><tr><th>case</th><th>status A</th><th>status B</th>
{% for name in metrics %}<th>{{ fmt.metric_label(name) }} A</th><th>B</th><th>B / A</th>{% endfor %}
<th>same environment</th></tr>
{% for row in rows %}<tr data-case="{{ row.framework }}-{{ row.mode }}-{{ row.device }}">
<td>{{ row.framework }}-{{ row.mode }}-{{ row.device }}</td><td>{{ row.status_a or "-" }}</td>
<td>{{ row.status_b or "-" }}</td>
{% for name in metrics %}<td class="num">{{ fmt.metric_value(name, row[name + "_a"]) }}</td>
<td class="num">{{ fmt.metric_value(name, row[name + "_b"]) }}</td>
{% set ratio = row[name + "_ratio"] %}
<td class="num {{ 'bad' if ratio and ratio > 1.1 }}">
{{- "%.3f" | format(ratio) if ratio is not none else "-" }}</td>
{% endfor %}<td>{{ {True: "yes", False: "no"}.get(row.same_environment, "-") }}</td></tr>
{% endfor %}</table>{% elif a and b %}<p class="muted">Nothing to compare.</p>{% endif %}
{% endblock %}
"""

REPORTS = """{% extends "dash_base.html" %}
{% block body %}
<h1>Reports</h1>
<p class="muted">The HTML report written at the end of each run (<code>bench report</code>
writes one on demand), newest first, as found in <code>$BENCH_HOME/reports</code>.</p>
{% if rows %}<table class="reports"><tr><th>run</th><th>trigger</th><th>started</th>
<th>report written</th><th>report</th></tr>
{% for report, run in rows %}{% set run_id = run.run_id if run else report.folder %}
<tr data-run="{{ run_id }}"><td>{{ run_id }}</td><td>{{ run.trigger if run else "-" }}</td>
<td>{{ fmt.when(run.started_at) if run else "-" }}</td><td>{{ fmt.when(report.written) }}</td>
<td><a href="reports/{{ run_id | urlencode }}/">open</a></td></tr>
{% endfor %}</table>{% else %}<p class="muted">No report has been written yet.</p>{% endif %}
{% endblock %}
"""

MESSAGE = """{% extends "dash_base.html" %}
{% block body %}<h1>{{ title }}</h1><p>{{ message }}</p>{% endblock %}
"""

PAGES: dict[str, str] = {
    "dash_base.html": DASH_BASE,
    "dash_run.html": RUN,
    "dash_series.html": SERIES,
    "dash_flags.html": FLAGS,
    "dash_compare.html": COMPARE,
    "dash_reports.html": REPORTS,
    "dash_message.html": MESSAGE,
}
