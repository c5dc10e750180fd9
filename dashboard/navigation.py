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


def pages() -> list[st.Page]:
    return [overview_page(), register_page(), memoranda_page()]
