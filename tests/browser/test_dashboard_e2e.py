"""End to end in a real browser: the dashboard as `ashyq dashboard` serves it, against a seeded SQLite file.

What AppTest cannot see is checked here: the rendered banner and charts, the URL bar as a permalink, the
grid's rows and links, and the bytes of the CSV a reader actually downloads. Screenshots go to
`test-artifacts/` for a human to look at.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from dashboard_fixtures import ENGAGEMENTS, source_url
from playwright.sync_api import Page, expect

from dashboard.i18n import basis_label, translate
from dashboard.queries import EXPORT_COLUMNS
from dashboard.ui import region_name
from pipeline.serve import DashboardProcess

pytestmark = pytest.mark.browser

BOM = b"\xef\xbb\xbf"
TIMEOUT_MS = 20_000  # a cold Streamlit session on a loaded 2-core machine


def wait_for_app(page: Page) -> None:
    """Streamlit renders after its websocket session starts; wait until the script has finished running."""
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=TIMEOUT_MS
    )


def screenshot(page: Page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to the content first."""
    height = page.get_by_test_id("stMain").evaluate("el => el.scrollHeight")
    size = page.viewport_size or {"width": 1440, "height": 1000}
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height))})
    page.wait_for_timeout(300)  # let charts re-layout to the new size
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)


def wait_for_query(page: Page, ready: Callable[[dict[str, list[str]]], bool]) -> dict[str, list[str]]:
    """The page's query parameters once `ready` holds (the app rewrites the URL without a navigation)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        query = parse_qs(urlsplit(page.url).query)
        if ready(query) or time.monotonic() > deadline:
            return query
        page.wait_for_timeout(100)


def grid_rows(page: Page) -> list[list[str]]:
    """Cell texts of the register grid, from the accessible table glide-data-grid keeps beside its canvas."""
    rows = page.get_by_test_id("stDataFrame").locator("tbody tr")
    return [row.locator("td").all_inner_texts() for row in rows.all()]


def test_overview_then_register_permalink_then_csv(
    page: Page, dashboard: DashboardProcess, artifacts: Path
) -> None:
    page.goto(dashboard.url)
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text(translate("ru", "banner.fictional"))
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(3)
    expect(page.get_by_test_id("stPlotlyChart").first.locator(".main-svg").first).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(str(len(ENGAGEMENTS)))
    screenshot(page, artifacts / "overview.png")

    # A permalink as the browser writes it: bound widgets carry their labels.
    query = urlencode(
        {
            "region": [region_name("71", "ru"), region_name("75", "ru")],
            "basis": basis_label("single_source", "ru"),
            "year": "2024",
        },
        doseq=True,
    )
    page.goto(f"{dashboard.url}/register?{query}")
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentWarning")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").locator("tbody tr")).to_have_count(2)
    rows = grid_rows(page)
    assert {row[0] for row in rows} == {"2024-09-01", "2024-02-01"}
    # Each row carries its source link (the pinned second column), and the grid shows it as a link.
    assert {row[1] for row in rows} == {source_url(4), source_url(2)}
    screenshot(page, artifacts / "register.png")

    with page.expect_download(timeout=TIMEOUT_MS) as download_info:
        page.get_by_test_id("stDownloadButton").get_by_role("button").click()
    data = Path(download_info.value.path()).read_bytes()
    assert data.startswith(BOM)
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(table[0]) == EXPORT_COLUMNS
    assert sorted(row[0] for row in table[1:]) == ["goszakup-contract-9000002", "goszakup-contract-9000004"]
    assert download_info.value.suggested_filename.endswith(".csv")


def test_language_switch_keeps_filters_in_the_url(
    page: Page, dashboard: DashboardProcess, artifacts: Path
) -> None:
    page.goto(f"{dashboard.url}/register?{urlencode({'region': region_name('63', 'ru')})}")
    wait_for_app(page)
    expect(page.get_by_test_id("stDataFrame").locator("tbody tr")).to_have_count(2)

    page.get_by_test_id("stSidebar").get_by_role("radio", name="kk", exact=True).click()
    expect(page.get_by_role("heading", name=translate("kk", "register.title"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text(translate("kk", "banner.fictional"))
    # The URL now names the region in Kazakh, so the link still works after a reload or when shared.
    params = wait_for_query(page, lambda q: q.get("lang") == ["kk"])
    assert params["region"] == [region_name("63", "kk")]
    page.reload()
    wait_for_app(page)
    expect(page.get_by_test_id("stDataFrame").locator("tbody tr")).to_have_count(2)
    assert {row[0] for row in grid_rows(page)} == {"2025-01-15", "2025-06-30"}
    screenshot(page, artifacts / "register-kk.png")
