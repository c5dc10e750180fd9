"""End to end in a real browser: instruments in the register, one engagement's evidence, the memoranda page.

Its own served database: the market of `dashboard_fixtures` plus memoranda and a PPP agreement
(`seed_instruments`), so the other browser tests keep their counts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from dashboard_fixtures import (
    MEMORANDA,
    PPP_ENGAGEMENT_ID,
    REFERRING_NEWS_URL,
    memorandum_engagement_id,
    seed,
    seed_instruments,
)
from playwright.sync_api import Page, expect
from test_dashboard_e2e import BOM, TIMEOUT_MS, grid_rows, screenshot, wait_for_app, wait_for_query

from dashboard.i18n import translate
from entities.db import make_engine
from entities.migrate import upgrade
from pipeline.export_memoranda import COLUMNS
from pipeline.serve import DashboardProcess, free_port, serve_dashboard

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardProcess]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-instruments') / 'dashboard.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    seed(engine)
    seed_instruments(engine)
    engine.dispose()
    with serve_dashboard(port=free_port(), database_url=url, wait=False) as running:
        yield running


def test_selecting_a_row_shows_its_evidence(page: Page, dashboard: DashboardProcess, artifacts: Path) -> None:
    query = urlencode({"instrument": translate("ru", "instrument.ppp_agreement")})
    page.goto(f"{dashboard.url}/register?{query}")
    wait_for_app(page)
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.locator("tbody tr")).to_have_count(1)
    assert grid_rows(page)[0][0] == "2023-08-01"
    # Select the only row through its row-marker cell (left edge of the first data row).
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)
    params = wait_for_query(page, lambda q: q.get("engagement") == [PPP_ENGAGEMENT_ID])
    assert params.get("engagement") == [PPP_ENGAGEMENT_ID]
    wait_for_app(page)
    expect(page.get_by_text(translate("ru", "evidence.ppp_header"), exact=True)).to_be_visible(
        timeout=TIMEOUT_MS
    )
    screenshot(page, artifacts / "register-evidence-ppp.png")


def test_memorandum_permalink_lists_documents(page: Page, dashboard: DashboardProcess) -> None:
    memo = MEMORANDA[0]
    page.goto(f"{dashboard.url}/register?{urlencode({'engagement': memorandum_engagement_id(memo.id)})}")
    wait_for_app(page)
    expect(page.get_by_text(translate("ru", "evidence.memorandum_header"), exact=True)).to_be_visible()
    expect(page.get_by_text(translate("ru", "evidence.documents_header"), exact=True)).to_be_visible()
    grids = page.get_by_test_id("stDataFrame")
    expect(grids.filter(has_text=memo.title)).to_have_count(1, timeout=TIMEOUT_MS)
    # The later press release appears twice: as a raw record behind the engagement, and as a document.
    expect(grids.filter(has_text=REFERRING_NEWS_URL)).to_have_count(2, timeout=TIMEOUT_MS)


def test_memoranda_page_filters_and_csv(page: Page, dashboard: DashboardProcess, artifacts: Path) -> None:
    page.goto(f"{dashboard.url}/memoranda?{urlencode({'party': 'билим'})}")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=translate("ru", "memoranda.title"))).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").locator("tbody tr")).to_have_count(len(MEMORANDA))
    screenshot(page, artifacts / "memoranda.png")
    with page.expect_download(timeout=TIMEOUT_MS) as download_info:
        page.get_by_test_id("stDownloadButton").get_by_role("button").click()
    data = Path(download_info.value.path()).read_bytes()
    assert data.startswith(BOM)
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(table[0]) == COLUMNS
    assert sorted(row[0] for row in table[1:]) == sorted(m.id for m in MEMORANDA)
