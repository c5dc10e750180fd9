"""Base spiders, one per access pattern (kingfisher-collect style): a new source is mostly declarations.

`GraphQLCursorSpider` — a GraphQL API whose list roots take `(filter, limit, after)` and answer
`{"data": {Root: [...]}, "extensions": {"pageInfo": {"hasNextPage", "lastId"}}}`, newest id first.

Work is organised in **units** (e.g. "contracts signed in March 2024"). A unit owns one or more cursor chains
and waits for the objects its records point at (announcements, participants), which are fetched in batches
by key and shared between units. A unit is *complete* when all its pages and all the keys it waits for have
arrived without error; the spider then yields a checkpoint item, and the raw store records the unit as done,
so a re-run after a crash (even SIGKILL, which loses Scrapy's JOBDIR state) skips it. A unit with any failure
(a GraphQL `errors` body, a body that stayed malformed after retries, a request that failed for good) is
reported as incomplete and fetched again by the next run with the same arguments.

All progress lives in `self.state` (plain dicts, lists and sets), which Scrapy's SpiderState extension pickles
into JOBDIR on a graceful stop, so Ctrl-C and resume continue exactly where the crawl was.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self

import scrapy
from graphql import OperationDefinitionNode, parse, print_ast
from graphql.language import FieldNode
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.http import JsonRequest, Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawlers.middlewares import BEARER, EXPECT_JSON
from entities.config import source_base_url
from entities.items import QuarantineItem, RawItem

Spec = dict[str, Any]  # a request's description, kept in meta and in state (picklable plain data)
Output = Iterator[Any]  # what callbacks yield: requests, RawItem, QuarantineItem, checkpoint dicts

CHECKPOINT_KEY = "checkpoint"  # a dict item {"checkpoint": unit_id, "source": ...} marks a unit as done
FATAL = "ashyq_fatal"  # log-record attribute: the runner turns this message into its own error line


@dataclass(frozen=True)
class Operation:
    """One named operation of a .graphql file, sent on its own."""

    name: str  # operationName, e.g. "Contracts"
    root: str  # the list root it selects, e.g. "Contract"
    text: str  # the operation's own source text, sent as `query`


def load_operations(path: Path) -> dict[str, Operation]:
    """Every named operation in a .graphql document, by name."""
    document = parse(path.read_text(encoding="utf-8"))
    operations: dict[str, Operation] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode) or definition.name is None:
            raise ValueError(f"{path}: every definition must be a named operation")
        selection = definition.selection_set.selections
        if len(selection) != 1 or not isinstance(selection[0], FieldNode):
            raise ValueError(f"{path}: operation {definition.name.value} must select exactly one root field")
        operations[definition.name.value] = Operation(
            name=definition.name.value, root=selection[0].name.value, text=print_ast(definition)
        )
    return operations


@dataclass(frozen=True)
class KeyFetch:
    """Fetching objects by key: an operation filtered on `filter_field` with a batch of keys.

    `row_key` is the field of a returned row that carries the key (to tell which keys the API did not
    return); `scalar` filters take one value per request (e.g. TrdApp's `buyId: Int`).
    """

    operation: str
    filter_field: str
    row_key: str
    handler: str  # name of the spider method `handle_<handler>(spec, rows, fetched_at)`
    batch: int = 200
    scalar: bool = False


def _env_float(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    return float(value) if value else None


def apply_env_politeness(settings: BaseSettings, source: str) -> None:
    """Per-source politeness from `ASHYQ_<SOURCE>_{DELAY,CONCURRENCY,TIMEOUT,BACKOFF}`, at spider priority,
    so the simulator and benchmarks can run fast while a real host gets the polite defaults. Shared by every
    base spider (GraphQL here, REST in `crawlers.spiders.rest`)."""
    prefix = f"ASHYQ_{source.upper()}_"
    delay = _env_float(prefix + "DELAY")
    if delay is not None:
        settings.set("DOWNLOAD_DELAY", delay, priority="spider")
        settings.set("AUTOTHROTTLE_START_DELAY", delay, priority="spider")
        if delay == 0:  # a loopback simulator: nothing to be polite to, run at full speed
            settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
    concurrency = _env_float(prefix + "CONCURRENCY")
    if concurrency is not None:
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", int(concurrency), priority="spider")
        settings.set("CONCURRENT_REQUESTS", max(int(concurrency), 1), priority="spider")
    timeout = _env_float(prefix + "TIMEOUT")
    if timeout is not None:
        settings.set("DOWNLOAD_TIMEOUT", timeout, priority="spider")
    backoff = _env_float(prefix + "BACKOFF")
    if backoff is not None:
        settings.set("RETRY_BACKOFF_BASE", backoff, priority="spider")


PAGES, RECORDS = "graphql/pages", "graphql/records"  # stat names every source's summary reads


class UnitSpider(scrapy.Spider):
    """What every resumable spider shares, whatever its access pattern: work split into *units* (a month of
    contracts, a slug's news in one language…) that are checkpointed when done, tracked in `self.state` (kept in
    JOBDIR), per-source politeness from the environment, a one-line fatal error, and progress lines.

    Subclasses set `source`, `self.state`, `self.done_units`, `self._last_progress`, and implement `tracker`,
    `plan_units()` and `_on_idle()` (what to re-send when the queue runs dry).
    """

    source: ClassVar[str]
    state: dict[str, Any]
    done_units: set[str]
    _last_progress: int

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Per-source politeness from the environment, so the simulator and benchmarks can run fast."""
        super().update_settings(settings)  # custom_settings first: the environment overrides them
        apply_env_politeness(settings, cls.source)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        return spider

    def plan_units(self) -> list[str]:
        """Every unit of this crawl, in the order they should run."""
        raise NotImplementedError

    def _on_idle(self) -> None:
        raise NotImplementedError

    @property
    def tracker(self) -> dict[str, Any]:
        raise NotImplementedError

    def unit(self, uid: str) -> dict[str, Any]:
        return self.tracker["units"][uid]

    def mark_failed(self, uid: str, reason: str) -> None:
        self.unit(uid)["failed"].append(reason)

    @staticmethod
    def _rkey(spec: Spec) -> str:
        """The request's identity in the tracker: what makes two requests the same for this access pattern."""
        raise NotImplementedError

    def _track(self, spec: Spec) -> None:
        """Register `spec` as outstanding under its request key (and in its unit, if any), so resume finds it."""
        rkey = self._rkey(spec)
        spec["rkey"] = rkey
        tracker = self.tracker
        tracker["requests"][rkey] = spec
        if spec.get("unit") is not None:
            tracker["units"][spec["unit"]]["pending"].add(rkey)

    @property
    def _unit_order(self) -> dict[str, int]:
        return self.state.setdefault("unit_order", {})

    @_unit_order.setter
    def _unit_order(self, value: dict[str, int]) -> None:
        self.state["unit_order"] = value

    def fatal(self, reason: str, message: str) -> None:
        """Stop the whole crawl now, with a message the runner shows as its one error line."""
        self.crawler.stats.set_value("crawl_error", message)
        self.logger.error(message, extra={FATAL: True})
        raise CloseSpider(reason)

    def _record_incomplete(self, uid: str, reasons: list[str]) -> None:
        stats = self.crawler.stats
        incomplete = stats.get_value("units/incomplete") or []
        stats.set_value("units/incomplete", [*incomplete, uid])
        self.logger.warning("unit %s is incomplete: %s", uid, "; ".join(reasons[:3]))

    def _progress(self) -> None:
        stats = self.crawler.stats
        pages = stats.get_value(PAGES, 0)
        every = self.crawler.settings.getint("PROGRESS_EVERY_PAGES", 50)
        if every and pages - self._last_progress >= every:
            self._last_progress = pages
            finished = {uid for uid, u in self.tracker["units"].items() if u["finished"]} | self.done_units
            self.logger.info(
                "progress: %d pages, %d records, %d/%d units finished, %d incomplete, %d retries",
                pages,
                stats.get_value(RECORDS, 0),
                len(finished),
                stats.get_value("units/planned", 0),
                len(stats.get_value("units/incomplete") or []),
                stats.get_value("retry/count", 0),
            )


class GraphQLCursorSpider(UnitSpider):
    """Base for cursor-paged GraphQL sources. Subclasses declare the class attributes below and implement
    `plan_units()`, `begin_unit(uid)` and the `handle_<handler>` methods named in their chains.

    Environment (prefix `ASHYQ_<SOURCE>_`): `URL` (base URL), `DELAY` (seconds between requests),
    `CONCURRENCY` (requests in flight), `TIMEOUT` (seconds per request), `BACKOFF` (seconds before the first
    retry). The token variable is named by `token_env`; its value is never logged, stored or queued.
    """

    # BaseSpider: what is stored
    source: ClassVar[str]
    record_types: ClassVar[dict[str, tuple[str, str]]]  # operation → (record_type, id field)
    # GraphQLCursorSpider: where and how
    default_base_url: ClassVar[str]
    endpoint_path: ClassVar[str] = "/graphql"
    queries_file: ClassVar[Path]
    page_limit: ClassVar[int] = 200  # goszakup caps `limit` at 200 (SOURCE.md §2)
    key_fetches: ClassVar[dict[str, KeyFetch]] = {}
    token_env: ClassVar[str | None] = None
    # A rejected token: goszakup answers 404 "Invalid Route" instead of 401/403 (SOURCE.md §1).
    auth_failure_status: ClassVar[int] = 404
    auth_failure_text: ClassVar[str] = "Invalid Route"
    handle_httpstatus_list: ClassVar[list[int]] = [404]
    # How often an outstanding request that vanished (lost in a crash of the request queue) is re-sent.
    max_reissues: ClassVar[int] = 3

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The arguments as given; the raw store keeps them (minus anything named like a token) in crawl_runs.
        self.crawl_args: dict[str, str] = {k: str(v) for k, v in kwargs.items() if v is not None}
        self.operations = load_operations(self.queries_file)
        self.endpoint = source_base_url(self.source, self.default_base_url) + self.endpoint_path
        self.state: dict[str, Any] = {}  # replaced by SpiderState (JOBDIR) at spider_opened
        self.done_units: set[str] = set()  # set by the raw store from the database before start()
        self._last_progress = 0

    # ------------------------------------------------------------------------------------- settings
    # ---------------------------------------------------------------------------- subclass contract
    def begin_unit(self, uid: str) -> Iterable[scrapy.Request]:
        """The first request(s) of a unit (use `self.chain(...)`)."""
        raise NotImplementedError

    def chain_finished(self, spec: Spec) -> Output:  # noqa: ARG002 - a hook
        """Called after the last page of a unit's chain arrived; may yield items and call `need()`."""
        return iter(())

    def keys_missing(self, kind: str, keys: list[Any]) -> Output:  # noqa: ARG002 - a hook
        """Called with the keys of a finished key batch that the API did not return."""
        return iter(())

    def human_url(self, record_type: str, row: dict[str, Any]) -> str | None:  # noqa: ARG002 - a hook
        """The public page of a record, for readers; None when the source has none."""
        return None

    # ------------------------------------------------------------------------------------ tracker
    @property
    def tracker(self) -> dict[str, Any]:
        tracker: dict[str, Any] = self.state.setdefault("tracker", {})
        if not tracker:
            tracker.update(
                units={},  # uid → {"pending": set[rkey], "waiting": set[key], "failed": list[str], "finished": bool}
                requests={},  # rkey → spec, for every request sent and not yet answered
                keys={},  # "kind:value" → buffered | pending | done | failed
                waiters={},  # "kind:value" → set of uids
                buffers={},  # kind → list of values not yet requested
                reissued={},  # rkey → times re-sent after it went missing
            )
        return tracker

    # ---------------------------------------------------------------------------------- requests
    def chain(self, uid: str, operation: str, variables: dict[str, Any], handler: str, label: str) -> scrapy.Request:
        """The first page of a cursor chain owned by unit `uid`."""
        spec: Spec = {
            "op": operation,
            "vars": variables,
            "handler": handler,
            "unit": uid,
            "label": label,
            "page": 1,
            "after": None,
            "priority": -self._unit_order.get(uid, 0),
        }
        return self._send(spec)

    def _send(self, spec: Spec) -> scrapy.Request:
        self._track(spec)
        return self._request(spec)

    @staticmethod
    def _rkey(spec: Spec) -> str:
        ident = json.dumps([spec["op"], spec["vars"], spec.get("after")], sort_keys=True, default=str)
        return hashlib.sha1(ident.encode()).hexdigest()[:20]  # noqa: S324 - an identifier, not security

    def _request(self, spec: Spec, reissue: bool = False) -> scrapy.Request:
        operation = self.operations[spec["op"]]
        variables = {**spec["vars"], "limit": self.page_limit}
        if spec.get("after") is not None:
            variables["after"] = spec["after"]
        return JsonRequest(
            self.endpoint,
            data={"query": operation.text, "operationName": operation.name, "variables": variables},
            callback=self.parse_graphql,
            errback=self.on_error,
            priority=spec["priority"],
            dont_filter=reissue,
            meta={"spec": spec, EXPECT_JSON: True, BEARER: self.token_env},
        )

    def need(self, uids: Iterable[str], kind: str, values: Iterable[Any]) -> None:
        """Units `uids` wait for the objects `kind:value`; fetch each once per run, in batches."""
        tracker = self.tracker
        uids = list(uids)
        for value in values:
            if value is None or value in {0, ""}:
                continue
            key = f"{kind}:{value}"
            status = tracker["keys"].get(key)
            if status == "done":
                continue
            if status == "failed":
                for uid in uids:
                    self.mark_failed(uid, f"{key} could not be fetched")
                continue
            for uid in uids:
                tracker["units"][uid]["waiting"].add(key)
            tracker["waiters"].setdefault(key, set()).update(uids)
            if status is None:
                tracker["keys"][key] = "buffered"
                tracker["buffers"].setdefault(kind, []).append(value)

    def _flush(self, force: bool) -> Output:
        """Turn buffered keys into batch requests: full batches always; partial ones when a unit would stall."""
        tracker = self.tracker
        stalled = force or any(
            not u["pending"] and u["waiting"] and not u["finished"] for u in tracker["units"].values()
        )
        for kind, buffer in tracker["buffers"].items():
            fetch = self.key_fetches[kind]
            while buffer and (len(buffer) >= fetch.batch or stalled):
                batch, buffer[:] = buffer[: fetch.batch], buffer[fetch.batch :]
                for value in batch:
                    tracker["keys"][f"{kind}:{value}"] = "pending"
                value = batch[0] if fetch.scalar else batch
                yield self._send(
                    {
                        "op": fetch.operation,
                        "vars": {"filter": {fetch.filter_field: value}},
                        "handler": fetch.handler,
                        "unit": None,
                        "kind": kind,
                        "keys": batch,
                        "returned": [],
                        "label": f"{fetch.operation} by {fetch.filter_field} ({len(batch)})",
                        "page": 1,
                        "after": None,
                        "priority": 1,  # dependents first, so units finish (and checkpoint) early
                    }
                )

    def waiters_of(self, spec: Spec) -> set[str]:
        """The units a response works for: its owner, or everyone waiting for the keys it fetches."""
        if spec.get("unit") is not None:
            return {spec["unit"]}
        waiting: set[str] = set()
        for value in spec.get("keys", ()):
            waiting |= self.tracker["waiters"].get(f"{spec['kind']}:{value}", set())
        return waiting

    # ----------------------------------------------------------------------------------- crawling
    async def start(self) -> AsyncIterator[Any]:
        if self.token_env and not os.environ.get(self.token_env, "").strip():
            self.fatal("token_missing", f"{self.token_env} is not set: {self.source} needs an API token")
        units = self.plan_units()
        self._unit_order = {uid: i for i, uid in enumerate(units)}
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
            tracker["units"][uid] = {"pending": set(), "waiting": set(), "failed": [], "finished": False}
            for request in self.begin_unit(uid):
                yield request
        stats.set_value("units/skipped", skipped)
        if skipped:
            self.logger.info("resuming: %d of %d units were finished by an earlier run", skipped, len(units))
        self.logger.info("%d units to crawl from %s", len(units) - skipped, self.endpoint)

    def parse_graphql(self, response: Response) -> Output:
        spec: Spec = response.meta["spec"]
        if response.status == self.auth_failure_status:
            self.fatal(
                "auth_failed",
                f"{self.source} rejected the token (HTTP {self.auth_failure_status} {self.auth_failure_text}): "
                f"{self.token_env} is missing or invalid",
            )
        fetched_at = datetime.now(UTC)
        operation = self.operations[spec["op"]]
        try:
            body = response.json() if hasattr(response, "json") else json.loads(response.body)
        except ValueError as exc:
            attempts = response.meta.get("retry_times", 0) + 1
            yield self._quarantine_body(response, spec, f"response body is not JSON after {attempts} attempts: {exc}")
            yield from self._fail(spec, "malformed body")
            return
        if not isinstance(body, dict):
            yield self._quarantine_body(response, spec, "response body is not a JSON object")
            yield from self._fail(spec, "unexpected body")
            return
        errors = body.get("errors")
        data = body.get("data")
        rows = data.get(operation.root) if isinstance(data, dict) else None
        if errors:
            messages = "; ".join(
                str(e.get("message", e)) if isinstance(e, dict) else str(e)
                for e in (errors if isinstance(errors, list) else [errors])
            )
            self.crawler.stats.inc_value("graphql/errors")
            self.logger.error("GraphQL errors from %s (%s): %s", operation.name, self.describe(spec), messages)
        elif not isinstance(rows, list):
            yield self._quarantine_body(response, spec, f"no list at data.{operation.root}")
            yield from self._fail(spec, "unexpected envelope")
            return
        self.crawler.stats.inc_value("graphql/pages")
        good = []
        record_type, id_field = self.record_types[operation.name]
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict):
                yield self._quarantine_record(spec, record_type, row, "record is not an object")
            elif row.get(id_field) is None:
                yield self._quarantine_record(spec, record_type, row, f"record has no `{id_field}`")
            else:
                good.append(row)
        self.crawler.stats.inc_value("graphql/records", len(good))
        if spec.get("kind") is not None:
            fetch = self.key_fetches[spec["kind"]]
            spec["returned"].extend(row.get(fetch.row_key) for row in good)
        yield from getattr(self, f"handle_{spec['handler']}")(spec, good, fetched_at)
        if errors:
            yield from self._fail(spec, f"GraphQL errors: {messages}")
            return
        page_info = (body.get("extensions") or {}).get("pageInfo") or {}
        last_id = page_info.get("lastId")
        self._complete(spec)
        if page_info.get("hasNextPage") and good:
            if not isinstance(last_id, int) or last_id == spec.get("after"):
                yield from self._fail(spec, f"pageInfo.lastId {last_id!r} cannot continue the cursor")
                return
            else:
                yield self._send({**spec, "page": spec["page"] + 1, "after": last_id})
        else:
            yield from self._chain_done(spec)
        yield from self._settle()
        self._progress()

    def on_error(self, failure: Failure) -> Output:
        request = failure.request  # type: ignore[attr-defined]
        spec: Spec = request.meta["spec"]
        self.logger.error("%s (%s) failed for good: %s", spec["op"], self.describe(spec), failure.getErrorMessage())
        self.crawler.stats.inc_value("graphql/failed_requests")
        yield from self._fail(spec, f"request failed: {failure.getErrorMessage()}")

    def describe(self, spec: Spec) -> str:
        after = f", after {spec['after']}" if spec.get("after") is not None else ""
        return f"{spec['label']}, page {spec['page']}{after}"

    def raw_item(self, operation: str, row: dict[str, Any], fetched_at: datetime) -> RawItem:
        record_type, id_field = self.record_types[operation]
        return RawItem(
            source=self.source,
            record_type=record_type,
            external_id=str(row[id_field]),
            url=f"{self.endpoint}#{self.operations[operation].root}:{row[id_field]}",
            payload=row,
            fetched_at=fetched_at,
            human_url=self.human_url(record_type, row),
            meta={"operation": operation},
        )

    def _quarantine_record(self, spec: Spec, record_type: str, row: Any, reason: str) -> QuarantineItem:
        self.crawler.stats.inc_value("graphql/quarantined_records")
        return QuarantineItem(
            source=self.source,
            reason=f"{reason} ({spec['op']}: {self.describe(spec)})",
            body=json.dumps(row, ensure_ascii=False, default=str),
            url=self.endpoint,
            record_type=record_type,
        )

    def _quarantine_body(self, response: Response, spec: Spec, reason: str) -> QuarantineItem:
        self.crawler.stats.inc_value("graphql/quarantined_bodies")
        self.logger.error("%s (%s): %s; quarantined", spec["op"], self.describe(spec), reason)
        return QuarantineItem(
            source=self.source,
            reason=f"{reason} ({spec['op']}: {self.describe(spec)})",
            body=response.body.decode("utf-8", errors="replace"),
            url=self.endpoint,
            record_type=self.record_types[spec["op"]][0],
        )

    # ------------------------------------------------------------------------------- bookkeeping
    def _complete(self, spec: Spec) -> None:
        tracker = self.tracker
        tracker["requests"].pop(spec["rkey"], None)
        if spec.get("unit") is not None:
            tracker["units"][spec["unit"]]["pending"].discard(spec["rkey"])

    def _fail(self, spec: Spec, reason: str) -> Output:
        """A request failed for good: its unit, or every unit waiting for its keys, is incomplete."""
        self._complete(spec)
        if spec.get("unit") is not None:
            self.mark_failed(spec["unit"], f"{spec['op']} ({self.describe(spec)}): {reason}")
        else:
            self._settle_keys(spec, "failed", reason)
        yield from self._settle()

    def _chain_done(self, spec: Spec) -> Output:
        if spec.get("kind") is None:
            yield from self.chain_finished(spec)
            return
        fetch = self.key_fetches[spec["kind"]]
        if not fetch.scalar:
            returned = set(spec["returned"])
            missing = [k for k in spec["keys"] if k not in returned]
            if missing:
                self.crawler.stats.inc_value(f"graphql/missing/{spec['kind']}", len(missing))
                yield from self.keys_missing(spec["kind"], missing)
        self._settle_keys(spec, "done", None)

    def _settle_keys(self, spec: Spec, status: str, reason: str | None) -> None:
        tracker = self.tracker
        for value in spec["keys"]:
            key = f"{spec['kind']}:{value}"
            tracker["keys"][key] = status
            for uid in tracker["waiters"].pop(key, set()):
                unit = tracker["units"][uid]
                unit["waiting"].discard(key)
                if reason is not None:
                    unit["failed"].append(f"{key}: {reason}")

    def _settle(self) -> Output:
        """Send batches that are due, and finish units that have nothing left to wait for."""
        yield from self._flush(force=False)
        for uid, unit in self.tracker["units"].items():
            if unit["finished"] or unit["pending"] or unit["waiting"]:
                continue
            unit["finished"] = True
            if unit["failed"]:
                self._record_incomplete(uid, unit["failed"])
            else:
                self.crawler.stats.inc_value("units/done")
                yield {CHECKPOINT_KEY: uid, "source": self.source}

    def _on_idle(self) -> None:
        """Nothing queued or in flight: send partial batches, re-send lost requests, or give up on stuck units."""
        tracker = self.tracker
        open_units = [uid for uid, u in tracker["units"].items() if not u["finished"]]
        if not open_units or self.crawler.engine is None:
            return
        engine = self.crawler.engine
        sent = False
        for request in self._flush(force=True):
            engine.crawl(request)
            sent = True
        for rkey, spec in list(tracker["requests"].items()):
            times = tracker["reissued"].get(rkey, 0)
            if times >= self.max_reissues:
                continue
            tracker["reissued"][rkey] = times + 1
            self.logger.warning("re-sending %s (%s): it was lost from the queue", spec["op"], self.describe(spec))
            engine.crawl(self._request(spec, reissue=True))
            sent = True
        if sent:
            raise DontCloseSpider
        for uid in open_units:  # nothing can make progress any more
            unit = tracker["units"][uid]
            unit["finished"] = True
            self._record_incomplete(uid, [*unit["failed"], f"stuck waiting for {sorted(unit['waiting'])[:5]}"])

