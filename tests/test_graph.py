"""Issue 5, the relationship graph: edge materialization, incremental rebuild, queries, exports and the CLI.

Hand-made databases (SQLite and PostgreSQL, fixtures `db_url`/`engine`) with invented, fictional rows:
checksum-free made-up BINs are fine here because the graph never validates identifiers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from crawlers.simulator.other_scenario import load_other_scenario
from crawlers.simulator.server import SimulatorServer
from entities.models import (
    Engagement,
    GraphEdge,
    Memorandum,
    MemorandumParty,
    Organization,
    Person,
    PPPAgreement,
    RawRecord,
    Role,
)
from pipeline import graph as g
from pipeline.cli import main as cli

HOSTILE = '<script>alert(1)</script> & "x"'
URL = "http://127.0.0.1:9/"


class Db:
    """Inserts canonical rows with the evidence rows the schema requires."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.raw_n = 0

    def raw(self, name: str) -> int:
        self.raw_n += 1
        with self.engine.begin() as conn:
            return int(conn.execute(RawRecord.__table__.insert().values(
                source="test", record_type="t", external_id=f"{name}-{self.raw_n}", url=f"{URL}raw/{name}",
                human_url=f"{URL}page/{name}", fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
                sha256=f"{self.raw_n:064x}", payload={}).returning(RawRecord.__table__.c.id)).scalar_one())

    def org(self, bin_: str, name: str, parent_bin: str | None = None) -> str:
        raw_id = self.raw(bin_)
        with self.engine.begin() as conn:
            conn.execute(Organization.__table__.insert().values(
                id=f"kz-bin-{bin_}", bin=bin_, name_ru=name, kind="company", region_kato="43",
                parent_bin=parent_bin, is_fictional=True, raw_record_id=raw_id))
        return f"kz-bin-{bin_}"

    def person(self, pid: str, name: str) -> str:
        with self.engine.begin() as conn:
            conn.execute(Person.__table__.insert().values(id=pid, display_name=name, is_fictional=True))
        return pid

    def role(self, person: str, org: str, role: str, start: date | None = None, end: date | None = None) -> int:
        raw_id = self.raw(f"role-{person}")
        with self.engine.begin() as conn:
            return int(conn.execute(Role.__table__.insert().values(
                person_id=person, organization_id=org, role=role, start_date=start, end_date=end,
                raw_record_id=raw_id).returning(Role.__table__.c.id)).scalar_one())

    def engagement(self, eid: str, buyer: str, provider: str, amount: str | None, signed: date,
                   instrument: str = "procurement_contract", basis: str = "open_tender", ref: str | None = None) -> str:
        with self.engine.begin() as conn:
            conn.execute(Engagement.__table__.insert().values(
                id=eid, instrument=instrument, legal_basis=basis, competitive=basis == "open_tender",
                buyer_id=buyer, provider_id=provider, amount_kzt=amount, signed_on=signed,
                source_url=f"{URL}engagement/{eid}", evidence_raw_ids=[], is_fictional=True, instrument_ref=ref))
        return eid

    def memorandum(self, mid: str, parties: list[str], signed: date) -> str:
        raw_id = self.raw(mid)
        with self.engine.begin() as conn:
            conn.execute(Memorandum.__table__.insert().values(
                id=mid, origin="govkz_news", instrument="memorandum", signed_on=signed,
                source_url=f"{URL}memo/{mid}", evidence_raw_ids=[raw_id], is_fictional=True, raw_record_id=raw_id))
            for pos, org in enumerate(parties):
                conn.execute(MemorandumParty.__table__.insert().values(
                    memorandum_id=mid, position=pos, name=org, organization_id=org, raw_record_id=raw_id))
        return mid

    def ppp(self, pid: str, state: str, private: str, amount: str) -> str:
        raw_id = self.raw(pid)
        with self.engine.begin() as conn:
            conn.execute(PPPAgreement.__table__.insert().values(
                id=pid, origin="registry_import", project="P", state_partner_id=state, private_partner_id=private,
                amount_kzt=amount, signed_on=date(2022, 5, 1), source_url=f"{URL}ppp/{pid}", raw={}, warnings=[],
                is_fictional=True, raw_record_id=raw_id))
        return pid


def edges(engine: Engine) -> dict[tuple[str, str, str], Any]:
    with engine.connect() as conn:
        rows = conn.execute(select(GraphEdge)).all()
    out = {(r.source_id, r.target_id, r.kind): r for r in rows}
    assert len(out) == len(rows), "duplicate (source, target, kind)"
    return out


@pytest.fixture
def small(engine: Engine) -> dict[str, Any]:
    """Two buyers, two providers, a branch, a person with two roles, memoranda and a PPP agreement."""
    db = Db(engine)
    b1 = db.org("100000000001", "Управление образования (тест)")
    b2 = db.org("100000000002", "Школа №1 (тест)")
    p1 = db.org("200000000001", HOSTILE)
    p2 = db.org("200000000002", "ТОО «Второй»")
    branch = db.org("200000000003", "Филиал ТОО «Второй»", parent_bin="200000000002")
    person = db.person("kz-person-t1", "Тестова Айгүл")
    r1 = db.role(person, b1, "head", date(2020, 1, 1))
    r2 = db.role(person, b1, "signatory", date(2024, 11, 5), date(2024, 11, 5))
    e1 = db.engagement("c-1", b1, p1, "100.50", date(2023, 3, 1))
    e2 = db.engagement("c-2", b1, p1, "200.25", date(2024, 3, 1), basis="single_source")
    e3 = db.engagement("c-3", b1, p1, None, date(2024, 9, 1))
    e4 = db.engagement("c-4", b2, p1, "10.00", date(2025, 1, 1))
    m1 = db.memorandum("memo-1", [b1, p1], date(2024, 11, 5))
    m2 = db.memorandum("memo-2", [b1, p1, p2], date(2025, 2, 1))
    em = db.engagement("memorandum-memo-1", b1, p1, None, date(2024, 11, 5), instrument="memorandum",
                       basis="memorandum", ref=m1)
    pp = db.ppp("ppp-1", b2, p2, "5000.00")
    ep = db.engagement("ppp-ppp-1", b2, p2, "5000.00", date(2022, 5, 1), instrument="ppp_agreement",
                       basis="ppp", ref=pp)
    return {"db": db, "b1": b1, "b2": b2, "p1": p1, "p2": p2, "branch": branch, "person": person,
            "roles": (r1, r2), "eng": (e1, e2, e3, e4), "memos": (m1, m2), "em": em, "ppp": pp, "ep": ep}


def test_edges_aggregate_with_evidence(engine: Engine, small: dict[str, Any]) -> None:
    s = small
    report = g.run_graph_stage(engine)
    assert report.recomputed
    assert report.inserted == report.edges
    got = edges(engine)
    b1, b2, p1, p2 = s["b1"], s["b2"], s["p1"], s["p2"]

    pair = got[(b1, p1, "engagement")]
    assert pair.attrs["count"] == 3
    assert pair.weight == 3
    assert pair.attrs["total_kzt"] == "300.75"  # the None amount adds nothing
    assert pair.attrs["years"] == [2023, 2024]
    assert pair.attrs["legal_bases"] == ["open_tender", "single_source"]
    assert pair.attrs["instruments"] == ["procurement_contract"]  # the memorandum engagement is not here
    assert pair.evidence == [f"engagement:{e}" for e in s["eng"][:3]]
    assert got[(b2, p1, "engagement")].attrs["total_kzt"] == "10.00"

    memo_key = (min(b1, p1), max(b1, p1), "memorandum")
    memo = got[memo_key]
    assert memo.attrs["memoranda"] == ["memo-1", "memo-2"]
    assert set(memo.evidence) == {"memorandum:memo-1", "memorandum:memo-2", f"engagement:{s['em']}"}
    assert memo.weight == 2  # memo-1 told twice (party rows and its engagement) counts once
    # memo-2 has three parties: every pair is an edge
    assert (min(b1, p2), max(b1, p2), "memorandum") in got
    assert (min(p1, p2), max(p1, p2), "memorandum") in got
    assert not any(k[2] == "engagement" and k[1] == p2 for k in got)  # the PPP engagement is a ppp edge

    ppp = got[(b2, p2, "ppp")]
    assert set(ppp.evidence) == {"ppp:ppp-1", f"engagement:{s['ep']}"}
    assert ppp.attrs["total_kzt"] == "5000.00"

    role = got[(s["person"], b1, "role")]
    assert role.attrs["roles"] == ["head", "signatory"]
    assert role.attrs["end"] is None
    assert role.attrs["start"] == "2020-01-01"
    assert {f"role:{r}" for r in s["roles"]} <= set(role.evidence)
    assert any(e.startswith("raw:") for e in role.evidence)

    branch = got[(p2, s["branch"], "branch")]
    assert branch.evidence[0] == f"organization:{s['branch']}"

    assert all(e.evidence and e.attrs["evidence_count"] >= len(e.evidence) for e in got.values())
    assert all(e.is_fictional for e in got.values())

    # evidence resolves to source URLs
    urls = g.evidence_urls(engine, [ref for e in got.values() for ref in e.evidence])
    assert urls[f"engagement:{s['eng'][0]}"] == f"{URL}engagement/c-1"
    assert urls["memorandum:memo-1"] == f"{URL}memo/memo-1"
    assert urls[f"role:{s['roles'][0]}"].startswith(f"{URL}page/role-")
    assert all(urls.get(ref) for e in got.values() for ref in e.evidence)


def test_rebuild_idempotent_and_incremental(engine: Engine, small: dict[str, Any]) -> None:
    s = small
    g.run_graph_stage(engine)
    before = {k: (r.id, r.weight, r.attrs, r.evidence) for k, r in edges(engine).items()}
    assert not g.run_graph_stage(engine).recomputed  # inputs unchanged: nothing runs
    forced = g.run_graph_stage(engine, force=True)
    assert (forced.inserted, forced.updated, forced.deleted) == (0, 0, 0)
    assert {k: (r.id, r.weight, r.attrs, r.evidence) for k, r in edges(engine).items()} == before

    s["db"].engagement("c-5", s["b2"], s["p1"], "5.50", date(2025, 6, 1))
    report = g.run_graph_stage(engine)
    assert (report.inserted, report.updated, report.deleted) == (0, 1, 0)
    after = {k: (r.id, r.weight, r.attrs, r.evidence) for k, r in edges(engine).items()}
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {(s["b2"], s["p1"], "engagement")}
    assert after[(s["b2"], s["p1"], "engagement")][0] == before[(s["b2"], s["p1"], "engagement")][0]  # same row
    assert after[(s["b2"], s["p1"], "engagement")][2]["total_kzt"] == "15.50"

    with engine.begin() as conn:
        conn.execute(Engagement.__table__.delete().where(Engagement.__table__.c.id.in_(["c-4", "c-5"])))
    report = g.run_graph_stage(engine)
    assert (report.inserted, report.updated, report.deleted) == (0, 0, 1)
    assert (s["b2"], s["p1"], "engagement") not in edges(engine)


def test_load_graph_cached_and_node_attrs(engine: Engine, small: dict[str, Any]) -> None:
    g.run_graph_stage(engine)
    first = g.load_graph(engine)
    assert g.load_graph(engine) is first  # same fingerprint: the cached object
    assert first.nodes[small["p1"]]["name"] == HOSTILE
    assert first.nodes[small["person"]]["type"] == "person"
    assert first.nodes[small["b1"]]["bin"] == "100000000001"
    assert first.nodes[small["b1"]]["region"] == "43"
    small["db"].engagement("c-9", small["b2"], small["p2"], "1.00", date(2025, 6, 1))
    g.run_graph_stage(engine)
    again = g.load_graph(engine)
    assert again is not first
    assert again.has_edge(small["b2"], small["p2"], key="engagement")
    assert g.resolve_node(again, "100000000001") == small["b1"]  # a BIN works as an id
    with pytest.raises(g.GraphQueryError):
        g.resolve_node(again, "kz-bin-999999999999")


def _star() -> nx.MultiGraph:
    """hub — n0..n9 (edge weight i+1); n9 — x — y; a — hub — b; a — p — q — b (a detour avoiding the hub)."""
    graph = nx.MultiGraph()
    for i in range(10):
        graph.add_edge("hub", f"n{i}", key="engagement", kind="engagement", weight=float(i + 1), edge_id=i)
    graph.add_edge("n9", "x", key="role", kind="role", weight=1.0, edge_id=100)
    graph.add_edge("x", "y", key="role", kind="role", weight=1.0, edge_id=101)
    for n, (u, v) in enumerate((("a", "hub"), ("hub", "b"), ("a", "p"), ("p", "q"), ("q", "b"))):
        graph.add_edge(u, v, key="engagement", kind="engagement", weight=1.0, edge_id=200 + n)
    strength: dict[str, float] = {}
    for u, v, w in graph.edges(data="weight"):
        strength[u] = strength.get(u, 0.0) + w
        strength[v] = strength.get(v, 0.0) + w
    graph.graph["strength"] = strength
    for node in graph:
        graph.nodes[node].update(name=node, type="organization")
    return graph


def test_ego_cap_keeps_the_most_important_connected() -> None:
    graph = _star()
    full = g.ego(graph, "hub", depth=1, limit=100)
    assert len(full["nodes"]) == 13
    assert not full["truncated"]
    capped = g.ego(graph, "hub", depth=2, limit=4)
    ids = [n["id"] for n in capped["nodes"]]
    assert capped["truncated"]
    assert len(ids) == 4
    assert ids[0] == "hub"
    assert set(ids[1:]) == {"n9", "n8", "n7"}
    deeper = g.ego(graph, "n9", depth=3, limit=50)
    depth_of = {n["id"]: n["depth"] for n in deeper["nodes"]}
    assert depth_of["x"] == 1
    assert depth_of["y"] == 2
    assert depth_of["n0"] == 2
    assert all(e["source"] in depth_of and e["target"] in depth_of for e in deeper["edges"])
    # every returned edge joins two returned nodes, and the induced edges are all there
    sub = graph.subgraph(depth_of)
    assert len(deeper["edges"]) == sub.number_of_edges()
    with pytest.raises(g.GraphQueryError):
        g.ego(graph, "hub", depth=4)


def test_path_with_hub_exclusion() -> None:
    graph = _star()
    direct = g.shortest_path(graph, "a", "b")
    assert direct is not None
    assert direct["nodes"] == ["a", "hub", "b"]
    around = g.shortest_path(graph, "a", "b", exclude_hubs=5)  # hub has 12 neighbours
    assert around is not None
    assert around["nodes"] == ["a", "p", "q", "b"]
    assert [h["edges"][0]["kind"] for h in around["hops"]] == ["engagement"] * 3
    assert g.shortest_path(graph, "a", "b", exclude=["hub"])["nodes"] == ["a", "p", "q", "b"]  # type: ignore[index]
    assert g.shortest_path(graph, "a", "b", exclude_hubs=5, max_length=2) is None
    assert g.shortest_path(graph, "hub", "y", exclude_hubs=2)["length"] == 3  # endpoints may be hubs  # type: ignore[index]


def test_measures_on_small_graph() -> None:
    graph = _star()
    assert g.top_degree(graph, 1)[0][0] == "hub"
    between = g.betweenness(graph, k=None)
    assert max(between, key=between.__getitem__) == "hub"
    assert g.betweenness(graph, k=5, seed=1) == g.betweenness(graph, k=5, seed=1)  # seeded sample
    found = g.communities(graph, seed=3)
    assert sorted(n for c in found for n in c) == sorted(graph.nodes)  # a partition
    assert found == g.communities(graph, seed=3)


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_export_round_trip_with_hostile_names(engine: Engine, small: dict[str, Any], tmp_path: Path,
                                              fmt: str) -> None:
    g.run_graph_stage(engine)
    path = tmp_path / f"graph.{fmt}"
    nodes, n_edges = g.export_graph(engine, path, fmt)
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text  # escaped in the XML
    loaded = nx.read_gexf(path) if fmt == "gexf" else nx.read_graphml(path)
    stored = edges(engine)
    assert loaded.number_of_nodes() == nodes == len({k[0] for k in stored} | {k[1] for k in stored})
    assert loaded.number_of_edges() == n_edges == len(stored)
    assert loaded.nodes[small["p1"]]["label"] == HOSTILE
    kinds = {d["kind"] for _u, _v, d in loaded.edges(data=True)}
    assert kinds == {"engagement", "memorandum", "ppp", "role", "branch"}
    assert all(d["evidence"] for _u, _v, d in loaded.edges(data=True))
    assert any("memorandum:memo-1" in d["evidence"] for _u, _v, d in loaded.edges(data=True))


def test_cli_ego_path_export(db_url: str, engine: Engine, small: dict[str, Any], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASHYQ_DATABASE_URL", db_url)
    runner = CliRunner()
    empty = runner.invoke(cli, ["graph", "ego", small["b1"]])
    assert empty.exit_code != 0
    assert "ashyq build" in empty.output
    g.run_graph_stage(engine)
    g.clear_cache()

    out = runner.invoke(cli, ["graph", "ego", "100000000001", "--depth", "1"])
    assert out.exit_code == 0, out.output
    assert small["p1"] in out.output
    assert "engagement: 3 contract(s), 300.75 KZT" in out.output
    as_json = json.loads(runner.invoke(cli, ["graph", "ego", small["b1"], "--depth", "1", "--limit", "2",
                                             "--json"]).output)
    assert len(as_json["nodes"]) == 2
    assert as_json["truncated"]

    path = runner.invoke(cli, ["graph", "path", small["person"], small["p2"], "--json"])
    assert path.exit_code == 0, path.output
    result = json.loads(path.output)
    assert result["nodes"][0] == small["person"]
    assert result["nodes"][-1] == small["p2"]
    assert result["hops"][0]["edges"][0]["kind"] == "role"
    for hop in result["hops"]:
        for edge in hop["edges"]:
            assert edge["evidence"]
            assert all(item["url"] for item in edge["evidence"])
    text = runner.invoke(cli, ["graph", "path", small["person"], "200000000001"])
    assert text.exit_code == 0
    assert "role: head, signatory" in text.output
    assert f"engagement:c-1  {URL}engagement/c-1" in text.output
    assert f"memorandum:memo-1  {URL}memo/memo-1" in text.output
    missing = runner.invoke(cli, ["graph", "path", small["person"], small["p2"], "--max-length", "1"])
    assert missing.exit_code == 1
    assert "no path" in missing.output
    unknown = runner.invoke(cli, ["graph", "path", "nobody", small["p2"]])
    assert unknown.exit_code != 0
    assert "not a node" in unknown.output

    target = tmp_path / "out.graphml"
    exported = runner.invoke(cli, ["export", "graph", "-o", str(target)])
    assert exported.exit_code == 0
    assert "(graphml)" in exported.output
    assert nx.read_graphml(target).number_of_edges() == len(edges(engine))


# ------------------------------------------------------------------------------------------- demo acceptance

ASHYQ = str(Path(sys.executable).with_name("ashyq"))
TOKEN = "0123456789abcdef0123456789abcdef"


def _crawl_demo_story(db_url: str, tmp_path: Path) -> Any:
    """The demo story's window from the simulator: goszakup Q1 2025 and the Kyzylorda department's gov.kz pages."""
    story = load_other_scenario("demo").story
    assert story is not None
    with SimulatorServer(scenario="demo", token=TOKEN) as sim:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASHYQ_")}
        env.update(ASHYQ_DATABASE_URL=db_url, GOSZAKUP_TOKEN=TOKEN, ASHYQ_GOSZAKUP_URL=sim.url,
                   ASHYQ_GOVKZ_URL=sim.url, ASHYQ_GOSZAKUP_DELAY="0", ASHYQ_GOVKZ_DELAY="0",
                   ASHYQ_GOVKZ_CONCURRENCY="8")
        for args in (["crawl", "goszakup", "--since", "2025-01-01", "--until", "2025-03-31"],
                     ["crawl", "govkz", "--slugs", story.slug], ["build"]):
            job = ["--job-dir", str(tmp_path / args[1])] if args[0] == "crawl" else []
            done = subprocess.run([ASHYQ, *args, *job], env=env, capture_output=True, text=True, timeout=600,
                                  check=False)
            assert done.returncode == 0, done.stderr[-3000:]
    return story


def test_demo_operator_to_official_path(db_url: str, engine: Engine, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 5 "done when" 1: memorandum operator → the official of the signing department → its contracts."""
    story = _crawl_demo_story(db_url, tmp_path)
    operator, department = f"kz-bin-{story.new_operator_bin}", f"kz-bin-{story.department_bin}"
    with engine.connect() as conn:
        officials = conn.execute(select(Role.person_id, Role.role).where(
            Role.organization_id == department, Role.role.in_(["head", "signatory"]))).all()
        contracts = set(conn.execute(select(Engagement.id).where(
            Engagement.provider_id == operator, Engagement.instrument == "procurement_contract")).scalars())
        memoranda = set(conn.execute(select(Engagement.instrument_ref).where(
            Engagement.provider_id == operator, Engagement.instrument == "memorandum")).scalars())
    assert officials, "the department's head is known (goszakup employees / gov.kz leadership)"
    assert contracts, "the new operator's contracts from February 2025 were crawled"
    assert memoranda, "the switch memorandum was crawled and its engagement names the operator"
    # The official who signed the memorandum for the department (issue 4 reads the signatories from the release).
    signatories = sorted(r.person_id for r in officials if r.role == "signatory")
    assert signatories, "the memorandum's press release names who signed it for the department"
    official = signatories[0]

    monkeypatch.setenv("ASHYQ_DATABASE_URL", db_url)
    runner = CliRunner()
    found = runner.invoke(cli, ["graph", "path", story.new_operator_bin, official, "--json"])
    assert found.exit_code == 0, found.output
    path = json.loads(found.output)
    assert path["nodes"] == [operator, department, official]
    memo_hop, role_hop = path["hops"]
    memo_edge = next(e for e in memo_hop["edges"] if e["kind"] == "memorandum")
    refs = {item["ref"]: item["url"] for item in memo_edge["evidence"]}
    assert {f"memorandum:{m}" for m in memoranda} <= refs.keys()
    assert all(url and url.startswith("http://127.0.0.1") for url in refs.values())  # the simulator's pages
    role_edge = next(e for e in role_hop["edges"] if e["kind"] == "role")
    assert role_edge["evidence"]
    assert role_edge["roles"]

    # From the official on to the operator's other contracts: the operator's engagement edges, with evidence.
    ego = json.loads(runner.invoke(cli, ["graph", "ego", official, "--depth", "3", "--limit", "500",
                                         "--json"]).output)
    reached = {ref["ref"].removeprefix("engagement:") for e in ego["edges"] if e["kind"] == "engagement"
               and operator in (e["source"], e["target"]) for ref in e["evidence"]}
    assert reached & contracts
    text = runner.invoke(cli, ["graph", "path", official, story.new_operator_bin]).output
    assert "Сынақ Мектеп Онлайн" in text
    assert "memorandum:" in text

    # ... and in the export
    out = tmp_path / "demo.gexf"
    g.export_graph(engine, out, "gexf")
    exported = nx.read_gexf(out)
    memo_edges = [d for _u, _v, d in exported.edges(data=True)
                  if d["kind"] == "memorandum" and any(f"memorandum:{m}" in d["evidence"] for m in memoranda)]
    assert memo_edges
    assert all(d["source_urls"].startswith("http://127.0.0.1") for d in memo_edges)  # provenance in the file
