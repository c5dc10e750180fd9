"""The dashboard's query layer: SQLAlchemy Core over the derived tables, returning pandas DataFrames.

Pages never hold SQL; they call these functions (through the caches in `dashboard/data.py`). Everything that
can grow with the archive is aggregated or limited in the database, because `engagements` may hold millions
of rows: the overview gets a few dozen grouped rows, the register gets one page of at most `limit` rows, and
the CSV export streams the filtered rows in batches.

Strings come back raw (names from sources are untrusted text); the pages decide how to render them safely.
The dashboard only reads: `read_engine` makes connections that refuse writes on both backends.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Engine,
    Select,
    Text,
    and_,
    cast,
    event,
    exists,
    extract,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from entities.db import make_engine
from entities.models import (
    Document,
    Engagement,
    EngagementTotal,
    Memorandum,
    MemorandumParty,
    Organization,
    OrganizationSearch,
    PartyTotal,
    PPPAgreement,
    RawRecord,
    SourceTotal,
)
from pipeline.aggregates import FOLD_FROM as _FOLD_FROM
from pipeline.aggregates import FOLD_TO as _FOLD_TO
from pipeline.aggregates import fold_text
from pipeline.export import COLUMNS as EXPORT_COLUMNS  # the register's CSV has exactly the export's columns
from pipeline.export import csv_cell
from pipeline.export_memoranda import COLUMNS as MEMORANDA_COLUMNS
from pipeline.export_memoranda import SEPARATOR as MEMORANDA_SEPARATOR

E = Engagement.__table__.c
O = Organization.__table__.c  # noqa: E741 - short alias used only in query expressions
R = RawRecord.__table__.c
M = Memorandum.__table__.c
MP = MemorandumParty.__table__.c
PPP = PPPAgreement.__table__.c
D = Document.__table__.c
ET = EngagementTotal.__table__.c  # pre-aggregated by `pipeline.aggregates` (issue 6)
PT = PartyTotal.__table__.c
OS = OrganizationSearch.__table__.c
ST = SourceTotal.__table__.c


# How the register may be sorted: URL-stable code → ORDER BY. The id breaks ties so pages are deterministic.
SORTS: dict[str, tuple[Any, ...]] = {
    "signed_desc": (E.signed_on.desc().nulls_last(), E.id),
    "signed_asc": (E.signed_on.asc().nulls_last(), E.id),
    "amount_desc": (E.amount_kzt.desc().nulls_last(), E.id),
    "amount_asc": (E.amount_kzt.asc().nulls_last(), E.id),
    "buyer": (E.buyer_name.asc().nulls_last(), E.signed_on.desc().nulls_last(), E.id),
    "provider": (E.provider_name.asc().nulls_last(), E.signed_on.desc().nulls_last(), E.id),
    # One buyer–provider pair's engagements (a contract, a memorandum, a PPP agreement…) next to each other.
    "pair": (
        E.buyer_name.asc().nulls_last(),
        E.provider_name.asc().nulls_last(),
        E.signed_on.desc().nulls_last(),
        E.id,
    ),
}
DEFAULT_SORT = "signed_desc"
# The competition filter: URL-stable code → `RegisterFilter.competitive`.
COMPETITIVE: dict[str, bool | None] = {"any": None, "yes": True, "no": False}
# Every instrument an engagement can rest on (DESIGN §6; `engagements.instrument`), in the filter's order.
INSTRUMENTS: tuple[str, ...] = (
    "procurement_contract",
    "ppp_agreement",
    "memorandum",
    "donation",
    "none_found",
)
# Rows the register's table shows (the CSV has every match). Measured at a million engagements: a
# filtered, sorted page of 10,000 rows took 2-3 s to read and serialize, 1,000 rows a few tenths (README).
REGISTER_LIMIT = 1_000
CSV_BATCH = 5_000

# ---------------------------------------------------------------------------------------- name folding
# Search must not depend on case or on Kazakh letters: a reader types «білім» or «БИЛИМ» for «Білім».
# SQLite's lower() folds ASCII only, so the fold is spelled out per backend: a Python function registered
# on SQLite connections, translate(lower()) on PostgreSQL. Both map the same letters, listed once in
# `pipeline.aggregates` (which also stores every organization's names folded, `organization_search`).


class fold(FunctionElement[str]):  # noqa: N801 - reads like the SQL function it compiles to
    """`fold(column)` in SQL: the same mapping as `fold_text`, on either backend."""

    type = Text()
    inherit_cache = True
    name = "ashyq_fold"


@compiles(fold)
def _fold_default(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    # lower() handles Latin; translate() handles Cyrillic itself, whatever the database's ctype.
    return f"translate(lower({arg}), '{_FOLD_FROM}', '{_FOLD_TO}')"


@compiles(fold, "sqlite")
def _fold_sqlite(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"ashyq_fold({compiler.process(element.clauses, **kw)})"


class _unindexed(FunctionElement[Any]):  # noqa: N801 - reads like a column in query code
    """A column SQLite's planner will not read through an index (a unary `+`, its documented idiom); the plain
    column elsewhere. For a condition that is selective on paper but not worth its index: the register filtered
    by legal basis and year, sorted by amount, is 1,000 rows from the basis's amount index with the year
    checked in it (8 ms), where SQLite otherwise picks the year's date range and sorts ~300k rows (0.15 s warm,
    over 1 s cold at the 1M scale)."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_unindexed)
def _unindexed_default(element: _unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_unindexed, "sqlite")
def _unindexed_sqlite(element: _unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---------------------------------------------------------------------------------------------- engine
class DatabaseNotFoundError(FileNotFoundError):
    """The SQLite file the URL names does not exist (the dashboard will not create an empty one)."""


def read_engine(url: str) -> Engine:
    """An engine for the dashboard: the fold function on SQLite, and connections that cannot write."""
    parsed = make_url(url)
    sqlite_file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if sqlite_file not in (None, "", ":memory:") and not Path(str(sqlite_file)).exists():
        raise DatabaseNotFoundError(sqlite_file)
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_read_only(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.create_function("ashyq_fold", 1, fold_text, deterministic=True)
            dbapi_conn.execute("PRAGMA query_only = ON")

    elif engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _pg_read_only(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_conn.commit()  # a rolled-back SET would be undone

    return engine


def _frame(engine: Engine, query: Select[Any]) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


# --------------------------------------------------------------------------------- page chrome (every page)
def has_fictional(engine: Engine) -> bool:
    """True when any engagement comes from the fictional demo scenario (the banner's condition)."""
    with engine.connect() as conn:
        return bool(conn.execute(select(exists().where(E.is_fictional.is_(True)))).scalar())


def freshness(engine: Engine, *, direct: bool = False) -> pd.DataFrame:
    """Per source: the latest fetch time and the number of raw records (the footer's provenance line).

    From `source_totals` once the build's aggregates stage ran (counting millions of raw records on every
    page view is what it saves); straight from `raw_records` before that.
    """
    if not direct and aggregates_ready(engine):
        return _frame(engine, select(ST.source, ST.fetched_at, ST.records, ST.sample_url).order_by(ST.source))
    query = (
        select(
            R.source,
            func.max(R.fetched_at).label("fetched_at"),
            func.count().label("records"),
            func.max(R.url).label("sample_url"),  # tells the offline simulator (loopback) from the real site
        )
        .group_by(R.source)
        .order_by(R.source)
    )
    return _frame(engine, query)


# ---------------------------------------------------------------------------------------------- overview
# Each overview query reads the pre-aggregated tables (`pipeline.aggregates`) when the build has filled them,
# and `engagements` itself otherwise (a database built before migration 0006, or a test that seeds rows
# directly): the same numbers either way (tests/test_aggregates.py), a few thousand rows instead of millions.


def aggregates_ready(engine: Engine) -> bool:
    """True when `engagement_totals` has rows, i.e. the aggregates stage ran after engagements were written."""
    try:
        with engine.connect() as conn:
            return bool(conn.execute(select(exists().where(ET.id.is_not(None)))).scalar())
    except DBAPIError:  # not migrated to 0006 yet: the direct queries still answer
        return False


def _sum_int(column: Any, where: ColumnElement[bool] | None = None) -> Any:
    # PostgreSQL's sum(bigint) is numeric; the direct queries' count() is an integer.
    total = func.sum(column) if where is None else func.sum(column).filter(where)
    return cast(func.coalesce(total, 0), BigInteger)


def headline(engine: Engine, *, direct: bool = False) -> dict[str, Any]:
    """The overview's headline numbers, in one pass over `engagements` (or over the aggregates)."""
    if direct or not aggregates_ready(engine):
        query = select(
            func.count().label("contracts"),
            func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt"),
            func.count().filter(E.competitive.is_(True)).label("competitive_contracts"),
            func.coalesce(func.sum(E.amount_kzt).filter(E.competitive.is_(True)), 0).label(
                "competitive_amount_kzt"
            ),
            func.count(E.buyer_bin.distinct()).label("buyers"),
            func.count(E.provider_bin.distinct()).label("providers"),
            func.min(E.signed_on).label("first_signed_on"),
            func.max(E.signed_on).label("last_signed_on"),
        )
    else:
        parties = select(func.count()).where(PT.bin.is_not(None))
        query = select(
            _sum_int(ET.contracts).label("contracts"),
            func.coalesce(func.sum(ET.amount_kzt), 0).label("amount_kzt"),
            _sum_int(ET.contracts, ET.competitive.is_(True)).label("competitive_contracts"),
            func.coalesce(func.sum(ET.amount_kzt).filter(ET.competitive.is_(True)), 0).label(
                "competitive_amount_kzt"
            ),
            parties.where(PT.role == "buyer").scalar_subquery().label("buyers"),
            parties.where(PT.role == "provider").scalar_subquery().label("providers"),
            func.min(ET.first_signed_on).label("first_signed_on"),
            func.max(ET.last_signed_on).label("last_signed_on"),
        )
    with engine.connect() as conn:
        row = conn.execute(query).one()
    out = dict(row._mapping)
    for key in ("contracts", "competitive_contracts", "buyers", "providers"):
        out[key] = int(out[key] or 0)
    out["amount_kzt"] = Decimal(out["amount_kzt"])
    out["competitive_amount_kzt"] = Decimal(out["competitive_amount_kzt"])
    return out


def _grouped(engine: Engine, direct: bool, *keys: str) -> tuple[Any, list[Any], Any, Any]:
    """(table columns, group keys, contracts expr, amount expr) over engagements or over the aggregates."""
    if direct or not aggregates_ready(engine):
        return E, [E[k] for k in keys], func.count(), func.coalesce(func.sum(E.amount_kzt), 0)
    return ET, [ET[k] for k in keys], _sum_int(ET.contracts), func.coalesce(func.sum(ET.amount_kzt), 0)


def by_legal_basis(engine: Engine, *, direct: bool = False) -> pd.DataFrame:
    """Contracts and sums per legal basis and competitive flag, largest sum first."""
    _, keys, contracts, amount_expr = _grouped(engine, direct, "legal_basis", "competitive")
    amount = amount_expr.label("amount_kzt")
    query = (
        select(*keys, contracts.label("contracts"), amount).group_by(*keys).order_by(amount.desc(), keys[0])
    )
    return _frame(engine, query)


def by_year(engine: Engine, *, direct: bool = False) -> pd.DataFrame:
    """Contracts and sums per signing year and competitive flag (rows without a date are left out)."""
    table, (competitive,), contracts, amount = _grouped(engine, direct, "competitive")
    if table is E:
        year: Any = extract("year", E.signed_on)
        dated = E.signed_on.is_not(None)
    else:
        year, dated = ET.year, ET.year.is_not(None)
    query = (
        select(year.label("year"), competitive, contracts.label("contracts"), amount.label("amount_kzt"))
        .where(dated)
        .group_by(year, competitive)
        .order_by(year, competitive)
    )
    frame = _frame(engine, query)
    frame["year"] = frame["year"].astype(int)
    return frame


def by_region(engine: Engine, *, direct: bool = False) -> pd.DataFrame:
    """Contracts and sums per region (2-digit KATO; None where not known) and competitive flag."""
    _, keys, contracts, amount = _grouped(engine, direct, "region_kato", "competitive")
    query = (
        select(*keys, contracts.label("contracts"), amount.label("amount_kzt"))
        .group_by(*keys)
        .order_by(*keys)
    )
    return _frame(engine, query)


def top_providers(engine: Engine, limit: int = 10, *, direct: bool = False) -> pd.DataFrame:
    """The providers holding the largest sums, with how much of it came without competition.

    Grouped by BIN (the identity); the name shown is one of the names the engagements carry for it.
    """
    if direct or not aggregates_ready(engine):
        amount = func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt")
        query = (
            select(
                E.provider_bin,
                func.max(E.provider_name).label("provider_name"),
                func.count().label("contracts"),
                amount,
                func.coalesce(func.sum(E.amount_kzt).filter(E.competitive.is_(False)), 0).label(
                    "noncompetitive_amount_kzt"
                ),
                func.count(E.buyer_bin.distinct()).label("buyers"),
            )
            .group_by(E.provider_bin)
            .order_by(amount.desc(), E.provider_bin)
            .limit(limit)
        )
    else:
        query = (
            select(
                PT.bin.label("provider_bin"),
                PT.name.label("provider_name"),
                PT.contracts,
                PT.amount_kzt,
                PT.noncompetitive_amount_kzt,
                PT.counterparties.label("buyers"),
            )
            .where(PT.role == "provider")
            .order_by(PT.amount_kzt.desc(), PT.bin)
            .limit(limit)
        )
    return _frame(engine, query)


def years(engine: Engine, *, direct: bool = False) -> list[int]:
    """The signing years present, newest first (the register's year options)."""
    if direct or not aggregates_ready(engine):
        year: Any = extract("year", E.signed_on)
        query = select(year.label("year")).where(E.signed_on.is_not(None))
    else:
        year = ET.year
        query = select(year.label("year")).where(year.is_not(None))
    with engine.connect() as conn:
        return [int(y) for y in conn.execute(query.distinct().order_by(year.desc())).scalars()]


def legal_bases(engine: Engine, *, direct: bool = False) -> list[str]:
    column = E.legal_basis if direct or not aggregates_ready(engine) else ET.legal_basis
    with engine.connect() as conn:
        return list(conn.execute(select(column).distinct().order_by(column)).scalars())


# ---------------------------------------------------------------------------------------------- register
@dataclass(frozen=True)
class RegisterFilter:
    """What the register shows. Hashable, so Streamlit can cache per filter."""

    regions: tuple[str, ...] = ()
    legal_bases: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    buyer: str = ""
    provider: str = ""
    competitive: bool | None = None
    sort: str = DEFAULT_SORT


def _matching_orgs(text: str) -> Select[Any]:
    """Ids of organizations whose folded name (ru, kk, en, normalized) contains folded `text`."""
    pattern = f"%{_escape_like(fold_text(' '.join(text.split())) or '')}%"
    return select(O.id).where(
        or_(
            fold(O.name_ru).like(pattern, escape="\\"),
            fold(O.name_kk).like(pattern, escape="\\"),
            fold(O.name_en).like(pattern, escape="\\"),
            fold(O.name_norm).like(pattern, escape="\\"),
        )
    )


# A name search matching at most this many organizations is run with their ids as a literal list: both
# backends then read the matching engagements through the buyer_id/provider_id index (PostgreSQL cannot
# use an index for `IN (subquery) OR …` and scans all engagements). Broader searches keep the subquery.
ORG_IDS_INLINE = 1_000


def _matching_orgs_folded(text: str) -> Select[Any]:
    """`_matching_orgs` on the names folded by the build (`organization_search`): no fold per query."""
    pattern = f"%{_escape_like(fold_text(' '.join(text.split())) or '')}%"
    return select(OS.organization_id).where(OS.folded.like(pattern, escape="\\"))


def _resolved_orgs(engine: Engine, f: RegisterFilter) -> dict[str, list[str] | Select[Any]]:
    """What each name search of `f` matches: the ids where few enough to inline, else a subquery.

    Read from `organization_search` when the build has filled it (folding every name per query costs
    seconds on PostgreSQL, whose `translate` is slow on Cyrillic); from `organizations` otherwise.
    """
    out: dict[str, list[str] | Select[Any]] = {}
    ready = aggregates_ready(engine)
    for role, typed in (("buyer", f.buyer), ("provider", f.provider)):
        text = " ".join(typed.split())
        if not text or text.isdigit():
            continue
        matching = _matching_orgs_folded(text) if ready else _matching_orgs(text)
        with engine.connect() as conn:
            ids = list(conn.execute(matching.limit(ORG_IDS_INLINE + 1)).scalars())
        out[role] = ids if len(ids) <= ORG_IDS_INLINE else matching
    return out


def _org_alternatives(
    text: str,
    id_col: ColumnElement[Any],
    bin_col: ColumnElement[Any],
    name_col: ColumnElement[Any],
    org_ids: list[str] | Select[Any] | None = None,
) -> list[ColumnElement[bool]]:
    """Rows whose organization matches `text`, as disjoint alternatives: by BIN prefix; or by folded name (ru,
    kk), through the organization ids, or, where the row links no organization, by the row's own name.

    Names are searched in `organizations` (small) and the matching ids used as a subquery, so the fold runs
    over organizations, not over millions of engagements; the engagement's own name column is only folded
    where no organization is linked.
    """
    text = " ".join(text.split())
    if not text:
        return [true()]
    if text.isdigit():
        return [bin_col.like(f"{_escape_like(text)}%", escape="\\")]
    pattern = f"%{_escape_like(fold_text(text) or '')}%"
    return [
        id_col.in_(_matching_orgs(text) if org_ids is None else org_ids),
        and_(id_col.is_(None), fold(name_col).like(pattern, escape="\\")),
    ]


def _org_search(
    text: str,
    id_col: ColumnElement[Any],
    bin_col: ColumnElement[Any],
    name_col: ColumnElement[Any],
    org_ids: list[str] | Select[Any] | None = None,
) -> ColumnElement[bool]:
    """`_org_alternatives` as one condition."""
    return or_(*_org_alternatives(text, id_col, bin_col, name_col, org_ids))


def _conditions(
    f: RegisterFilter, org_ids: dict[str, list[str] | Select[Any]] | None = None
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.regions:
        conds.append(E.region_kato.in_(f.regions))
    if f.legal_bases:
        conds.append(E.legal_basis.in_(f.legal_bases))
    if f.instruments:
        conds.append(E.instrument.in_(f.instruments))
    if f.years:
        # Date ranges rather than extract(year) so the (region, signed_on) index can serve them; but by basis
        # and amount, the (legal_basis, amount_kzt, signed_on) index serves order and year at once.
        by_basis_amount = bool(f.legal_bases) and f.sort in ("amount_desc", "amount_asc")
        signed = _unindexed(E.signed_on) if by_basis_amount else E.signed_on
        conds.append(or_(*(and_(signed >= date(y, 1, 1), signed < date(y + 1, 1, 1)) for y in f.years)))
    if f.competitive is not None:
        conds.append(E.competitive.is_(true() if f.competitive else false()))
    if f.buyer.strip():
        conds.append(
            _org_search(f.buyer, E.buyer_id, E.buyer_bin, E.buyer_name, (org_ids or {}).get("buyer"))
        )
    if f.provider.strip():
        conds.append(
            _org_search(
                f.provider, E.provider_id, E.provider_bin, E.provider_name, (org_ids or {}).get("provider")
            )
        )
    return conds


def _search_parts(
    f: RegisterFilter, org_ids: dict[str, list[str] | Select[Any]] | None = None
) -> list[list[ColumnElement[bool]]]:
    """`_conditions(f, org_ids)` as disjoint alternatives whose union it is.

    A name search matches a row through its organization id, or by the row's own name where it names no
    organization: one `OR` over both sends PostgreSQL to the table for every matching row (a bitmap heap scan,
    0.5-0.7 s cold for a common word's ~54k rows at the 1M scale), while each alternative alone is an index
    range (the id one index-only for a count). The alternatives never overlap (an id is either NULL or not),
    so counts and sums add up, and the first rows of the whole are among the first rows of the parts.
    """
    base = _conditions(replace(f, buyer="", provider=""))
    parts: list[list[ColumnElement[bool]]] = [base]
    for role, typed in (("buyer", f.buyer), ("provider", f.provider)):
        if not typed.strip():
            continue
        cols = (E[f"{role}_id"], E[f"{role}_bin"], E[f"{role}_name"])
        alternatives = _org_alternatives(typed, *cols, (org_ids or {}).get(role))
        parts = [[*part, alt] for part in parts for alt in alternatives]
    return parts


def _register_select(
    f: RegisterFilter, org_ids: dict[str, list[str] | Select[Any]] | None = None
) -> Select[Any]:
    columns = [
        E.id.label("engagement_id"),
        E.instrument,
        E.legal_basis,
        E.competitive,
        E.buyer_bin,
        E.buyer_name,
        E.provider_bin,
        E.provider_name,
        E.subject,
        E.amount_kzt,
        E.signed_on,
        E.region_kato,
        E.source_url,
    ]
    order = SORTS.get(f.sort, SORTS[DEFAULT_SORT])
    return select(*columns).where(*_conditions(f, org_ids)).order_by(*order)


def _totals_conditions(f: RegisterFilter) -> list[ColumnElement[bool]]:
    """`_conditions` on `engagement_totals`: every filter but the name searches is one of its dimensions."""
    conds: list[ColumnElement[bool]] = []
    if f.regions:
        conds.append(ET.region_kato.in_(f.regions))
    if f.legal_bases:
        conds.append(ET.legal_basis.in_(f.legal_bases))
    if f.instruments:
        conds.append(ET.instrument.in_(f.instruments))
    if f.years:
        conds.append(ET.year.in_(f.years))
    if f.competitive is not None:
        conds.append(ET.competitive.is_(true() if f.competitive else false()))
    return conds


def register_summary(engine: Engine, f: RegisterFilter, *, direct: bool = False) -> dict[str, Any]:
    """How many engagements match, and their total sum (from the aggregates unless a name is searched)."""
    if direct or f.buyer.strip() or f.provider.strip() or not aggregates_ready(engine):
        # A name search is counted per alternative (`_search_parts`) and added up: each part is an index range.
        queries = [
            select(
                func.count().label("contracts"), func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt")
            ).where(*part)
            for part in _search_parts(f, _resolved_orgs(engine, f))
        ]
    else:
        queries = [
            select(
                _sum_int(ET.contracts).label("contracts"),
                func.coalesce(func.sum(ET.amount_kzt), 0).label("amount_kzt"),
            ).where(*_totals_conditions(f))
        ]
    contracts, amount = 0, Decimal(0)
    with engine.connect() as conn:
        for query in queries:
            row = conn.execute(query).one()
            contracts += int(row.contracts)
            amount += Decimal(row.amount_kzt)
    return {"contracts": contracts, "amount_kzt": amount}


# Sorts whose first key can be NULL and is served by an index (`ix_engagements_signed_on_id`,
# `ix_engagements_amount_id`): key column, descending?
_SPLIT_SORTS: dict[str, tuple[Any, bool]] = {
    "signed_desc": (E.signed_on, True),
    "signed_asc": (E.signed_on, False),
    "amount_desc": (E.amount_kzt, True),
    "amount_asc": (E.amount_kzt, False),
}


def _first_rows(engine: Engine, f: RegisterFilter, limit: int) -> pd.DataFrame:
    """The first `limit` rows of `_register_select(f)`, read so that an index serves the order.

    `ORDER BY key DESC NULLS LAST` is what the register means, but no one index serves it on both backends
    (PostgreSQL's ascending index reads backwards as NULLS FIRST; SQLite cannot declare NULLS LAST in an
    index), so a million-row register would be sorted whole for its first page. The same rows come from
    two index-ordered reads instead: the dated (or priced) rows in key order, then, if the page is not yet
    full, the rest by id, which is exactly where NULLS LAST puts them.
    """
    split = _SPLIT_SORTS.get(f.sort) if f.sort in SORTS else _SPLIT_SORTS[DEFAULT_SORT]
    org_ids = _resolved_orgs(engine, f)
    if org_ids:
        return _rows_by_ids(engine, f, org_ids, limit)
    if split is None:
        return _frame(engine, _register_select(f, org_ids).limit(limit))
    key, descending = split
    base = _register_select(f, org_ids).order_by(None)
    known = _frame(
        engine, base.where(key.is_not(None)).order_by(key.desc() if descending else key, E.id).limit(limit)
    )
    if len(known) >= limit:
        return known
    unknown = _frame(engine, base.where(key.is_(None)).order_by(E.id).limit(limit - len(known)))
    if known.empty:
        return unknown
    return known if unknown.empty else pd.concat([known, unknown], ignore_index=True)


def _rows_by_ids(
    engine: Engine, f: RegisterFilter, org_ids: dict[str, list[str]], limit: int
) -> pd.DataFrame:
    """A name search's first rows: the ids in order first, then those rows.

    The ids come from the (party, signed_on, id, amount) indexes alone, so a provider with a hundred thousand
    engagements is ordered without reading them; only the page's rows are then read from the table.
    """
    order = SORTS.get(f.sort, SORTS[DEFAULT_SORT])
    parts = _search_parts(f, org_ids)
    found: list[str] = []
    with engine.connect() as conn:
        for part in parts:  # each part's first rows from its own index range
            found += conn.execute(select(E.id).where(*part).order_by(*order).limit(limit)).scalars()
    if not found:
        return _frame(engine, _register_select(f, org_ids).limit(0))
    # The whole's first rows are among the parts' first rows: order those few in the database, as the page does.
    ids = found
    if len(parts) > 1:
        with engine.connect() as conn:
            ids = list(
                conn.execute(select(E.id).where(E.id.in_(found)).order_by(*order).limit(limit)).scalars()
            )
    frame = _frame(engine, _register_select(RegisterFilter()).order_by(None).where(E.id.in_(ids)))
    position = {engagement_id: i for i, engagement_id in enumerate(ids)}
    order_index = frame["engagement_id"].map(position).sort_values().index
    return frame.loc[order_index].reset_index(drop=True)


def register_rows(engine: Engine, f: RegisterFilter, limit: int = REGISTER_LIMIT) -> pd.DataFrame:
    """The first `limit` matching engagements in the chosen order, with the export's columns."""
    frame = _first_rows(engine, f, limit)
    if frame.empty:
        return pd.DataFrame(columns=list(EXPORT_COLUMNS))
    return frame


def iter_register_csv(engine: Engine, f: RegisterFilter) -> Iterator[list[Any]]:
    """Every matching row (no limit), streamed from the server in batches, as CSV cells."""
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CSV_BATCH).execute(_register_select(f))
        for row in result:
            yield [csv_cell(v) for v in row]


def register_csv(engine: Engine, f: RegisterFilter) -> bytes:
    """The filtered register as CSV: UTF-8 with a BOM (so Excel reads Cyrillic), the export's header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(iter_register_csv(engine, f))
    return buffer.getvalue().encode("utf-8-sig")


# ------------------------------------------------------------------------------ one engagement's evidence
def engagement(engine: Engine, engagement_id: str) -> dict[str, Any] | None:
    """One engagement with the register's columns and its evidence ids, or None when there is no such id."""
    query = _register_select(RegisterFilter()).add_columns(E.evidence_raw_ids).where(E.id == engagement_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return dict(row._mapping) if row is not None else None


def raw_ids(value: Any) -> list[int]:
    """The integer ids of `evidence_raw_ids` (a JSON list); anything else in it is ignored, not trusted."""
    if not isinstance(value, list):
        return []
    return [int(v) for v in value if isinstance(v, int) and not isinstance(v, bool)]


def evidence_records(engine: Engine, raw_ids: list[int]) -> pd.DataFrame:
    """The raw records an engagement rests on (never their payloads: a page needs the provenance only)."""
    query = (
        select(R.id, R.source, R.record_type, R.external_id, R.fetched_at, R.url, R.human_url)
        .where(R.id.in_(raw_ids))
        .order_by(R.fetched_at, R.id)
    )
    return _frame(engine, query)


def _linked_ids(engine: Engine, eng: dict[str, Any], table_c: Any) -> list[str]:
    """The id of the memorandum / PPP agreement behind `eng`: `engagements.instrument_ref` (set by the build)."""
    with engine.connect() as conn:
        ref = conn.execute(select(E.instrument_ref).where(E.id == eng["engagement_id"])).scalar_one_or_none()
        if ref is None:
            return []
        return list(conn.execute(select(table_c.id).where(table_c.id == ref)).scalars())


def engagement_memoranda(engine: Engine, eng: dict[str, Any]) -> pd.DataFrame:
    """The memorandum behind a `memorandum` engagement, in the memoranda page's columns."""
    if eng["instrument"] not in ("memorandum", "donation"):  # a donation's press release is a `memoranda` row
        return _memoranda_frame(engine, [])
    return _memoranda_frame(engine, _linked_ids(engine, eng, M))


def engagement_ppp(engine: Engine, eng: dict[str, Any]) -> pd.DataFrame:
    """The PPP agreement behind a `ppp_agreement` engagement."""
    ids = _linked_ids(engine, eng, PPP) if eng["instrument"] == "ppp_agreement" else []
    query = select(
        PPP.id,
        PPP.project,
        PPP.signed_on,
        PPP.state_partner_name,
        PPP.state_partner_bin,
        PPP.private_partner_name,
        PPP.private_partner_bin,
        PPP.ppp_form,
        PPP.selection_method,
        PPP.competitive,
        PPP.term_months,
        PPP.amount_kzt,
        PPP.status,
        PPP.contract_number,
        PPP.source_url,
        PPP.is_fictional,
    ).where(PPP.id.in_(ids))
    return _frame(engine, query.order_by(PPP.id))


def memorandum_documents(engine: Engine, memorandum_ids: list[str]) -> pd.DataFrame:
    """Published texts that announce or refer to these memoranda (later mentions are evidence too)."""
    query = (
        select(D.memorandum_id, D.relation, D.kind, D.title, D.published_on, D.language, D.source_url)
        .where(D.memorandum_id.in_(memorandum_ids))
        .order_by(D.published_on.asc().nulls_last(), D.id)
    )
    return _frame(engine, query)


# ---------------------------------------------------------------------------------------------- memoranda
@dataclass(frozen=True)
class MemorandumFilter:
    """What the memoranda page shows. Hashable, so Streamlit can cache per filter."""

    party: str = ""
    years: tuple[int, ...] = ()
    languages: tuple[str, ...] = ()


MEMORANDA_LIMIT = 5_000


def _party_search(text: str) -> ColumnElement[bool]:
    """Memoranda with a party matching `text`: BIN prefix (own or resolved), or folded name as written/resolved.

    The same folding as the register's search; the party's name as written is folded too, since a memorandum
    names its parties in its own words (memoranda are few, so this scan is cheap).
    """
    text = " ".join(text.split())
    if not text:
        return true()
    if text.isdigit():
        prefix = f"{_escape_like(text)}%"
        match = or_(
            MP.bin.like(prefix, escape="\\"),
            MP.organization_id.in_(select(O.id).where(O.bin.like(prefix, escape="\\"))),
        )
    else:
        pattern = f"%{_escape_like(fold_text(text) or '')}%"
        match = or_(
            _org_search(text, MP.organization_id, MP.bin, MP.name),
            fold(MP.name).like(pattern, escape="\\"),
        )
    return exists(select(MP.id).where(MP.memorandum_id == M.id, match))


def _memoranda_conditions(f: MemorandumFilter) -> list[ColumnElement[bool]]:
    # Donations found in press releases are stored beside memoranda but are not memoranda (the export agrees).
    conds: list[ColumnElement[bool]] = [M.instrument != "donation"]
    if f.party.strip():
        conds.append(_party_search(f.party))
    if f.years:
        conds.append(
            or_(*(and_(M.signed_on >= date(y, 1, 1), M.signed_on < date(y + 1, 1, 1)) for y in f.years))
        )
    if f.languages:
        conds.append(M.language.in_(f.languages))
    return conds


def _parties(engine: Engine, memorandum_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each memorandum's parties in order, with the organization each resolved to (if any)."""
    query = (
        select(
            MP.memorandum_id,
            MP.name,
            MP.bin,
            MP.role,
            MP.organization_id,
            O.bin.label("org_bin"),
            O.name_ru.label("org_name"),
        )
        .outerjoin(Organization.__table__, O.id == MP.organization_id)
        .where(MP.memorandum_id.in_(memorandum_ids))
        .order_by(MP.memorandum_id, MP.position)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            out.setdefault(row.memorandum_id, []).append(dict(row._mapping))
    return out


MEMORANDA_FRAME_COLUMNS: tuple[str, ...] = (
    "memorandum_id",
    "signed_on",
    "title",
    "parties",
    "party_bins",
    "organizations",
    "subject",
    "excerpt",
    "language",
    "source_url",
    "is_fictional",
)


def _memoranda_frame(
    engine: Engine, ids: list[str] | None, f: MemorandumFilter | None = None
) -> pd.DataFrame:
    """Memoranda (by id, or by filter) with their parties flattened into ` | `-joined text columns."""
    query = select(
        M.id.label("memorandum_id"),
        M.signed_on,
        M.title,
        M.subject,
        M.excerpt,
        M.language,
        M.source_url,
        M.is_fictional,
    )
    if ids is not None:
        query = query.where(M.id.in_(ids))
    if f is not None:
        query = query.where(*_memoranda_conditions(f))
    query = query.order_by(M.signed_on.desc().nulls_last(), M.id).limit(MEMORANDA_LIMIT)
    frame = _frame(engine, query)
    if frame.empty:
        return pd.DataFrame(columns=list(MEMORANDA_FRAME_COLUMNS))
    parties = _parties(engine, list(frame["memorandum_id"]))
    rows = [parties.get(i, []) for i in frame["memorandum_id"]]
    frame["parties"] = [MEMORANDA_SEPARATOR.join(p["name"] for p in ps) for ps in rows]
    frame["party_bins"] = [
        MEMORANDA_SEPARATOR.join(p["bin"] or p["org_bin"] or "" for p in ps) for ps in rows
    ]
    frame["organizations"] = [MEMORANDA_SEPARATOR.join(p["org_name"] or "" for p in ps) for ps in rows]
    return frame[list(MEMORANDA_FRAME_COLUMNS)]


def memoranda_rows(engine: Engine, f: MemorandumFilter) -> pd.DataFrame:
    """Matching memoranda, newest first (at most `MEMORANDA_LIMIT`)."""
    return _memoranda_frame(engine, None, f)


def memoranda_count(engine: Engine, f: MemorandumFilter) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(Memorandum.__table__).where(*_memoranda_conditions(f))
            ).scalar()
            or 0
        )


def memorandum_parties(engine: Engine, memorandum_ids: list[str]) -> pd.DataFrame:
    """One row per party of these memoranda: as written, BIN, role, and the organization it resolved to."""
    columns = ["memorandum_id", "name", "bin", "role", "organization_id", "org_bin", "org_name"]
    rows = [p for ps in _parties(engine, memorandum_ids).values() for p in ps]
    return pd.DataFrame(rows, columns=columns)


def memoranda_years(engine: Engine) -> list[int]:
    year = extract("year", M.signed_on)
    query = select(year.label("year")).where(M.signed_on.is_not(None)).distinct().order_by(year.desc())
    with engine.connect() as conn:
        return [int(y) for y in conn.execute(query).scalars()]


def memoranda_languages(engine: Engine) -> list[str]:
    query = select(M.language).where(M.language.is_not(None)).distinct().order_by(M.language)
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def memoranda_csv(engine: Engine, f: MemorandumFilter) -> bytes:
    """The filtered memoranda as `ashyq export memoranda` writes them: its columns, order and cell format."""
    order = M.id.collate("C") if engine.dialect.name == "postgresql" else M.id
    query = (
        select(M.id, M.signed_on, M.title, M.source_url, M.language)
        .where(*_memoranda_conditions(f))
        .order_by(order)
    )
    with engine.connect() as conn:
        memos = conn.execute(query).all()
    parties = _parties(engine, [m.id for m in memos])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(MEMORANDA_COLUMNS)
    for m in memos:
        ps = parties.get(m.id, [])
        writer.writerow(
            [
                m.id,
                m.signed_on.isoformat() if m.signed_on else "",
                m.title or "",
                MEMORANDA_SEPARATOR.join(p["name"] for p in ps),
                MEMORANDA_SEPARATOR.join(p["bin"] or p["org_bin"] or "" for p in ps),
                m.source_url or "",
                m.language or "",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
