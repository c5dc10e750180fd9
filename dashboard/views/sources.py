"""Data and sources: what was crawled when, how much of each source the database holds, how fresh and how
complete it is, and which records were quarantined (could not be stored or normalized) and why.

URL: `sources` (no parameters: the page is one view). Every table downloads as CSV with a BOM; the quarantine
CSV holds every quarantined record, the table the newest `QUARANTINE_LIMIT`. Quarantine reasons, URLs and
crawl arguments are shown as plain text in grid cells; only http(s) URLs become links.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data_pages
from dashboard.i18n import t
from dashboard.queries_sources import QUARANTINE_LIMIT, frame_csv
from dashboard.ui import format_datetime, format_int, format_percent, safe_link

TODAY = "%Y%m%d"


def _json_text(value: Any) -> str:
    return json.dumps(value or {}, ensure_ascii=False, sort_keys=True)


def _csv_button(frame: pd.DataFrame, stem: str, key: str) -> None:
    st.download_button(
        t("sources.download_csv"), data=lambda: frame_csv(frame),
        file_name=f"ashyq-{stem}-{date.today():{TODAY}}.csv",  # noqa: DTZ011 - a file name, local date
        mime="text/csv", on_click="ignore", icon=":material/download:", key=key,
    )  # fmt: skip


def _age_days(value: Any) -> int | None:
    if value is None or pd.isna(value):
        return None
    return (datetime.now(UTC) - pd.Timestamp(value).to_pydatetime()).days


def _runs(url: str) -> None:
    st.subheader(t("sources.runs_header"))
    runs = data_pages.crawl_runs(url)
    if runs.empty:
        st.caption(t("sources.no_runs"))
        return
    frame = pd.DataFrame(
        {
            "source": runs["source"],
            "started_at": [format_datetime(v) for v in pd.to_datetime(runs["started_at"], utc=True)],
            "finished_at": [format_datetime(v) for v in pd.to_datetime(runs["finished_at"], utc=True)],
            "status": runs["status"],
            "args": [_json_text(v) for v in runs["spider_args"]],
            "stats": [_json_text(v) for v in runs["stats"]],
            "id": runs["id"],
        }
    )
    _csv_button(frame, "crawl-runs", "download_runs_csv")
    st.dataframe(
        frame,
        hide_index=True,
        key="sources_runs",
        column_config={
            "source": st.column_config.TextColumn(t("sources.col.source")),
            "started_at": st.column_config.TextColumn(t("sources.col.started_at")),
            "finished_at": st.column_config.TextColumn(t("sources.col.finished_at")),
            "status": st.column_config.TextColumn(t("sources.col.status")),
            "args": st.column_config.TextColumn(t("sources.col.args"), width="medium"),
            "stats": st.column_config.TextColumn(t("sources.col.stats"), width="large"),
            "id": st.column_config.NumberColumn(t("sources.col.run_id")),
        },
    )


def _coverage(url: str) -> None:
    st.subheader(t("sources.coverage_header"))
    raw = data_pages.raw_coverage(url)
    if raw.empty:
        st.caption(t("footer.no_raw"))
    else:
        frame = pd.DataFrame(
            {
                "source": raw["source"],
                "record_type": raw["record_type"],
                "records": raw["records"],
                "first_fetched": [format_datetime(v) for v in raw["first_fetched"]],
                "last_fetched": [format_datetime(v) for v in raw["last_fetched"]],
                "age_days": [_age_days(v) for v in raw["last_fetched"]],
            }
        )
        _csv_button(frame, "coverage", "download_coverage_csv")
        st.dataframe(
            frame,
            hide_index=True,
            key="sources_coverage",
            column_config={
                "source": st.column_config.TextColumn(t("sources.col.source")),
                "record_type": st.column_config.TextColumn(t("col.record_type")),
                "records": st.column_config.NumberColumn(t("sources.col.records"), format="localized"),
                "first_fetched": st.column_config.TextColumn(t("sources.col.first_fetched")),
                "last_fetched": st.column_config.TextColumn(t("sources.col.last_fetched")),
                "age_days": st.column_config.NumberColumn(
                    t("sources.col.age_days"), help=t("sources.col.age_days_help")
                ),
            },
        )
    cov = data_pages.engagement_coverage(url)
    total = int(cov["engagements"] or 0)
    cols = st.columns(4)
    cols[0].metric(t("sources.metric.engagements"), format_int(total))
    cols[1].metric(t("sources.metric.with_region"), format_percent(int(cov["with_region"] or 0), total))
    cols[2].metric(t("sources.metric.with_both"), format_percent(int(cov["with_both"] or 0), total))
    cols[3].metric(t("sources.metric.with_provider"), format_percent(int(cov["with_provider"] or 0), total))
    first, last = cov["first_signed"], cov["last_signed"]
    if first is not None:
        st.caption(t("sources.signed_range", first=str(first)[:10], last=str(last)[:10]))


def _quarantine(url: str) -> None:
    st.subheader(t("sources.quarantine_header"))
    st.caption(t("sources.quarantine_intro"))
    count = data_pages.quarantine_count(url)
    if count == 0:
        st.caption(t("sources.no_quarantine"))
        return
    summary = data_pages.quarantine_summary(url)
    st.dataframe(
        pd.DataFrame(
            {
                "source": summary["source"],
                "stage": summary["stage"],
                "records": summary["records"],
                "last_at": [format_datetime(v) for v in summary["last_at"]],
            }
        ),
        hide_index=True,
        key="sources_quarantine_summary",
        column_config={
            "source": st.column_config.TextColumn(t("sources.col.source")),
            "stage": st.column_config.TextColumn(t("sources.col.stage")),
            "records": st.column_config.NumberColumn(t("sources.col.records")),
            "last_at": st.column_config.TextColumn(t("sources.col.last_at")),
        },
    )
    st.download_button(
        t("sources.quarantine_csv", count=format_int(count)), data=lambda: data_pages.quarantine_csv(url),
        file_name=f"ashyq-quarantine-{date.today():{TODAY}}.csv",  # noqa: DTZ011 - a file name, local date
        mime="text/csv", on_click="ignore", icon=":material/download:", key="download_quarantine_csv",
    )  # fmt: skip
    if count > QUARANTINE_LIMIT:
        st.caption(t("register.truncated", limit=format_int(QUARANTINE_LIMIT)))
    rows = data_pages.quarantine_rows(url)
    st.dataframe(
        pd.DataFrame(
            {
                "created_at": [format_datetime(v) for v in pd.to_datetime(rows["created_at"], utc=True)],
                "source": rows["source"],
                "stage": rows["stage"],
                "reason": rows["reason"],
                "link": [safe_link(h) or safe_link(u) for h, u in zip(rows["raw_human_url"], rows["url"], strict=True)],
                "url": rows["url"],
                "record_type": rows["record_type"],
                "external_id": rows["external_id"],
                "raw_record_id": rows["raw_record_id"],
            }
        ),
        hide_index=True,
        key="sources_quarantine",
        column_config={
            "created_at": st.column_config.TextColumn(t("sources.col.created_at")),
            "source": st.column_config.TextColumn(t("sources.col.source")),
            "stage": st.column_config.TextColumn(t("sources.col.stage")),
            "reason": st.column_config.TextColumn(t("sources.col.reason"), width="large"),
            "link": st.column_config.LinkColumn(t("col.source_url"), display_text=t("col.source_link")),
            "url": st.column_config.TextColumn(t("sources.col.url"), width="medium"),
            "record_type": st.column_config.TextColumn(t("col.record_type")),
            "external_id": st.column_config.TextColumn(t("col.external_id")),
            "raw_record_id": st.column_config.NumberColumn(t("sources.col.raw_record_id")),
        },
    )  # fmt: skip


def render() -> None:
    """The data and sources page."""
    url = st.session_state["database_url"]
    st.title(t("sources.title"))
    st.caption(t("sources.intro"))
    _runs(url)
    _coverage(url)
    _quarantine(url)


render()
