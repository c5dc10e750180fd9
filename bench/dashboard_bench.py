"""Benchmark: the dashboard's server time per page on a scale database (issue 6, item 5: p95 under 1 s).

    .venv/bin/python bench/dashboard_bench.py --url sqlite:////work/bench-data/scale_1m.sqlite \
        --url 'postgresql+psycopg://root@127.0.0.1:5432/test?options=-csearch_path%3Dscale_1m' [--runs 20]
        [--prepare] [--pages overview,register] [--json bench/results/dashboard-1m.json]

What "server time" means here: the wall time of one Streamlit script run of the page as a browser request
makes it — the frame (`dashboard/app.py`: language, navigation, banner, footer) plus the page script, with
every query, DataFrame and chart built and serialized to protobuf — run through Streamlit's `AppTest`
in this process. It excludes the network, the browser's rendering and Streamlit's websocket, which depend on
the reader's machine, not on ours. It includes AppTest's own bookkeeping, so it slightly over-states. Each
AppTest's first run (page registration and a scan of installed packages for components, ~1 s, which a server
does once at start) is run but not timed.

Each page (with representative parameters picked from the data: the largest buyer's and provider's cards, the
most populous region, a search term from a big provider's name, the register with and without filters, the
network around a hub) is timed twice over:
* **cold**: `st.cache_data` cleared before each run (the engine and its connection pool stay, as in a
  running server): what the first reader after a rebuild or the cache TTL waits for;
* **warm**: the same request again with the cache filled: what every later reader waits for.
We report p50 and p95 (nearest rank) of `--runs` runs each, and, for the cold runs, the slowest SQL
statements the page issued (timed with SQLAlchemy cursor events), so a slow page points at its query.
`--queries` also times this repository's overview/register query functions directly.

`--prepare` brings the database to the head migration and refreshes the aggregates (`pipeline.aggregates`),
timing that stage: a scale database written straight into tables (`bench/scale_db.py`) has no build to run it.
On PostgreSQL it then runs `VACUUM (ANALYZE)` on the tables the pages read, as autovacuum would after a load.
Not a test: figures depend on the machine (ours: 2 cores shared with other work).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from sqlalchemy import Engine, event, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard import queries  # noqa: E402
from dashboard.queries import RegisterFilter  # noqa: E402
from entities.db import make_engine  # noqa: E402
from entities.migrate import upgrade  # noqa: E402
from entities.models import Engagement  # noqa: E402
from pipeline import aggregates  # noqa: E402

APP = ROOT / "dashboard" / "app.py"
TIMEOUT = 120.0


# ------------------------------------------------------------------------------------------ SQL timing
@dataclass
class SqlLog:
    """Statements executed while `active`, with their durations (class-level listener: every engine)."""

    active: bool = False
    entries: list[tuple[float, str]] = field(default_factory=list)


SQL = SqlLog()


@event.listens_for(Engine, "before_cursor_execute")
def _before(conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any, _many: bool) -> None:
    conn.info.setdefault("bench_started", []).append(time.perf_counter())


@event.listens_for(Engine, "after_cursor_execute")
def _after(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
    started = conn.info["bench_started"].pop()
    if SQL.active:
        SQL.entries.append((time.perf_counter() - started, " ".join(statement.split())))


# -------------------------------------------------------------------------------------------- the pages
@dataclass(frozen=True)
class Case:
    name: str  # as shown in the table
    page: str | None  # views/<page>.py; None = the default page (overview)
    params: dict[str, str | list[str]]


@dataclass
class Result:
    backend: str
    case: str
    cold: list[float]
    warm: list[float]
    slowest_sql: list[tuple[float, str]]
    error: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "case": self.case,
            "cold_p50": pct(self.cold, 50),
            "cold_p95": pct(self.cold, 95),
            "warm_p50": pct(self.warm, 50),
            "warm_p95": pct(self.warm, 95),
        }


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation: with 20 runs, p95 is the 19th fastest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def pick_cases(url: str) -> list[Case]:
    """Representative parameters from the data itself, so the bench works on any scale database."""
    engine = make_engine(url)
    E = Engagement.__table__.c  # noqa: N806
    with engine.connect() as conn:

        def biggest(role: str) -> tuple[str | None, str | None]:
            # From engagements, not the aggregates: the same pick before and after `--prepare`.
            own_id, own_name = (
                (E.buyer_id, E.buyer_name) if role == "buyer" else (E.provider_id, E.provider_name)
            )
            row = conn.execute(
                select(own_id, func.max(own_name))
                .where(own_id.is_not(None))
                .group_by(own_id)
                .order_by(func.sum(E.amount_kzt).desc())
                .limit(1)
            ).first()
            return (row[0], row[1]) if row is not None else (None, None)

        buyer_id, _ = biggest("buyer")
        provider_id, provider_name = biggest("provider")
        region = conn.execute(
            select(E.region_kato).where(E.region_kato.is_not(None)).group_by(E.region_kato)
            .order_by(func.count().desc()).limit(1)
        ).scalar() or "75"  # fmt: skip
        year = conn.execute(select(func.max(E.signed_on))).scalar()
        code = None
        try:
            code = conn.execute(
                text("SELECT code FROM flags GROUP BY code ORDER BY count(*) DESC LIMIT 1")
            ).scalar()
        except SQLAlchemyError:  # no flags table yet: the flags page is timed unfiltered
            code = None
    engine.dispose()
    # A distinctive word of the biggest provider's name (inside the quotes), as a reader would type it.
    words = [w.strip("«»\"'") for w in (provider_name or "Білім").split()]
    term = max((w for w in words if w and not w.isupper()), key=len, default="Білім")
    cases = [
        Case("overview", None, {}),
        Case("register", "register", {}),
        Case(f"register region={region}", "register", {"region": region}),
        Case(
            "register basis+year, by amount",
            "register",
            {"basis": "single_source", "year": str(year.year if year else 2024), "sort": "amount_desc"},
        ),
        Case("register sorted by buyer", "register", {"sort": "buyer"}),
        Case(f"register provider «{term}»", "register", {"provider": term}),
        Case("memoranda", "memoranda", {}),
        Case(f"search q={term}", "search", {"q": term}),
        Case("search q=BIN prefix", "search", {"q": "1"}),
    ]
    if buyer_id:
        cases.append(Case("entity: biggest buyer", "entity", {"id": buyer_id}))
    if provider_id:
        cases.append(Case("entity: biggest provider", "entity", {"id": provider_id}))
        cases.append(Case("network: hub, depth 2", "network", {"id": provider_id, "depth": "2"}))
    cases.append(Case(f"region kato={region}", "region", {"kato": region}))
    cases.append(Case("flags", "flags", {}))
    if code:
        cases.append(Case(f"flags {code} in {region}", "flags", {"code": code, "region": region}))
    cases.append(Case("sources", "sources", {}))
    return cases


def run_once(url: str, case: Case, *, cold: bool) -> tuple[float, AppTest]:
    """One request: the page's whole script run (frame + page), timed; the AppTest for error checks."""
    os.environ["ASHYQ_DATABASE_URL"] = url
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(case.params)
    # The first run of a fresh AppTest registers the pages and scans the installed packages for Streamlit
    # components (about a second here: a server does that once at start, not per request), so it is not
    # timed; the page is then run again, as a reader's request, and that run is the figure.
    at.run()
    at.query_params.clear()
    at.query_params.update(case.params)
    at.switch_page(f"views/{case.page or 'overview'}.py")
    if cold:
        st.cache_data.clear()  # the registration run filled the frame's caches
    SQL.active = cold
    started = time.perf_counter()
    at.run()
    return time.perf_counter() - started, at


def measure(url: str, backend: str, case: Case, runs: int) -> Result:
    if case.page is not None and not (ROOT / "dashboard" / "views" / f"{case.page}.py").exists():
        return Result(backend, case.name, [], [], [], error="page not present")
    cold: list[float] = []
    warm: list[float] = []
    slowest: dict[str, float] = {}
    if case.page == "network":
        # A server loads the graph once, in the background (about a minute at 1M); time the page, not that
        # load. The same URL string as the page's, so both share the process's cached graph.
        from dashboard import queries_network

        queries_network.graph_of(queries.read_engine(url))
    try:
        for _ in range(runs):
            SQL.entries = []
            seconds, at = run_once(url, case, cold=True)
            SQL.active = False
            if at.exception:
                return Result(backend, case.name, [], [], [], error=str(at.exception[0].value)[:200])
            cold.append(seconds)
            for took, statement in SQL.entries:
                slowest[statement] = max(slowest.get(statement, 0.0), took)
        warm.extend(run_once(url, case, cold=False)[0] for _ in range(runs))
    finally:
        SQL.active = False
    top = sorted(((t, s) for s, t in slowest.items()), reverse=True)[:3]
    return Result(backend, case.name, cold, warm, top)


# ------------------------------------------------------------------------------------ direct query times
def query_times(url: str, runs: int) -> dict[str, float]:
    """p95 seconds of this repository's overview/register query functions called directly (no cache)."""
    engine = queries.read_engine(url)
    calls: dict[str, Callable[[], Any]] = {
        "headline": lambda: queries.headline(engine),
        "by_legal_basis": lambda: queries.by_legal_basis(engine),
        "by_year": lambda: queries.by_year(engine),
        "by_region": lambda: queries.by_region(engine),
        "top_providers": lambda: queries.top_providers(engine, 10),
        "years": lambda: queries.years(engine),
        "register_summary()": lambda: queries.register_summary(engine, RegisterFilter()),
        "register_rows() first page": lambda: queries.register_rows(engine, RegisterFilter()),
        "register_rows(sort=amount_desc)": lambda: queries.register_rows(
            engine, RegisterFilter(sort="amount_desc")
        ),
        "register_rows(sort=buyer)": lambda: queries.register_rows(engine, RegisterFilter(sort="buyer")),
        "headline (direct, no aggregates)": lambda: queries.headline(engine, direct=True),
        "by_region (direct, no aggregates)": lambda: queries.by_region(engine, direct=True),
    }
    out = {}
    for name, call in calls.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        out[name] = pct(times, 95)
    engine.dispose()
    return out


def prepare(url: str) -> dict[str, float]:
    engine = make_engine(url)
    started = time.perf_counter()
    upgrade(engine)
    migrated = time.perf_counter() - started
    started = time.perf_counter()
    stats = aggregates.refresh(engine)
    refreshed = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        # VACUUM, not only ANALYZE: it sets the visibility map, without which PostgreSQL cannot answer from an
        # index alone (a name search's count over ~54k rows read 32k heap pages, 0.6 s cold). A production
        # server's autovacuum does this after a bulk load; the bench server runs with autovacuum off.
        tables = "engagements, organizations, engagement_totals, party_totals, region_party_totals, flags"
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM (ANALYZE) {tables}"))
    engine.dispose()
    print(f"prepare: upgrade {migrated:.1f} s, aggregates {refreshed:.1f} s ({stats})", flush=True)
    return {"upgrade_s": migrated, "aggregates_s": refreshed}


def backend_name(url: str) -> str:
    return make_url(url).get_backend_name()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--url", action="append", required=True, help="database URL (repeat for each backend)"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--prepare", action="store_true", help="migrate to head and refresh the aggregates first"
    )
    parser.add_argument("--queries", action="store_true", help="also time the query functions directly")
    parser.add_argument(
        "--pages", default="", help="only cases whose name starts with one of these (comma list)"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    results: list[Result] = []
    extra: dict[str, Any] = {"load_average_at_start": os.getloadavg()}
    for url in args.url:
        backend = backend_name(url)
        if args.prepare:
            extra[f"prepare_{backend}"] = prepare(url)
        cases = pick_cases(url)
        wanted = [p for p in args.pages.split(",") if p]
        for case in cases:
            if wanted and not any(case.name.startswith(p) for p in wanted):
                continue
            result = measure(url, backend, case, args.runs)
            results.append(result)
            if result.error:
                print(f"{backend:10} {case.name:38} ERROR {result.error}", flush=True)
            else:
                r = result.row()
                print(
                    f"{backend:10} {case.name:38} cold p50 {r['cold_p50']:.3f} p95 {r['cold_p95']:.3f}"
                    f" · warm p50 {r['warm_p50']:.3f} p95 {r['warm_p95']:.3f}",
                    flush=True,
                )
                for took, statement in result.slowest_sql:
                    print(f"{'':12}sql {took:.3f} s  {statement[:160]}", flush=True)
        if args.queries:
            extra[f"queries_{backend}"] = query_times(url, max(5, args.runs // 2))
            for name, seconds in extra[f"queries_{backend}"].items():
                print(f"{backend:10} query {name:40} p95 {seconds:.3f}", flush=True)

    load = os.getloadavg()
    extra["load_average_at_end"] = load
    print(f"\nload average at the end (2 cores): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("\n| page | backend | cold p50 (s) | cold p95 (s) | warm p50 (s) | warm p95 (s) |")
    print("|---|---|---:|---:|---:|---:|")
    for result in results:
        if result.error:
            print(f"| {result.case} | {result.backend} | — | — | — | — ({result.error[:60]}) |")
            continue
        r = result.row()
        print(
            f"| {result.case} | {result.backend} | {r['cold_p50']:.2f} | {r['cold_p95']:.2f} |"
            f" {r['warm_p50']:.2f} | {r['warm_p95']:.2f} |"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"runs": args.runs, "results": [asdict(r) | r.row() for r in results], **extra}
        args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
