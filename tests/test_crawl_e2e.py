"""End to end: `ashyq crawl goszakup` against the offline simulator over real HTTP on 127.0.0.1, into SQLite
and PostgreSQL. Each crawl is its own process (Twisted's reactor cannot restart in one process).

The simulator serves the demo scenario with transient faults (429, 502, stalls longer than our timeout,
truncated JSON with HTTP 200); what must come out is every contract version of the window exactly once,
compared with the scenario's own data, however often the crawl is repeated, stopped or killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from crawlers.simulator.server import PermanentFault, SimulatorServer
from entities.db import make_engine
from entities.migrate import upgrade
from entities.models import CrawlRun, Quarantine, RawRecord
from pipeline.crawl import CrawlError, CrawlStats, run_crawl

TOKEN = "0123456789abcdef0123456789abcdef"
SINCE, UNTIL = "2024-03-01", "2024-04-30"
ASHYQ = str(Path(sys.executable).with_name("ashyq"))
# 5 % of requests fail transiently (429, 502, stalls), and 2 % more answer truncated JSON with HTTP 200.
FAULT_RATE, FAULTS = 0.05, {"malformed": 0.02}
# The scenario's "now": pinning it fixes the set of requests, and the simulator's faults are a function of
# the request, so every run of this file meets the same faults.
TODAY = "2026-01-12"
AUTH_ERROR = "error: goszakup rejected the token (HTTP 404 Invalid Route): GOSZAKUP_TOKEN is missing or invalid"


def simulator() -> SimulatorServer:
    return SimulatorServer(
        scenario="demo", token=TOKEN, fault_rate=FAULT_RATE, faults=FAULTS, seed=1, stall_seconds=2.0, port=0
    )


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """A fresh simulator per test: it counts attempts per request, so each test meets the same faults."""
    with simulator() as server:
        yield server


def crawl_env(sim: SimulatorServer, db_url: str, *, token: str | None = TOKEN, delay: str = "0") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASHYQ_", "GOSZAKUP_"))}
    env.update(
        ASHYQ_GOSZAKUP_URL=sim.url,
        ASHYQ_DATABASE_URL=db_url,
        ASHYQ_GOSZAKUP_DELAY=delay,  # the real host gets 1 s; loopback needs none
        ASHYQ_GOSZAKUP_CONCURRENCY="8" if delay == "0" else "1",
        ASHYQ_GOSZAKUP_TIMEOUT="1",  # shorter than the simulator's stalls: a stall is a timeout, retried
        ASHYQ_GOSZAKUP_BACKOFF="0.02",
    )
    if token is not None:
        env["GOSZAKUP_TOKEN"] = token
    return env


def crawl_command(job_dir: Path) -> list[str]:
    return [ASHYQ, "crawl", "goszakup", "--since", SINCE, "--until", UNTIL, "-a", f"today={TODAY}",
            "--job-dir", str(job_dir)]


def crawl(env: dict[str, str], job_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(crawl_command(job_dir), env=env, capture_output=True, text=True, timeout=120, check=False)


def raw_set(engine: Engine) -> set[tuple[str, str, str]]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(select(RawRecord.record_type, RawRecord.external_id, RawRecord.sha256))}


def runs(engine: Engine) -> list[tuple[int, str, dict[str, Any]]]:
    with engine.connect() as conn:
        return [(r[0], r[1], r[2] or {}) for r in conn.execute(
            select(CrawlRun.id, CrawlRun.status, CrawlRun.stats).order_by(CrawlRun.id))]


def expected_contracts(sim: SimulatorServer) -> set[str]:
    """Every version of every contract root the simulator considers signed in the window."""
    scenario = sim.scenario
    table = scenario.tables["Contract"]
    matched = table.matches({"signDate": [f"{SINCE} 00:00:00", f"{UNTIL} 23:59:59"]})
    in_window = {int(i) for i in table.ids[matched]}
    rows = list(scenario.records("Contract"))
    roots = {r["id"] for r in rows if r["id"] in in_window and r["rootId"] == r["id"]}
    # Cross-check with the scenario's own ground truth: every engagement root of the window is here.
    assert {t.root_id for t in scenario.truth_rows(SINCE, UNTIL)} <= roots
    return {str(r["id"]) for r in rows if r["rootId"] in roots}


def ids(raw: set[tuple[str, str, str]], record_type: str) -> list[str]:
    return [external_id for kind, external_id, _ in raw if kind == record_type]


def test_crawl_stores_every_contract_version_of_the_window_once_and_a_second_crawl_adds_nothing(
    sim: SimulatorServer, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    faults_before = sim.fault_counts
    done = crawl(crawl_env(sim, db_url), tmp_path / "job")
    assert done.returncode == 0, done.stderr
    assert "goszakup: finished" in done.stdout, done.stdout + done.stderr
    raw = raw_set(engine)
    faults = {k: v - faults_before.get(k, 0) for k, v in sim.fault_counts.items()}
    print(f"\nsimulator answers: {faults}")
    assert faults.get("malformed", 0) > 0  # truncated bodies were met, retried and not stored
    assert sum(faults.get(kind, 0) for kind in ("429", "502", "stall")) > 0

    contracts = ids(raw, "contract")
    assert len(contracts) == len(set(contracts))  # exactly once
    assert set(contracts) == expected_contracts(sim)
    # Amendments signed after the window were fetched too (so "latest version" is right).
    scenario_rows = {str(r["id"]): r for r in sim.scenario.records("Contract")}
    assert any(scenario_rows[c]["signDate"][:10] > UNTIL for c in contracts if scenario_rows[c]["rootId"] != int(c))

    # What the contracts point at: their announcements and both parties.
    stored = {kind: set(ids(raw, kind)) for kind in ("trd_buy", "subject", "trd_app", "rnu")}
    wanted_buys = {str(scenario_rows[c]["trdBuyId"]) for c in contracts if scenario_rows[c]["trdBuyId"]}
    assert wanted_buys <= stored["trd_buy"]
    parties = {str(scenario_rows[c][k]) for c in contracts for k in ("customerId", "supplierId")}
    assert parties <= stored["subject"]
    # Bids by application date, from 60 days before the window to its end; the whole RNU register.
    apps = sim.scenario.tables["TrdApp"]
    lead = (date.fromisoformat(SINCE) - timedelta(days=60)).isoformat()
    wanted_apps = {str(int(i)) for i in apps.ids[apps.matches({"dateApply": [f"{lead} 00:00:00", f"{UNTIL} 23:59:59"]})]}
    assert stored["trd_app"] == wanted_apps
    assert len(stored["rnu"]) == sim.scenario.count("Rnu")

    ((_, status, stats),) = runs(engine)
    assert status == "finished", stats
    assert stats["incomplete_units"] == []
    assert stats["records_new"] == len(raw)
    assert stats["retries"] > 0  # the faults happened and were absorbed
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Quarantine)).scalar_one() == 0
    assert TOKEN not in json.dumps(stats)
    print(f"\nthroughput: {len(raw) / stats['seconds']:.0f} records/s ({len(raw)} records, "
          f"{stats['pages']} pages, {stats['retries']} retries in {stats['seconds']:.2f} s)")

    again = crawl(crawl_env(sim, db_url), tmp_path / "job")
    assert again.returncode == 0, again.stderr
    assert raw_set(engine) == raw
    (_, status, stats) = runs(engine)[-1]
    assert (status, stats["records_new"], stats["records_duplicate"]) == ("finished", 0, len(raw))
    assert stats["units_skipped"] == 0  # a finished run is not resumed: the second crawl is a full one


def test_wrong_token_exits_nonzero_with_one_clear_line(sim: SimulatorServer, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'wrong.sqlite'}"
    done = crawl(crawl_env(sim, db_url, token="ffffffffffffffffffffffffffffffff"), tmp_path / "job")
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1] == AUTH_ERROR
    assert sum("rejected the token" in line for line in lines) == 1
    assert not any(" ERROR " in line or " WARNING " in line or "Traceback" in line for line in lines), done.stderr
    assert "no data" not in done.stdout + done.stderr
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RawRecord)).scalar_one() == 0
    ((_, status, stats),) = runs(engine)
    engine.dispose()
    assert status == "failed"
    assert stats["error"] == AUTH_ERROR.removeprefix("error: ")

    missing = crawl(crawl_env(sim, db_url, token=None), tmp_path / "job")
    assert missing.returncode != 0
    assert missing.stderr.strip().splitlines()[-1] == "error: GOSZAKUP_TOKEN is not set: goszakup needs an API token"


def _interrupt_when_units_are_done(proc: subprocess.Popen[str], engine: Engine, sig: int) -> None:
    """Send `sig` once a few units are checkpointed and the crawl is still going."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = runs(engine)
        if rows and len(rows[-1][2].get("done_units", [])) >= 3:
            proc.send_signal(sig)
            return
        if proc.poll() is not None:
            pytest.fail(f"the crawl ended before it could be interrupted:\n{proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.02)
    pytest.fail("no unit was checkpointed within 60 s")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str, str]]:
    """The raw set of a crawl nobody interrupted (SQLite), to compare interrupted ones with."""
    path = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{path / 'reference.sqlite'}"
    with simulator() as sim:
        done = crawl(crawl_env(sim, url), path / "job")
    assert done.returncode == 0, done.stderr
    engine = make_engine(url)
    raw = raw_set(engine)
    engine.dispose()
    return raw


def test_sigkill_mid_crawl_then_rerun_gives_the_same_raw_set(
    sim: SimulatorServer, db_url: str, engine: Engine, tmp_path: Path, uninterrupted: set[tuple[str, str, str]]
) -> None:
    job = tmp_path / "job"
    slow = crawl_env(sim, db_url, delay="0.03")  # slow enough to be caught mid-way
    proc = subprocess.Popen(crawl_command(job), env=slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _interrupt_when_units_are_done(proc, engine, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    ((killed_id, status, _),) = runs(engine)
    assert status == "running"  # it never got to close: a real kill
    partial = raw_set(engine)
    assert 0 < len(partial) < len(uninterrupted)
    assert partial <= uninterrupted

    done = crawl(crawl_env(sim, db_url), job)
    assert done.returncode == 0, done.stderr
    assert "resumed:" in done.stdout
    assert raw_set(engine) == uninterrupted
    (first, second) = runs(engine)
    assert first[1] == "killed"
    assert second[1] == "finished"
    assert second[2]["resumed_from"] == killed_id
    assert second[2]["units_skipped"] >= 3


def test_ctrl_c_stops_gracefully_and_the_same_command_resumes_from_jobdir(
    sim: SimulatorServer, tmp_path: Path, uninterrupted: set[tuple[str, str, str]]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'stopped.sqlite'}"
    engine = make_engine(db_url)
    upgrade(engine)  # so the test can watch crawl_runs from the start
    job = tmp_path / "job"
    slow = crawl_env(sim, db_url, delay="0.03")
    proc = subprocess.Popen(crawl_command(job), env=slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _interrupt_when_units_are_done(proc, engine, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err  # not complete: scripts can tell, and re-running resumes
    assert "stopped — run the same command again to resume" in out
    ((_, status, _),) = runs(engine)
    assert status == "stopped"
    assert (job / "spider.state").exists()  # Scrapy kept its queue and our unit tracker
    # The queued requests on disk carry the token's variable name, never the token.
    on_disk = [p for p in job.rglob("*") if p.is_file()]
    assert on_disk
    assert not any(TOKEN.encode() in p.read_bytes() for p in on_disk)
    assert TOKEN not in out + err

    done = crawl(crawl_env(sim, db_url), job)
    assert done.returncode == 0, done.stderr
    assert raw_set(engine) == uninterrupted
    assert runs(engine)[-1][1] == "finished"
    engine.dispose()


def test_a_body_that_stays_malformed_is_quarantined_and_only_its_unit_is_fetched_again(
    db_url: str, engine: Engine, tmp_path: Path, uninterrupted: set[tuple[str, str, str]]
) -> None:
    broken = SimulatorServer(scenario="demo", token=TOKEN, seed=1, port=0,
                             permanent_faults=[PermanentFault("malformed", root="Rnu")])
    with broken:
        done = crawl(crawl_env(broken, db_url), tmp_path / "job")
    assert done.returncode == 1, done.stderr  # incomplete: scripts can tell, and re-running resumes
    assert "INCOMPLETE: 1 units (rnu) — run the same command again" in done.stdout
    ((_, status, stats),) = runs(engine)
    assert (status, stats["incomplete_units"], stats["quarantined"]) == ("incomplete", ["rnu"], 1)
    with engine.connect() as conn:
        (reason, body, stage) = conn.execute(select(Quarantine.reason, Quarantine.body, Quarantine.stage)).one()
    assert stage == "crawl"
    assert reason.startswith("response body is not JSON after 6 attempts")
    assert body.startswith('{"data":{"Rnu":[')  # the truncated body, verbatim
    assert not ids(raw_set(engine), "rnu")

    with simulator() as healthy:
        again = crawl(crawl_env(healthy, db_url), tmp_path / "job")
    assert again.returncode == 0, again.stderr
    (_, status, stats) = runs(engine)[-1]
    assert status == "finished"
    assert stats["units_skipped"] == stats["units_planned"] - 1  # only the RNU unit was fetched again
    assert raw_set(engine) == uninterrupted


# ----------------------------------------------------------------------------- runner, without a reactor


def test_runner_refuses_unknown_sources_and_a_missing_token_before_starting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    with pytest.raises(CrawlError, match=r"unknown source 'nope'; known sources: .*goszakup"):
        run_crawl("nope", {}, database_url=db_url)
    monkeypatch.delenv("GOSZAKUP_TOKEN", raising=False)
    with pytest.raises(CrawlError, match="GOSZAKUP_TOKEN is not set"):
        run_crawl("goszakup", {"since": SINCE}, database_url=db_url)
    assert not (tmp_path / "x.sqlite").exists()  # refused before touching anything


def test_summary_is_one_line_that_says_what_to_do() -> None:
    stats = CrawlStats(source="goszakup", run_id=7, status="incomplete", finish_reason="finished", pages=12,
                       records_seen=2400, records_new=2000, records_duplicate=400, quarantined=1, retries=3,
                       units_planned=10, units_skipped=2, incomplete_units=["contracts:2024-03-01:2024-03-31"],
                       seconds=2.0)
    line = stats.summary()
    assert "\n" not in line
    assert line.startswith("goszakup: incomplete in 2.0 s — 12 pages, 2,400 records (2,000 new, 400 already stored)")
    assert "resumed: 2 of 10 units were already done" in line
    assert "INCOMPLETE: 1 units (contracts:2024-03-01:2024-03-31) — run the same command again" in line
    assert line.endswith("[run #7]")
    assert not stats.complete
    assert stats.records_per_second == 1200
