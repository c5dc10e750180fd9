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
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import (
    Engine,
    Select,
    Text,
    and_,
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
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from entities.db import make_engine
from entities.models import Engagement, Organization, RawRecord

E = Engagement.__table__.c
O = Organization.__table__.c  # noqa: E741 - short alias used only in query expressions
R = RawRecord.__table__.c

# The columns of `ashyq export engagements` (DESIGN §4), in order; the register's CSV uses exactly these.
EXPORT_COLUMNS: tuple[str, ...] = (
    "engagement_id",
    "instrument",
    "legal_basis",
    "competitive",
    "buyer_bin",
    "buyer_name",
    "provider_bin",
    "provider_name",
    "subject",
    "amount_kzt",
    "signed_on",
    "region_kato",
    "source_url",
)

# How the register may be sorted: URL-stable code → ORDER BY. The id breaks ties so pages are deterministic.
SORTS: dict[str, tuple[Any, ...]] = {
    "signed_desc": (E.signed_on.desc().nulls_last(), E.id),
    "signed_asc": (E.signed_on.asc().nulls_last(), E.id),
    "amount_desc": (E.amount_kzt.desc().nulls_last(), E.id),
    "amount_asc": (E.amount_kzt.asc().nulls_last(), E.id),
    "buyer": (E.buyer_name.asc().nulls_last(), E.signed_on.desc().nulls_last(), E.id),
    "provider": (E.provider_name.asc().nulls_last(), E.signed_on.desc().nulls_last(), E.id),
}
DEFAULT_SORT = "signed_desc"
# The competition filter: URL-stable code → `RegisterFilter.competitive`.
COMPETITIVE: dict[str, bool | None] = {"any": None, "yes": True, "no": False}
REGISTER_LIMIT = 10_000
CSV_BATCH = 5_000

# ---------------------------------------------------------------------------------------- name folding
# Search must not depend on case or on Kazakh letters: a reader types «білім» or «БИЛИМ» for «Білім».
# SQLite's lower() folds ASCII only, so the fold is spelled out per backend: a Python function registered
# on SQLite connections, translate(lower()) on PostgreSQL. Both map the same letters, listed once here.
_UPPER = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯӘІҢҒҮҰҚӨҺ"
_LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәіңғүұқөһ"
_KAZAKH = "әіңғүұқөһё"
_RUSSIAN = "аингууукое"
_FOLD_FROM = _UPPER + _KAZAKH
_FOLD_TO = _LOWER.translate(str.maketrans(_KAZAKH, _RUSSIAN)) + _RUSSIAN
_FOLD_TABLE = str.maketrans(_FOLD_FROM, _FOLD_TO)


def fold_text(value: str | None) -> str | None:
    """Lower-case, Kazakh letters folded to their Russian look-alikes, ё → е (same as the SQL `fold`)."""
    if value is None:
        return None
    return value.lower().translate(_FOLD_TABLE)


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


def freshness(engine: Engine) -> pd.DataFrame:
    """Per source: the latest fetch time and the number of raw records (the footer's provenance line)."""
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
def headline(engine: Engine) -> dict[str, Any]:
    """The overview's headline numbers, in one pass over `engagements`."""
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
    with engine.connect() as conn:
        row = conn.execute(query).one()
    out = dict(row._mapping)
    out["amount_kzt"] = Decimal(out["amount_kzt"])
    out["competitive_amount_kzt"] = Decimal(out["competitive_amount_kzt"])
    return out


def by_legal_basis(engine: Engine) -> pd.DataFrame:
    """Contracts and sums per legal basis and competitive flag, largest sum first."""
    amount = func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt")
    query = (
        select(E.legal_basis, E.competitive, func.count().label("contracts"), amount)
        .group_by(E.legal_basis, E.competitive)
        .order_by(amount.desc(), E.legal_basis)
    )
    return _frame(engine, query)


def by_year(engine: Engine) -> pd.DataFrame:
    """Contracts and sums per signing year and competitive flag (rows without a date are left out)."""
    year = extract("year", E.signed_on)
    query = (
        select(
            year.label("year"),
            E.competitive,
            func.count().label("contracts"),
            func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt"),
        )
        .where(E.signed_on.is_not(None))
        .group_by(year, E.competitive)
        .order_by(year, E.competitive)
    )
    frame = _frame(engine, query)
    frame["year"] = frame["year"].astype(int)
    return frame


def by_region(engine: Engine) -> pd.DataFrame:
    """Contracts and sums per region (2-digit KATO; None where not known) and competitive flag."""
    query = (
        select(
            E.region_kato,
            E.competitive,
            func.count().label("contracts"),
            func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt"),
        )
        .group_by(E.region_kato, E.competitive)
        .order_by(E.region_kato, E.competitive)
    )
    return _frame(engine, query)


def top_providers(engine: Engine, limit: int = 10) -> pd.DataFrame:
    """The providers holding the largest sums, with how much of it came without competition.

    Grouped by BIN (the identity); the name shown is one of the names the engagements carry for it.
    """
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
    return _frame(engine, query)


def years(engine: Engine) -> list[int]:
    """The signing years present, newest first (the register's year options)."""
    year = extract("year", E.signed_on)
    query = select(year.label("year")).where(E.signed_on.is_not(None)).distinct().order_by(year.desc())
    with engine.connect() as conn:
        return [int(y) for y in conn.execute(query).scalars()]


def legal_bases(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(E.legal_basis).distinct().order_by(E.legal_basis)).scalars())


# ---------------------------------------------------------------------------------------------- register
@dataclass(frozen=True)
class RegisterFilter:
    """What the register shows. Hashable, so Streamlit can cache per filter."""

    regions: tuple[str, ...] = ()
    legal_bases: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    buyer: str = ""
    provider: str = ""
    competitive: bool | None = None
    sort: str = DEFAULT_SORT


def _org_search(
    text: str, id_col: ColumnElement[Any], bin_col: ColumnElement[Any], name_col: ColumnElement[Any]
) -> ColumnElement[bool]:
    """Rows whose organization matches `text`: by BIN prefix, or by folded name (ru, kk, or as in the row).

    Names are searched in `organizations` (small) and the matching ids used as a subquery, so the fold runs
    over organizations, not over millions of engagements; the engagement's own name column is only folded
    where no organization is linked.
    """
    text = " ".join(text.split())
    if not text:
        return true()
    if text.isdigit():
        return bin_col.like(f"{_escape_like(text)}%", escape="\\")
    pattern = f"%{_escape_like(fold_text(text) or '')}%"
    matching_orgs = select(O.id).where(
        or_(
            fold(O.name_ru).like(pattern, escape="\\"),
            fold(O.name_kk).like(pattern, escape="\\"),
            fold(O.name_en).like(pattern, escape="\\"),
            fold(O.name_norm).like(pattern, escape="\\"),
        )
    )
    return or_(
        id_col.in_(matching_orgs),
        and_(id_col.is_(None), fold(name_col).like(pattern, escape="\\")),
    )


def _conditions(f: RegisterFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.regions:
        conds.append(E.region_kato.in_(f.regions))
    if f.legal_bases:
        conds.append(E.legal_basis.in_(f.legal_bases))
    if f.years:
        # Date ranges rather than extract(year) so the (region, signed_on) index can serve them.
        conds.append(
            or_(*(and_(E.signed_on >= date(y, 1, 1), E.signed_on < date(y + 1, 1, 1)) for y in f.years))
        )
    if f.competitive is not None:
        conds.append(E.competitive.is_(true() if f.competitive else false()))
    if f.buyer.strip():
        conds.append(_org_search(f.buyer, E.buyer_id, E.buyer_bin, E.buyer_name))
    if f.provider.strip():
        conds.append(_org_search(f.provider, E.provider_id, E.provider_bin, E.provider_name))
    return conds


def _register_select(f: RegisterFilter) -> Select[Any]:
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
    return select(*columns).where(*_conditions(f)).order_by(*order)


def register_summary(engine: Engine, f: RegisterFilter) -> dict[str, Any]:
    """How many engagements match, and their total sum."""
    query = select(
        func.count().label("contracts"), func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt")
    ).where(*_conditions(f))
    with engine.connect() as conn:
        row = conn.execute(query).one()
    return {"contracts": int(row.contracts), "amount_kzt": Decimal(row.amount_kzt)}


def register_rows(engine: Engine, f: RegisterFilter, limit: int = REGISTER_LIMIT) -> pd.DataFrame:
    """The first `limit` matching engagements in the chosen order, with the export's columns."""
    frame = _frame(engine, _register_select(f).limit(limit))
    if frame.empty:
        return pd.DataFrame(columns=list(EXPORT_COLUMNS))
    return frame


def _csv_value(value: Any) -> Any:
    """Cells formatted as `ashyq export engagements` writes them (true/false, 2-decimal amounts, ISO dates)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01")), "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def iter_register_csv(engine: Engine, f: RegisterFilter) -> Iterator[list[Any]]:
    """Every matching row (no limit), streamed from the server in batches, as CSV cells."""
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CSV_BATCH).execute(_register_select(f))
        for row in result:
            yield [_csv_value(v) for v in row]


def register_csv(engine: Engine, f: RegisterFilter) -> bytes:
    """The filtered register as CSV: UTF-8 with a BOM (so Excel reads Cyrillic), the export's header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(iter_register_csv(engine, f))
    return buffer.getvalue().encode("utf-8-sig")
