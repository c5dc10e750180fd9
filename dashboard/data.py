"""Streamlit caches around the query layer: one engine per database URL, query results for a few minutes.

The crawler and the build refresh the database at most a few times a day, so a short TTL keeps pages fast
under many readers while a rebuild shows up within minutes. Every cached function takes the database URL as
its first argument, so two databases (tests, a newsroom's second deployment) never share results.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from dashboard import queries
from dashboard.queries import MemorandumFilter, RegisterFilter

TTL = "10m"


@st.cache_resource(show_spinner=False, on_release=lambda engine: engine.dispose())
def engine_for(url: str) -> Engine:
    return queries.read_engine(url)


@st.cache_data(ttl=TTL, show_spinner=False)
def has_fictional(url: str) -> bool:
    return queries.has_fictional(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def freshness(url: str) -> pd.DataFrame:
    return queries.freshness(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def headline(url: str) -> dict[str, Any]:
    return queries.headline(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def by_legal_basis(url: str) -> pd.DataFrame:
    return queries.by_legal_basis(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def by_year(url: str) -> pd.DataFrame:
    return queries.by_year(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def by_region(url: str) -> pd.DataFrame:
    return queries.by_region(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def top_providers(url: str, limit: int) -> pd.DataFrame:
    return queries.top_providers(engine_for(url), limit)


@st.cache_data(ttl=TTL, show_spinner=False)
def years(url: str) -> list[int]:
    return queries.years(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def legal_bases(url: str) -> list[str]:
    return queries.legal_bases(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def register_summary(url: str, f: RegisterFilter) -> dict[str, Any]:
    return queries.register_summary(engine_for(url), f)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def register_rows(url: str, f: RegisterFilter, limit: int) -> pd.DataFrame:
    return queries.register_rows(engine_for(url), f, limit)


def register_csv(url: str, f: RegisterFilter) -> bytes:
    """Not cached: built only when a reader clicks the download button, possibly millions of rows."""
    return queries.register_csv(engine_for(url), f)


# Evidence and memoranda: small result sets, cached like the rest (a rebuild shows up within the TTL).
@st.cache_data(ttl=TTL, show_spinner=False, max_entries=256)
def engagement(url: str, engagement_id: str) -> dict[str, Any] | None:
    return queries.engagement(engine_for(url), engagement_id)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=256)
def engagement_evidence(url: str, engagement_id: str) -> dict[str, pd.DataFrame]:
    """Everything the detail section shows for one engagement: raw records, memoranda (+ parties, documents), PPP."""
    engine = engine_for(url)
    eng = queries.engagement(engine, engagement_id)
    if eng is None:
        return {}
    memoranda = queries.engagement_memoranda(engine, eng)
    ids = list(memoranda["memorandum_id"])
    return {
        "raw": queries.evidence_records(engine, queries.raw_ids(eng["evidence_raw_ids"])),
        "memoranda": memoranda,
        "parties": queries.memorandum_parties(engine, ids),
        "documents": queries.memorandum_documents(engine, ids),
        "ppp": queries.engagement_ppp(engine, eng),
    }


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def memoranda_rows(url: str, f: MemorandumFilter) -> pd.DataFrame:
    return queries.memoranda_rows(engine_for(url), f)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def memoranda_count(url: str, f: MemorandumFilter) -> int:
    return queries.memoranda_count(engine_for(url), f)


@st.cache_data(ttl=TTL, show_spinner=False)
def memoranda_years(url: str) -> list[int]:
    return queries.memoranda_years(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def memoranda_languages(url: str) -> list[str]:
    return queries.memoranda_languages(engine_for(url))


def memoranda_csv(url: str, f: MemorandumFilter) -> bytes:
    return queries.memoranda_csv(engine_for(url), f)
