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
from entities.models import (
    Document,
    Engagement,
    Memorandum,
    MemorandumParty,
    Organization,
    PPPAgreement,
    RawRecord,
)
from pipeline.export import COLUMNS as EXPORT_COLUMNS  # the register's CSV has exactly the export's columns
from pipeline.export import csv_cell
from pipeline.export_memoranda import COLUMNS as MEMORANDA_COLUMNS
from pipeline.export_memoranda import SEPARATOR as MEMORANDA_SEPARATOR
from pipeline.instrument_engagements import _eid as instrument_engagement_id

E = Engagement.__table__.c
O = Organization.__table__.c  # noqa: E741 - short alias used only in query expressions
R = RawRecord.__table__.c
M = Memorandum.__table__.c
MP = MemorandumParty.__table__.c
PPP = PPPAgreement.__table__.c
D = Document.__table__.c


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
    instruments: tuple[str, ...] = ()
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
    if f.instruments:
        conds.append(E.instrument.in_(f.instruments))
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


def _linked_ids(engine: Engine, eng: dict[str, Any], table_c: Any, prefix: str) -> list[str]:
    """Ids of the memoranda / PPP agreements whose derived engagement is `eng`.

    The engagement id is `<prefix>-<record id>` (hashed when long, `pipeline.instrument_engagements`), so
    candidates are the unprefixed id and the records behind the evidence, kept only where the id derives.
    """
    candidates = or_(
        table_c.id == eng["engagement_id"].removeprefix(f"{prefix}-"),
        table_c.raw_record_id.in_(raw_ids(eng.get("evidence_raw_ids"))),
    )
    with engine.connect() as conn:
        ids = conn.execute(select(table_c.id).where(candidates)).scalars()
        return [i for i in ids if instrument_engagement_id(prefix, i) == eng["engagement_id"]]


def engagement_memoranda(engine: Engine, eng: dict[str, Any]) -> pd.DataFrame:
    """The memorandum behind a `memorandum` engagement, in the memoranda page's columns."""
    if eng["instrument"] != "memorandum":
        return _memoranda_frame(engine, [])
    return _memoranda_frame(engine, _linked_ids(engine, eng, M, "memorandum"))


def engagement_ppp(engine: Engine, eng: dict[str, Any]) -> pd.DataFrame:
    """The PPP agreement behind a `ppp_agreement` engagement."""
    ids = _linked_ids(engine, eng, PPP, "ppp") if eng["instrument"] == "ppp_agreement" else []
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
    conds: list[ColumnElement[bool]] = []
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
