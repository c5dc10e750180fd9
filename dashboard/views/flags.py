"""Red flags: what the rules found, explained in the reader's language, with thresholds, verdict and sources.

URL: `flags?code=<rule>&region=<KATO 2>&state=open|justified|unjustified` (repeatable; bound widgets write the
labels of the UI language, and a link may name codes in any language). The explanation is rendered from the
flag's `code` and the `thresholds` it was computed with, through the templates `flag.<code>.text` of the
locale files (`flags.json`); a code with no template falls back to the English text the build stored. The page
is read-only: a flag is adjudicated only with `ashyq flag justified|unjustified ID --note …`.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data_pages
from dashboard.data_pages import page_link
from dashboard.i18n import current_lang, t, translate
from dashboard.queries_flags import (
    FLAGS_LIMIT,
    SEVERITIES,
    STATES,
    FlagFilter,
    explain,
    flag_title,
    legal_sources,
    rule_codes,
    threshold_text,
)
from dashboard.ui import (
    escape_md,
    format_datetime,
    format_int,
    region_codes,
    region_name,
    safe_link,
    seed_codes_from_url,
)

DETAILS = 25  # flags explained in full below the table; the table and the CSV hold the rest


def _state_label(state: str, _lang: str | None = None) -> str:
    return translate(_lang or current_lang(), f"flags.state.{state}")


def _filters(url: str) -> FlagFilter:
    codes = list(dict.fromkeys(rule_codes() + data_pages.flag_codes(url)))
    regions = sorted(set(region_codes()) | set(data_pages.flag_regions(url)), key=region_name)
    seed_codes_from_url("code", codes, flag_title)
    seed_codes_from_url("region", regions, region_name)
    seed_codes_from_url("state", list(STATES), _state_label)
    cols = st.columns([3, 2, 2])
    code = cols[0].multiselect(
        t("flags.filter.code"), codes, format_func=lambda code: flag_title(code, current_lang()), key="code", bind="query-params",
        placeholder=t("filter.all"),
    )  # fmt: skip
    region = cols[1].multiselect(
        t("filter.region"), regions, format_func=region_name, key="region", bind="query-params",
        placeholder=t("filter.all"),
    )  # fmt: skip
    state = cols[2].multiselect(
        t("flags.filter.state"), list(STATES), format_func=_state_label, key="state", bind="query-params",
        placeholder=t("filter.all"),
    )  # fmt: skip
    return FlagFilter(codes=tuple(code), regions=tuple(region), states=tuple(state))


def _subject_link(kind: str, subject_id: str) -> str | None:
    if kind in ("organization", "person"):
        return page_link("entity", id=subject_id)
    if kind == "engagement":
        return page_link("register", engagement=subject_id)
    return None


def _links(urls: Any) -> list[str]:
    return [u for u in (safe_link(x) for x in (urls or [])) if u is not None]


def _first_link(urls: Any) -> str | None:
    """The first safe link only: the table shows one, and checking every URL of a thousand flags costs."""
    return next((u for u in (safe_link(x) for x in (urls or [])) if u is not None), None)


def _times(values: Any) -> list[str]:
    """Timestamps formatted once per distinct value (a stage run stamps thousands of flags alike)."""
    stamps = pd.to_datetime(pd.Series(list(values), dtype=object), utc=True)
    text = {v: format_datetime(v) for v in stamps.dropna().unique()}
    return [text[v] if not pd.isna(v) else "—" for v in stamps]


def _params_text(params: Any) -> str:
    return "; ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in (params or {}).items())


def _display(rows: pd.DataFrame) -> pd.DataFrame:
    lang = current_lang()
    return pd.DataFrame(
        {
            "severity": [t(f"flags.severity.{s}") if s in SEVERITIES else s for s in rows["severity"]],
            "title": [flag_title(c, lang) for c in rows["code"]],
            "subject_name": [n if isinstance(n, str) else s for n, s in zip(rows["subject_name"], rows["subject_id"], strict=True)],
            "subject_link": [_subject_link(k, s) for k, s in zip(rows["subject_kind"], rows["subject_id"], strict=True)],
            "region": [region_name(r, lang) for r in rows["region_kato"]],
            "state": [_state_label(s, lang) for s in rows["state"]],
            "note": rows["note"],
            "explanation": [
                explain(c, th, ex, lang) for c, th, ex in zip(rows["code"], rows["thresholds"], rows["explanation"], strict=True)
            ],
            "params": [_params_text(p) for p in rows["params"]],
            "source_url": [_first_link(u) for u in rows["source_urls"]],
            "retrieved_at": _times(rows["retrieved_at"]),
            "computed_at": _times(rows["computed_at"]),
            "id": rows["id"],
        }
    )  # fmt: skip


def _table(rows: pd.DataFrame) -> None:
    st.dataframe(
        _display(rows),
        hide_index=True,
        key="flags_table",
        column_config={
            "severity": st.column_config.TextColumn(t("flags.col.severity")),
            "title": st.column_config.TextColumn(t("flags.col.title"), width="medium"),
            "subject_name": st.column_config.TextColumn(t("flags.col.subject"), width="medium"),
            "subject_link": st.column_config.LinkColumn(
                t("flags.col.card"), display_text=t("network.open_card")
            ),
            "region": st.column_config.TextColumn(t("col.region")),
            "state": st.column_config.TextColumn(t("flags.col.state")),
            "note": st.column_config.TextColumn(t("flags.col.note"), width="medium"),
            "explanation": st.column_config.TextColumn(t("flags.col.explanation"), width="large"),
            "params": st.column_config.TextColumn(t("flags.col.params"), width="medium"),
            "source_url": st.column_config.LinkColumn(t("col.source_url"), display_text=t("col.source_link")),
            "retrieved_at": st.column_config.TextColumn(t("col.fetched_at")),
            "computed_at": st.column_config.TextColumn(t("flags.col.computed_at")),
            "id": st.column_config.TextColumn(t("flags.col.id")),
        },
    )


def _details(row: Any) -> None:
    lang = current_lang()
    subject = row.subject_name if isinstance(row.subject_name, str) else row.subject_id
    header = f"{t(f'flags.severity.{row.severity}') if row.severity in SEVERITIES else row.severity} · {flag_title(row.code, lang)} · {subject}"
    with st.expander(escape_md(header)):
        st.markdown(escape_md(explain(row.code, row.thresholds, row.explanation, lang)))
        thresholds = row.thresholds or {}
        if thresholds:
            st.markdown(
                f"**{t('flags.thresholds')}:** "
                + "; ".join(
                    f"{escape_md(k)} = {escape_md(threshold_text(k, v, lang))}" for k, v in thresholds.items()
                )
            )
        if row.params:
            st.markdown(f"**{t('flags.col.params')}:** {escape_md(_params_text(row.params))}")
        if isinstance(row.legal_reference, str) and row.legal_reference:
            legal = legal_sources().get(row.legal_reference, row.legal_reference)
            st.markdown(f"**{t('flags.legal_reference')}:** {escape_md(legal)}")
        state = _state_label(row.state)
        if row.state == "open":
            st.markdown(f"**{t('flags.col.state')}:** {state}")
        else:
            when = format_datetime(pd.to_datetime(row.adjudicated_at, utc=True))
            note = escape_md(row.note) if isinstance(row.note, str) and row.note else "—"
            st.markdown(
                f"**{t('flags.col.state')}:** {state} ({escape_md(row.adjudicated_by or '—')}, {when}) — {note}"
            )
        link = _subject_link(row.subject_kind, row.subject_id)
        if link is not None:
            st.markdown(f"[{t('network.open_card')}: {escape_md(subject)}]({link})")
        urls = _links(row.source_urls)
        if urls:
            st.markdown(f"**{t('flags.sources')}:** " + " · ".join(f"[{escape_md(u)}]({u})" for u in urls))
        st.caption(
            t(
                "flags.id_caption",
                id=escape_md(row.id),
                computed=format_datetime(pd.to_datetime(row.computed_at, utc=True)),
            )
        )


def render() -> None:
    """The flags page."""
    url = st.session_state["database_url"]
    st.title(t("flags.title"))
    st.caption(t("flags.intro"))
    st.info(t("flags.readonly"), icon=":material/gavel:")
    f = _filters(url)
    count = data_pages.flags_count(url, f)
    if count == 0:
        st.info(t("flags.none"))
        return
    st.markdown(t("flags.found", count=format_int(count)))
    st.download_button(
        t("register.download"), data=lambda: data_pages.flags_csv(url, f),
        file_name=f"ashyq-flags-{date.today():%Y%m%d}.csv",  # noqa: DTZ011 - a file name, local date
        mime="text/csv", on_click="ignore", icon=":material/download:", key="download_flags_csv",
    )  # fmt: skip
    if count > FLAGS_LIMIT:
        st.caption(t("register.truncated", limit=format_int(FLAGS_LIMIT)))
    rows = data_pages.flags_rows(url, f)
    _table(rows)
    st.subheader(t("flags.details_header"))
    if len(rows) > DETAILS:
        st.caption(t("flags.details_limit", limit=DETAILS))
    for row in rows.head(DETAILS).itertuples(index=False):
        _details(row)


render()
