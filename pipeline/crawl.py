"""`ashyq crawl`: run one spider in this process, into the raw store, and say how it went in one line.

The spider is found by name through Scrapy's registry (the pipeline never imports crawlers, DESIGN §2).
Twisted's reactor cannot be restarted, so this runs once per process; run several crawls as several
`ashyq crawl` processes.

Resuming: a crawl stopped with Ctrl-C / SIGTERM is resumed from its JOBDIR (default
`data/jobs/<source>-<hash of the arguments>`); a crawl killed outright, or one that finished with incomplete
units, is resumed from the units the raw store recorded as done. Either way the same command resumes, and the
raw store's idempotence means nothing is stored twice.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader
from sqlalchemy import select

from entities.config import DATA_DIR
from entities.config import database_url as default_database_url
from entities.db import make_engine
from entities.models import CrawlRun
from pipeline.ingest import args_hash, previous_run

log = logging.getLogger(__name__)

SETTINGS_MODULE = "crawlers.settings"
FATAL = "ashyq_fatal"  # crawlers.spiders.base.FATAL: a message the runner reports itself
# What a Scrapy JOBDIR holds; only these are removed when a job directory is stale.
JOBDIR_ENTRIES = ("requests.queue", "requests.seen", "spider.state")


class CrawlError(Exception):
    """The crawl could not run or was refused by the source; the message is meant for the user as is."""


@dataclass
class CrawlStats:
    """How a crawl went; `summary()` is the one line the CLI prints."""

    source: str
    run_id: int | None
    status: str  # finished, incomplete, stopped, failed
    finish_reason: str
    pages: int = 0
    records_seen: int = 0
    records_new: int = 0
    records_duplicate: int = 0
    quarantined: int = 0
    retries: int = 0
    units_planned: int = 0
    units_skipped: int = 0
    units_done: int = 0
    incomplete_units: list[str] = field(default_factory=list)
    seconds: float = 0.0
    job_dir: Path | None = None

    @property
    def complete(self) -> bool:
        return self.status == "finished"

    @property
    def records_per_second(self) -> float:
        return self.records_seen / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        line = (
            f"{self.source}: {self.status} in {self.seconds:.1f} s — {self.pages:,} pages, "
            f"{self.records_seen:,} records ({self.records_new:,} new, {self.records_duplicate:,} already stored), "
            f"{self.quarantined:,} quarantined, {self.retries:,} retries"
        )
        if self.units_skipped:
            line += f"; resumed: {self.units_skipped} of {self.units_planned} units were already done"
        if self.incomplete_units:
            shown = ", ".join(self.incomplete_units[:3]) + (" …" if len(self.incomplete_units) > 3 else "")
            line += f"; INCOMPLETE: {len(self.incomplete_units)} units ({shown}) — run the same command again"
        if self.status == "stopped":
            line += f"; stopped — run the same command again to resume from {self.job_dir}"
        return line + (f" [run #{self.run_id}]" if self.run_id is not None else "")


def project_settings() -> Settings:
    settings = Settings()
    settings.setmodule(SETTINGS_MODULE, priority="project")
    return settings


def _clear_job_dir(job_dir: Path) -> None:
    """Forget a stale JOBDIR (its run finished, or was killed mid-write): remove only Scrapy's own files."""
    for name in JOBDIR_ENTRIES:
        path = job_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


class _CrawlLogFilter(logging.Filter):
    """On the root handlers during a crawl: drop the spider's fatal message (the CrawlError line says it) and,
    unless debugging (`ashyq -v`), the INFO/DEBUG chatter of Scrapy, Twisted and Alembic."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, FATAL, False):
            return False
        return self.verbose or record.levelno >= logging.WARNING or not record.name.startswith(NOISY)


NOISY = ("scrapy", "twisted", "alembic", "py.warnings")


@contextmanager
def _crawl_logging() -> Iterator[None]:
    root = logging.getLogger()
    quiet = _CrawlLogFilter(verbose=root.getEffectiveLevel() <= logging.DEBUG)
    handlers = list(root.handlers)
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


def run_crawl(
    source: str, args: dict[str, str], job_dir: Path | None = None, database_url: str | None = None
) -> CrawlStats:
    """Run spider `source` with `args` into the raw store; raise CrawlError when it cannot run or is refused."""
    with _crawl_logging():
        return _run(source, args, job_dir, database_url)


def _run(source: str, args: dict[str, str], job_dir: Path | None, database_url: str | None) -> CrawlStats:
    from entities.migrate import upgrade  # here, not at import: Alembic logs as it loads

    settings = project_settings()
    loader = get_spider_loader(settings)
    if source not in loader.list():
        raise CrawlError(f"unknown source {source!r}; known sources: {', '.join(sorted(loader.list()))}")
    spidercls = loader.load(source)
    token_env = getattr(spidercls, "token_env", None)
    if token_env and not os.environ.get(token_env, "").strip():
        raise CrawlError(f"{token_env} is not set: {source} needs an API token")
    store_source = getattr(spidercls, "source", source)

    url = database_url or default_database_url()
    engine = make_engine(url)
    try:
        if engine.url.get_backend_name() == "sqlite" and engine.url.database:
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        upgrade(engine)
        previous = previous_run(engine, store_source, args)
    finally:
        engine.dispose()
    if previous is not None and previous.alive:
        raise CrawlError(
            f"a {source} crawl with the same arguments is still running (crawl run #{previous.id}); "
            "wait for it or stop it first"
        )
    job_dir = job_dir or DATA_DIR / "jobs" / f"{source}-{args_hash(args)}"
    if previous is None or previous.status != "stopped" or args.get("resume") == "no":
        _clear_job_dir(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    settings.set("JOBDIR", str(job_dir), priority="cmdline")
    settings.set("ASHYQ_DATABASE_URL", url, priority="cmdline")
    # Logging belongs to the caller (the CLI configures the root logger); Scrapy only adds its loggers.
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")

    closed: dict[str, Any] = {}
    failures: list[Any] = []
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spidercls)

    def on_closed(spider: Any, reason: str) -> None:  # noqa: ARG001 - signal signature
        closed["reason"] = reason
        closed["stats"] = dict(crawler.stats.get_stats()) if crawler.stats else {}

    crawler.signals.connect(on_closed, signal=signals.spider_closed, weak=False)
    deferred = process.crawl(crawler, **args)
    deferred.addErrback(failures.append)
    process.start()
    if failures:
        raise CrawlError(f"{source} crawl failed: {failures[0].getErrorMessage()}")
    if "reason" not in closed:
        raise CrawlError(f"{source} crawl ended without closing the spider (see the log above)")
    reason, spider_stats = closed["reason"], closed["stats"]
    if reason in ("auth_failed", "token_missing"):
        raise CrawlError(spider_stats.get("crawl_error") or f"{source} refused the crawl ({reason})")
    return _stats_of_run(url, store_source, spider_stats, reason, job_dir)


def _stats_of_run(url: str, source: str, spider_stats: dict[str, Any], reason: str, job_dir: Path) -> CrawlStats:
    """The run as the raw store recorded it in crawl_runs."""
    run_id = spider_stats.get("raw_store/crawl_run_id")
    row: dict[str, Any] = {}
    status = "failed"
    if run_id is not None:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                found = conn.execute(select(CrawlRun.status, CrawlRun.stats).where(CrawlRun.id == run_id)).first()
        finally:
            engine.dispose()
        if found is not None:
            status, row = found[0], dict(found[1] or {})
    return CrawlStats(
        source=source,
        run_id=run_id,
        status=status,
        finish_reason=reason,
        pages=row.get("pages", 0),
        records_seen=row.get("records_seen", 0),
        records_new=row.get("records_new", 0),
        records_duplicate=row.get("records_duplicate", 0),
        quarantined=row.get("quarantined", 0),
        retries=row.get("retries", 0),
        units_planned=row.get("units_planned", 0),
        units_skipped=row.get("units_skipped", 0),
        units_done=row.get("units_done", 0),
        incomplete_units=list(row.get("incomplete_units", [])),
        seconds=float(row.get("seconds", 0.0)),
        job_dir=job_dir,
    )
