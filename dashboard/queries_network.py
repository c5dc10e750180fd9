"""Network explorer queries: ego networks and paths from `pipeline.graph`, with labels, evidence and exports.

The graph stage materializes `graph_edges`; `pipeline.graph.load_graph` reads it into one networkx graph per
process and database state (the education slice fits in memory, DESIGN §11), and its `ego` and `shortest_path`
answer the explorer's questions. This module adds what a page needs around them: labels in the UI language,
each edge's evidence references with the first `EVIDENCE_LINKS` resolved to source URLs and to the time the
records behind them were fetched, and the drawn network as GEXF and PNG.

"Importance" is the graph stage's: a node's weighted degree (the sum of its edges' weights, i.e. the number of
engagements, memoranda, roles… that evidence them). A hub is a node with more than `HUB_DEGREE` distinct
neighbours; a path may be asked to avoid hubs as intermediate steps.

Strings come back raw (names from sources are untrusted); the page and the renderers keep them inert.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd
from sqlalchemy import Engine, select

from entities.models import Engagement, Memorandum, Organization, Person, PPPAgreement, RawRecord, Role
from pipeline import graph as graph_mod

O = Organization.__table__.c  # noqa: E741 - short alias used only in query expressions
P = Person.__table__.c
E = Engagement.__table__.c
R = RawRecord.__table__.c
M = Memorandum.__table__.c
PPP = PPPAgreement.__table__.c
RO = Role.__table__.c

DEPTHS = (1, 2, 3)
CAPS = (50, 150, 300)  # nodes drawn; beyond ~300 a force layout is a hairball (notes §1.8)
DEFAULT_CAP = 150
HUB_DEGREE = 50  # default: more distinct neighbours than this makes a hub, which a path may be told to avoid
MAX_PATH_LENGTH = 6
EVIDENCE_LINKS = 3  # refs resolved to links per edge; the full list stays in the table and the exports
_CHUNK = 500  # ids per IN (...) list: portable across SQLite's and PostgreSQL's parameter limits


@dataclass
class Network:
    """What the explorer draws: nodes (`NODE_COLUMNS`) and edges (`EDGE_COLUMNS`) as DataFrames."""

    centre: str
    nodes: pd.DataFrame
    edges: pd.DataFrame
    hidden: int = 0  # neighbours of inner nodes left out by the cap
    # Node positions (`layout`), computed once with the network so a cached network is not laid out again on
    # every page run (0.1–0.2 s for 150 nodes at 1M under load) and the PNG matches the chart; None: not yet.
    pos: dict[str, tuple[float, float]] | None = None
    reached: int = 0  # the deepest hop drawn: below the depth asked when the cap was filled nearer the centre


NODE_COLUMNS = ("id", "label", "kind", "org_kind", "bin", "region_kato", "hop", "is_fictional")
EDGE_COLUMNS = (
    "edge_id",
    "source_id",
    "target_id",
    "kind",
    "weight",
    "count",
    "total_kzt",
    "years",
    "legal_bases",
    "roles",
    "evidence",
    "evidence_count",
    "source_urls",
    "retrieved_at",
)


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def graph_of(engine: Engine) -> nx.MultiGraph:
    """The whole graph, loaded once per process and database state by `pipeline.graph` (read-only).

    Frozen out of the garbage collector's scans (`load_graph(freeze=True)`): the dashboard is a long-lived
    process, and a full collection over the 1M graph stalls whichever request triggers it for seconds.
    """
    return graph_mod.load_graph(engine, freeze=True)


def graph_is_current(engine: Engine) -> bool:
    """Whether the process holds the graph as it is now stored (two index lookups; nothing is loaded)."""
    return graph_mod.is_current(engine)


def resolve_entity_ref(engine: Engine, ref: str) -> str | None:
    """A graph node from what a reader typed: an entity id or a 12-digit BIN; None when it is not in the graph."""
    ref = ref.strip()
    if not ref:
        return None
    try:
        return graph_mod.resolve_node(graph_of(engine), ref)
    except graph_mod.GraphQueryError:
        return None


def node_frame(engine: Engine, ids: Iterable[str], lang: str) -> pd.DataFrame:
    """Labels and kinds of `ids` in the UI language (an id with no entity row keeps the id as its label)."""
    ids = list(dict.fromkeys(ids))
    found: dict[str, dict[str, Any]] = {}
    preferred = {"kk": "name_kk", "en": "name_en"}.get(lang)
    with engine.connect() as conn:
        for chunk in _chunks(ids):
            query = select(
                O.id, O.name_ru, O.name_kk, O.name_en, O.kind, O.bin, O.region_kato, O.is_fictional
            )
            for row in conn.execute(query.where(O.id.in_(chunk))):
                own = getattr(row, preferred) if preferred is not None else None
                found[row.id] = {
                    "label": own or row.name_ru or row.name_kk or row.name_en or row.id,
                    "kind": "organization",
                    "org_kind": row.kind,
                    "bin": row.bin,
                    "region_kato": row.region_kato,
                    "is_fictional": bool(row.is_fictional),
                }
            query = select(P.id, P.display_name, P.is_fictional).where(P.id.in_(chunk))
            for person in conn.execute(query):
                found[person.id] = {
                    "label": person.display_name or person.id,
                    "kind": "person",
                    "org_kind": None,
                    "bin": None,
                    "region_kato": None,
                    "is_fictional": bool(person.is_fictional),
                }
    unknown = {"kind": "unknown", "org_kind": None, "bin": None, "region_kato": None, "is_fictional": False}
    records = [{"id": i, **(found.get(i) or {"label": i, **unknown})} for i in ids]
    return pd.DataFrame(records, columns=[c for c in NODE_COLUMNS if c != "hop"])


# ----------------------------------------------------------------------------------------------- evidence
def retrieved_times(engine: Engine, refs: list[str]) -> dict[str, Any]:
    """Fetch time of the raw records behind each evidence ref (engagement, memorandum, ppp, role, raw)."""
    by_prefix: dict[str, list[str]] = {}
    for ref in refs:
        prefix, _, ident = ref.partition(":")
        by_prefix.setdefault(prefix, []).append(ident)
    raw_of: dict[str, list[int]] = {}
    with engine.connect() as conn:
        for ident_chunk in _chunks(by_prefix.get("engagement", [])):
            for eid, raw_ids in conn.execute(select(E.id, E.evidence_raw_ids).where(E.id.in_(ident_chunk))):
                raw_of[f"engagement:{eid}"] = [int(i) for i in raw_ids or [] if str(i).isdigit()]
        for prefix, column, raw_col in (
            ("memorandum", M.id, M.raw_record_id),
            ("ppp", PPP.id, PPP.raw_record_id),
            ("organization", O.id, O.raw_record_id),
        ):
            for ident_chunk in _chunks(by_prefix.get(prefix, [])):
                for ident, raw_id in conn.execute(select(column, raw_col).where(column.in_(ident_chunk))):
                    if raw_id is not None:
                        raw_of[f"{prefix}:{ident}"] = [int(raw_id)]
        role_ids = [int(i) for i in by_prefix.get("role", []) if i.isdigit()]
        for ident_chunk in _chunks(role_ids):
            for ident, raw_id in conn.execute(select(RO.id, RO.raw_record_id).where(RO.id.in_(ident_chunk))):
                raw_of[f"role:{ident}"] = [int(raw_id)]
        for ident in by_prefix.get("raw", []):
            if ident.isdigit():
                raw_of[f"raw:{ident}"] = [int(ident)]
        wanted = sorted({i for ids in raw_of.values() for i in ids})
        fetched: dict[int, Any] = {}
        for ident_chunk in _chunks(wanted):
            query = select(R.id, R.fetched_at).where(R.id.in_(ident_chunk))
            fetched.update((row[0], row[1]) for row in conn.execute(query))
    out: dict[str, Any] = {}
    for ref, ids in raw_of.items():
        times = [fetched[i] for i in ids if i in fetched]
        if times:
            out[ref] = max(times)
    return out


def _edge_frame(engine: Engine, edges: list[dict[str, Any]]) -> pd.DataFrame:
    """Edges of `pipeline.graph` queries with their evidence, first source links and latest retrieval time."""
    evidence = graph_mod.edge_evidence(engine, [e["edge_id"] for e in edges if e.get("edge_id") is not None])
    shown = {e["edge_id"]: evidence.get(e["edge_id"], [])[:EVIDENCE_LINKS] for e in edges}
    refs = sorted({r for rs in shown.values() for r in rs})
    urls = graph_mod.evidence_urls(engine, refs)
    fetched = retrieved_times(engine, refs)
    records = []
    for e in edges:
        refs_all = evidence.get(e["edge_id"], [])
        links = [u for r in shown[e["edge_id"]] if (u := urls.get(r))]
        times = [fetched[r] for r in shown[e["edge_id"]] if r in fetched]
        records.append(
            {
                "edge_id": e["edge_id"],
                "source_id": e.get("source"),
                "target_id": e.get("target"),
                "kind": e.get("kind"),
                "weight": float(e.get("weight") or 0),
                "count": e.get("count"),
                "total_kzt": e.get("total_kzt") or e.get("ppp_total_kzt"),
                "years": ", ".join(str(y) for y in e.get("years") or []),
                "legal_bases": ", ".join(str(b) for b in e.get("legal_bases") or []),
                "roles": ", ".join(str(b) for b in e.get("roles") or []),
                "evidence": " ".join(refs_all),
                "evidence_count": int(e.get("evidence_count") or len(refs_all)),
                "source_urls": list(dict.fromkeys(links)),
                "retrieved_at": max(times) if times else None,
            }
        )
    return pd.DataFrame(records, columns=list(EDGE_COLUMNS))


# ---------------------------------------------------------------------------------------------- ego network
def ego(engine: Engine, centre: str, depth: int = 1, cap: int = DEFAULT_CAP, lang: str = "ru") -> Network:
    """The centre and its most important neighbours to `depth` hops, at most `cap` nodes (`pipeline.graph.ego`)."""
    graph = graph_of(engine)
    found = graph_mod.ego(graph, centre, depth=depth, limit=cap)
    hop = {n["id"]: n["depth"] for n in found["nodes"]}
    # What the cap left out: neighbours of the inner nodes that are not drawn (the outer layer's are not counted,
    # they lie beyond the depth asked for).
    adj = graph.adj
    left_out = {m for n, d in hop.items() if d < depth for m in adj[n] if m not in hop}
    nodes = node_frame(engine, hop, lang)
    nodes["hop"] = [hop[i] for i in nodes["id"]]
    net = Network(
        centre=found["center"], nodes=nodes, edges=_edge_frame(engine, found["edges"]), hidden=len(left_out),
        reached=max(hop.values()),
    )  # fmt: skip
    net.pos = layout(net)
    return net


@dataclass
class PathResult:
    """One shortest path as a small network (nodes in order, `hop` = position), or `network` None: no path."""

    network: Network | None
    excluded_hubs: int


def shortest_path(engine: Engine, start: str, goal: str, *, hub_degree: int | None, lang: str) -> PathResult:
    """A shortest path of at most `MAX_PATH_LENGTH` hops; with `hub_degree`, not through nodes with more neighbours."""
    graph = graph_of(engine)
    found = graph_mod.shortest_path(graph, start, goal, max_length=MAX_PATH_LENGTH, exclude_hubs=hub_degree)
    if found is None:
        excluded = len(graph_mod.hubs(graph, hub_degree) - {start, goal}) if hub_degree is not None else 0
        return PathResult(None, excluded)
    nodes = node_frame(engine, found["nodes"], lang)
    nodes["hop"] = list(range(len(found["nodes"])))
    edges = [e for h in found["hops"] for e in h["edges"]]
    net = Network(centre=found["source"], nodes=nodes, edges=_edge_frame(engine, edges))
    return PathResult(net, int(found["excluded"]))


# ---------------------------------------------------------------------------------------------- exports
def _number(value: Any) -> float:
    """An attrs amount (the graph stage stores money as text with two decimals) as a float; none → 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(number) else number


def to_networkx(net: Network) -> nx.MultiDiGraph:
    graph: nx.MultiDiGraph = nx.MultiDiGraph()
    for n in net.nodes.itertuples(index=False):
        graph.add_node(
            n.id,
            label=str(n.label),
            kind=str(n.kind),
            org_kind=str(n.org_kind or ""),
            bin=str(n.bin or ""),
            region_kato=str(n.region_kato or ""),
            hop=int(n.hop),
        )
    for e in net.edges.itertuples(index=False):
        graph.add_edge(
            e.source_id,
            e.target_id,
            key=e.kind,
            kind=str(e.kind),
            weight=float(e.weight),
            total_kzt=_number(e.total_kzt),
            evidence=str(e.evidence),
            source_urls=" ".join(e.source_urls),
        )
    return graph


def to_gexf(net: Network) -> bytes:
    """The drawn network as GEXF 1.2 (Gephi); labels are XML-escaped by networkx's writer."""
    buffer = io.BytesIO()
    nx.write_gexf(to_networkx(net), buffer)
    return buffer.getvalue()


NODE_COLOURS = {"organization": "#1f77b4", "person": "#d62728", "unknown": "#7f7f7f"}
PUBLIC_KINDS = ("public_body", "school")
CATEGORY_COLOURS = {"public": "#2ca02c", **NODE_COLOURS}


def node_colour(kind: str, org_kind: str | None) -> str:
    if kind == "organization" and org_kind in PUBLIC_KINDS:
        return "#2ca02c"
    return NODE_COLOURS.get(kind, NODE_COLOURS["unknown"])


# Force-layout iterations from `_start` positions. From random ones networkx's default 50 were needed, 0.2–0.3 s
# for 300 nodes under load at 1M (the largest share of a cold page run); from nodes already grouped round their
# parents 20 give the same clusters (compared on 1M ego networks of 150 and 300 nodes) in a third of the time.
LAYOUT_ITERATIONS = 20
_GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))


def _start(net: Network) -> dict[str, tuple[float, float]]:
    """Start positions: the centre in the middle, first-hop nodes round a circle, every farther node next to its
    parent (its most important neighbour one hop nearer), pushed outwards.

    Consecutive nodes are a golden angle apart, so the most important ones (listed first, and the ones labelled)
    spread round the picture instead of bunching on one side.
    """
    hop = {node: int(h) for node, h in zip(net.nodes["id"], net.nodes["hop"], strict=True)}
    rank = {node: i for i, node in enumerate(net.nodes["id"])}
    parent: dict[str, str] = {}
    for a, b in zip(net.edges["source_id"], net.edges["target_id"], strict=True):
        for child, up in ((a, b), (b, a)):
            nearer = child in hop and up in hop and hop[up] == hop[child] - 1
            if nearer and (child not in parent or rank[up] < rank[parent[child]]):
                parent[child] = up
    pos: dict[str, tuple[float, float]] = {}
    children: dict[str, int] = {}
    for i, node in enumerate(sorted(hop, key=lambda n: (hop[n], rank[n]))):  # parents are placed first
        up = parent.get(node)
        if hop[node] == 0:
            pos[node] = (0.0, 0.0)
        elif up is None or hop[node] == 1:
            pos[node] = (math.cos(i * _GOLDEN_ANGLE), math.sin(i * _GOLDEN_ANGLE))
        else:
            n = children[up] = children.get(up, 0) + 1
            x, y = pos[up]
            pos[node] = (
                1.3 * x + 0.35 * math.cos(n * _GOLDEN_ANGLE),
                1.3 * y + 0.35 * math.sin(n * _GOLDEN_ANGLE),
            )
    return pos


def layout(net: Network) -> dict[str, tuple[float, float]]:
    """Node positions, the same on every call for the same network (fixed start positions and seed)."""
    graph = nx.Graph()
    graph.add_nodes_from(net.nodes["id"])
    graph.add_edges_from(zip(net.edges["source_id"], net.edges["target_id"], strict=True))
    if len(graph) == 0:
        return {}
    pos = nx.spring_layout(
        graph, pos=_start(net), iterations=LAYOUT_ITERATIONS, seed=7, k=1.5 / max(1, len(graph)) ** 0.5
    )
    return {n: (float(x), float(y)) for n, (x, y) in pos.items()}


def to_png(net: Network, title: str, *, label_limit: int = 40) -> bytes:
    """The drawn network as a PNG, rendered by matplotlib (no browser needed).

    Labels are set with `parse_math=False`: a name with `$…$` is printed, not typeset; matplotlib draws text
    as glyphs, so HTML in a name is inert. Only the `label_limit` most important nodes are labelled: more
    labels make the picture unreadable (and cost seconds to lay out); the GEXF and CSV carry every name.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    pos = net.pos if net.pos is not None else layout(net)
    fig = Figure(figsize=(12, 9), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, parse_math=False)
    # One collection for all edges and one for all nodes: per-element artists cost seconds at 300 nodes.
    segments = [
        [pos[e.source_id], pos[e.target_id]]
        for e in net.edges.itertuples(index=False)
        if e.source_id in pos and e.target_id in pos
    ]
    ax.add_collection(LineCollection(segments, colors="#999999", linewidths=0.8, zorder=1))
    shown = [n for n in net.nodes.itertuples(index=False) if n.id in pos]
    centre = [n.id == net.centre for n in shown]
    ax.scatter(
        [pos[n.id][0] for n in shown], [pos[n.id][1] for n in shown],
        s=[220 if c else 80 for c in centre], c=[node_colour(n.kind, n.org_kind) for n in shown],
        edgecolors=["black" if c else "white" for c in centre], zorder=2,
    )  # fmt: skip
    # Nodes come most important first (the graph stage's order): label those, and always the centre.
    for rank, n in enumerate(shown):
        if rank < label_limit or n.id == net.centre:
            x, y = pos[n.id]
            ax.text(
                x, y, short_label(n.label), fontsize=8, ha="center", va="bottom", parse_math=False, zorder=3
            )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------- on screen
LABEL_CHARS = 40


def short_label(text: object) -> str:
    label = " ".join(str(text).split())
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def echarts_spec(net: Network, categories: dict[str, str], *, row: bool = False) -> dict[str, Any]:
    """An ECharts graph option for `st.echarts_chart`: fixed positions, one category per node kind.

    Names are untrusted: they only ever reach ECharts as data (`name`), which it draws on the canvas as text,
    and the tooltip is rendered as rich text on the canvas too (`renderMode: richText`), never as HTML. With
    `row`, nodes stand in a line in their `hop` order (a path); otherwise they take the seeded spring layout.
    `categories` maps each kind (`public`, `organization`, `person`, `unknown`) to its legend name.
    """
    kinds = list(categories)
    if row:
        pos = {n.id: (float(n.hop), 0.0) for n in net.nodes.itertuples(index=False)}
    else:
        pos = net.pos if net.pos is not None else layout(net)
    index = {node_id: i for i, node_id in enumerate(net.nodes["id"])}
    data = []
    for n in net.nodes.itertuples(index=False):
        kind = "public" if n.kind == "organization" and n.org_kind in PUBLIC_KINDS else n.kind
        x, y = pos.get(n.id, (0.0, 0.0))
        data.append(
            {
                "id": str(index[n.id]),
                "name": short_label(n.label),
                "x": round(x * (180 if row else 400), 2),
                "y": round(y * 300, 2),
                "symbolSize": 34 if n.id == net.centre else max(12, 26 - 6 * int(n.hop)),
                "category": kinds.index(kind) if kind in kinds else kinds.index("unknown"),
                "value": int(n.hop),
            }
        )
    links = [
        {"source": str(index[e.source_id]), "target": str(index[e.target_id]), "value": float(e.weight)}
        for e in net.edges.itertuples(index=False)
        if e.source_id in index and e.target_id in index
    ]
    return {
        "tooltip": {"renderMode": "richText", "confine": True},
        "legend": [{"data": list(categories.values())}],
        "animation": False,
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "selectedMode": "single",
                "categories": [
                    {
                        "name": name,
                        "itemStyle": {"color": CATEGORY_COLOURS.get(kind, NODE_COLOURS["unknown"])},
                    }
                    for kind, name in categories.items()
                ],
                "data": data,
                "links": links,
                "label": {"show": True, "position": "bottom" if row else "right"},
                "lineStyle": {"color": "source", "curveness": 0.1, "opacity": 0.7},
                "emphasis": {"focus": "adjacency"},
            }
        ],
    }
