"""Queries of the search, entity and region pages: SQLAlchemy Core over the derived tables, returning DataFrames.

Pages never hold SQL; they call these functions through the caches in `dashboard/data_entity.py`. Everything
that can grow with the archive is looked up through an index (ids, BINs, `name_norm`, `region_kato`) and capped:
an entity card lists at most `CARD_LIMIT` rows per table (its totals are aggregated over all rows).

Search narrows candidates in the database, then ranks them with rapidfuzz on the resolver's script-independent
skeleton (`entities.names.skeleton_text`), so «Білім», «БИЛИМ» and «Bilim» rank the same name first:
- digits: a BIN (exact or prefix, on the `bin` index) or an IIN (its keyed hash only: `persons.iin_hash` and
  the `kz-ip-<hash>` id of an individual entrepreneur; the number is never stored, shown or put in a URL);
- words: `name_norm` prefix ranges (the index), also behind each short legal form («тоо білім…»), plus a
  bounded scan for the longest word anywhere in the name (folded as the register folds, `LIMIT`ed).
Unverified about real data: `name_norm` is the normalizer's simple key (Kazakh letters kept), so the prefix
ranges see a Kazakh spelling only when the query spells it so; the bounded scan folds both sides and catches it.
A Latin query is also tried in a rough Cyrillic transliteration; the ranking decides what survives.

Strings come back raw (names from sources are untrusted text); the pages render them safely.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

import pandas as pd
from rapidfuzz import fuzz
from sqlalchemy import Engine, Select, and_, case, exists, extract, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement

from dashboard.queries import _frame
from entities.config import REFERENCE_DIR
from entities.identifiers import bin_info, iin_hash, is_valid, looks_like_iin
from entities.models import (
    Bid,
    Contract,
    Engagement,
    EngagementTotal,
    EntityLink,
    Flag,
    FlagAdjudication,
    Lot,
    Mention,
    Organization,
    Person,
    Procurement,
    RawRecord,
    RegionPartyTotal,
    Role,
)
from entities.names import KAZAKH_TO_RUSSIAN, skeleton_text
from pipeline.aggregates import Category, categories, category_of  # noqa: F401 - the region page's vocabulary
from pipeline.export import csv_cell
from pipeline.normalize.common import name_norm

E = Engagement.__table__.c
O = Organization.__table__.c  # noqa: E741 - short alias used only in query expressions
P = Person.__table__.c
R = RawRecord.__table__.c
MN = Mention.__table__.c
EL = EntityLink.__table__.c
RL = Role.__table__.c
B = Bid.__table__.c
L = Lot.__table__.c
PR = Procurement.__table__.c
C = Contract.__table__.c
F = Flag.__table__.c
ET = EngagementTotal.__table__.c  # pre-aggregated per region/year/basis by `pipeline.aggregates`
FA = FlagAdjudication.__table__.c
RPT = RegionPartyTotal.__table__.c  # per region, side, category and BIN (`pipeline.aggregates`)

SEARCH_LIMIT = 50  # results shown
CANDIDATES = 200  # rows each candidate query may bring (the ranking runs over at most a few hundred names)
MIN_SCORE = 55.0  # below this a candidate shares little more than a legal form with the query
CARD_LIMIT = 1_000  # rows per table on an entity card (totals are computed over all rows)
REGION_TOP = 20
SCAN_WORDS = 2  # words of the query looked up anywhere in a name (each is one bounded scan)


# ------------------------------------------------------------------------------------------------ search
@cache
def _short_forms() -> tuple[str, ...]:
    """Short legal forms (ТОО, КГУ, ЖШС…) as `name_norm` writes them: names usually start with one."""
    with (REFERENCE_DIR / "legal_forms.csv").open(encoding="utf-8") as fh:
        forms = {name_norm(row["form"]) for row in csv.DictReader(fh) if row["kind"] == "short"}
    return tuple(sorted(f for f in forms if f and " " not in f))


_LATIN = re.compile(r"[a-z]")
_CYRILLIC = re.compile(r"[а-яёәіңғүұқөһ]")
_TRANSLIT = (  # a rough reading of Latin spellings of Russian/Kazakh names; the ranking decides the rest
    ("shch", "щ"),
    ("sh", "ш"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ch", "ч"),
    ("ts", "ц"),
    ("yu", "ю"),
    ("ya", "я"),
    ("yo", "е"),
    ("a", "а"),
    ("b", "б"),
    ("c", "к"),
    ("d", "д"),
    ("e", "е"),
    ("f", "ф"),
    ("g", "г"),
    ("h", "х"),
    ("i", "и"),
    ("j", "ж"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("q", "к"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("v", "в"),
    ("w", "у"),
    ("x", "кс"),
    ("y", "ы"),
    ("z", "з"),
)


def _to_cyrillic(text: str) -> str:
    for latin, cyrillic in _TRANSLIT:
        text = text.replace(latin, cyrillic)
    return text


def _variants(query: str) -> list[str]:
    """The query as `name_norm` writes names, and (for a Latin query) a Cyrillic reading of it."""
    key = name_norm(query) or ""
    out = [key] if key else []
    if key and _LATIN.search(key) and not _CYRILLIC.search(key):
        out.append(_to_cyrillic(key))
    return out


def _prefix(column: ColumnElement[Any], text: str) -> ColumnElement[bool]:
    """`column` starts with `text`, as a range both backends serve from a btree index (LIKE may not)."""
    return and_(column >= text, column < text + "\uffff")


def _ids_of(engine: Engine, query: Select[Any]) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(query).all())


# A Russian letter and its Kazakh neighbours, matched as one character class (GLOB on SQLite, a regular
# expression on PostgreSQL): both run natively over `name_norm`, where folding the column per row would not.
# `name_norm` is case-folded with ё→е, and query words are letters and digits only (no pattern syntax).
_KZ_PAIRS = tuple((k, r) for k, r in KAZAKH_TO_RUSSIAN.items() if k != "ё")  # name_norm already has ё → е
_CLASSES = {"а": "аә", "и": "иі", "н": "нң", "г": "гғ", "у": "уүұ", "к": "кқ", "о": "оө", "х": "хһ"}


def _kz_fold_text(text: str) -> str:
    return text.translate(str.maketrans(dict(_KZ_PAIRS)))


def _contains(column: ColumnElement[Any], word: str) -> ColumnElement[bool]:
    """`column` contains `word`, a Kazakh letter and its Russian neighbour counting as the same letter."""
    body = "".join(f"[{_CLASSES[c]}]" if c in _CLASSES else c for c in _kz_fold_text(word))
    glob = column.op("GLOB", is_comparison=True)(f"*{body}*")
    regex = column.op("~", is_comparison=True)(body)
    return _by_dialect(glob, regex)


class _by_dialect(ColumnElement[bool]):  # noqa: N801 - reads like a function in query code
    """GLOB on SQLite, the PostgreSQL form elsewhere (compiled per dialect below)."""

    inherit_cache = True

    def __init__(self, sqlite: ColumnElement[bool], other: ColumnElement[bool]) -> None:
        self.sqlite = sqlite
        self.other = other
        self.type = sqlite.type


@compiles(_by_dialect)
def _compile_other(element: _by_dialect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.other, **kw)


@compiles(_by_dialect, "sqlite")
def _compile_sqlite(element: _by_dialect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.sqlite, **kw)


def _scans(column: ColumnElement[Any], variants: list[str]) -> list[ColumnElement[bool]]:
    """Two conditions: any whole query word anywhere in the name, then any word's first four letters."""
    words, stems = _scan_words(variants)
    return [or_(*(_contains(column, w) for w in items)) for items in (words, stems) if items]


def _org_candidates(engine: Engine, variants: list[str]) -> list[Any]:
    cols = (O.id, O.kind, O.bin, O.name_ru, O.name_kk, O.name_en, O.region_kato, O.is_fictional)
    ranges = [
        _prefix(O.name_norm, prefix)
        for v in variants
        for prefix in (v, *(f"{form} {v}" for form in _short_forms()))
    ]
    rows = _ids_of(engine, select(*cols).where(or_(*ranges)).limit(CANDIDATES))
    for condition in _scans(O.name_norm, variants):
        rows += _ids_of(engine, select(*cols).where(condition).limit(CANDIDATES))
    return rows


def _person_candidates(engine: Engine, variants: list[str]) -> list[Any]:
    cols = (P.id, P.display_name, P.is_fictional)
    rows = _ids_of(
        engine, select(*cols).where(or_(*(_prefix(P.name_norm, v) for v in variants))).limit(CANDIDATES)
    )
    for condition in _scans(P.name_norm, variants):
        rows += _ids_of(engine, select(*cols).where(condition).limit(CANDIDATES))
    return rows


def _scan_words(variants: list[str]) -> tuple[list[str], list[str]]:
    """The longest words of each variant (3+ letters, at most `SCAN_WORDS`), and the first four letters of the
    longer ones, so that a typo further on still finds candidates."""
    words: list[str] = []
    stems: list[str] = []
    for v in variants:
        for word in sorted((w for w in v.split() if len(w) >= 3), key=len, reverse=True)[:SCAN_WORDS]:
            words.append(word)
            if len(word) > 5:
                stems.append(word[:4])
    return list(dict.fromkeys(words)), list(dict.fromkeys(stems))


SEARCH_COLUMNS = (
    "entity_id",
    "kind",
    "name",
    "other_names",
    "bin",
    "region_kato",
    "score",
    "matched_by",
    "is_fictional",
)


def _org_hit(row: Any, score: float, matched_by: str) -> dict[str, Any]:
    names = [n for n in (row.name_ru, row.name_kk, row.name_en) if n]
    return {
        "entity_id": row.id,
        "kind": row.kind or "organization",
        "name": names[0] if names else row.id,
        "other_names": " | ".join(dict.fromkeys(names[1:])),
        "bin": row.bin,
        "region_kato": row.region_kato,
        "score": score,
        "matched_by": matched_by,
        "is_fictional": bool(row.is_fictional),
    }


def _person_hit(row: Any, score: float, matched_by: str) -> dict[str, Any]:
    return {
        "entity_id": row.id,
        "kind": "person",
        "name": row.display_name,
        "other_names": "",
        "bin": None,  # never an IIN
        "region_kato": None,
        "score": score,
        "matched_by": matched_by,
        "is_fictional": bool(row.is_fictional),
    }


def _by_digits(engine: Engine, digits: str) -> list[dict[str, Any]]:
    cols = (O.id, O.kind, O.bin, O.name_ru, O.name_kk, O.name_en, O.region_kato, O.is_fictional)
    hits: list[dict[str, Any]] = []
    if len(digits) == 12:
        rows = _ids_of(engine, select(*cols).where(O.bin == digits).limit(CANDIDATES))
        hits.extend(_org_hit(row, 100.0, "bin") for row in rows)
        if looks_like_iin(digits):
            hashed = iin_hash(digits)
            rows = _ids_of(engine, select(*cols).where(O.id == f"kz-ip-{hashed[:16]}"))
            hits.extend(_org_hit(row, 100.0, "iin") for row in rows)
            person = select(P.id, P.display_name, P.is_fictional).where(P.iin_hash == hashed)
            hits.extend(_person_hit(row, 100.0, "iin") for row in _ids_of(engine, person.limit(CANDIDATES)))
    elif len(digits) >= 4:
        query = select(*cols).where(_prefix(O.bin, digits)).order_by(O.bin).limit(SEARCH_LIMIT)
        hits.extend(_org_hit(row, 100.0 * len(digits) / 12, "bin_prefix") for row in _ids_of(engine, query))
    return hits


def search(engine: Engine, query: str, limit: int = SEARCH_LIMIT) -> pd.DataFrame:
    """Organizations and persons matching `query` (a name in any script, a BIN or an IIN), best first."""
    text = " ".join(query.split())
    digits = re.sub(r"[\s-]", "", text)
    if digits.isdigit():
        hits = _by_digits(engine, digits)
    else:
        variants = _variants(text)
        if not variants:
            return pd.DataFrame(columns=list(SEARCH_COLUMNS))
        target = skeleton_text(text)
        seen: dict[str, dict[str, Any]] = {}
        for row in _org_candidates(engine, variants):
            names = [n for n in (row.name_ru, row.name_kk, row.name_en) if n]
            score = max((_score(target, n) for n in names), default=0.0)
            seen[row.id] = _org_hit(row, score, "name")
        for row in _person_candidates(engine, variants):
            seen[row.id] = _person_hit(row, _score(target, row.display_name), "name")
        hits = [h for h in seen.values() if h["score"] >= MIN_SCORE]
    hits.sort(key=lambda h: (-h["score"], str(h["name"]), h["entity_id"]))
    unique = list({h["entity_id"]: h for h in reversed(hits)}.values())[::-1][:limit]
    return pd.DataFrame(unique, columns=list(SEARCH_COLUMNS))


def _score(target: str, name: str) -> float:
    """How well `name` answers the query: WRatio on the script-independent skeletons (0–100)."""
    return float(fuzz.WRatio(target, skeleton_text(name), score_cutoff=0) or 0.0)


# ------------------------------------------------------------------------------------------- entity card
def entity_kind(entity_id: str) -> str | None:
    """`organization` or `person` by the id's shape; None when it is neither (then both tables are tried)."""
    if entity_id.startswith(("kz-person-", "person-")):
        return "person"
    return None


def organization(engine: Engine, entity_id: str) -> dict[str, Any] | None:
    """One organization's identity (never its `iin` column), its source record, parent and what its BIN says."""
    query = (
        select(
            O.id,
            O.bin,
            O.bin_valid,
            O.kind,
            O.legal_form,
            O.name_ru,
            O.name_kk,
            O.name_en,
            O.registered_on,
            O.kato,
            O.region_kato,
            O.oked,
            O.parent_bin,
            O.is_fictional,
            O.raw_record_id,
            R.url.label("source_api_url"),
            R.human_url.label("source_url"),
            R.fetched_at,
            R.source,
        )
        .outerjoin(RawRecord.__table__, R.id == O.raw_record_id)
        .where(O.id == entity_id)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
        if row is None:
            return None
        out = dict(row._mapping)
        out["parent_id"] = None
        if out["parent_bin"]:
            out["parent_id"] = conn.execute(select(O.id).where(O.bin == out["parent_bin"]).limit(1)).scalar()
        out["branches"] = []
        if out["bin"]:
            branches = (
                select(O.id, O.bin, O.name_ru).where(O.parent_bin == out["bin"]).order_by(O.bin).limit(50)
            )
            out["branches"] = [dict(r._mapping) for r in conn.execute(branches)]
    info = bin_info(out["bin"]) if out["bin"] and is_valid(out["bin"]) else None
    out["bin_info"] = (
        None
        if info is None
        else {
            "registered": f"{info.registered_year}-{info.registered_month:02d}",
            "entity_type": info.entity_type,
            "branch": info.branch,
        }
    )
    names = [n for n in (out["name_ru"], out["name_kk"], out["name_en"]) if n]
    out["name"] = names[0] if names else out["id"]
    return out


def person(engine: Engine, entity_id: str) -> dict[str, Any] | None:
    """One person: name parts and whether an IIN identifies them (the hash is never shown, the IIN never stored)."""
    query = select(
        P.id,
        P.display_name,
        P.surname,
        P.given_name,
        P.patronymic,
        P.is_fictional,
        P.iin_hash.is_not(None).label("has_iin"),
    ).where(P.id == entity_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["name"] = out["display_name"]
    out["has_iin"] = bool(out["has_iin"])
    return out


def names_seen(engine: Engine, entity_id: str, kind: str) -> pd.DataFrame:
    """Every name the sources gave this entity: spelling, field, how it was matched, how often, one source."""
    col = MN.person_id if kind == "person" else MN.organization_id
    grouped = (
        select(
            MN.name,
            MN.field,
            MN.match_rule,
            func.max(MN.match_score).label("match_score"),
            func.count().label("mentions"),
            func.max(MN.raw_record_id).label("raw_record_id"),
        )
        .where(col == entity_id)
        .group_by(MN.name, MN.field, MN.match_rule)
        .subquery()
    )
    query = (
        select(grouped, R.human_url, R.url, R.fetched_at)
        .outerjoin(RawRecord.__table__, R.id == grouped.c.raw_record_id)
        .order_by(grouped.c.mentions.desc(), grouped.c.name)
        .limit(CARD_LIMIT)
    )
    return _frame(engine, query)


def merge_links(engine: Engine, entity_id: str) -> pd.DataFrame:
    """Why the resolver merged mentions into this entity: each pair, its rule and score."""
    query = (
        select(EL.left_name, EL.right_name, EL.rule, EL.score, EL.left_ref, EL.right_ref)
        .where(EL.entity_id == entity_id)
        .order_by(EL.rule, EL.id)
        .limit(CARD_LIMIT)
    )
    return _frame(engine, query)


ENGAGEMENT_COLUMNS = (
    "engagement_id",
    "role",
    "signed_on",
    "instrument",
    "instrument_ref",
    "legal_basis",
    "competitive",
    "counterpart_id",
    "counterpart_name",
    "counterpart_bin",
    "subject",
    "amount_kzt",
    "region_kato",
    "source_url",
    "is_fictional",
)


def _engagement_side(entity_id: str, role: str) -> Select[Any]:
    mine, other = (E.buyer_id, "provider") if role == "buyer" else (E.provider_id, "buyer")
    return select(
        E.id.label("engagement_id"),
        literal(role).label("role"),
        E.signed_on,
        E.instrument,
        E.instrument_ref,
        E.legal_basis,
        E.competitive,
        E[f"{other}_id"].label("counterpart_id"),
        E[f"{other}_name"].label("counterpart_name"),
        E[f"{other}_bin"].label("counterpart_bin"),
        E.subject,
        E.amount_kzt,
        E.region_kato,
        E.source_url,
        E.is_fictional,
    ).where(mine == entity_id)


def engagements(engine: Engine, entity_id: str, limit: int = CARD_LIMIT) -> pd.DataFrame:
    """The organization's engagements as buyer and as provider, newest first (each side on its own index)."""
    frames = [
        _frame(
            engine,
            _engagement_side(entity_id, role).order_by(E.signed_on.desc().nulls_last(), E.id).limit(limit),
        )
        for role in ("buyer", "provider")
    ]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(ENGAGEMENT_COLUMNS))
    both = pd.concat(frames, ignore_index=True)
    both["_date"] = pd.to_datetime(both["signed_on"])
    both = both.sort_values(["_date", "engagement_id"], ascending=[False, True], na_position="last")
    return both.drop(columns="_date").head(limit).reset_index(drop=True)


def _role_groups(engine: Engine, entity_id: str) -> pd.DataFrame:
    """Per role, legal basis and signing year: count and sum (one grouped pass per role, on its index)."""
    year = extract("year", E.signed_on)
    frames = []
    for role, col in (("buyer", E.buyer_id), ("provider", E.provider_id)):
        query = (
            select(
                literal(role).label("role"),
                E.legal_basis,
                year.label("year"),
                func.count().label("engagements"),
                func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt"),
            )
            .where(col == entity_id)
            .group_by(E.legal_basis, year)
        )
        frames.append(_frame(engine, query))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["role", "legal_basis", "year", "engagements", "amount_kzt"])
    out = pd.concat(frames, ignore_index=True)
    out["amount_kzt"] = out["amount_kzt"].map(Decimal)
    return out


def totals_and_timeline(engine: Engine, entity_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per role and legal basis, per signing year and role): counts and sums over all the entity's engagements
    (not only the shown ones); rows without a date count in the totals, not on the timeline."""
    groups = _role_groups(engine, entity_id)
    if groups.empty:
        return (
            pd.DataFrame(columns=["role", "legal_basis", "engagements", "amount_kzt"]),
            pd.DataFrame(columns=["year", "role", "engagements", "amount_kzt"]),
        )
    totals = groups.groupby(["role", "legal_basis"], as_index=False).agg(
        engagements=("engagements", "sum"), amount_kzt=("amount_kzt", "sum")
    )
    dated = groups[groups["year"].notna()].assign(amount_kzt=lambda g: g["amount_kzt"].astype(float))
    timeline = (
        dated.assign(year=dated["year"].astype(int))
        .groupby(["year", "role"], as_index=False)
        .agg(engagements=("engagements", "sum"), amount_kzt=("amount_kzt", "sum"))
        .sort_values(["year", "role"])
        .reset_index(drop=True)
    )
    return totals, timeline


TENDER_COLUMNS = (
    "trd_buy_id",
    "number_anno",
    "procurement",
    "lot_id",
    "lot_number",
    "lot",
    "customer_bin",
    "published",
    "price",
    "lot_amount",
    "bidders",
    "outcome",
    "winner_bin",
    "applied_at",
    "source_url",
    "fetched_at",
)


def tenders(engine: Engine, bin_: str | None, limit: int = CARD_LIMIT) -> pd.DataFrame:
    """Bids this BIN made, newest first: the lot, its price, how many bid, and whether a contract followed.

    `outcome` is `won` when a (not deleted) contract of the same procurement names this supplier, `lost` when
    one names another, `open` when none does yet. Goszakup's bid statuses are not used: their meaning is
    undocumented (unverified), while a signed contract is the fact that matters.
    """
    if not bin_:
        return pd.DataFrame(columns=list(TENDER_COLUMNS))
    me = Bid.__table__.alias("me")
    other = Bid.__table__.alias("other")
    bidders = (
        select(func.count(other.c.supplier_biin.distinct()))
        .where(
            case(
                (me.c.lot_id.is_not(None), other.c.lot_id == me.c.lot_id),
                else_=other.c.trd_buy_id == me.c.trd_buy_id,
            )
        )
        .scalar_subquery()
    )
    contract_alive = and_(C.trd_buy_id == me.c.trd_buy_id, C.deleted.is_(False))
    won = exists(select(C.id).where(contract_alive, C.supplier_biin == bin_))
    any_contract = exists(select(C.id).where(contract_alive))
    winner = (
        select(func.min(C.supplier_biin)).where(contract_alive, C.supplier_biin != bin_).scalar_subquery()
    )
    query = (
        select(
            me.c.trd_buy_id,
            PR.number_anno,
            PR.name_ru.label("procurement"),
            me.c.lot_id,
            L.lot_number,
            L.name_ru.label("lot"),
            func.coalesce(L.customer_bin, PR.customer_bin).label("customer_bin"),
            PR.publish_date.label("published"),
            me.c.price,
            L.amount.label("lot_amount"),
            bidders.label("bidders"),
            case((won, "won"), (any_contract, "lost"), else_="open").label("outcome"),
            winner.label("winner_bin"),
            me.c.applied_at,
            R.human_url.label("source_url"),
            R.fetched_at,
        )
        .select_from(me)
        .outerjoin(Lot.__table__, L.id == me.c.lot_id)
        .outerjoin(Procurement.__table__, PR.id == me.c.trd_buy_id)
        .outerjoin(RawRecord.__table__, R.id == me.c.raw_record_id)
        .where(me.c.supplier_biin == bin_)
        .order_by(me.c.applied_at.desc().nulls_last(), me.c.id.desc())
        .limit(limit)
    )
    frame = _frame(engine, query)
    if frame.empty:
        return pd.DataFrame(columns=list(TENDER_COLUMNS))
    frame.loc[frame["outcome"] == "won", "winner_bin"] = bin_
    return frame


def people(engine: Engine, entity_id: str, kind: str) -> pd.DataFrame:
    """Roles: for an organization the people in it, for a person the organizations; with dates and source."""
    if kind == "person":
        query = (
            select(
                RL.organization_id.label("other_id"),
                func.coalesce(O.name_ru, O.name_kk, O.name_en, RL.organization_id).label("other_name"),
                RL.role,
                RL.title,
                RL.start_date,
                RL.end_date,
                R.human_url,
                R.url,
                R.fetched_at,
            )
            .outerjoin(Organization.__table__, O.id == RL.organization_id)
            .where(RL.person_id == entity_id)
        )
    else:
        query = (
            select(
                RL.person_id.label("other_id"),
                func.coalesce(P.display_name, RL.person_id).label("other_name"),
                RL.role,
                RL.title,
                RL.start_date,
                RL.end_date,
                R.human_url,
                R.url,
                R.fetched_at,
            )
            .outerjoin(Person.__table__, P.id == RL.person_id)
            .where(RL.organization_id == entity_id)
        )
    query = query.outerjoin(RawRecord.__table__, R.id == RL.raw_record_id)
    return _frame(engine, query.order_by(RL.start_date.desc().nulls_last(), RL.id).limit(CARD_LIMIT))


FLAG_COLUMNS = (
    "flag_id",
    "code",
    "severity",
    "explanation",
    "legal_reference",
    "state",
    "note",
    "adjudicated_at",
    "source_urls",
    "computed_at",
)


def flags_about(engine: Engine, entity_id: str) -> pd.DataFrame:
    """Red flags whose subject is this entity, with the adjudication in force (the newest), if any."""
    query = (
        select(
            F.id.label("flag_id"),
            F.code,
            F.severity,
            F.explanation,
            F.legal_reference,
            F.source_urls,
            F.computed_at,
        )
        .where(F.subject_id == entity_id)
        .order_by(F.code, F.id)
        .limit(CARD_LIMIT)
    )
    frame = _frame(engine, query)
    if frame.empty:
        return pd.DataFrame(columns=list(FLAG_COLUMNS))
    adj = _frame(
        engine,
        select(FA.flag_id, FA.state, FA.note, FA.created_at, FA.id)
        .where(FA.flag_id.in_(list(frame["flag_id"])))
        .order_by(FA.created_at, FA.id),
    )
    latest = {r.flag_id: r for r in adj.itertuples()}  # ordered oldest first: the last one wins
    frame["state"] = [latest[i].state if i in latest else None for i in frame["flag_id"]]
    frame["note"] = [latest[i].note if i in latest else None for i in frame["flag_id"]]
    frame["adjudicated_at"] = [latest[i].created_at if i in latest else None for i in frame["flag_id"]]
    frame["source_urls"] = [
        " ".join(str(u) for u in (v or []) if isinstance(u, str)) for v in frame["source_urls"]
    ]
    return frame[list(FLAG_COLUMNS)]


SOURCE_COLUMNS = ("raw_record_id", "source", "record_type", "external_id", "human_url", "url", "fetched_at")


def sources(engine: Engine, entity_id: str, kind: str, own_raw_id: int | None) -> pd.DataFrame:
    """The raw records this card rests on: the entity's own record, and those its names and roles come from."""
    ids: set[int] = {own_raw_id} if own_raw_id else set()
    mention_col = MN.person_id if kind == "person" else MN.organization_id
    role_col = RL.person_id if kind == "person" else RL.organization_id
    with engine.connect() as conn:
        ids |= set(
            conn.execute(
                select(MN.raw_record_id).where(mention_col == entity_id).distinct().limit(CARD_LIMIT)
            ).scalars()
        )
        ids |= set(
            conn.execute(
                select(RL.raw_record_id).where(role_col == entity_id).distinct().limit(CARD_LIMIT)
            ).scalars()
        )
    query = (
        select(
            R.id.label("raw_record_id"),
            R.source,
            R.record_type,
            R.external_id,
            R.human_url,
            R.url,
            R.fetched_at,
        )
        .where(R.id.in_(sorted(ids)[:CARD_LIMIT]))
        .order_by(R.fetched_at.desc(), R.id)
    )
    return _frame(engine, query)


# ------------------------------------------------------------------------------------------------ region
@dataclass(frozen=True)
class RegionFilter:
    """A region page: 2-digit KATO, optionally a district (more KATO digits of the buyer's address)."""

    kato: str
    district: str = ""


def _region_conditions(f: RegionFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [E.region_kato == f.kato]
    if f.district:
        prefix = f"{f.kato}{f.district}"
        # Engagements carry a 2-digit region only; a district is the buyer organization's KATO address.
        conds.append(E.buyer_id.in_(select(O.id).where(O.region_kato == f.kato, _prefix(O.kato, prefix))))
    return conds


def _amount() -> Any:
    return func.coalesce(func.sum(E.amount_kzt), 0).label("amount_kzt")


def _by_basis_year(engine: Engine, f: RegionFilter) -> pd.DataFrame:
    if not f.district:  # a whole region: the build's pre-aggregated totals, when the build has written them
        totals = _by_basis_year_from_totals(engine, f.kato)
        if totals is not None:
            return totals
    return _by_basis_year_direct(engine, f)


def _by_basis_year_from_totals(engine: Engine, kato: str) -> pd.DataFrame | None:
    """The same frame as `_by_basis_year_direct`, from `engagement_totals` (a few rows per region and year
    instead of the region's ~100k engagements at the 1M scale); None when the aggregates are empty."""
    with engine.connect() as conn:
        if conn.execute(select(ET.id).limit(1)).first() is None:
            return None
    query = (
        select(ET.legal_basis, ET.competitive, ET.year.label("year"), func.sum(ET.contracts).label("engagements"),
               func.coalesce(func.sum(ET.amount_kzt), 0).label("amount_kzt"))
        .where(ET.region_kato == kato)
        .group_by(ET.legal_basis, ET.competitive, ET.year)
    )  # fmt: skip
    frame = _frame(engine, query)
    if not frame.empty:
        frame["engagements"] = frame["engagements"].astype(int)
        frame["amount_kzt"] = frame["amount_kzt"].map(lambda v: Decimal(str(v)).quantize(Decimal("0.01")))
    return frame


def _by_basis_year_direct(engine: Engine, f: RegionFilter) -> pd.DataFrame:
    year = extract("year", E.signed_on)
    query = (
        select(E.legal_basis, E.competitive, year.label("year"), func.count().label("engagements"), _amount())
        .where(*_region_conditions(f))
        .group_by(E.legal_basis, E.competitive, year)
    )
    frame = _frame(engine, query)
    frame["amount_kzt"] = frame["amount_kzt"].map(Decimal) if not frame.empty else frame["amount_kzt"]
    return frame


def _by_side(engine: Engine, f: RegionFilter, side: str) -> pd.DataFrame:
    bin_col = E[f"{side}_bin"]
    query = (
        select(
            func.max(E[f"{side}_id"]).label("entity_id"),
            bin_col.label("bin"),
            func.max(E[f"{side}_name"]).label("name"),
            func.count().label("engagements"),
            _amount(),
            func.count().filter(E.competitive.is_(False)).label("noncompetitive"),
        )
        .where(*_region_conditions(f))
        .group_by(bin_col)
    )
    frame = _frame(engine, query)
    frame["amount_kzt"] = frame["amount_kzt"].astype(float) if not frame.empty else frame["amount_kzt"]
    return frame


def _by_subject_provider(engine: Engine, f: RegionFilter) -> pd.DataFrame:
    query = (
        select(
            E.subject,
            E.provider_bin,
            func.max(E.provider_id).label("provider_id"),
            func.max(E.provider_name).label("provider_name"),
            func.count().label("engagements"),
            _amount(),
            func.count().filter(E.competitive.is_(False)).label("noncompetitive"),
        )
        .where(*_region_conditions(f))
        .group_by(E.subject, E.provider_bin)
    )
    frame = _frame(engine, query)
    frame["amount_kzt"] = frame["amount_kzt"].astype(float) if not frame.empty else frame["amount_kzt"]
    return frame


PARTY_COLUMNS = ["entity_id", "bin", "name", "engagements", "amount_kzt", "noncompetitive"]
CATEGORY_COLUMNS = [
    "category",
    "provider_bin",
    "provider_id",
    "provider_name",
    "engagements",
    "amount_kzt",
    "share",
]


def _top(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=PARTY_COLUMNS)
    ordered = frame.sort_values(["amount_kzt", "bin"], ascending=[False, True], na_position="last")
    return ordered.head(limit).reset_index(drop=True)[PARTY_COLUMNS]


def _categories(pairs: pd.DataFrame) -> pd.DataFrame:
    """Market shares by service category: per category its providers by sum, each with its share of it.

    Grouped in the database by (subject, provider) first, so Python classifies each distinct subject once.
    """
    if pairs.empty:
        return pd.DataFrame(columns=CATEGORY_COLUMNS)
    frame = pairs.copy()
    codes = {s: category_of(s) for s in frame["subject"].unique()}
    frame["category"] = frame["subject"].map(codes)
    grouped = (
        frame.groupby(["category", "provider_bin"], dropna=False)
        .agg(
            provider_id=("provider_id", "max"),
            provider_name=("provider_name", "max"),
            engagements=("engagements", "sum"),
            amount_kzt=("amount_kzt", "sum"),
        )
        .reset_index()
    )
    totals = grouped.groupby("category")["amount_kzt"].transform("sum")
    grouped["share"] = [a / t if t else 0.0 for a, t in zip(grouped["amount_kzt"], totals, strict=True)]
    grouped = grouped.sort_values(["category", "amount_kzt"], ascending=[True, False])
    return grouped.groupby("category").head(REGION_TOP).reset_index(drop=True)[CATEGORY_COLUMNS]


def region_view(
    engine: Engine, f: RegionFilter, limit: int = REGION_TOP, *, direct: bool = False
) -> dict[str, Any]:
    """Everything the region page shows.

    A whole region reads the build's aggregates (`engagement_totals`, `region_party_totals`: a few thousand
    rows instead of the region's ~100k engagements at the 1M scale); a district, which the aggregates do not
    key (it is the buyer organization's address), and a database the build has not aggregated yet take three
    grouped passes over the region's engagements (each served by the region index). Both give the same frames.
    """
    if not direct and not f.district:
        fast = _region_from_totals(engine, f.kato, limit)
        if fast is not None:
            return fast
    return _region_direct(engine, f, limit)


def _summary(basis_year: pd.DataFrame, buyers: int, providers: int) -> dict[str, Any]:
    return {
        "engagements": int(basis_year["engagements"].sum()) if not basis_year.empty else 0,
        "amount_kzt": sum(basis_year["amount_kzt"], Decimal(0)) if not basis_year.empty else Decimal(0),
        "buyers": buyers,
        "providers": providers,
    }


def _mixes(basis_year: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The legal-basis mix and the yearly series, from the (basis, competitive, year) frame."""
    if basis_year.empty:
        bases = pd.DataFrame(columns=["legal_basis", "competitive", "engagements", "amount_kzt"])
        years = pd.DataFrame(columns=["year", "competitive", "engagements", "amount_kzt"])
        return bases, years
    numeric = basis_year.assign(amount_kzt=basis_year["amount_kzt"].astype(float))
    bases = (
        numeric.groupby(["legal_basis", "competitive"])[["engagements", "amount_kzt"]]
        .sum()
        .reset_index()
        .sort_values(["amount_kzt", "legal_basis"], ascending=[False, True])
        .reset_index(drop=True)
    )
    dated = numeric[numeric["year"].notna()]
    years = (
        dated.assign(year=dated["year"].astype(int))
        .groupby(["year", "competitive"])[["engagements", "amount_kzt"]]
        .sum()
        .reset_index()
    )
    return bases, years


def _region_direct(engine: Engine, f: RegionFilter, limit: int) -> dict[str, Any]:
    """Three grouped passes over the region's engagements: by legal basis and year, by buyer, by subject and
    provider (also a district's path)."""
    basis_year = _by_basis_year(engine, f)
    buyers = _by_side(engine, f, "buyer")
    pairs = _by_subject_provider(engine, f)
    if pairs.empty:
        providers = pd.DataFrame(columns=PARTY_COLUMNS)
    else:
        providers = (
            pairs.groupby("provider_bin", dropna=False)
            .agg(
                entity_id=("provider_id", "max"),
                name=("provider_name", "max"),
                engagements=("engagements", "sum"),
                amount_kzt=("amount_kzt", "sum"),
                noncompetitive=("noncompetitive", "sum"),
            )
            .reset_index()
            .rename(columns={"provider_bin": "bin"})
        )
    summary = _summary(
        basis_year,
        int(buyers["bin"].notna().sum()) if not buyers.empty else 0,
        int(providers["bin"].notna().sum()) if not providers.empty else 0,
    )
    bases, years = _mixes(basis_year)
    return {
        "summary": summary,
        "buyers": _top(buyers, limit),
        "providers": _top(providers, limit),
        "bases": bases,
        "categories": _categories(pairs),
        "years": years,
    }


def _region_from_totals(engine: Engine, kato: str, limit: int) -> dict[str, Any] | None:
    """`_region_direct` for a whole region from the aggregates; None when the build has not written them.

    Each table is an index range of `region_party_totals` (region, side, category) cut in the database: the
    `limit` largest parties, and per category its `REGION_TOP` largest providers with their shares.
    """
    with engine.connect() as conn:
        if conn.execute(select(RPT.id).limit(1)).first() is None:
            return None
        counts = dict(
            conn.execute(
                select(RPT.role, func.count())
                .where(RPT.region_kato == kato, RPT.category.is_(None), RPT.bin.is_not(None))
                .group_by(RPT.role)
            ).all()
        )
    basis_year = _by_basis_year(engine, RegionFilter(kato))
    bases, years = _mixes(basis_year)
    return {
        "summary": _summary(basis_year, int(counts.get("buyer", 0)), int(counts.get("provider", 0))),
        "buyers": _top_from_totals(engine, kato, "buyer", limit),
        "providers": _top_from_totals(engine, kato, "provider", limit),
        "bases": bases,
        "categories": _categories_from_totals(engine, kato),
        "years": years,
    }


def _top_from_totals(engine: Engine, kato: str, role: str, limit: int) -> pd.DataFrame:
    """`_top` of one side: largest sums first, ties by BIN (parties without one last), as pandas orders them."""
    query = (
        select(RPT.entity_id, RPT.bin, RPT.name, RPT.engagements, RPT.amount_kzt, RPT.noncompetitive)
        .where(RPT.region_kato == kato, RPT.role == role, RPT.category.is_(None))
        .order_by(RPT.amount_kzt.desc(), RPT.bin.asc().nulls_last())
        .limit(limit)
    )
    frame = _frame(engine, query)
    if frame.empty:
        return pd.DataFrame(columns=PARTY_COLUMNS)
    frame["amount_kzt"] = frame["amount_kzt"].astype(float)
    return frame[PARTY_COLUMNS]


def _categories_from_totals(engine: Engine, kato: str) -> pd.DataFrame:
    """`_categories` from the per-category provider rows: each category's `REGION_TOP` providers and shares."""
    where = (RPT.region_kato == kato, RPT.role == "provider", RPT.category.is_not(None))
    rank = (
        func.row_number()
        .over(partition_by=RPT.category, order_by=(RPT.amount_kzt.desc(), RPT.bin.asc().nulls_last()))
        .label("rank")
    )
    ranked = (
        select(
            RPT.category,
            RPT.bin.label("provider_bin"),
            RPT.entity_id.label("provider_id"),
            RPT.name.label("provider_name"),
            RPT.engagements,
            RPT.amount_kzt,
            rank,
        )
        .where(*where)
        .subquery()
    )
    totals = (
        select(RPT.category, func.sum(RPT.amount_kzt).label("total"))
        .where(*where)
        .group_by(RPT.category)
        .subquery()
    )
    query = (
        select(ranked, totals.c.total)
        .join_from(ranked, totals, totals.c.category == ranked.c.category)
        .where(ranked.c.rank <= REGION_TOP)
        .order_by(ranked.c.category, ranked.c.rank)
    )
    frame = _frame(engine, query)
    if frame.empty:
        return pd.DataFrame(columns=CATEGORY_COLUMNS)
    frame["amount_kzt"] = frame["amount_kzt"].astype(float)
    total = frame["total"].astype(float)
    frame["share"] = [a / t if t else 0.0 for a, t in zip(frame["amount_kzt"], total, strict=True)]
    frame["engagements"] = frame["engagements"].astype(int)
    return frame[CATEGORY_COLUMNS]


def region_districts(engine: Engine, kato: str) -> list[str]:
    """District codes (KATO digits 3–4) that the region's organizations carry, for the district choice."""
    query = (
        select(func.substr(O.kato, 3, 2).label("district"))
        .where(O.region_kato == kato, O.kato.is_not(None), func.length(O.kato) >= 4)
        .distinct()
        .order_by("district")
    )
    with engine.connect() as conn:
        return [d for d in conn.execute(query).scalars() if d and d.isdigit() and d != "00"]


# -------------------------------------------------------------------------------------------------- CSV
def frame_csv(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> bytes:
    """Any table of these pages as CSV: UTF-8 with a BOM (Excel reads Cyrillic), cells as the export writes them."""
    cols = list(columns) if columns is not None else list(frame.columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(cols)
    for row in frame[cols].itertuples(index=False):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _cell(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return csv_cell(value)


def retrieved_on(frames: Iterable[pd.DataFrame], column: str = "fetched_at") -> date | None:
    """The latest fetch date among the records a view rests on (for «data retrieved …»)."""
    latest = None
    for frame in frames:
        if column in frame and not frame.empty:
            value = pd.to_datetime(frame[column], utc=True).max()
            if not pd.isna(value) and (latest is None or value > latest):
                latest = value
    return latest.date() if latest is not None else None
