"""Data and sources page queries: crawl runs, raw-record coverage, engagement coverage, quarantine.

Everything is aggregated in the database (GROUP BY over indexed or small tables) or limited; the quarantine CSV
streams every row in batches. `frame_csv` is the CSV of any table the B pages show (UTF-8 with a BOM, cells
as `ashyq export` writes them). Source texts (quarantine reasons and bodies, URLs) come back raw and untrusted.
Unverified about real sources: `crawl_runs.stats` holds whatever Scrapy's stats collector reported; its keys
differ by spider and are shown as they are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Engine, case, func, select

from dashboard.queries import _frame
from entities.models import CrawlRun, Engagement, Quarantine, RawRecord
from pipeline.export import csv_cell

CR = CrawlRun.__table__.c
R = RawRecord.__table__.c
Q = Quarantine.__table__.c
E = Engagement.__table__.c

RUNS_LIMIT = 500
QUARANTINE_LIMIT = 1_000
CSV_BATCH = 5_000
QUARANTINE_COLUMNS = (
    "id",
    "created_at",
    "source",
    "stage",
    "record_type",
    "external_id",
    "reason",
    "url",
    "raw_record_id",
    "raw_human_url",
    "crawl_run_id",
)


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return csv_cell(value)


def frame_csv(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> bytes:
    """A table as CSV: UTF-8 with a BOM so Excel reads Cyrillic and Kazakh, CRLF rows, export-style cells."""
    cols = list(columns) if columns is not None else list(frame.columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(cols)
    for row in frame[cols].itertuples(index=False):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def crawl_runs(engine: Engine, limit: int = RUNS_LIMIT) -> pd.DataFrame:
    """The newest crawl runs: source, arguments, start and end, status, Scrapy's stats."""
    query = (
        select(CR.id, CR.source, CR.spider_args, CR.started_at, CR.finished_at, CR.status, CR.stats)
        .order_by(CR.started_at.desc(), CR.id.desc())
        .limit(limit)
    )
    return _frame(engine, query)


def raw_coverage(engine: Engine) -> pd.DataFrame:
    """Raw records per source and record type, with the first and last fetch time (the freshness)."""
    query = (
        select(
            R.source,
            R.record_type,
            func.count().label("records"),
            func.min(R.fetched_at).label("first_fetched"),
            func.max(R.fetched_at).label("last_fetched"),
        )
        .group_by(R.source, R.record_type)
        .order_by(R.source, R.record_type)
    )
    frame = _frame(engine, query)
    for column in ("first_fetched", "last_fetched"):  # SQLite returns text from aggregates of dates
        frame[column] = pd.to_datetime(frame[column], utc=True, format="mixed")
    return frame


def engagement_coverage(engine: Engine) -> dict[str, Any]:
    """How complete the engagements are: with a region, with resolved buyer/provider, and their date range."""
    resolved = case((E.buyer_id.is_not(None) & E.provider_id.is_not(None), 1), else_=0)
    query = select(
        func.count().label("engagements"),
        func.count(E.region_kato).label("with_region"),
        func.count(E.buyer_id).label("with_buyer"),
        func.count(E.provider_id).label("with_provider"),
        func.coalesce(func.sum(resolved), 0).label("with_both"),
        func.min(E.signed_on).label("first_signed"),
        func.max(E.signed_on).label("last_signed"),
    )
    with engine.connect() as conn:
        row = conn.execute(query).one()
    return dict(row._mapping)


def quarantine_summary(engine: Engine) -> pd.DataFrame:
    """Quarantined records per source and stage, with the latest one's time."""
    query = (
        select(Q.source, Q.stage, func.count().label("records"), func.max(Q.created_at).label("last_at"))
        .group_by(Q.source, Q.stage)
        .order_by(Q.source, Q.stage)
    )
    frame = _frame(engine, query)
    frame["last_at"] = pd.to_datetime(frame["last_at"], utc=True, format="mixed")
    return frame


def _quarantine_select() -> Any:
    return (
        select(
            Q.id,
            Q.created_at,
            Q.source,
            Q.stage,
            Q.record_type,
            Q.external_id,
            Q.reason,
            Q.url,
            Q.raw_record_id,
            R.human_url.label("raw_human_url"),
            Q.crawl_run_id,
        )
        .outerjoin(RawRecord, R.id == Q.raw_record_id)
        .order_by(Q.created_at.desc(), Q.id.desc())
    )


def quarantine_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Quarantine)).scalar_one())


def quarantine_rows(engine: Engine, limit: int = QUARANTINE_LIMIT) -> pd.DataFrame:
    """The newest quarantined records (the offending body is left out: it can be megabytes)."""
    frame = _frame(engine, _quarantine_select().limit(limit))
    return frame if not frame.empty else pd.DataFrame(columns=list(QUARANTINE_COLUMNS))


def quarantine_csv(engine: Engine) -> bytes:
    """Every quarantined record (no limit), streamed from the server in batches."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(QUARANTINE_COLUMNS)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CSV_BATCH).execute(
            _quarantine_select()
        )
        for row in result:
            writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")
