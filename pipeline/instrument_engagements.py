"""Engagements beyond procurement contracts, and the build stages that feed them.

Stages (`build_state` watermarks, as in `pipeline.build`):

0. `merge_govkz_bodies` (before and after stage 1, cheap: one row per gov.kz slug at most) folds each
   `govkz-<slug>` placeholder organization into the body's own organization once another source brought it.
1. `normalize:instruments` reads raw records of the sources `curated`, `ppp_import`, `govkz` and `statgov` with
   `id > watermark` in id order, in batches (`pipeline.normalize.instruments`). One batch is one transaction with
   its watermark. A record whose handler fails is quarantined (stage `normalize`) and the build goes on.
2. `engagements:instruments` recomputes *all* non-contract engagements when either the instrument stage or the
   goszakup normalize stage moved since it last ran (the `none_found` rule looks at contracts too). There are
   few of them (hundreds), so recomputing them whole is simpler and as cheap as tracking what changed; a build
   with no new raw records does nothing.

Engagements (one buyer–provider pair may have several, side by side; `legal_basis` = the instrument):

- `ppp_agreement` (`ppp-<agreement id>`): buyer = the state partner, provider = the private partner;
  competitive when the private partner was selected by tender or auction (unknown → not competitive).
- `memorandum` (`memorandum-<memorandum id>`), never competitive: provider = the party whose curated role names
  an operator or private side (`operator*`, `private_partner`, `provider`, `company`), else the first party that
  is neither the publisher nor named like a state body (`STATE_BODY`); buyer = the publisher or `buyer_side`
  party, else the first party named like a state body, else the first other party.
- `donation` (`curated-<fact id>` from a curated fact; `donation-<memoranda id>` from a gov.kz release found by
  `pipeline.memoranda.extract_donation`), never competitive: provider = the donor (`donor`/`provider`/
  `operator*` role, else the first party), buyer = the recipient (`recipient`/`buyer_side`/`publisher`, else the
  next party).
- `none_found` (`curated-<fact id>`), never competitive: a curated `service_launch` or `service_switch` shows an
  operator (`operator_new`, `operator`, `provider`) at work for a buyer (`buyer_side`), and no contract, PPP
  agreement or memorandum engagement exists for that pair (compared by organization id where both sides resolve,
  else by normalized name), and the fact is not `related` to a curated `ppp_agreement` or `memorandum` fact
  (the curator said what the basis is).

`source_url` is the evidence's URL; `evidence_raw_ids` the raw records it rests on; `instrument_ref` the row
behind the engagement — `memoranda.id` (memorandum, gov.kz donation), `ppp_agreements.id` (PPP) or
`curated_facts.id` (curated donation, none_found). Read that column instead of rebuilding engagement ids.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.exc import DataError, IntegrityError

from entities.models import (
    BuildState,
    CuratedFact,
    Engagement,
    Memorandum,
    MemorandumParty,
    PPPAgreement,
    Quarantine,
)
from pipeline.normalize.common import name_norm
from pipeline.normalize.instruments import (
    STATE_BODY,
    InstrumentCounts,
    forget_org_keys,
    merge_govkz_bodies,
    normalize_record,
    read_batch,
    relink_unmatched_parties,
    resolve_org,
)
from pipeline.normalize.writer import table_of, upsert

log = logging.getLogger(__name__)

STAGE_NORMALIZE = "normalize:instruments"
STAGE_ENGAGEMENTS = "engagements:instruments"
GOSZAKUP_STAGE = "normalize:goszakup"
INSTRUMENTS = ("ppp_agreement", "memorandum", "donation", "none_found")

engagements_t = table_of(Engagement)
ppp_t = table_of(PPPAgreement)
memo_t = table_of(Memorandum)
parties_t = table_of(MemorandumParty)
facts_t = table_of(CuratedFact)
state_t = table_of(BuildState)
quarantine_t = table_of(Quarantine)


@dataclass
class InstrumentReport:
    raw_read: int = 0
    quarantined: int = 0
    rows_written: dict[str, int] = field(default_factory=dict)
    engagements_written: int = 0
    engagements_removed: int = 0


def _watermark(conn: Connection, stage: str) -> int:
    value = conn.execute(
        select(state_t.c.last_raw_record_id).where(state_t.c.stage == stage)
    ).scalar_one_or_none()
    return int(value or 0)


def _set(conn: Connection, stage: str, raw_id: int) -> None:
    upsert(
        conn,
        state_t,
        [{"stage": stage, "last_raw_record_id": raw_id, "updated_at": datetime.now(UTC)}],
        ["stage"],
    )


def _quarantine(conn: Connection, raw: Any, reason: str) -> None:
    conn.execute(
        quarantine_t.insert(),
        [{"source": raw.source, "record_type": raw.record_type, "external_id": raw.external_id, "url": raw.url,
          "stage": "normalize", "reason": reason,
          "body": json.dumps(raw.payload, ensure_ascii=False, sort_keys=True), "raw_record_id": raw.id,
          "crawl_run_id": None, "created_at": datetime.now(UTC)}],
    )  # fmt: skip


def normalize_stage(engine: Engine, report: InstrumentReport, batch_size: int = 500) -> None:
    with engine.connect() as conn:
        after = _watermark(conn, STAGE_NORMALIZE)
    while True:
        with engine.connect() as conn:
            batch = read_batch(conn, after, batch_size)
        if not batch:
            return
        counts = InstrumentCounts()
        with engine.begin() as conn:
            forget_org_keys(conn)
            for raw in batch:
                # a savepoint per record: a record the handler or the database refuses is quarantined alone
                try:
                    with conn.begin_nested():
                        normalize_record(conn, raw, counts)
                except (DataError, IntegrityError, KeyError, TypeError, ValueError, AttributeError) as exc:
                    forget_org_keys(conn, created=True)  # the index may name an org the savepoint rolled back
                    log.warning("raw record %s (%s %s): %s", raw.id, raw.source, raw.record_type, exc)
                    _quarantine(
                        conn, raw, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                    )
                    report.quarantined += 1
            _set(conn, STAGE_NORMALIZE, batch[-1].id)
        after = batch[-1].id
        report.raw_read += len(batch)
        for table, n in counts.written.items():
            report.rows_written[table] = report.rows_written.get(table, 0) + n


# ------------------------------------------------------------------------------------------- engagements


def engagement_id(prefix: str, ident: str) -> str:
    """`<prefix>-<id>`, within the 80 characters of `engagements.id` (a long id keeps a hash of itself).

    Other code should not rebuild ids with this: `engagements.instrument_ref` names the instrument row
    (memoranda.id, ppp_agreements.id or curated_facts.id) behind each engagement."""
    full = f"{prefix}-{ident}"
    if len(full) <= 80:
        return full
    return full[:63] + "-" + hashlib.sha256(full.encode()).hexdigest()[:16]




@dataclass
class _Side:
    name: str | None
    bin: str | None
    org_id: str | None


def _side(
    conn: Connection, name: str | None, bin_: str | None, org_id: str | None = None, fictional: bool = False
) -> _Side:
    if org_id is None and (name or bin_):
        org_id, _ = resolve_org(conn, name, bin_, fictional=fictional)
    return _Side(name, bin_, org_id)


def _row(
    ident: str, instrument: str, competitive: bool, buyer: _Side, provider: _Side, *, subject: str | None,
    amount: Any, signed_on: Any, region: str | None, source_url: str | None, evidence: Sequence[int],
    fictional: bool, ref: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": ident,
        "instrument_ref": ref,
        "instrument": instrument,
        "legal_basis": instrument,
        "competitive": competitive,
        "trade_method_id": None,
        "buyer_id": buyer.org_id,
        "buyer_bin": buyer.bin,
        "buyer_name": buyer.name,
        "provider_id": provider.org_id,
        "provider_bin": provider.bin,
        "provider_name": provider.name,
        "subject": subject,
        "amount_kzt": amount,
        "signed_on": signed_on,
        "region_kato": region,
        "source_url": source_url,
        "contract_root_id": None,
        "evidence_raw_ids": list(evidence),
        "is_fictional": fictional,
    }


def _ppp_rows(conn: Connection) -> list[dict[str, Any]]:
    return [
        _row(
            engagement_id("ppp", p.id), "ppp_agreement", bool(p.competitive),
            _side(conn, p.state_partner_name, p.state_partner_bin, p.state_partner_id, p.is_fictional),
            _side(conn, p.private_partner_name, p.private_partner_bin, p.private_partner_id, p.is_fictional),
            subject=p.project, amount=p.amount_kzt, signed_on=p.signed_on, region=p.region_kato,
            source_url=p.source_url, evidence=[p.raw_record_id], fictional=p.is_fictional, ref=p.id,
        )
        for p in conn.execute(select(ppp_t)).all()
    ]  # fmt: skip


PROVIDER_ROLES = ("operator", "private_partner", "provider", "company", "donor")
def _pick(parties: Sequence[Any], roles: Sequence[str]) -> Any | None:
    return next((p for p in parties if any(r in (p.role or "") for r in roles)), None)


def _memo_rows(conn: Connection) -> list[dict[str, Any]]:
    rows = []
    for m in conn.execute(select(memo_t)):
        parties = list(
            conn.execute(
                select(parties_t).where(parties_t.c.memorandum_id == m.id).order_by(parties_t.c.position)
            )
        )
        if m.instrument == "donation":
            # a donation found in a press release (pipeline.normalize.instruments): donor → recipient
            provider = _pick(parties, ("donor",))
            buyer = _pick(parties, ("recipient", "publisher"))
            rows.append(
                _row(
                    engagement_id("donation", m.id), "donation", False,
                    _Side(buyer.name, buyer.bin, buyer.organization_id) if buyer else _Side(None, None, None),
                    _Side(provider.name, provider.bin, provider.organization_id) if provider else _Side(None, None, None),
                    subject=m.subject or m.title, amount=None, signed_on=m.signed_on, region=m.region_kato,
                    source_url=m.source_url, evidence=m.evidence_raw_ids or [m.raw_record_id], fictional=m.is_fictional,
                    ref=m.id,
                )
            )  # fmt: skip
            continue
        provider = _pick(parties, PROVIDER_ROLES) or next(
            (p for p in parties if p.role != "publisher" and not STATE_BODY.search(p.name)), None
        )
        others = [p for p in parties if p is not provider]
        buyer = (
            _pick(others, ("publisher", "buyer_side", "state"))
            or next((p for p in others if STATE_BODY.search(p.name)), None)
            or next(iter(others), None)
        )
        rows.append(
            _row(
                engagement_id("memorandum", m.id), "memorandum", False,
                _Side(buyer.name, buyer.bin, buyer.organization_id) if buyer else _Side(None, None, None),
                _Side(provider.name, provider.bin, provider.organization_id) if provider else _Side(None, None, None),
                subject=m.subject or m.title, amount=None, signed_on=m.signed_on, region=m.region_kato,
                source_url=m.source_url, evidence=m.evidence_raw_ids or [m.raw_record_id], fictional=m.is_fictional,
                ref=m.id,
            )
        )  # fmt: skip
    return rows


class _Party:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.name: str = raw.get("name") or ""
        self.role: str = raw.get("role") or ""
        self.bin: str | None = raw.get("bin")


def _pair_keys(side: _Side) -> set[str]:
    return {k for k in (side.org_id, name_norm(side.name)) if k}


def _curated_rows(conn: Connection, existing: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    facts = list(conn.execute(select(facts_t).order_by(facts_t.c.id)))
    instrument_facts = {f.id for f in facts if f.kind in ("ppp_agreement", "memorandum")}
    # pairs already under an instrument: contracts (in the table), PPP and memoranda (computed above)
    contracts = conn.execute(
        select(engagements_t.c.buyer_id, engagements_t.c.buyer_name, engagements_t.c.provider_id,
               engagements_t.c.provider_name).where(engagements_t.c.instrument == "procurement_contract")
    ).all()  # fmt: skip
    sides = [(e.buyer_name, e.buyer_id, e.provider_name, e.provider_id) for e in contracts]
    sides += [(e["buyer_name"], e["buyer_id"], e["provider_name"], e["provider_id"]) for e in existing]
    covered = [
        (_pair_keys(_Side(bn, None, bid)), _pair_keys(_Side(pn, None, pid))) for bn, bid, pn, pid in sides
    ]
    rows = []
    for f in facts:
        parties = [_Party(p) for p in f.parties or []]
        if f.kind == "donation":
            provider = _pick(parties, ("donor", "provider", "operator")) or (parties[0] if parties else None)
            rest = [p for p in parties if p is not provider]
            buyer = _pick(rest, ("recipient", "buyer_side")) or (rest[0] if rest else None)
            instrument = "donation"
        elif f.kind in ("service_launch", "service_switch"):
            provider = _pick(parties, ("operator_new",)) or _pick(
                [p for p in parties if "previous" not in p.role], ("operator", "provider")
            )
            buyer = _pick(parties, ("buyer_side",))
            if provider is None or buyer is None or set(f.related or []) & instrument_facts:
                continue
            instrument = "none_found"
        else:
            continue
        b = _side(conn, buyer.name, buyer.bin, fictional=f.is_fictional) if buyer else _Side(None, None, None)
        p = _side(conn, provider.name, provider.bin, fictional=f.is_fictional) if provider else _Side(None, None, None)
        if instrument == "none_found":
            bk, pk = _pair_keys(b), _pair_keys(p)
            if any(bk & cb and pk & cp for cb, cp in covered):
                continue
        rows.append(
            _row(
                engagement_id("curated", f.id), instrument, False, b, p, subject=f.summary,
                amount=f.amount if f.currency in (None, "KZT") else None, signed_on=f.fact_date,
                region=f.region_kato, source_url=f.source_url, evidence=[f.raw_record_id], fictional=f.is_fictional,
                ref=f.id,
            )
        )  # fmt: skip
    return rows


def write_instrument_engagements(conn: Connection) -> tuple[int, int]:
    """Replace every engagement of the instruments above with a fresh derivation; returns (written, removed)."""
    forget_org_keys(conn)
    rows = _ppp_rows(conn) + _memo_rows(conn)
    rows += _curated_rows(conn, rows)
    keep = {r["id"] for r in rows}
    old = set(
        conn.execute(select(engagements_t.c.id).where(engagements_t.c.instrument.in_(INSTRUMENTS))).scalars()
    )
    gone = sorted(old - keep)
    if gone:
        conn.execute(delete(engagements_t).where(engagements_t.c.id.in_(gone)))
    upsert(conn, engagements_t, rows, ["id"])
    return len(rows), len(gone)


def _merge_placeholders(engine: Engine, report: InstrumentReport) -> int:
    with engine.begin() as conn:
        merged = merge_govkz_bodies(conn)
    if merged:
        report.rows_written["organizations_merged"] = report.rows_written.get("organizations_merged", 0) + merged
    return merged


def _relink_parties(engine: Engine, report: InstrumentReport) -> int:
    with engine.begin() as conn:
        linked = relink_unmatched_parties(conn)
    if linked:
        report.rows_written["parties_linked_late"] = report.rows_written.get("parties_linked_late", 0) + linked
    return linked


def run_instrument_stages(engine: Engine, batch_size: int = 500) -> InstrumentReport:
    report = InstrumentReport()
    # Before the records: a body goszakup brought in since the last build replaces its gov.kz placeholder, so
    # this build's leadership pages and parties find one organization, not two equally good ones. After them:
    # a body that this stage itself brought (a stat.gov.kz card).
    merged = _merge_placeholders(engine, report)
    normalize_stage(engine, report, batch_size)
    merged += _merge_placeholders(engine, report)
    # A party whose organization arrived after its memorandum: linked now, and its engagement written below.
    merged += _relink_parties(engine, report)
    with engine.begin() as conn:
        inputs = _watermark(conn, STAGE_NORMALIZE) + _watermark(conn, GOSZAKUP_STAGE)
        # the stage's watermark here is the sum of both inputs' watermarks: it grows whenever either moves
        # (a merge always follows new records, but its engagements are rewritten even if not)
        if merged or inputs > _watermark(conn, STAGE_ENGAGEMENTS):
            report.engagements_written, report.engagements_removed = write_instrument_engagements(conn)
            _set(conn, STAGE_ENGAGEMENTS, inputs)
    return report
