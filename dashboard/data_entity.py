"""Streamlit caches around `dashboard/queries_entity.py` (search, entity card, region), like `dashboard/data.py`.

Every cached function takes the database URL first, so two databases never share results; the engine is the
one `dashboard.data.engine_for` keeps per URL.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import queries_entity as q
from dashboard.data import TTL, engine_for
from dashboard.queries_entity import RegionFilter


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=256)
def search(url: str, query: str) -> pd.DataFrame:
    return q.search(engine_for(url), query)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=256)
def card(url: str, entity_id: str) -> dict[str, Any] | None:
    """Everything an entity card shows, in one cached call (one page view = one cache entry)."""
    engine = engine_for(url)
    kind = q.entity_kind(entity_id)
    entity = None if kind == "person" else q.organization(engine, entity_id)
    if entity is not None:
        kind = "organization"
    else:
        entity = q.person(engine, entity_id)
        kind = "person"
    if entity is None:
        return None
    out: dict[str, Any] = {
        "kind": kind,
        "entity": entity,
        "names": q.names_seen(engine, entity_id, kind),
        "links": q.merge_links(engine, entity_id),
        "people": q.people(engine, entity_id, kind),
        "flags": q.flags_about(engine, entity_id),
        "sources": q.sources(engine, entity_id, kind, entity.get("raw_record_id")),
    }
    if kind == "organization":
        out["engagements"] = q.engagements(engine, entity_id)
        out["totals"], out["timeline"] = q.totals_and_timeline(engine, entity_id)
        out["tenders"] = q.tenders(engine, entity.get("bin"))
    else:
        out["engagements"] = pd.DataFrame(columns=list(q.ENGAGEMENT_COLUMNS))
        out["totals"] = pd.DataFrame(columns=["role", "legal_basis", "engagements", "amount_kzt"])
        out["timeline"] = pd.DataFrame(columns=["year", "role", "engagements", "amount_kzt"])
        out["tenders"] = pd.DataFrame(columns=list(q.TENDER_COLUMNS))
    return out


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def region(url: str, f: RegionFilter) -> dict[str, Any]:
    """Everything the region page shows for one region (and district)."""
    return q.region_view(engine_for(url), f)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def districts(url: str, kato: str) -> list[str]:
    return q.region_districts(engine_for(url), kato)
