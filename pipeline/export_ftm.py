"""`ashyq export ftm`: the database as FollowTheMoney entities, one JSON object per line (OpenAleph, `ftm` tools).

What becomes what (schemata and properties are the `followthemoney` library's; values are added through it, so
anything its types cannot clean is dropped rather than written):
- organizations → `PublicBody` (kind public_body), `Company` (company, individual entrepreneur),
  `Organization` (schools, colleges, NGOs, foreign and unknown kinds). The BIN is `registrationNumber` with
  `jurisdiction` kz (FtM has no BIN property; `registrationNumber` is its generic one). An individual
  entrepreneur's IIN is never written, and is masked wherever a name repeats it.
- persons → `Person` (`name`, `lastName`, `firstName`, `fatherName` for the patronymic); never an IIN or its hash.
- roles, aggregated per person, organization and role → `Directorship` (heads, directors, chairs), `Employment`
  (officials), `Membership` (commission members), `Ownership` (founders), `UnknownLink` (anything else, e.g.
  signatories); the dates are the earliest and latest source records naming the role, not a verified tenure.
- goszakup engagements (one per contract root) → `Contract` (authority = buyer, amount of the latest version,
  KZT, signing date, trade method, announcement number) + `ContractAward` (supplier = provider).
- PPP agreements → `Contract` + `ContractAward` (state partner as authority, private partner as supplier).
- memoranda → `Contract` (type memorandum / cooperation_agreement; public-body parties as authority) + one
  `UnknownLink` per party (role as written).
- other engagements (curated `none_found`, donations, …) → `UnknownLink` provider → buyer, role = instrument.
- a party that resolution could not tie to an organization → an `Organization` stub with only its name and the
  source that names it.

Ids are `make_entity_id("ashyq", kind, our id)`: stable across rebuilds and databases for the same source rows;
our own id is repeated in `notes`/`recordId`. Every entity carries `sourceUrl` and `publisher` (fictional demo
rows say so). Rows are streamed from the database in batches and written line by line.

Unverified: how OpenAleph displays `registrationNumber` for Kazakh BINs; whether schools should be `PublicBody`
(most are state institutions, but the source kind does not say which are private).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy
from followthemoney.util import make_entity_id
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import aliased

from entities.models import (
    Contract,
    Engagement,
    Memorandum,
    MemorandumParty,
    Mention,
    Organization,
    Person,
    PPPAgreement,
    Procurement,
    RawRecord,
    Role,
)
from pipeline.export_json import IinScrubber, atomic_text, dumps, id_order, money, publisher
from pipeline.legal_basis import default_table
from pipeline.normalize.writer import table_of

log = logging.getLogger(__name__)

ORG_SCHEMA: dict[str, str] = {
    "public_body": "PublicBody",
    "company": "Company",
    "individual_entrepreneur": "Company",
}
DEFAULT_ORG_SCHEMA = "Organization"
_BATCH = 2000


def ftm_id(kind: str, our_id: str) -> str:
    """The FtM id of one of our rows: a SHA-1 of a namespace, the row kind and our id (stable, opaque)."""
    value = make_entity_id("ashyq", kind, our_id)
    assert value is not None  # parts are never empty
    return value


def role_schema(role: str) -> tuple[str, str, str]:
    """(schema, person property, organization property) for a role code as the build writes it."""
    r = role.lower()
    if "founder" in r and not any(k in r for k in ("ceo", "director", "head")):
        return "Ownership", "owner", "asset"
    if any(k in r for k in ("head", "director", "chair", "ceo", "manager", "rector")):
        return "Directorship", "director", "organization"
    if "official" in r or "employee" in r:
        return "Employment", "employee", "employer"
    if "member" in r:
        return "Membership", "member", "organization"
    return "UnknownLink", "subject", "object"


@dataclass
class FtmReport:
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items()))
        return f"{self.total} entities ({shown})" + (f"; skipped: {skipped}" if skipped else "")


class _Writer:
    def __init__(self, fh: Any, report: FtmReport) -> None:
        self.fh = fh
        self.report = report
        self.stubs: set[str] = set()

    def write(self, proxy: EntityProxy) -> None:
        self.fh.write(dumps(proxy.to_dict()) + "\n")
        self.report.counts[proxy.schema.name] = self.report.counts.get(proxy.schema.name, 0) + 1

    def stub(self, name: str | None, url: str | None, pub: str, note: str) -> str | None:
        """An unresolved party: an `Organization` with its name as written and the source naming it."""
        if not name or not name.strip():
            return None
        sid = ftm_id("unresolved", name.strip())
        if sid not in self.stubs:
            self.stubs.add(sid)
            proxy = _entity(DEFAULT_ORG_SCHEMA, sid)
            proxy.add("name", name.strip())
            proxy.add("sourceUrl", url)
            proxy.add("publisher", pub)
            proxy.add("notes", f"Not resolved to a registered organization; named in {note}.")
            self.write(proxy)
        return sid


def _entity(schema: str, entity_id: str) -> EntityProxy:
    proxy = model.make_entity(schema)
    proxy.id = entity_id
    return proxy


def _url(human: str | None, api: str | None) -> str | None:
    return human or api


# ----------------------------------------------------------------------------------------- streams


def _organizations(conn: Any, w: _Writer, scrub: IinScrubber) -> None:
    o, m, r = table_of(Organization).c, table_of(Mention).c, table_of(RawRecord).c
    parent = aliased(table_of(Organization))
    first_mention = select(func.min(m.raw_record_id)).where(m.organization_id == o.id).scalar_subquery()
    parent_id = select(func.min(parent.c.id)).where(parent.c.bin == o.parent_bin).scalar_subquery()
    inner = select(
        o.id, o.bin, o.bin_valid, o.kind, o.legal_form, o.name_ru, o.name_kk, o.name_en, o.registered_on,
        o.oked, o.is_fictional, func.coalesce(o.raw_record_id, first_mention).label("src"),
        parent_id.label("parent_id"),
    ).subquery()
    query = (
        select(inner, r.source, r.url, r.human_url)
        .outerjoin(table_of(RawRecord), r.id == inner.c.src)
        .order_by(id_order(inner.c.id, conn.dialect.name))
    )
    for row in conn.execution_options(yield_per=_BATCH).execute(query):
        proxy = _entity(ORG_SCHEMA.get(row.kind or "", DEFAULT_ORG_SCHEMA), ftm_id("organization", row.id))
        names = [scrub(n) for n in (row.name_ru, row.name_kk, row.name_en) if n]
        if not names:
            names = [row.id]  # `name` is required; an organization known only by its BIN
        proxy.add("name", names[0])
        proxy.add("alias", names[1:])
        if row.bin and row.bin not in scrub.iins:
            proxy.add("registrationNumber", row.bin)
        if row.bin or row.kind != "foreign":
            proxy.add("jurisdiction", "kz")
        proxy.add("legalForm", row.legal_form)
        proxy.add("incorporationDate", row.registered_on)
        if row.oked:
            proxy.add("classification", f"OKED {row.oked}")
        if row.parent_id and row.parent_id != row.id:
            proxy.add("parent", ftm_id("organization", row.parent_id))
        proxy.add("sourceUrl", _url(row.human_url, row.url))
        proxy.add("publisher", publisher(row.source, row.is_fictional))
        proxy.add("notes", f"Ashyq organization {scrub(row.id)}; source record {row.src}.")
        w.write(proxy)


def _persons(conn: Any, w: _Writer) -> None:
    p, m, ro, r = table_of(Person).c, table_of(Mention).c, table_of(Role).c, table_of(RawRecord).c
    first_mention = select(func.min(m.raw_record_id)).where(m.person_id == p.id).scalar_subquery()
    first_role = select(func.min(ro.raw_record_id)).where(ro.person_id == p.id).scalar_subquery()
    inner = select(
        p.id, p.display_name, p.surname, p.given_name, p.patronymic, p.is_fictional,
        func.coalesce(first_mention, first_role).label("src"),
    ).subquery()
    query = (
        select(inner, r.source, r.url, r.human_url)
        .outerjoin(table_of(RawRecord), r.id == inner.c.src)
        .order_by(id_order(inner.c.id, conn.dialect.name))
    )
    for row in conn.execution_options(yield_per=_BATCH).execute(query):
        proxy = _entity("Person", ftm_id("person", row.id))
        proxy.add("name", row.display_name)
        proxy.add("lastName", row.surname)
        proxy.add("firstName", row.given_name)
        proxy.add("fatherName", row.patronymic)
        proxy.add("sourceUrl", _url(row.human_url, row.url))
        proxy.add("publisher", publisher(row.source, row.is_fictional))
        proxy.add("notes", f"Ashyq person {row.id}; source record {row.src}.")
        w.write(proxy)


def _roles(conn: Any, w: _Writer) -> None:
    ro, p = table_of(Role).c, table_of(Person).c
    first, last = aliased(table_of(RawRecord)), aliased(table_of(RawRecord))
    grouped = (
        select(
            ro.person_id, ro.organization_id, ro.role,
            func.min(ro.title).label("title"),
            func.min(ro.start_date).label("start"),
            func.max(ro.end_date).label("end"),
            func.count().label("n"),
            func.min(ro.raw_record_id).label("first_raw"),
            func.max(ro.raw_record_id).label("last_raw"),
        )
        .group_by(ro.person_id, ro.organization_id, ro.role)
        .subquery()
    )
    g = grouped.c
    query = (
        select(grouped, p.is_fictional, first.c.source, first.c.url, first.c.human_url,
               last.c.url.label("last_url"), last.c.human_url.label("last_human"))
        .join(table_of(Person), p.id == g.person_id)
        .join(first, first.c.id == g.first_raw)
        .join(last, last.c.id == g.last_raw)
        .order_by(id_order(g.person_id, conn.dialect.name), id_order(g.organization_id, conn.dialect.name),
                  id_order(g.role, conn.dialect.name))
    )
    for row in conn.execution_options(yield_per=_BATCH).execute(query):
        schema, person_prop, org_prop = role_schema(row.role)
        our = f"{row.person_id}|{row.organization_id}|{row.role}"
        proxy = _entity(schema, ftm_id("role", our))
        proxy.add(person_prop, ftm_id("person", row.person_id))
        proxy.add(org_prop, ftm_id("organization", row.organization_id))
        proxy.add("role", row.title or row.role)
        proxy.add("startDate", row.start)
        proxy.add("endDate", row.end)
        proxy.add("summary", f"{row.role}: named in {row.n} source record(s); dates are the earliest and latest.")
        proxy.add("sourceUrl", [_url(row.human_url, row.url), _url(row.last_human, row.last_url)])
        proxy.add("publisher", publisher(row.source, row.is_fictional))
        proxy.add("recordId", f"roles {row.person_id} {row.organization_id} {row.role} raw {row.first_raw}-{row.last_raw}")
        w.write(proxy)


def _party(w: _Writer, org_id: str | None, name: str | None, url: str | None, pub: str, note: str) -> str | None:
    if org_id:
        return ftm_id("organization", org_id)
    return w.stub(name, url, pub, note)


def _engagements(conn: Any, w: _Writer, scrub: IinScrubber) -> None:
    """goszakup contracts (Contract + ContractAward) and the instruments without a table of their own."""
    e, c, pr, r = table_of(Engagement).c, table_of(Contract).c, table_of(Procurement).c, table_of(RawRecord).c
    versions = aliased(table_of(Contract))
    n_versions = select(func.count()).where(versions.c.root_id == e.contract_root_id).scalar_subquery()
    query = (
        select(
            table_of(Engagement), c.number, c.sign_reason, c.trd_buy_id, pr.number_anno, r.source.label("raw_source"),
            r.human_url.label("anno_url"), n_versions.label("n_versions"),
        )
        .outerjoin(table_of(Contract), c.id == e.contract_root_id)
        .outerjoin(table_of(Procurement), pr.id == c.trd_buy_id)
        .outerjoin(table_of(RawRecord), r.id == pr.raw_record_id)
        .where(e.instrument.not_in(("memorandum", "ppp_agreement")))
        .order_by(id_order(e.id, conn.dialect.name))
    )
    methods = default_table()
    for row in conn.execution_options(yield_per=_BATCH).execute(query):
        pub = publisher("goszakup" if row.contract_root_id is not None else "curated", row.is_fictional)
        note = f"engagement {row.id}"
        buyer = _party(w, row.buyer_id, scrub(row.buyer_name), row.source_url, pub, note)
        provider = _party(w, row.provider_id, scrub(row.provider_name), row.source_url, pub, note)
        evidence = ", ".join(str(v) for v in row.evidence_raw_ids or [])
        if row.instrument != "procurement_contract":
            if buyer is None or provider is None:
                w.report.skipped[row.instrument] = w.report.skipped.get(row.instrument, 0) + 1
                continue
            link = _entity("UnknownLink", ftm_id("engagement", row.id))
            link.add("subject", provider)
            link.add("object", buyer)
            link.add("role", row.instrument)
            link.add("summary", scrub(row.subject))
            link.add("date", row.signed_on)
            link.add("sourceUrl", row.source_url)
            link.add("publisher", pub)
            link.add("recordId", f"engagement {row.id}; source records {evidence}")
            w.write(link)
            continue
        contract = _entity("Contract", ftm_id("engagement", row.id))
        title = scrub(row.subject) or f"Contract {row.number or row.contract_root_id}"
        contract.add("title", title)
        contract.add("name", title)
        contract.add("authority", buyer)
        contract.add("amount", money(row.amount_kzt))
        contract.add("currency", "KZT")
        contract.add("contractDate", row.signed_on)
        rule = methods.get(row.trade_method_id or 0)
        contract.add("method", rule.name_ru if rule else None)
        contract.add("procedure", row.legal_basis)
        contract.add("type", row.instrument)
        contract.add("procedureNumber", row.number_anno)
        contract.add("noticeId", str(row.trd_buy_id) if row.trd_buy_id else None)
        contract.add("country", "kz")
        contract.add("sourceUrl", [row.source_url, row.anno_url])
        contract.add("publisher", pub)
        contract.add(
            "notes",
            f"Ashyq engagement {row.id}; goszakup contract root {row.contract_root_id}; "
            f"legal basis {row.legal_basis} (competitive: {'yes' if row.competitive else 'no'}); "
            f"source records {evidence}.",
        )
        w.write(contract)
        if provider is None:
            w.report.skipped["award without provider"] = w.report.skipped.get("award without provider", 0) + 1
            continue
        award = _entity("ContractAward", ftm_id("award", row.id))
        award.add("contract", contract.id)
        award.add("supplier", provider)
        award.add("amount", money(row.amount_kzt))
        award.add("currency", "KZT")
        award.add("date", row.signed_on)
        award.add("decisionReason", row.sign_reason)
        award.add("documentNumber", row.number)
        award.add("amended", "yes" if (row.n_versions or 0) > 1 else "no")
        award.add("sourceUrl", row.source_url)
        award.add("publisher", pub)
        award.add("recordId", f"engagement {row.id}")
        w.write(award)


def _ppp(conn: Any, w: _Writer, scrub: IinScrubber) -> None:
    a, r = table_of(PPPAgreement).c, table_of(RawRecord).c
    query = (
        select(table_of(PPPAgreement), r.source.label("raw_source"))
        .join(table_of(RawRecord), r.id == a.raw_record_id)
        .order_by(id_order(a.id, conn.dialect.name))
    )
    for row in conn.execution_options(yield_per=_BATCH).execute(query):
        pub = publisher(row.raw_source, row.is_fictional)
        note = f"PPP agreement {row.id}"
        state = _party(w, row.state_partner_id, scrub(row.state_partner_name), row.source_url, pub, note)
        private = _party(w, row.private_partner_id, scrub(row.private_partner_name), row.source_url, pub, note)
        contract = _entity("Contract", ftm_id("ppp", row.id))
        contract.add("title", row.project)
        contract.add("name", row.project)
        contract.add("type", "ppp_agreement")
        contract.add("authority", state)
        contract.add("amount", money(row.amount_kzt))
        contract.add("currency", "KZT" if row.amount_kzt is not None else None)
        contract.add("contractDate", row.signed_on)
        contract.add("method", row.selection_method)
        contract.add("classification", row.ppp_form)
        contract.add("status", row.status)
        contract.add("procedureNumber", row.contract_number)
        contract.add("country", "kz")
        details = [f"sector: {row.sector}" if row.sector else "", f"level: {row.level}" if row.level else "",
                   f"term: {row.term_months} months" if row.term_months else ""]
        contract.add("description", "; ".join(d for d in details if d) or None)
        contract.add("sourceUrl", row.source_url)
        contract.add("publisher", pub)
        contract.add("notes", f"Ashyq PPP agreement {row.id} ({row.origin}); source record {row.raw_record_id}.")
        w.write(contract)
        if private is None:
            continue
        award = _entity("ContractAward", ftm_id("ppp-award", row.id))
        award.add("contract", contract.id)
        award.add("supplier", private)
        award.add("role", "private partner")
        award.add("amount", money(row.amount_kzt))
        award.add("currency", "KZT" if row.amount_kzt is not None else None)
        award.add("date", row.signed_on)
        award.add("sourceUrl", row.source_url)
        award.add("publisher", pub)
        award.add("recordId", f"ppp {row.id}")
        w.write(award)


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _memoranda(conn: Any, engine: Engine, w: _Writer, scrub: IinScrubber) -> None:
    mo, mp, o, r = table_of(Memorandum).c, table_of(MemorandumParty).c, table_of(Organization).c, table_of(RawRecord).c
    query = (
        select(table_of(Memorandum), r.source.label("raw_source"))
        .join(table_of(RawRecord), r.id == mo.raw_record_id)
        .order_by(id_order(mo.id, conn.dialect.name))
    )
    rows = conn.execution_options(yield_per=500).execute(query)
    # Parties are read per batch of memoranda on a second connection (the first is mid-stream).
    with engine.connect() as side:
        for batch in _batches(rows, 500):
            parties: dict[str, list[Any]] = {}
            party_query = (
                select(mp.memorandum_id, mp.position, mp.name, mp.role, mp.organization_id, o.kind)
                .outerjoin(table_of(Organization), o.id == mp.organization_id)
                .where(mp.memorandum_id.in_([row.id for row in batch]))
                .order_by(mp.memorandum_id, mp.position)
            )
            for party in side.execute(party_query):
                parties.setdefault(party.memorandum_id, []).append(party)
            for row in batch:
                _memorandum(w, row, parties.get(row.id, []), scrub)


def _memorandum(w: _Writer, row: Any, parties: list[Any], scrub: IinScrubber) -> None:
    pub = publisher(row.raw_source, row.is_fictional)
    contract = _entity("Contract", ftm_id("memorandum", row.id))
    title = scrub(row.title) or scrub(row.subject) or f"Memorandum {row.id}"
    contract.add("title", title)
    contract.add("name", title)
    contract.add("type", row.instrument)
    contract.add("contractDate", row.signed_on)
    contract.add("summary", scrub(row.subject))
    contract.add("description", scrub(row.excerpt))
    contract.add("language", {"ru": "rus", "kk": "kaz", "en": "eng"}.get(row.language or ""))
    contract.add("country", "kz")
    contract.add("sourceUrl", row.source_url)
    contract.add("publisher", pub)
    evidence = ", ".join(str(v) for v in row.evidence_raw_ids or [])
    contract.add("notes", f"Ashyq memorandum {row.id} ({row.origin}); source records {evidence}.")
    links = []
    for party in parties:
        pid = _party(w, party.organization_id, scrub(party.name), row.source_url, pub, f"memorandum {row.id}")
        if pid is None:
            continue
        if party.kind == "public_body":
            contract.add("authority", pid)
        link = _entity("UnknownLink", ftm_id("memorandum-party", f"{row.id}|{party.position}"))
        link.add("subject", pid)
        link.add("object", contract.id)
        link.add("role", f"memorandum party ({party.role})" if party.role else "memorandum party")
        link.add("namesMentioned", scrub(party.name))
        link.add("date", row.signed_on)
        link.add("sourceUrl", row.source_url)
        link.add("publisher", pub)
        link.add("recordId", f"memorandum {row.id} party {party.position}")
        links.append(link)
    w.write(contract)
    for link in links:
        w.write(link)


# ------------------------------------------------------------------------------------------- entry


def export_ftm(engine: Engine, path: Path | str) -> FtmReport:
    """Write every entity and relation as FtM JSON lines to `path` (atomically); see the module docstring."""
    report = FtmReport()
    with atomic_text(path) as fh, engine.connect() as conn:
        w = _Writer(fh, report)
        scrub = IinScrubber(conn)
        _organizations(conn, w, scrub)
        _persons(conn, w)
        _roles(conn, w)
        _engagements(conn, w, scrub)
        _ppp(conn, w, scrub)
        _memoranda(conn, engine, w, scrub)
    log.info("ftm export: %s", report.summary())
    return report


__all__ = ["FtmReport", "export_ftm", "ftm_id", "role_schema"]
