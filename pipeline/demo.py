"""`ashyq demo` / `make demo`: the whole product offline, on an embedded SQLite database.

Starts the source simulator on loopback with the fictional demo scenario (goszakup, gov.kz and stat.gov.kz on
one server), runs the real spiders against it, loads the curated facts and a demo PPP registry sheet, builds,
and serves the dashboard. Nothing leaves the machine. Rows fetched from the loopback simulator are marked
fictional by the build and every dashboard page says so; the curated facts are real, public and cited, and are
labelled as such.
"""

from __future__ import annotations

import csv
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from entities.config import DATA_DIR, database_url
from entities.db import make_engine
from entities.migrate import upgrade
from entities.models import CrawlRun

log = logging.getLogger(__name__)

DEMO_WINDOW = {"since": "2023-01-01", "until": "2025-12-31"}
DEMO_DIR = DATA_DIR / "demo"


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


def _crawl(args: list[str], env: dict[str, str]) -> None:
    """One crawl in its own process: Twisted's reactor cannot be restarted inside one process."""
    ashyq = str(Path(sys.executable).with_name("ashyq"))
    log.info("ashyq crawl %s", " ".join(args))
    done = subprocess.run([ashyq, "crawl", *args], env=env, check=False)  # noqa: S603 - our own CLI
    if done.returncode != 0:
        from pipeline.crawl import CrawlError

        raise CrawlError(f"demo crawl `{' '.join(args)}` failed (exit {done.returncode}); see the lines above")


def write_demo_ppp_sheet(sim_url: str, path: Path) -> Path:
    """The demo's PPP registry sheet, from the simulator's fictional PPP agreements.

    The PPP Center's registry cannot be reached (and its layout is unknown), so the demo imports a sheet in
    the documented column mapping; each row's source is the simulator's gov.kz document page about it, so the
    agreement is fictional by provenance like every other demo row.
    """
    from crawlers.simulator.other_scenario import load_other_scenario

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow([
            "project", "sector", "level", "ppp form", "selection method", "state partner", "state partner bin",
            "private partner", "private partner bin", "date signed", "term", "sum", "status", "region",
            "contract number", "source url",
        ])
        for number, ppp in enumerate(load_other_scenario("demo").ppp, start=1):
            document = ppp.document_ids[0] if ppp.document_ids else 0
            writer.writerow([
                ppp.project_ru, "образование", ppp.level, ppp.ppp_form, ppp.selection_method,
                ppp.state_partner_name, ppp.state_partner_bin, ppp.private_partner_name, ppp.private_partner_bin,
                ppp.signed_on.isoformat(), f"{ppp.term_years} лет", str(ppp.amount_kzt), "active",
                ppp.region_code2, f"ГЧП-ДЕМО-{number:03d}",
                f"{sim_url}/memleket/entities/kyzylorda-bilim/documents/details/{document}?lang=ru",
            ])
    return path


def run_demo(port: int = 8501, serve: bool = True, refresh: bool = False) -> None:
    """Simulator → crawls → build → dashboard. A second run reuses the crawled data unless `refresh`."""
    from crawlers.simulator.server import SimulatorServer
    from pipeline.build import run_build
    from pipeline.curated import CURATED_DIR
    from pipeline.raw_import import import_ppp_raw, load_curated_raw
    from pipeline.serve import ServeError, serve_dashboard

    url = database_url()
    os.environ["ASHYQ_DATABASE_URL"] = url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    log.info("demo database: %s", engine.url.render_as_string(hide_password=True))

    # The simulator stays up while the dashboard runs: demo source links point at its fictional pages (never at
    # the real portals), and those links carry its port, so the port is fixed.
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
        env = {
            **os.environ,
            "GOSZAKUP_TOKEN": token,
            "ASHYQ_GOSZAKUP_URL": sim.url,
            "ASHYQ_GOVKZ_URL": sim.url,
            "ASHYQ_STATGOV_URL": sim.url,
            # Politeness delays protect real hosts; the local simulator needs none.
            "ASHYQ_GOSZAKUP_DELAY": "0",
            "ASHYQ_GOVKZ_DELAY": "0",
            "ASHYQ_STATGOV_DELAY": "0",
        }
        crawl = refresh or not _demo_already_crawled(url)
        if crawl:
            _crawl(["goszakup", "--since", DEMO_WINDOW["since"], "--until", DEMO_WINDOW["until"]], env)
            # The demo story's region has only a guessed gov.kz slug, hence all slugs.
            _crawl(["govkz", "--slugs", "all"], env)
            curated = load_curated_raw(engine, CURATED_DIR)
            log.info("curated facts: %s", curated.summary())
            sheet = write_demo_ppp_sheet(sim.url, DEMO_DIR / "ppp_registry_demo.csv")
            log.info("PPP registry sheet: %s", import_ppp_raw(engine, sheet).summary())
        else:
            log.info("demo data already crawled; `ashyq demo --refresh` crawls again")

        report = run_build(engine, progress=True)
        log.info("build: %s", report.summary())
        if crawl:
            # Company cards for every BIN the build has seen, then fold them in.
            _crawl(["statgov"], env)
            log.info("build: %s", run_build(engine, progress=True).summary())
        engine.dispose()

        if serve:
            log.info("dashboard on http://127.0.0.1:%d (Ctrl-C to stop)", port)
            serve_dashboard(port=port, database_url=url)
