"""Downloader middlewares: retries with exponential backoff, and a Bearer token that never touches the disk.

Scrapy 2.19's RetryMiddleware retries at once (it has no backoff setting and ignores `Retry-After`), and it
only looks at status codes. A public API that answers 429 wants us to wait, and goszakup's gateway has been
seen to cut bodies short with HTTP 200, so the subclass below adds the wait and treats a body that is not
JSON (for requests that expect JSON) as one more transient failure. Everything else — which codes and
exceptions count, how many times, the `retry/*` stats — stays Scrapy's.
"""

from __future__ import annotations

import json
import logging
import os
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Self

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.asyncio import sleep
from scrapy.utils.response import response_status_message

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

log = logging.getLogger(__name__)

# Request meta keys the spiders set.
EXPECT_JSON = "expect_json"  # retry a 200 whose body is not JSON
BEARER = "bearer_token_env"  # name of the environment variable holding this request's Bearer token

MALFORMED_REASON = "malformed JSON body"


def backoff_delay(attempt: int, base: float, cap: float, jitter: float | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1-based): base·2^(attempt-1), capped, with equal jitter.

    Equal jitter (half fixed, half random) keeps the exponential growth but stops parallel requests that
    failed together from retrying together.
    """
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    fraction = random.random() if jitter is None else jitter
    return delay / 2 + delay / 2 * fraction


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """A `Retry-After` header as seconds: either delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_json_body(response: Response) -> bool:
    """True when the body parses as JSON. TextResponse caches the result, so the spider does not parse twice."""
    decode = getattr(response, "json", None)
    try:
        if decode is not None:
            decode()
        else:
            json.loads(response.body)
    except ValueError:  # JSONDecodeError and undecodable text are both ValueErrors
        return False
    return True


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware plus exponential backoff, `Retry-After`, and retrying truncated JSON bodies.

    Settings: RETRY_BACKOFF_BASE (seconds before the first retry, doubled each time) and RETRY_BACKOFF_MAX
    (cap, also applied to `Retry-After`). The wait happens inside the middleware, so the request keeps its
    place in the global concurrency budget while it waits: a server that asks us to slow down gets fewer
    requests, not the same number later.
    """

    backoff_base: float
    backoff_max: float

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        mw = super().from_crawler(crawler)
        mw.backoff_base = crawler.settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        mw.backoff_max = crawler.settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        return mw

    def _delay(self, request: Request, response: Response | None) -> float:
        attempt = request.meta.get("retry_times", 0) + 1
        delay = backoff_delay(attempt, self.backoff_base, self.backoff_max)
        if response is not None:
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
            if asked is not None:
                delay = max(delay, min(asked, self.backoff_max))
        return delay

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False):
            return response
        if response.status in self.retry_http_codes:
            reason = response_status_message(response.status)
        elif request.meta.get(EXPECT_JSON) and response.status == 200 and not is_json_body(response):
            self.crawler.stats.inc_value("retry/malformed_body")  # type: ignore[union-attr]
            reason = MALFORMED_REASON
        else:
            return response
        delay = self._delay(request, response)
        retry = self._retry(request, reason)
        if retry is None:  # retries exhausted: the spider sees the failure and reports it
            return response
        await sleep(delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        delay = self._delay(request, None)
        retry = self._retry(request, exception)
        if retry is None:
            return None
        await sleep(delay)
        return retry


class BearerTokenMiddleware:
    """Adds `Authorization: Bearer <token>` at download time and strips it again from the request afterwards.

    A request carries only the *name* of the environment variable (meta `bearer_token_env`), never the
    token: Scrapy pickles queued requests into JOBDIR, and a retry is a copy of the request as downloaded.
    This middleware sits after RetryMiddleware (higher order), so on the way back it removes the header
    before the retry copy is made. The token is read once and never logged.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:  # noqa: ARG003 - Scrapy's factory signature
        return cls()

    def _token(self, env_name: str) -> str | None:
        if env_name not in self._tokens:
            value = os.environ.get(env_name, "").strip()
            if not value:
                return None
            self._tokens[env_name] = value
        return self._tokens[env_name]

    def process_request(self, request: Request) -> None:
        env_name = request.meta.get(BEARER)
        if env_name:
            token = self._token(env_name)
            if token is not None:
                request.headers[b"Authorization"] = f"Bearer {token}".encode()

    def process_response(self, request: Request, response: Response) -> Response:
        request.headers.pop(b"Authorization", None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> Any:  # noqa: ARG002
        request.headers.pop(b"Authorization", None)
        return None
