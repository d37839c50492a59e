"""The dashboard app on the sample warehouse, with a stand-in login (Airflow's: tests/plugins)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

from bench.reports import formatting as fmt
from bench.reports import write_report
from bench.reports.dashboard import create_app
from bench.reports.report_files import folder_of
from bench.warehouse import compare_runs
from tests.reports.html_tables import table
from tests.reports.report_folders import LEAK, LINKED, SECRET, plant_escapes, small_report
from tests.reports.sample_warehouse import ACKED, IMPROVED, NOISY, REGRESSED, RUNS, Sample

USER = {"x-test-user": "alice"}
PNG = b"\x89PNG\r\n\x1a\n"


def stand_in_login(request: Request) -> None:
    if request.headers.get("x-test-user") != "alice":
        raise HTTPException(401, "Not authenticated")


def to_login(next_url: str) -> str:
    return f"/login?next={next_url}"


HAND_MADE = "hand-made"  # a report folder of no run in the warehouse


@pytest.fixture(scope="module")
def reports(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reports folder: the latest run's real report, a hand-made one, ways out."""
    root = tmp_path_factory.mktemp("state") / "reports"
    write_report(sample.latest, root / folder_of(sample.latest), url=sample.url, history=2)
    small_report(root, HAND_MADE)
    plant_escapes(root, sample.latest)
    return root


@pytest.fixture(scope="module")
def app(sample: Sample, reports: Path) -> FastAPI:
    return create_app(authorize=stand_in_login, login_url=to_login, url=sample.url, reports=reports)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers=USER) as test_client:
        yield test_client


def test_latest_run_page_lists_its_cases_and_findings(client: TestClient, sample: Sample) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    assert f"Run {sample.latest}" in page.text and "(latest)" in page.text
    rows = {row["case"]: row for row in table(page.text, "results")}
    assert set(rows) == {case.name for case in sample.cases}
    assert "tf.function trains" in page.text
    (flag,) = table(page.text, "flags")
    assert (flag["case"], flag["label"]) == (REGRESSED.name, "regression")


def test_the_run_page_shows_intervals_claims_and_conditions(client: TestClient) -> None:
    page = client.get("/").text
    rows = {row["case"]: row for row in table(page, "results")}
    assert rows[NOISY.name]["noisy"].startswith("noisy: other processes used 23% of core(s) 1")
    assert rows[REGRESSED.name]["95% interval (s)"] != "-"
    speedups = {row["case"]: row for row in table(page, "speedups")}
    assert speedups["tensorflow-function-cpu"]["claim"] == "faster than its baseline"
    conditions = {row["case"]: row for row in table(page, "conditions")}
    assert conditions[NOISY.name]["others' CPU share"] == "23.0%"
    assert "<h2>Measurement conditions</h2>" in page
    assert "<h2>From what you write to what the hardware allows</h2>" in page
    assert f'src="charts/run/ladder-cpu.png?run={quote(RUNS[-1], safe="")}"' in page
    assert "TensorFlow on cpu, eager (TensorFlow eager) to step graph" in page


def test_an_older_run_is_shown_on_request(client: TestClient) -> None:
    page = client.get("/", params={"run": RUNS[0]})
    assert page.status_code == 200
    assert f"Run {RUNS[0]}" in page.text and "(latest)" not in page.text
    assert client.get("/", params={"run": "nope"}).status_code == 404


def test_the_run_page_shows_the_runs_verdict(client: TestClient, sample: Sample) -> None:
    latest = client.get("/").text
    assert '<p id="verdict"' in latest and 'data-red="true"' in latest
    assert f"regression {REGRESSED.name} steady_epoch_seconds" in latest
    quiet = client.get("/", params={"run": RUNS[0]}).text
    assert 'data-red="false"' in quiet and 'data-red="true"' not in quiet


def test_run_charts_are_pngs(client: TestClient, sample: Sample) -> None:
    charts = [
        "timing", "speedup", "memory", "ladder-cpu", "curves-torch-cpu", "curves-tensorflow-cpu"
    ]  # fmt: skip
    for chart in charts:
        response = client.get(f"/charts/run/{chart}.png", params={"run": sample.latest})
        assert response.status_code == 200, chart
        assert response.headers["content-type"] == "image/png"
        assert response.content.startswith(PNG)
    missing = client.get("/charts/run/other.png", params={"run": sample.latest})
    assert missing.status_code == 404


def test_series_page_shows_history_with_flags(client: TestClient) -> None:
    page = client.get("/series", params={"case": ACKED.name, "last": 5})
    assert page.status_code == 200
    rows = table(page.text, "history")
    assert [row["run"] for row in rows] == RUNS[::-1]
    flagged = next(row for row in rows if row["run"] == RUNS[2])
    assert flagged["flags"] == "regression peak RSS (MiB) (acknowledged)"
    chart = client.get("/charts/series.png", params={"case": ACKED.name, "last": 5})
    assert chart.content.startswith(PNG)
    assert client.get("/series").status_code == 200  # the first case by default
    bad = client.get("/series", params={"case": "mxnet-eager-cpu"})
    assert bad.status_code == 400 and "unknown framework" in bad.text


def test_open_flags_leave_out_acknowledged_and_non_alert_flags(client: TestClient) -> None:
    rows = table(client.get("/flags").text, "flags")
    assert [(row["run"], row["case"]) for row in rows] == [(RUNS[-1], REGRESSED.name)]
    assert IMPROVED.name not in {row["case"] for row in rows}
    assert rows[0]["value"] == fmt.seconds(0.60) and rows[0]["baseline"] == fmt.seconds(0.4545)


def test_compare_shows_the_warehouse_ratios(client: TestClient, sample: Sample) -> None:
    page = client.get("/compare")  # default: the two newest runs
    assert page.status_code == 200
    expected = compare_runs(RUNS[-2], RUNS[-1], sample.url)
    regressed = next(r for r in expected if r["mode"] == "compile" and r["framework"] == "torch")
    ratio = regressed["steady_epoch_seconds_ratio"]
    assert f'data-case="{REGRESSED.name}"' in page.text
    assert f"{ratio:.3f}" in page.text
    assert client.get("/compare", params={"a": RUNS[0], "b": "nope"}).status_code == 404


@pytest.mark.parametrize(
    "broken", ["bench.reports.dashboard.run_context", "bench.reports.data.run_snapshot"]
)
def test_a_bug_behind_a_page_is_a_500_while_an_unknown_run_stays_a_404(
    sample: Sample, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    app = create_app(authorize=stand_in_login, url=sample.url)
    client = TestClient(app, headers=USER, raise_server_exceptions=False)
    assert client.get("/", params={"run": "nope"}).status_code == 404

    def raise_key_error(*args: object, **kwargs: object) -> None:
        raise KeyError("speedups")

    monkeypatch.setattr(broken, raise_key_error)
    for path in ("/", "/charts/run/timing.png"):
        response = client.get(path, params={"run": sample.latest})
        assert response.status_code == 500, path
        assert "Not found" not in response.text, path


def test_without_login_nothing_is_served(sample: Sample) -> None:
    anonymous = TestClient(create_app(authorize=stand_in_login, login_url=to_login, url=sample.url))
    for path in ("/", "/series", "/flags", "/compare", "/charts/series.png?case=torch-eager-cpu"):
        assert anonymous.get(path).status_code == 401, path
    page = anonymous.get("/", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=http://testserver/"
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert anonymous.get(path).status_code == 404, path


def test_an_empty_warehouse_says_so(tmp_path: Path) -> None:
    app = create_app(authorize=stand_in_login, url=f"sqlite:///{tmp_path / 'empty.db'}")
    client = TestClient(app, headers=USER)
    assert "No runs yet" in client.get("/").text
    assert "no results yet" in client.get("/series").text
    assert client.get("/flags").status_code == 200
    assert client.get("/compare").status_code == 200


def test_an_unreachable_warehouse_is_a_503(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    url = f"sqlite:///{tmp_path / 'file' / 'warehouse.db'}"  # a folder that cannot be made
    client = TestClient(create_app(authorize=stand_in_login, url=url), headers=USER)
    page = client.get("/")
    assert page.status_code == 503 and "Warehouse unavailable" in page.text


def test_the_reports_page_lists_every_report_in_the_folder(client: TestClient) -> None:
    page = client.get("/reports")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    rows = {row["run"]: row for row in table(page.text, "reports")}
    assert set(rows) == {RUNS[-1], HAND_MADE}  # not the folder that links out of it
    assert rows[RUNS[-1]]["trigger"] == "scheduled"
    assert rows[RUNS[-1]]["started"] == "2026-11-05 02:00 UTC"
    assert rows[HAND_MADE]["trigger"] == "-"
    links = re.findall(r'<a href="(reports/[^"]+)">open</a>', page.text)
    assert links == [
        f"reports/{HAND_MADE}/",
        f"reports/{quote(RUNS[-1], safe='/')}/",
    ]  # newest first
    for link in links:
        assert client.get(f"/{link}").status_code == 200, link


def test_a_report_and_each_of_its_figures_are_served(client: TestClient, reports: Path) -> None:
    for run in (RUNS[-1], folder_of(RUNS[-1])):  # by run id or by folder name
        page = client.get(f"/reports/{quote(run, safe='')}/index.html")
        assert page.status_code == 200, run
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert f"Benchmark report: run {RUNS[-1]}" in page.text
    assert client.get(f"/reports/{quote(RUNS[-1], safe='')}/").text == page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "private, no-store"
    sources = re.findall(r'<img id="[^"]+" src="([^"]+)"', page.text)
    assert len(sources) > 5
    for source in sources:  # relative to the page, as a browser resolves them
        figure = client.get(f"/reports/{quote(RUNS[-1], safe='')}/{source}")
        assert figure.status_code == 200, source
        assert figure.headers["content-type"] == "image/png"
        assert figure.content == (reports / folder_of(RUNS[-1]) / source).read_bytes()


def test_a_report_folder_without_its_slash_is_redirected_to_it(client: TestClient) -> None:
    response = client.get(f"/reports/{quote(RUNS[-1], safe='')}", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == f"./{quote(RUNS[-1], safe='')}/"
    for run in ("%2e%2e", "no-such-run", LINKED):
        assert client.get(f"/reports/{run}", follow_redirects=False).status_code == 404, run


def raw_get(app: FastAPI, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written (HTTP clients drop `..` segments before sending)."""
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"testserver"), (b"x-test-user", b"alice")],
        "client": ("testclient", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def test_paths_out_of_the_reports_folder_are_404(
    app: FastAPI, client: TestClient, reports: Path
) -> None:
    run = quote(RUNS[-1], safe="")
    secret = reports.parent / "secret.html"
    for path in (
        f"/reports/{run}/../../secret.html",
        f"/reports/{run}/figures/../../../secret.html",
        "/reports/../secret.html",
    ):
        status, body = raw_get(app, path)
        assert status == 404 and SECRET.encode() not in body, path
    for path in (
        f"/reports/{run}/%2e%2e/%2e%2e/secret.html",
        f"/reports/{run}/%2E%2E%2F%2E%2E%2Fsecret.html",
        "/reports/%2e%2e/secret.html",
        "/reports/..%2f..%2fsecret.html",
        f"/reports/{run}/{quote(str(secret), safe='')}",  # absolute, encoded
        f"/reports/{run}/{secret}",  # absolute: reports/RUN//tmp/.../secret.html
        f"/reports/{run}/{LEAK}",  # a symlink out of the folder
        f"/reports/{LINKED}/index.html",  # a folder that is a symlink out of the root
        f"/reports/{run}/notes.txt",  # a file of a type reports do not have
        f"/reports/{run}/figures",
        "/reports/no-such-run/index.html",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert SECRET not in response.text, path


def test_the_run_page_links_its_report_when_there_is_one(client: TestClient) -> None:
    latest = client.get("/").text
    link = re.search(r'<a id="report-link" href="([^"]+)"', latest)
    assert link and link.group(1) == f"reports/{quote(RUNS[-1], safe='/')}/"
    assert client.get(f"/{link.group(1)}").status_code == 200
    assert 'id="report-link"' not in client.get("/", params={"run": RUNS[0]}).text
    assert '<a href="reports">Reports</a>' in latest


def test_without_login_no_report_is_listed_or_served(sample: Sample, reports: Path) -> None:
    app = create_app(authorize=stand_in_login, login_url=to_login, url=sample.url, reports=reports)
    anonymous = TestClient(app)
    run = quote(RUNS[-1], safe="")
    for path in (
        "/reports",
        f"/reports/{run}",
        f"/reports/{run}/",
        f"/reports/{run}/index.html",
        f"/reports/{run}/figures/timing.png",
        "/reports/no-such-run/index.html",  # the same answer: no hint of what exists
    ):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 401, path
        assert "Benchmark report" not in response.text, path
    page = anonymous.get(
        f"/reports/{run}/index.html", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")


def test_no_reports_yet_says_so(sample: Sample, tmp_path: Path) -> None:
    app = create_app(authorize=stand_in_login, url=sample.url, reports=tmp_path / "none")
    page = TestClient(app, headers=USER).get("/reports")
    assert page.status_code == 200 and "No report has been written yet" in page.text
