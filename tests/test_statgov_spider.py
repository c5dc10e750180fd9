"""The stat.gov.kz spider: on recorded responses (tests/fixtures/statgov/, no network), then end to end against
the simulator with 429s, into SQLite and PostgreSQL (`ashyq crawl statgov` in its own process)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine, insert, select, update

import crawlers.settings
from crawlers.simulator.other_scenario import load_other_scenario
from crawlers.simulator.server import SimulatorServer
from crawlers.spiders.statgov import StatgovSpider
from entities.items import QuarantineItem, RawItem
from entities.models import CrawlRun, Organization, Quarantine, RawRecord

FIXTURES = Path(__file__).parent / "fixtures" / "statgov"
BASE = "http://127.0.0.1:9"  # never contacted
ASHYQ = str(Path(sys.executable).with_name("ashyq"))
KNOWN = "060340218323"  # the demo's ТОО «Мысал Журнал», the BIN of found.json
UNKNOWN = "011240009242"  # checksum-valid, not in the demo scenario


def make_spider(db_url: str, **args: str) -> StatgovSpider:
    settings = {k: v for k, v in vars(crawlers.settings).items() if k.isupper()}
    crawler = get_crawler(StatgovSpider, {**settings, "ASHYQ_DATABASE_URL": db_url})
    spider = StatgovSpider.from_crawler(crawler, **args)
    crawler.spider = spider
    return spider


def start(spider: StatgovSpider) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in spider.start()]

    return asyncio.run(collect())


def feed(spider: StatgovSpider, request: Request, fixture: str, status: int = 200) -> list[Any]:
    response = TextResponse(url=request.url, status=status, body=(FIXTURES / fixture).read_bytes(), encoding="utf-8",
                            request=request, headers={"Content-Type": "application/json"})
    return list(spider.parse_response(response))


def add_organizations(engine: Engine, rows: list[tuple[str | None, bool | None]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Organization), [
            {"id": f"org-{i}", "bin": bin_, "bin_valid": valid, "name_ru": f"Организация {i}"}
            for i, (bin_, valid) in enumerate(rows)])


def add_raw(engine: Engine, bin_: str, fetched_at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(insert(RawRecord).values(
            source="statgov", record_type="statgov_company", external_id=bin_, url="x", fetched_at=fetched_at,
            sha256=bin_ + "0" * 52, payload={"success": False, "obj": None, "description": "Не найдено"}))


# ------------------------------------------------------------------------------------------ offline
def test_first_request_is_one_get_per_bin_with_no_network(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASHYQ_STATGOV_URL", BASE)
    spider = make_spider(db_url, bins=f"{KNOWN},{UNKNOWN}")
    requests = start(spider)
    assert [r.url for r in requests] == [f"{BASE}/api/juridical/counter/api/?bin={KNOWN}&lang=ru",
                                         f"{BASE}/api/juridical/counter/api/?bin={UNKNOWN}&lang=ru"]
    assert all(r.method == "GET" for r in requests)
    assert spider.plan_units() == [f"bin:{KNOWN}", f"bin:{UNKNOWN}"]


def test_polite_defaults_one_request_every_two_seconds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ASHYQ_STATGOV_DELAY", raising=False)
    spider = make_spider(f"sqlite:///{tmp_path / 'x.sqlite'}", bins=KNOWN)
    settings = spider.crawler.settings
    assert (settings.getfloat("DOWNLOAD_DELAY"), settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")) == (2.0, 1)
    assert 429 in settings.getlist("RETRY_HTTP_CODES")
    monkeypatch.setenv("ASHYQ_STATGOV_DELAY", "0")  # a loopback simulator
    fast = get_crawler(StatgovSpider, {k: v for k, v in vars(crawlers.settings).items() if k.isupper()})
    assert fast.settings.getfloat("DOWNLOAD_DELAY") == 0.0


@pytest.mark.parametrize(("args", "message"), [
    ({"bins": "12345"}, "bins must be comma-separated checksum-valid 12-digit BINs"),
    ({"bins": "011240009243"}, "checksum-valid"),
    ({"bins": ","}, "bins must be"),
    ({"max_age_days": "-1"}, "max_age_days must be a whole number"),
])
def test_bad_arguments_are_refused(args: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        make_spider(f"sqlite:///{tmp_path / 'x.sqlite'}", **args)


def test_bins_come_from_valid_organization_bins_minus_the_fresh_ones(engine: Engine, db_url: str) -> None:
    bins = sorted(load_other_scenario("demo").statgov_found)[:4]
    add_organizations(engine, [(bins[0], True), (bins[1], True), (bins[2], True), (bins[3], False),
                               (None, None), (bins[0], True)])
    add_raw(engine, bins[1], datetime.now(UTC) - timedelta(days=3))  # fresh: skipped
    add_raw(engine, bins[2], datetime.now(UTC) - timedelta(days=45))  # stale: fetched again
    spider = make_spider(db_url)
    assert spider.plan_units() == [f"bin:{bins[0]}", f"bin:{bins[2]}"]  # sorted, once, valid only
    assert spider.crawler.stats.get_value("statgov/skipped_fresh") == 1
    assert make_spider(db_url, max_age_days="2").plan_units() == [f"bin:{b}" for b in bins[:3]]
    assert make_spider(db_url, max_age_days="0").plan_units() == [f"bin:{b}" for b in bins[:3]]
    assert make_spider(db_url, bins=f"{bins[1]},{bins[3]}").plan_units() == [f"bin:{bins[3]}"]


def one_request(tmp_path: Path, bin_: str = KNOWN) -> tuple[StatgovSpider, Request]:
    spider = make_spider(f"sqlite:///{tmp_path / 'x.sqlite'}", bins=bin_)
    spider.plan_units = lambda: [f"bin:{bin_}"]  # type: ignore[method-assign] - no database needed here
    (request,) = start(spider)
    return spider, request


def test_a_card_is_stored_verbatim_with_the_bin_as_external_id(tmp_path: Path) -> None:
    spider, request = one_request(tmp_path)
    (item,) = feed(spider, request, "found.json")
    assert isinstance(item, RawItem)
    assert (item.source, item.record_type, item.external_id) == ("statgov", "statgov_company", KNOWN)
    assert item.payload == json.loads((FIXTURES / "found.json").read_text())  # the whole answer
    assert item.url == request.url
    assert item.human_url is None
    assert spider.crawler.stats.get_value("statgov/found") == 1


def test_not_found_is_stored_as_what_it_is(tmp_path: Path) -> None:
    spider, request = one_request(tmp_path, UNKNOWN)
    (item,) = feed(spider, request, "not_found.json")
    assert isinstance(item, RawItem)
    assert item.payload == {"success": False, "obj": None, "description": "Не найдено"}
    assert item.external_id == UNKNOWN
    assert spider.crawler.stats.get_value("statgov/not_found") == 1
    assert spider.crawler.stats.get_value("units/incomplete") is None


@pytest.mark.parametrize(("fixture", "reason"), [
    ("other_bin.json", "card is for BIN '011240009242', not 060340218323"),
    ("no_success.json", "answer has no boolean `success`"),
])
def test_answers_we_cannot_trust_are_quarantined_and_the_bin_asked_again_next_run(
        fixture: str, reason: str, tmp_path: Path) -> None:
    spider, request = one_request(tmp_path)
    (item,) = feed(spider, request, fixture)
    assert isinstance(item, QuarantineItem)
    assert item.reason.startswith(reason)
    assert item.body == (FIXTURES / fixture).read_text()
    assert spider.crawler.stats.get_value("units/incomplete") == [f"bin:{KNOWN}"]


def test_a_429_that_outlasts_the_retries_leaves_the_bin_incomplete(tmp_path: Path) -> None:
    spider, request = one_request(tmp_path)
    response = TextResponse(url=request.url, status=429, body=b"Too Many Requests", request=request)
    assert list(spider.parse_response(response)) == []
    assert spider.crawler.stats.get_value("units/incomplete") == [f"bin:{KNOWN}"]


# ------------------------------------------------------------------------------------------ end to end
def crawl(sim: SimulatorServer, db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASHYQ_")}
    env.update(ASHYQ_STATGOV_URL=sim.url, ASHYQ_DATABASE_URL=db_url, ASHYQ_STATGOV_DELAY="0",
               ASHYQ_STATGOV_CONCURRENCY="4", ASHYQ_STATGOV_BACKOFF="0.02", ASHYQ_STATGOV_TIMEOUT="1")
    return subprocess.run([ASHYQ, "crawl", "statgov", *args, "--job-dir", str(tmp_path / "job")], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def statgov_rows(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(RawRecord.external_id, RawRecord.payload).where(RawRecord.source == "statgov")).all()
    assert len(rows) == len({r[0] for r in rows})  # once per BIN
    return {r[0]: r[1] for r in rows}


def last_run(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        status, stats = conn.execute(select(CrawlRun.status, CrawlRun.stats).order_by(CrawlRun.id.desc())).first()
    return {"status": status, **stats}


def test_every_bin_once_through_429s_not_found_stored_and_fresh_bins_skipped(
        db_url: str, engine: Engine, tmp_path: Path) -> None:
    other = load_other_scenario("demo")
    wanted = sorted(other.statgov_found)[:12] + sorted(other.statgov_missing) + [UNKNOWN]
    add_organizations(engine, [(b, True) for b in wanted] + [("123456789012", False)])
    with SimulatorServer(scenario="demo", port=0, seed=5, retry_after=0,
                         source_faults={"statgov": {"429": 0.35, "502": 0.05}}) as sim:
        done = crawl(sim, db_url, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "statgov: finished" in done.stdout
        rows = statgov_rows(engine)
        assert set(rows) == set(wanted)
        for bin_ in wanted:
            if bin_ in other.statgov_found:
                assert rows[bin_]["success"] is True
                assert rows[bin_]["obj"]["bin"] == bin_
            else:  # not found: a record saying so
                assert rows[bin_] == {"success": False, "obj": None, "description": "Не найдено"}
        assert sim.fault_counts["statgov:429"] > 0
        run = last_run(engine)
        assert (run["status"], run["records_new"], run["quarantined"]) == ("finished", len(wanted), 0)
        assert run["retries"] >= sim.fault_counts["statgov:429"]
        with engine.connect() as conn:
            assert conn.execute(select(Quarantine.id)).first() is None

        # Everything is fresh now: nothing is asked again.
        asked = sim.request_count
        again = crawl(sim, db_url, tmp_path)
        assert again.returncode == 0, again.stderr
        assert sim.request_count == asked
        assert last_run(engine)["records_seen"] == 0

        # Two cards grow old: only they are fetched again (same answer: nothing new is stored).
        with engine.begin() as conn:
            conn.execute(update(RawRecord).where(RawRecord.external_id.in_(wanted[:2]))
                         .values(fetched_at=datetime.now(UTC) - timedelta(days=31)))
        stale = crawl(sim, db_url, tmp_path)
        assert stale.returncode == 0, stale.stderr
        run = last_run(engine)
        assert (run["records_seen"], run["records_new"], run["records_duplicate"]) == (2, 0, 2)

        # --bins asks for exactly those, still honouring freshness unless max_age_days=0.
        forced = crawl(sim, db_url, tmp_path, "--bins", f"{wanted[3]},{UNKNOWN}", "-a", "max_age_days=0")
        assert forced.returncode == 0, forced.stderr
        assert last_run(engine)["records_seen"] == 2
        assert set(statgov_rows(engine)) == set(wanted)
