"""The raw store: a Scrapy item pipeline that writes what spiders yield to `raw_records` and `quarantine`.

- `RawItem` → `raw_records`, idempotently: the row key is `(source, record_type, external_id, sha256)` where
  sha256 is taken over the canonical JSON of the payload (sorted keys, compact, UTF-8). Re-crawling an
  unchanged record adds nothing; a changed payload is a new row (history is kept, never overwritten).
  Inserts are `INSERT … ON CONFLICT DO NOTHING` in batches (SQLite and PostgreSQL alike), flushed when a batch
  fills, at every checkpoint and when the spider closes.
- `QuarantineItem` → `quarantine` (stage `crawl`), with the reason and the offending text verbatim.
- A checkpoint `{"checkpoint": unit_id, "source": …}` (crawlers.spiders.base) means every record of that unit
  has been yielded: the batch is flushed first, then the unit is added to `crawl_runs.stats["done_units"]`.
- One `crawl_runs` row per run: opened with the spider's arguments (never a token), closed with status and
  stats. A run with the same source and arguments as an earlier run that did not finish (stopped, killed,
  incomplete, failed) inherits that run's done units, so the spider skips them: resume after a crash.

The pipeline is enabled by dotted path in `crawlers/settings.py`; crawlers never import it (DESIGN §2).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from entities.config import database_url
from entities.db import make_engine
from entities.items import QuarantineItem, RawItem
from entities.models import CrawlRun, Quarantine, RawRecord

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

CHECKPOINT_KEY = "checkpoint"  # the spider side is crawlers.spiders.base.CHECKPOINT_KEY
# Arguments that steer a run but do not define what is crawled: not part of a run's identity.
CONTROL_ARGS = frozenset({"resume"})
# Statuses of a run whose done units a re-run with the same arguments may skip.
RESUMABLE = frozenset({"stopped", "incomplete", "failed", "running", "killed"})

RAW_KEY = ("source", "record_type", "external_id", "sha256")


def canonical_json(payload: Any) -> str:
    """Sorted keys, no whitespace, non-ASCII kept: the same record always gives the same text."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_sha256(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def stored_args(args: dict[str, Any]) -> dict[str, str]:
    """A run's identity: its arguments as strings, without tokens, control arguments or empty values."""
    return {
        k: str(v)
        for k, v in sorted(args.items())
        if v is not None and "token" not in k.lower() and k not in CONTROL_ARGS
    }


def args_hash(args: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(stored_args(args)).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class PreviousRun:
    id: int
    status: str
    done_units: list[str]
    alive: bool  # still running in a live process on this host


def _process_alive(stats: dict[str, Any]) -> bool:
    if stats.get("host") != socket.gethostname() or not isinstance(stats.get("pid"), int):
        return False
    try:
        os.kill(stats["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def previous_run(engine: Engine, source: str, args: dict[str, Any]) -> PreviousRun | None:
    """The latest run of `source` with the same arguments, if it left work to resume; None otherwise.

    A run still marked `running` whose process is gone was killed (SIGKILL, power loss): resumable.
    """
    wanted = stored_args(args)
    with engine.connect() as conn:
        rows = conn.execute(
            select(CrawlRun.id, CrawlRun.status, CrawlRun.spider_args, CrawlRun.stats)
            .where(CrawlRun.source == source)
            .order_by(CrawlRun.id.desc())
            .limit(200)
        ).all()
    for run_id, status, spider_args, run_stats in rows:
        if stored_args(spider_args or {}) != wanted:
            continue
        if status not in RESUMABLE:
            return None
        stats = run_stats or {}
        alive = status == "running" and _process_alive(stats)
        return PreviousRun(run_id, status, list(stats.get("done_units", [])), alive)
    return None


def _insert(engine: Engine, table: Table) -> Any:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _status(reason: str, incomplete: list[str]) -> str:
    if reason == "finished":
        return "incomplete" if incomplete else "finished"
    if reason == "shutdown":  # SIGINT/SIGTERM: Scrapy stopped gracefully; JOBDIR holds the rest
        return "stopped"
    return "failed"


class RawStorePipeline:
    """Writes RawItems and QuarantineItems to the database; keeps the run's `crawl_runs` row."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.url = crawler.settings.get("ASHYQ_DATABASE_URL") or database_url()
        self.batch_size = crawler.settings.getint("RAW_STORE_BATCH", 500)
        self.raw: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.quarantine: list[dict[str, Any]] = []
        self.done_units: list[str] = []
        self.counts = {"seen": 0, "new": 0, "duplicate": 0, "quarantined": 0}
        self.run_id: int | None = None
        self.resumed_from: int | None = None
        self.started = time.monotonic()
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    # ------------------------------------------------------------------------------- lifecycle
    def open_spider(self) -> None:
        from entities.migrate import upgrade  # here, not at import: Alembic logs as it loads

        spider = self.crawler.spider
        assert spider is not None
        self.engine = make_engine(self.url)
        if self.engine.url.get_backend_name() == "sqlite" and self.engine.url.database:
            Path(self.engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        upgrade(self.engine)
        self.source = getattr(spider, "source", spider.name)
        given = getattr(spider, "crawl_args", {})
        args = stored_args(given)
        previous = None if given.get("resume") == "no" else previous_run(self.engine, self.source, args)
        if previous is not None and previous.alive:
            raise RuntimeError(f"crawl run #{previous.id} with the same arguments is still running")
        self.done_units = list(previous.done_units) if previous else []
        if previous is not None and previous.status == "running":  # its process is gone: say what happened
            with self.engine.begin() as conn:
                conn.execute(update(CrawlRun).where(CrawlRun.id == previous.id).values(status="killed"))
        self.resumed_from = previous.id if previous is not None else None
        stats = self.run_stats(None)
        with self.engine.begin() as conn:
            self.run_id = conn.execute(
                insert(CrawlRun)
                .values(source=self.source, spider_args=args, started_at=datetime.now(UTC), status="running", stats=stats)
                .returning(CrawlRun.id)
            ).scalar_one()
        self.crawler.stats.set_value("raw_store/crawl_run_id", self.run_id)  # type: ignore[union-attr]
        if hasattr(spider, "done_units"):
            spider.done_units = set(self.done_units)
        log.info(
            "crawl run #%d (%s)%s",
            self.run_id,
            ", ".join(f"{k}={v}" for k, v in args.items()),
            f", resuming run #{previous.id} ({len(self.done_units)} units done)" if previous else "",
        )

    def process_item(self, item: Any) -> Any:
        if isinstance(item, RawItem):
            self._add_raw(item)
        elif isinstance(item, QuarantineItem):
            self._add_quarantine(item)
        elif isinstance(item, dict) and CHECKPOINT_KEY in item:
            self.flush()
            self._checkpoint(str(item[CHECKPOINT_KEY]))
        else:
            raise TypeError(f"the raw store does not know how to store {type(item).__name__}")
        return item

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:  # noqa: ARG002 - signal signature
        if self.run_id is None:
            return
        self.flush()
        stats = self.run_stats(reason)
        with self.engine.begin() as conn:
            conn.execute(
                update(CrawlRun)
                .where(CrawlRun.id == self.run_id)
                .values(finished_at=datetime.now(UTC), status=stats["status"], stats=stats)
            )
        self.engine.dispose()

    # ---------------------------------------------------------------------------------- storing
    def _add_raw(self, item: RawItem) -> None:
        if item.fetched_at.tzinfo is None:
            raise ValueError(f"{item.source} {item.record_type} {item.external_id}: fetched_at must be timezone-aware")
        sha = payload_sha256(item.payload)
        key = (item.source, item.record_type, str(item.external_id), sha)
        self.counts["seen"] += 1
        if key in self.raw:  # the same version twice in one batch
            self.counts["duplicate"] += 1
            return
        self.raw[key] = {
            "source": item.source,
            "record_type": item.record_type,
            "external_id": str(item.external_id),
            "url": item.url,
            "human_url": item.human_url,
            "fetched_at": item.fetched_at,
            "sha256": sha,
            "payload": item.payload,
            "crawl_run_id": self.run_id,
        }
        if len(self.raw) >= self.batch_size:
            self.flush()

    def _add_quarantine(self, item: QuarantineItem) -> None:
        self.quarantine.append(
            {
                "source": item.source,
                "record_type": item.record_type,
                "external_id": item.external_id,
                "url": item.url,
                "stage": "crawl",
                "reason": item.reason,
                "body": item.body,
                "crawl_run_id": self.run_id,
                "created_at": datetime.now(UTC),
            }
        )
        if len(self.quarantine) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write the pending batch in one transaction; rows already stored are skipped by the database."""
        if not self.raw and not self.quarantine:
            return
        rows, self.raw = list(self.raw.values()), {}
        quarantined, self.quarantine = self.quarantine, []
        with self.engine.begin() as conn:
            if rows:
                table = RawRecord.__table__
                stmt = (
                    _insert(self.engine, table)  # type: ignore[arg-type]
                    .on_conflict_do_nothing(index_elements=list(RAW_KEY))
                    .returning(table.c.id)  # type: ignore[attr-defined]
                )
                new = len(conn.execute(stmt, rows).all())
                self.counts["new"] += new
                self.counts["duplicate"] += len(rows) - new
            if quarantined:
                conn.execute(insert(Quarantine), quarantined)
                self.counts["quarantined"] += len(quarantined)
        stats = self.crawler.stats
        for name in ("seen", "new", "duplicate", "quarantined"):
            stats.set_value(f"raw_store/{name}", self.counts[name])  # type: ignore[union-attr]

    def _checkpoint(self, unit: str) -> None:
        self.done_units.append(unit)
        with self.engine.begin() as conn:
            conn.execute(update(CrawlRun).where(CrawlRun.id == self.run_id).values(stats=self.run_stats(None)))

    def run_stats(self, reason: str | None) -> dict[str, Any]:
        """What `crawl_runs.stats` holds: counts for people, done units for the next run."""
        spider_stats = self.crawler.stats.get_stats()  # type: ignore[union-attr]
        incomplete = list(spider_stats.get("units/incomplete") or [])
        stats: dict[str, Any] = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "pages": spider_stats.get("graphql/pages", 0),
            "records_seen": self.counts["seen"],
            "records_new": self.counts["new"],
            "records_duplicate": self.counts["duplicate"],
            "quarantined": self.counts["quarantined"],
            "retries": spider_stats.get("retry/count", 0),
            "retries_given_up": spider_stats.get("retry/max_reached", 0),
            "malformed_bodies_retried": spider_stats.get("retry/malformed_body", 0),
            "graphql_errors": spider_stats.get("graphql/errors", 0),
            "failed_requests": spider_stats.get("graphql/failed_requests", 0),
            "units_planned": spider_stats.get("units/planned", 0),
            "units_skipped": spider_stats.get("units/skipped", 0),
            "units_done": len(self.done_units),
            "incomplete_units": incomplete,
            "done_units": list(self.done_units),
            "seconds": round(time.monotonic() - self.started, 3),
        }
        if self.resumed_from is not None:
            stats["resumed_from"] = self.resumed_from
        extra = {k: v for k, v in spider_stats.items() if k.startswith(("contracts/", "graphql/missing/"))}
        if extra:
            stats["notes"] = extra
        if spider_stats.get("crawl_error"):
            stats["error"] = spider_stats["crawl_error"]
        if reason is not None:
            stats["finish_reason"] = reason
            stats["status"] = _status(reason, incomplete)
        return stats
