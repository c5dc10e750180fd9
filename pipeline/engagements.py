"""Engagements from goszakup contracts: one row per contract root — who serves whom, for how much, on what basis.

Rules (each a decision journalists rely on, so each is written down here):

- **One engagement per root** (`goszakup-contract-<rootId>`, instrument `procurement_contract`), and only when
  the root's main contract (`refContractTypeId` 1, or an untyped version that is its own root) is present and
  not deleted: amendments without their contract are not shown as contracts of their own (they will be once
  the main contract is crawled), and a deleted main contract takes its amendments with it.
- **The latest version wins**: the non-deleted version of the root with the highest contract id. Goszakup
  assigns ids in creation order and an amendment is a new row, so the highest id is the newest state; deleted
  versions (drafts withdrawn, amendments annulled) are ignored. Parties, amount and subject come from it.
- **Amount**: the latest version's `contractSumWnds` (with VAT) when given, else `contractSum`. A VAT sum of 0
  beside a non-zero `contractSum` is read as "not given" (the register's default for an empty field).
- **Signed on**: the main contract's `signDate`, as an Almaty calendar date.
- **Legal basis** (`pipeline.legal_basis`): the main contract's method, else a later version's, else the
  announcement's; how a contract was concluded is fixed when it is signed.
- **Region** (two-digit KATO): the lots of its lines (`ContractUnits.lotId → lots.kato`), else the plan points'
  delivery places (`contracts.region_kato`), else the announcement's `kato`, else the customer's address.
  Within one source the region most lines deliver to wins (`pipeline.regions.dominant_region`).
- **Source**: the main contract's public page; `evidence_raw_ids` lists every raw record the row was read from
  (all versions, the announcement, the lots, the parties' cards); a row is fictional when any of them is.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, union

from entities.models import Contract, ContractUnit, Engagement, Lot, Organization, Procurement, RawRecord
from pipeline.legal_basis import classify
from pipeline.normalize.common import almaty_date_of, bin_org_id, ip_org_id, is_fictional_url, pid_org_id
from pipeline.normalize.writer import Mode, table_of, upsert
from pipeline.regions import dominant_region, region_code

log = logging.getLogger(__name__)

INSTRUMENT = "procurement_contract"
CONTRACT_PAGE = "https://goszakup.gov.kz/ru/egzcontract/cpublic/show/{id}"
MAIN_CONTRACT = 1
SUBJECT_LOTS_SHOWN = 5

contracts_t = table_of(Contract)
units_t = table_of(ContractUnit)
lots_t = table_of(Lot)
procurements_t = table_of(Procurement)
orgs_t = table_of(Organization)
raws_t = table_of(RawRecord)
engagements_t = table_of(Engagement)


def engagement_id(root_id: int) -> str:
    return f"goszakup-contract-{root_id}"


@dataclass
class Inputs:
    """Everything the engagements of a batch of roots are read from, loaded in a few queries."""

    versions: dict[int, list[Any]] = field(default_factory=dict)  # root id → contract rows
    units: dict[int, list[Any]] = field(default_factory=dict)  # contract id → unit rows
    lots: dict[int, Any] = field(default_factory=dict)
    procurements: dict[int, Any] = field(default_factory=dict)
    organizations: dict[str, Any] = field(default_factory=dict)
    raws: dict[int, Any] = field(default_factory=dict)


def _amount(version: Any) -> Decimal | None:
    with_vat, without = version.amount_with_vat, version.amount
    if with_vat is not None and not (with_vat == 0 and without not in (None, 0)):
        return Decimal(with_vat)
    return None if without is None else Decimal(without)


def _first(values: Iterable[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _org(inputs: Inputs, candidates: Iterable[str | None]) -> Any | None:
    return _first(inputs.organizations.get(c) for c in candidates if c is not None)


def provider_candidates(biin: str | None, pid: int | None) -> list[str | None]:
    """Organization ids a contract's supplier may have: an entrepreneur's IIN hash, a BIN, a goszakup pid."""
    return [
        ip_org_id(biin) if biin else None,
        bin_org_id(biin) if biin else None,
        pid_org_id(pid) if pid is not None else None,
    ]


def buyer_candidates(bin_: str | None, pid: int | None) -> list[str | None]:
    return [bin_org_id(bin_) if bin_ else None, pid_org_id(pid) if pid is not None else None]


def derive(root_id: int, inputs: Inputs) -> dict[str, Any] | None:
    """The engagement row of one contract root, or None when the root does not make one (module docstring)."""
    versions = sorted(inputs.versions.get(root_id, []), key=lambda v: v.id)
    # A version without a type is the main contract when it is its own root (the register's convention).
    mains = [
        v
        for v in versions
        if v.contract_type_id == MAIN_CONTRACT or (v.contract_type_id is None and v.id == root_id)
    ]
    if not mains:
        return None
    main = next((v for v in mains if v.id == root_id), mains[0])
    if main.deleted:
        return None
    live = [v for v in versions if not v.deleted]
    latest = live[-1]
    newest_first = [latest, *(v for v in reversed(live) if v is not latest)]

    contract_method = main.trade_method_id or _first(v.trade_method_id for v in newest_first)
    trd_buy_id = main.trd_buy_id or _first(v.trd_buy_id for v in newest_first)
    procurement = inputs.procurements.get(trd_buy_id) if trd_buy_id is not None else None
    basis = classify(
        contract_method,
        procurement.trade_method_id if procurement is not None else None,
        has_announcement=trd_buy_id is not None,
    )

    buyer_bin = latest.customer_bin or main.customer_bin
    buyer = _org(inputs, buyer_candidates(buyer_bin, latest.customer_pid or main.customer_pid))
    provider_biin = latest.supplier_biin or main.supplier_biin
    provider = _org(inputs, provider_candidates(provider_biin, latest.supplier_pid or main.supplier_pid))

    lot_ids = [[u.lot_id for u in inputs.units.get(v.id, []) if u.lot_id is not None] for v in newest_first]
    used_lots = [inputs.lots[i] for ids in lot_ids for i in ids if i in inputs.lots]
    subject = (
        _first(v.subject for v in newest_first)
        or (procurement.name_ru if procurement is not None else None)
        or _lot_names(used_lots)
    )
    region = (
        _first(
            dominant_region(k for i in ids if i in inputs.lots for k in inputs.lots[i].kato or [])
            for ids in lot_ids
        )
        or _first(region_code(v.region_kato) for v in newest_first)
        or (dominant_region(procurement.kato or []) if procurement is not None else None)
        or (buyer.region_kato or region_code(buyer.kato) if buyer is not None else None)
    )

    evidence = {v.raw_record_id for v in versions}
    evidence.update(lot.raw_record_id for lot in used_lots)
    for row in (procurement, buyer, provider):
        if row is not None and row.raw_record_id is not None:
            evidence.add(row.raw_record_id)
    main_raw = inputs.raws.get(main.raw_record_id)
    source_url = (main_raw.human_url if main_raw is not None else None) or CONTRACT_PAGE.format(id=main.id)

    return {
        "id": engagement_id(root_id),
        "instrument": INSTRUMENT,
        "legal_basis": basis.code,
        "competitive": basis.competitive,
        "trade_method_id": basis.trade_method_id,
        "buyer_id": buyer.id if buyer is not None else None,
        "buyer_bin": buyer_bin,
        "buyer_name": (buyer.name_ru or buyer.name_kk) if buyer is not None else None,
        "provider_id": provider.id if provider is not None else None,
        "provider_bin": provider_biin,
        "provider_name": (provider.name_ru or provider.name_kk) if provider is not None else None,
        "subject": subject,
        "amount_kzt": _amount(latest),
        "signed_on": almaty_date_of(main.signed_at),
        "region_kato": region,
        "source_url": source_url,
        "contract_root_id": root_id,
        "evidence_raw_ids": sorted(evidence),
        "is_fictional": any(
            raw is None or is_fictional_url(raw.url) for raw in (inputs.raws.get(i) for i in evidence)
        ),
    }


def _lot_names(lots: Sequence[Any]) -> str | None:
    names = list(dict.fromkeys(lot.name_ru for lot in lots if lot.name_ru))
    if not names:
        return None
    shown = "; ".join(names[:SUBJECT_LOTS_SHOWN])
    return shown + (f" (+{len(names) - SUBJECT_LOTS_SHOWN})" if len(names) > SUBJECT_LOTS_SHOWN else "")


# -------------------------------------------------------------------------------------------- loading


def _chunks(values: Sequence[Any], size: int = 2000) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def load_inputs(conn: Connection, root_ids: Sequence[int]) -> Inputs:
    """The rows behind a batch of roots, in six queries (no payloads are read)."""
    inputs = Inputs()
    c = contracts_t.c
    for version in conn.execute(
        select(
            c.id, c.root_id, c.contract_type_id, c.deleted, c.trd_buy_id, c.trade_method_id, c.signed_at,
            c.amount, c.amount_with_vat, c.customer_bin, c.customer_pid, c.supplier_biin, c.supplier_pid,
            c.subject, c.region_kato, c.raw_record_id,
        ).where(c.root_id.in_(root_ids))
    ):  # fmt: skip
        inputs.versions.setdefault(version.root_id, []).append(version)
    contract_ids = [v.id for vs in inputs.versions.values() for v in vs]
    for chunk in _chunks(contract_ids):
        for unit in conn.execute(
            select(units_t.c.contract_id, units_t.c.id, units_t.c.lot_id)
            .where(units_t.c.contract_id.in_(chunk))
            .order_by(units_t.c.id)
        ):
            inputs.units.setdefault(unit.contract_id, []).append(unit)
    lot_ids = sorted({u.lot_id for us in inputs.units.values() for u in us if u.lot_id is not None})
    for chunk in _chunks(lot_ids):
        for lot in conn.execute(
            select(lots_t.c.id, lots_t.c.name_ru, lots_t.c.kato, lots_t.c.raw_record_id).where(
                lots_t.c.id.in_(chunk)
            )
        ):
            inputs.lots[lot.id] = lot
    buy_ids = sorted(
        {v.trd_buy_id for vs in inputs.versions.values() for v in vs if v.trd_buy_id is not None}
    )
    for chunk in _chunks(buy_ids):
        p = procurements_t.c
        for procurement in conn.execute(
            select(p.id, p.trade_method_id, p.name_ru, p.kato, p.raw_record_id).where(p.id.in_(chunk))
        ):
            inputs.procurements[procurement.id] = procurement
    org_ids: set[str] = set()
    for vs in inputs.versions.values():
        for v in vs:
            org_ids.update(i for i in buyer_candidates(v.customer_bin, v.customer_pid) if i)
            org_ids.update(i for i in provider_candidates(v.supplier_biin, v.supplier_pid) if i)
    for chunk in _chunks(sorted(org_ids)):
        o = orgs_t.c
        for org in conn.execute(
            select(o.id, o.name_ru, o.name_kk, o.kato, o.region_kato, o.raw_record_id).where(o.id.in_(chunk))
        ):
            inputs.organizations[org.id] = org
    raw_ids: set[int] = {v.raw_record_id for vs in inputs.versions.values() for v in vs}
    raw_ids.update(r.raw_record_id for r in inputs.lots.values())
    raw_ids.update(r.raw_record_id for r in inputs.procurements.values())
    raw_ids.update(r.raw_record_id for r in inputs.organizations.values() if r.raw_record_id is not None)
    for chunk in _chunks(sorted(raw_ids)):
        for raw in conn.execute(
            select(raws_t.c.id, raws_t.c.url, raws_t.c.human_url).where(raws_t.c.id.in_(chunk))
        ):
            inputs.raws[raw.id] = raw
    return inputs


def touched_roots(conn: Connection, since_raw_id: int) -> array[int]:
    """Roots whose inputs changed after raw record `since_raw_id`: their contracts, announcement, lots or parties.

    Canonical rows carry the raw record that last wrote them, so "changed" is `raw_record_id > since`.
    Returned as a compact sorted array (8 bytes a root) rather than ORM objects.
    """
    c, p, u, lot, o = contracts_t.c, procurements_t.c, units_t.c, lots_t.c, orgs_t.c
    fresh_orgs = o.raw_record_id > since_raw_id
    pid_only = (o.bin.is_(None)) & (o.iin.is_(None))
    query = union(
        select(c.root_id).where(c.raw_record_id > since_raw_id),
        select(c.root_id).join(procurements_t, p.id == c.trd_buy_id).where(p.raw_record_id > since_raw_id),
        select(c.root_id)
        .join(units_t, u.contract_id == c.id)
        .join(lots_t, lot.id == u.lot_id)
        .where(lot.raw_record_id > since_raw_id),
        select(c.root_id).where(c.customer_bin.in_(select(o.bin).where(fresh_orgs, o.bin.isnot(None)))),
        select(c.root_id).where(
            c.supplier_biin.in_(select(func.coalesce(o.bin, o.iin)).where(fresh_orgs, ~pid_only))
        ),
        select(c.root_id).where(c.supplier_pid.in_(select(o.goszakup_pid).where(fresh_orgs, pid_only))),
        select(c.root_id).where(c.customer_pid.in_(select(o.goszakup_pid).where(fresh_orgs, pid_only))),
    ).subquery()
    roots = array("q")
    result = conn.execute(select(query.c.root_id).order_by(query.c.root_id))
    for partition in result.partitions(10_000):
        roots.extend(r[0] for r in partition)
    return roots


def all_roots(engine: Engine, batch_size: int) -> Iterator[list[int]]:
    """Every contract root in batches, by keyset on the root index (the first build touches everything).

    Each batch is read on a short connection of its own, so no read snapshot stays open while batches are written.
    """
    last = -1
    while True:
        with engine.connect() as conn:
            batch = list(
                conn.execute(
                    select(contracts_t.c.root_id)
                    .where(contracts_t.c.root_id > last)
                    .group_by(contracts_t.c.root_id)
                    .order_by(contracts_t.c.root_id)
                    .limit(batch_size)
                ).scalars()
            )
        if not batch:
            return
        yield batch
        last = batch[-1]


@dataclass
class EngagementStats:
    roots: int = 0
    written: int = 0
    removed: int = 0


def write_engagements(conn: Connection, root_ids: Sequence[int]) -> tuple[int, int]:
    """Recompute the engagements of `root_ids` in one transaction; returns (written, removed)."""
    inputs = load_inputs(conn, root_ids)
    rows, gone = [], []
    for root_id in root_ids:
        row = derive(root_id, inputs)
        if row is None:
            gone.append(root_id)
        else:
            rows.append(row)
    removed = 0
    if gone:
        removed = conn.execute(
            delete(engagements_t).where(engagements_t.c.contract_root_id.in_(gone))
        ).rowcount
    upsert(conn, engagements_t, rows, ["id"], mode=Mode.REPLACE)
    return len(rows), removed


def derive_engagements(
    engine: Engine, since_raw_id: int, batch_size: int = 2000, progress: bool = False
) -> EngagementStats:
    """Recompute the engagements of every root touched after `since_raw_id` (0: all), one transaction a batch.

    Each batch is atomic; a failure rolls that batch back and propagates, and the stage's watermark (kept by the
    caller) does not move, so the next build recomputes the same roots — recomputing is idempotent.
    """
    stats = EngagementStats()
    started = time.monotonic()
    say = log.info if progress else log.debug
    batches: Iterable[Sequence[int]]
    if since_raw_id == 0:
        batches = all_roots(engine, batch_size)
    else:
        with engine.connect() as conn:
            roots = touched_roots(conn, since_raw_id)
        batches = (roots[i : i + batch_size].tolist() for i in range(0, len(roots), batch_size))
    for batch in batches:
        with engine.begin() as conn:
            written, removed = write_engagements(conn, batch)
        stats.roots += len(batch)
        stats.written += written
        stats.removed += removed
        say(
            "engagements: %d roots recomputed (%d written, %d removed), %.0f roots/s",
            stats.roots,
            stats.written,
            stats.removed,
            stats.roots / max(time.monotonic() - started, 1e-9),
        )
    return stats
