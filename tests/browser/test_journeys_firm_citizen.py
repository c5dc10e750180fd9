"""The firm's and the citizen's journeys, end to end in Debian's chromium, in Russian, Kazakh and English.

Firm: its BIN typed into search → its card → the tender history tab (bids won, lost, still open, with prices)
→ the tab's CSV, whose bytes are checked. Citizen: a region → the register filtered to that region → each
row's source link. The dashboard runs as `ashyq dashboard` runs it, on a SQLite file seeded with the
fictional market of `tests/dashboard_fixtures_entity.py`. Screenshots go to `test-artifacts/`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_fixtures import ENGAGEMENTS, source_url
from dashboard_fixtures_entity import BILIM, BILIM_ID, TENDERS, seed_entity, tender_url
from playwright.sync_api import Locator, Page, expect
from test_dashboard_e2e import BOM, TIMEOUT_MS, grid_rows, screenshot, wait_for_app

from dashboard.i18n import LANGUAGES, translate
from dashboard.ui import format_int, region_name
from entities.db import make_engine
from entities.migrate import upgrade
from pipeline.serve import DashboardProcess, free_port, serve_dashboard

pytestmark = pytest.mark.browser

REGION = "75"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardProcess]:
    """This module's own dashboard, on the market with tenders, persons, names and flags."""
    url = f"sqlite:///{tmp_path_factory.mktemp('journeys') / 'dashboard.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_entity(engine)
    engine.dispose()
    with serve_dashboard(port=free_port(), database_url=url, wait=False) as running:
        yield running


def visible_panel(page: Page) -> Locator:
    return page.get_by_role("tabpanel").locator("visible=true")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_firm_journey_bin_to_tender_history_csv(
    page: Page, dashboard: DashboardProcess, artifacts: Path, lang: str
) -> None:
    page.goto(f"{dashboard.url}/search?q={BILIM.bin}&lang={lang}")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=translate(lang, "search.title"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    link = page.get_by_test_id("stPageLink").filter(has_text=BILIM.name_ru).first
    expect(link).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, artifacts / f"journey-firm-search-{lang}.png")

    link.click()
    page.wait_for_url(f"**/entity?*id={BILIM_ID}*", timeout=TIMEOUT_MS)
    wait_for_app(page)
    expect(page.get_by_role("heading", name=BILIM.name_ru)).to_be_visible(timeout=TIMEOUT_MS)
    # The citation names this page and the source records.
    expect(page.get_by_test_id("stCode").first).to_contain_text(f"entity?id={BILIM_ID}", timeout=TIMEOUT_MS)

    page.get_by_role("tab", name=translate(lang, "entity.tab.tenders")).click()
    panel = visible_panel(page)
    mine = [t for t in TENDERS if any(who == "bilim" for who, _ in t.bids)]
    outcomes = {
        t.trd_buy_id: ("open" if t.winner is None else "won" if t.winner == "bilim" else "lost") for t in mine
    }
    summary = translate(
        lang,
        "entity.tender_summary",
        bids=format_int(len(mine), lang),
        won=format_int(sum(o == "won" for o in outcomes.values()), lang),
        lost=format_int(sum(o == "lost" for o in outcomes.values()), lang),
        open=format_int(sum(o == "open" for o in outcomes.values()), lang),
    )
    expect(panel.get_by_test_id("stMarkdown").first).to_contain_text(
        summary.split(";")[0], timeout=TIMEOUT_MS
    )
    grid = panel.get_by_test_id("stDataFrame")
    expect(grid.locator("tbody tr")).to_have_count(len(mine), timeout=TIMEOUT_MS)
    rows = [row.locator("td").all_inner_texts() for row in grid.locator("tbody tr").all()]
    assert {row[1] for row in rows} == {tender_url(t.trd_buy_id) for t in mine}  # each bid's source link
    shown_outcomes = {cell for row in rows for cell in row}
    assert {translate(lang, f"entity.outcome.{o}") for o in outcomes.values()} <= shown_outcomes
    screenshot(page, artifacts / f"journey-firm-tenders-{lang}.png")

    with page.expect_download(timeout=TIMEOUT_MS) as download_info:
        panel.get_by_test_id("stDownloadButton").get_by_role("button").click()
    data = Path(download_info.value.path()).read_bytes()
    assert data.startswith(BOM)
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert {int(r["trd_buy_id"]): r["outcome"] for r in table} == outcomes
    prices = {int(r["trd_buy_id"]): r["price"] for r in table}
    assert prices == {t.trd_buy_id: str(dict(t.bids)["bilim"]) for t in mine}
    assert download_info.value.suggested_filename.endswith(".csv")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_citizen_journey_region_to_register_to_source(
    page: Page, dashboard: DashboardProcess, artifacts: Path, lang: str
) -> None:
    page.goto(f"{dashboard.url}/region?kato={REGION}&lang={lang}")
    wait_for_app(page)
    rows = [r for r in ENGAGEMENTS if r.region == REGION]
    expect(page.get_by_role("heading", name=region_name(REGION, lang))).to_be_visible(timeout=TIMEOUT_MS)
    metric = page.get_by_test_id("stMetric").filter(has_text=translate(lang, "region.metric.engagements"))
    expect(metric.get_by_test_id("stMetricValue")).to_have_text(
        format_int(len(rows), lang), timeout=TIMEOUT_MS
    )
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts).to_have_count(3, timeout=TIMEOUT_MS)  # categories, legal basis, the region among others
    for chart in charts.all():
        chart.scroll_into_view_if_needed()
        expect(chart.locator(".main-svg").first).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, artifacts / f"journey-citizen-region-{lang}.png")

    label = translate(lang, "region.open_register", region=region_name(REGION, lang))
    page.get_by_test_id("stPageLink").filter(has_text=label).click()
    page.wait_for_url("**/register*", timeout=TIMEOUT_MS)
    wait_for_app(page)
    expect(page.get_by_role("heading", name=translate(lang, "register.title"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.locator("tbody tr")).to_have_count(len(rows), timeout=TIMEOUT_MS)
    shown = grid_rows(page)
    # Every row of the region, each with its source link (the pinned second column, an http(s) address).
    assert {row[1] for row in shown} == {source_url(r.n) for r in rows}
    assert {row[0] for row in shown} == {r.signed_on.isoformat() for r in rows}
    screenshot(page, artifacts / f"journey-citizen-register-{lang}.png")
