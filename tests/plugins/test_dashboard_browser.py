"""A real browser against a real API server: log in through Airflow's login page, open the
dashboard (directly and in the Airflow UI's nav view) and a run's written report through it,
save screenshots, check the cases and that every figure of the report loads.

Needs Debian's chromium and chromium-driver (`apt-get install -y chromium chromium-driver`);
without them the test fails, it does not skip. Screenshots go to artifacts/dashboard/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.reports import write_report
from bench.reports.report_files import folder_of
from tests.chromium import chromium
from tests.plugins.plugin_helpers import REPO, USERNAME, AirflowHome, airflow_home, migrate
from tests.reports.sample_warehouse import Sample

ARTIFACTS = REPO / "artifacts" / "dashboard"
START_TIMEOUT_S = 180

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def api_server(
    sample: Sample, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, AirflowHome]]:
    """`airflow api-server` with the plugin, on a migrated home, the latest run's report
    written where runs write theirs; stopped with its workers."""
    home = airflow_home(tmp_path_factory.mktemp("airflow"), warehouse_url=sample.url)
    migrate(home)
    reports = Path(home.env["BENCH_HOME"]) / "reports"
    write_report(sample.latest, reports / folder_of(sample.latest), url=sample.url, history=2)
    port = free_port()
    log = home.path / "api-server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            ["airflow", "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=home.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: the server and its workers
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server, log)
        yield base, home
    finally:
        stop(server)


def wait_until_healthy(base: str, server: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"api-server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"api-server not healthy after {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def stop(server: subprocess.Popen[Any]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "chromium") as driver:
        yield driver


def test_a_logged_in_user_sees_the_latest_run_in_the_dashboard(
    api_server: tuple[str, AirflowHome], browser: Any, sample: Sample
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, home = api_server
    wait = WebDriverWait(browser, 60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    log_in(browser, base, home, "/bench/")
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "table.results"))
    shot = ARTIFACTS / "latest-run.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    assert_shows_latest_run(browser, sample)

    browser.get(f"{base}/plugin/bench")  # the nav-bar view: the dashboard inside the Airflow UI
    frame = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "iframe[title=Benchmarks]"))[0]
    assert frame.get_attribute("src") == f"{base}/bench/"
    browser.switch_to.frame(frame)
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "table.results"))
    assert_shows_latest_run(browser, sample)
    browser.switch_to.default_content()
    nav_link = "//a[contains(@href, '/plugin/bench')][contains(normalize-space(.), 'Benchmarks')]"
    nav_links = browser.find_elements(By.XPATH, nav_link)
    assert nav_links, "the Benchmarks view is not in the Airflow nav bar"
    shot = ARTIFACTS / "in-airflow.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"screenshots: {ARTIFACTS / 'latest-run.png'} {shot}")


def test_a_logged_in_user_opens_a_runs_report_with_every_figure(
    api_server: tuple[str, AirflowHome], browser: Any, sample: Sample
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, home = api_server
    wait = WebDriverWait(browser, 60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    log_in(browser, base, home, "/bench/reports")
    rows = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "table.reports tr[data-run]"))
    assert [row.get_attribute("data-run") for row in rows] == [sample.latest]
    rows[0].find_element(By.LINK_TEXT, "open").click()
    wait.until(lambda b: b.current_url.endswith("/"))
    assert browser.current_url.startswith(f"{base}/bench/reports/")
    wait.until(lambda b: b.find_elements(By.ID, "findings"))
    assert f"Benchmark report: run {sample.latest}" in browser.find_element(By.TAG_NAME, "h1").text
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) > 5
    wait.until(lambda b: b.execute_script("return [...document.images].every(i => i.complete)"))
    broken = browser.execute_script(
        "return [...document.images].filter(i => !i.naturalWidth).map(i => i.src)"
    )
    assert broken == [], "figures that did not load (login cookie, CSP, paths)"
    shot = ARTIFACTS / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def log_in(browser: Any, base: str, home: AirflowHome, path: str) -> None:
    """Open `path` without a login: Airflow's login page, then back at `path` logged in."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(f"{base}{path}")
    wait.until(lambda b: b.find_elements(By.NAME, "username"))
    assert "/auth/login" in browser.current_url
    browser.find_element(By.NAME, "username").send_keys(USERNAME)
    browser.find_element(By.NAME, "password").send_keys(home.password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda b: b.current_url == f"{base}{path}")


def assert_shows_latest_run(browser: Any, sample: Sample) -> None:
    from selenium.webdriver.common.by import By

    assert browser.find_element(By.TAG_NAME, "h1").text == f"Run {sample.latest} (latest)"
    shown = {
        row.get_attribute("data-case")
        for row in browser.find_elements(By.CSS_SELECTOR, "table.results tr[data-case]")
    }
    assert shown == {case.name for case in sample.cases}
    body = browser.find_element(By.TAG_NAME, "body").text
    for case in sample.cases:
        assert case.name in body
