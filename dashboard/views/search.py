"""Search: organizations, persons and public bodies by name in any script, by BIN or by IIN (`?q=`).

The query is a text input bound to the URL parameter `q`, so a search is a link. An IIN is only ever hashed
(`entities.identifiers.iin_hash`) to find its holder; it is not echoed back, logged or shown in a result.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data_entity
from dashboard.entity_ui import csv_button, entity_href, entity_link
from dashboard.i18n import t
from dashboard.ui import escape_md, region_name

SHOWN_LINKS = 20  # results listed as links; the table below holds all of them


def _kind_label(kind: str) -> str:
    text = t(f"kind.{kind}")
    return kind if text == f"kind.{kind}" else text


def _results(hits: pd.DataFrame) -> None:
    st.markdown(t("search.found", count=len(hits)))
    for hit in hits.head(SHOWN_LINKS).itertuples():
        cols = st.columns([5, 2, 2])
        with cols[0]:
            entity_link(hit.entity_id, hit.name)
        cols[1].caption(escape_md(_kind_label(hit.kind)))
        cols[2].caption(
            escape_md(f"{t('search.bin')} {hit.bin}" if hit.bin else region_name(hit.region_kato))
        )
    shown = pd.DataFrame(
        {
            "link": [entity_href(i) for i in hits["entity_id"]],
            "name": hits["name"],
            "other_names": hits["other_names"],
            "kind": [_kind_label(k) for k in hits["kind"]],
            "bin": hits["bin"],
            "region": [region_name(c) if c else "" for c in hits["region_kato"]],
            "score": hits["score"].round(0),
            "entity_id": hits["entity_id"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="search_table",
        column_config={
            "link": st.column_config.LinkColumn(t("search.col.card"), display_text=t("search.open")),
            "name": st.column_config.TextColumn(t("search.col.name"), width="large"),
            "other_names": st.column_config.TextColumn(t("search.col.other_names"), width="medium"),
            "kind": st.column_config.TextColumn(t("search.col.kind")),
            "bin": st.column_config.TextColumn(t("search.bin")),
            "region": st.column_config.TextColumn(t("col.region")),
            "score": st.column_config.NumberColumn(t("search.col.score"), help=t("search.col.score_help")),
            "entity_id": st.column_config.TextColumn(t("search.col.entity_id")),
        },
    )
    csv_button(hits, "search", key="search_csv")


def render() -> None:
    url = st.session_state["database_url"]
    st.title(t("search.title"))
    st.caption(t("search.intro"))
    query = st.text_input(
        t("search.label"),
        key="q",
        bind="query-params",
        placeholder=t("search.placeholder"),
        help=t("search.help"),
    ).strip()
    if not query:
        st.info(t("search.empty"))
        return
    hits = data_entity.search(url, query)
    if hits.empty:
        st.info(t("search.none"))
        return
    _results(hits)


render()
