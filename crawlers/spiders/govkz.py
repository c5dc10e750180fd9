"""gov.kz public content API: press releases (news), documents (orders) and leadership (curators) of education
bodies, through `/api/v1/public/content-manager/…` exactly as SOURCE.md §2.2 documents it."""

from __future__ import annotations

import csv
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response

from crawlers.spiders.base import Output, Spec
from crawlers.spiders.rest import RestUnitSpider, public_site_url
from entities.config import REFERENCE_DIR

SLUGS_FILE = Path(REFERENCE_DIR) / "govkz_slugs.csv"
REAL_SITE = "https://www.gov.kz"
API = "/api/v1/public/content-manager"
TICKET_PATH = "/api/v1/public/_/c/k6"
# The ticket endpoint checks the Origin of the SPA that normally calls it (SOURCE.md §2.2, verified 2026-09-27).
ORIGIN = "https://www.gov.kz"

KINDS = ("news", "documents", "curators")
LANGUAGES = ("ru", "kk", "en")
RECORD_TYPES = {"news": "govkz_news", "documents": "govkz_document", "curators": "govkz_curator"}
# Public pages a reader can open (SOURCE.md §2.1), relative to the site.
HUMAN_PATHS = {
    "news": "/memleket/entities/{slug}/press/news/details/{id}?lang={lang}",
    "documents": "/memleket/entities/{slug}/documents/details/{id}?lang={lang}",
    "curators": "/memleket/entities/{slug}/about/structure/people/{id}?lang={lang}",
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,80}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A ticket is re-acquired when it stops working; a crawl that needs more than this many is not being let in.
MAX_TICKETS = 25


@dataclass(frozen=True)
class SlugRow:
    slug: str
    kind: str  # ministry, education_department, akimat
    region_code2: str  # first two KATO digits; empty for ministries
    name_ru: str
    status: str  # pack: seen in the source pack; guess: by the <region>-bilim pattern, to confirm live
    evidence: str


def load_slugs(path: Path = SLUGS_FILE) -> list[SlugRow]:
    """The gov.kz entities we know of (`data/reference/govkz_slugs.csv`), in file order."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [SlugRow(**row) for row in csv.DictReader(fh)]
    for row in rows:
        if not _SLUG.match(row.slug) or row.status not in {"pack", "guess"}:
            raise ValueError(f"{path}: bad row {row}")
    return rows


def _split(name: str, value: str) -> list[str]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts:
        raise ValueError(f"{name} must be a comma-separated list, got {value!r}")
    return list(dict.fromkeys(parts))


class GovkzSpider(RestUnitSpider):
    """
    Domain
      gov.kz, the unified platform of Kazakhstan's state bodies: press releases (where memoranda of
      cooperation are announced), documents (orders «Приказ №… от …», PPP decisions) and the leadership pages
      (heads and deputies) of the education ministries, the regional and city education departments and the
      akimats. Everything is stored raw: titles and HTML bodies verbatim, one raw record per item and language.
    Caveats
      - News needs the **cookie ticket**: `POST /api/v1/public/_/c/k6` with `Content-Type: application/json`
        and `Origin: https://www.gov.kz` sets a cookie; without it the news endpoint answers HTTP 400
        «notAllowed» [V 2026-09-27]. News requests wait for the ticket. When a ticket stops working it is
        re-acquired once; when a fresh ticket is refused too, the crawl stops with one clear error line.
        Documents and curators need no ticket.
      - Language: `Accept-Language: ru|kk|en` chooses the language of an item's title and body; each language
        in `langs` is crawled on its own, and the same item id is stored once per language: external id
        `<id>:<lang>` (the payloads differ by language, so one external id per item would make the versions
        of a record alternate with every crawl). The language is also in `human_url` (`?lang=`).
      - Answers are JSON arrays with no paging metadata; pages are requested from `page=1` (as public
        clients do [C]; whether the API is 0-based is unverified) until an empty array. A defensive
        `{"content": [...]}` envelope is accepted (some clients handle it). A page that repeats page 1 stops
        its chain as incomplete (an API that ignored `page` would otherwise loop for ever).
      - `since` becomes `created_date=gt:<day before>T23:59:59` (`gt:` works; `gte:` answers HTTP 500 on the
        real site, so it is never sent). Which time zone the server compares in is unverified: an item
        published just around midnight may be fetched by two incremental runs (stored once) — never missed.
        Curators have no date filter: the whole (short) list is read every time.
      - Curators: the list `curators?projects=<slug>&size=100` only (no paging is documented; a department has
        far fewer than 100 leaders — a full page is logged as possibly truncated). The detail endpoint
        `curators/<id>` is not read: the list items carry the fields SOURCE.md §4 names [U: confirm live that
        they include the biography].
      - Unit = slug × kind × language (e.g. `news:almaty-edu:kk`), checkpointed in crawl_runs: a re-run after
        a crash resumes; a re-crawl stores nothing new unless an item changed.
      - Items deleted while a crawl pages through a list shift later items to earlier pages, so one may be
        missed until the next crawl; items added meanwhile are seen twice (stored once).
      - `url` is the API page the item came from; `human_url` the public page (the simulator's page when the
        API is on loopback, so fictional items never link to the real gov.kz).
    Spider arguments
      slugs
        Comma-separated entity slugs, or `pack` (default: the slugs seen in the source pack — ministries,
        three education departments, the akimats), or `all` (adds the guessed `<region>-bilim` slugs of
        `data/reference/govkz_slugs.csv`; confirm them live before relying on them).
      langs
        Comma-separated languages, default `ru,kk` (`en` also exists).
      types
        Comma-separated kinds, default `news,documents,curators`.
      since
        YYYY-MM-DD: only items created on or after that day (news and documents).
      page_size
        Items per page, default 100 (the largest size public clients use for news).
    Environment variables
      ASHYQ_GOVKZ_URL (default https://www.gov.kz), ASHYQ_GOVKZ_DELAY (seconds between requests, default 1),
      ASHYQ_GOVKZ_CONCURRENCY (default 1), ASHYQ_GOVKZ_TIMEOUT, ASHYQ_GOVKZ_BACKOFF, ASHYQ_GOVKZ_SITE_URL
      (where human links point; default the real site, or the API's base when it is loopback).
    API documentation
      None published; shared/sources/other/SOURCE.md §2 (public clients and a live check of 2026-09-27).
    """

    name = "govkz"
    source = "govkz"
    default_base_url = REAL_SITE
    sample_args: ClassVar[dict[str, str]] = {"slugs": "edu"}
    # The site's footer reserves rights and one public project left the permission for repeated extraction
    # unresolved (SOURCE.md §2.2 "Ethics"): poll gently — one request at a time, one per second at least.
    custom_settings: dict[Any, Any] | None = {  # noqa: RUF012 - Scrapy declares it an instance attribute
        "DOWNLOAD_DELAY": 1.0,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if kwargs.get("until") is not None:
            raise ValueError("govkz takes no until: only created_date=gt: is known to work (SOURCE.md §2.2)")
        known = load_slugs()
        chosen = str(kwargs.get("slugs") or "pack")
        if chosen == "pack":
            self.slugs = [r.slug for r in known if r.status == "pack"]
        elif chosen == "all":
            self.slugs = [r.slug for r in known]
        else:
            self.slugs = _split("slugs", chosen)
            bad = [s for s in self.slugs if not _SLUG.match(s)]
            if bad:
                raise ValueError(f"slugs must be gov.kz entity slugs (a-z, 0-9, '-', '_'), got {bad}")
        self.langs = _split("langs", str(kwargs.get("langs") or "ru,kk"))
        if unknown := [lang for lang in self.langs if lang not in LANGUAGES]:
            raise ValueError(f"langs must be among {', '.join(LANGUAGES)}, got {unknown}")
        self.kinds = _split("types", str(kwargs.get("types") or ",".join(KINDS)))
        if unknown := [k for k in self.kinds if k not in KINDS]:
            raise ValueError(f"types must be among {', '.join(KINDS)}, got {unknown}")
        since = kwargs.get("since")
        self.since: date | None = None
        if since is not None:
            if not _DATE.match(str(since)):
                raise ValueError(f"since must be a date as YYYY-MM-DD, got {since!r}")
            try:
                self.since = date.fromisoformat(str(since))
            except ValueError:
                raise ValueError(f"since is not a real date: {since!r}") from None
        size = str(kwargs.get("page_size") or "100")
        if not size.isdigit() or not 1 <= int(size) <= 1000:
            raise ValueError(f"page_size must be a whole number from 1 to 1000, got {size!r}")
        self.page_size = int(size)
        self.site = public_site_url(self.base_url, REAL_SITE, "ASHYQ_GOVKZ_SITE_URL")
        # The ticket is kept in memory and added to news requests as a Cookie header, so requests queued in
        # JOBDIR at a graceful stop carry it (an anonymous, short-lived session ticket, not a credential of
        # ours). A resumed crawl asks for a new one: `_run` tells this process's tickets from those of the
        # process that queued a request before the stop, and such a request is simply re-sent.
        self._run = secrets.token_hex(4)
        self._cookie: str | None = None
        self._generation = 0
        self._pending = False  # a ticket request is on its way
        self._parked: dict[str, Spec] = {}  # news specs waiting for a ticket
        self._worked: dict[int, bool] = {}  # ticket generation → has it let a news request through
        self._reacquired = False  # the current ticket replaces one that was refused

    # ------------------------------------------------------------------------------------- plan
    def plan_units(self) -> list[str]:
        return [f"{kind}:{slug}:{lang}" for slug in self.slugs for kind in self.kinds for lang in self.langs]

    def created_filter(self) -> str | None:
        """`gt:` the last second before `since` (never `gte:`, which the real site answers with HTTP 500)."""
        if self.since is None:
            return None
        return f"gt:{(self.since - timedelta(days=1)).isoformat()}T23:59:59"

    def page_url(self, kind: str, slug: str, page: int) -> str:
        """The list URL exactly in the forms public clients use (SOURCE.md §2.2)."""
        gt = self.created_filter()
        since = f"&created_date={gt}" if gt else ""
        if kind == "news":
            return (f"{self.base_url}{API}/news?projects=eq:{slug}&sort-by=created_date:DESC"
                    f"&page={page}&size={self.page_size}{since}")
        if kind == "documents":
            return (f"{self.base_url}{API}/documents?projects={slug}&page={page}&size={self.page_size}"
                    f"&sort-by=created_date:DESC{since}")
        return f"{self.base_url}{API}/curators?projects={slug}&size=100"

    def begin_unit(self, uid: str) -> Output:
        kind, slug, lang = uid.split(":")
        yield from self.send(self._page_spec(uid, kind, slug, lang, 1, None))

    def _page_spec(self, uid: str, kind: str, slug: str, lang: str, page: int, first_ids: list[str] | None) -> Spec:
        return self.spec(uid, kind, self.page_url(kind, slug, page), f"{kind} of {slug} ({lang})",
                         headers={"Accept": "application/json", "Accept-Language": lang}, page=page, slug=slug,
                         lang=lang, first_ids=first_ids)

    # ---------------------------------------------------------------------------------- ticket
    def dispatch(self, spec: Spec, reissue: bool = False) -> list[scrapy.Request]:  # noqa: ARG002
        if spec["kind"] != "news":
            return [self.build_request(spec)]
        if self._cookie is None or self._pending:
            self._parked[spec["rkey"]] = spec
            return self._acquire()
        return [self.build_request(spec, headers={"Cookie": self._cookie},
                                   meta={"ticket": (self._run, self._generation)})]

    def _acquire(self) -> list[scrapy.Request]:
        if self._pending:
            return []
        self._pending = True
        tickets = self.crawler.stats.get_value("govkz/tickets", 0)
        if tickets >= MAX_TICKETS:
            self.fatal("auth_failed", f"gov.kz kept refusing the news API: {tickets} cookie tickets used up")
        spec = self.spec(None, "ticket", f"{self.base_url}{TICKET_PATH}", "cookie ticket (POST _/c/k6)",
                         method="POST", body="{}", expect_json=False,
                         headers={"Content-Type": "application/json", "Origin": ORIGIN})
        return self.send(spec)

    def _ticket_arrived(self, response: Response) -> Output:
        cookies = []
        for header in response.headers.getlist(b"Set-Cookie"):
            pair = header.decode("latin-1").split(";", 1)[0].strip()
            if "=" in pair:
                cookies.append(pair)
        if not cookies:
            self.fatal("auth_failed", "gov.kz answered the cookie-ticket request (POST /api/v1/public/_/c/k6) "
                                      "without a cookie: the news access gate has changed (SOURCE.md §2.2)")
        self.crawler.stats.inc_value("govkz/tickets")
        self._cookie = "; ".join(cookies)  # never logged: it is a session ticket
        self._generation += 1
        self._worked[self._generation] = False
        self._pending = False
        parked, self._parked = list(self._parked.values()), {}
        for spec in parked:
            yield from self.dispatch(spec)

    def _refused(self, spec: Spec, response: Response) -> Output:
        """HTTP 400 «notAllowed» on news: wait for (or fetch) a fresh ticket; stop if a fresh one is refused."""
        self.crawler.stats.inc_value("govkz/not_allowed")
        run, generation = response.meta.get("ticket") or (None, 0)
        if run != self._run or generation < self._generation or self._pending:
            yield from self.dispatch(spec)  # sent with an older ticket: the current one (or the next) will do
            return
        if self._reacquired and not self._worked.get(generation, False):
            self.fatal("auth_failed", "gov.kz refused the news API (HTTP 400 notAllowed) even with a fresh "
                                      "cookie ticket from POST /api/v1/public/_/c/k6: the access gate has "
                                      "changed (SOURCE.md §2.2); documents and curators need no ticket "
                                      "(-a types=documents,curators)")
        self._reacquired = True
        self.logger.info("gov.kz news refused the cookie ticket (HTTP 400 notAllowed): acquiring a new one")
        self._cookie = None
        yield from self.dispatch(spec)

    def on_status(self, spec: Spec, response: Response) -> Output | None:
        if spec["kind"] == "ticket" and response.status != 200:
            self.fatal("auth_failed", f"gov.kz refused the cookie-ticket request (POST /api/v1/public/_/c/k6): "
                                      f"HTTP {response.status}")
        if spec["kind"] == "news" and response.status == 400 and b"notAllowed" in response.body:
            return self._refused(spec, response)
        return None

    def on_error(self, failure: Any) -> Output:
        spec: Spec = failure.request.meta["spec"]
        if spec["kind"] == "ticket":
            self.fatal("auth_failed", f"could not get the gov.kz cookie ticket: {failure.getErrorMessage()}")
        yield from super().on_error(failure)

    # ---------------------------------------------------------------------------------- pages
    def handle(self, spec: Spec, data: Any, response: Response, fetched_at: datetime) -> Output:
        if spec["kind"] == "ticket":
            yield from self._ticket_arrived(response)
            return
        if spec["kind"] == "news":
            run, generation = response.meta.get("ticket") or (None, 0)
            if run == self._run:
                self._worked[generation] = True
                if generation == self._generation:
                    self._reacquired = False
        record_type = RECORD_TYPES[spec["kind"]]
        rows = data
        if isinstance(data, dict) and isinstance(data.get("content"), list):
            self.crawler.stats.inc_value("govkz/enveloped_pages")
            rows = data["content"]
        if not isinstance(rows, list):
            yield self.quarantine_body(response, spec, "response body is not a JSON array", record_type)
            self.mark_failed(spec["unit"], f"{self.describe(spec)}: not a JSON array")
            return
        ids: list[str] = []
        for row in rows:
            item_id = row.get("id") if isinstance(row, dict) else None
            if not isinstance(row, dict):
                yield self.quarantine_record(spec, record_type, row, "item is not an object")
            elif isinstance(item_id, bool) or not isinstance(item_id, (int, str)) or not str(item_id).strip():
                yield self.quarantine_record(spec, record_type, row, "item has no `id`")
            else:
                ids.append(str(item_id))
                yield self._record(spec, record_type, str(item_id), row, response.url, fetched_at)
        if spec["kind"] == "curators":
            if len(rows) >= 100:
                self.logger.warning("%s: a full page of 100 curators, the list may be truncated", self.describe(spec))
            return
        if not rows:
            return  # past the end
        if spec["page"] > 1 and ids and ids == spec.get("first_ids"):
            self.logger.error("%s repeats page 1: the API seems to ignore `page`", self.describe(spec))
            self.mark_failed(spec["unit"], f"{self.describe(spec)}: repeats page 1")
            return
        first_ids = spec.get("first_ids") or ids
        yield from self.send(self._page_spec(spec["unit"], spec["kind"], spec["slug"], spec["lang"],
                                             spec["page"] + 1, first_ids))

    def _record(self, spec: Spec, record_type: str, item_id: str, row: dict[str, Any], url: str,
                fetched_at: datetime) -> Any:
        lang, slug = spec["lang"], spec["slug"]
        self._check_since(spec, row)
        human = self.site + HUMAN_PATHS[spec["kind"]].format(slug=slug, id=item_id, lang=lang)
        return self.raw_item(record_type, f"{item_id}:{lang}", url, row, fetched_at, human)

    def _check_since(self, spec: Spec, row: dict[str, Any]) -> None:
        """Count (and say once) when the server ignored the date filter: we store what it sent, but slower."""
        if self.since is None or spec["kind"] == "curators":
            return
        created = row.get("created_date")
        if isinstance(created, str) and created[:10] < (self.since - timedelta(days=1)).isoformat():
            if not self.crawler.stats.get_value("govkz/older_than_since"):
                self.logger.warning("%s: items older than since=%s: the created_date filter was not applied",
                                    self.describe(spec), self.since)
            self.crawler.stats.inc_value("govkz/older_than_since")

