"""The journalist's journey in a real browser, in Russian, Kazakh and English: a name → search → the entity card →
its network → the path to a second entity; and a click on a graph node opens that node's card.

Its own served database (`dashboard_fixtures_b`: the market, memoranda, PPP, people, a hub, flags, and the graph
built by the real graph stage). Screenshots of every step go to `test-artifacts/journey-<lang>-<step>.png`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from dashboard_fixtures import ORGS
from dashboard_fixtures_b import DIRECTOR_NAME, org_id, seed_b
from playwright.sync_api import Locator, Page, expect
from test_dashboard_e2e import TIMEOUT_MS, screenshot, wait_for_app

from dashboard.i18n import translate
from entities.db import make_engine
from entities.migrate import upgrade
from pipeline.serve import DashboardProcess, free_port, serve_dashboard

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardProcess]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-journalist') / 'dashboard.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_b(engine)
    engine.dispose()
    with serve_dashboard(port=free_port(), database_url=url, wait=False) as running:
        yield running


def wait_for_path(page: Page, path: str) -> dict[str, list[str]]:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while urlsplit(page.url).path.rstrip("/").rsplit("/", 1)[-1] != path:
        if time.monotonic() > deadline:
            raise AssertionError(f"still at {page.url}, expected /{path}")
        page.wait_for_timeout(100)
    wait_for_app(page)
    return parse_qs(urlsplit(page.url).query)


def find_clickable_node(page: Page, chart: Locator) -> tuple[float, float]:
    """A point over a graph node: ECharts sets the canvas cursor to `pointer` there (the notes' method)."""
    box = chart.bounding_box()
    assert box is not None
    canvas = chart.locator("canvas").first
    for y in range(int(box["y"]) + 20, int(box["y"] + box["height"]) - 10, 12):
        for x in range(int(box["x"]) + 20, int(box["x"] + box["width"]) - 20, 12):
            page.mouse.move(x, y)
            if canvas.evaluate("c => getComputedStyle(c).cursor") == "pointer":
                return x, y
    raise AssertionError("no node under the pointer anywhere on the chart")


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_name_to_card_to_network_to_path(
    page: Page, dashboard: DashboardProcess, artifacts: Path, lang: str
) -> None:
    bilim, kindergarten = ORGS["bilim"], ORGS["kindergarten"]
    # 1. A name, typed the way a journalist remembers it.
    page.goto(f"{dashboard.url}/search?{urlencode({'q': 'Білім Технолоджис', 'lang': lang})}")
    wait_for_app(page)
    screenshot(page, artifacts / f"journey-{lang}-1-search.png")
    # 2. The first result opens the card (the other page of the URL contract: entity?id=…).
    result = page.get_by_test_id("stPageLink").filter(has_text="Білім Технолоджис").first
    expect(result).to_be_visible(timeout=TIMEOUT_MS)
    result.click()
    params = wait_for_path(page, "entity")
    assert params["id"] == [org_id("bilim")]
    screenshot(page, artifacts / f"journey-{lang}-2-card.png")
    # 3. From the card to its network.
    page.get_by_test_id("stPageLink").filter(has_text=translate(lang, "entity.open_network")).first.click()
    params = wait_for_path(page, "network")
    assert params["id"] == [org_id("bilim")]
    expect(page.get_by_role("heading", name=translate(lang, "network.title"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.get_by_test_id("stEChartsChart").first.locator("canvas").first).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.get_by_test_id("stDownloadButton")).to_have_count(4)  # GEXF, PNG, nodes CSV, edges CSV
    screenshot(page, artifacts / f"journey-{lang}-3-network.png")
    # 4. The path to a second entity, named by its BIN; the URL keeps it.
    box = page.get_by_test_id("stTextInput").filter(has_text=translate(lang, "network.to")).locator("input")
    box.fill(kindergarten.bin)
    box.press("Enter")
    expect(page.get_by_role("heading", name=translate(lang, "network.path_header"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    wait_for_app(page)
    assert parse_qs(urlsplit(page.url).query).get("to") == [kindergarten.bin]
    # «Білім Технолоджис» → its director → the kindergarten she heads (the hub official is as short; either
    # way the path names both ends and links each step to its card).
    path_text = page.get_by_test_id("stMarkdown").filter(has_text=" → ").first
    expect(path_text).to_contain_text(bilim.name_kk if lang == "kk" else bilim.name_ru)
    expect(path_text.locator(f'a[href*="id={org_id("kindergarten")}"]')).to_have_count(1)
    screenshot(page, artifacts / f"journey-{lang}-4-path.png")
    # 5. Round the hubs: the path now runs through the director.
    page.get_by_test_id("stCheckbox").filter(has_text=translate(lang, "network.skip_hubs")).locator(
        "label"
    ).click()
    hub = page.get_by_test_id("stNumberInput").locator("input")
    hub.fill("5")
    hub.press("Enter")
    expect(page.get_by_test_id("stMarkdown").filter(has_text=" → ").first).to_contain_text(
        DIRECTOR_NAME, timeout=TIMEOUT_MS
    )
    wait_for_app(page)
    query = parse_qs(urlsplit(page.url).query)
    assert query.get("skip_hubs") == ["true"]
    assert query.get("hub") == ["5"]
    screenshot(page, artifacts / f"journey-{lang}-5-path-round-hubs.png")


def test_clicking_a_graph_node_opens_its_card(
    page: Page, dashboard: DashboardProcess, artifacts: Path
) -> None:
    page.goto(f"{dashboard.url}/network?{urlencode({'id': org_id('astana_edu')})}")
    wait_for_app(page)
    chart = page.get_by_test_id("stEChartsChart").first
    expect(chart.locator("canvas").first).to_be_visible(timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)  # the first frame of the chart
    x, y = find_clickable_node(page, chart)
    page.mouse.click(x, y)
    params = wait_for_path(page, "entity")
    shown = set(params["id"])
    assert shown <= {org_id(k) for k in ORGS} | {i for i in params["id"] if i.startswith("kz-person-")}
    screenshot(page, artifacts / "journey-node-click-card.png")
