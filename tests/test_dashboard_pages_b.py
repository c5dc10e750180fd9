"""Network explorer, flags and data-and-sources pages: queries, exports and page logic (AppTest), both backends.

The database is the fictional market of `dashboard_fixtures` plus `dashboard_fixtures_b` (people, a hub, flags,
adjudications, quarantine, crawl runs), with `graph_edges` built by the real graph stage. Expected values are
derived from the fixture constants, not from the queries under test.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC
from itertools import pairwise

import networkx as nx
import pandas as pd
import pytest
import streamlit as st
from dashboard_fixtures import ENGAGEMENTS, FETCHED_AT, MEMORANDA, ORGS, source_url
from dashboard_fixtures_b import (
    ADJUDICATIONS,
    DIRECTOR_ID,
    DIRECTOR_NAME,
    FLAGS,
    HOSTILE_NAME,
    HOSTILE_ORG_ID,
    HUB_DEGREE_IN_TESTS,
    HUB_ID,
    HUB_NAME,
    QUARANTINE_ROWS,
    org_id,
    seed_b,
)
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from dashboard import queries_flags, queries_network, queries_sources
from dashboard.i18n import LANGUAGES, catalogue, translate
from dashboard.queries import read_engine
from dashboard.queries_flags import FlagFilter, explain, rules
from entities.config import PROJECT_ROOT
from pipeline.flags import CODES
from pipeline.graph import EDGE_KINDS, clear_cache

APP = PROJECT_ROOT / "dashboard" / "app.py"
TIMEOUT = 60
BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    clear_cache()


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

    def make(url: str, page: str, **params: str | list[str]) -> AppTest:
        monkeypatch.setenv("ASHYQ_DATABASE_URL", url)
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.query_params.update(params)
        at.run()
        at.query_params.update(params)
        return at.switch_page(f"views/{page}.py").run()

    return make


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def counterparts(key: str) -> set[str]:
    """Organizations that share an engagement with `key` in the market (from the fixture rows)."""
    out = set()
    for r in ENGAGEMENTS:
        if r.buyer == key:
            out.add(org_id(r.provider))
        if r.provider == key and r.buyer is not None:
            out.add(org_id(r.buyer))
    return out


# ---------------------------------------------------------------------------------------------- catalogues
def test_every_flag_rule_has_a_template_in_every_language() -> None:
    assert rules(), "data/reference/flag_rules.yaml lists no rules"
    assert set(CODES) <= set(rules()), "a rule of pipeline.flags has no entry in flag_rules.yaml"
    for code, settings in rules().items():
        thresholds = {k for k in settings if k not in ("severity", "legal_reference")}
        for lang in LANGUAGES:
            strings = catalogue(lang)
            assert f"flag.{code}.title" in strings, (lang, code)
            assert f"flag.{code}.text" in strings, (lang, code)
            # A template may only name thresholds the rule really has (else the reader sees «?»).
            used = set(re.findall(r"{(\w+)}", strings[f"flag.{code}.text"]))
            assert used <= thresholds, (lang, code, used - thresholds)


def test_page_b_dynamic_keys_exist() -> None:
    keys = {f"network.edge.{k}" for k in EDGE_KINDS}
    keys |= {f"network.kind.{k}" for k in ("public", "organization", "person", "unknown")}
    keys |= {f"flags.state.{s}" for s in queries_flags.STATES}
    keys |= {f"flags.severity.{s}" for s in queries_flags.SEVERITIES}
    keys |= {"nav.network", "nav.flags", "nav.sources"}
    keys |= {f"flags.category.{c}" for c in queries_flags.service_categories()}
    for lang in LANGUAGES:
        assert keys <= set(catalogue(lang)), (lang, keys - set(catalogue(lang)))


def test_flag_explanation_uses_the_flag_thresholds_in_each_language() -> None:
    thresholds = FLAGS[0][7]
    for lang, percent, basis in (("ru", "60 %", "Из одного источника"), ("en", "60 %", "Single source")):
        text = explain("single_source_share", thresholds, "fallback", lang)
        assert percent in text, text
        assert str(thresholds["min_contracts"]) in text, text
        assert translate(lang, "basis.single_source") == basis
        assert basis in text
    assert "?" in explain("single_source_share", {}, "fallback", "kk")  # a missing threshold is visible
    assert explain("no_such_rule", {}, "English from the build", "kk") == "English from the build"


# ------------------------------------------------------------------------------------------------ network
def test_ego_network_is_the_centre_and_its_counterparts(reader: Engine) -> None:
    centre = org_id("astana_edu")
    net = queries_network.ego(reader, centre, depth=1, cap=150, lang="ru")
    # Contracts, the memorandum and the PPP agreement all join Astana's department to «Білім» and «Цифровая
    # школа»; the hub official has a role there; the hostile company supplies it.
    expected = {centre, HUB_ID, HOSTILE_ORG_ID} | counterparts("astana_edu")
    assert set(net.nodes["id"]) == expected
    assert dict(zip(net.nodes["id"], net.nodes["hop"], strict=True))[centre] == 0
    kinds = {(e.source_id, e.target_id, e.kind) for e in net.edges.itertuples()}
    assert (centre, org_id("digital"), "ppp") in kinds
    # Every edge has a source link and a retrieval time; the contract edge links the contract page.
    assert all(urls for urls in net.edges["source_urls"])
    assert all(v == FETCHED_AT for v in net.edges["retrieved_at"])
    row = net.edges[(net.edges["target_id"] == org_id("bilim")) & (net.edges["kind"] == "engagement")].iloc[0]
    assert row["source_urls"] == [source_url(4)]
    # Labels follow the language: the Kazakh name where the register has one.
    kk = queries_network.ego(reader, centre, depth=1, cap=150, lang="kk")
    assert dict(zip(kk.nodes["id"], kk.nodes["label"], strict=True))[centre] == ORGS["astana_edu"].name_kk


def test_ego_network_is_capped_and_says_how_many_were_left_out(reader: Engine) -> None:
    centre = org_id("astana_edu")
    full = queries_network.ego(reader, centre, depth=1, cap=150, lang="ru")
    capped = queries_network.ego(reader, centre, depth=1, cap=3, lang="ru")
    assert len(capped.nodes) == 3
    assert capped.hidden == len(full.nodes) - 3
    deeper = queries_network.ego(reader, centre, depth=2, cap=150, lang="ru")
    assert set(full.nodes["id"]) < set(deeper.nodes["id"])
    assert DIRECTOR_ID in set(deeper.nodes["id"])  # via «Білім Технолоджис»


def test_path_goes_round_hubs_on_request(reader: Engine) -> None:
    start, goal = org_id("kindergarten"), org_id("school12")
    through = queries_network.shortest_path(reader, start, goal, hub_degree=None, lang="ru")
    assert through.network is not None
    assert list(through.network.nodes["id"]) == [start, HUB_ID, goal]
    around = queries_network.shortest_path(reader, start, goal, hub_degree=HUB_DEGREE_IN_TESTS, lang="ru")
    assert around.network is not None
    path = list(around.network.nodes["id"])
    assert HUB_ID not in path
    assert path == [start, DIRECTOR_ID, org_id("bilim"), goal]
    assert around.excluded_hubs >= 1
    # One edge per step, each with its evidence.
    steps = {frozenset(p) for p in pairwise(path)}
    assert {frozenset((e.source_id, e.target_id)) for e in around.network.edges.itertuples()} == steps
    assert all(n > 0 for n in around.network.edges["evidence_count"])


def test_gexf_png_and_chart_keep_a_hostile_name_literal(reader: Engine) -> None:
    net = queries_network.ego(reader, org_id("astana_edu"), depth=1, cap=150, lang="ru")
    graph = nx.read_gexf(io.BytesIO(queries_network.to_gexf(net)))
    assert graph.nodes[HOSTILE_ORG_ID]["label"] == HOSTILE_NAME
    assert set(graph.nodes) == set(net.nodes["id"])
    png = queries_network.to_png(net, HOSTILE_NAME)  # `$x$` must not be typeset (nor crash mathtext)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    spec = queries_network.echarts_spec(
        net, {"public": "P", "organization": "O", "person": "H", "unknown": "U"}
    )
    names = [d["name"] for d in spec["series"][0]["data"]]
    assert queries_network.short_label(HOSTILE_NAME) in names
    assert spec["tooltip"]["renderMode"] == "richText"  # drawn on the canvas, never inserted as HTML
    assert "formatter" not in json.dumps(spec)
    assert len(spec["series"][0]["links"]) == len(net.edges)


def test_network_page_draws_the_ego_network_and_the_path(
    seeded: str, open_page: Callable[..., AppTest]
) -> None:
    at = open_page(
        seeded, "network", id=ORGS["astana_edu"].bin, to=org_id("kindergarten"), skip_hubs="true",
        hub=str(HUB_DEGREE_IN_TESTS),
    )  # fmt: skip
    no_exception(at)
    assert at.title[0].value == translate("ru", "network.title")
    nodes = next(d.value for d in at.dataframe if "label" in d.value.columns)  # the network's node table
    assert {ORGS["astana_edu"].name_ru, HUB_NAME, HOSTILE_NAME} <= set(nodes["label"])
    text = " ".join(m.value for m in at.markdown)
    assert "Балдәурен" in text  # the path ends at the kindergarten, each step linked to its card
    assert f"entity?id={org_id('kindergarten')}" in text
    assert len(at.get("download_button")) == 8  # GEXF, PNG, nodes CSV, edges CSV for the path and the network


def test_network_page_link_without_path_and_unknown_id(
    seeded: str, open_page: Callable[..., AppTest]
) -> None:
    at = open_page(seeded, "network", id=org_id("bilim"), depth="2", lang="en")
    no_exception(at)
    assert at.title[0].value == translate("en", "network.title")
    nodes = next(d.value for d in at.dataframe if "label" in d.value.columns)
    assert DIRECTOR_NAME in set(nodes["label"])
    assert set(nodes["card"]) == {f"entity?id={i}&lang=en" for i in nodes["id"]}
    at = open_page(seeded, "network", id="kz-bin-000000000000")
    no_exception(at)
    assert at.warning[-1].value == translate("ru", "network.unknown", ref="kz\\-bin\\-000000000000")


def test_clicking_a_node_opens_its_card(seeded: str, open_page: Callable[..., AppTest]) -> None:
    at = open_page(seeded, "network", id=org_id("astana_edu"))
    # The chart's selection callback stores the clicked id (the browser test clicks for real); the next run
    # opens the card before any widget is bound.
    at.session_state["network_open_entity"] = org_id("bilim")
    at.run()
    no_exception(at)
    assert at.query_params["id"] == org_id("bilim")
    assert at.title[0].value != translate("ru", "network.title")


# -------------------------------------------------------------------------------------------------- flags
def _in_force() -> dict[str, str]:
    # Later adjudications overwrite earlier ones: the newest is in force.
    return {
        flag_id: verdict for flag_id, verdict, _note, _minutes in sorted(ADJUDICATIONS, key=lambda a: a[3])
    }


def test_flags_query_shows_the_newest_verdict(reader: Engine) -> None:
    rows = queries_flags.flags_rows(reader, FlagFilter())
    in_force = _in_force()
    assert len(rows) == len(FLAGS) + 1  # plus the hostile company's flag
    got = dict(zip(rows["id"], rows["state"], strict=True))
    for flag in FLAGS:
        assert got[flag[0]] == in_force.get(flag[0], "open")
    names = dict(zip(rows["id"], rows["subject_name"], strict=True))
    assert names[FLAGS[0][0]] == ORGS["school12"].name_ru
    assert names[FLAGS[1][0]] == MEMORANDA[0].parties[1][0]  # an engagement's flag names its provider
    # The retrieval time of the records behind an engagement's flag; an organization's evidence has none.
    fetched = dict(zip(rows["id"], rows["retrieved_at"], strict=True))
    assert fetched[FLAGS[1][0]] == FETCHED_AT
    assert pd.isna(fetched[FLAGS[0][0]])
    open_only = queries_flags.flags_rows(reader, FlagFilter(states=("open",)))
    assert set(open_only["id"]) == {i for i, s in got.items() if s == "open"}
    assert queries_flags.flags_count(reader, FlagFilter(codes=("shared_person",), regions=("63",))) == 1
    assert queries_flags.flags_count(reader, FlagFilter(codes=("shared_person",), regions=("75",))) == 0
    data = queries_flags.flags_csv(reader, FlagFilter())
    assert data.startswith(BOM)
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert {r["id"]: r["state"] for r in table} == got
    assert json.loads(table[0]["params"])  # JSON fields stay JSON in the CSV


@pytest.mark.parametrize(
    "f",
    [FlagFilter(), FlagFilter(states=("open",)), FlagFilter(states=("justified", "unjustified")),
     FlagFilter(regions=("63",)), FlagFilter(codes=("shared_person", "single_source_share"))],
)  # fmt: skip
def test_flags_ids_first_give_the_one_query_page(reader: Engine, f: FlagFilter) -> None:
    """The page's ids (flags alone, verdicts only for a state) then their rows: the same flags, in the same
    order, as the one query that joins everything, for any cut; and the count is that query's count."""
    full = list(queries_flags._frame(reader, queries_flags._select(f))["id"])
    assert full
    assert queries_flags.flags_count(reader, f) == len(full)
    for limit in (1, 2, len(full) + 1):
        assert list(queries_flags.flags_rows(reader, f, limit)["id"]) == full[:limit], (f, limit)


def test_flags_page_filters_explains_and_stays_read_only(
    seeded: str, open_page: Callable[..., AppTest]
) -> None:
    at = open_page(seeded, "flags", code="single_source_share", lang="kk")
    no_exception(at)
    assert at.title[0].value == translate("kk", "flags.title")
    assert "ashyq flag justified" in at.info[0].value
    table = at.dataframe[0].value
    assert len(table) == 1
    row = table.iloc[0]
    assert row["state"] == translate("kk", "flags.state.unjustified")
    assert row["note"] == ADJUDICATIONS[1][2]
    assert "60 %" in row["explanation"]
    assert row["subject_link"] == f"entity?id={org_id('school12')}&lang=kk"
    assert row["source_url"] == source_url(2)
    assert not at.button  # nothing on the page can change a verdict

    at = open_page(seeded, "flags", state="open")
    no_exception(at)
    assert set(at.dataframe[0].value["id"]) == {f[0] for f in FLAGS if f[0] not in _in_force()} | {
        "repeated_pair:" + HOSTILE_ORG_ID
    }


def test_flags_page_keeps_hostile_texts_inert(seeded: str, open_page: Callable[..., AppTest]) -> None:
    at = open_page(seeded, "flags")
    no_exception(at)
    shown = at.dataframe[0].value
    # A javascript: evidence URL is never a link; the name is plain text in its cell.
    assert all(u is None or u.startswith("https://") for u in shown["source_url"])
    assert HOSTILE_NAME in set(shown["subject_name"])
    for md in at.markdown:
        assert "<script>" not in md.value, md.value
        assert "<b>" not in md.value, md.value
    for exp in at.expander:
        assert "<script>" not in exp.label


# ------------------------------------------------------------------------------------------------ sources
def test_sources_queries(reader: Engine) -> None:
    runs = queries_sources.crawl_runs(reader)
    assert {"statgov", "goszakup"} <= set(runs["source"])
    assert "failed" in set(runs["status"])
    cov = queries_sources.raw_coverage(reader)
    assert cov["last_fetched"].max().to_pydatetime() == FETCHED_AT.astimezone(UTC)
    eng = queries_sources.engagement_coverage(reader)
    assert eng["with_region"] <= eng["engagements"]
    # Both sides resolved: contracts with a buyer row, memoranda whose first two parties resolved, the PPP
    # agreement, the hostile company's contract.
    memos = sum(1 for m in MEMORANDA if m.parties[0][2] and m.parties[1][2])
    assert eng["with_both"] == sum(1 for r in ENGAGEMENTS if r.buyer is not None) + memos + 1 + 1
    rows = queries_sources.quarantine_rows(reader)
    assert list(rows["reason"]) == [r[2] for r in reversed(QUARANTINE_ROWS)]  # newest first
    data = queries_sources.quarantine_csv(reader)
    assert data.startswith(BOM)
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(r["reason"] for r in table) == sorted(r[2] for r in QUARANTINE_ROWS)


def test_sources_page(seeded: str, open_page: Callable[..., AppTest]) -> None:
    at = open_page(seeded, "sources", lang="en")
    no_exception(at)
    assert at.title[0].value == translate("en", "sources.title")
    frames = [d.value for d in at.dataframe]
    quarantine = next(f for f in frames if "reason" in f.columns)
    assert len(quarantine) == len(QUARANTINE_ROWS)
    # Only http(s) URLs are links; the javascript: one stays visible as text.
    assert set(quarantine["link"].dropna()) == {r[3] for r in QUARANTINE_ROWS if r[3].startswith("https://")}
    assert "javascript:alert(1)" in set(quarantine["url"])
    assert len(at.get("download_button")) == 3
    assert len(at.metric) == 4
