"""The dashboard behind Airflow's real login: tokens from the SimpleAuthManager, checked by it.

Airflow does not authenticate plugin apps; these tests prove ours does. The auth manager runs in
this process on a migrated metadata database of its own (token revocation is stored there).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.plugins.plugin_helpers import (
    USERNAME,
    AirflowHome,
    airflow_home,
    load_plugin_module,
    migrate,
)
from tests.reports.report_folders import PNG, small_report
from tests.reports.sample_warehouse import Sample

SETTINGS = (
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CORE__AUTH_MANAGER",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
    "AIRFLOW__API_AUTH__JWT_SECRET",
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    home = airflow_home(tmp_path_factory.mktemp("airflow"))
    migrate(home)
    return home


@pytest.fixture(scope="module")
def auth_manager(home: AirflowHome) -> Iterator[Any]:
    """The configured auth manager, initialized in this process on the home's database."""
    from airflow import settings
    from airflow.api_fastapi.app import create_auth_manager, purge_cached_app

    with pytest.MonkeyPatch.context() as patch:
        for name in SETTINGS:
            patch.setenv(name, home.env[name])
        settings.configure_vars()
        settings.reconfigure_orm()
        purge_cached_app()
        manager = create_auth_manager()
        manager.init()
        yield manager
        purge_cached_app()
    settings.configure_vars()
    settings.reconfigure_orm()


REPORT = "bench/reports/manual__2026-11-05T02_00_00_00_00"


@pytest.fixture(scope="module")
def root(auth_manager: Any, sample: Sample, home: AirflowHome) -> FastAPI:
    """The plugin's app mounted at its prefix, as the API server mounts it; a report written
    where runs write theirs ($BENCH_HOME/reports)."""
    plugin = load_plugin_module()
    app = FastAPI()
    state = home.path / "bench"
    small_report(state / "reports", "manual__2026-11-05T02:00:00+00:00", text="the report")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENCH_HOME", str(state))
        app.mount(plugin.URL_PREFIX, plugin.create_app(url=sample.url))
    return app


@pytest.fixture(scope="module")
def server(root: FastAPI) -> TestClient:
    return TestClient(root)


def with_cookie(root: FastAPI, token: str) -> TestClient:
    """A browser-like client holding the Airflow UI's `_token` cookie."""
    return TestClient(root, cookies={"_token": token})


@pytest.fixture(scope="module")
def token(auth_manager: Any, home: AirflowHome) -> str:
    """A token from the auth manager's own login endpoint, for the configured viewer."""
    login = TestClient(auth_manager.get_fastapi_app())
    response = login.post("/token", json={"username": USERNAME, "password": home.password})
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


def test_logged_in_viewer_sees_the_latest_run(root: FastAPI, token: str, sample: Sample) -> None:
    page = with_cookie(root, token).get("/bench/")
    assert page.status_code == 200
    assert f"Run {sample.latest}" in page.text
    for case in sample.cases:
        assert f'data-case="{case.name}"' in page.text


def test_a_bearer_token_works_too(server: TestClient, token: str) -> None:
    response = server.get("/bench/flags", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and "Open regression flags" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/bench/",
        "/bench/series",
        "/bench/flags",
        "/bench/compare",
        "/bench/charts/series.png?case=torch-eager-cpu",
        "/bench/reports",
        f"/{REPORT}/index.html",
        f"/{REPORT}/figures/timing.png",
    ],
)
def test_without_a_token_every_route_is_401(server: TestClient, path: str) -> None:
    response = server.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


def test_a_logged_in_viewer_reads_the_written_reports(root: FastAPI, token: str) -> None:
    browser = with_cookie(root, token)
    listing = browser.get("/bench/reports")
    assert listing.status_code == 200 and 'href="reports/manual__2026-11-05T02' in listing.text
    page = browser.get(f"/{REPORT}/index.html")
    assert page.status_code == 200 and "the report" in page.text
    figure = browser.get(f"/{REPORT}/figures/timing.png")
    assert figure.headers["content-type"] == "image/png" and figure.content.startswith(PNG)


def test_a_browser_without_a_token_is_sent_to_the_airflow_login(server: TestClient) -> None:
    page = server.get("/bench/series", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303
    next_url = quote("http://testserver/bench/series", safe="")
    assert page.headers["location"] == f"/auth/login?next={next_url}"


def test_forged_expired_revoked_and_roleless_tokens_are_refused(
    root: FastAPI, auth_manager: Any
) -> None:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    viewer = SimpleAuthManagerUser(username=USERNAME, role="viewer")
    forged = auth_manager.generate_jwt(viewer)[:-4] + "AAAA"
    expired = auth_manager.generate_jwt(viewer, expiration_time_in_seconds=-3600)
    roleless = auth_manager.generate_jwt(SimpleAuthManagerUser(username="nobody", role=None))
    revoked = auth_manager.generate_jwt(viewer)
    assert with_cookie(root, revoked).get("/bench/").status_code == 200
    auth_manager.revoke_token(revoked)  # what logging out does
    for name, token, status in [
        ("forged", forged, 403),
        ("expired", expired, 401),
        ("revoked", revoked, 403),
        ("roleless", roleless, 403),
    ]:
        response = with_cookie(root, token).get("/bench/")
        assert response.status_code == status, (name, response.text)
        assert "data-case" not in response.text, name
        report = with_cookie(root, token).get(f"/{REPORT}/index.html")
        assert report.status_code == status and "the report" not in report.text, name
