"""End-to-end fixtures: Debian's chromium driven by Playwright against a dashboard served on loopback.

No browser is ever downloaded (`playwright install` is never run): the tests use the system chromium, which
`.ci/run` installs with apt-get. Where it is missing, every browser test is skipped with a reason that says so,
and the session summary repeats it, so a green run without browser tests cannot pass unnoticed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_fixtures import seed
from playwright.sync_api import Browser, Page, sync_playwright

from entities.config import PROJECT_ROOT
from entities.db import make_engine
from entities.migrate import upgrade
from pipeline.serve import DashboardProcess, free_port, serve_dashboard

SKIP_REASON = "chromium not installed: browser tests did not run (apt-get install chromium)"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
# Headless as root in a container: no sandbox, no GPU, no /dev/shm, nothing that phones home.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's chromium; `ASHYQ_CHROMIUM` names another binary (a path that does not exist means none)."""
    override = os.environ.get("ASHYQ_CHROMIUM")
    if override is not None:
        return override if Path(override).is_file() else None
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if chromium_path() is not None:
        return
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if chromium_path() is None:
        terminalreporter.write_line(f"NOTE: {SKIP_REASON}.", yellow=True)


@pytest.fixture(scope="session")
def seeded_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'dashboard.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    seed(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def dashboard(seeded_sqlite_url: str) -> Iterator[DashboardProcess]:
    """The real dashboard, started the way `ashyq dashboard` starts it, on a free port."""
    with serve_dashboard(port=free_port(), database_url=seeded_sqlite_url, wait=False) as running:
        yield running


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in the main thread while it
# is open, and later tests (Scrapy middlewares driven with asyncio.run) need the thread's loop free again.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(SKIP_REASON)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1440, "height": 1000}, accept_downloads=True, locale="ru-RU"
    )
    # Streamlit saves downloads through the File System Access API when the browser has it, which Playwright
    # never sees as a download; without it Streamlit falls back to an ordinary download.
    context.add_init_script("delete window.showSaveFilePicker")
    new_page = context.new_page()
    yield new_page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
