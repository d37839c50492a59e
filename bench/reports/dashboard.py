"""The warehouse dashboard as a FastAPI app: latest run, series history, open flags, compare,
and the written reports of every run.

Read-only and server-rendered (HTML plus PNG charts, no JavaScript). The app cannot be built
without an `authorize` dependency: the Airflow plugin passes one that checks the Airflow login,
and every route, charts included, runs it first. Routes only call `bench.reports.data`, and
`bench.reports.report_files` for the reports folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bench.config import FRAMEWORK_MODES, Case
from bench.records import ALERT_LABELS
from bench.reports import data, figures, report_files
from bench.reports.render import curve_groups, render, run_context
from bench.warehouse import NotFound, WarehouseError
from bench.warehouse.engine import read_url
from bench.warehouse.queries import COMPARED_METRICS

NO_STORE = {"Cache-Control": "private, no-store"}
# A served report file runs no script and loads nothing but its own figures: whatever lands in
# the reports folder cannot act for the logged-in user on the Airflow origin.
REPORT_FILE_HEADERS = {
    **NO_STORE,
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
}


def create_app(
    *,
    authorize: Callable[..., Any],
    login_url: Callable[[str], str] | None = None,
    url: str | None = None,
    reports: Path | None = None,
) -> FastAPI:
    """The dashboard app; `authorize` guards every route (raise 401/403 to refuse).

    login_url(next_url) gives the login page to send an unauthenticated browser to; without
    it, such requests get the 401. `url` is the warehouse to read; by default the one
    read_url() names: on PostgreSQL the read-only role, never the owner that migrations use.
    `reports` is the folder of written reports (default: $BENCH_HOME/reports).
    """
    url = url or read_url()
    reports = reports or report_files.reports_root()
    app = FastAPI(
        title="bench dashboard",
        dependencies=[Depends(authorize)],
        # No /docs, /redoc or /openapi.json: app dependencies do not guard them.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.exception_handler(StarletteHTTPException)
    async def _refused(request: Request, exc: StarletteHTTPException) -> Response:
        wants_page = "text/html" in request.headers.get("accept", "")
        if exc.status_code == 401 and login_url and wants_page and request.method == "GET":
            return RedirectResponse(login_url(str(request.url)), status_code=303)
        return await http_exception_handler(request, exc)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _message("Not found", str(exc), status_code=404)

    @app.exception_handler(WarehouseError)
    async def _unavailable(request: Request, exc: WarehouseError) -> Response:
        return _message("Warehouse unavailable", str(exc), status_code=503)

    @app.get("/", response_class=HTMLResponse)
    def latest_run(run: str | None = None) -> Response:
        runs = data.recent_runs(url=url)
        if not runs:
            return _message("No runs yet", "The warehouse has no results yet.")
        snapshot = data.run_snapshot(run, url=url)
        latest = snapshot.run.run_id == runs[0].run_id
        report = report_files.report_file(reports, snapshot.run.run_id) is not None
        context = run_context(snapshot)
        return _page("dash_run.html", **context, runs=runs, latest=latest, report=report)

    @app.get("/series", response_class=HTMLResponse)
    def series(case: str | None = None, last: int = Query(30, ge=1, le=1000)) -> Response:
        cases = data.series_cases(url=url)
        chosen = parse_case(case) if case else (cases[0] if cases else None)
        history = data.series(chosen, last=last, url=url) if chosen else None
        return _page("dash_series.html", h=history, cases=cases, last=last)

    @app.get("/flags", response_class=HTMLResponse)
    def open_flags() -> Response:
        return _page("dash_flags.html", flags=data.open_flags(url=url), alert_labels=ALERT_LABELS)

    @app.get("/compare", response_class=HTMLResponse)
    def compare(a: str | None = None, b: str | None = None) -> Response:
        runs = data.recent_runs(url=url)
        if not (a and b) and len(runs) >= 2:
            a, b = a or runs[1].run_id, b or runs[0].run_id
        rows = data.compare(a, b, url=url) if a and b else []
        return _page("dash_compare.html", runs=runs, a=a, b=b, rows=rows, metrics=COMPARED_METRICS)

    @app.get("/reports", response_class=HTMLResponse)
    def written_reports() -> Response:
        found = report_files.list_reports(reports)
        try:  # the run behind each folder; the folders list without it
            recent = data.recent_runs(max(50, len(found)), url=url)
        except WarehouseError:
            recent = []
        runs = {report_files.folder_of(r.run_id): r for r in reversed(recent)}  # newest wins
        rows = [(report, runs.get(report.folder)) for report in found]
        return _page("dash_reports.html", rows=rows)

    @app.get("/reports/{run}")
    def report_folder(run: str) -> Response:
        if report_files.report_file(reports, run) is None:
            raise HTTPException(404, f"no report of {run!r}")
        # Relative links in index.html (figures/...) need the trailing slash.
        return RedirectResponse(f"./{quote(run, safe='')}/", status_code=307, headers=NO_STORE)

    @app.get("/reports/{run}/{path:path}")
    def report_content(run: str, path: str) -> Response:
        found = report_files.report_file(reports, run, path)
        if found is None:
            raise HTTPException(404, f"no file {path or 'index.html'!r} in a report of {run!r}")
        media_type = report_files.CONTENT_TYPES[found.suffix.lower()]
        return FileResponse(found, media_type=media_type, headers=REPORT_FILE_HEADERS)

    @app.get("/charts/run/{chart}.png")
    def run_chart(chart: str, run: str) -> Response:
        snapshot = data.run_snapshot(run, url=url)
        context = run_context(snapshot)
        if chart == "timing":
            png = figures.timing_png(snapshot.records)
        elif chart == "speedup":
            png = figures.speedup_png(context["speedups"])
        elif chart == "memory":
            png = figures.memory_time_png(snapshot.records)
        elif ladder := next((lad for lad in context["ladders"] if lad.key == chart), None):
            png = figures.ladder_png(ladder)
        else:
            group = next((g for g in curve_groups(snapshot.records) if g.key == chart), None)
            if group is None:
                raise HTTPException(404, f"no chart {chart!r} for run {run!r}")
            png = figures.curves_png(group.records)
        return Response(png, media_type="image/png", headers=NO_STORE)

    @app.get("/charts/series.png")
    def series_chart(case: str, last: int = Query(30, ge=1, le=1000)) -> Response:
        png = figures.history_png(data.series(parse_case(case), last=last, url=url))
        return Response(png, media_type="image/png", headers=NO_STORE)

    return app


def parse_case(name: str) -> Case:
    """`torch-compile-max-autotune-cpu` -> Case; HTTP 400 naming the problem otherwise."""
    framework, _, rest = name.partition("-")
    mode, _, device = rest.rpartition("-")
    try:
        if framework not in FRAMEWORK_MODES:
            raise ValueError(f"unknown framework in case {name!r}")
        return Case(framework, mode, device)
    except ValueError as exc:
        raise HTTPException(400, f"{exc}; cases look like torch-eager-cpu") from exc


def _page(template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, **context), status_code=status_code, headers=NO_STORE)


def _message(title: str, message: str, *, status_code: int = 200) -> HTMLResponse:
    return _page("dash_message.html", title=title, message=message, status_code=status_code)
