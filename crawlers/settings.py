"""Scrapy settings for every Ashyq spider (`scrapy.cfg` points here; `pipeline.crawl.run_crawl` loads it too).

Per-source politeness (delay, concurrency, timeout, backoff) is set by each spider from its own environment
variables (e.g. `ASHYQ_GOSZAKUP_DELAY`), so the simulator and the benchmark can run fast while the real
host gets the polite defaults below.
"""

from __future__ import annotations

BOT_NAME = "ashyq"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Identify ourselves honestly; the sources are public registers and the project is public.
USER_AGENT = "ashyq/0.1 (+https://github.com/ashyq; open-data research crawler)"

# The APIs we crawl are JSON APIs, not web pages with robots.txt rules; the OWS host serves none.
ROBOTSTXT_OBEY = False

# Politeness defaults for a real host. goszakup documents no rate limit (15 back-to-back calls all
# answered, SOURCE.md §1), so we stay at the level public clients consider polite: one request per second,
# at most two in flight (so one slow page does not stall the crawl). Spiders override these from env.
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# AutoThrottle only ever slows down below DOWNLOAD_DELAY's floor: when the server's latency grows (a loaded
# national register), the delay follows it. The start delay must not exceed DOWNLOAD_DELAY, or a fast run
# against the simulator would begin with Scrapy's default 5 s pause.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# 200-row GraphQL pages of the national register can be slow (REST pages of 500 time out at 30 s, S5).
DOWNLOAD_TIMEOUT = 60

# Transient failures (429, 5xx, timeouts, and a truncated JSON body) are retried by our subclass of Scrapy's
# RetryMiddleware, which adds the exponential backoff Scrapy 2.19 lacks and honours Retry-After.
# Five retries: with 5 % of calls failing independently, six failures in a row happen once in 6·10⁷ calls.
RETRY_ENABLED = True
RETRY_TIMES = 5
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubled on each further attempt
RETRY_BACKOFF_MAX = 60.0  # cap for the computed backoff and for a server's Retry-After
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    # After retry in the request chain, before it in the response chain: the token is added at the last
    # moment and removed before a retry copy is queued, so it never reaches the JOBDIR request queue on disk.
    "crawlers.middlewares.BearerTokenMiddleware": 560,
}

# JSON APIs: no cookies to keep, no referer to tell.
COOKIES_ENABLED = False
REFERRER_POLICY = "no-referrer"

# Spiders import nothing from the pipeline (DESIGN §2): the raw store is wired in here, by dotted path.
ITEM_PIPELINES = {"pipeline.ingest.RawStorePipeline": 300}
RAW_STORE_BATCH = 500

# Scrapy's INFO lines are useful under `scrapy crawl`; `ashyq crawl` quietens them and shows its own progress.
LOG_LEVEL = "INFO"
# The end-of-crawl stats dump is long; the crawl runner summarises it in one line and crawl_runs keeps it.
STATS_DUMP = False
# Progress line every N GraphQL pages (see crawlers.spiders.base).
PROGRESS_EVERY_PAGES = 50

# Scrapy's default; named so the project does not depend on it silently.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
