"""What the search, entity and region pages share: CSV buttons, entity links, page URLs and «cite this» text.

Names from sources are untrusted: link labels go through `escape_md`, citations through `st.code` (plain text).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from urllib.parse import urlencode, urlsplit, urlunsplit

import pandas as pd
import streamlit as st

from dashboard.i18n import current_lang, t
from dashboard.navigation import entity_page
from dashboard.queries_entity import frame_csv
from dashboard.ui import escape_md, safe_link


def csv_button(frame: pd.DataFrame, name: str, *, key: str, columns: Iterable[str] | None = None) -> None:
    """A download of `frame` as CSV with a BOM (the bytes are small: cards and regions are capped)."""
    st.download_button(
        t("common.download_csv"),
        data=frame_csv(frame, columns),
        file_name=f"ashyq-{name}-{date.today():%Y%m%d}.csv",  # noqa: DTZ011 - a file name, local date
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key=key,
    )


def page_url(path: str, **params: str) -> str:
    """An absolute link to a page of this app (as the browser sees it), carrying the UI language."""
    params = {**params, "lang": current_lang()}
    query = urlencode(params)
    base = st.context.url or ""
    parts = urlsplit(base)
    if parts.scheme in ("http", "https") and parts.netloc:
        root = parts.path.rsplit("/", 1)[0] if not parts.path.endswith("/") else parts.path.rstrip("/")
        return urlunsplit((parts.scheme, parts.netloc, f"{root}/{path}", query, ""))
    return f"/{path}?{query}"


def entity_link(entity_id: str | None, label: object) -> None:
    """A link to an entity card (same tab); the label is source text, so it is escaped."""
    if not entity_id:
        st.markdown(escape_md(label))
        return
    st.page_link(entity_page(), label=escape_md(label) or entity_id, query_params={"id": entity_id})


def entity_href(entity_id: object) -> str | None:
    """A relative URL to an entity card, for a grid's link column."""
    if not isinstance(entity_id, str) or not entity_id:
        return None
    return f"entity?{urlencode({'id': entity_id, 'lang': current_lang()})}"


def source_list(urls: Iterable[object], limit: int = 5) -> list[str]:
    """Distinct http(s) source links, at most `limit` (a citation names a few; the table lists all)."""
    out = [u for u in dict.fromkeys(safe_link(v) for v in urls) if u]
    return out[:limit]


def cite(title: str, url: str, retrieved: date | None, sources: list[str]) -> None:
    """A «cite this» block: plain text a reader can copy (st.code renders no markup)."""
    text = t(
        "common.cite_text",
        name=" ".join(str(title).split()),
        url=url,
        date=retrieved.isoformat() if retrieved else "—",
        sources="; ".join(sources) if sources else "—",
    )
    st.caption(t("common.cite_this"))
    st.code(text, language=None, wrap_lines=True)
