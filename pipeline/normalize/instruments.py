"""Build stage `normalize:instruments`: raw records of the non-goszakup sources → canonical rows.

Sources and what they become (all rows carry `raw_record_id` and `is_fictional`):

- `curated` (one record per fact): `curated_facts`; kind `memorandum` → `memoranda` (`curated-<id>`) with its
  parties and a `documents` row; kind `ppp_agreement` → `ppp_agreements` (`curated-<id>`); kinds `role` and
  `ownership` → `persons` + `roles` (a person party, tied to the fact's first organization party). Real people
  come only from curated facts, and every curated fact carries a source URL (the loader refuses one without).
- `ppp_import` (one record per registry row): `ppp_agreements` (`import-<external id>`).
- `govkz` news and documents: `pipeline.memoranda.extract`. A finding of kind `new` creates the memorandum
  `govkz-<news|document>-<item id>` (the same item in another language only adds evidence). A finding of kind
  `reference` is evidence of an *existing* memorandum: the newest one signed on or before the text's date whose
  parties include every party the text names (by organization id where resolved, else by `party_key`), or —
  when the text names fewer than two parties and implies its publisher — the publisher's. It becomes a
  `documents` row (`relation = refers_to`) linked to that memorandum, whose `evidence_raw_ids` grows; when no
  memorandum matches, the document is kept unlinked (a reference never invents a memorandum).
  The new memorandum's signatories (`pipeline.memoranda.find_signatories`: a full name next to a party's name
  in a sentence reporting the signing) become persons with role `signatory` (title = the position words, start =
  the signing day, `raw_record_id` = the announcing record) on that party's organization; the person already
  known there under the same name (a curator, a goszakup head) is reused.
- `govkz` news without a memorandum that report a gift (`pipeline.memoranda.extract_donation`: «безвозмездно
  передало», «в дар», «сыйға тартты» …) become a `memoranda` row with `instrument = 'donation'` (no new table:
  the row has what a donation needs — date, parties with roles `donor`/`recipient`/`publisher`, excerpt, source
  — and its documents row links to it). The memoranda export and the reference matching leave donations out.
- `govkz` curators: a person (`govkz-person-<id>`) with role `official` (title = position) on the publishing
  body's organization. Slug → organization: the body's `name_ru` (and `bin`, when the slug list gains one) from
  `data/reference/govkz_slugs.csv`, through `resolve_org` — so the demo's «Управление образования … (демо)»
  goszakup buyer is found by the resolver's name key for fictional records; only when nothing matches is an
  organization `govkz-<slug>` (kind `public_body`) created so the role has somewhere to point. When the body's
  own organization arrives in a later build (goszakup, stat.gov.kz), `merge_govkz_bodies` folds the placeholder
  into it, so the crawl order does not decide how many nodes one body has. gov.kz publishes no dates for curators:
  start and end dates stay empty.
- `statgov` company cards: the organization `kz-bin-<BIN>` gets its registration date (the served UTC instant
  read as an Almaty date), KATO, region and OKED; its name only where none is known; the director (`fio`)
  becomes a person with role `director`, replacing the director of an older card. A not-found card changes
  nothing.

Party resolution (memoranda, donations, PPP partners, curated parties — `resolve_org`), each step only when
exactly one organization matches: BIN; the exact normalized name as written; the name put back into the
nominative (`pipeline.memoranda.nominative`, rules in `data/reference/party_nominative.csv`: «Управлением
образования …» → «Управление образования …», «… басқармасымен» → «… басқармасы»); the quoted name with the
register's legal form («X» ЖШС → ТОО X); the resolver's name key (`entities.names.normalize_org`: concepts,
places, numbers) among public bodies, which ignores «(демо)» for fictional records only and never lets a real
record find a fictional body. Else unresolved (the name as written is kept). `match_rule` says which step.

Records are processed in raw id order; a later version of the same record replaces what the earlier one wrote.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Connection, Table, delete, func, select, update

from entities.config import REFERENCE_DIR
from entities.models import (
    CuratedFact,
    Document,
    EntityLink,
    Memorandum,
    MemorandumParty,
    Organization,
    Person,
    PPPAgreement,
    RawRecord,
    Role,
)
from entities.names import normalize_org
from pipeline.memoranda import (
    MemorandumFinding,
    SourceText,
    extract,
    extract_donation,
    find_signatories,
    from_govkz_item,
    html_to_text,
    nominative,
    party_key,
    plain_title,
)
from pipeline.normalize.common import (
    bin_org_id,
    display_name,
    is_fictional_url,
    name_norm,
    org_person_id,
    split_fio,
)
from pipeline.normalize.writer import Mode, table_of, upsert

log = logging.getLogger(__name__)

SOURCES = ("curated", "ppp_import", "govkz", "statgov")
ALMATY = ZoneInfo("Asia/Almaty")

facts_t = table_of(CuratedFact)
memo_t = table_of(Memorandum)
parties_t = table_of(MemorandumParty)
docs_t = table_of(Document)
ppp_t = table_of(PPPAgreement)
orgs_t = table_of(Organization)
persons_t = table_of(Person)
roles_t = table_of(Role)
raws_t = table_of(RawRecord)


@dataclass
class InstrumentCounts:
    read: int = 0
    failed: int = 0
    written: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int = 1) -> None:
        self.written[table] = self.written.get(table, 0) + n


def _date(value: object) -> date | None:
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def _decimal(value: object) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _slugs() -> dict[str, dict[str, str]]:
    path = REFERENCE_DIR / "govkz_slugs.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {row["slug"]: row for row in csv.DictReader(fh)}


# -------------------------------------------------------------------------------------------- resolution


_KEY_INDEX = "ashyq_instrument_org_keys"  # conn.info slot: the public-body name-key index of this transaction
_DEMO_MARK = re.compile(r"\((?:демо|demo)\)", re.IGNORECASE)


# Across transactions: engine → (fingerprint of the public bodies, index); revalidated once per transaction.
_KEY_CACHE: dict[int, tuple[tuple[Any, ...], dict[str, list[str]]]] = {}


def forget_org_keys(conn: Connection, *, created: bool = False) -> None:
    """Drop this transaction's name-key index (call at the start of each transaction); `created` also drops the
    cross-transaction copy (an organization was just created or may have been rolled back).

    `conn.info` belongs to the pooled DBAPI connection and outlives the transaction, so a stale index from an
    earlier build (or from before this build's goszakup stage) must never be reused unchecked."""
    conn.info.pop(_KEY_INDEX, None)
    if created:
        _KEY_CACHE.pop(id(conn.engine), None)


def org_name_key(name: str, fictional: bool) -> str | None:
    """The resolver's name key (`entities.names.normalize_org`: concept words, places, numbers) of a name, or
    None when it names no place, no number and fewer than two words of its own (a bare «управление
    образования» identifies no one; «Министерство просвещения Республики Казахстан» does).

    The «(демо)» marker of the demo's bodies is ignored for fictional data only, so a fictional release's
    «Управлением образования Кызылординской области» finds «ГУ "Управление образования Кызылординской области
    (демо)"» — and a real release never finds a demo body (fictional and real keys are kept apart)."""
    parsed = normalize_org(_DEMO_MARK.sub(" ", name) if fictional else name)
    core = parsed.core
    if fictional:
        core = " ".join(w for w in core.split() if w != "demo")
    own_words = [w for w in core.split() if not w.isupper()]  # upper case: the vocabulary's concepts
    if not core or (not parsed.places and not parsed.numbers and len(own_words) < 2):
        return None  # «управление образования», «білім басқармасы»: a kind of body, not one body
    return f"{int(fictional)}|{core}|{','.join(sorted(parsed.places))}|{','.join(sorted(parsed.numbers))}"


def _key_index(conn: Connection) -> dict[str, list[str]]:
    """Name key → public-body organization ids, built in memory only when a name needs it. Public bodies are
    few (departments, akimats, ministries: thousands nationally, not the million companies); the index is kept
    across transactions while their count and id range are unchanged (one aggregate per transaction checks
    that; a renamed body with the same id is the known blind spot until the next process)."""
    index: dict[str, list[str]] | None = conn.info.get(_KEY_INDEX)
    if index is not None:
        return index
    public = orgs_t.c.kind == "public_body"
    fingerprint = tuple(
        conn.execute(select(func.count(), func.min(orgs_t.c.id), func.max(orgs_t.c.id)).where(public)).one()
    )
    cached = _KEY_CACHE.get(id(conn.engine))
    if cached is not None and cached[0] == fingerprint:
        conn.info[_KEY_INDEX] = cached[1]
        return cached[1]
    index = {}
    rows = conn.execute(
        select(orgs_t.c.id, orgs_t.c.name_ru, orgs_t.c.name_kk, orgs_t.c.is_fictional).where(public)
    )
    for row in rows:
        for name in {row.name_ru, row.name_kk} - {None}:
            key = org_name_key(name, bool(row.is_fictional))
            if key and row.id not in index.setdefault(key, []):
                index[key].append(row.id)
    conn.info[_KEY_INDEX] = index
    _KEY_CACHE[id(conn.engine)] = (fingerprint, index)
    return index


def resolve_org(
    conn: Connection, name: str | None, bin_: str | None, *, language: str | None = None, fictional: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> tuple[str | None, str | None]:
    """(organization id, rule) of a party name, or (None, None). Rules, in order, each only when unique:
    `bin`; `name_norm` (the name as written, exact normalized); `nominative` (the name put back into the
    nominative, `pipeline.memoranda.nominative`, exact normalized); `legal_form` (the quoted name with its legal
    form spelled the register's way: «X» ЖШС → ТОО X); `name_key` (the resolver's name key among public
    bodies, `org_name_key`). Organizations in `exclude` are not candidates (`merge_govkz_bodies` looks for the
    body a `govkz-<slug>` placeholder stands for, other than the placeholder itself)."""

    def matching(where: Any) -> list[str]:
        query = select(orgs_t.c.id).where(where)
        if exclude:
            query = query.where(orgs_t.c.id.not_in(sorted(exclude)))
        return list(conn.execute(query.order_by(orgs_t.c.id).limit(2)).scalars())

    if bin_:
        found = matching(orgs_t.c.bin == bin_)
        if found:
            return found[0], "bin"
    if not name:
        return None, None
    nom = nominative(name, language)
    tried: set[str] = set()
    for rule, text in (("name_norm", name), ("nominative", nom)):
        key = name_norm(text)
        if key and key not in tried:
            tried.add(key)
            ids = matching(orgs_t.c.name_norm == key)
            if len(ids) == 1:
                return ids[0], rule
    parsed = normalize_org(nom)
    quoted = re.search(r"[«\"“]([^»\"”]+)[»\"”]", nom)
    if parsed.legal_form and quoted:
        keys = {k for k in (name_norm(f"{parsed.legal_form} {quoted.group(1)}"),) if k and k not in tried}
        if keys:
            ids = matching(orgs_t.c.name_norm.in_(keys))
            if len(ids) == 1:
                return ids[0], "legal_form"
    key = org_name_key(nom, fictional)
    if key:
        ids = [i for i in _key_index(conn).get(key, []) if i not in exclude]
        if len(ids) == 1:
            return ids[0], "name_key"
    return None, None


def _ensure_org(conn: Connection, name: str, bin_: str | None, fictional: bool, raw_id: int) -> str:
    """An organization for a role to point at: the resolved one, else a new one keyed by BIN or by name."""
    org_id, _ = resolve_org(conn, name, bin_, fictional=fictional)
    if org_id:
        return org_id
    forget_org_keys(conn, created=True)
    if bin_:
        org_id = bin_org_id(bin_)
    else:
        org_id = "curated-org-" + hashlib.sha256((name_norm(name) or name).encode()).hexdigest()[:16]
    upsert(
        conn,
        orgs_t,
        [{"id": org_id, "bin": bin_, "bin_valid": True if bin_ else None, "name_ru": display_name(name),
          "name_norm": name_norm(name), "is_fictional": fictional, "raw_record_id": raw_id}],
        ["id"],
        mode=Mode.FILL,
    )  # fmt: skip
    return org_id


def _person(conn: Connection, person_id: str, name: str, fictional: bool) -> None:
    surname, given, patronymic = split_fio(name)
    upsert(
        conn,
        persons_t,
        [{"id": person_id, "display_name": display_name(name) or name, "surname": surname, "given_name": given,
          "patronymic": patronymic, "name_norm": name_norm(name), "is_fictional": fictional}],
        ["id"],
        mode=Mode.KEEP,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------------ curated


def _curated(conn: Connection, raw: Any, counts: InstrumentCounts) -> None:
    fact = raw.payload
    fictional = bool(fact.get("fictional"))
    fact_id = fact["id"]
    upsert(
        conn,
        facts_t,
        [
            {
                "id": fact_id,
                "kind": fact["kind"],
                "fact_date": _date(fact.get("date")),
                "date_precision": fact.get("date_precision") or "unknown",
                "date_basis": fact.get("date_basis") or "event",
                "summary": fact.get("summary") or "",
                "source_url": fact.get("source_url") or raw.url,
                "citation": fact.get("citation"),
                "retrieved_on": _date(fact.get("retrieved_on")),
                "quote": fact.get("quote"),
                "quote_is_paraphrase": bool(fact.get("quote_is_paraphrase")),
                "language": fact.get("language") or "ru",
                "region_kato": fact.get("region"),
                "amount": _decimal(fact.get("amount")),
                "currency": fact.get("currency"),
                "parties": fact.get("parties") or [],
                "details": fact.get("details") or {},
                "related": fact.get("related") or [],
                "note": fact.get("note"),
                "source_file": fact.get("file"),
                "source_line": None,
                "is_fictional": fictional,
                "raw_record_id": raw.id,
            }
        ],
        ["id"],
    )
    counts.add("curated_facts")
    kind = fact["kind"]
    if kind == "memorandum":
        memo_id = f"curated-{fact_id}"
        upsert(
            conn,
            memo_t,
            [{"id": memo_id, "origin": "curated", "instrument": "memorandum", "title": fact.get("summary"),
              "signed_on": _date(fact.get("date")), "date_basis": fact.get("date_basis") or "event",
              "date_precision": fact.get("date_precision"), "subject": fact.get("summary"),
              "excerpt": fact.get("quote") or fact.get("summary"), "language": fact.get("language"),
              "source_url": fact.get("source_url"), "published_on": None, "publisher_slug": None,
              "region_kato": fact.get("region"), "evidence_raw_ids": [raw.id], "is_fictional": fictional,
              "raw_record_id": raw.id}],
            ["id"],
        )  # fmt: skip
        parties = [
            (p["name"], p.get("bin"), p.get("role"))
            for p in fact.get("parties") or []
            if p.get("entity", "organization") != "person"
        ]
        _write_parties(conn, memo_id, parties, raw.id, language=fact.get("language"), fictional=fictional)
        upsert(
            conn,
            docs_t,
            [{"id": memo_id, "kind": "curated_fact", "title": fact.get("summary"), "source_url": fact.get("source_url"),
              "published_on": _date(fact.get("date")), "language": fact.get("language"), "publisher_slug": None,
              "memorandum_id": memo_id, "relation": "announces", "excerpt": fact.get("quote"),
              "is_fictional": fictional, "raw_record_id": raw.id}],
            ["id"],
        )  # fmt: skip
        counts.add("memoranda")
    elif kind == "ppp_agreement":
        _curated_ppp(conn, raw, fact, fictional)
        counts.add("ppp_agreements")
    elif kind in ("role", "ownership"):
        counts.add("roles", _curated_roles(conn, raw, fact, fictional))


def _party(parties: Sequence[dict[str, Any]], *roles: str) -> dict[str, Any] | None:
    for p in parties:
        if any(r in (p.get("role") or "") for r in roles) and p.get("entity", "organization") != "person":
            return p
    return None


def _curated_ppp(conn: Connection, raw: Any, fact: dict[str, Any], fictional: bool) -> None:
    parties = fact.get("parties") or []
    details = fact.get("details") or {}
    state = _party(parties, "state_partner") or {}
    private = _party(parties, "private_partner") or {}
    method = details.get("selection_method")
    term_years = details.get("term_years")
    state_id, _ = resolve_org(conn, state.get("name"), state.get("bin"))
    private_id, _ = resolve_org(conn, private.get("name"), private.get("bin"))
    upsert(
        conn,
        ppp_t,
        [{"id": f"curated-{fact['id']}", "origin": "curated", "project": fact.get("summary") or fact["id"],
          "sector": details.get("sector"), "level": details.get("level"), "ppp_type": details.get("ppp_type"),
          "ppp_form": details.get("ppp_form"), "selection_method": method,
          "competitive": None if method is None else method in ("tender", "auction"),
          "state_partner_name": state.get("name"), "state_partner_bin": state.get("bin"),
          "state_partner_id": state_id, "private_partner_name": private.get("name"),
          "private_partner_bin": private.get("bin"), "private_partner_id": private_id,
          "signed_on": _date(fact.get("date")),
          "term_months": int(term_years * 12) if isinstance(term_years, int | float) else None,
          "amount_kzt": _decimal(fact.get("amount")) if fact.get("currency") in (None, "KZT") else None,
          "status": details.get("status"), "region_kato": fact.get("region"),
          "contract_number": details.get("contract_number"), "source_url": fact.get("source_url"),
          "source_file": fact.get("file"), "source_row": None, "raw": {}, "warnings": [],
          "is_fictional": fictional, "raw_record_id": raw.id}],
        ["id"],
    )  # fmt: skip


def _curated_roles(conn: Connection, raw: Any, fact: dict[str, Any], fictional: bool) -> int:
    parties = fact.get("parties") or []
    org_party = next((p for p in parties if p.get("entity", "organization") == "organization"), None)
    people = [p for p in parties if p.get("entity") == "person"]
    if org_party is None or not people or not fact.get("source_url"):
        return 0
    org_id = _ensure_org(conn, org_party["name"], org_party.get("bin"), fictional, raw.id)
    conn.execute(delete(roles_t).where(roles_t.c.raw_record_id.in_(_versions(conn, raw))))
    rows = []
    for p in people:
        person_id = org_person_id(org_id, name_norm(p["name"]) or p["name"])
        _person(conn, person_id, p["name"], fictional)
        rows.append({"person_id": person_id, "organization_id": org_id, "role": p.get("role") or "role",
                     "title": p.get("note"), "start_date": _date(fact.get("date")), "end_date": None,
                     "raw_record_id": raw.id})  # fmt: skip
    return upsert(conn, roles_t, rows, ["person_id", "organization_id", "role", "raw_record_id"])


def _versions(conn: Connection, raw: Any) -> list[int]:
    """Raw ids of every stored version of this record (roles of older versions are replaced)."""
    r = raws_t.c
    return list(
        conn.execute(
            select(r.id).where(
                r.source == raw.source, r.record_type == raw.record_type, r.external_id == raw.external_id
            )
        ).scalars()
    )


def _write_parties(
    conn: Connection, memo_id: str, parties: Sequence[tuple[str, str | None, str | None]], raw_id: int, *,
    language: str | None = None, fictional: bool = False,
) -> None:  # fmt: skip
    conn.execute(delete(parties_t).where(parties_t.c.memorandum_id == memo_id))
    rows = []
    for position, (name, bin_, role) in enumerate(parties):
        org_id, rule = resolve_org(conn, name, bin_, language=language, fictional=fictional)
        rows.append({"memorandum_id": memo_id, "position": position, "name": name, "role": role, "bin": bin_,
                     "organization_id": org_id, "match_rule": rule, "raw_record_id": raw_id})  # fmt: skip
    if rows:
        conn.execute(parties_t.insert(), rows)


# -------------------------------------------------------------------------------------------- PPP import


def _ppp_import(conn: Connection, raw: Any, counts: InstrumentCounts) -> None:
    rec = raw.payload
    state_id, _ = resolve_org(conn, rec.get("state_partner_name"), rec.get("state_partner_bin"))
    private_id, _ = resolve_org(conn, rec.get("private_partner_name"), rec.get("private_partner_bin"))
    row = {k: rec.get(k) for k in (
        "project", "sector", "level", "ppp_type", "ppp_form", "selection_method", "competitive",
        "state_partner_name", "state_partner_bin", "private_partner_name", "private_partner_bin", "term_months",
        "amount_kzt", "status", "region_kato", "contract_number", "source_url", "warnings",
    )}  # fmt: skip
    row.update(
        id=f"import-{raw.external_id}"[:120],
        amount_kzt=_decimal(rec.get("amount_kzt")),
        origin="registry_import",
        signed_on=_date(rec.get("signed_on")),
        state_partner_id=state_id,
        private_partner_id=private_id,
        source_url=rec.get("source_url") or raw.url,
        source_file=rec.get("source_file"),
        source_row=rec.get("row_number"),
        raw=rec.get("raw") or {},
        warnings=rec.get("warnings") or [],
        is_fictional=is_fictional_url(raw.url),
        raw_record_id=raw.id,
    )
    upsert(conn, ppp_t, [row], ["id"])
    counts.add("ppp_agreements")


# ------------------------------------------------------------------------------------------------- gov.kz


def _slug_of(raw: Any) -> str | None:
    query = parse_qs(urlsplit(raw.url).query)
    for value in query.get("projects", []):
        return value.removeprefix("eq:")
    projects = raw.payload.get("projects")
    if isinstance(projects, list) and projects and isinstance(projects[0], str):
        return projects[0]
    return None


PLACEHOLDER_PREFIX = "govkz-"  # `_publisher_org`'s organization for a body no other source had yet


def _publisher_org(
    conn: Connection, slug: str | None, fictional: bool, raw_id: int, create: bool
) -> str | None:
    info = _slugs().get(slug or "")
    if info is None:
        return None
    # The body by BIN when the slug list knows it, else by name — exact, or the resolver's name key, which for
    # fictional data ignores the «(демо)» marker: the demo's departments are goszakup buyers named «… (демо)».
    org_id, _ = resolve_org(conn, info.get("name_ru"), info.get("bin") or None, fictional=fictional)
    if org_id or not create:
        return org_id
    forget_org_keys(conn, created=True)
    org_id = f"{PLACEHOLDER_PREFIX}{slug}"
    upsert(
        conn,
        orgs_t,
        [{"id": org_id, "kind": "public_body", "name_ru": info["name_ru"], "name_norm": name_norm(info["name_ru"]),
          "region_kato": info.get("region_code2") or None, "is_fictional": fictional, "raw_record_id": raw_id}],
        ["id"],
        mode=Mode.FILL,
    )  # fmt: skip
    return org_id


def _org_references() -> list[tuple[Table, Column[Any]]]:
    """Every column that points at `organizations.id` (from the models, so a new table is not forgotten)."""
    return sorted(
        (
            (table, fk.parent)
            for table in orgs_t.metadata.tables.values()
            for fk in table.foreign_keys
            if fk.column.table is orgs_t
        ),
        key=lambda tc: (tc[0].name, tc[1].name),
    )


def _repoint(conn: Connection, old: str, new: str) -> None:
    """Everything that points at organization `old` points at `new`; `old` is removed.

    Rows keep their own ids and `raw_record_id`s (provenance is the record that stated them, not the
    organization). A role that `new` already holds from the same record is kept once (the unique key)."""
    r, r2 = roles_t, roles_t.alias("held")
    conn.execute(
        delete(r).where(
            r.c.organization_id == old,
            select(r2.c.id)
            .where(r2.c.organization_id == new, r2.c.person_id == r.c.person_id, r2.c.role == r.c.role,
                   r2.c.raw_record_id == r.c.raw_record_id)
            .exists(),
        )
    )  # fmt: skip
    for table, column in _org_references():
        conn.execute(update(table).where(column == old).values({column.name: new}))
    # The resolution's merge reasons name the entity by id without a foreign key; the next resolution rewrites
    # them whole, but it only runs when mentions change, so they follow the re-pointed mentions here.
    links = table_of(EntityLink)
    conn.execute(
        update(links).where(links.c.entity_id == old, links.c.kind == "organization").values(entity_id=new)
    )
    # What the placeholder knew and the body's own row does not (a region from the slug list): kept.
    region = conn.execute(select(orgs_t.c.region_kato).where(orgs_t.c.id == old)).scalar_one_or_none()
    if region:
        conn.execute(
            update(orgs_t).where(orgs_t.c.id == new, orgs_t.c.region_kato.is_(None)).values(region_kato=region)
        )
    conn.execute(delete(orgs_t).where(orgs_t.c.id == old))


def merge_govkz_bodies(conn: Connection) -> int:
    """Fold each `govkz-<slug>` placeholder into the body's own organization once another source has it.

    `_publisher_org` creates the placeholder only when nothing matches the slug's body (a leadership page
    crawled before any goszakup record of that department). When the body's organization arrives in a later
    build (a goszakup buyer, a stat.gov.kz card), the placeholder would otherwise stay a second node of one body
    — and make later name lookups ambiguous. The body is looked up with the rules `_publisher_org` uses (slug
    BIN, else name through `resolve_org`), other placeholders excluded, so the result is what the other crawl
    order would have given: roles, memorandum parties, PPP partners, engagements, mentions (every foreign key
    to `organizations`) and the resolution's entity links are re-pointed and the placeholder removed. Memorandum parties are re-resolved by their own names where that is now unique,
    else keep the rule `govkz_body` (they named the body the placeholder stood for). Returns the number of
    placeholders merged; a second call finds none (idempotent). Placeholders are few (one per slug), so this runs
    on every build."""
    slugs = _slugs()
    # By primary key (one id per slug of the list), not `LIKE 'govkz-%'`, which PostgreSQL cannot answer from the
    # index under a non-C collation: this runs twice per build, also on a million organizations.
    placeholders = conn.execute(
        select(orgs_t.c.id, orgs_t.c.name_ru, orgs_t.c.is_fictional).where(
            orgs_t.c.id.in_(sorted(f"{PLACEHOLDER_PREFIX}{slug}" for slug in slugs))
        )
    ).all()
    if not placeholders:
        return 0
    forget_org_keys(conn)
    exclude = frozenset(p.id for p in placeholders)
    merged = 0
    for p in placeholders:
        info = slugs[p.id.removeprefix(PLACEHOLDER_PREFIX)]
        target, _ = resolve_org(
            conn, info.get("name_ru") or p.name_ru, info.get("bin") or None, fictional=bool(p.is_fictional),
            exclude=exclude,
        )  # fmt: skip
        if target is None:
            continue
        parties = conn.execute(
            select(parties_t.c.id, parties_t.c.name, parties_t.c.bin).where(parties_t.c.organization_id == p.id)
        ).all()
        _repoint(conn, p.id, target)
        forget_org_keys(conn, created=True)
        for party in parties:
            found, rule = resolve_org(conn, party.name, party.bin, fictional=bool(p.is_fictional))
            conn.execute(
                update(parties_t)
                .where(parties_t.c.id == party.id)
                .values(match_rule=rule if found == target else "govkz_body")
            )
        log.info("organization %s merged into %s (the same gov.kz body)", p.id, target)
        merged += 1
    return merged


def relink_unmatched_parties(conn: Connection) -> int:
    """Resolve again every memorandum party that matched no organization when it was written.

    A party named in a press release before any goszakup or stat.gov.kz record of it arrived stays unlinked
    until its text changes; run on every build, it links as soon as the organization exists (the same rules,
    the same uniqueness), so crawl order does not decide whether a memorandum reaches the graph. Returns how
    many parties were linked; a second call links none."""
    pending = conn.execute(
        select(parties_t.c.id, parties_t.c.name, parties_t.c.bin, memo_t.c.language, memo_t.c.is_fictional)
        .join(memo_t, memo_t.c.id == parties_t.c.memorandum_id)
        .where(parties_t.c.organization_id.is_(None))
        .order_by(parties_t.c.id)
    ).all()
    linked = 0
    for party in pending:
        org_id, rule = resolve_org(
            conn, party.name, party.bin, language=party.language, fictional=bool(party.is_fictional)
        )
        if org_id is not None:
            conn.execute(
                update(parties_t).where(parties_t.c.id == party.id).values(organization_id=org_id, match_rule=rule)
            )
            linked += 1
    if linked:
        log.info("%d memorandum parties linked to organizations that arrived after them", linked)
    return linked


def _govkz_text(conn: Connection, raw: Any, counts: InstrumentCounts) -> None:
    item_kind: Literal["news", "document"] = "news" if raw.record_type == "govkz_news" else "document"
    item_id, _, lang = raw.external_id.partition(":")
    slug = _slug_of(raw)
    fictional = is_fictional_url(raw.url)
    source = from_govkz_item(raw.payload, slug=slug or "", language=lang or "ru", item_kind=item_kind)
    source = replace(source, url=raw.human_url or raw.url)
    finding = extract(source) or extract_donation(source)
    if finding is None:
        return
    doc_id = f"govkz-{item_kind}-{raw.external_id.replace(':', '-')}"
    memo_id: str | None
    if finding.kind == "new":
        memo_id = f"govkz-{item_kind}-{item_id}"
        exists = conn.execute(select(memo_t.c.raw_record_id).where(memo_t.c.id == memo_id)).first()
        same = _same_signing(conn, finding, slug, memo_id) if exists is None else None
        if same is not None:
            # The same signing told again (the other language's release, or the document beside the news):
            # more evidence of one memorandum, not a second one.
            memo_id = same
        elif exists is None or exists.raw_record_id in _versions(conn, raw):
            _new_memorandum(conn, raw, memo_id, item_kind, slug, finding, fictional)
            counts.add("memoranda")
            if finding.instrument != "donation":
                counts.add("roles", _signatories(conn, raw, memo_id, finding, source, fictional))
        relation = "announces"
    else:
        memo_id = _referenced(conn, finding, slug)
        relation = "refers_to"
    if memo_id is not None:
        evidence = conn.execute(select(memo_t.c.evidence_raw_ids).where(memo_t.c.id == memo_id)).scalar_one()
        if raw.id not in evidence:
            conn.execute(
                update(memo_t).where(memo_t.c.id == memo_id).values(evidence_raw_ids=[*evidence, raw.id])
            )
    upsert(
        conn,
        docs_t,
        [{"id": doc_id, "kind": item_kind, "title": finding.title, "source_url": finding.source_url,
          "published_on": finding.published_on, "language": finding.language, "publisher_slug": slug,
          "memorandum_id": memo_id, "relation": relation, "excerpt": finding.excerpt, "is_fictional": fictional,
          "raw_record_id": raw.id}],
        ["id"],
    )  # fmt: skip
    counts.add("documents")


def _finding_parties(
    conn: Connection, finding: MemorandumFinding, slug: str | None, fictional: bool, raw_id: int
) -> list[tuple[str, str | None, str | None]]:
    donation = finding.instrument == "donation"
    roles = ("donor", "recipient") if donation else (None, None)
    parties: list[tuple[str, str | None, str | None]] = [
        (p.name, p.bin if p.bin_valid else None, roles[min(k, 1)]) for k, p in enumerate(finding.parties)
    ]
    if finding.publisher_implied and len(parties) < 2:
        info = _slugs().get(slug or "")
        if info is not None:
            _publisher_org(conn, slug, fictional, raw_id, create=False)
            if donation:
                parties.append((info["name_ru"], None, "publisher"))  # the publisher (or its school) received it
            else:
                parties.insert(0, (info["name_ru"], None, "publisher"))
    return parties


def _signatories(
    conn: Connection, raw: Any, memo_id: str, finding: MemorandumFinding, source: SourceText, fictional: bool
) -> int:
    """Persons the release says signed the memorandum → role `signatory` on their party's organization.

    The person is the one already known at that organization under the same name (a curator, a goszakup head),
    else a person keyed by name within the organization (`org_person_id`). Older versions' signatories are
    replaced. A signatory whose organization is not a resolved party is skipped."""
    conn.execute(
        delete(roles_t).where(roles_t.c.role == "signatory", roles_t.c.raw_record_id.in_(_versions(conn, raw)))
    )
    text = f"{plain_title(source.title or '')}\n{html_to_text(source.body_html or '')}"
    party_orgs = {
        party_key(r.name): r.organization_id
        for r in conn.execute(
            select(parties_t.c.name, parties_t.c.organization_id).where(parties_t.c.memorandum_id == memo_id)
        )
        if r.organization_id
    }
    rows = []
    for person in find_signatories(text, finding.language):
        org_id = party_orgs.get(person.key)
        if org_id is None:
            continue
        words = person.name.split()
        variants = {name_norm(person.name), name_norm(" ".join([words[-1], *words[:-1]]))} - {None}
        known = conn.execute(
            select(persons_t.c.id)
            .join(roles_t, roles_t.c.person_id == persons_t.c.id)
            .where(roles_t.c.organization_id == org_id, persons_t.c.name_norm.in_(variants))
            .order_by(persons_t.c.id)
            .limit(1)
        ).scalar_one_or_none()
        person_id = known or org_person_id(org_id, name_norm(person.name) or person.name)
        if known is None:
            _person(conn, person_id, person.name, fictional)
        rows.append({"person_id": person_id, "organization_id": org_id, "role": "signatory",
                     "title": person.title, "start_date": finding.signed_on, "end_date": None,
                     "raw_record_id": raw.id})  # fmt: skip
    return upsert(conn, roles_t, rows, ["person_id", "organization_id", "role", "raw_record_id"]) if rows else 0


def _new_memorandum(
    conn: Connection, raw: Any, memo_id: str, item_kind: str, slug: str | None, finding: MemorandumFinding,
    fictional: bool,
) -> None:  # fmt: skip
    region = (_slugs().get(slug or "") or {}).get("region_code2") or None
    upsert(
        conn,
        memo_t,
        [{"id": memo_id, "origin": f"govkz_{item_kind}", "instrument": finding.instrument, "title": finding.title,
          "signed_on": finding.signed_on, "date_basis": finding.date_basis, "date_precision": finding.date_precision,
          "subject": finding.subject, "excerpt": finding.excerpt, "language": finding.language,
          "source_url": finding.source_url, "published_on": finding.published_on, "publisher_slug": slug,
          "region_kato": region, "evidence_raw_ids": [raw.id], "is_fictional": fictional, "raw_record_id": raw.id}],
        ["id"],
    )  # fmt: skip
    _write_parties(conn, memo_id, _finding_parties(conn, finding, slug, fictional, raw.id), raw.id,
                   language=finding.language, fictional=fictional)


# A party that names a state body (ru/kk): the buyer side of a memorandum whose parties carry no roles.
STATE_BODY = re.compile(
    r"(?:управлени|отдел\w* образовани|министерств|акимат|департамент|\bГУ\b|\bКГУ\b|\bРГУ\b|басқарма|"
    r"министрлі|әкімдік|бөлім)",
    re.IGNORECASE,
)


def _company_keys(conn: Connection, finding: MemorandumFinding) -> list[set[str]]:
    """Match keys (organization id, name key) of the parties that are not state bodies."""
    keys: list[set[str]] = []
    for p in finding.parties:
        if STATE_BODY.search(p.name):
            continue
        org_id, _ = resolve_org(conn, p.name, p.bin if p.bin_valid else None, language=finding.language,
                                fictional=is_fictional_url(finding.source_url))
        keys.append({k for k in (org_id, party_key(p.name)) if k})
    return keys


def _same_signing(conn: Connection, finding: MemorandumFinding, slug: str | None, memo_id: str) -> str | None:
    """An existing memorandum that reports the same signing: same publisher, same signing day, same companies.

    gov.kz publishes one signing in Russian and in Kazakh, and often as news and as a document; without this
    each would become a memorandum of its own. The state body is the publisher on both and is named in two
    languages, so only the other parties (companies) are compared, and every one must match, on the same day (a
    document titled «Меморандум …» states no date: its publication day is taken, as for any finding).
    """
    if finding.signed_on is None or slug is None:
        return None
    wanted = [k for k in _company_keys(conn, finding) if k]
    if not wanted:
        return None
    candidates = conn.execute(
        select(memo_t.c.id).where(
            memo_t.c.signed_on == finding.signed_on, memo_t.c.publisher_slug == slug, memo_t.c.id != memo_id,
            memo_t.c.instrument == "donation" if finding.instrument == "donation" else memo_t.c.instrument != "donation",
        ).order_by(memo_t.c.id)
    ).scalars().all()
    for candidate in candidates:
        keys: set[str] = set()
        for party in conn.execute(
            select(parties_t.c.name, parties_t.c.organization_id).where(parties_t.c.memorandum_id == candidate)
        ):
            keys.add(party_key(party.name))
            if party.organization_id:
                keys.add(party.organization_id)
        if all(w & keys for w in wanted):
            return str(candidate)
    return None


def _referenced(conn: Connection, finding: MemorandumFinding, slug: str | None) -> str | None:
    """The existing memorandum a reference speaks of (module docstring), or None."""
    wanted: list[set[str]] = []
    for p in finding.parties:
        org_id, _ = resolve_org(conn, p.name, p.bin if p.bin_valid else None, language=finding.language,
                                fictional=is_fictional_url(finding.source_url))
        wanted.append({k for k in (org_id, party_key(p.name)) if k})
    if finding.publisher_implied and len(wanted) < 2 and slug:
        wanted.append({f"slug:{slug}"})
    if not wanted:
        return None
    when = finding.published_on or finding.signed_on
    candidates = conn.execute(
        select(memo_t.c.id, memo_t.c.signed_on, memo_t.c.publisher_slug)
        .where(memo_t.c.instrument != "donation")  # a donation is never the memorandum a text refers to
        .order_by(
            memo_t.c.signed_on.desc(), memo_t.c.id
        )
    ).all()
    for memo in candidates:
        if when is not None and memo.signed_on is not None and memo.signed_on > when:
            continue
        keys: set[str] = {f"slug:{memo.publisher_slug}"} if memo.publisher_slug else set()
        for party in conn.execute(
            select(parties_t.c.name, parties_t.c.organization_id).where(parties_t.c.memorandum_id == memo.id)
        ):
            keys.add(party_key(party.name))
            if party.organization_id:
                keys.add(party.organization_id)
        if all(w & keys for w in wanted):
            return str(memo.id)
    return None


def _govkz_curator(conn: Connection, raw: Any, counts: InstrumentCounts) -> None:
    item = raw.payload
    fictional = is_fictional_url(raw.url)
    parts = [item.get(k) for k in ("lastname", "name", "middlename")]
    full = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if not full:
        return
    org_id = _publisher_org(conn, _slug_of(raw), fictional, raw.id, create=True)
    if org_id is None:
        log.info(
            "curator %s: slug %r is not in govkz_slugs.csv; no organization", raw.external_id, _slug_of(raw)
        )
        return
    person_id = f"govkz-person-{raw.external_id.partition(':')[0]}"
    _person(conn, person_id, full, fictional)
    # every language version of one curator states the same role: keep one row, the latest version's
    conn.execute(
        delete(roles_t).where(
            roles_t.c.person_id == person_id,
            roles_t.c.organization_id == org_id,
            roles_t.c.role == "official",
        )
    )
    position = item.get("position")
    upsert(
        conn,
        roles_t,
        [{"person_id": person_id, "organization_id": org_id, "role": "official",
          "title": position if isinstance(position, str) else None, "start_date": None, "end_date": None,
          "raw_record_id": raw.id}],
        ["person_id", "organization_id", "role", "raw_record_id"],
    )  # fmt: skip
    counts.add("roles")


# ------------------------------------------------------------------------------------------- stat.gov.kz


def _registered_on(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        instant = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return _date(value)
    return instant.astimezone(ALMATY).date()


def _statgov(conn: Connection, raw: Any, counts: InstrumentCounts) -> None:
    obj = raw.payload.get("obj")
    if not raw.payload.get("success") or not isinstance(obj, dict) or not obj.get("bin"):
        return
    bin_ = str(obj["bin"])
    org_id = bin_org_id(bin_)
    fictional = is_fictional_url(raw.url)
    kato = obj.get("katoCode") or None
    upsert(
        conn,
        orgs_t,
        [{"id": org_id, "bin": bin_, "registered_on": _registered_on(obj.get("registerDate")), "kato": kato,
          "region_kato": kato[:2] if kato else None, "oked": obj.get("okedCode") or None}],
        ["id"],
        mode=Mode.OVERWRITE,
    )  # fmt: skip
    upsert(
        conn,
        orgs_t,
        [{"id": org_id, "name_ru": display_name(obj.get("name")), "name_norm": name_norm(obj.get("name")),
          "is_fictional": fictional, "raw_record_id": raw.id}],
        ["id"],
        mode=Mode.FILL,
    )  # fmt: skip
    counts.add("organizations")
    conn.execute(
        delete(roles_t).where(
            roles_t.c.organization_id == org_id,
            roles_t.c.role == "director",
            roles_t.c.raw_record_id.in_(_versions(conn, raw)),
        )
    )
    fio = obj.get("fio")
    if isinstance(fio, str) and fio.strip():
        person_id = org_person_id(org_id, name_norm(fio) or fio)
        _person(conn, person_id, fio, fictional)
        upsert(
            conn,
            roles_t,
            [{"person_id": person_id, "organization_id": org_id, "role": "director", "title": None,
              "start_date": None, "end_date": None, "raw_record_id": raw.id}],
            ["person_id", "organization_id", "role", "raw_record_id"],
        )  # fmt: skip
        counts.add("roles")


# --------------------------------------------------------------------------------------------- dispatch


HANDLERS = {
    ("ppp_import", "ppp_agreement"): _ppp_import,
    ("govkz", "govkz_news"): _govkz_text,
    ("govkz", "govkz_document"): _govkz_text,
    ("govkz", "govkz_curator"): _govkz_curator,
    ("statgov", "statgov_company"): _statgov,
}


def normalize_record(conn: Connection, raw: Any, counts: InstrumentCounts) -> None:
    handler = _curated if raw.source == "curated" else HANDLERS.get((raw.source, raw.record_type))
    if handler is not None:
        handler(conn, raw, counts)


def read_batch(conn: Connection, after: int, size: int) -> list[Any]:
    r = raws_t.c
    return list(
        conn.execute(
            select(r.id, r.source, r.record_type, r.external_id, r.url, r.human_url, r.payload)
            .where(r.source.in_(SOURCES), r.id > after)
            .order_by(r.id)
            .limit(size)
        )
    )
