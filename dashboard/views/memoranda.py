"""Memoranda and cooperation agreements: who signed with whom, when, about what, in the source's own words.

Filters are widgets bound to URL parameters (`party`, `memo_year`, `memo_lang`); the party search folds case
and Kazakh letters exactly as the register's buyer/provider search does. The CSV is `ashyq export memoranda`'s.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import data
from dashboard.i18n import LANGUAGE_NAMES, t
from dashboard.queries import MEMORANDA_LIMIT, MemorandumFilter
from dashboard.ui import escape_md, format_int, memoranda_table, seed_codes_from_url


def language_label(code: str, _lang: str | None = None) -> str:
    """A text's language named in itself (the same in every UI language); other codes shown as they are."""
    return LANGUAGE_NAMES.get(code, code)


def _filters(url: str) -> MemorandumFilter:
    languages = data.memoranda_languages(url)
    seed_codes_from_url("memo_lang", languages, language_label)
    cols = st.columns([3, 1, 1])
    party = cols[0].text_input(
        t("filter.party"),
        key="party",
        bind="query-params",
        placeholder=t("filter.search_placeholder"),
        help=t("filter.search_help"),
    )
    years = cols[1].multiselect(
        t("filter.year"),
        data.memoranda_years(url),
        key="memo_year",
        bind="query-params",
        placeholder=t("filter.all"),
    )
    langs = cols[2].multiselect(
        t("filter.language"),
        languages,
        format_func=language_label,
        key="memo_lang",
        bind="query-params",
        placeholder=t("filter.all"),
    )
    return MemorandumFilter(party=party.strip(), years=tuple(int(y) for y in years), languages=tuple(langs))


def render() -> None:
    """The memoranda page."""
    url = st.session_state["database_url"]
    st.title(t("memoranda.title"))
    st.caption(t("memoranda.intro"))
    f = _filters(url)
    count = data.memoranda_count(url, f)
    if count == 0:
        st.info(t("memoranda.none"))
        return
    found = t("memoranda.found", count=format_int(count))
    if f.party:
        found += " " + t("register.searched", terms=f"«{escape_md(f.party)}»")
    st.markdown(found)
    st.download_button(
        t("register.download"),
        data=lambda: data.memoranda_csv(url, f),
        file_name=f"ashyq-memoranda-{date.today():%Y%m%d}.csv",  # noqa: DTZ011 - a file name, local date
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key="download_memoranda_csv",
        help=t("memoranda.download_help"),
    )
    if count > MEMORANDA_LIMIT:
        st.caption(t("register.truncated", limit=format_int(MEMORANDA_LIMIT)))
    memoranda_table(data.memoranda_rows(url, f), key="memoranda_table")


render()
