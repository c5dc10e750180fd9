"""`ashyq demo` / `make demo`: the whole product offline, on an embedded SQLite database.

Starts the source simulator on loopback with the fictional demo scenario, runs the real goszakup spider
against it, builds, and serves the dashboard. Nothing leaves the machine; the data is fictional and every
dashboard page says so (rows fetched from a loopback simulator are marked fictional by the build).
"""

from __future__ import annotations

import logging
import os
import secrets

from sqlalchemy import func, select

from entities.config import database_url
from entities.db import make_engine
from entities.migrate import upgrade
from entities.models import CrawlRun

log = logging.getLogger(__name__)

DEMO_WINDOW = {"since": "2023-01-01", "until": "2025-12-31"}


def _demo_already_crawled(url: str) -> bool:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            finished = conn.execute(
                select(func.count()).select_from(CrawlRun).where(
                    CrawlRun.source == "goszakup", CrawlRun.status == "finished"
                )
            ).scalar_one()
        return finished > 0
    finally:
        engine.dispose()


def run_demo(port: int = 8501, serve: bool = True, refresh: bool = False) -> None:
    """Simulator → crawl → build → dashboard. A second run reuses the crawled data unless `refresh`."""
    from crawlers.simulator.server import SimulatorServer
    from pipeline.build import run_build
    from pipeline.crawl import run_crawl
    from pipeline.serve import ServeError, serve_dashboard

    url = database_url()
    os.environ["ASHYQ_DATABASE_URL"] = url
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    log.info("demo database: %s", make_engine(url).url.render_as_string(hide_password=True))

    # The simulator stays up while the dashboard runs: demo source links point at its fictional portal pages
    # (never at goszakup.gov.kz), and those links carry its port, so the port is fixed.
    sim_port = int(os.environ.get("ASHYQ_DEMO_SIMULATOR_PORT", "8765"))
    # A throwaway token: the simulator accepts only this one, so the spider's auth path is exercised too.
    token = secrets.token_hex(16)
    try:
        sim = SimulatorServer(scenario="demo", token=token, port=sim_port)
    except OSError as exc:
        raise ServeError(
            f"port {sim_port} for the demo simulator is taken ({exc.strerror}); set ASHYQ_DEMO_SIMULATOR_PORT"
        ) from exc
    with sim:
        log.info("simulator serving the fictional demo scenario on %s", sim.url)
        if refresh or not _demo_already_crawled(url):
            os.environ["GOSZAKUP_TOKEN"] = token
            os.environ["ASHYQ_GOSZAKUP_URL"] = sim.url
            os.environ.setdefault("ASHYQ_GOSZAKUP_DELAY", "0")
            stats = run_crawl("goszakup", dict(DEMO_WINDOW), database_url=url)
            log.info("crawl: %s", stats.summary())
        else:
            log.info("demo data already crawled; `ashyq demo --refresh` crawls again")

        report = run_build(make_engine(url), progress=True)
        log.info("build: %s", report.summary())

        if serve:
            log.info("dashboard on http://127.0.0.1:%d (Ctrl-C to stop)", port)
            serve_dashboard(port=port, database_url=url)
