"""Airflow UI plugin: the bench warehouse dashboard, in the nav bar, behind the Airflow login.

Airflow 3 mounts a plugin's FastAPI app on the API server without authenticating it: the core
API's auth is a router dependency that a mounted app does not inherit. So the app is built with
an `authorize` dependency that does what the core API does: read the Airflow JWT (the UI's
`_token` cookie, or an `Authorization: Bearer` header), have the auth manager validate it, and
require view access to the Airflow UI. Pages are in `bench.reports.dashboard`; this file only wires.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI

URL_PREFIX = "/bench"
NAV_ROUTE = "bench"


def create_app(*, url: str | None = None) -> FastAPI:
    """The dashboard app with Airflow's login check on every route (url: the warehouse)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import requires_access_view

    from bench.reports.dashboard import create_app as create_dashboard

    return create_dashboard(
        authorize=requires_access_view(AccessView.WEBSITE), login_url=login_url, url=url
    )


def login_url(next_url: str) -> str:
    """The auth manager's login page, returning to `next_url` after a successful login."""
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().get_url_login(next_url=next_url)


class BenchDashboardPlugin(AirflowPlugin):
    name = "bench_dashboard"
    fastapi_apps: list[Any] = [
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "bench dashboard"}
    ]
    # Relative href: resolved against the UI's base URL, so it works under any [api] base_url.
    external_views: list[Any] = [
        {
            "name": "Benchmarks",
            "href": URL_PREFIX.lstrip("/") + "/",
            "destination": "nav",
            "url_route": NAV_ROUTE,
            "nav_top_level": True,
        }
    ]
