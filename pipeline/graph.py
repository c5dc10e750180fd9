"""The relationship graph (issue 5, DESIGN §8): materialized edges, a cached networkx graph, and its queries.

**Stage** (`run_graph_stage`, called by `ashyq build` after the instrument stages). Nodes are organizations and
persons (`organizations.id`, `persons.id`); `graph_edges` holds one row per (source, target, kind):

* `engagement` — buyer → provider, procurement engagements (every instrument except memoranda and PPP)
  aggregated per pair: `count`, `total_kzt` (text, two decimals), `first_signed`/`last_signed`, `years`,
  `legal_bases`, `instruments`; evidence `engagement:<id>`.
* `memorandum` — undirected (stored with `source_id < target_id`): every pair of resolved parties of a
  memorandum (`memorandum_parties.organization_id`) *and* every engagement of instrument memorandum or
  cooperation agreement (`buyer_id`–`provider_id`), merged; evidence `memorandum:<id>` and `engagement:<id>`.
  Memorandum engagements are therefore *not* `engagement` edges: a memorandum is not a contract, and a path
  that reads "engagement" must mean money or a procurement.
* `ppp` — state partner → private partner, from `ppp_agreements` and engagements of instrument
  `ppp_agreement`, merged; evidence `ppp:<id>`, `engagement:<id>`.
* `role` — person → organization: role names, earliest start, latest end (None while current); evidence
  `role:<id>` and `raw:<raw record id>`.
* `branch` — head office → branch (`organizations.parent_bin` = the head office's BIN); evidence
  `organization:<branch id>` and `raw:<its raw record id>`.

Every edge keeps its evidence references; at most `EVIDENCE_CAP` per kind of reference are stored (the newest
ids are not preferred: ids are sorted and the first kept) and `attrs["evidence_count"]` keeps the full count.
`weight` = number of evidencing records (engagements, memoranda, roles…), the importance used to cap ego
networks. `is_fictional` is true when any evidencing row is fictional.

**Incremental and idempotent.** The stage first computes a cheap input fingerprint (counts and max ids of
raw records, judgements, engagements, roles, memorandum parties, PPP agreements, organizations, persons, and
the edge count) and stores it, as a 63-bit integer, in `build_state` row `graph` (`last_raw_record_id`
column). Same fingerprint: nothing runs. Otherwise the edges are recomputed by SQL aggregation (streamed, one
GROUP BY per kind) and *diffed* against the stored ones by a content digest (`attrs["digest"]`): only new,
changed and vanished edges are written, so adding one engagement rewrites only its edge, and a rebuild of
unchanged inputs writes nothing. Limitation: an in-place update of an input row that changes none of the
fingerprinted counts (e.g. a manual SQL edit) is not seen; `run_graph_stage(force=True)` recomputes anyway.
Every pipeline write path of the project adds raw records or judgements, which the fingerprint covers.

**Graph.** `load_graph(engine)` reads `graph_edges` and the node attributes in one pass into an undirected
`networkx.MultiGraph` (edge key = kind) with each edge's attributes but without its evidence (fetched per edge
by `edge_evidence` / `with_evidence` when shown), and
caches it per database and fingerprint, so the CLI and the dashboard reuse one copy per process. The cached copy
is checked on every call by two index lookups (newest edge id, the stage's `build_state` row); the dashboard
loads with `freeze=True`, which keeps the graph's millions of objects out of the garbage collector's scans.

Names are untrusted text from the sources: the queries return them verbatim; the CLI strips control
characters, the exporters rely on networkx's XML escaping (tested with a hostile name).
"""

from __future__ import annotations

import gc
import hashlib
import heapq
import itertools
import json
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import networkx as nx
import orjson
from sqlalchemy import Connection, Engine, String, Text, bindparam, case, cast, func, literal, select

from entities.models import (
    BuildState,
    Engagement,
    GraphEdge,
    Judgement,
    Memorandum,
    MemorandumParty,
    Organization,
    Person,
    PPPAgreement,
    RawRecord,
    Role,
)
from pipeline.normalize.writer import table_of, upsert

log = logging.getLogger(__name__)

STAGE = "graph"
EVIDENCE_CAP = 200
MEMORANDUM_INSTRUMENTS = ("memorandum", "cooperation_agreement")
PPP_INSTRUMENTS = ("ppp_agreement",)
EDGE_KINDS = ("engagement", "memorandum", "ppp", "role", "branch")
_SEP = "\x1f"  # separator of aggregated ids: never in an id

edges_t = table_of(GraphEdge)
eng_t = table_of(Engagement)
roles_t = table_of(Role)
orgs_t = table_of(Organization)
persons_t = table_of(Person)
parties_t = table_of(MemorandumParty)
memos_t = table_of(Memorandum)
ppp_t = table_of(PPPAgreement)
raws_t = table_of(RawRecord)
state_t = table_of(BuildState)


@dataclass
class GraphStageReport:
    recomputed: bool = False
    edges: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    elapsed: float = 0.0

    def summary(self) -> str:
        if not self.recomputed:
            return f"graph: inputs unchanged, {self.edges} edges kept"
        return (f"graph: {self.edges} edges ({self.inserted} new, {self.updated} changed, {self.deleted} removed); "
                f"{self.elapsed:.1f}s")


# ------------------------------------------------------------------------------------------- fingerprint


def input_fingerprint(conn: Connection) -> int:
    """A 63-bit digest of the graph's inputs' sizes and newest ids (see the module docstring)."""
    parts: list[Any] = []
    for table, key in ((raws_t, "id"), (table_of(Judgement), "id"), (eng_t, "id"), (roles_t, "id"),
                       (parties_t, "id"), (ppp_t, "id"), (orgs_t, "id"), (persons_t, "id"), (edges_t, "id")):
        column = table.c[key]
        parts.extend(conn.execute(select(func.count(), func.max(column))).one())
    parts.append(conn.execute(select(func.sum(eng_t.c.amount_kzt))).scalar())
    digest = hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _stored_fingerprint(conn: Connection) -> int | None:
    return conn.execute(select(state_t.c.last_raw_record_id).where(state_t.c.stage == STAGE)).scalar_one_or_none()


# ------------------------------------------------------------------------------------------- aggregation


def _agg(dialect: str, expr: Any, *, distinct: bool = False) -> Any:
    """Concatenate a column's values of a group (SQLite group_concat, PostgreSQL string_agg)."""
    if dialect == "sqlite":
        return func.group_concat(expr.distinct()) if distinct else func.group_concat(expr, _SEP)
    text_expr = cast(expr, Text)
    return func.string_agg(text_expr.distinct() if distinct else text_expr, literal("," if distinct else _SEP))


def _split(value: str | None, sep: str = _SEP) -> list[str]:
    return [v for v in value.split(sep) if v] if value else []


def _year(dialect: str, column: Any) -> Any:
    return func.strftime("%Y", column) if dialect == "sqlite" else func.to_char(column, "YYYY")


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else Decimal(0)


def _day(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


class _Acc:
    """One edge being assembled from several inputs."""

    __slots__ = ("attrs", "evidence", "fictional", "weight")

    def __init__(self) -> None:
        self.weight = 0.0
        self.attrs: dict[str, Any] = {}
        self.evidence: dict[str, set[str]] = {}
        self.fictional = False

    def add_evidence(self, prefix: str, ids: Iterable[Any]) -> None:
        self.evidence.setdefault(prefix, set()).update(str(i) for i in ids)

    def merge_dates(self, first: Any, last: Any) -> None:
        for key, value, pick in (("first_signed", _day(first), min), ("last_signed", _day(last), max)):
            if value is not None:
                old = self.attrs.get(key)
                self.attrs[key] = value if old is None else pick(old, value)

    def merge_list(self, key: str, values: Iterable[Any]) -> None:
        merged = set(self.attrs.get(key, [])) | {v for v in values if v not in (None, "")}
        self.attrs[key] = sorted(merged)

    def row(self, source: str, target: str, kind: str) -> dict[str, Any]:
        evidence: list[str] = []
        total = 0
        for prefix in sorted(self.evidence):
            ids = sorted(self.evidence[prefix], key=_id_order)
            total += len(ids)
            evidence.extend(f"{prefix}:{i}" for i in ids[:EVIDENCE_CAP])
        attrs = dict(self.attrs)
        attrs["evidence_count"] = total
        if "total_kzt" in attrs:
            attrs["total_kzt"] = str(attrs["total_kzt"])
        return _edge_row(source, target, kind, self.weight, attrs, evidence, self.fictional)


def _edge_row(source: str, target: str, kind: str, weight: float, attrs: dict[str, Any], evidence: list[str],
              fictional: bool) -> dict[str, Any]:
    """A `graph_edges` row with its content digest (attrs are built in a fixed key order, lists sorted)."""
    body = repr((float(weight), attrs, evidence, bool(fictional))).encode()
    attrs["digest"] = hashlib.blake2b(body, digest_size=12).hexdigest()
    return {"source_id": source, "target_id": target, "kind": kind, "weight": float(weight), "attrs": attrs,
            "evidence": evidence, "is_fictional": bool(fictional)}


def _id_order(value: str) -> tuple[int, Any]:
    return (0, int(value)) if value.isdigit() else (1, value)


def compute_edges(conn: Connection) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every edge from the database, keyed by (source, target, kind): one aggregated pass per kind."""
    dialect = conn.dialect.name
    acc: dict[tuple[str, str, str], _Acc] = {}
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}

    def get(key: tuple[str, str, str]) -> _Acc:
        item = acc.get(key)
        if item is None:
            item = acc[key] = _Acc()
        return item

    # Engagements, grouped in the database per (buyer, provider, edge kind).
    kind_expr = case(
        (eng_t.c.instrument.in_(MEMORANDUM_INSTRUMENTS), literal("memorandum")),
        (eng_t.c.instrument.in_(PPP_INSTRUMENTS), literal("ppp")),
        else_=literal("engagement"),
    ).label("kind")
    query = (
        select(
            eng_t.c.buyer_id, eng_t.c.provider_id, kind_expr, func.count().label("n"),
            func.sum(eng_t.c.amount_kzt).label("total"), func.min(eng_t.c.signed_on), func.max(eng_t.c.signed_on),
            _agg(dialect, eng_t.c.legal_basis, distinct=True), _agg(dialect, eng_t.c.instrument, distinct=True),
            _agg(dialect, _year(dialect, eng_t.c.signed_on), distinct=True), _agg(dialect, eng_t.c.id),
            func.max(case((eng_t.c.is_fictional, 1), else_=0)),
        )
        .where(eng_t.c.buyer_id.is_not(None), eng_t.c.provider_id.is_not(None),
               eng_t.c.buyer_id != eng_t.c.provider_id)
        .group_by(eng_t.c.buyer_id, eng_t.c.provider_id, kind_expr)
    )
    for buyer, provider, kind, n, total, first, last, bases, instruments, years, ids, fictional in (
        conn.execution_options(stream_results=True, yield_per=5000).execute(query)
    ):
        if kind == "engagement":
            # fast path: one SQL group is one whole edge (the bulk of the graph at scale)
            ids_sorted = sorted(_split(ids), key=_id_order)
            attrs = {"count": n, "total_kzt": str(_money(total)), "first_signed": _day(first),
                     "last_signed": _day(last), "legal_bases": sorted(_split(bases, ",")),
                     "instruments": sorted(_split(instruments, ",")),
                     "years": sorted(int(y) for y in _split(years, ",")), "evidence_count": len(ids_sorted)}
            evidence = [f"engagement:{i}" for i in ids_sorted[:EVIDENCE_CAP]]
            rows[(buyer, provider, kind)] = _edge_row(buyer, provider, kind, n, attrs, evidence, bool(fictional))
            continue
        source, target = (min(buyer, provider), max(buyer, provider)) if kind == "memorandum" else (buyer, provider)
        item = get((source, target, kind))
        item.weight += n
        item.attrs["count"] = item.attrs.get("count", 0) + n
        if kind != "memorandum":
            item.attrs["total_kzt"] = _money(item.attrs.get("total_kzt")) + _money(total)
        item.merge_dates(first, last)
        item.merge_list("legal_bases", _split(bases, ","))
        item.merge_list("instruments", _split(instruments, ","))
        item.merge_list("years", (int(y) for y in _split(years, ",")))
        item.add_evidence("engagement", _split(ids))
        item.fictional |= bool(fictional)

    # Memorandum parties: every pair of resolved parties of one memorandum.
    a, b = parties_t.alias("a"), parties_t.alias("b")
    query = (
        select(a.c.organization_id, b.c.organization_id, memos_t.c.id, memos_t.c.signed_on, memos_t.c.is_fictional)
        .join(b, (a.c.memorandum_id == b.c.memorandum_id) & (a.c.position < b.c.position))
        .join(memos_t, memos_t.c.id == a.c.memorandum_id)
        .where(a.c.organization_id.is_not(None), b.c.organization_id.is_not(None),
               a.c.organization_id != b.c.organization_id)
    )
    seen_memo: dict[tuple[str, str], set[str]] = {}
    for left, right, memo_id, signed, fictional in conn.execute(query):
        key = (min(left, right), max(left, right), "memorandum")
        if memo_id in seen_memo.setdefault(key[:2], set()):
            continue
        seen_memo[key[:2]].add(memo_id)
        item = get(key)
        item.add_evidence("memorandum", [memo_id])
        item.merge_list("memoranda", [memo_id])
        item.merge_dates(signed, signed)
        item.fictional |= bool(fictional)
    for (_s, _t, kind), item in acc.items():
        if kind == "memorandum":
            # one memorandum told by a party row and by its engagement counts once
            item.weight = max(item.attrs.get("count", 0), len(item.attrs.get("memoranda", [])))

    # PPP agreements: state partner → private partner.
    query = select(ppp_t.c.state_partner_id, ppp_t.c.private_partner_id, ppp_t.c.id, ppp_t.c.signed_on,
                   ppp_t.c.amount_kzt, ppp_t.c.is_fictional).where(
        ppp_t.c.state_partner_id.is_not(None), ppp_t.c.private_partner_id.is_not(None),
        ppp_t.c.state_partner_id != ppp_t.c.private_partner_id)
    for state, private, ppp_id, signed, amount, fictional in conn.execute(query):
        item = get((state, private, "ppp"))
        item.add_evidence("ppp", [ppp_id])
        item.merge_list("agreements", [ppp_id])
        if "count" not in item.attrs:  # amounts come from the engagements when they exist
            item.attrs["ppp_total_kzt"] = str(_money(item.attrs.get("ppp_total_kzt")) + _money(amount))
        item.merge_dates(signed, signed)
        item.fictional |= bool(fictional)
    for (_s, _t, kind), item in acc.items():
        if kind == "ppp":
            item.weight = max(item.attrs.get("count", 0), len(item.attrs.get("agreements", [])))

    # Roles: person → organization.
    query = (
        select(roles_t.c.person_id, roles_t.c.organization_id, func.count(), _agg(dialect, roles_t.c.role, distinct=True),
               func.min(roles_t.c.start_date), func.max(roles_t.c.end_date),
               func.sum(case((roles_t.c.end_date.is_(None), 1), else_=0)),
               _agg(dialect, roles_t.c.id), _agg(dialect, roles_t.c.raw_record_id, distinct=True),
               func.max(case((persons_t.c.is_fictional, 1), else_=0)))
        .join(persons_t, persons_t.c.id == roles_t.c.person_id)
        .group_by(roles_t.c.person_id, roles_t.c.organization_id)
    )
    for person, org, n, names, start, end, open_ended, ids, raw_ids, fictional in (
        conn.execution_options(stream_results=True, yield_per=5000).execute(query)
    ):
        item = get((person, org, "role"))
        item.weight = float(n)
        item.attrs.update({"count": n, "roles": sorted(_split(names, ",")), "start": _day(start),
                           "end": None if open_ended else _day(end)})
        item.add_evidence("role", _split(ids))
        item.add_evidence("raw", _split(raw_ids, ","))
        item.fictional = bool(fictional)

    # Head office → branch.
    head = orgs_t.alias("head")
    query = (
        select(head.c.id, orgs_t.c.id, orgs_t.c.raw_record_id, orgs_t.c.is_fictional, head.c.is_fictional)
        .join(head, head.c.bin == orgs_t.c.parent_bin)
        .where(orgs_t.c.parent_bin.is_not(None), head.c.id != orgs_t.c.id)
    )
    for head_id, branch_id, raw_id, fictional, head_fictional in conn.execute(query):
        item = get((head_id, branch_id, "branch"))
        item.weight = 1.0
        item.add_evidence("organization", [branch_id])
        if raw_id is not None:
            item.add_evidence("raw", [raw_id])
        item.fictional = bool(fictional or head_fictional)

    rows.update((key, item.row(*key)) for key, item in acc.items())
    return rows


# ------------------------------------------------------------------------------------------- stage


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large containers that are not garbage.

    It would otherwise rescan every object built so far each few thousand allocations: at the 1M scale that
    was half of the stage's and of the load's CPU time (measured: 2.8 → 1.3 s and 1.75 → 0.7 s at 100k).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_graph_stage(engine: Engine, *, force: bool = False) -> GraphStageReport:
    """Bring `graph_edges` up to date with its inputs; a no-op when they did not change (module docstring)."""
    with gc_paused():
        return _run_graph_stage(engine, force=force)


def _run_graph_stage(engine: Engine, *, force: bool) -> GraphStageReport:
    started = datetime.now(UTC)
    report = GraphStageReport()
    with engine.connect() as conn:
        fingerprint = input_fingerprint(conn)
        if not force and _stored_fingerprint(conn) == fingerprint:
            report.edges = conn.execute(select(func.count()).select_from(edges_t)).scalar_one()
            return report
        wanted = compute_edges(conn)
        digest = GraphEdge.attrs["digest"].as_string()
        stored = {(s, t, k): (i, d) for i, s, t, k, d in conn.execute(
            select(edges_t.c.id, edges_t.c.source_id, edges_t.c.target_id, edges_t.c.kind, digest))}
    report.recomputed = True
    gone = [stored[key][0] for key in stored.keys() - wanted.keys()]
    changed = [(stored[key][0], row) for key, row in wanted.items()
               if key in stored and stored[key][1] != row["attrs"]["digest"]]
    new = [row for key, row in wanted.items() if key not in stored]
    with engine.begin() as conn:
        for chunk in _chunks(gone, 5000):
            conn.execute(edges_t.delete().where(edges_t.c.id.in_(chunk)))
        if changed:
            stmt = edges_t.update().where(edges_t.c.id == bindparam("edge_id")).values(
                weight=bindparam("weight"), attrs=bindparam("attrs"), evidence=bindparam("evidence"),
                is_fictional=bindparam("is_fictional"))
            for chunk in _chunks(changed, 5000):
                conn.execute(stmt, [{"edge_id": i, "weight": r["weight"], "attrs": r["attrs"],
                                     "evidence": r["evidence"], "is_fictional": r["is_fictional"]} for i, r in chunk])
        _insert_edges(conn, new)
        # Recomputed after the writes: the fingerprint covers the edge count.
        fingerprint = input_fingerprint(conn)
        upsert(conn, state_t, [{"stage": STAGE, "last_raw_record_id": fingerprint, "updated_at": datetime.now(UTC)}],
               ["stage"])
    report.inserted, report.updated, report.deleted = len(new), len(changed), len(gone)
    report.edges = len(wanted)
    report.elapsed = (datetime.now(UTC) - started).total_seconds()
    return report


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _insert_edges(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert: COPY on PostgreSQL (a first build writes every edge), executemany on SQLite."""
    columns = ["source_id", "target_id", "kind", "weight", "attrs", "evidence", "is_fictional"]
    if conn.dialect.name == "postgresql" and len(rows) > 1000:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY graph_edges ({', '.join(columns)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row([r["source_id"], r["target_id"], r["kind"], r["weight"],
                                json.dumps(r["attrs"], ensure_ascii=False), json.dumps(r["evidence"], ensure_ascii=False),
                                r["is_fictional"]])
        return
    if conn.dialect.name == "sqlite":  # the DBAPI directly: SQLAlchemy's per-value JSON processing costs more
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(
            f"INSERT INTO graph_edges ({', '.join(columns)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((r["source_id"], r["target_id"], r["kind"], r["weight"], json.dumps(r["attrs"], ensure_ascii=False),
              json.dumps(r["evidence"], ensure_ascii=False), int(r["is_fictional"])) for r in rows))
        return
    for chunk in _chunks(rows, 5000):
        conn.execute(edges_t.insert(), list(chunk))


# ------------------------------------------------------------------------------------------- loading


_CACHE: dict[str, tuple[Any, nx.MultiGraph]] = {}
_CACHE_LOCK = threading.Lock()


def _graph_fingerprint(conn: Connection) -> tuple[Any, ...]:
    """What identifies the stored graph: the newest edge id and the stage's `build_state` row.

    Two index lookups, asked on every query: a `count(*)` of the edges cost 0.13–0.55 s per call at 1M (measured,
    SQLite). Every stage run that writes stores a new input fingerprint and `updated_at` (the fingerprint covers
    the edge count), so a rebuild changes the key; edges edited by hand in SQL are not seen (as for the stage).
    """
    top = conn.execute(select(func.max(edges_t.c.id))).scalar()
    state = conn.execute(
        select(state_t.c.last_raw_record_id, state_t.c.updated_at).where(state_t.c.stage == STAGE)
    ).one_or_none()
    return (top, *(tuple(state) if state is not None else (None, None)))


def load_graph(engine: Engine, *, use_cache: bool = True, freeze: bool = False) -> nx.MultiGraph:
    """The graph from `graph_edges` + node attributes, cached per database and edge fingerprint.

    Treat the returned graph as read-only: it is shared by every caller of the process. `freeze`: a long-lived
    process (the dashboard) moves the loaded graph out of the cyclic garbage collector's sight (`gc.freeze`).
    Its millions of containers would otherwise be scanned by the collections that follow the load and by every
    later full collection: 4–5.5 s each at 1M (measured), paid by whichever request allocates at that moment.
    """
    url = engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        key = _graph_fingerprint(conn)
        with _CACHE_LOCK:
            cached = _CACHE.get(url)
            if use_cache and cached is not None and cached[0] == key:
                return cached[1]
            replacing = cached is not None
            if replacing:
                del _CACHE[url]  # stale: let the collector reclaim it before the new copy is frozen
        del cached
        graph = _read_graph(conn, freeze=freeze, thaw=replacing)
    with _CACHE_LOCK:
        _CACHE[url] = (key, graph)
    return graph


def is_current(engine: Engine) -> bool:
    """Whether this process holds `engine`'s graph as it is now stored (a cheap check: no load)."""
    url = engine.url.render_as_string(hide_password=False)
    with _CACHE_LOCK:
        cached = _CACHE.get(url)
    if cached is None:
        return False
    with engine.connect() as conn:
        return cached[0] == _graph_fingerprint(conn)


def _read_graph(conn: Connection, *, freeze: bool = False, thaw: bool = False) -> nx.MultiGraph:
    with gc_paused():
        if thaw and gc.get_freeze_count():
            # A graph frozen by an earlier load may have been dropped since (a rebuild): frozen objects are never
            # collected, and a networkx graph holds reference cycles (its cached views), so thaw and collect once
            # (seconds at 1M, once per rebuild) rather than keep every replaced copy for the life of the process.
            gc.unfreeze()
            gc.collect()
        graph = _read_graph_unpaused(conn)
        if freeze:
            gc.freeze()  # before the collector is back on: the new graph is never scanned
        return graph


def _read_graph_unpaused(conn: Connection) -> nx.MultiGraph:
    graph = nx.MultiGraph()
    # Attributes come as text and are parsed with orjson: decoding 761k JSON objects with the standard library
    # was over half of the load time at the 1M scale.
    query = select(edges_t.c.id, edges_t.c.source_id, edges_t.c.target_id, edges_t.c.kind, edges_t.c.weight,
                   cast(edges_t.c.attrs, Text), edges_t.c.is_fictional)
    add = graph.add_edge
    loads = orjson.loads
    for edge_id, source, target, kind, weight, attrs_text, fictional in conn.execution_options(
        stream_results=True, yield_per=20000
    ).execute(query):
        attrs = loads(attrs_text) if attrs_text else {}
        attrs.pop("digest", None)
        add(source, target, key=kind, kind=kind, weight=weight, edge_id=edge_id, is_fictional=bool(fictional),
            source=source, target=target, **attrs)
    nodes = graph._node
    for node_id, name, name_kk, name_en, kind, bin_, region, fictional in conn.execution_options(
        stream_results=True, yield_per=20000
    ).execute(select(orgs_t.c.id, orgs_t.c.name_ru, orgs_t.c.name_kk, orgs_t.c.name_en, orgs_t.c.kind,
                     orgs_t.c.bin, orgs_t.c.region_kato, orgs_t.c.is_fictional)):
        if node_id in nodes:
            nodes[node_id].update(name=name or name_kk or name_en or node_id, type="organization", kind=kind,
                                  bin=bin_, region=region, is_fictional=bool(fictional))
    for node_id, name, fictional in conn.execution_options(stream_results=True, yield_per=20000).execute(
        select(persons_t.c.id, persons_t.c.display_name, persons_t.c.is_fictional)
    ):
        if node_id in nodes:
            nodes[node_id].update(name=name or node_id, type="person", kind="person", bin=None, region=None,
                                  is_fictional=bool(fictional))
    strength: dict[str, float] = {}
    for u, v, w in graph.edges(data="weight", default=1.0):
        strength[u] = strength.get(u, 0.0) + w
        strength[v] = strength.get(v, 0.0) + w
    graph.graph["strength"] = strength  # weighted degree: the importance of a node
    return graph


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()
    gc.unfreeze()  # what a `freeze` load kept out of the collector's sight is collectable again


# ------------------------------------------------------------------------------------------- queries


class GraphQueryError(ValueError):
    """An id that is not in the graph, or a query the graph cannot answer."""


def resolve_node(graph: nx.MultiGraph, ref: str) -> str:
    """An entity id as given, or a 12-digit BIN (→ `kz-bin-<BIN>`)."""
    ref = ref.strip()
    if ref in graph:
        return ref
    if ref.isdigit() and len(ref) == 12 and f"kz-bin-{ref}" in graph:
        return f"kz-bin-{ref}"
    raise GraphQueryError(f"{ref!r} is not a node of the graph (an entity id such as kz-bin-…, or a BIN)")


def _node(graph: nx.MultiGraph, node: str, **extra: Any) -> dict[str, Any]:
    data = graph.nodes[node]
    return {"id": node, "name": data.get("name", node), "type": data.get("type"), "kind": data.get("kind"),
            "bin": data.get("bin"), "region": data.get("region"), "is_fictional": data.get("is_fictional", False),
            "strength": graph.graph["strength"].get(node, 0.0), **extra}


def _edge(data: dict[str, Any], u: str, v: str) -> dict[str, Any]:
    """An edge as a plain dict; `source`/`target` keep the stored direction (buyer → provider, person → org)."""
    return {"source": u, "target": v} | dict(data)


def ego(graph: nx.MultiGraph, center: str, depth: int = 2, limit: int = 50) -> dict[str, Any]:
    """The ego network of `center` to `depth` (1–3), at most `limit` nodes, the most important kept.

    Layer by layer: the next layer's candidates are the neighbours of the nodes kept so far, ranked by weighted
    degree (strength); they are taken until the limit, so every kept node is connected to the centre through
    kept nodes. `truncated` says whether anything reachable was left out.
    """
    if not 1 <= depth <= 3:
        raise GraphQueryError("depth must be 1, 2 or 3")
    if limit < 1:
        raise GraphQueryError("limit must be at least 1")
    center = resolve_node(graph, center)
    strength = graph.graph["strength"]
    adj = graph._adj
    kept: dict[str, int] = {center: 0}
    frontier = [center]
    truncated = False
    for level in range(1, depth + 1):
        room = limit - len(kept)
        if room <= 0:
            truncated = truncated or any(n not in kept for f in frontier for n in adj[f])
            break
        candidates: set[str] = set()
        for node in frontier:
            candidates.update(n for n in adj[node] if n not in kept)
        if len(candidates) > room:
            truncated = True
            chosen = heapq.nlargest(room, candidates, key=lambda n: (strength.get(n, 0.0), n))
        else:
            chosen = sorted(candidates)
        for node in chosen:
            kept[node] = level
        frontier = chosen
        if not frontier:
            break
    members = list(kept)
    edges: list[dict[str, Any]] = []
    for i, u in enumerate(members):
        nbrs = adj[u]
        for v in members[i + 1:]:
            if v in nbrs:
                edges.extend(_edge(data, u, v) for data in nbrs[v].values())
    nodes = [_node(graph, n, depth=d) for n, d in kept.items()]
    nodes.sort(key=lambda n: (n["depth"], -n["strength"], n["id"]))
    return {"center": center, "depth": depth, "limit": limit, "truncated": truncated, "nodes": nodes, "edges": edges}


def hubs(graph: nx.MultiGraph, min_degree: int) -> set[str]:
    """Nodes with more distinct neighbours than `min_degree`."""
    adj = graph._adj
    return {n for n, nbrs in adj.items() if len(nbrs) > min_degree}


def shortest_path(graph: nx.MultiGraph, source: str, target: str, *, max_length: int = 6,
                  exclude_hubs: int | None = None, exclude: Iterable[str] = ()) -> dict[str, Any] | None:
    """A shortest path from `source` to `target` of at most `max_length` hops, or None.

    `exclude_hubs`: nodes with more than this many neighbours are not passed through (the endpoints always
    may be); `exclude`: ids never passed through. Each hop lists every edge between its two nodes.
    """
    source, target = resolve_node(graph, source), resolve_node(graph, target)
    banned = set(exclude) - {source, target}
    if exclude_hubs is not None:
        banned |= hubs(graph, exclude_hubs) - {source, target}
    view = nx.subgraph_view(graph, filter_node=lambda n: n not in banned) if banned else graph
    try:
        nodes = nx.bidirectional_shortest_path(view, source, target)
    except nx.NetworkXNoPath:
        return None
    if len(nodes) - 1 > max_length:
        return None
    hops = []
    for u, v in itertools.pairwise(nodes):
        hops.append({"from": _node(graph, u), "to": _node(graph, v),
                     "edges": [_edge(data, u, v) for data in graph[u][v].values()]})
    return {"source": source, "target": target, "length": len(nodes) - 1, "nodes": nodes, "hops": hops,
            "excluded": len(banned)}


def simple_graph(graph: nx.MultiGraph) -> nx.Graph:
    """Parallel edges merged (weights summed), for the measures networkx defines on simple graphs."""
    simple = nx.Graph()
    simple.add_nodes_from(graph.nodes)
    for u, v, w in graph.edges(data="weight", default=1.0):
        if simple.has_edge(u, v):
            simple[u][v]["weight"] += w
        else:
            simple.add_edge(u, v, weight=w)
    return simple


def top_degree(graph: nx.MultiGraph, n: int = 20, *, weighted: bool = False) -> list[tuple[str, float]]:
    """The `n` nodes of highest degree (distinct neighbours) or weighted degree."""
    if weighted:
        values: dict[str, float] = graph.graph["strength"]
    else:
        values = {node: float(len(nbrs)) for node, nbrs in graph._adj.items()}
    return heapq.nlargest(n, values.items(), key=lambda item: (item[1], item[0]))


def betweenness(graph: nx.MultiGraph, *, k: int | None = 500, seed: int = 0) -> dict[str, float]:
    """Betweenness centrality, approximated with `k` sampled sources when the graph is bigger (None: exact)."""
    simple = simple_graph(graph)
    sample = None if k is None or k >= simple.number_of_nodes() else k
    return nx.betweenness_centrality(simple, k=sample, seed=seed)


def communities(graph: nx.MultiGraph, *, seed: int = 0, resolution: float = 1.0) -> list[set[str]]:
    """Louvain communities (weighted, seeded: the same graph gives the same partition), largest first."""
    found = nx.community.louvain_communities(simple_graph(graph), weight="weight", resolution=resolution, seed=seed)
    return sorted(found, key=lambda c: (-len(c), min(c)))


# ------------------------------------------------------------------------------------------- evidence


def edge_evidence(engine: Engine, edge_ids: Iterable[int]) -> dict[int, list[str]]:
    """Stored evidence references per edge id (the loaded graph carries attributes, not evidence)."""
    return {edge_id: evidence for edge_id, (_attrs, evidence) in edge_details(engine, edge_ids).items()}


def edge_details(engine: Engine, edge_ids: Iterable[int]) -> dict[int, tuple[dict[str, Any], list[str]]]:
    """Stored attributes (without the digest) and evidence references per edge id."""
    ids = sorted(set(edge_ids))
    out: dict[int, tuple[dict[str, Any], list[str]]] = {}
    with engine.connect() as conn:
        for chunk in _chunks(ids, 500):
            for edge_id, attrs, evidence in conn.execute(
                select(edges_t.c.id, edges_t.c.attrs, edges_t.c.evidence).where(edges_t.c.id.in_(chunk))
            ):
                data = dict(attrs)
                data.pop("digest", None)
                out[edge_id] = (data, list(evidence))
    return out


def evidence_urls(engine: Engine, refs: Iterable[str]) -> dict[str, str | None]:
    """The source URL of each evidence reference (`engagement:…`, `memorandum:…`, `ppp:…`, `role:…`, `raw:…`,
    `organization:…`): the public page when known, else the URL the record was fetched from."""
    by_prefix: dict[str, list[str]] = {}
    for ref in refs:
        prefix, _, ident = ref.partition(":")
        by_prefix.setdefault(prefix, []).append(ident)
    out: dict[str, str | None] = {}
    raw_url = func.coalesce(raws_t.c.human_url, raws_t.c.url)
    queries: dict[str, Any] = {
        "engagement": (eng_t.c.id, select(eng_t.c.id, eng_t.c.source_url)),
        "memorandum": (memos_t.c.id, select(memos_t.c.id, memos_t.c.source_url)),
        "ppp": (ppp_t.c.id, select(ppp_t.c.id, ppp_t.c.source_url)),
        "role": (roles_t.c.id, select(cast(roles_t.c.id, String), raw_url).join(
            raws_t, raws_t.c.id == roles_t.c.raw_record_id)),
        "raw": (raws_t.c.id, select(cast(raws_t.c.id, String), raw_url)),
        "organization": (orgs_t.c.id, select(orgs_t.c.id, raw_url).join(
            raws_t, raws_t.c.id == orgs_t.c.raw_record_id)),
    }
    with engine.connect() as conn:
        for prefix, idents in by_prefix.items():
            if prefix not in queries:
                continue
            column, query = queries[prefix]
            values: list[Any] = [int(i) for i in idents if i.isdigit()] if prefix in ("role", "raw") else idents
            for chunk in _chunks(values, 500):
                for ident, url in conn.execute(query.where(column.in_(chunk))):
                    out[f"{prefix}:{ident}"] = url
    return out


# ------------------------------------------------------------------------------------------- export


def _flat(value: Any) -> Any:
    """A GEXF/GraphML-safe scalar: lists joined with ' | ', dates as ISO text, None dropped by the caller."""
    if isinstance(value, (list, tuple, set)):
        return " | ".join(str(v) for v in value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


EXPORT_URLS_PER_EDGE = 5  # source URLs written on each exported edge (all evidence references are written too)


def export_graph(engine: Engine, path: Path, fmt: str = "gexf") -> tuple[int, int]:
    """Write the whole graph with its evidence to GEXF or GraphML; returns (nodes, edges).

    Streams `graph_edges` (not the cached graph: the export carries every edge's evidence references).
    Attribute values are flattened to scalars; an attribute key keeps one type across all elements.
    """
    if fmt not in ("gexf", "graphml"):
        raise GraphQueryError(f"unknown graph format {fmt!r}: gexf or graphml")
    graph = nx.MultiGraph()
    first_refs: dict[str, list[str]] = {}  # edge key → the evidence whose source URLs the edge carries
    with engine.connect() as conn:
        query = select(edges_t.c.id, edges_t.c.source_id, edges_t.c.target_id, edges_t.c.kind, edges_t.c.weight,
                       edges_t.c.attrs, edges_t.c.evidence, edges_t.c.is_fictional)
        for edge_id, source, target, kind, weight, attrs, evidence, fictional in conn.execution_options(
            stream_results=True, yield_per=20000
        ).execute(query):
            data = dict(attrs if isinstance(attrs, dict) else json.loads(attrs))
            data.pop("digest", None)
            flat = {f"a_{k}": _flat(v) for k, v in data.items() if v is not None and k not in ("count",)}
            flat["count"] = int(data.get("count", 1) or 1)
            refs = evidence if isinstance(evidence, list) else json.loads(evidence)
            flat["evidence"] = _flat(refs)
            first_refs[f"e{edge_id}"] = refs[:EXPORT_URLS_PER_EDGE]
            graph.add_edge(source, target, key=f"e{edge_id}", id=f"e{edge_id}", kind=kind, weight=float(weight),
                           is_fictional=bool(fictional), **flat)
        _ = _read_node_attrs(conn, graph)
    # Provenance in the file itself: each edge names the source pages of its first pieces of evidence.
    urls = evidence_urls(engine, {ref for refs in first_refs.values() for ref in refs})
    for _u, _v, key, data in graph.edges(keys=True, data=True):
        found = (urls.get(ref) for ref in first_refs.get(key, []))
        data["source_urls"] = " | ".join(dict.fromkeys(url for url in found if url))
    for _u, _v, data in graph.edges(data=True):
        for key in [k for k in data if k.startswith("a_")]:
            data[key] = str(data[key])  # one type per key whatever the edge kind
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "gexf":
        nx.write_gexf(graph, path)
    else:
        for _u, _v, data in graph.edges(data=True):
            data.pop("id", None)  # GraphML edge ids come from the keys
        nx.write_graphml(graph, path)
    return graph.number_of_nodes(), graph.number_of_edges()


def _read_node_attrs(conn: Connection, graph: nx.MultiGraph) -> int:
    nodes = graph._node
    for node_id, name, name_kk, kind, bin_, region, fictional in conn.execute(
        select(orgs_t.c.id, orgs_t.c.name_ru, orgs_t.c.name_kk, orgs_t.c.kind, orgs_t.c.bin, orgs_t.c.region_kato,
               orgs_t.c.is_fictional)
    ):
        if node_id in nodes:
            nodes[node_id].update({"label": name or name_kk or node_id, "type": "organization", "kind": kind or "",
                                   "bin": bin_ or "", "region": region or "", "is_fictional": bool(fictional)})
    for node_id, name, fictional in conn.execute(select(persons_t.c.id, persons_t.c.display_name,
                                                        persons_t.c.is_fictional)):
        if node_id in nodes:
            nodes[node_id].update({"label": name or node_id, "type": "person", "kind": "person", "bin": "",
                                   "region": "", "is_fictional": bool(fictional)})
    for node_id, data in nodes.items():
        if "label" not in data:  # an edge to an id with no row (should not happen: foreign keys)
            data.update({"label": node_id, "type": "", "kind": "", "bin": "", "region": "", "is_fictional": False})
    return len(nodes)


# ------------------------------------------------------------------------------------------- CLI helpers


def safe_text(value: Any) -> str:
    """Untrusted text for a terminal: control characters (escape sequences, newlines) dropped."""
    return "".join(ch for ch in str(value) if ch.isprintable())


def with_evidence(engine: Engine, edges: list[dict[str, Any]], per_edge: int = 5) -> list[dict[str, Any]]:
    """Edges (query results) with their stored attributes, their first `per_edge` evidence references and those
    references' URLs."""
    stored = edge_details(engine, [e["edge_id"] for e in edges])
    shown = {e["edge_id"]: stored.get(e["edge_id"], ({}, []))[1][:per_edge] for e in edges}
    urls = evidence_urls(engine, [ref for refs in shown.values() for ref in refs])
    out = []
    for e in edges:
        attrs = stored.get(e["edge_id"], ({}, []))[0]
        refs = shown[e["edge_id"]]
        out.append(attrs | e | {"evidence": [{"ref": ref, "url": urls.get(ref)} for ref in refs],
                                "evidence_more": max(0, int(attrs.get("evidence_count", len(refs))) - len(refs))})
    return out


def describe_edge(edge: dict[str, Any]) -> str:
    """One line about an edge: its kind and the figures that matter for that kind."""
    kind = edge["kind"]
    if kind == "engagement":
        years = ",".join(str(y) for y in edge.get("years", []))
        return (f"engagement: {edge.get('count')} contract(s), {edge.get('total_kzt')} KZT, {years}; "
                f"{', '.join(edge.get('legal_bases', []))}")
    if kind == "role":
        return f"role: {', '.join(edge.get('roles', []))} ({edge.get('start') or '?'} – {edge.get('end') or 'now'})"
    if kind == "memorandum":
        return f"memorandum: {', '.join(edge.get('memoranda', [])) or edge.get('count')}"
    if kind == "ppp":
        return f"ppp: {', '.join(edge.get('agreements', [])) or edge.get('count')}"
    return kind


def format_edges(edges: list[dict[str, Any]], indent: str = "      ") -> list[str]:
    lines = []
    for edge in edges:
        lines.append(f"{indent}{safe_text(describe_edge(edge))}")
        lines.extend(f"{indent}  · {safe_text(item['ref'])}  {safe_text(item['url'] or '')}"
                     for item in edge.get("evidence", []))
        if edge.get("evidence_more"):
            lines.append(f"{indent}  · … {edge['evidence_more']} more")
    return lines


def _label(node: dict[str, Any]) -> str:
    return f"{safe_text(node['name'])} [{node['id']}]" + (" (fictional)" if node.get("is_fictional") else "")


def format_path(result: dict[str, Any]) -> str:
    lines = [f"path {result['source']} → {result['target']}: {result['length']} hop(s)"]
    for number, hop in enumerate(result["hops"], start=1):
        lines.append(f"  {number}. {_label(hop['from'])}")
        lines.append(f"     ↔ {_label(hop['to'])}")
        lines.extend(format_edges(hop["edges"]))
    return "\n".join(lines)


def format_ego(result: dict[str, Any]) -> str:
    lines = [f"ego network of {result['center']}: {len(result['nodes'])} node(s), {len(result['edges'])} edge(s), "
             f"depth {result['depth']}" + (f", capped at {result['limit']} by importance" if result["truncated"] else "")]
    lines.extend(f"  [{node['depth']}] {_label(node)} · {node.get('type')} · strength {node['strength']:g}"
                 for node in result["nodes"])
    lines.append("edges:")
    for edge in result["edges"]:
        lines.append(f"  {edge['source']} → {edge['target']}")
        lines.extend(format_edges([edge], indent="      "))
    return "\n".join(lines)
