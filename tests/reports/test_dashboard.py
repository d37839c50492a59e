"""The dashboard app on the sample warehouse, with a stand-in login (Airflow's: tests/plugins)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import HTTPException, Request
from fastapi.testclient import TestClient

from bench.reports import formatting as fmt
from bench.reports.dashboard import create_app
from bench.warehouse import compare_runs
from tests.reports.html_tables import table
from tests.reports.sample_warehouse import ACKED, IMPROVED, NOISY, REGRESSED, RUNS, Sample

USER = {"x-test-user": "alice"}
PNG = b"\x89PNG\r\n\x1a\n"


def stand_in_login(request: Request) -> None:
    if request.headers.get("x-test-user") != "alice":
        raise HTTPException(401, "Not authenticated")


def to_login(next_url: str) -> str:
    return f"/login?next={next_url}"


@pytest.fixture(scope="module")
def client(sample: Sample) -> Iterator[TestClient]:
    app = create_app(authorize=stand_in_login, login_url=to_login, url=sample.url)
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
    assert speedups["tensorflow-function-cpu"]["claim"] == "faster than eager"
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
