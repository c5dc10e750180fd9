"""Network explorer speed mechanics (issue 6, item 5), both backends: what keeps the page under a second at 1M.

* the loaded graph is checked against the database by index lookups, never by counting its edges;
* a dashboard load is frozen out of the garbage collector's scans, and a replaced graph is still reclaimed;
* an ego network is laid out once, with the network, so a cached network is not laid out again, and the chart
  and the PNG use the same positions;
* a page run never waits for the whole graph load (it shows "loading"), and a graph rebuilt since the load is
  reloaded in the background rather than inside a reader's request.

The database is the fictional market of `dashboard_fixtures_b` with its real graph stage.
"""

from __future__ import annotations

import gc
import math
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import networkx as nx
import pytest
import streamlit as st
from dashboard_fixtures_b import HUB_ID, org_id, seed_b
from sqlalchemy import Engine, event
from streamlit.testing.v1 import AppTest

from dashboard import data_pages, queries_network
from dashboard.i18n import translate
from dashboard.queries import read_engine
from entities.config import PROJECT_ROOT
from pipeline import graph as graph_mod

APP = PROJECT_ROOT / "dashboard" / "app.py"
TIMEOUT = 60
CATEGORIES = {"public": "P", "organization": "O", "person": "H", "unknown": "U"}


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    graph_mod.clear_cache()  # also thaws what a frozen load kept out of the collector's sight


@pytest.fixture
def seeded(db_url: str, engine: Engine) -> str:
    seed_b(engine, hostile=True)
    return db_url


@pytest.fixture
def reader(seeded: str) -> Iterator[Engine]:
    eng = read_engine(seeded)
    yield eng
    eng.dispose()


@pytest.fixture
def open_page(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Run the real entrypoint once (it registers the pages), then open `page` with URL parameters."""

    def make(url: str, page: str, **params: str) -> AppTest:
        monkeypatch.setenv("ASHYQ_DATABASE_URL", url)
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.query_params.update(params)
        at.run()
        at.query_params.update(params)
        return at.switch_page(f"views/{page}.py").run()

    return make


def _statements(engine: Engine, call: Callable[[], Any]) -> list[str]:
    seen: list[str] = []

    def log(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.lower())

    event.listen(engine, "before_cursor_execute", log)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", log)
    return seen


# ------------------------------------------------------------------------------------------- graph cache
def test_cached_graph_is_checked_by_index_lookups_and_a_rebuild_is_seen(
    reader: Engine, engine: Engine
) -> None:
    assert not graph_mod.is_current(reader)  # nothing loaded yet
    first = graph_mod.load_graph(reader)
    assert graph_mod.is_current(reader)
    statements = _statements(reader, lambda: graph_mod.load_graph(reader))
    assert statements, "the cached graph must still be checked against the database"
    assert not any("count(" in s for s in statements), statements  # a count of 761k edges took 0.1–0.5 s
    assert graph_mod.load_graph(reader) is first
    # A forced stage run writes no edge (same inputs) but records a new build state: the key changes.
    graph_mod.run_graph_stage(engine, force=True)
    assert not graph_mod.is_current(reader)
    again = graph_mod.load_graph(reader)
    assert again is not first
    assert graph_mod.is_current(reader)
    assert set(again.edges(keys=True)) == set(first.edges(keys=True))


def test_frozen_load_is_not_scanned_and_a_replaced_graph_is_released(reader: Engine, engine: Engine) -> None:
    graph_mod.clear_cache()
    assert gc.get_freeze_count() == 0
    graph = graph_mod.load_graph(reader, freeze=True)
    # Every node and edge attribute dict is now in the permanent generation: no collection scans them.
    frozen = gc.get_freeze_count()
    assert frozen >= graph.number_of_nodes() + graph.number_of_edges()
    assert not any(any(o is graph for o in gc.get_objects(generation)) for generation in (0, 1, 2))
    # The graph has reference cycles (networkx caches views that point back at it): once replaced, it must not
    # stay frozen for the life of the process.
    old = weakref.ref(graph)
    del graph
    graph_mod.run_graph_stage(engine, force=True)
    new = graph_mod.load_graph(reader, freeze=True)
    assert old() is None
    assert new.number_of_edges() > 0
    assert gc.get_freeze_count() > 0
    graph_mod.clear_cache()
    assert gc.get_freeze_count() == 0  # tests (and a cleared cache) give everything back to the collector


def test_unfrozen_load_leaves_the_collector_alone(reader: Engine) -> None:
    graph_mod.clear_cache()
    graph_mod.load_graph(reader)  # the CLI and the stage's callers: short-lived processes
    assert gc.get_freeze_count() == 0


# ---------------------------------------------------------------------------------------------- layout
def test_ego_is_laid_out_once_and_chart_and_png_use_those_positions(
    reader: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = queries_network.ego(reader, org_id("astana_edu"), depth=2, cap=150, lang="ru")
    assert net.pos is not None
    assert set(net.pos) == set(net.nodes["id"])
    assert net.reached == max(net.nodes["hop"]) == 2

    def no_layout(_net: queries_network.Network) -> dict[str, tuple[float, float]]:
        raise AssertionError("laid out again")

    monkeypatch.setattr(queries_network, "layout", no_layout)
    spec = queries_network.echarts_spec(net, CATEGORIES)
    data = spec["series"][0]["data"]
    for node_id, item in zip(net.nodes["id"], data, strict=True):
        x, y = net.pos[node_id]
        assert (item["x"], item["y"]) == (round(x * 400, 2), round(y * 300, 2))
    assert queries_network.to_png(net, "title").startswith(b"\x89PNG")
    # A path is drawn as a row in hop order, not with the spring positions.
    row = queries_network.echarts_spec(net, CATEGORIES, row=True)["series"][0]["data"]
    assert [item["y"] for item in row] == [0.0] * len(row)


def test_layout_is_reproducible_and_places_every_node_apart(reader: Engine) -> None:
    net = queries_network.ego(reader, org_id("astana_edu"), depth=2, cap=150, lang="ru")
    again = queries_network.layout(net)
    assert again == net.pos  # the same picture on every run, in the PNG and on screen
    points = list(again.values())
    assert all(math.isfinite(c) for point in points for c in point)
    assert len(set(points)) == len(points)  # no two nodes on top of each other


def test_cap_filled_near_the_centre_is_reported(reader: Engine) -> None:
    # The hub official has a role in every organization: a cap of 4 fills at the first hop.
    net = queries_network.ego(reader, HUB_ID, depth=2, cap=4, lang="en")
    assert len(net.nodes) == 4
    assert net.reached == 1
    assert net.hidden > 0


def test_warm_page_run_does_not_lay_out_again(
    seeded: str, open_page: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = queries_network.layout

    def counting(net: queries_network.Network) -> dict[str, tuple[float, float]]:
        calls.append(len(net.nodes))
        return real(net)

    monkeypatch.setattr(queries_network, "layout", counting)
    at = open_page(seeded, "network", id=org_id("astana_edu"), depth="2")
    assert not at.exception, [e.value for e in at.exception]
    assert len(calls) == 1  # once, inside the cached ego network
    at.run()
    assert not at.exception
    assert len(calls) == 1
    nodes = next(d.value for d in at.dataframe if "label" in d.value.columns)  # the same network, drawn again
    assert org_id("astana_edu") in set(nodes["id"])


# ------------------------------------------------------------------------------------------ graph loading
def test_page_does_not_wait_for_a_slow_load_and_draws_once_loaded(
    seeded: str, open_page: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = queries_network.graph_of

    def slow(engine: Engine) -> nx.MultiGraph:
        release.wait(timeout=30)
        return real(engine)

    monkeypatch.setattr(queries_network, "graph_of", slow)
    try:
        at = open_page(seeded, "network", id=org_id("astana_edu"))
        assert not at.exception, [e.value for e in at.exception]
        assert translate("ru", "network.loading") in [i.value for i in at.info]
        assert not [d for d in at.dataframe if "label" in d.value.columns]  # nothing drawn yet
    finally:
        release.set()
    data_pages.graph_loading(seeded).result(timeout=30)
    at.run()
    assert not at.exception
    nodes = next(d.value for d in at.dataframe if "label" in d.value.columns)
    assert org_id("astana_edu") in set(nodes["id"])


def test_graph_rebuilt_after_the_load_is_reloaded_in_the_background(
    seeded: str, engine: Engine, open_page: Callable[..., AppTest]
) -> None:
    at = open_page(seeded, "network", id=org_id("astana_edu"))
    assert not at.exception, [e.value for e in at.exception]
    before = data_pages.graph_loading(seeded)
    assert before.done()
    graph_mod.run_graph_stage(engine, force=True)  # a rebuild: the held graph is no longer current
    at.run()
    assert not at.exception
    after = data_pages.graph_loading(seeded)
    assert after is not before  # a new background load, not an inline one inside the query functions
    after.result(timeout=30)
    assert graph_mod.is_current(read_engine(seeded))
