"""The goszakup spider on recorded responses (city-scrapers style): saved bodies in tests/fixtures/goszakup/,
shaped like the real API's envelope, with fictional data, wrapped in real Scrapy responses. No network.

The clock is pinned with the spider's `today` argument (the capture date of the fixtures), so the plan of
units does not move with the calendar.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.http import Response, TextResponse
from scrapy.utils.test import get_crawler
from twisted.internet.error import TimeoutError as TxTimeoutError

import crawlers.settings
from crawlers.middlewares import (
    BEARER,
    EXPECT_JSON,
    BackoffRetryMiddleware,
    BearerTokenMiddleware,
    backoff_delay,
    retry_after_seconds,
)
from crawlers.spiders.base import CHECKPOINT_KEY, load_operations
from crawlers.spiders.goszakup import GoszakupSpider, split_windows
from entities.items import QuarantineItem, RawItem

FIXTURES = Path(__file__).parent / "fixtures" / "goszakup"
TOKEN = "0123456789abcdef0123456789abcdef"
BASE = "http://127.0.0.1:9"  # never contacted: nothing here downloads
ENDPOINT = f"{BASE}/v3/graphql"
MARCH = {"since": "2024-03-01", "until": "2024-03-31", "today": "2024-04-10"}
UNIT = "contracts:2024-03-01:2024-03-31"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOSZAKUP_TOKEN", TOKEN)
    monkeypatch.setenv("ASHYQ_GOSZAKUP_URL", BASE)


def project_settings(**overrides: Any) -> dict[str, Any]:
    settings = {k: v for k, v in vars(crawlers.settings).items() if k.isupper()}
    settings.update(overrides)
    return settings


def make_spider(**args: str) -> GoszakupSpider:
    crawler = get_crawler(GoszakupSpider, project_settings())
    spider = GoszakupSpider.from_crawler(crawler, **args)
    crawler.spider = spider
    return spider


def start(spider: GoszakupSpider) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in spider.start()]

    return asyncio.run(collect())


def respond(request: Request, fixture: str, status: int = 200, retries: int = 0) -> TextResponse:
    """A saved body as the response to `request`, the way Scrapy would hand it to the callback."""
    request.meta["retry_times"] = retries
    return TextResponse(
        url=request.url,
        status=status,
        body=(FIXTURES / fixture).read_bytes(),
        headers={"Content-Type": "application/json"},
        encoding="utf-8",
        request=request,
    )


def run(
    spider: GoszakupSpider, request: Request, fixture: str, **kwargs: Any
) -> tuple[list[Any], list[Request], list[dict[str, Any]]]:
    """Feed one saved response to the spider; split the output into records, requests and checkpoints."""
    out = list(spider.parse_graphql(respond(request, fixture, **kwargs)))
    items = [o for o in out if isinstance(o, (RawItem, QuarantineItem))]
    requests = [o for o in out if isinstance(o, Request)]
    checkpoints = [o for o in out if isinstance(o, dict)]
    assert len(items) + len(requests) + len(checkpoints) == len(out)
    return items, requests, checkpoints


def body(request: Request) -> dict[str, Any]:
    return json.loads(request.body)


def by_operation(requests: list[Request]) -> dict[str, Request]:
    found = {body(r)["operationName"]: r for r in requests}
    assert len(found) == len(requests), "one request per operation expected here"
    return found


def first_contracts_request(spider: GoszakupSpider) -> Request:
    requests = start(spider)
    return next(
        r
        for r in requests
        if body(r)["variables"].get("filter", {}).get("signDate")
        == ["2024-03-01 00:00:00", "2024-03-31 23:59:59"]
        and body(r)["operationName"] == "Contracts"
    )


# ---------------------------------------------------------------------------------------------- plan


def test_split_windows_cuts_at_calendar_boundaries() -> None:
    assert split_windows(date(2024, 1, 15), date(2024, 3, 2), "month") == [
        (date(2024, 1, 15), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        (date(2024, 3, 1), date(2024, 3, 2)),
    ]
    assert split_windows(date(2023, 12, 30), date(2024, 1, 2), "month")[0] == (
        date(2023, 12, 30),
        date(2023, 12, 31),
    )
    assert split_windows(date(2024, 3, 6), date(2024, 3, 12), "week") == [
        (date(2024, 3, 6), date(2024, 3, 10)),  # Wednesday to Sunday
        (date(2024, 3, 11), date(2024, 3, 12)),
    ]
    assert len(split_windows(date(2024, 3, 1), date(2024, 3, 3), "day")) == 3


def test_plan_contracts_by_month_bids_with_lead_later_amendments_and_rnu() -> None:
    spider = make_spider(**MARCH)
    assert spider.plan_units() == [
        UNIT,
        "bids:2024-01-01:2024-01-31",  # 60 days of lead before `since`
        "bids:2024-02-01:2024-02-29",
        "bids:2024-03-01:2024-03-31",
        "amendments:2024-04-01:2024-04-10",  # signed after the window, up to today
        "rnu",
    ]


def test_first_request_is_one_graphql_operation_with_cursor_variables_and_no_token() -> None:
    spider = make_spider(**MARCH)
    request = first_contracts_request(spider)
    sent = body(request)
    assert request.method == "POST"
    assert request.url == ENDPOINT
    assert request.headers[b"Content-Type"] == b"application/json"
    assert sent["operationName"] == "Contracts"
    assert sent["query"] == load_operations(spider.queries_file)["Contracts"].text
    assert "query TrdBuys" not in sent["query"]  # only the one operation travels
    assert sent["variables"] == {
        "filter": {"signDate": ["2024-03-01 00:00:00", "2024-03-31 23:59:59"]},
        "limit": 200,
    }
    # The token is added at download time by the middleware, so it never reaches JOBDIR's queue on disk.
    assert b"Authorization" not in request.headers
    assert TOKEN.encode() not in request.body
    assert request.meta[BEARER] == "GOSZAKUP_TOKEN"
    assert request.meta[EXPECT_JSON] is True


def test_later_amendments_and_bids_units_use_their_own_filters() -> None:
    spider = make_spider(**MARCH)
    filters = [body(r)["variables"].get("filter") for r in start(spider)]
    assert {"signDate": ["2024-04-01 00:00:00", "2024-04-10 23:59:59"], "refContractTypeId": 2} in filters
    assert {"dateApply": ["2024-02-01 00:00:00", "2024-02-29 23:59:59"]} in filters
    assert None in filters  # the whole RNU register


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"since": "2024-3-1"}, "since must be a date as YYYY-MM-DD"),
        ({"since": "2024-02-30"}, "since is not a real date"),
        ({"since": "2024-05-01", "until": "2024-04-01"}, "is after until"),
        ({"supplier": "12345"}, "supplier must be a 12-digit BIN or IIN"),
        ({"since": "2024-01-01", "window": "year"}, "window must be one of"),
        ({}, "needs a window"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(args: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_spider(**args)


def test_refuses_to_start_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOSZAKUP_TOKEN")
    spider = make_spider(**MARCH)
    with pytest.raises(CloseSpider) as raised:
        start(spider)
    assert raised.value.reason == "token_missing"
    assert (
        spider.crawler.stats.get_value("crawl_error")
        == "GOSZAKUP_TOKEN is not set: goszakup needs an API token"
    )


def test_units_done_in_an_earlier_run_are_skipped() -> None:
    spider = make_spider(**MARCH)
    spider.done_units = {UNIT, "rnu"}
    operations = [(body(r)["operationName"], body(r)["variables"].get("filter")) for r in start(spider)]
    assert ("Rnu", None) not in operations
    assert not any(f and f.get("signDate", [""])[0] == "2024-03-01 00:00:00" for _, f in operations)
    assert spider.crawler.stats.get_value("units/skipped") == 2


# -------------------------------------------------------------------------------------------- parse


def test_page_yields_records_quarantines_bad_ones_and_follows_the_cursor() -> None:
    spider = make_spider(**MARCH)
    items, requests, checkpoints = run(spider, first_contracts_request(spider), "contracts_window_page1.json")

    records = [i for i in items if isinstance(i, RawItem)]
    # Roots are stored at once; the two amendments wait until we know their root is in the window.
    assert [r.external_id for r in records] == ["90308", "90305"]
    first = records[0]
    payload = json.loads((FIXTURES / "contracts_window_page1.json").read_text(encoding="utf-8"))["data"][
        "Contract"
    ][2]
    assert first.payload == payload  # verbatim, nested objects included
    assert first.source == "goszakup"
    assert first.record_type == "contract"
    assert first.url == f"{ENDPOINT}#Contract:90308"
    assert first.human_url == f"{BASE}/ru/egzcontract/cpublic/show/90308"
    assert first.fetched_at.tzinfo is not None

    quarantined = [i for i in items if isinstance(i, QuarantineItem)]
    assert sorted(q.reason.split(" (")[0] for q in quarantined) == [
        "record has no `id`",
        "record is not an object",
    ]
    assert {q.record_type for q in quarantined} == {"contract"}
    assert '"Т-без-ид"' in next(q.body for q in quarantined if "no `id`" in q.reason)  # kept verbatim

    (follow,) = [r for r in requests if body(r)["operationName"] == "Contracts"]
    assert body(follow)["variables"] == {
        "filter": {"signDate": ["2024-03-01 00:00:00", "2024-03-31 23:59:59"]},
        "limit": 200,
        "after": 90305,  # extensions.pageInfo.lastId
    }
    assert checkpoints == []


def test_unit_checkpoints_only_after_every_object_it_points_at_has_arrived() -> None:
    spider = make_spider(**MARCH)
    _, requests, _ = run(spider, first_contracts_request(spider), "contracts_window_page1.json")
    page2 = next(r for r in requests if body(r)["operationName"] == "Contracts")

    # Last page (hasNextPage false): the chain stops, the held amendment of a root on this page is released.
    items, requests, checkpoints = run(spider, page2, "contracts_window_page2.json")
    assert [i.external_id for i in items] == ["90301", "90310"]
    assert checkpoints == []
    sent = by_operation(requests)
    assert set(sent) == {"TrdBuys", "Subjects", "Contracts"}  # announcements, participants, one root check
    assert sorted(body(sent["TrdBuys"])["variables"]["filter"]["id"]) == [5501, 5502]  # trdBuyId 0 is "none"
    assert sorted(body(sent["Subjects"])["variables"]["filter"]["pid"]) == [7001, 7002, 7101, 7102]
    assert body(sent["Contracts"])["variables"]["filter"] == {"id": [80100]}  # root of amendment 90309

    # The root of 90309 was signed in November 2023: the amendment is not one of this window's contracts.
    items, requests, checkpoints = run(spider, sent["Contracts"], "contracts_roots_before_window.json")
    assert items == []
    assert checkpoints == []
    assert spider.crawler.stats.get_value("contracts/amendments_out_of_scope") == 1

    # Announcements point at their organizer, a participant not seen yet: one more batch.
    items, requests, checkpoints = run(spider, sent["TrdBuys"], "trd_buys_by_id.json")
    assert sorted(i.external_id for i in items) == ["5501", "5502"]
    assert {i.human_url for i in items} == {
        f"{BASE}/ru/announce/index/{n}" for n in (5501, 5502)
    }
    assert checkpoints == []
    (organizer,) = requests
    assert body(organizer)["variables"]["filter"] == {"pid": [7003]}

    items, requests, checkpoints = run(spider, sent["Subjects"], "subjects_by_pid.json")
    assert sorted(i.external_id for i in items) == ["7001", "7002", "7101", "7102"]
    assert (
        items[0].human_url == f"{BASE}/ru/registry/show_supplier/{items[0].external_id}"
    )
    assert requests == []
    assert checkpoints == []

    items, requests, checkpoints = run(spider, organizer, "subjects_organizer.json")
    assert [i.external_id for i in items] == ["7003"]
    assert checkpoints == [{CHECKPOINT_KEY: UNIT, "source": "goszakup"}]
    assert spider.crawler.stats.get_value("units/done") == 1
    assert spider.crawler.stats.get_value("units/incomplete") is None


def test_a_later_amendment_is_kept_when_its_root_is_in_the_window() -> None:
    spider = make_spider(**MARCH)
    spider.roots_in.add(90301)  # seen on a March page earlier in this run
    later = next(
        r for r in start(spider) if body(r)["variables"].get("filter", {}).get("refContractTypeId") == 2
    )
    # The recorded March pages stand in for April's answers.
    items, requests, _ = run(spider, later, "contracts_window_page1.json")
    stored = [i.external_id for i in items if isinstance(i, RawItem)]
    assert stored == ["90310"]  # amendment of root 90301, known to be in the window
    (next_page,) = requests  # 90309's root 80100 is unknown: batched with others, not asked yet
    items, requests, _ = run(spider, next_page, "contracts_window_page2.json")
    assert items == []  # a root signed after the window is not one of ours
    # The chain ended and the unit would stall: the partial batches go now (root check, and what 90310 names).
    sent = by_operation(requests)
    assert body(sent["Contracts"])["variables"]["filter"] == {"id": [80100]}
    assert body(sent["TrdBuys"])["variables"]["filter"] == {"id": [5502]}


def test_graphql_errors_are_reported_with_the_operation_and_leave_the_unit_incomplete(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spider = make_spider(**MARCH)
    with caplog.at_level(logging.ERROR):
        items, requests, checkpoints = run(spider, first_contracts_request(spider), "graphql_errors.json")
    assert (items, requests, checkpoints) == ([], [], [])
    assert "GraphQL errors from Contracts (Contract signDate 2024-03-01..2024-03-31, page 1)" in caplog.text
    assert "Internal server error" in caplog.text
    assert spider.crawler.stats.get_value("graphql/errors") == 1
    assert spider.crawler.stats.get_value("units/incomplete") == [UNIT]


def test_invalid_route_404_stops_the_whole_crawl_with_the_token_message() -> None:
    spider = make_spider(**MARCH)
    with pytest.raises(CloseSpider) as raised:
        run(spider, first_contracts_request(spider), "invalid_route.txt", status=404)
    assert raised.value.reason == "auth_failed"
    assert spider.crawler.stats.get_value("crawl_error") == (
        "goszakup rejected the token (HTTP 404 Invalid Route): GOSZAKUP_TOKEN is missing or invalid"
    )


def test_body_still_truncated_after_retries_is_quarantined_and_the_window_is_incomplete() -> None:
    spider = make_spider(**MARCH)
    items, requests, checkpoints = run(spider, first_contracts_request(spider), "truncated.json", retries=5)
    (quarantined,) = items
    assert isinstance(quarantined, QuarantineItem)
    assert quarantined.reason.startswith("response body is not JSON after 6 attempts")
    assert quarantined.body == (FIXTURES / "truncated.json").read_text(encoding="utf-8")
    assert quarantined.url == ENDPOINT
    assert requests == []  # a cursor chain cannot continue past a page it could not read
    assert checkpoints == []
    assert spider.crawler.stats.get_value("units/incomplete") == [UNIT]


def test_bids_window_fetches_the_announcements_and_bidders_it_names() -> None:
    spider = make_spider(**MARCH)
    bids = next(r for r in start(spider) if body(r)["operationName"] == "TrdApps")
    items, requests, _ = run(spider, bids, "trd_apps_page.json")
    assert [i.record_type for i in items] == ["trd_app", "trd_app"]
    assert items[0].human_url == f"{BASE}/ru/announce/index/5501"
    sent = by_operation(requests)
    assert body(sent["TrdBuys"])["variables"]["filter"] == {"id": [5501]}
    assert sorted(body(sent["Subjects"])["variables"]["filter"]["pid"]) == [7101, 7104]


def test_customer_mode_fetches_every_bid_per_announcement() -> None:
    spider = make_spider(customer="170540002007", today="2024-04-10")
    assert spider.plan_units() == ["customer-contracts:170540002007", "rnu"]
    first = next(r for r in start(spider) if body(r)["operationName"] == "Contracts")
    assert body(first)["variables"]["filter"] == {"customerBin": "170540002007"}
    items, requests, _ = run(spider, first, "contracts_window_page2.json")
    assert [i.external_id for i in items] == ["90301"]
    bids = [body(r)["variables"]["filter"] for r in requests if body(r)["operationName"] == "TrdApps"]
    assert bids == [{"buyId": 5502}]  # TrdApp's buyId filter takes one Int


def test_supplier_mode_uses_the_supplier_filters_and_a_window_narrows_them() -> None:
    spider = make_spider(supplier="190340012000", since="2024-01-01", until="2024-06-30", today="2024-07-01")
    assert spider.plan_units() == [
        "supplier-contracts:190340012000",
        "supplier-bids:190340012000",
        "rnu:190340012000",
    ]
    filters = {body(r)["operationName"]: body(r)["variables"]["filter"] for r in start(spider)}
    assert filters["Contracts"] == {
        "supplierBiin": "190340012000",
        "signDate": ["2024-01-01 00:00:00", "2024-06-30 23:59:59"],
    }
    assert filters["TrdApps"] == {
        "supplierBinIin": "190340012000",
        "dateApply": ["2023-11-02 00:00:00", "2024-06-30 23:59:59"],
    }
    assert filters["Rnu"] == {"supplierBiin": "190340012000"}


def test_rnu_page_is_stored_per_entry() -> None:
    spider = make_spider(**MARCH)
    rnu = next(r for r in start(spider) if body(r)["operationName"] == "Rnu")
    items, requests, checkpoints = run(spider, rnu, "rnu_page.json")
    assert [(i.record_type, i.external_id, i.human_url) for i in items] == [("rnu", "41", None)]
    assert requests == []
    assert checkpoints == [{CHECKPOINT_KEY: "rnu", "source": "goszakup"}]


def test_lost_requests_are_resent_when_the_crawl_goes_idle() -> None:
    """After a crash of the request queue a unit could wait forever; idle time re-sends what is outstanding."""

    class Engine:
        def __init__(self) -> None:
            self.sent: list[Request] = []

        def crawl(self, request: Request) -> None:
            self.sent.append(request)

    spider = make_spider(**MARCH)
    first = first_contracts_request(spider)
    spider.crawler.engine = Engine()  # type: ignore[assignment]
    with pytest.raises(DontCloseSpider):
        spider._on_idle()
    resent = [r for r in spider.crawler.engine.sent if r.body == first.body]
    assert len(resent) == 1
    assert resent[0].dont_filter  # the dupefilter has seen it; it must go anyway


# --------------------------------------------------------------------------------------- middlewares


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    assert backoff_delay(1, base=2.0, cap=60.0, jitter=1.0) == 2.0
    assert backoff_delay(3, base=2.0, cap=60.0, jitter=1.0) == 8.0
    assert backoff_delay(3, base=2.0, cap=60.0, jitter=0.0) == 4.0  # half fixed, half random
    assert backoff_delay(10, base=2.0, cap=60.0, jitter=1.0) == 60.0
    for _ in range(50):
        assert 4.0 <= backoff_delay(3, base=2.0, cap=60.0) <= 8.0


def test_retry_after_header_as_seconds_or_http_date() -> None:
    assert retry_after_seconds(b"7") == 7.0
    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Fri, 01 Mar 2024 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


def _retry_middleware(**settings: Any) -> BackoffRetryMiddleware:
    crawler = get_crawler(
        GoszakupSpider, project_settings(RETRY_BACKOFF_BASE=0.01, RETRY_BACKOFF_MAX=0.05, **settings)
    )
    crawler.spider = GoszakupSpider.from_crawler(crawler, **MARCH)
    return BackoffRetryMiddleware.from_crawler(crawler)


def _response(request: Request, status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return TextResponse(
        url=request.url, status=status, body=body, request=request, headers=headers or {}, encoding="utf-8"
    )


def test_429_is_retried_after_the_wait_the_server_asked_for() -> None:
    mw = _retry_middleware()
    request = Request(ENDPOINT, meta={EXPECT_JSON: True})
    mw.backoff_max = 0.2
    started = time.monotonic()
    result = asyncio.run(
        mw.process_response(request, _response(request, 429, b"slow down", {"Retry-After": "1"}))
    )
    waited = time.monotonic() - started
    assert isinstance(result, Request)
    assert result.meta["retry_times"] == 1
    assert 0.2 <= waited < 1.0  # Retry-After honoured, up to RETRY_BACKOFF_MAX
    assert mw.crawler.stats.get_value("retry/count") == 1


def test_truncated_json_with_http_200_is_retried_then_handed_to_the_spider() -> None:
    mw = _retry_middleware(RETRY_TIMES=2)
    truncated = (FIXTURES / "truncated.json").read_bytes()
    request = Request(ENDPOINT, meta={EXPECT_JSON: True})
    for attempt in (1, 2):
        request = asyncio.run(mw.process_response(request, _response(request, 200, truncated)))
        assert isinstance(request, Request)
        assert request.meta["retry_times"] == attempt
    final = asyncio.run(mw.process_response(request, _response(request, 200, truncated)))
    assert isinstance(final, Response)  # retries exhausted: the spider quarantines it
    assert mw.crawler.stats.get_value("retry/malformed_body") == 3
    good = Request(ENDPOINT, meta={EXPECT_JSON: True})
    assert isinstance(asyncio.run(mw.process_response(good, _response(good, 200, b'{"data": {}}'))), Response)
    plain = Request(ENDPOINT)  # requests that do not expect JSON are left alone
    assert isinstance(asyncio.run(mw.process_response(plain, _response(plain, 200, b"<html>"))), Response)


def test_timeouts_are_retried_with_backoff() -> None:
    mw = _retry_middleware()
    request = Request(ENDPOINT)
    result = asyncio.run(mw.process_exception(request, TxTimeoutError()))
    assert isinstance(result, Request)
    assert result.meta["retry_times"] == 1


def test_bearer_token_is_added_for_the_download_and_gone_before_a_retry_copy_is_queued() -> None:
    mw = BearerTokenMiddleware()
    request = Request(ENDPOINT, meta={BEARER: "GOSZAKUP_TOKEN"})
    mw.process_request(request)
    assert request.headers[b"Authorization"] == f"Bearer {TOKEN}".encode()
    mw.process_response(request, _response(request, 502, b""))
    assert b"Authorization" not in request.headers  # RetryMiddleware copies this request next
    retry_mw = _retry_middleware()
    retry = asyncio.run(retry_mw.process_response(request, _response(request, 502, b"")))
    assert isinstance(retry, Request)
    assert b"Authorization" not in retry.headers
    other = Request("http://127.0.0.1:9/elsewhere")  # not marked: never gets the token
    mw.process_request(other)
    assert b"Authorization" not in other.headers


@pytest.mark.parametrize(
    ("api", "portal_env", "expected"),
    [
        ("https://ows.goszakup.gov.kz", None, "https://goszakup.gov.kz"),
        ("http://127.0.0.1:8765", None, "http://127.0.0.1:8765"),  # fictional records link to the simulator
        ("http://localhost:9000/", None, "http://localhost:9000"),
        ("http://127.0.0.1:8765", "https://portal.example/", "https://portal.example"),
    ],
)
def test_portal_links_never_send_fictional_records_to_the_real_portal(
    api: str, portal_env: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawlers.spiders.goszakup import portal_base_url

    if portal_env is None:
        monkeypatch.delenv("ASHYQ_GOSZAKUP_PORTAL_URL", raising=False)
    else:
        monkeypatch.setenv("ASHYQ_GOSZAKUP_PORTAL_URL", portal_env)
    assert portal_base_url(api) == expected
