"""The gov.kz spider: on recorded responses (tests/fixtures/govkz/, no network), then end to end against the
simulator over real HTTP with faults and a ticket that expires, into SQLite and PostgreSQL (`ashyq crawl` in
its own process: Twisted's reactor cannot restart)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import CloseSpider
from scrapy.http import TextResponse
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine, select

import crawlers.settings
from crawlers.middlewares import EXPECT_JSON
from crawlers.simulator.govkz import GovkzOptions
from crawlers.simulator.other_scenario import load_other_scenario
from crawlers.simulator.server import SimulatorServer
from crawlers.spiders.base import CHECKPOINT_KEY
from crawlers.spiders.govkz import GovkzSpider, load_slugs
from crawlers.spiders.rest import public_site_url
from entities.db import make_engine
from entities.items import QuarantineItem, RawItem
from entities.migrate import upgrade
from entities.models import CrawlRun, Quarantine, RawRecord
from pipeline.crawl import project_settings as runner_settings

FIXTURES = Path(__file__).parent / "fixtures" / "govkz"
BASE = "http://127.0.0.1:9"  # never contacted: nothing in the offline tests downloads
API = f"{BASE}/api/v1/public/content-manager"
ASHYQ = str(Path(sys.executable).with_name("ashyq"))
PACK_AKIMATS = {"aqmola", "abay", "aktobe", "almobl", "atyrau", "akimvko", "pavlodar", "zhambyl", "zhetysu-oblysy",
                "bko", "karaganda", "ulytau", "kostanay", "kyzylorda", "mangystau", "sko", "ontustik", "almaty",
                "astana", "shymkent"}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASHYQ_GOVKZ_URL", BASE)
    monkeypatch.delenv("ASHYQ_GOVKZ_SITE_URL", raising=False)


def make_spider(**args: str) -> GovkzSpider:
    settings = {k: v for k, v in vars(crawlers.settings).items() if k.isupper()}
    crawler = get_crawler(GovkzSpider, settings)
    spider = GovkzSpider.from_crawler(crawler, **args)
    crawler.spider = spider
    return spider


def start(spider: Any) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in spider.start()]

    return asyncio.run(collect())


def respond(request: Request, fixture: str | None = None, status: int = 200, body: bytes | None = None,
            headers: dict[str, Any] | None = None) -> TextResponse:
    content = body if body is not None else (FIXTURES / fixture).read_bytes() if fixture else b""
    return TextResponse(url=request.url, status=status, body=content, encoding="utf-8", request=request,
                        headers={"Content-Type": "application/json", **(headers or {})})


def feed(spider: GovkzSpider, request: Request, fixture: str | None = None, **kw: Any) -> tuple[list[Any], list[Request], list[dict[str, Any]]]:
    out = list(spider.parse_response(respond(request, fixture, **kw)))
    items = [o for o in out if isinstance(o, (RawItem, QuarantineItem))]
    requests = [o for o in out if isinstance(o, Request)]
    checkpoints = [o for o in out if isinstance(o, dict)]
    assert len(items) + len(requests) + len(checkpoints) == len(out)
    return items, requests, checkpoints


def ticket_answer(spider: GovkzSpider, ticket: Request, value: str = "abc") -> list[Request]:
    _, requests, _ = feed(spider, ticket, body=b"{}", headers={"Set-Cookie": f"gov_kz_ticket={value}; Path=/; HttpOnly"})
    return requests


def by_kind(requests: list[Request]) -> dict[str, list[Request]]:
    kinds: dict[str, list[Request]] = {}
    for request in requests:
        kinds.setdefault(request.meta["spec"]["kind"], []).append(request)
    return kinds


# ------------------------------------------------------------------------------------------ slugs and plan
def test_slug_list_marks_what_the_pack_saw_and_what_is_a_guess() -> None:
    rows = load_slugs()
    slugs = {r.slug: r for r in rows}
    assert len(slugs) == len(rows)  # no duplicates
    assert {s for s, r in slugs.items() if r.status == "pack" and r.kind != "akimat"} == {
        "edu", "sci", "almaty-edu", "shymkent-bilim", "aktobe-bilim"}
    departments = [r for r in rows if r.kind == "education_department"]
    assert sorted(r.region_code2 for r in departments) == sorted(
        r.region_code2 for r in rows if r.kind == "akimat")  # one department and one akimat per region
    assert len(departments) == 20
    # The akimat slugs of the source pack (gov_kz__akimat_entity_slugs.json), all of them.
    assert {r.slug for r in rows if r.kind == "akimat"} == PACK_AKIMATS
    assert all(r.evidence for r in rows)


def test_plan_is_slug_by_kind_by_language_and_pack_is_the_default() -> None:
    spider = make_spider(slugs="edu,almaty-edu", langs="ru,kk")
    assert spider.plan_units()[:6] == ["news:edu:ru", "news:edu:kk", "documents:edu:ru", "documents:edu:kk",
                                       "curators:edu:ru", "curators:edu:kk"]
    assert len(spider.plan_units()) == 12
    default = make_spider()
    assert "kyzylorda-bilim" not in default.slugs  # a guess: only with slugs=all or by name
    assert {"edu", "sci", "almaty-edu", "kyzylorda"} <= set(default.slugs)
    assert "kyzylorda-bilim" in make_spider(slugs="all").slugs
    assert make_spider(slugs="edu", types="curators", langs="en").plan_units() == ["curators:edu:en"]


@pytest.mark.parametrize(("args", "message"), [
    ({"until": "2025-01-01"}, "govkz takes no until"),
    ({"langs": "ru,de"}, "langs must be among"),
    ({"types": "news,pages"}, "types must be among"),
    ({"slugs": "edu,Bad Slug"}, "slugs must be gov.kz entity slugs"),
    ({"since": "2025-1-1"}, "since must be a date as YYYY-MM-DD"),
    ({"since": "2025-02-30"}, "since is not a real date"),
    ({"page_size": "0"}, "page_size must be a whole number"),
])
def test_bad_arguments_are_refused_with_a_clear_message(args: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_spider(**args)


# ------------------------------------------------------------------------------------------ first requests
def test_first_requests_documents_and_curators_at_once_news_only_after_the_ticket() -> None:
    spider = make_spider(slugs="edu", langs="ru,kk")
    kinds = by_kind(start(spider))
    assert sorted(kinds) == ["curators", "documents", "ticket"]  # no news request before the ticket
    (ticket,) = kinds["ticket"]
    assert (ticket.method, ticket.url) == ("POST", f"{BASE}/api/v1/public/_/c/k6")
    assert ticket.headers[b"Content-Type"] == b"application/json"
    assert ticket.headers[b"Origin"] == b"https://www.gov.kz"
    documents = {r.headers[b"Accept-Language"].decode(): r for r in kinds["documents"]}
    assert documents["ru"].url == f"{API}/documents?projects=edu&page=1&size=100&sort-by=created_date:DESC"
    assert documents["kk"].url == documents["ru"].url  # the language travels in the header
    assert documents["ru"].meta[EXPECT_JSON] is True
    assert documents["ru"].dont_filter  # same URL in two languages: Scrapy's fingerprint would merge them
    assert [r.url for r in kinds["curators"]] == [f"{API}/curators?projects=edu&size=100"] * 2

    news = by_kind(ticket_answer(spider, ticket))["news"]
    assert len(news) == 2
    assert news[0].url == f"{API}/news?projects=eq:edu&sort-by=created_date:DESC&page=1&size=100"
    assert {r.headers[b"Accept-Language"] for r in news} == {b"ru", b"kk"}
    assert all(r.headers[b"Cookie"] == b"gov_kz_ticket=abc" for r in news)


def test_since_becomes_created_date_gt_and_never_gte() -> None:
    spider = make_spider(slugs="edu", since="2025-03-01", langs="ru")
    requests = start(spider)
    documents = by_kind(requests)["documents"][0]
    assert documents.url.endswith("&sort-by=created_date:DESC&created_date=gt:2025-02-28T23:59:59")
    news = ticket_answer(spider, by_kind(requests)["ticket"][0])[0]
    assert "created_date=gt:2025-02-28T23:59:59" in news.url
    assert "gte:" not in news.url + documents.url
    assert "created_date" not in by_kind(requests)["curators"][0].url  # the leadership list has no date filter


def test_units_done_in_an_earlier_run_are_skipped() -> None:
    spider = make_spider(slugs="edu", langs="ru")
    spider.done_units = {"news:edu:ru", "curators:edu:ru"}
    kinds = by_kind(start(spider))
    assert sorted(kinds) == ["documents"]  # no ticket either: no news unit left
    assert spider.crawler.stats.get_value("units/skipped") == 2


# ------------------------------------------------------------------------------------------ pages
def news_request(spider: GovkzSpider, lang: str = "ru") -> Request:
    requests = start(spider)
    news = ticket_answer(spider, by_kind(requests)["ticket"][0])
    return next(r for r in news if r.headers[b"Accept-Language"] == lang.encode())


def test_news_page_is_stored_per_item_and_language_then_the_next_page_then_a_checkpoint() -> None:
    spider = make_spider(slugs="test-bilim", langs="ru,kk", types="news", page_size="2")
    first = news_request(spider, "kk")
    items, requests, checkpoints = feed(spider, first, "news_kk_page1.json")
    assert [i.external_id for i in items] == ["1163201:kk", "1163144:kk"]
    item = items[0]
    assert (item.source, item.record_type) == ("govkz", "govkz_news")
    assert item.payload == json.loads((FIXTURES / "news_kk_page1.json").read_text())[0]  # verbatim
    assert item.url == first.url
    assert item.human_url == f"{BASE}/memleket/entities/test-bilim/press/news/details/1163201?lang=kk"
    assert item.fetched_at.tzinfo is not None
    assert not checkpoints
    (second,) = requests
    assert second.url.endswith("&page=2&size=2")
    assert second.headers[b"Accept-Language"] == b"kk"
    assert second.headers[b"Cookie"] == b"gov_kz_ticket=abc"
    items, requests, checkpoints = feed(spider, second, "empty.json")
    assert (items, requests) == ([], [])
    assert checkpoints == [{CHECKPOINT_KEY: "news:test-bilim:kk", "source": "govkz"}]


def test_documents_and_curators_records() -> None:
    spider = make_spider(slugs="test-bilim", langs="ru", types="documents,curators")
    kinds = by_kind(start(spider))
    items, requests, _ = feed(spider, kinds["documents"][0], "documents_page1.json")
    assert [(i.record_type, i.external_id) for i in items] == [("govkz_document", "1072301:ru"),
                                                                ("govkz_document", "1072256:ru")]
    assert items[0].human_url == f"{BASE}/memleket/entities/test-bilim/documents/details/1072301?lang=ru"
    assert requests[0].url.endswith("page=2&size=100&sort-by=created_date:DESC")
    items, requests, checkpoints = feed(spider, kinds["curators"][0], "curators.json")
    assert [(i.record_type, i.external_id) for i in items] == [("govkz_curator", "51061:ru"),
                                                                ("govkz_curator", "12712:ru")]
    assert items[0].human_url == f"{BASE}/memleket/entities/test-bilim/about/structure/people/51061?lang=ru"
    assert requests == []  # one list, no paging
    assert checkpoints == [{CHECKPOINT_KEY: "curators:test-bilim:ru", "source": "govkz"}]


def test_enveloped_page_is_read_and_bad_items_are_quarantined_verbatim() -> None:
    spider = make_spider(slugs="test-bilim", langs="ru", types="news")
    request = news_request(spider)
    items, requests, _ = feed(spider, request, "news_enveloped.json")
    assert [i.external_id for i in items] == ["1163300:ru"]
    assert len(requests) == 1
    items, _, _ = feed(spider, requests[0], "news_bad_items.json")
    raw = [i for i in items if isinstance(i, RawItem)]
    quarantined = [i for i in items if isinstance(i, QuarantineItem)]
    assert [i.external_id for i in raw] == ["1163401:ru"]
    assert sorted(q.reason.split(" (")[0] for q in quarantined) == ["item has no `id`", "item is not an object"]
    assert '"Новость без id"' in next(q.body for q in quarantined if "no `id`" in q.reason)


def test_a_body_that_is_not_an_array_or_not_json_leaves_the_unit_incomplete() -> None:
    spider = make_spider(slugs="test-bilim", langs="ru", types="news")
    request = news_request(spider)
    items, requests, checkpoints = feed(spider, request, body=b'[{"id": 1, "title": "cut')
    assert [type(i) for i in items] == [QuarantineItem]
    assert items[0].reason.startswith("response body is not JSON")
    assert (requests, checkpoints) == ([], [])
    assert spider.crawler.stats.get_value("units/incomplete") == ["news:test-bilim:ru"]


def test_a_page_that_repeats_page_one_stops_the_chain_as_incomplete() -> None:
    spider = make_spider(slugs="test-bilim", langs="ru", types="news", page_size="2")
    request = news_request(spider)
    _, (second,), _ = feed(spider, request, "news_ru_page1.json")
    items, requests, checkpoints = feed(spider, second, "news_ru_page1.json")
    assert len(items) == 2  # stored (the raw store dedupes), but no third page
    assert (requests, checkpoints) == ([], [])
    assert spider.crawler.stats.get_value("units/incomplete") == ["news:test-bilim:ru"]


# ------------------------------------------------------------------------------------------ the ticket
def test_a_lost_ticket_is_reacquired_and_the_refused_request_resent() -> None:
    spider = make_spider(slugs="test-bilim", langs="ru", types="news")
    request = news_request(spider)
    _, requests, _ = feed(spider, request, "not_allowed.json", status=400)
    (ticket,) = requests
    assert ticket.meta["spec"]["kind"] == "ticket"
    (again,) = ticket_answer(spider, ticket, value="fresh")
    assert again.url == request.url
    assert again.headers[b"Cookie"] == b"gov_kz_ticket=fresh"
    items, _, _ = feed(spider, again, "news_ru_page1.json")
    assert len(items) == 2
    assert spider.crawler.stats.get_value("govkz/tickets") == 2


def test_requests_refused_with_an_old_ticket_are_resent_without_a_new_ticket() -> None:
    spider = make_spider(slugs="a,b", langs="ru", types="news")
    requests = start(spider)
    first, second = ticket_answer(spider, by_kind(requests)["ticket"][0])
    _, (ticket,), _ = feed(spider, first, "not_allowed.json", status=400)
    assert ticket_answer(spider, ticket, value="new")[0].url == first.url
    _, (resent,), _ = feed(spider, second, "not_allowed.json", status=400)  # sent with the old ticket
    assert resent.meta["spec"]["kind"] == "news"
    assert resent.headers[b"Cookie"] == b"gov_kz_ticket=new"


def test_a_fresh_ticket_refused_too_stops_the_crawl_with_one_clear_message() -> None:
    spider = make_spider(slugs="test-bilim", langs="ru", types="news")
    request = news_request(spider)
    _, (ticket,), _ = feed(spider, request, "not_allowed.json", status=400)
    (again,) = ticket_answer(spider, ticket, value="fresh")
    with pytest.raises(CloseSpider) as stopped:
        feed(spider, again, "not_allowed.json", status=400)
    assert stopped.value.reason == "auth_failed"
    assert spider.crawler.stats.get_value("crawl_error").startswith(
        "gov.kz refused the news API (HTTP 400 notAllowed) even with a fresh cookie ticket")


def test_a_ticket_answer_without_a_cookie_stops_the_crawl() -> None:
    spider = make_spider(slugs="edu", langs="ru", types="news")
    (ticket,) = start(spider)
    with pytest.raises(CloseSpider):
        feed(spider, ticket, body=b"{}")
    assert "without a cookie" in spider.crawler.stats.get_value("crawl_error")


def test_http_errors_after_retries_leave_the_unit_incomplete() -> None:
    spider = make_spider(slugs="test-bilim", langs="ru", types="documents")
    (request,) = start(spider)
    items, requests, checkpoints = feed(spider, request, body=b"<html>502</html>", status=502)
    assert (items, requests, checkpoints) == ([], [], [])
    assert spider.crawler.stats.get_value("units/incomplete") == ["documents:test-bilim:ru"]


@pytest.mark.parametrize(("api", "override", "expected"), [
    ("https://www.gov.kz", None, "https://www.gov.kz"),
    ("https://proxy.example.org", None, "https://www.gov.kz"),  # a proxy of the real site: link the real site
    ("http://127.0.0.1:8765", None, "http://127.0.0.1:8765"),  # fictional records link to the simulator
    ("http://localhost:9000/", None, "http://localhost:9000"),
    ("http://127.0.0.1:8765", "https://mirror.example/", "https://mirror.example"),
])
def test_human_links_never_send_fictional_records_to_the_real_site(
        api: str, override: str | None, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if override is not None:
        monkeypatch.setenv("ASHYQ_GOVKZ_SITE_URL", override)
    assert public_site_url(api, "https://www.gov.kz", "ASHYQ_GOVKZ_SITE_URL") == expected


# ------------------------------------------------------------------------------------------ every spider
@pytest.mark.parametrize("name", sorted(get_spider_loader(runner_settings()).list()))
def test_every_registered_spider_yields_its_first_request_without_network(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kingfisher-collect's check: each spider, with its documented sample arguments, starts offline."""
    db = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    engine = make_engine(db)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("GOSZAKUP_TOKEN", "0" * 32)
    for source in ("GOSZAKUP", "GOVKZ", "STATGOV"):
        monkeypatch.setenv(f"ASHYQ_{source}_URL", BASE)
    spidercls = get_spider_loader(runner_settings()).load(name)
    settings = {k: v for k, v in vars(crawlers.settings).items() if k.isupper()}
    crawler = get_crawler(spidercls, {**settings, "ASHYQ_DATABASE_URL": db})
    spider = spidercls.from_crawler(crawler, **getattr(spidercls, "sample_args", {}))
    crawler.spider = spider
    first = start(spider)[0]
    assert isinstance(first, Request)
    assert first.url.startswith(BASE)
    assert spidercls.__doc__
    assert "Spider arguments" in spidercls.__doc__


# ------------------------------------------------------------------------------------------ end to end
SLUGS = ["kyzylorda-bilim", "abay-bilim", "edu", "kyzylorda"]
KINDS = {"news": "govkz_news", "documents": "govkz_document", "curators": "govkz_curator"}


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """Faults on 12 % of gov.kz requests, truncated bodies included, and tickets that expire after 9 uses."""
    with SimulatorServer(scenario="demo", seed=3, stall_seconds=1.0, port=0,
                         source_faults={"govkz": {"429": 0.03, "502": 0.03, "stall": 0.02, "malformed": 0.04}},
                         govkz=GovkzOptions(ticket_max_uses=9)) as server:
        yield server


def crawl(sim: SimulatorServer, db_url: str, job: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASHYQ_")}
    env.update(ASHYQ_GOVKZ_URL=sim.url, ASHYQ_DATABASE_URL=db_url, ASHYQ_GOVKZ_DELAY="0",
               ASHYQ_GOVKZ_CONCURRENCY="8", ASHYQ_GOVKZ_TIMEOUT="0.5", ASHYQ_GOVKZ_BACKOFF="0.02")
    command = [ASHYQ, "crawl", "govkz", "--slugs", ",".join(SLUGS), "-a", "page_size=10", *args,
               "--job-dir", str(job)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def stored(engine: Engine) -> list[tuple[str, str, str | None]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(RawRecord.record_type, RawRecord.external_id,
                                                      RawRecord.human_url))]


def last_run(engine: Engine) -> tuple[str, dict[str, Any]]:
    with engine.connect() as conn:
        status, stats = conn.execute(select(CrawlRun.status, CrawlRun.stats).order_by(CrawlRun.id.desc())).first()
    return status, stats


def test_crawl_stores_every_item_once_through_faults_and_lost_tickets_and_a_recrawl_adds_nothing(
        sim: SimulatorServer, db_url: str, engine: Engine, tmp_path: Path) -> None:
    other = load_other_scenario("demo")
    done = crawl(sim, db_url, tmp_path / "job")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "govkz: finished" in done.stdout
    rows = stored(engine)
    for kind, record_type in KINDS.items():
        ids = [external for rt, external, _ in rows if rt == record_type]
        assert len(ids) == len(set(ids)), kind  # exactly once
        assert set(ids) == other.expected(kind, SLUGS, ["ru", "kk"]), kind
    assert all(url and url.startswith(sim.url + "/memleket/entities/") for _, _, url in rows)
    faults = sim.fault_counts
    assert faults["govkz:ticket"] >= 2
    assert faults["govkz:not_allowed"] >= 1
    assert faults.get("govkz:malformed", 0)
    assert faults.get("govkz:429", 0)
    assert faults.get("govkz:502", 0)
    status, stats = last_run(engine)
    assert status == "finished", stats
    assert (stats["records_new"], stats["incomplete_units"], stats["quarantined"]) == (len(rows), [], 0)
    assert stats["units_done"] == len(SLUGS) * 3 * 2
    with engine.connect() as conn:
        assert conn.execute(select(Quarantine.id)).first() is None

    again = crawl(sim, db_url, tmp_path / "job")
    assert again.returncode == 0, again.stderr
    assert sorted(stored(engine)) == sorted(rows)
    status, stats = last_run(engine)
    assert (status, stats["records_new"], stats["records_duplicate"]) == ("finished", 0, len(rows))


def test_since_fetches_only_newer_items(sim: SimulatorServer, db_url: str, engine: Engine, tmp_path: Path) -> None:
    other = load_other_scenario("demo")
    since = other.story.switch_memorandum_on if other.story else None
    assert since is not None
    done = crawl(sim, db_url, tmp_path / "job", "--since", since.isoformat())
    assert done.returncode == 0, done.stdout + done.stderr
    rows = stored(engine)
    for kind, record_type in KINDS.items():
        ids = {external for rt, external, _ in rows if rt == record_type}
        expected = other.expected(kind, SLUGS, ["ru", "kk"], since=since)
        assert ids == expected, kind
        if kind != "curators":  # the leadership list is read whole
            assert len(expected) < len(other.expected(kind, SLUGS, ["ru", "kk"]))
    # The switch memorandum was announced that day: an incremental run from it still finds it.
    switch = next(m for m in other.memoranda if m.story == "switch")
    assert f"{switch.announced_in[0]}:ru" in {external for _, external, _ in rows}


def test_a_gate_that_refuses_fresh_tickets_fails_with_one_line(sim: SimulatorServer, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'gate.sqlite'}"
    with SimulatorServer(scenario="demo", port=0, govkz=GovkzOptions(ticket_broken=True)) as closed:
        done = crawl(closed, db_url, tmp_path / "job")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: gov.kz refused the news API (HTTP 400 notAllowed) even with a fresh cookie ticket")
    assert "Traceback" not in done.stderr
    assert closed.fault_counts["govkz:ticket"] == 2  # re-acquired once, then gave up


def test_units_that_failed_are_fetched_again_and_only_they(db_url: str, engine: Engine, tmp_path: Path) -> None:
    other = load_other_scenario("demo")
    with SimulatorServer(scenario="demo", port=0, govkz=GovkzOptions(broken_slugs=frozenset({"abay-bilim"}))) as broken:
        done = crawl(broken, db_url, tmp_path / "job")
    assert done.returncode == 1  # incomplete: the same command resumes
    assert "INCOMPLETE: 6 units" in done.stdout
    status, stats = last_run(engine)
    assert status == "incomplete"
    assert sorted(stats["incomplete_units"]) == sorted(f"{k}:abay-bilim:{lang}" for k in KINDS for lang in ("ru", "kk"))
    with SimulatorServer(scenario="demo", port=0) as healthy:
        again = crawl(healthy, db_url, tmp_path / "job")
    assert again.returncode == 0, again.stdout + again.stderr
    status, stats = last_run(engine)
    assert (status, stats["units_skipped"], stats["units_planned"]) == ("finished", 18, 24)
    ids = {external for _, external, _ in stored(engine)}
    assert other.expected("news", ["abay-bilim"], ["ru", "kk"]) <= ids
