"""Benchmark of the relationship graph (issue 5): graph stage, load, ego and path queries, on scale databases.

    .venv/bin/python bench/scale_db.py --contracts 1000000 --url sqlite:////work/bench-data/scale_1m.sqlite  # first
    .venv/bin/python bench/graph_bench.py --url sqlite:////work/bench-data/scale_1m.sqlite \
        --url 'postgresql+psycopg://root@127.0.0.1:5432/test?options=-csearch_path%3Dscale_1m'

Per database, in a fresh child process (so its peak RSS is that database's alone):
* **stage** — a full `run_graph_stage` from an empty `graph_edges` (the first build), then a second one with
  unchanged inputs (the incremental no-op), then one after adding a single engagement (one edge rewritten);
* **load** — `load_graph` without cache (the dashboard's first request);
* **ego** — `ego(depth=2, limit=50)` for ~100 nodes: the 10 highest-strength hubs plus random nodes; p50/p95;
* **path** — `shortest_path(max_length=6)` for 50 random node pairs, plain and with `exclude_hubs=500`.
Peak memory is the child's max RSS (includes the Python interpreter and SQLAlchemy, ~100 MB). Times are wall
clock and, for the stage and the load, this process's CPU time too (on PostgreSQL the server's work is not in
it): on a shared machine the CPU time is the steadier figure; the table shows the 1-minute load average.

The databases are synthesized (`bench/scale_db.py`), not crawled; the benchmark writes `graph_edges` and the
`graph` build state of the database it is given, and removes the one engagement it adds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(url: str, samples: int, seed: int) -> dict[str, Any]:
    from sqlalchemy import delete, func, select

    from entities.db import make_engine
    from entities.models import BuildState, Engagement, GraphEdge
    from pipeline import graph as g

    engine = make_engine(url)
    out: dict[str, Any] = {"backend": engine.dialect.name, "url": engine.url.render_as_string(hide_password=True)}
    with engine.begin() as conn:
        conn.execute(delete(GraphEdge))
        conn.execute(delete(BuildState).where(BuildState.stage == g.STAGE))
        out["engagements"] = conn.execute(select(func.count()).select_from(Engagement)).scalar_one()

    t, cpu = time.perf_counter(), time.process_time()
    report = g.run_graph_stage(engine)
    out["stage_s"], out["stage_cpu_s"] = time.perf_counter() - t, time.process_time() - cpu
    out["edges"] = report.edges
    t = time.perf_counter()
    again = g.run_graph_stage(engine)
    out["noop_s"] = time.perf_counter() - t
    assert not again.recomputed

    t, cpu = time.perf_counter(), time.process_time()
    graph = g.load_graph(engine, use_cache=False)
    out["load_s"], out["load_cpu_s"] = time.perf_counter() - t, time.process_time() - cpu
    out["nodes"] = graph.number_of_nodes()
    out["graph_edges"] = graph.number_of_edges()
    out["build_s"] = out["stage_s"] + out["load_s"]

    out["load_avg"] = os.getloadavg()[0]
    rand = random.Random(seed)
    nodes = sorted(graph.nodes)
    hubs = [n for n, _ in g.top_degree(graph, 10, weighted=True)]
    centers = hubs + rand.sample(nodes, min(len(nodes), samples - len(hubs)))
    times = []
    for center in centers:
        t = time.perf_counter()
        g.ego(graph, center, depth=2, limit=50)
        times.append((time.perf_counter() - t) * 1000)
    out["ego_p50_ms"], out["ego_p95_ms"], out["ego_max_ms"] = _pct(times, 0.5), _pct(times, 0.95), max(times)

    pairs = [(rand.choice(nodes), rand.choice(nodes)) for _ in range(50)]
    for label, hubs_limit in (("path", None), ("path_nohubs", 500)):
        times, found = [], 0
        for a, b in pairs:
            t = time.perf_counter()
            found += g.shortest_path(graph, a, b, max_length=6, exclude_hubs=hubs_limit) is not None
            times.append((time.perf_counter() - t) * 1000)
        out[f"{label}_p50_ms"], out[f"{label}_p95_ms"], out[f"{label}_found"] = (
            _pct(times, 0.5), _pct(times, 0.95), found)

    # Incremental: one new engagement between two existing organizations rewrites one edge.
    buyer, provider = hubs[0], next(n for n in hubs[1:] if graph.nodes[n].get("type") == "organization")
    with engine.begin() as conn:
        conn.execute(Engagement.__table__.insert().values(
            id="bench-graph-incremental", instrument="procurement_contract", legal_basis="open_tender",
            competitive=True, buyer_id=buyer, provider_id=provider, amount_kzt=1, signed_on=date(2025, 1, 1),
            is_fictional=True, evidence_raw_ids=[]))
    t, cpu = time.perf_counter(), time.process_time()
    inc = g.run_graph_stage(engine)
    out["incremental_s"], out["incremental_cpu_s"] = time.perf_counter() - t, time.process_time() - cpu
    out["incremental_written"] = inc.inserted + inc.updated + inc.deleted
    with engine.begin() as conn:
        conn.execute(delete(Engagement).where(Engagement.id == "bench-graph-incremental"))
    g.run_graph_stage(engine)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", action="append", required=True, help="a scale database (repeatable)")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.url[0], args.samples, args.seed)))
        return 0
    rows = []
    for url in args.url:
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--url", url, "--samples", str(args.samples), "--seed",
             str(args.seed)], capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    print("| backend | engagements | nodes | edges | stage (first) s wall/cpu | load s wall/cpu | build s | no-op s "
          "| +1 engagement s wall/cpu | peak RSS MB | ego d2 p50/p95 ms | path p50/p95 ms "
          "| path, hubs>500 excluded p50/p95 ms | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['backend']} | {r['engagements']:,} | {r['nodes']:,} | {r['graph_edges']:,} "
              f"| {r['stage_s']:.1f} / {r['stage_cpu_s']:.1f} | {r['load_s']:.1f} / {r['load_cpu_s']:.1f} "
              f"| {r['build_s']:.1f} | {r['noop_s']:.2f} | {r['incremental_s']:.1f} / {r['incremental_cpu_s']:.1f} "
              f"({r['incremental_written']} edge) | {r['peak_rss_mb']:.0f} "
              f"| {r['ego_p50_ms']:.1f} / {r['ego_p95_ms']:.1f} | {r['path_p50_ms']:.1f} / {r['path_p95_ms']:.1f} "
              f"| {r['path_nohubs_p50_ms']:.1f} / {r['path_nohubs_p95_ms']:.1f} | {r['load_avg']:.1f} |")
    print(f"\nego: {args.samples} centres incl. the 10 strongest hubs, depth 2, limit 50; path: 50 random pairs, "
          f"max length 6 (found {', '.join(str(r['path_found']) for r in rows)}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
