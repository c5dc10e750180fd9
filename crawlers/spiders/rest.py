"""Base spider for JSON-over-HTTP APIs read with plain requests (gov.kz content manager, stat.gov.kz).

`RestUnitSpider` is the REST sibling of `crawlers.spiders.base.GraphQLCursorSpider`: the same *units* (a unit
is complete when every request it made has been answered and read without error; the spider then yields a
checkpoint and the raw store records the unit as done, so a re-run after a crash skips it), the same progress
state in `self.state` (pickled into JOBDIR on a graceful stop), the same re-sending of requests that vanished
from the queue, the same one-line fatal errors. What differs is the request: each is described by a *spec*
(a plain dict: URL, method, headers, body, unit, kind, page …) and answered by the subclass's `handle()`,
which yields records and asks for follow-up requests (the next page) with `self.send(spec)`.

Every response reaches the spider whatever its status (`handle_httpstatus_all`), after the retry middleware
has retried the transient ones (429 with `Retry-After`, 5xx, timeouts, a 200 whose body is not JSON): a
subclass may treat a status specially (`on_status`, e.g. gov.kz's HTTP 400 «notAllowed»); any other status
that is not 200 fails the request's unit, which is then reported as incomplete and fetched again next run.

Subclasses declare `source`, `default_base_url` and implement `plan_units()`, `begin_unit(uid)` and
`handle(spec, data, response, fetched_at)`. Environment (prefix `ASHYQ_<SOURCE>_`): `URL`, `DELAY`,
`CONCURRENCY`, `TIMEOUT`, `BACKOFF` (see `crawlers.spiders.base.apply_env_politeness`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.middlewares import EXPECT_JSON
from crawlers.spiders.base import CHECKPOINT_KEY, PAGES, RECORDS, Output, Spec, UnitSpider
from entities.config import source_base_url
from entities.items import QuarantineItem, RawItem

# Stat names the raw store reads into crawl_runs (pipeline/ingest.py `run_stats`). They were named when
# GraphQL was the only source; REST pages and failures are counted under the same names so `ashyq crawl`
# reports every source the same way.
FAILED = "graphql/failed_requests"
QUARANTINED_RECORDS, QUARANTINED_BODIES = "graphql/quarantined_records", "graphql/quarantined_bodies"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in {"localhost", "::1"} or host.startswith("127.")


def public_site_url(api_base_url: str, real_site: str, override_env: str) -> str:
    """Where a source's human-readable pages live: `override_env` if set, else the real site.

    When the API is a loopback simulator, its records are fictional: their links must not point at the real
    site (an invented id there is someone else's page), so they point at the simulator, which serves a page
    for each fictional record under the same paths (as `crawlers.spiders.goszakup.portal_base_url` does).
    """
    explicit = os.environ.get(override_env, "").strip()
    if explicit:
        return explicit.rstrip("/")
    if is_loopback(api_base_url):
        return api_base_url.rstrip("/")
    return real_site.rstrip("/")


class RestUnitSpider(UnitSpider):
    """Base for REST sources crawled in checkpointed units; see the module docstring."""

    source: ClassVar[str]
    default_base_url: ClassVar[str]
    # False for sources whose own freshness rule makes re-runs skip finished work (statgov: "fetched less
    # than N days ago"), where one checkpoint per key would grow crawl_runs.stats without need.
    checkpoint_units: ClassVar[bool] = True
    # How often an outstanding request that vanished (lost in a crash of the request queue) is re-sent.
    max_reissues: ClassVar[int] = 3
    # Arguments for a small valid crawl, for docs and the "every spider starts" tests.
    sample_args: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The arguments as given; the raw store keeps them in crawl_runs and resumes runs with the same ones.
        self.crawl_args: dict[str, str] = {k: str(v) for k, v in kwargs.items() if v is not None}
        self.base_url = source_base_url(self.source, self.default_base_url)
        self.state: dict[str, Any] = {}  # replaced by SpiderState (JOBDIR) at spider_opened
        self.done_units: set[str] = set()  # set by the raw store from the database before start()
        self._last_progress = 0

    # ---------------------------------------------------------------------------- subclass contract
    def begin_unit(self, uid: str) -> Output:
        """The first request(s) of a unit: `yield from self.send(spec)`."""
        raise NotImplementedError

    def handle(self, spec: Spec, data: Any, response: Response, fetched_at: datetime) -> Output:
        """Read one answered request (`data` is the parsed JSON, or None when the spec expects no JSON)."""
        raise NotImplementedError

    def on_status(self, spec: Spec, response: Response) -> Output | None:  # noqa: ARG002 - a hook
        """Handle a status specially (return what to yield) or return None for the default handling."""
        return None

    # ------------------------------------------------------------------------------------ tracker
    @property
    def tracker(self) -> dict[str, Any]:
        tracker: dict[str, Any] = self.state.setdefault("tracker", {})
        if not tracker:
            tracker.update(
                units={},  # uid → {"pending": set[rkey], "failed": list[str], "finished": bool}
                requests={},  # rkey → spec, for every request sent and not yet answered
                reissued={},  # rkey → times re-sent after it went missing
            )
        return tracker

    # ---------------------------------------------------------------------------------- requests
    def spec(self, uid: str | None, kind: str, url: str, label: str, **extra: Any) -> Spec:
        """A request description; `extra` may set method, headers, body, expect_json, page and source data."""
        return {
            "unit": uid,
            "kind": kind,
            "url": url,
            "label": label,
            "method": "GET",
            "headers": {},
            "body": None,
            "expect_json": True,
            "page": 1,
            "priority": -self._unit_order.get(uid, 0) if uid is not None else 10,
            **extra,
        }

    def send(self, spec: Spec) -> list[scrapy.Request]:
        """Register `spec` as outstanding (with its unit, if any) and return the request(s) to yield."""
        self._track(spec)
        return self.dispatch(spec)

    @staticmethod
    def _rkey(spec: Spec) -> str:
        # Headers count: gov.kz serves each language at the same URL, chosen by Accept-Language.
        ident = json.dumps([spec["method"], spec["url"], spec["headers"], spec["body"]], sort_keys=True)
        return hashlib.sha1(ident.encode()).hexdigest()[:20]  # noqa: S324 - an identifier, not security

    def dispatch(self, spec: Spec, reissue: bool = False) -> list[scrapy.Request]:  # noqa: ARG002 - a hook
        """The request(s) that carry an outstanding spec now (a subclass may hold a spec back, see govkz)."""
        return [self.build_request(spec)]

    def build_request(self, spec: Spec, headers: dict[str, str] | None = None,
                      meta: dict[str, Any] | None = None) -> scrapy.Request:
        return scrapy.Request(
            spec["url"],
            method=spec["method"],
            headers={**spec["headers"], **(headers or {})},
            body=spec["body"],
            callback=self.parse_response,
            errback=self.on_error,
            priority=spec["priority"],
            # Never deduplicated: the same URL in two languages differs only by Accept-Language, which
            # Scrapy's fingerprint ignores; and a spec is re-sent on purpose (lost ticket, lost request).
            dont_filter=True,
            meta={"spec": spec, EXPECT_JSON: spec["expect_json"], "handle_httpstatus_all": True, **(meta or {})},
        )

    # ----------------------------------------------------------------------------------- crawling
    async def start(self) -> AsyncIterator[Any]:
        units = self.plan_units()
        self.state["unit_order"] = {uid: i for i, uid in enumerate(units)}
        stats = self.crawler.stats
        stats.set_value("units/planned", len(units))
        tracker = self.tracker
        skipped = 0
        for uid in units:
            if uid in self.done_units:
                skipped += 1
                continue
            if uid in tracker["units"]:  # resumed from JOBDIR: its requests are queued already
                continue
            tracker["units"][uid] = {"pending": set(), "failed": [], "finished": False}
            for request in self.begin_unit(uid):
                yield request
        stats.set_value("units/skipped", skipped)
        if skipped:
            self.logger.info("resuming: %d of %d units were finished by an earlier run", skipped, len(units))
        self.logger.info("%d units to crawl from %s", len(units) - skipped, self.base_url)

    def parse_response(self, response: Response) -> Output:
        spec: Spec = response.meta["spec"]
        special = self.on_status(spec, response)
        if special is not None:
            yield from special
            return
        if response.status != 200:
            self.crawler.stats.inc_value(FAILED)
            snippet = response.body[:200].decode("utf-8", errors="replace")
            self.logger.error("%s failed for good: HTTP %d %s", self.describe(spec), response.status, snippet)
            yield from self._fail(spec, f"HTTP {response.status}")
            return
        data: Any = None
        if spec["expect_json"]:
            try:
                data = response.json() if hasattr(response, "json") else json.loads(response.body)
            except ValueError as exc:
                attempts = response.meta.get("retry_times", 0) + 1
                yield self.quarantine_body(response, spec, f"response body is not JSON after {attempts} attempts: {exc}")
                yield from self._fail(spec, "malformed body")
                return
        fetched_at = datetime.now(UTC)
        out = list(self.handle(spec, data, response, fetched_at))  # follow-ups are registered before completing
        if spec.get("unit") is not None:
            self.crawler.stats.inc_value(PAGES)
        self._complete(spec)
        yield from out
        yield from self._settle()
        self._progress()

    def on_error(self, failure: Failure) -> Output:
        request = failure.request  # type: ignore[attr-defined]
        spec: Spec = request.meta["spec"]
        self.logger.error("%s failed for good: %s", self.describe(spec), failure.getErrorMessage())
        self.crawler.stats.inc_value(FAILED)
        yield from self._fail(spec, f"request failed: {failure.getErrorMessage()}")

    def describe(self, spec: Spec) -> str:
        page = f", page {spec['page']}" if spec.get("page", 1) != 1 else ""
        return f"{spec['label']}{page}"

    # ------------------------------------------------------------------------------------ records
    def raw_item(self, record_type: str, external_id: str, url: str, payload: dict[str, Any], fetched_at: datetime,
                 human_url: str | None = None) -> RawItem:
        self.crawler.stats.inc_value(RECORDS)
        return RawItem(source=self.source, record_type=record_type, external_id=external_id, url=url,
                       payload=payload, fetched_at=fetched_at, human_url=human_url)

    def quarantine_record(self, spec: Spec, record_type: str, row: Any, reason: str) -> QuarantineItem:
        self.crawler.stats.inc_value(QUARANTINED_RECORDS)
        self.logger.warning("%s: %s; quarantined", self.describe(spec), reason)
        return QuarantineItem(source=self.source, reason=f"{reason} ({self.describe(spec)})",
                              body=json.dumps(row, ensure_ascii=False, default=str), url=spec["url"],
                              record_type=record_type)

    def quarantine_body(self, response: Response, spec: Spec, reason: str, record_type: str | None = None,
                        external_id: str | None = None) -> QuarantineItem:
        self.crawler.stats.inc_value(QUARANTINED_BODIES)
        self.logger.error("%s: %s; quarantined", self.describe(spec), reason)
        return QuarantineItem(source=self.source, reason=f"{reason} ({self.describe(spec)})",
                              body=response.body.decode("utf-8", errors="replace"), url=spec["url"],
                              record_type=record_type, external_id=external_id)

    # ------------------------------------------------------------------------------- bookkeeping
    def _complete(self, spec: Spec) -> None:
        tracker = self.tracker
        tracker["requests"].pop(spec["rkey"], None)
        if spec.get("unit") is not None and spec["unit"] in tracker["units"]:
            tracker["units"][spec["unit"]]["pending"].discard(spec["rkey"])

    def _fail(self, spec: Spec, reason: str) -> Output:
        """A request failed for good: its unit is incomplete (fetched again by the next run)."""
        self._complete(spec)
        if spec.get("unit") is not None:
            self.mark_failed(spec["unit"], f"{self.describe(spec)}: {reason}")
        yield from self._settle()

    def _settle(self) -> Output:
        """Finish units that have nothing left to wait for: a checkpoint when nothing failed."""
        for uid, unit in self.tracker["units"].items():
            if unit["finished"] or unit["pending"]:
                continue
            unit["finished"] = True
            if unit["failed"]:
                self._record_incomplete(uid, unit["failed"])
            else:
                self.crawler.stats.inc_value("units/done")
                if self.checkpoint_units:
                    yield {CHECKPOINT_KEY: uid, "source": self.source}

    def _on_idle(self) -> None:
        """Nothing queued or in flight: re-send lost requests, or give up on units that cannot progress."""
        tracker = self.tracker
        open_units = [uid for uid, u in tracker["units"].items() if not u["finished"]]
        if (not open_units and not tracker["requests"]) or self.crawler.engine is None:
            return
        engine = self.crawler.engine
        sent = False
        for rkey, spec in list(tracker["requests"].items()):
            times = tracker["reissued"].get(rkey, 0)
            if times >= self.max_reissues:
                continue
            requests = self.dispatch(spec, reissue=True)
            if not requests:
                continue
            tracker["reissued"][rkey] = times + 1
            self.logger.warning("re-sending %s: it was lost from the queue", self.describe(spec))
            for request in requests:
                engine.crawl(request)
            sent = True
        if sent:
            raise DontCloseSpider
        for uid in open_units:  # nothing can make progress any more
            unit = tracker["units"][uid]
            unit["finished"] = True
            self._record_incomplete(uid, [*unit["failed"], f"stuck with {len(unit['pending'])} requests unanswered"])

