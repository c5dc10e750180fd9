"""The raw store (pipeline.ingest.RawStorePipeline) on SQLite and PostgreSQL, driven by a real Scrapy crawler."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

import crawlers.settings
from crawlers.spiders.goszakup import GoszakupSpider
from entities.items import QuarantineItem, RawItem
from entities.models import CrawlRun, Quarantine, RawRecord
from pipeline.ingest import RawStorePipeline, canonical_json, payload_sha256, previous_run

FIXTURES = Path(__file__).parent / "fixtures" / "goszakup"
MARCH = {"since": "2024-03-01", "until": "2024-03-31"}
FETCHED = datetime(2024, 4, 10, 6, 0, tzinfo=UTC)


def contracts() -> list[dict[str, Any]]:
    rows = []
    for name in ("contracts_window_page1.json", "contracts_window_page2.json"):
        page = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        rows += [r for r in page["data"]["Contract"] if isinstance(r, dict) and "id" in r]
    return rows


def open_store(db_url: str, args: dict[str, str] | None = None, **settings: Any) -> tuple[RawStorePipeline, GoszakupSpider]:
    base = {k: v for k, v in vars(crawlers.settings).items() if k.isupper()}
    crawler = get_crawler(GoszakupSpider, {**base, "ASHYQ_DATABASE_URL": db_url, **settings})
    spider = GoszakupSpider.from_crawler(crawler, **(args or MARCH))
    crawler.spider = spider
    store = RawStorePipeline.from_crawler(crawler)
    store.open_spider()
    return store, spider


def close_store(store: RawStorePipeline, spider: GoszakupSpider, reason: str = "finished") -> None:
    store.close_spider()
    store.spider_closed(spider, reason)


def items(spider: GoszakupSpider, rows: list[dict[str, Any]]) -> list[RawItem]:
    return [spider.raw_item("Contracts", row, FETCHED) for row in rows]


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def runs(engine: Engine) -> list[CrawlRun]:
    with Session(engine) as session:
        return list(session.execute(select(CrawlRun).order_by(CrawlRun.id)).scalars())


def test_canonical_json_is_sorted_compact_and_keeps_cyrillic() -> None:
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": "Школа"}}) == '{"a":{"c":"Школа","d":[1,2]},"b":1}'
    assert payload_sha256({"x": 1, "y": 2}) == payload_sha256({"y": 2, "x": 1})
    assert payload_sha256({"x": 1}) != payload_sha256({"x": 1.5})


def test_records_are_stored_once_with_provenance_and_a_changed_payload_is_a_new_row(db_url: str, engine: Engine) -> None:
    rows = contracts()
    store, spider = open_store(db_url)
    for item in items(spider, rows):
        store.process_item(item)
    close_store(store, spider)
    assert count(engine, RawRecord) == len(rows) == 5

    with engine.connect() as conn:
        stored = conn.execute(select(RawRecord).where(RawRecord.external_id == "90308")).one()
    row = next(r for r in rows if r["id"] == 90308)
    assert stored.source == "goszakup"
    assert stored.record_type == "contract"
    assert stored.payload == row
    assert stored.sha256 == payload_sha256(row)
    assert stored.url.endswith("/v3/graphql#Contract:90308")
    assert stored.human_url == "https://goszakup.gov.kz/ru/egzcontract/cpublic/show/90308"
    assert stored.fetched_at.replace(tzinfo=UTC) == FETCHED
    first_run = runs(engine)[0]
    assert stored.crawl_run_id == first_run.id
    assert first_run.stats["records_new"] == 5

    # The same records again (a second crawl): nothing new.
    store, spider = open_store(db_url)
    for item in items(spider, rows):
        store.process_item(item)
    close_store(store, spider)
    assert count(engine, RawRecord) == 5
    second = runs(engine)[1]
    assert (second.stats["records_new"], second.stats["records_duplicate"]) == (0, 5)

    # One contract changed upstream (an amount corrected): a new version row; the old one stays.
    changed = [dict(rows[0], contractSum=rows[0]["contractSum"] + 1), *rows[1:]]
    store, spider = open_store(db_url)
    for item in items(spider, changed):
        store.process_item(item)
    close_store(store, spider)
    assert count(engine, RawRecord) == 6
    with engine.connect() as conn:
        versions = conn.execute(
            select(RawRecord.sha256).where(RawRecord.external_id == str(rows[0]["id"]))
        ).scalars().all()
    assert len(set(versions)) == 2


def test_the_same_record_twice_in_one_batch_is_stored_once(db_url: str, engine: Engine) -> None:
    store, spider = open_store(db_url)
    for item in items(spider, contracts()[:1] * 3):
        store.process_item(item)
    close_store(store, spider)
    assert count(engine, RawRecord) == 1
    assert runs(engine)[0].stats["records_duplicate"] == 2


def test_batches_are_written_as_they_fill(db_url: str, engine: Engine) -> None:
    store, spider = open_store(db_url, RAW_STORE_BATCH=2)
    for item in items(spider, contracts()[:3]):
        store.process_item(item)
    assert count(engine, RawRecord) == 2  # one full batch written, one record pending
    close_store(store, spider)
    assert count(engine, RawRecord) == 3


def test_quarantined_records_are_kept_whole_with_the_reason(db_url: str, engine: Engine) -> None:
    store, spider = open_store(db_url)
    body = (FIXTURES / "truncated.json").read_text(encoding="utf-8")
    store.process_item(
        QuarantineItem(source="goszakup", reason="response body is not JSON after 6 attempts", body=body,
                       url="http://127.0.0.1:9/v3/graphql", record_type="contract")
    )
    close_store(store, spider, reason="finished")
    with engine.connect() as conn:
        (row,) = conn.execute(select(Quarantine)).all()
    assert (row.source, row.stage, row.record_type) == ("goszakup", "crawl", "contract")
    assert row.body == body
    assert row.reason.startswith("response body is not JSON")
    assert row.crawl_run_id == runs(engine)[0].id
    assert runs(engine)[0].stats["quarantined"] == 1


def test_run_row_keeps_arguments_without_token_and_the_outcome(db_url: str, engine: Engine) -> None:
    store, spider = open_store(db_url, {**MARCH, "token": "0123456789abcdef0123456789abcdef"})
    spider.crawler.stats.set_value("graphql/pages", 7)
    spider.crawler.stats.set_value("retry/count", 3)
    close_store(store, spider)
    (run,) = runs(engine)
    assert run.spider_args == MARCH  # no token, ever
    assert "0123456789abcdef" not in json.dumps(run.stats)
    assert run.status == "finished"
    assert run.finished_at is not None
    assert (run.stats["pages"], run.stats["retries"], run.stats["finish_reason"]) == (7, 3, "finished")


@pytest.mark.parametrize(
    ("reason", "incomplete", "status"),
    [
        ("finished", [], "finished"),
        ("finished", ["contracts:2024-03-01:2024-03-31"], "incomplete"),
        ("shutdown", [], "stopped"),
        ("auth_failed", [], "failed"),
    ],
)
def test_run_status_follows_how_the_spider_closed(
    db_url: str, engine: Engine, reason: str, incomplete: list[str], status: str
) -> None:
    store, spider = open_store(db_url)
    if incomplete:
        spider.crawler.stats.set_value("units/incomplete", incomplete)
    close_store(store, spider, reason)
    (run,) = runs(engine)
    assert run.status == status
    assert run.stats["incomplete_units"] == incomplete


def test_checkpoints_are_durable_and_a_rerun_with_the_same_arguments_skips_them(db_url: str, engine: Engine) -> None:
    store, spider = open_store(db_url)
    store.process_item(items(spider, contracts()[:1])[0])
    store.process_item({"checkpoint": "contracts:2024-03-01:2024-03-31", "source": "goszakup"})
    # Written at once, before the spider closes: a SIGKILL now loses neither the record nor the checkpoint.
    assert count(engine, RawRecord) == 1
    assert runs(engine)[0].stats["done_units"] == ["contracts:2024-03-01:2024-03-31"]
    store.spider_closed(spider, "shutdown")  # stopped with Ctrl-C

    store, spider = open_store(db_url)
    assert spider.done_units == {"contracts:2024-03-01:2024-03-31"}
    assert runs(engine)[1].stats["resumed_from"] == runs(engine)[0].id
    store.process_item({"checkpoint": "rnu", "source": "goszakup"})
    close_store(store, spider)  # finished: everything done
    assert runs(engine)[1].stats["done_units"] == ["contracts:2024-03-01:2024-03-31", "rnu"]

    store, spider = open_store(db_url)  # after a finished run, a run starts afresh
    assert spider.done_units == set()
    close_store(store, spider)

    store, spider = open_store(db_url, {"since": "2024-03-01", "until": "2024-04-30"})  # other arguments
    assert spider.done_units == set()
    close_store(store, spider)


def test_resume_no_starts_afresh(db_url: str) -> None:
    store, spider = open_store(db_url)
    store.process_item({"checkpoint": "rnu", "source": "goszakup"})
    store.spider_closed(spider, "shutdown")
    store, spider = open_store(db_url, {**MARCH, "resume": "no"})
    assert spider.done_units == set()
    close_store(store, spider)


def test_a_run_left_running_by_a_dead_process_is_resumable_and_a_live_one_is_refused(engine: Engine) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    host = socket.gethostname()
    with engine.begin() as conn:
        conn.execute(insert(CrawlRun).values(
            source="goszakup", spider_args=MARCH, started_at=FETCHED, status="running",
            stats={"pid": int(dead.stdout), "host": host, "done_units": ["rnu"]},
        ))
    found = previous_run(engine, "goszakup", MARCH)
    assert found is not None
    assert (found.status, found.alive, found.done_units) == ("running", False, ["rnu"])
    with engine.begin() as conn:
        conn.execute(insert(CrawlRun).values(
            source="goszakup", spider_args=MARCH, started_at=FETCHED, status="running",
            stats={"pid": os.getpid(), "host": host, "done_units": []},
        ))
    found = previous_run(engine, "goszakup", MARCH)
    assert found is not None
    assert found.alive


def test_the_raw_store_refuses_items_it_cannot_store(db_url: str) -> None:
    store, spider = open_store(db_url)
    with pytest.raises(TypeError, match="does not know how to store"):
        store.process_item({"something": "else"})
    naive = RawItem(source="goszakup", record_type="contract", external_id="1", url="u", payload={},
                    fetched_at=datetime(2024, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        store.process_item(naive)
    close_store(store, spider)
