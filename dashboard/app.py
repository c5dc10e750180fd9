"""Ashyq dashboard: the Streamlit entrypoint. Run with `ashyq dashboard` (or `streamlit run dashboard/app.py`).

This script is the frame around every page: language selector, page navigation, the banner for fictional
data, and the footer with the data's source and freshness. The database comes from `ASHYQ_DATABASE_URL`
(default SQLite under data/); the dashboard only reads it.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dashboard import data
from dashboard.i18n import DEFAULT_LANG, LANGUAGE_NAMES, LANGUAGES, t
from dashboard.navigation import pages
from dashboard.ui import fictional_banner, footer, relabel_bound_widgets
from entities.config import database_url


def main() -> None:
    st.set_page_config(page_title="Ashyq", page_icon=":material/insights:", layout="wide")
    # Chosen first: every title below is translated. Bound to `?lang=`, so a link carries its language; the
    # options are the ISO codes themselves because a bound widget writes what it displays into the URL.
    st.sidebar.segmented_control(
        "Язык · Тіл · Language",
        LANGUAGES,
        default=DEFAULT_LANG,
        required=True,
        key="lang",
        bind="query-params",
        on_change=relabel_bound_widgets,
        help=" · ".join(f"{code}: {name}" for code, name in LANGUAGE_NAMES.items()),
    )
    page = st.navigation(pages())
    st.set_page_config(page_title=f"{page.title} · Ashyq")

    url = database_url()
    st.session_state["database_url"] = url
    try:
        fictional = data.has_fictional(url)
        fresh = data.freshness(url)
    except (SQLAlchemyError, FileNotFoundError) as exc:
        # An absent or unmigrated database is the common first-run mistake; say what to do, not a traceback.
        st.error(
            t(
                "error.database",
                url=make_url(url).render_as_string(hide_password=True),
                detail=type(getattr(exc, "orig", None) or exc).__name__,
            )
        )
        st.stop()
    if fictional:
        fictional_banner()
    page.run()
    footer(fresh)


main()
