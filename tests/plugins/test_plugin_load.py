"""Airflow loads the plugin: `airflow plugins` lists its FastAPI app and its nav-bar view."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.plugins.plugin_helpers import airflow_home, load_plugin_module


def test_airflow_plugins_lists_the_dashboard(tmp_path: Path) -> None:
    home = airflow_home(tmp_path)
    done = subprocess.run(
        ["airflow", "plugins", "--output", "json"],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout[done.stdout.index("[") :])}
    plugin = plugins["bench_dashboard"]
    assert plugin["source"] == "$PLUGINS_FOLDER/bench_dashboard.py"
    assert [(a["name"], a["url_prefix"]) for a in plugin["fastapi_apps"]] == [
        ("bench dashboard", "/bench")
    ]
    (view,) = plugin["external_views"]
    assert (view["name"], view["href"], view["destination"], view["url_route"]) == (
        "Benchmarks",
        "bench/",
        "nav",
        "bench",
    )


def test_the_plugin_module_is_thin_and_guards_every_route() -> None:
    module = load_plugin_module()
    (entry,) = module.BenchDashboardPlugin.fastapi_apps
    app = entry["app"]
    assert app.openapi_url is None and app.docs_url is None
    assert [d.dependency.__qualname__ for d in app.router.dependencies] == [
        "requires_access_view.<locals>.inner"
    ]
    assert len(Path(module.__file__).read_text().splitlines()) < 80
