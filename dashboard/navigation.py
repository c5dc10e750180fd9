"""The app's pages, built in one place so `app.py` and in-page links agree on titles and URL paths.

Pages are script files under `views/` (Streamlit runs them inside the frame of `app.py`); page identity is
the URL path, so a link made with a fresh `Page` object finds the page that `st.navigation` registered.
Icons are Material Symbols, whose font ships inside Streamlit (no emoji font or network needed).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.i18n import t

VIEWS = Path(__file__).resolve().parent / "views"


def overview_page() -> st.Page:
    # The default page is served at "/" only; shareable deep links go to the other pages.
    return st.Page(
        VIEWS / "overview.py",
        title=t("nav.overview"),
        icon=":material/insights:",
        url_path="overview",
        default=True,
    )


def register_page() -> st.Page:
    return st.Page(
        VIEWS / "register.py", title=t("nav.register"), icon=":material/table_view:", url_path="register"
    )


def memoranda_page() -> st.Page:
    return st.Page(
        VIEWS / "memoranda.py", title=t("nav.memoranda"), icon=":material/handshake:", url_path="memoranda"
    )


def search_page() -> st.Page:
    return st.Page(VIEWS / "search.py", title=t("nav.search"), icon=":material/search:", url_path="search")


def entity_page() -> st.Page:
    # Hidden: reached from search results, tables and shared links (`/entity?id=<stable id>`).
    return st.Page(
        VIEWS / "entity.py",
        title=t("nav.entity"),
        icon=":material/badge:",
        url_path="entity",
        visibility="hidden",
    )


def region_page() -> st.Page:
    return st.Page(VIEWS / "region.py", title=t("nav.region"), icon=":material/map:", url_path="region")


def network_page() -> st.Page:
    return st.Page(VIEWS / "network.py", title=t("nav.network"), icon=":material/hub:", url_path="network")


def flags_page() -> st.Page:
    return st.Page(VIEWS / "flags.py", title=t("nav.flags"), icon=":material/flag:", url_path="flags")


def sources_page() -> st.Page:
    return st.Page(
        VIEWS / "sources.py", title=t("nav.sources"), icon=":material/database:", url_path="sources"
    )


def pages() -> list[st.Page]:
    return [
        overview_page(),
        search_page(),
        register_page(),
        region_page(),
        network_page(),
        flags_page(),
        memoranda_page(),
        sources_page(),
        entity_page(),
    ]
