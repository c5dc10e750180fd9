"""stat.gov.kz statistical business register: the company card by BIN (SOURCE.md §3.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from scrapy.http import Response
from sqlalchemy import func, select

from crawlers.spiders.base import Output, Spec
from crawlers.spiders.rest import RestUnitSpider
from entities.config import database_url
from entities.db import make_engine
from entities.identifiers import is_valid
from entities.models import Organization, RawRecord

RECORD_TYPE = "statgov_company"
PATH = "/api/juridical/counter/api/"
NOT_FOUND = "Не найдено"


class StatgovSpider(RestUnitSpider):
    """
    Domain
      The statistical business register of the Bureau of National Statistics (stat.gov.kz): for a BIN, the
      registered name, registration date, director (`fio`), KATO code and address, main and secondary activity
      codes (OKED), size class (KRP), sector (KSE) and ownership form (KFS).
    Caveats
      - One GET per BIN: `/api/juridical/counter/api/?bin=<BIN>&lang=ru`, answered
        `{"success": true, "obj": {…}, "description": null}` [C: several public clients]. The payload stored
        is that whole answer, verbatim (camelCase keys of `obj` as served). External id = the BIN.
      - **Not found** is `{"success": false, "obj": null, "description": "Не найдено"}` (the shape comes from a
        mock server in a public actor [U]). It is stored as a raw record like any other answer, not quarantined:
        it is a well-formed statement of the register at the time of the fetch ("this BIN is not in the
        statistical register"), which the build can show, and which the freshness rule below must see, or
        every run would ask again for every unknown BIN. Quarantine is for answers we cannot read: a body that
        is not JSON, an answer without `success`, or a card for another BIN.
      - Which BINs: `bins=a,b` when given; otherwise every BIN in the `organizations` table of the database
        this crawl writes to (`bin` not null and `bin_valid`), i.e. every buyer, provider and bidder the
        goszakup build has seen. Run it after `ashyq build`.
      - **No refetch within `max_age_days`** (default 30): a BIN whose latest `statgov_company` record was
        fetched more recently is skipped. This is also how a crashed run resumes (the BINs it stored are fresh),
        so no per-BIN checkpoints are written; a BIN that failed (429 or 5xx after every retry) is reported as
        an incomplete unit `bin:<BIN>` and asked again by the next run.
      - stat.gov.kz rate-limits with HTTP 429: retried with exponential backoff and `Retry-After` by the
        project's retry middleware; by default one request at a time, one every 2 seconds (a public C# client
        needed a 2 s pause to stop the 429s, SOURCE.md §3.1, §8).
      - Unverified [U]: whether `old.stat.gov.kz` or `stat.gov.kz` is the current host (default: old., as most
        current code); whether an unknown BIN gets HTTP 200 with the not-found body or another status (only
        200 is read; anything else fails the BIN's unit); the exact `registerDate` time zone (stored as served);
        whether the portal serves individual entrepreneurs by IIN (`obj.ip`; we only ask for BINs). Portals may
        drop connections from outside Kazakhstan.
      - No public page exists per company: `human_url` is empty; `url` is the API call, which a reader can open.
    Spider arguments
      bins
        Comma-separated 12-digit BINs (checksum-valid) instead of the organizations table.
      max_age_days
        Skip BINs fetched fewer than this many days ago (default 30; 0 refetches everything).
    Environment variables
      ASHYQ_STATGOV_URL (default https://old.stat.gov.kz), ASHYQ_STATGOV_DELAY (seconds between requests,
      default 2), ASHYQ_STATGOV_CONCURRENCY (default 1), ASHYQ_STATGOV_TIMEOUT, ASHYQ_STATGOV_BACKOFF.
    API documentation
      None published; shared/sources/other/SOURCE.md §3.1 and the sample
      stat_gov_kz__juridical_counter_api__bin_011240009242.json.
    """

    name = "statgov"
    source = "statgov"
    default_base_url = "https://old.stat.gov.kz"
    sample_args: ClassVar[dict[str, str]] = {"bins": "011240009242"}
    checkpoint_units = False
    # stat.gov.kz answers 429 to clients faster than about one request per 2 s (SOURCE.md §3.1, §8).
    custom_settings: dict[Any, Any] | None = {  # noqa: RUF012 - Scrapy declares it an instance attribute
        "DOWNLOAD_DELAY": 2.0,
        "AUTOTHROTTLE_START_DELAY": 2.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "CONCURRENT_REQUESTS": 1,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        bins = kwargs.get("bins")
        self.bins: list[str] | None = None
        if bins is not None:
            given = list(dict.fromkeys(b.strip() for b in str(bins).split(",") if b.strip()))
            bad = [b for b in given if not is_valid(b) or len(b) != 12]
            if not given or bad:
                raise ValueError(f"bins must be comma-separated checksum-valid 12-digit BINs, got {bad or bins!r}")
            self.bins = given
        age = str(kwargs.get("max_age_days", "30"))
        if not age.isdigit():
            raise ValueError(f"max_age_days must be a whole number of days, got {age!r}")
        self.max_age = timedelta(days=int(age))

    # ------------------------------------------------------------------------------------- plan
    def plan_units(self) -> list[str]:
        url = self.crawler.settings.get("ASHYQ_DATABASE_URL") or database_url()
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                if self.bins is None:
                    query = (select(Organization.bin).where(Organization.bin.is_not(None),
                                                             Organization.bin_valid.is_(True))
                             .distinct().order_by(Organization.bin))
                    bins = [b for (b,) in conn.execute(query) if b]
                else:
                    bins = list(self.bins)
                latest = dict(conn.execute(
                    select(RawRecord.external_id, func.max(RawRecord.fetched_at))
                    .where(RawRecord.source == self.source, RawRecord.record_type == RECORD_TYPE)
                    .group_by(RawRecord.external_id)).all())
        finally:
            engine.dispose()
        cutoff = datetime.now(UTC) - self.max_age
        fresh = {b for b, at in latest.items() if at is not None and at > cutoff} if self.max_age else set()
        todo = [b for b in bins if b not in fresh]
        skipped = len(bins) - len(todo)
        self.crawler.stats.set_value("statgov/skipped_fresh", skipped)
        self.logger.info("%d BINs: %d fetched within %d days (skipped), %d to fetch", len(bins), skipped,
                         self.max_age.days, len(todo))
        return [f"bin:{b}" for b in todo]

    def begin_unit(self, uid: str) -> Output:
        bin_ = uid.removeprefix("bin:")
        url = f"{self.base_url}{PATH}?bin={bin_}&lang=ru"
        yield from self.send(self.spec(uid, "company", url, f"company card {bin_}", bin=bin_,
                                       headers={"Accept": "application/json"}))

    # ---------------------------------------------------------------------------------- answers
    def handle(self, spec: Spec, data: Any, response: Response, fetched_at: datetime) -> Output:
        bin_ = spec["bin"]
        reason = None
        if not isinstance(data, dict) or not isinstance(data.get("success"), bool):
            reason = "answer has no boolean `success`"
        elif data["success"]:
            obj = data.get("obj")
            if not isinstance(obj, dict):
                reason = "success without an `obj` card"
            elif str(obj.get("bin")) != bin_:
                reason = f"card is for BIN {obj.get('bin')!r}, not {bin_}"
            else:
                self.crawler.stats.inc_value("statgov/found")
        elif data.get("obj") is not None:
            reason = "success false with an `obj`"
        else:
            self.crawler.stats.inc_value("statgov/not_found")
            if data.get("description") != NOT_FOUND:  # still a clear "no": stored, but say it looked different
                self.logger.warning("BIN %s not found, description %r", bin_, data.get("description"))
        if reason is not None:
            yield self.quarantine_body(response, spec, reason, RECORD_TYPE, bin_)
            self.mark_failed(spec["unit"], f"{self.describe(spec)}: {reason}")
            return
        yield self.raw_item(RECORD_TYPE, bin_, spec["url"], data, fetched_at)
