"""An offline stand-in for the goszakup OWS v3 GraphQL endpoint, on 127.0.0.1.

`POST /v3/graphql` is executed by graphql-core over the real schema (`data/reference/goszakup/schema.graphql`)
with root resolvers over a generated scenario (`crawlers.simulator.scenario`); nested objects come from the
records' dicts. Behaviour copied from the real service (SOURCE.md §1–2, §7):

* a missing or wrong `Authorization: Bearer <token>` — or any other path — answers **HTTP 404 with the body
  `Invalid Route`**, on every call;
* GraphQL errors (an invalid query, bad variables, an unsupported filter) answer HTTP 200 `{"errors": [...]}`;
* `limit` defaults to 50 and is capped at 200; rows come in id-descending order; `after: <id>` returns rows with
  a smaller id; `extensions.pageInfo` carries `limitPage`, `totalCount` (rows matching the filter, whatever
  `after` is), `hasNextPage` and `lastId` (the last row's id; null on an empty page);
* filter semantics as documented in `crawlers.simulator.tables` (date windows, `[Int]` lists, exact strings).

Simulated roots: Contract, TrdBuy, Lots, TrdApp, Subjects, Rnu; the others answer a GraphQL error. Unverified
against the live API: the body of GraphQL errors beyond `{"errors": [{"message": …}]}`, what `after: 0` does
(here: no cursor), `after_index_date` (here: an error), the 429/502 bodies.

Faults are transient and reproducible: whether the n-th identical request (same path and body) fails, and
how, is a function of the seed, the request and n only — not of timing or of other requests — and a request
fails at most `max_faults_per_request` times, so retrying always succeeds and faults never change the data.
Kinds: `429` (with `Retry-After`), `502` (an HTML gateway page), `stall` (the answer comes after
`stall_seconds`, longer than a client's timeout), `malformed` (HTTP 200 with the JSON body cut in half).
`fault_rate` is spread evenly over 429, 502 and stall; `faults={"malformed": 0.05, ...}` sets a kind's rate
explicitly (overriding its share of `fault_rate`). `permanent_faults` make chosen pages fail every time.

The same server also serves the other sources under their real paths, from content generated to fit the
scenario (`crawlers.simulator.other_scenario`, built on the first such request): gov.kz's content API and entity
pages (`/api/v1/public/…`, `/memleket/…`, `crawlers.simulator.govkz`) and stat.gov.kz's juridical API
(`/api/juridical/counter/api/`, `crawlers.simulator.statgov`). They need no token; their faults follow the same
seeded model, with per-source rates in `source_faults={"govkz": {...}, "statgov": {...}}` (default: the
server's rates), and `govkz=GovkzOptions(...)` sets gov.kz's ticket gate and permanent failures.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeGuard

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    build_ast_schema,
    execute,
    parse,
    validate,
)
from graphql.language import IntValueNode

from crawlers.simulator.govkz import Answer, GovkzApi, GovkzOptions, Headers
from crawlers.simulator.other_scenario import load_other_scenario
from crawlers.simulator.scenario import Scenario, load_scenario
from crawlers.simulator.statgov import StatgovApi
from crawlers.simulator.tables import FilterError, Table
from entities.config import REFERENCE_DIR

log = logging.getLogger(__name__)

GRAPHQL_PATH = "/v3/graphql"
FAULT_KINDS = ("429", "502", "stall", "malformed")
SIMULATED_ROOTS = ("Contract", "TrdBuy", "Lots", "TrdApp", "Subjects", "Rnu")
_BAD_GATEWAY = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


@functools.lru_cache(maxsize=1)
def _schema_document() -> DocumentNode:
    return parse((Path(REFERENCE_DIR) / "goszakup" / "schema.graphql").read_text(encoding="utf-8"))


def _dict_field(source: Any, info: GraphQLResolveInfo, **_args: Any) -> Any:
    """Nested objects are plain dicts keyed by the schema's field names; a missing key is null."""
    return source.get(info.field_name) if isinstance(source, dict) else None


def _never_awaitable(_value: Any) -> TypeGuard[Awaitable[Any]]:
    return False  # every resolver is synchronous; skipping graphql-core's awaitable checks saves ~15%


class GoszakupGraphQL:
    """The real schema with resolvers over one scenario; `run(body)` → the response dict."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.schema: GraphQLSchema = build_ast_schema(_schema_document())
        query_type = self.schema.query_type
        assert query_type is not None
        for name, root_field in query_type.fields.items():
            table = scenario.tables.get(name)
            root_field.resolve = _root_resolver(name, table)
        self._attach_relations()
        self._documents: dict[str, tuple[DocumentNode | None, list[GraphQLError]]] = {}
        self._lock = threading.Lock()

    def _attach_relations(self) -> None:
        """Object links our records do not embed, resolved through the tables (TrdApp.Supplier, …)."""
        tables = self.scenario.tables

        def by(table: Table, key: str) -> Any:
            def resolve(source: dict[str, Any], _info: GraphQLResolveInfo) -> Any:
                value = source.get(key)
                return table.get(value) if isinstance(value, int) and value > 0 else None
            return resolve

        links = {("Contract", "TrdBuy"): by(tables["TrdBuy"], "trdBuyId"),
                 ("TrdApp", "TrdBuy"): by(tables["TrdBuy"], "buyId"),
                 ("TrdApp", "Supplier"): by(tables["Subjects"], "supplierId"),
                 ("Lots", "TrdBuy"): by(tables["TrdBuy"], "trdBuyId"),
                 ("Lots", "Customer"): by(tables["Subjects"], "customerId"),
                 ("TrdBuy", "Organizer"): by(tables["Subjects"], "orgPid"),
                 ("TrdAppLots", "Lot"): by(tables["Lots"], "lotId"),
                 ("RnuList", "Supplier"): by(tables["Subjects"], "pid")}
        for (type_name, field_name), resolve in links.items():
            object_type = self.schema.type_map[type_name]
            assert isinstance(object_type, GraphQLObjectType)
            object_type.fields[field_name].resolve = resolve

    def document(self, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
        """Parsed and validated once per distinct query text (spiders send the same few queries)."""
        with self._lock:
            cached = self._documents.get(query)
        if cached is not None:
            return cached
        try:
            doc: DocumentNode | None = parse(query)
            errors = validate(self.schema, doc) if doc is not None else []
        except GraphQLError as error:
            doc, errors = None, [error]
        result = (None if errors else doc, errors)
        with self._lock:
            if len(self._documents) > 256:
                self._documents.clear()
            self._documents[query] = result
        return result

    def run(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return {"errors": [{"message": "Must provide a JSON body with a query string."}]}
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            return {"errors": [{"message": "Variables must be a JSON object."}]}
        doc, errors = self.document(body["query"])
        if doc is None:
            return {"errors": [e.formatted for e in errors]}
        context: dict[str, Any] = {"page_info": None}
        result = execute(self.schema, doc, variable_values=variables, operation_name=body.get("operationName"),
                         context_value=context, field_resolver=_dict_field, is_awaitable=_never_awaitable)
        assert isinstance(result, ExecutionResult)  # synchronous resolvers only
        response: dict[str, Any] = {}
        if result.errors:
            response["errors"] = [e.formatted for e in result.errors]
        if result.data is not None:
            response["data"] = result.data
        if context["page_info"] is not None:
            response["extensions"] = {"pageInfo": context["page_info"].as_dict()}
        return response


def _root_resolver(name: str, table: Table | None) -> Any:
    def resolve(_source: Any, info: GraphQLResolveInfo, **args: Any) -> list[dict[str, Any]]:
        if table is None:
            raise GraphQLError(f"{name} is not simulated (simulated roots: {', '.join(SIMULATED_ROOTS)})")
        if args.get("after_index_date") is not None:
            raise GraphQLError("after_index_date is not supported by the simulator")
        try:
            rows, page = table.select(args.get("filter"), args.get("limit"), args.get("after"))
        except FilterError as error:
            raise GraphQLError(str(error)) from error
        if info.context["page_info"] is None:  # several roots in one query: the first one's page info
            info.context["page_info"] = page
        return rows
    return resolve


@dataclass(frozen=True)
class PermanentFault:
    """A page that fails every time: `root` (None = any), `after` (None = the first page) or any page."""

    kind: str
    root: str | None = None
    after: int | None = None
    any_page: bool = False

    def matches(self, root: str | None, after: int | None) -> bool:
        first = after is None or after <= 0
        page_ok = self.any_page or (self.after is None and first) or (self.after is not None and after == self.after)
        return (self.root is None or self.root == root) and page_ok


class SimulatorServer:
    """The simulator on a background thread; use as a context manager.

    `sim.url` is `http://127.0.0.1:<port>` (spiders post to `f"{sim.url}/v3/graphql"`), `sim.scenario` the
    Scenario with its ground truth, `sim.request_count` the requests received and `sim.fault_counts` how each
    was answered (`ok`, `auth`, `429`, `502`, `stall`, `malformed`).
    """

    def __init__(self, scenario: str | Scenario = "demo", token: str | None = None, fault_rate: float = 0.0,
                 faults: Mapping[str, float] | None = None, seed: int = 1, stall_seconds: float = 3.0,
                 port: int = 0, *, host: str = "127.0.0.1", permanent_faults: Sequence[PermanentFault] = (),
                 retry_after: int = 1, max_faults_per_request: int = 3, govkz: GovkzOptions | None = None,
                 source_faults: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self.scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
        self.token = token
        self.rates = _fault_rates(fault_rate, faults)
        for fault in permanent_faults:
            if fault.kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {fault.kind!r}; use one of {FAULT_KINDS}")
        self.permanent_faults = tuple(permanent_faults)
        self.seed = seed
        self.stall_seconds = stall_seconds
        self.retry_after = retry_after
        self.max_faults_per_request = max_faults_per_request
        self.graphql = GoszakupGraphQL(self.scenario)
        self.govkz_options = govkz or GovkzOptions()
        self.source_rates = {source: _fault_rates(0.0, rates) for source, rates in (source_faults or {}).items()}
        self._other: tuple[GovkzApi, StatgovApi] | None = None
        self._other_lock = threading.Lock()
        self._attempts: Counter[bytes] = Counter()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _HTTPServer((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="goszakup-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; safe on a server that was never started."""
        self._stopping.set()  # stalled answers return at once
        if self._thread is not None:
            self._httpd.shutdown()  # waits for serve_forever, so only when it runs
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve on the calling thread until interrupted."""
        try:
            self._httpd.serve_forever()
        finally:
            self._stopping.set()
            self._httpd.server_close()

    # ------------------------------------------------------------------ counters
    @property
    def request_count(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    @property
    def fault_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def _count(self, outcome: str) -> None:
        with self._lock:
            self._counts[outcome] += 1

    # ------------------------------------------------------------------ one request
    def authorized(self, header: str | None) -> bool:
        if header is None or header[:7].lower() != "bearer ":
            return False
        presented = header[7:].strip()
        if self.token is None:
            return presented != ""
        return presented == self.token

    def choose_fault(self, path: str, body: bytes) -> str | None:
        """The fault for this attempt of this request, or None; a pure function of seed, request and attempt."""
        if self.permanent_faults:
            root, after = _request_shape(self.graphql, body)
            for fault in self.permanent_faults:
                if fault.matches(root, after):
                    return fault.kind
        if not self.rates:
            return None
        return self._transient_fault(hashlib.sha256(f"{self.seed}\0{path}\0".encode() + body).digest(), self.rates)

    def _transient_fault(self, key: bytes, rates: Mapping[str, float]) -> str | None:
        """The n-th attempt of the request `key` fails, or not: a function of seed, request and n only."""
        if not rates:
            return None
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        if attempt >= self.max_faults_per_request:
            return None
        draw = hashlib.sha256(key + attempt.to_bytes(4, "big")).digest()
        u = int.from_bytes(draw[:8], "big") / 2**64
        for kind, rate in rates.items():
            if u < rate:
                return kind
            u -= rate
        return None

    def stall(self) -> None:
        self._stopping.wait(self.stall_seconds)

    # ------------------------------------------------------------------ gov.kz and stat.gov.kz
    def other_sources(self) -> tuple[GovkzApi, StatgovApi]:
        """The gov.kz and stat.gov.kz routes, built on first use (generating their content takes a moment)."""
        with self._other_lock:
            if self._other is None:
                other = load_other_scenario(self.scenario)
                self._other = (GovkzApi(other, self.govkz_options, self.retry_after),
                               StatgovApi(other, self.retry_after))
            return self._other

    def source_fault(self, source: str, key: str) -> str | None:
        rates = self.source_rates.get(source, self.rates)
        return self._transient_fault(hashlib.sha256(f"{self.seed}\0{source}\0{key}".encode()).digest(), rates)

    def route_other(self, method: str, target: str, headers: Headers) -> tuple[str, Answer] | None:
        """Answer a gov.kz or stat.gov.kz request, or None when the path is neither's."""
        path = target.split("?", 1)[0]
        if GovkzApi.owns(path):
            govkz, _ = self.other_sources()
            return "govkz", govkz.handle(method, target, headers, lambda key: self.source_fault("govkz", key))
        if StatgovApi.owns(path):
            _, statgov = self.other_sources()
            return "statgov", statgov.handle(method, target, lambda key: self.source_fault("statgov", key))
        return None


def _fault_rates(fault_rate: float, faults: Mapping[str, float] | None) -> dict[str, float]:
    rates = dict.fromkeys(("429", "502", "stall"), fault_rate / 3) if fault_rate else {}
    for kind, rate in (faults or {}).items():
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS}")
        rates[kind] = rate
    rates = {k: v for k, v in rates.items() if v > 0}
    if any(v < 0 for v in rates.values()) or sum(rates.values()) > 1:
        raise ValueError(f"fault rates must be between 0 and 1 in total, got {rates}")
    return rates


def _request_shape(engine: GoszakupGraphQL, body: bytes) -> tuple[str | None, int | None]:
    """The first root field a request asks for and its `after` argument, for matching permanent faults."""
    try:
        payload = json.loads(body)
        doc, _ = engine.document(payload["query"])
    except (ValueError, KeyError, TypeError):
        return None, None
    if doc is None:
        return None, None
    variables = payload.get("variables") or {}
    for definition in doc.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for selection in definition.selection_set.selections:
            if not isinstance(selection, FieldNode):
                continue
            after = None
            for argument in selection.arguments or ():
                if argument.name.value != "after":
                    continue
                if isinstance(argument.value, VariableNode):
                    after = variables.get(argument.value.name.value)
                elif isinstance(argument.value, IntValueNode):
                    after = int(argument.value.value)
            return selection.name.value, after if isinstance(after, int) else None
    return None, None


# The public portal's page paths (SOURCE.md §1) → the root whose record the page shows.
_PORTAL_ROUTES = (
    (re.compile(r"^/ru/egzcontract/cpublic/show/(\d+)$"), "Contract"),
    (re.compile(r"^/ru/announce/index/(\d+)$"), "TrdBuy"),
    (re.compile(r"^/ru/registry/show_supplier/(\d+)$"), "Subjects"),
)


def portal_page(scenario: Scenario, path: str) -> tuple[int, bytes] | None:
    """A fictional record's "portal page", so demo source links work offline and never reach the real portal.

    The real portal renders rich HTML we have no sample of; this page shows the record as served by the API,
    every value HTML-escaped (names are untrusted text), under a banner saying it is fictional.
    """
    for pattern, root in _PORTAL_ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        record = scenario.get(root, int(match.group(1)))
        if record is None:
            return 404, b"<!doctype html><title>404</title><p>Not found in the simulator's scenario.</p>"
        shown = {k: v for k, v in record.items() if not isinstance(v, (dict, list))}
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in shown.items()
        )
        title = html.escape(str(record.get("nameRu") or record.get("contractNumberSys") or f"{root} {match.group(1)}"))
        page = (
            "<!doctype html><html lang=ru><meta charset=utf-8>"
            f"<title>{title} — симулятор goszakup (вымышленные данные)</title>"
            "<p style='background:#fff3cd;padding:8px'><b>Вымышленная запись</b> демонстрационного сценария Ashyq, "
            "отданная офлайн-симулятором goszakup. Это не страница goszakup.gov.kz. / Fictional record served "
            "by the Ashyq goszakup simulator; not a goszakup.gov.kz page.</p>"
            f"<h1>{title}</h1><table>{rows}</table></html>"
        )
        return 200, page.encode()
    return None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a stalled answer must not keep the process alive
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 simulator: SimulatorServer) -> None:
        self.simulator = simulator
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up (a killed crawl, a timeout after a stall) resets the connection; that is
        # expected here, so no traceback on stderr. Anything else is still reported.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as a spider's connection pool expects
    server_version = "nginx"
    sys_version = ""

    def do_POST(self) -> None:  # http.server's naming
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        started = time.perf_counter()
        sim = self.server.simulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""  # read it all, so keep-alive stays in step
        path = self.path.split("?", 1)[0]
        routed = sim.route_other(self.command, self.path, self.headers)
        if routed is not None:  # gov.kz or stat.gov.kz: no token, their own formats
            source, answer = routed
            if answer.stall:
                sim.stall()
            sim._count(f"{source}:{answer.outcome}")
            self._answer(answer.status, answer.body, answer.content_type, started, f"{source} {answer.outcome}",
                         answer.headers)
            return
        if self.command == "GET":
            page = portal_page(sim.scenario, path)
            if page is not None:  # the public portal needs no token, like the real one
                status, html_bytes = page
                self._answer(status, html_bytes, "text/html; charset=UTF-8", started, "portal")
                return
        if self.command != "POST" or path != GRAPHQL_PATH or not sim.authorized(self.headers.get("Authorization")):
            sim._count("auth")
            self._answer(404, b"Invalid Route", "text/html; charset=UTF-8", started, "invalid route")
            return
        fault = sim.choose_fault(path, body)
        if fault == "429":
            sim._count("429")
            self._answer(429, b"Too Many Requests", "text/html; charset=UTF-8", started, fault,
                         {"Retry-After": str(sim.retry_after)})
            return
        if fault == "502":
            sim._count("502")
            self._answer(502, _BAD_GATEWAY, "text/html; charset=UTF-8", started, fault)
            return
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        response = sim.graphql.run(payload)
        data = json.dumps(response, ensure_ascii=False, separators=(",", ":")).encode()
        if fault == "stall":
            sim._count("stall")
            sim.stall()
        elif fault == "malformed":
            sim._count("malformed")
            data = data[: len(data) // 2]
        else:
            sim._count("ok")
        self._answer(200, data, "application/json; charset=UTF-8", started, fault or "ok")

    def _answer(self, status: int, data: bytes, content_type: str, started: float, note: str,
                headers: Mapping[str, str] | None = None) -> None:
        # Logged before the answer is written, so a client that has its answer can rely on the line existing.
        # Never log headers: the Authorization header carries the token.
        log.debug("%s %s -> %d %s, %d bytes, %.1f ms", self.command, self.path, status, note, len(data),
                  (time.perf_counter() - started) * 1000)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (after a stall, typically)

    def log_message(self, format: str, *args: Any) -> None:  # http.server's signature
        pass  # replaced by the DEBUG line in _answer


def serve_forever(port: int = 8765, scenario: str = "demo", fault_rate: float = 0.0, token: str | None = None) -> None:
    """`ashyq simulate`: serve until Ctrl-C. token None accepts any non-empty Bearer token."""
    started = time.perf_counter()
    sim = SimulatorServer(scenario=scenario, token=token, fault_rate=fault_rate, port=port)
    print(f"goszakup simulator: {sim.url}{GRAPHQL_PATH} — {sim.scenario.summary()}, ready in "
          f"{time.perf_counter() - started:.1f} s; fictional data. Ctrl-C stops it.", file=sys.stderr)
    print(f"also serving gov.kz (ASHYQ_GOVKZ_URL={sim.url}) and stat.gov.kz (ASHYQ_STATGOV_URL={sim.url}).",
          file=sys.stderr)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        print("goszakup simulator stopped.", file=sys.stderr)
