"""Streamlit caches for the network, flags and sources pages (same pattern as `dashboard/data.py`).

Each cached function takes the database URL first, so two databases never share results; the engine is the
one `dashboard.data.engine_for` keeps per URL. CSV builders are not cached: they run only when clicked.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from dashboard import queries_flags, queries_network, queries_sources
from dashboard.data import TTL, engine_for
from dashboard.i18n import current_lang
from dashboard.queries_flags import FlagFilter
from dashboard.queries_network import Network, PathResult


def page_link(path: str, **params: str) -> str:
    """A relative link to another page of the app (`entity?id=…`), carrying the UI language."""
    return f"{path}?{urlencode({**params, 'lang': current_lang()})}"


# ---------------------------------------------------------------------------------------------- network
# The graph (`pipeline.graph.load_graph`) is read once per process and database state: seconds at 100,000
# contracts, a minute or more at 1,000,000. It loads in a background thread, so no script run waits for it;
# the network page polls until it is there. One worker: two readers never load the same graph twice.
_GRAPH_LOADER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ashyq-graph")


@st.cache_resource(show_spinner=False)
def graph_loading(url: str) -> Future[Any]:
    """The background load of `url`'s graph (started by the first caller, shared by every session)."""
    return _GRAPH_LOADER.submit(queries_network.graph_of, engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=256)
def resolve_entity(url: str, ref: str) -> str | None:
    return queries_network.resolve_entity_ref(engine_for(url), ref)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=128)
def ego(url: str, centre: str, depth: int, cap: int, lang: str) -> Network:
    return queries_network.ego(engine_for(url), centre, depth, cap, lang)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=128)
def path(url: str, start: str, goal: str, hub_degree: int | None, lang: str) -> PathResult:
    return queries_network.shortest_path(engine_for(url), start, goal, hub_degree=hub_degree, lang=lang)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def labels(url: str, ids: tuple[str, ...], lang: str) -> pd.DataFrame:
    return queries_network.node_frame(engine_for(url), ids, lang)


# ------------------------------------------------------------------------------------------------ flags
@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def flags_rows(url: str, f: FlagFilter) -> pd.DataFrame:
    return queries_flags.flags_rows(engine_for(url), f)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def flags_count(url: str, f: FlagFilter) -> int:
    return queries_flags.flags_count(engine_for(url), f)


@st.cache_data(ttl=TTL, show_spinner=False)
def flag_codes(url: str) -> list[str]:
    return queries_flags.flag_codes(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def flag_regions(url: str) -> list[str]:
    return queries_flags.flag_regions(engine_for(url))


def flags_csv(url: str, f: FlagFilter) -> bytes:
    return queries_flags.flags_csv(engine_for(url), f)


# ---------------------------------------------------------------------------------------------- sources
@st.cache_data(ttl=TTL, show_spinner=False)
def crawl_runs(url: str) -> pd.DataFrame:
    return queries_sources.crawl_runs(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def raw_coverage(url: str) -> pd.DataFrame:
    return queries_sources.raw_coverage(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def engagement_coverage(url: str) -> dict[str, Any]:
    return queries_sources.engagement_coverage(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def quarantine_summary(url: str) -> pd.DataFrame:
    return queries_sources.quarantine_summary(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def quarantine_count(url: str) -> int:
    return queries_sources.quarantine_count(engine_for(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def quarantine_rows(url: str) -> pd.DataFrame:
    return queries_sources.quarantine_rows(engine_for(url))


def quarantine_csv(url: str) -> bytes:
    return queries_sources.quarantine_csv(engine_for(url))


# ------------------------------------------------------------------------------------- network (added)
def graph_current(url: str) -> bool:
    """Whether the process holds `url`'s graph as now stored (not cached: two index lookups, no load)."""
    return queries_network.graph_is_current(engine_for(url))
