"""The gov.kz public content API and entity pages, simulated over `crawlers.simulator.other_scenario`.

Mounted by `crawlers.simulator.server.SimulatorServer` under the real paths, so `ASHYQ_GOVKZ_URL` can point at
`sim.url`. Behaviour copied from SOURCE.md §2.2:

* `POST /api/v1/public/_/c/k6` with `Content-Type: application/json` and `Origin: https://www.gov.kz` sets a
  cookie ticket (`Set-Cookie: <TICKET_COOKIE>=…`); `GET /api/v1/public/content-manager/news` without a valid
  ticket answers **HTTP 400** `{"message": "notAllowed"}`. Options make tickets stop working after N uses (a
  lost ticket) or never work (the gate changed).
* `news?projects=eq:<slug>` / `documents?projects=<slug>` (both forms accepted on both), `sort-by=
  created_date:DESC|ASC`, `page` from 1, `size` (default 10, at most 2000), `created_date=gt:<ISO>`;
  **`gte:` (or any other operator) answers HTTP 500**; past the last page an empty array; an unknown slug an
  empty array. `curators?projects=<slug>&size=…` and `curators/<id>`. `Accept-Language: ru|kk|en` chooses
  the language (default ru; `kz` is read as kk).
* Entity pages `/memleket/entities/<slug>/press/news/details/<id>`, `/documents/details/<id>`,
  `/about/structure/people/<id>` (`?lang=`): a plain page with the item's fields, every value HTML-escaped,
  under a banner saying it is fictional — so demo links never reach the real gov.kz.

Unverified and invented here [U]: the name and format of the ticket cookie, the exact 400/500 bodies, the
default `size`, the `size` cap, what `page=0` does (here HTTP 400), that only `gt:` is supported, and that an
unknown slug gives `[]`. Faults (429, 502, stall, malformed) come from the server's seeded fault model, per
request (path, query and language).
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs

from crawlers.simulator.other_scenario import OtherScenario

TICKET_PATH = "/api/v1/public/_/c/k6"
CONTENT = "/api/v1/public/content-manager/"
TICKET_COOKIE = "gov_kz_ticket"
ORIGIN = "https://www.gov.kz"
JSON_TYPE = "application/json;charset=UTF-8"
HTML_TYPE = "text/html; charset=UTF-8"
NOT_ALLOWED = b'{"message":"notAllowed"}'
SERVER_ERROR = b'{"status":500,"error":"Internal Server Error"}'
_PAGES = {
    "news": re.compile(r"^/memleket/entities/([a-z0-9_-]+)/press/news/details/(\d+)$"),
    "documents": re.compile(r"^/memleket/entities/([a-z0-9_-]+)/documents/details/(\d+)$"),
    "curators": re.compile(r"^/memleket/entities/([a-z0-9_-]+)/about/structure/people/(\d+)$"),
}
_BAD_GATEWAY = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")

FaultChooser = Callable[[str], str | None]  # request key → fault kind or None


class Headers(Protocol):
    """Request headers looked up by name, case-insensitively (http.server's `Message`)."""

    def get(self, name: str, /) -> str | None: ...


@dataclass
class Answer:
    """What a simulated route answers; `stall` asks the server to wait before answering."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    outcome: str = "ok"
    stall: bool = False


def json_answer(data: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


def with_fault(kind: str | None, answer: Answer, retry_after: int) -> Answer:
    """The transient fault `kind` applied to a good answer (as the goszakup endpoint does)."""
    if kind == "429":
        return Answer(429, b"Too Many Requests", HTML_TYPE, {"Retry-After": str(retry_after)}, "429")
    if kind == "502":
        return Answer(502, _BAD_GATEWAY, HTML_TYPE, outcome="502")
    if kind == "stall":
        return Answer(answer.status, answer.body, answer.content_type, answer.headers, "stall", stall=True)
    if kind == "malformed":
        return Answer(answer.status, answer.body[: len(answer.body) // 2], answer.content_type, answer.headers,
                      "malformed")
    return answer


@dataclass(frozen=True)
class GovkzOptions:
    """Access-gate and failure settings of the simulated gov.kz."""

    ticket_max_uses: int | None = None  # a ticket stops working after this many news requests (a lost ticket)
    ticket_broken: bool = False  # tickets are issued but never accepted (the gate changed)
    broken_slugs: frozenset[str] = frozenset()  # every list request for these slugs answers 502, for good


class GovkzApi:
    """The routes above; `handle()` returns None for paths that are not gov.kz's."""

    def __init__(self, other: OtherScenario, options: GovkzOptions, retry_after: int = 1) -> None:
        self.other = other
        self.options = options
        self.retry_after = retry_after
        self._tickets: dict[str, int] = {}  # ticket → news requests served with it
        self._lock = threading.Lock()

    @staticmethod
    def owns(path: str) -> bool:
        return path.startswith(("/api/v1/public/", "/memleket/"))

    def handle(self, method: str, target: str, headers: Headers, fault: FaultChooser) -> Answer:
        path, _, query = target.partition("?")
        if path.startswith("/memleket/"):
            return self.page(path, parse_qs(query).get("lang", ["ru"])[0])
        lang = _language(headers.get("Accept-Language"))
        if path == TICKET_PATH:
            if method != "POST":
                return json_answer({"message": "Method Not Allowed"}, 405)
            answer = self.ticket(headers)
        elif not path.startswith(CONTENT) or method != "GET":
            return json_answer({"status": 404, "error": "Not Found", "path": path}, 404)
        else:
            resource = path[len(CONTENT):]
            params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
            if resource == "news" and not self.admitted(headers.get("Cookie")):
                return Answer(400, NOT_ALLOWED, outcome="not_allowed")
            if _slug(params.get("projects", "")) in self.options.broken_slugs:
                return Answer(502, _BAD_GATEWAY, HTML_TYPE, outcome="broken")
            answer = self.content(resource, params, lang)
        return with_fault(fault(f"{method} {target} {lang}"), answer, self.retry_after)

    # ------------------------------------------------------------------ the ticket gate
    def ticket(self, headers: Headers) -> Answer:
        content_type = (headers.get("Content-Type") or "").lower()
        if not content_type.startswith("application/json") or headers.get("Origin") != ORIGIN:
            return Answer(400, NOT_ALLOWED, outcome="not_allowed")
        value = secrets.token_hex(16)
        with self._lock:
            self._tickets[value] = 0
        cookie = f"{TICKET_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax"
        return Answer(200, b"{}", headers={"Set-Cookie": cookie}, outcome="ticket")

    def admitted(self, cookie_header: str | None) -> bool:
        if self.options.ticket_broken or not cookie_header:
            return False
        cookies = dict(part.strip().split("=", 1) for part in cookie_header.split(";") if "=" in part)
        value = cookies.get(TICKET_COOKIE)
        with self._lock:
            if value is None or value not in self._tickets:
                return False
            limit = self.options.ticket_max_uses
            if limit is not None and self._tickets[value] >= limit:
                del self._tickets[value]  # expired: a client must ask for a new one
                return False
            self._tickets[value] += 1
        return True

    # ------------------------------------------------------------------ lists
    def content(self, resource: str, params: dict[str, str], lang: str) -> Answer:
        if resource.startswith("curators/"):
            ident = resource.removeprefix("curators/")
            found = self.other.item("curators", int(ident), lang) if ident.isdigit() else None
            return json_answer(found[1]) if found else json_answer({"status": 404, "error": "Not Found"}, 404)
        if resource not in ("news", "documents", "curators"):
            return json_answer({"status": 404, "error": "Not Found"}, 404)
        try:
            page = int(params.get("page", "1"))
            size = int(params.get("size", "10"))
        except ValueError:
            return json_answer({"status": 400, "error": "Bad Request"}, 400)
        if page < 1 or not 1 <= size <= 2000:
            return json_answer({"status": 400, "error": "Bad Request"}, 400)
        sort = params.get("sort-by", "created_date:DESC")
        if sort not in ("created_date:DESC", "created_date:ASC"):
            return Answer(500, SERVER_ERROR, outcome="server_error")
        gt = None
        if "created_date" in params:
            operator, _, value = params["created_date"].partition(":")
            try:
                gt = datetime.fromisoformat(value).replace(tzinfo=UTC)
            except ValueError:
                return Answer(500, SERVER_ERROR, outcome="server_error")
            if operator != "gt":  # `gte:` fails on the real site (SOURCE.md §2.2); other operators are unknown
                return Answer(500, SERVER_ERROR, outcome="server_error")
        slug = _slug(params.get("projects", ""))
        rows = self.other.page(resource, slug, lang, gt if resource != "curators" else None, page, size,
                               ascending=sort.endswith("ASC"))
        return json_answer(rows)

    # ------------------------------------------------------------------ pages for readers
    def page(self, path: str, lang: str) -> Answer:
        for kind, pattern in _PAGES.items():
            match = pattern.match(path)
            if match is None:
                continue
            slug, ident = match.group(1), int(match.group(2))
            found = self.other.item(kind, ident, _language(lang))
            if found is None or found[0] != slug:
                break
            return Answer(200, fictional_page(found[1]).encode(), HTML_TYPE, outcome="page")
        return Answer(404, b"<!doctype html><title>404</title><p>Not found in the simulator's scenario.</p>",
                      HTML_TYPE, outcome="page_missing")


def fictional_page(item: dict[str, Any]) -> str:
    """The item's fields as an escaped table under a banner (the real pages are a JavaScript app)."""
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v))}</td></tr>"
                   for k, v in item.items())
    title = html.escape(str(item.get("title") or " ".join(str(item.get(k) or "") for k in ("lastname", "name"))))
    return ("<!doctype html><html lang=ru><meta charset=utf-8>"
            f"<title>{title} — симулятор gov.kz (вымышленные данные)</title>"
            "<p style='background:#fff3cd;padding:8px'><b>Вымышленная запись</b> демонстрационного сценария Ashyq, "
            "отданная офлайн-симулятором gov.kz. Это не страница gov.kz. / Fictional record served by the Ashyq "
            "gov.kz simulator; not a gov.kz page.</p>"
            f"<h1>{title}</h1><table>{rows}</table></html>")


def _language(header: str | None) -> str:
    tag = (header or "ru").split(",")[0].split(";")[0].strip().lower()[:2]
    return {"kz": "kk"}.get(tag, tag) if tag in ("ru", "kk", "kz", "en") else "ru"


def _slug(value: str) -> str:
    return value.removeprefix("eq:")
