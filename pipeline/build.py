"""`ashyq build`: raw records → canonical rows → engagements, incrementally and idempotently.

Stages and their watermarks (`build_state`, the last raw record id a stage has consumed):

1. `normalize:goszakup` reads goszakup raw records with `id > watermark` in id order, in batches. Of several
   stored versions of one source record (same type and external id), only the newest *fetched* is normalized
   (ties: the higher raw id); an older version met later is skipped as superseded. A record that cannot be read
   goes to `quarantine` (stage `normalize`) and the build goes on.
2. `engagements:goszakup` recomputes the engagements of the contract roots whose inputs were written after its
   own watermark (their contracts, announcement, lots or party cards; see `pipeline.engagements`).

Unit of atomicity: one batch. A normalize batch writes its rows, its quarantine entries and the new watermark
in one transaction, so a crash leaves either the whole batch or none of it; if the database rejects a batch
(a constraint or a value it cannot store), the batch is rolled back and written again record by record, and a
record the database still rejects is quarantined with the database's reason. Any other error stops the build
with the watermark at the last committed batch. The engagement stage moves its watermark only when every
batch is done; recomputing a root twice gives the same row, so an interrupted stage just runs again.

Running the build again with no new raw records changes nothing: no stage has input, no watermark moves.
Assumption: raw record ids become visible in increasing order — true for SQLite and for one crawl at a time on
PostgreSQL; do not run a build while a crawl is still writing (`ashyq demo` and the docs run them in turn).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DataError, IntegrityError

from entities.migrate import upgrade
from entities.models import (
    Bid,
    BuildState,
    Contract,
    ContractUnit,
    CuratedFact,
    Document,
    Engagement,
    Lot,
    Memorandum,
    Mention,
    Organization,
    Person,
    PPPAgreement,
    Procurement,
    Quarantine,
    RawRecord,
    Role,
    UnreliableSupplier,
)
from pipeline.engagements import derive_engagements
from pipeline.instrument_engagements import run_instrument_stages
from pipeline.normalize.common import NormalizeError, is_fictional_url
from pipeline.normalize.goszakup import SOURCE, RawRef, Rows, normalize
from pipeline.normalize.writer import table_of, upsert, write_rows
from pipeline.resolution import run_resolution

log = logging.getLogger(__name__)

STAGE_NORMALIZE = "normalize:goszakup"
STAGE_ENGAGEMENTS = "engagements:goszakup"
DEFAULT_BATCH = 2000

raws_t = table_of(RawRecord)
build_state_t = table_of(BuildState)
quarantine_t = table_of(Quarantine)

# Tables whose sizes the report shows, in the order of the data flow.
REPORTED_TABLES: tuple[tuple[str, type], ...] = (
    ("organizations", Organization),
    ("persons", Person),
    ("mentions", Mention),
    ("roles", Role),
    ("procurements", Procurement),
    ("lots", Lot),
    ("contracts", Contract),
    ("contract_units", ContractUnit),
    ("bids", Bid),
    ("unreliable_suppliers", UnreliableSupplier),
    ("curated_facts", CuratedFact),
    ("memoranda", Memorandum),
    ("documents", Document),
    ("ppp_agreements", PPPAgreement),
    ("engagements", Engagement),
    ("quarantine", Quarantine),
)


@dataclass
class BuildReport:
    raw_read: int = 0
    normalized: int = 0
    superseded: int = 0
    quarantined: int = 0
    rows_written: dict[str, int] = field(default_factory=dict)
    roots_recomputed: int = 0
    engagements_written: int = 0
    engagements_removed: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    # the other sources (curated, ppp_import, govkz, statgov): pipeline.instrument_engagements
    instrument_records: int = 0
    instrument_engagements: int = 0

    def summary(self) -> str:
        totals = ", ".join(f"{name} {count}" for name, count in self.totals.items())
        return (
            f"build: {self.raw_read} raw records read ({self.normalized} normalized, {self.superseded} superseded, "
            f"{self.quarantined} quarantined); {self.roots_recomputed} contract roots recomputed "
            f"({self.engagements_written} engagements written, {self.engagements_removed} removed); "
            f"{self.instrument_records} records of other sources read "
            f"({self.instrument_engagements} instrument engagements written); "
            f"tables: {totals}; {self.elapsed:.1f}s"
        )


@dataclass
class _Item:
    """One raw record of a batch and what became of it."""

    raw: Any
    rows: Rows | None = None
    superseded_ids: list[int] = field(default_factory=list)
    error: str | None = None


# ----------------------------------------------------------------------------------------- watermarks


STAGE_AGGREGATES = "aggregates"  # holds the input fingerprint of the last refresh, not a raw record id


def watermark(conn: Connection, stage: str) -> int:
    value = conn.execute(
        select(build_state_t.c.last_raw_record_id).where(build_state_t.c.stage == stage)
    ).scalar_one_or_none()
    return int(value or 0)


def _set_watermark(conn: Connection, stage: str, raw_id: int) -> None:
    upsert(
        conn,
        build_state_t,
        [{"stage": stage, "last_raw_record_id": raw_id, "updated_at": datetime.now(UTC)}],
        ["stage"],
    )


# ---------------------------------------------------------------------------------------- normalize


def _read_batch(conn: Connection, after: int, size: int) -> list[Any]:
    r = raws_t.c
    return list(
        conn.execute(
            select(r.id, r.record_type, r.external_id, r.url, r.fetched_at, r.payload, r.crawl_run_id)
            .where(r.source == SOURCE, r.id > after)
            .order_by(r.id)
            .limit(size)
        )
    )


def _versions(conn: Connection, batch: Sequence[Any]) -> dict[tuple[str, str], list[tuple[Any, int]]]:
    """All stored versions (fetched_at, id) of the source records in `batch`, by (record type, external id)."""
    by_type: dict[str, set[str]] = {}
    for raw in batch:
        by_type.setdefault(raw.record_type, set()).add(raw.external_id)
    r = raws_t.c
    versions: dict[tuple[str, str], list[tuple[Any, int]]] = {}
    for record_type, external_ids in sorted(by_type.items()):
        ids = sorted(external_ids)
        for start in range(0, len(ids), 2000):
            for row in conn.execute(
                select(r.external_id, r.fetched_at, r.id).where(
                    r.source == SOURCE,
                    r.record_type == record_type,
                    r.external_id.in_(ids[start : start + 2000]),
                )
            ):
                versions.setdefault((record_type, row.external_id), []).append((row.fetched_at, row.id))
    return versions


def _prepare(batch: Sequence[Any], versions: dict[tuple[str, str], list[tuple[Any, int]]]) -> list[_Item]:
    items = []
    for raw in batch:
        item = _Item(raw)
        stored = versions.get((raw.record_type, raw.external_id), [(raw.fetched_at, raw.id)])
        newest = max(stored)[1]
        if newest != raw.id:
            items.append(item)  # superseded: rows is None and error is None
            continue
        item.superseded_ids = [raw_id for _, raw_id in stored if raw_id != raw.id]
        try:
            item.rows = normalize(raw.record_type, raw.payload, RawRef(raw.id, is_fictional_url(raw.url)))
        except NormalizeError as exc:
            item.error = str(exc)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # A shape the normalizer did not foresee: keep the record and the reason, log it loudly, go on.
            log.warning("raw record %s: unexpected %s", raw.id, type(exc).__name__, exc_info=True)
            item.error = f"unexpected {type(exc).__name__} in the normalizer: {exc}"
        items.append(item)
    return items


def _quarantine_rows(items: Sequence[_Item]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "source": SOURCE,
            "record_type": item.raw.record_type,
            "external_id": item.raw.external_id,
            "url": item.raw.url,
            "stage": "normalize",
            "reason": item.error,
            "body": json.dumps(item.raw.payload, ensure_ascii=False, sort_keys=True),
            "raw_record_id": item.raw.id,
            "crawl_run_id": item.raw.crawl_run_id,
            "created_at": now,
        }
        for item in items
        if item.error is not None
    ]


def _write(conn: Connection, items: Sequence[_Item]) -> dict[str, int]:
    rows = Rows()
    superseded: list[int] = []
    for item in items:
        if item.rows is not None:
            rows.extend(item.rows)
            superseded.extend(item.superseded_ids)
    counts = write_rows(conn, rows, superseded)
    quarantined = _quarantine_rows(items)
    if quarantined:
        conn.execute(quarantine_t.insert(), quarantined)
    return counts


def _write_batch(engine: Engine, items: list[_Item], last_id: int) -> dict[str, int]:
    """Write a batch in one transaction; if the database rejects it, record by record (module docstring)."""
    try:
        with engine.begin() as conn:
            counts = _write(conn, items)
            _set_watermark(conn, STAGE_NORMALIZE, last_id)
        return counts
    except (DataError, IntegrityError) as exc:
        log.warning("batch up to raw record %d rejected (%s); writing it record by record", last_id, exc.orig)
    counts = {}
    for item in items:
        if item.rows is None:
            continue
        try:
            with engine.begin() as conn:
                for table, n in _write(conn, [item]).items():
                    counts[table] = counts.get(table, 0) + n
        except (DataError, IntegrityError) as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            item.rows, item.error = None, f"the database rejected the record's rows: {reason}"
    with engine.begin() as conn:
        quarantined = _quarantine_rows(items)
        if quarantined:
            conn.execute(quarantine_t.insert(), quarantined)
        _set_watermark(conn, STAGE_NORMALIZE, last_id)
    return counts


def _normalize_stage(engine: Engine, report: BuildReport, batch_size: int, say: Callable[..., None]) -> None:
    started = time.monotonic()
    with engine.connect() as conn:
        after = watermark(conn, STAGE_NORMALIZE)
    while True:
        with engine.connect() as conn:
            batch = _read_batch(conn, after, batch_size)
            if not batch:
                return
            items = _prepare(batch, _versions(conn, batch))
        counts = _write_batch(engine, items, batch[-1].id)
        after = batch[-1].id
        report.raw_read += len(items)
        for item in items:
            if item.error is not None:
                report.quarantined += 1
            elif item.rows is None:
                report.superseded += 1
            else:
                report.normalized += 1
        for table, n in counts.items():
            report.rows_written[table] = report.rows_written.get(table, 0) + n
        say(
            "normalize: %d raw records (%d normalized, %d superseded, %d quarantined), %.0f records/s",
            report.raw_read,
            report.normalized,
            report.superseded,
            report.quarantined,
            report.raw_read / max(time.monotonic() - started, 1e-9),
        )


# ------------------------------------------------------------------------------------------------ run


def run_build(engine: Engine, progress: bool = False, batch_size: int = DEFAULT_BATCH) -> BuildReport:
    """Migrate, normalize new raw records, recompute touched engagements; see the module docstring."""
    started = time.monotonic()
    say = log.info if progress else log.debug
    if engine.url.get_backend_name() == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        Path(str(engine.url.database)).parent.mkdir(parents=True, exist_ok=True)
    upgrade(engine)
    report = BuildReport()
    _normalize_stage(engine, report, batch_size, say)
    # Every mention → an organization or a person (issue 3); runs only when mentions or judgements changed.
    run_resolution(engine, say=say)

    with engine.connect() as conn:
        normalized_to = watermark(conn, STAGE_NORMALIZE)
        engagements_from = watermark(conn, STAGE_ENGAGEMENTS)
    if normalized_to > engagements_from:
        stats = derive_engagements(engine, engagements_from, batch_size=batch_size, progress=progress)
        report.roots_recomputed = stats.roots
        report.engagements_written = stats.written
        report.engagements_removed = stats.removed
        with engine.begin() as conn:
            _set_watermark(conn, STAGE_ENGAGEMENTS, normalized_to)

    # After the goszakup stages: PPP partners and memorandum parties resolve against the organizations they wrote.
    instruments = run_instrument_stages(engine)
    report.instrument_records = instruments.raw_read
    report.instrument_engagements = instruments.engagements_written
    report.quarantined += instruments.quarantined
    for table, n in instruments.rows_written.items():
        report.rows_written[table] = report.rows_written.get(table, 0) + n
    # The instrument stages wrote memorandum parties, PPP partners, curated parties and stat.gov.kz directors, whose
    # mentions resolution reads: resolve again so a build from scratch is complete in one run (a no-op otherwise).
    run_resolution(engine, say=say)

    # >>> graph stage (pipeline.graph)
    # Relationship graph edges (issue 5): a no-op unless its inputs changed (fingerprint in build_state `graph`).
    from pipeline.graph import run_graph_stage

    say(run_graph_stage(engine).summary())
    # <<< graph stage

    # >>> flags stage (pipeline.flags)
    # Every build recomputes the flags (thresholds or resolution may have changed); unchanged flags are not rewritten.
    from pipeline.flags.stage import run_flags

    run_flags(engine)
    # <<< flags stage

    # Pre-aggregated tables the dashboard reads at scale (DESIGN §11): rewritten after every stage that writes
    # engagements, organizations or raw records, in one transaction.
    # Skipped when the inputs' fingerprint (the graph stage's: counts and max ids) is what the last refresh saw.
    from pipeline.aggregates import AGGREGATES_VERSION
    from pipeline.aggregates import refresh as refresh_aggregates
    from pipeline.graph import input_fingerprint

    with engine.connect() as conn:
        inputs = (input_fingerprint(conn) + AGGREGATES_VERSION) % 2**63
        fresh = watermark(conn, STAGE_AGGREGATES) == inputs
    if not fresh:
        refresh_aggregates(engine)
        with engine.begin() as conn:
            _set_watermark(conn, STAGE_AGGREGATES, inputs)

    with engine.connect() as conn:
        for name, model in REPORTED_TABLES:
            report.totals[name] = conn.execute(select(func.count()).select_from(table_of(model))).scalar_one()
    report.elapsed = time.monotonic() - started
    return report
