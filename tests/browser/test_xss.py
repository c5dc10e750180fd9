"""A hostile company name in the data, in a real browser: search, card, network, register and flags show it as
text, and nothing in it runs.

The company (`dashboard_fixtures_b.HOSTILE_NAME`: an `<img onerror>`, a `<script>`, markdown and `$…$`) supplies
Astana's education department, so it appears in the register, in the department's network, in its own card
and network, in search results and as the subject of a flag. Any `alert()` would open a dialog; the test
records every dialog and fails on one. Screenshots: `test-artifacts/xss-<page>.png`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from dashboard_fixtures_b import HOSTILE_BIN, HOSTILE_ORG_ID, org_id, seed_b
from playwright.sync_api import Page, expect
from test_dashboard_e2e import TIMEOUT_MS, screenshot, wait_for_app

from entities.db import make_engine
from entities.migrate import upgrade
from pipeline.serve import DashboardProcess, free_port, serve_dashboard

pytestmark = pytest.mark.browser

# The visible start of the name, as a reader must see it: the markup itself, as characters.
LITERAL = "<img src=x onerror=alert(1)>"
PAGES = {
    "search": {"q": HOSTILE_BIN},
    "entity": {"id": HOSTILE_ORG_ID},
    "network": {"id": org_id("astana_edu")},
    "register": {"provider": "onerror"},
    "flags": {"code": "repeated_pair"},
}


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardProcess]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-xss') / 'dashboard.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_b(engine, hostile=True)
    engine.dispose()
    with serve_dashboard(port=free_port(), database_url=url, wait=False) as running:
        yield running


@pytest.mark.parametrize("path", list(PAGES))
def test_hostile_name_is_shown_literally_and_never_runs(
    page: Page, dashboard: DashboardProcess, artifacts: Path, path: str
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{dashboard.url}/{path}?{urlencode(PAGES[path])}")
    wait_for_app(page)
    main = page.get_by_test_id("stMain")
    # The name is on the page as text (in markdown, a heading, a link or a grid's accessible table)…
    expect(main.get_by_text(LITERAL).first).to_be_attached(timeout=TIMEOUT_MS)
    if path == "network":
        # …and in the graph, where ECharts draws it on the canvas: hover every node, no tooltip HTML appears.
        chart = page.get_by_test_id("stEChartsChart").first
        expect(chart.locator("canvas").first).to_be_visible(timeout=TIMEOUT_MS)
        box = chart.bounding_box()
        assert box is not None
        for y in range(int(box["y"]) + 20, int(box["y"] + box["height"]) - 10, 40):
            for x in range(int(box["x"]) + 20, int(box["x"] + box["width"]) - 20, 40):
                page.mouse.move(x, y)
    page.wait_for_timeout(800)  # time for a broken image's onerror, had one been created
    # …never as markup: no element the name describes exists, and nothing ran.
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("script", has_text="alert(1)").count() == 0
    assert page.locator("strong", has_text="ТОО").count() == 0  # `**ТОО**` is not made bold
    assert dialogs == [], dialogs
    screenshot(page, artifacts / f"xss-{path}.png")
