"""Sources that are files, not spiders: curated facts (`ashyq crawl curated`) and PPP registry spreadsheets
(`ashyq import ppp FILE`), written to the raw store like any crawled record.

- Curated: every valid fact of `data/curated/*.yaml` becomes a raw record `source="curated"`, record type = the
  fact's kind, external id = the fact id, url = the citation URL, payload = the fact (without its line number:
  editing another fact above it must not make a new version). A rejected file is reported with file, line and
  reason; the other files still load.
- PPP: every interpreted row becomes a raw record `source="ppp_import"`, record type `ppp_agreement`, external
  id = the contract number, or `row-<hash>` of project, partners and date when the row has none; url = the row's
  source URL, else `file://<file name>#row=N`. Rejected rows are returned (and printed by the CLI) with their
  row numbers; they are not stored — the file itself keeps them.

Both write with `INSERT … ON CONFLICT DO NOTHING` on the raw store's key (source, record type, external id,
payload sha256), exactly as `pipeline.ingest` does: loading the same input twice adds nothing; a changed fact
or row is a new version. Each load is one `crawl_runs` row, so the raw records say which load brought them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from entities.migrate import upgrade
from entities.models import CrawlRun, RawRecord
from pipeline.curated import CURATED_DIR, CuratedError, CuratedFact, load_curated
from pipeline.ingest import payload_sha256
from pipeline.ppp_import import PPPAgreementRecord, RejectedRow, import_ppp

CURATED_SOURCE = "curated"
PPP_SOURCE = "ppp_import"
PPP_RECORD_TYPE = "ppp_agreement"


@dataclass
class RawLoad:
    """What one load wrote: records offered, new versions stored, and what was refused."""

    source: str
    run_id: int | None = None
    seen: int = 0
    new: int = 0
    errors: list[CuratedError] = field(default_factory=list)
    rejected_files: dict[str, int] = field(default_factory=dict)
    rejects: list[RejectedRow] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.source}: {self.seen} records read, {self.new} new, {self.seen - self.new} unchanged"
        if self.rejected_files:
            text += f"; {len(self.rejected_files)} files rejected ({sum(self.rejected_files.values())} facts)"
        if self.rejects:
            text += f"; {len(self.rejects)} rows rejected"
        return text


def jsonable(value: Any) -> Any:
    """Dates as ISO text, Decimals as text (exact), tuples as lists: a payload JSON stores losslessly."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def curated_payload(fact: CuratedFact) -> dict[str, Any]:
    payload = jsonable(dataclasses.asdict(fact))
    payload.pop("line", None)
    payload["file"] = Path(fact.file).name
    return payload


def ppp_external_id(record: PPPAgreementRecord) -> str:
    if record.contract_number:
        return record.contract_number.strip()[:100]
    key = "|".join(
        str(v or "")
        for v in (
            record.project,
            record.state_partner_bin or record.state_partner_name,
            record.private_partner_bin or record.private_partner_name,
            record.signed_on,
        )
    )
    return "row-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def _store(
    engine: Engine, source: str, args: dict[str, str], rows: list[dict[str, Any]], load: RawLoad
) -> None:
    now = datetime.now(UTC)
    for row in rows:
        row["sha256"] = payload_sha256(row["payload"])
        row["fetched_at"] = now
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(CrawlRun)
            .values(source=source, spider_args=args, started_at=now, status="running", stats={})
            .returning(CrawlRun.id)
        ).scalar_one()
        new = 0
        if rows:
            for row in rows:
                row["crawl_run_id"] = run_id
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = (
                dialect.insert(RawRecord)
                .on_conflict_do_nothing(index_elements=["source", "record_type", "external_id", "sha256"])
                .returning(RawRecord.id)
            )
            # RETURNING lists exactly the rows inserted (a known version returns nothing), on both backends
            new = len(conn.execute(stmt, rows).all())
        load.run_id, load.seen, load.new = run_id, len(rows), new
        stats = {"records_seen": len(rows), "records_new": new, "records_duplicate": len(rows) - new}
        status = "incomplete" if load.rejected_files or load.rejects else "finished"
        conn.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id)
            .values(finished_at=datetime.now(UTC), status=status, stats=stats)
        )


def load_curated_raw(engine: Engine, paths: Path = CURATED_DIR) -> RawLoad:
    """Validate the curated files and store every fact of the valid ones as a raw record (idempotent)."""
    upgrade(engine)
    loaded = load_curated(paths)
    load = RawLoad(CURATED_SOURCE, errors=list(loaded.errors), rejected_files=dict(loaded.rejected_files))
    rows = [
        {
            "source": CURATED_SOURCE,
            "record_type": fact.kind,
            "external_id": fact.id,
            "url": fact.source_url,
            "human_url": fact.source_url,
            "payload": curated_payload(fact),
        }
        for fact in loaded.facts
    ]
    _store(engine, CURATED_SOURCE, {"path": str(paths)}, rows, load)
    return load


def ppp_payload(record: PPPAgreementRecord, file_name: str) -> dict[str, Any]:
    payload = jsonable(dataclasses.asdict(record))
    payload["source_file"] = file_name
    return payload


def import_ppp_raw(engine: Engine, path: Path, sheet: str | None = None) -> RawLoad:
    """Read a PPP registry table (raises PPPImportError when it is no table) and store its rows as raw records."""
    result = import_ppp(path, sheet=sheet)
    upgrade(engine)
    load = RawLoad(PPP_SOURCE, rejects=list(result.rejects))
    rows = [
        {
            "source": PPP_SOURCE,
            "record_type": PPP_RECORD_TYPE,
            "external_id": ppp_external_id(record),
            "url": record.source_url or f"file://{path.name}#row={record.row_number}",
            "human_url": record.source_url,
            "payload": ppp_payload(record, path.name),
        }
        for record in result.records
    ]
    _store(engine, PPP_SOURCE, {"file": path.name}, rows, load)
    return load
