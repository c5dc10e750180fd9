"""Build stage: the dashboard's pre-aggregated tables, rewritten from the stored data (issue 6, speed).

* `engagement_totals`: engagements counted and summed per (region, signing year, legal basis, instrument,
  competitive) — the overview's charts and the register's totals for any filter but a name search;
* `party_totals`: per buyer and per provider BIN — the overview's top providers and party counts;
* `organization_search`: every organization's names folded once (case, Kazakh letters, ё) — name searches
  become a plain `LIKE` instead of folding every name per query (seconds on PostgreSQL);
* `source_totals`: raw records and latest fetch per source — the footer of every page.

With a million engagements these replace full scans on every cold page view (measured in
`bench/dashboard_bench.py`). All four are derived: `refresh` replaces them whole, in one transaction; the
grouped ones are `INSERT … SELECT … GROUP BY` inside the database, the folded names go in keyset-paged
batches. Readers see either the old or the new totals, never a half-written mix.

Run it after every stage that writes `engagements`, organizations or raw records (the build, once wired in
`pipeline/build.py`); until it has run once, the dashboard queries the base tables directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    select,
    union_all,
)

from entities.models import (
    Engagement,
    EngagementTotal,
    Organization,
    OrganizationSearch,
    PartyTotal,
    RawRecord,
    SourceTotal,
)
from entities.names import KAZAKH_TO_RUSSIAN

E = Engagement.__table__.c
O = Organization.__table__.c  # noqa: E741 - short alias used only in query expressions
ET = EngagementTotal.__table__
PT = PartyTotal.__table__
OS = OrganizationSearch.__table__
ST = SourceTotal.__table__
R = RawRecord.__table__.c
SEARCH_BATCH = 5_000

# Search must not depend on case or on Kazakh letters: a reader types «білім» or «БИЛИМ» for «Білім».
# The dashboard folds typed text the same way (`dashboard.queries.fold_text`, and `fold()` in SQL where
# the folded table is not built yet), so the mapping is listed once, here.
# The letter pairs come from the resolver (`entities.names.KAZAKH_TO_RUSSIAN`); FOLD_FROM/FOLD_TO are the same
# mapping as two equal-length strings, the form SQL `translate()` takes.
_UPPER = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯӘІҢҒҮҰҚӨҺ"
_LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәіңғүұқөһ"
_KAZAKH = "".join(KAZAKH_TO_RUSSIAN)
_RUSSIAN = "".join(KAZAKH_TO_RUSSIAN.values())
FOLD_FROM = _UPPER + _KAZAKH
FOLD_TO = _LOWER.translate(str.maketrans(_KAZAKH, _RUSSIAN)) + _RUSSIAN
_FOLD_TABLE = str.maketrans(FOLD_FROM, FOLD_TO)
# Bumped when the folding or a table's shape changes, so the build refreshes aggregates written by older code.
AGGREGATES_VERSION = 2


def fold_text(value: str | None) -> str | None:
    """Lower-case, Kazakh letters folded to their Russian look-alikes, ё → е."""
    if value is None:
        return None
    return value.lower().translate(_FOLD_TABLE)


@dataclass(frozen=True)
class AggregateStats:
    engagement_totals: int
    party_totals: int
    organization_search: int
    source_totals: int


def _engagement_totals_select() -> Select[Any]:
    year = extract("year", E.signed_on)
    return select(
        E.region_kato,
        cast(year, Integer).label("year"),
        E.legal_basis,
        E.instrument,
        E.competitive,
        func.count().label("contracts"),
        func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt"),
        func.min(E.signed_on).label("first_signed_on"),
        func.max(E.signed_on).label("last_signed_on"),
    ).group_by(E.region_kato, year, E.legal_basis, E.instrument, E.competitive)


def _party_totals_select(role: str) -> Select[Any]:
    own_bin, own_name, other_bin = (
        (E.buyer_bin, E.buyer_name, E.provider_bin)
        if role == "buyer"
        else (E.provider_bin, E.provider_name, E.buyer_bin)
    )
    noncompetitive = func.sum(case((E.competitive.is_(False), E.amount_kzt), else_=0))
    return select(
        literal(role).label("role"),
        own_bin.label("bin"),
        func.max(own_name).label("name"),
        func.count().label("contracts"),
        func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt"),
        func.coalesce(noncompetitive, 0).label("noncompetitive_amount_kzt"),
        func.count(other_bin.distinct()).label("counterparties"),
    ).group_by(own_bin)


def refresh_in(conn: Connection) -> AggregateStats:
    """Rewrite every aggregate table inside the caller's transaction."""
    conn.execute(delete(ET))
    conn.execute(delete(PT))
    et_cols = [
        "region_kato",
        "year",
        "legal_basis",
        "instrument",
        "competitive",
        "contracts",
        "amount_kzt",
        "first_signed_on",
        "last_signed_on",
    ]
    conn.execute(insert(ET).from_select(et_cols, _engagement_totals_select()))
    pt_cols = [
        "role",
        "bin",
        "name",
        "contracts",
        "amount_kzt",
        "noncompetitive_amount_kzt",
        "counterparties",
    ]
    parties = union_all(_party_totals_select("buyer"), _party_totals_select("provider"))
    conn.execute(insert(PT).from_select(pt_cols, parties))
    return AggregateStats(
        engagement_totals=int(conn.execute(select(func.count()).select_from(ET)).scalar() or 0),
        party_totals=int(conn.execute(select(func.count()).select_from(PT)).scalar() or 0),
        organization_search=_refresh_search(conn),
        source_totals=_refresh_sources(conn),
    )


def _refresh_sources(conn: Connection) -> int:
    """The footer's line per source: latest fetch, raw records kept, one URL (loopback tells the simulator)."""
    conn.execute(delete(ST))
    per_source = select(R.source, func.max(R.fetched_at), func.count(), func.max(R.url)).group_by(R.source)
    conn.execute(insert(ST).from_select(["source", "fetched_at", "records", "sample_url"], per_source))
    return int(conn.execute(select(func.count()).select_from(ST)).scalar() or 0)


def _refresh_search(conn: Connection) -> int:
    """Fold every organization's names in Python (the one fold both backends agree on), in batches."""
    conn.execute(delete(OS))
    written, last = 0, ""
    while True:  # keyset pages: bounded memory, and no read cursor left open under the inserts (SQLite)
        batch = conn.execute(
            select(O.id, O.name_ru, O.name_kk, O.name_en, O.name_norm)
            .where(O.id > last)
            .order_by(O.id)
            .limit(SEARCH_BATCH)
        ).all()
        if not batch:
            break
        values = [
            {"organization_id": r.id, "folded": "\n".join(fold_text(n) or "" for n in r[1:] if n)}
            for r in batch
        ]
        conn.execute(insert(OS), values)
        written += len(values)
        last = batch[-1].id
    return written


def refresh(engine: Engine) -> AggregateStats:
    """Rewrite the aggregates in one transaction (readers see the old totals until it commits)."""
    with engine.begin() as conn:
        return refresh_in(conn)
