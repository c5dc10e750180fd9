"""Legal-basis register: every engagement, filtered and sorted on the server, each row linked to its source.

Every filter is a widget bound to a URL parameter (`region`, `basis`, `year`, `buyer`, `provider`,
`competitive`, `sort`), so the address bar is always a permalink to the view on screen.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.i18n import basis_label, catalogue, current_lang, t, translate
from dashboard.queries import COMPETITIVE, DEFAULT_SORT, REGISTER_LIMIT, SORTS, RegisterFilter
from dashboard.ui import (
    escape_md,
    format_int,
    format_kzt,
    region_codes,
    region_name,
    safe_link,
    seed_codes_from_url,
)


def _basis_options(url: str) -> list[str]:
    """Every legal basis the UI knows (in the catalogue's order), then any other code the data holds."""
    known = [key.removeprefix("basis.") for key in catalogue("ru") if key.startswith("basis.")]
    return known + [code for code in data.legal_bases(url) if code not in known]


def _filters(url: str) -> RegisterFilter:
    regions = sorted(region_codes(), key=region_name)
    bases = _basis_options(url)
    seed_codes_from_url("region", regions, region_name)
    seed_codes_from_url("basis", bases, basis_label)
    seed_codes_from_url(
        "sort", list(SORTS), lambda code, lang: translate(lang, f"sort.{code}"), multiple=False
    )
    seed_codes_from_url(
        "competitive",
        list(COMPETITIVE),
        lambda code, lang: translate(lang, f"filter.competitive.{code}"),
        multiple=False,
    )

    row1 = st.columns([2, 2, 1])
    region = row1[0].multiselect(
        t("filter.region"),
        regions,
        format_func=region_name,
        key="region",
        bind="query-params",
        placeholder=t("filter.all"),
    )
    basis = row1[1].multiselect(
        t("filter.basis"),
        bases,
        format_func=basis_label,
        key="basis",
        bind="query-params",
        placeholder=t("filter.all"),
    )
    year = row1[2].multiselect(
        t("filter.year"), data.years(url), key="year", bind="query-params", placeholder=t("filter.all")
    )
    row2 = st.columns([2, 2, 1.2, 1.2])
    buyer = row2[0].text_input(
        t("filter.buyer"),
        key="buyer",
        bind="query-params",
        placeholder=t("filter.search_placeholder"),
        help=t("filter.search_help"),
    )
    provider = row2[1].text_input(
        t("filter.provider"),
        key="provider",
        bind="query-params",
        placeholder=t("filter.search_placeholder"),
        help=t("filter.search_help"),
    )
    competitive = row2[2].selectbox(
        t("filter.competitive"),
        list(COMPETITIVE),
        key="competitive",
        bind="query-params",
        format_func=lambda code: t(f"filter.competitive.{code}"),
    )
    sort = row2[3].selectbox(
        t("filter.sort"),
        list(SORTS),
        key="sort",
        bind="query-params",
        format_func=lambda code: t(f"sort.{code}"),
    )
    return RegisterFilter(
        regions=tuple(region),
        legal_bases=tuple(basis),
        years=tuple(int(y) for y in year),
        buyer=buyer.strip(),
        provider=provider.strip(),
        competitive=COMPETITIVE[competitive or "any"],
        sort=sort or DEFAULT_SORT,
    )


def _display_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The register's rows as shown: labels in the UI language, links only where they are http(s)."""
    lang = current_lang()
    return pd.DataFrame(
        {
            "signed_on": pd.to_datetime(rows["signed_on"]),
            "legal_basis": [basis_label(code, lang) for code in rows["legal_basis"]],
            "competitive": rows["competitive"].astype(bool),
            "buyer_name": rows["buyer_name"],
            "buyer_bin": rows["buyer_bin"],
            "provider_name": rows["provider_name"],
            "provider_bin": rows["provider_bin"],
            "subject": rows["subject"],
            "amount_kzt": pd.to_numeric(rows["amount_kzt"], errors="coerce").astype(float),
            "region": [region_name(code, lang) for code in rows["region_kato"]],
            "source_url": [safe_link(u) for u in rows["source_url"]],
        }
    )


# Date and source link pinned on the left, so every row keeps its citation in view however far a reader
# scrolls; then who, whom, on what basis, how much, where; identifiers and subject last.
COLUMN_ORDER = (
    "signed_on",
    "source_url",
    "buyer_name",
    "provider_name",
    "legal_basis",
    "competitive",
    "amount_kzt",
    "region",
    "subject",
    "buyer_bin",
    "provider_bin",
)
ROW_PX = 35  # Streamlit's default row height; the grid is sized to its rows up to a screenful


def _table(rows: pd.DataFrame) -> None:
    st.dataframe(
        _display_frame(rows),
        hide_index=True,
        key="register_table",
        height=min(600, ROW_PX * (len(rows) + 1) + 3),
        column_order=COLUMN_ORDER,
        column_config={
            "signed_on": st.column_config.DateColumn(t("col.signed_on"), format="YYYY-MM-DD", pinned=True),
            "legal_basis": st.column_config.TextColumn(t("col.legal_basis"), width="medium"),
            "competitive": st.column_config.CheckboxColumn(t("col.competitive"), width=95),
            "buyer_name": st.column_config.TextColumn(t("col.buyer_name"), width="medium"),
            "buyer_bin": st.column_config.TextColumn(t("col.buyer_bin")),
            "provider_name": st.column_config.TextColumn(t("col.provider_name"), width="medium"),
            "provider_bin": st.column_config.TextColumn(t("col.provider_bin")),
            "subject": st.column_config.TextColumn(t("col.subject"), width="medium"),
            "amount_kzt": st.column_config.NumberColumn(t("col.amount_kzt"), format="localized"),
            "region": st.column_config.TextColumn(t("col.region")),
            "source_url": st.column_config.LinkColumn(
                t("col.source_url"), display_text=t("col.source_link"), help=t("col.source_help"), pinned=True
            ),
        },
    )


def render() -> None:
    """The legal-basis register page."""
    url = st.session_state["database_url"]
    st.title(t("register.title"))
    st.caption(t("register.intro"))
    f = _filters(url)

    summary = data.register_summary(url, f)
    count = summary["contracts"]
    if count == 0:
        st.info(t("register.none"))
        return
    found = t("register.found", count=format_int(count), amount=format_kzt(summary["amount_kzt"]))
    searched = [escape_md(term) for term in (f.buyer, f.provider) if term]
    if searched:
        found += " " + t("register.searched", terms=", ".join(f"«{term}»" for term in searched))
    st.markdown(found)

    st.download_button(
        t("register.download"),
        # A callable: the CSV (possibly millions of rows) is built only when someone clicks.
        data=lambda: data.register_csv(url, f),
        file_name=f"ashyq-engagements-{date.today():%Y%m%d}.csv",  # noqa: DTZ011 - a file name, local date
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key="download_csv",
        help=t("register.download_help"),
    )
    if count > REGISTER_LIMIT:
        st.caption(t("register.truncated", limit=format_int(REGISTER_LIMIT)))
    _table(data.register_rows(url, f, REGISTER_LIMIT))


render()
