"""Build stage: the dashboard's pre-aggregated tables, rewritten from the stored data (issue 6, speed).

* `engagement_totals`: engagements counted and summed per (region, signing year, legal basis, instrument,
  competitive) — the overview's charts and the register's totals for any filter but a name search;
* `party_totals`: per buyer and per provider BIN — the overview's top providers and party counts;
* `organization_search`: every organization's names folded once (case, Kazakh letters, ё) — name searches
  become a plain `LIKE` instead of folding every name per query (seconds on PostgreSQL);
* `source_totals`: raw records and latest fetch per source — the footer of every page;
* `region_party_totals`: per region, each buyer and provider, and each provider per service category (the
  subject classified once per build with `category_of`) — the region page's tables and market shares.

With a million engagements these replace full scans on every cold page view (measured in
`bench/dashboard_bench.py`). All four are derived: `refresh` replaces them whole, in one transaction; the
grouped ones are `INSERT … SELECT … GROUP BY` inside the database, the folded names go in keyset-paged
batches. Readers see either the old or the new totals, never a half-written mix.

Run it after every stage that writes `engagements`, organizations or raw records (the build, once wired in
`pipeline/build.py`); until it has run once, the dashboard queries the base tables directly.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    union_all,
)

from entities.config import REFERENCE_DIR
from entities.models import (
    Engagement,
    EngagementTotal,
    Organization,
    OrganizationSearch,
    PartyTotal,
    RawRecord,
    RegionPartyTotal,
    SourceTotal,
)
from entities.names import KAZAKH_TO_RUSSIAN

E = Engagement.__table__.c
O = Organization.__table__.c  # noqa: E741 - short alias used only in query expressions
ET = EngagementTotal.__table__
PT = PartyTotal.__table__
OS = OrganizationSearch.__table__
ST = SourceTotal.__table__
RPT = RegionPartyTotal.__table__
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
CATEGORIES_CSV = REFERENCE_DIR / "service_categories.csv"
# Bumped when the folding or a table's shape changes, so the build refreshes aggregates written by older code.
# The category vocabulary is an input of `region_party_totals` too: its checksum is part of the version, so an
# edited keyword list re-classifies at the next build even when no engagement changed.
AGGREGATES_SHAPE = 3
AGGREGATES_VERSION = AGGREGATES_SHAPE * 2**32 + zlib.crc32(CATEGORIES_CSV.read_bytes())


def fold_text(value: str | None) -> str | None:
    """Lower-case, Kazakh letters folded to their Russian look-alikes, ё → е."""
    if value is None:
        return None
    return value.lower().translate(_FOLD_TABLE)


@dataclass(frozen=True)
class Category:
    code: str
    names: dict[str, str]
    keywords: tuple[str, ...]


@cache
def categories() -> tuple[Category, ...]:
    """The service vocabulary (`data/reference/service_categories.csv`), first match wins, `other` last."""
    with CATEGORIES_CSV.open(encoding="utf-8") as fh:
        return tuple(
            Category(
                row["code"],
                {lang: row[f"name_{lang}"] for lang in ("ru", "kk", "en")},
                tuple(fold_text(k.strip()) or "" for k in row["keywords"].split("|") if k.strip()),
            )
            for row in csv.DictReader(fh)
        )


def category_of(subject: str | None) -> str:
    """The first category whose keyword (a folded stem) occurs in the folded subject; `other` when none does
    (or when there is no subject: None, or NaN as pandas reads a missing one)."""
    text = (fold_text(subject) or "") if isinstance(subject, str) else ""
    for cat in categories():
        if any(k in text for k in cat.keywords):
            return cat.code
    return "other"


@dataclass(frozen=True)
class AggregateStats:
    engagement_totals: int
    party_totals: int
    organization_search: int
    source_totals: int
    region_party_totals: int = 0


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
        region_party_totals=_refresh_region_parties(conn),
    )


RPT_COLUMNS = ["region_kato", "role", "category", "bin", "entity_id", "name", "engagements", "amount_kzt",
               "noncompetitive"]  # fmt: skip


def _region_side_select(role: str, category: Any = None, subjects: Table | None = None) -> Select[Any]:
    """A region's engagements grouped by one side's BIN (and, for providers, the subject's category)."""
    bin_col, id_col, name_col = (E[f"{role}_bin"], E[f"{role}_id"], E[f"{role}_name"])
    keys = [E.region_kato, bin_col] if category is None else [E.region_kato, category, bin_col]
    query = select(
        E.region_kato,
        literal(role),
        null() if category is None else category,
        bin_col,
        func.max(id_col),
        func.max(name_col),
        func.count(),
        func.coalesce(func.sum(E.amount_kzt), 0),
        func.count().filter(E.competitive.is_(False)),
    ).where(E.region_kato.is_not(None))
    if subjects is not None:  # only classified subjects are listed: the rest is `other`
        query = query.select_from(Engagement.__table__.outerjoin(subjects, subjects.c.subject == E.subject))
    return query.group_by(*keys)


def _refresh_region_parties(conn: Connection) -> int:
    """The region page's parties: buyers, providers, and providers per service category, per region.

    Subjects are free text: each distinct one is classified once in Python (`category_of`, the page's own
    rule) into a temporary table, which the grouped `INSERT … SELECT` then joins — the grouping stays in the
    database. Only subjects outside `other` are written to it; the rest fall to `other` in the join.
    """
    conn.execute(delete(RPT))
    conn.execute(insert(RPT).from_select(RPT_COLUMNS, _region_side_select("buyer")))
    subjects = Table(
        "tmp_subject_categories",
        MetaData(),
        Column("subject", Text, primary_key=True),
        Column("category", String(40), nullable=False),
        prefixes=["TEMPORARY"],
    )
    subjects.drop(conn, checkfirst=True)  # a failed earlier refresh on this pooled connection
    subjects.create(conn)
    try:
        found = conn.execute(select(E.subject).where(E.subject.is_not(None)).distinct()).scalars().all()
        classified = [{"subject": s, "category": c} for s in found if (c := category_of(s)) != "other"]
        for start in range(0, len(classified), SEARCH_BATCH):
            conn.execute(insert(subjects), classified[start : start + SEARCH_BATCH])
        # A literal in SQL, not a bind parameter: PostgreSQL must see the same expression in GROUP BY.
        category = func.coalesce(subjects.c.category, literal_column("'other'"))
        conn.execute(
            insert(RPT).from_select(RPT_COLUMNS, _region_side_select("provider", category, subjects))
        )
    finally:
        subjects.drop(conn)
    # A provider's whole region is the sum of its categories: from those rows, not another scan of engagements.
    rc = RPT.c
    whole = (
        select(rc.region_kato, rc.role, null(), rc.bin, func.max(rc.entity_id), func.max(rc.name), func.sum(rc.engagements),
               func.sum(rc.amount_kzt), func.sum(rc.noncompetitive))
        .where(rc.role == "provider", rc.category.is_not(None))
        .group_by(rc.region_kato, rc.role, rc.bin)
    )  # fmt: skip
    conn.execute(insert(RPT).from_select(RPT_COLUMNS, whole))
    return int(conn.execute(select(func.count()).select_from(RPT)).scalar() or 0)


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
