"""Legal-basis register: every engagement, filtered and sorted on the server, each row linked to its source.

Every filter is a widget bound to a URL parameter (`region`, `basis`, `instrument`, `year`, `buyer`, `provider`,
`competitive`, `sort`), so the address bar is always a permalink to the view on screen. Below the table, the
evidence of one engagement (`engagement=<id>`, filled by selecting a row): the raw records it rests on and, for
memoranda and PPP agreements, the agreement itself with its parties and the texts that announce it.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.i18n import basis_label, catalogue, current_lang, t, translate
from dashboard.queries import (
    COMPETITIVE,
    DEFAULT_SORT,
    INSTRUMENTS,
    REGISTER_LIMIT,
    SORTS,
    RegisterFilter,
)
from dashboard.ui import (
    escape_md,
    format_datetime,
    format_int,
    format_kzt,
    memoranda_table,
    parties_table,
    region_codes,
    region_name,
    safe_link,
    seed_codes_from_url,
)


def _basis_options(url: str) -> list[str]:
    """Every legal basis the UI knows (in the catalogue's order), then any other code the data holds."""
    known = [key.removeprefix("basis.") for key in catalogue("ru") if key.startswith("basis.")]
    return known + [code for code in data.legal_bases(url) if code not in known]


def instrument_label(code: str | None, lang: str | None = None) -> str:
    """Human name of an instrument code; an unknown code is shown as itself rather than hidden."""
    if code is None:
        return "—"
    text = translate(lang or current_lang(), f"instrument.{code}")
    return code if text == f"instrument.{code}" else text


def _filters(url: str) -> RegisterFilter:
    regions = sorted(region_codes(), key=region_name)
    bases = _basis_options(url)
    seed_codes_from_url("region", regions, region_name)
    seed_codes_from_url("basis", bases, basis_label)
    seed_codes_from_url("instrument", list(INSTRUMENTS), instrument_label)
    seed_codes_from_url(
        "sort", list(SORTS), lambda code, lang: translate(lang, f"sort.{code}"), multiple=False
    )
    seed_codes_from_url(
        "competitive",
        list(COMPETITIVE),
        lambda code, lang: translate(lang, f"filter.competitive.{code}"),
        multiple=False,
    )

    row1 = st.columns([2, 2, 2, 1])
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
    instrument = row1[2].multiselect(
        t("filter.instrument"),
        list(INSTRUMENTS),
        format_func=instrument_label,
        key="instrument",
        bind="query-params",
        placeholder=t("filter.all"),
        help=t("filter.instrument_help"),
    )
    year = row1[3].multiselect(
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
        instruments=tuple(instrument),
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
            "instrument": [instrument_label(code, lang) for code in rows["instrument"]],
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
            "engagement_id": rows["engagement_id"],
        }
    )


# Date and source link pinned on the left, so every row keeps its citation in view however far a reader
# scrolls; then who, whom, on what basis, how much, where; identifiers and subject last.
COLUMN_ORDER = (
    "signed_on",
    "source_url",
    "buyer_name",
    "provider_name",
    "instrument",
    "legal_basis",
    "competitive",
    "amount_kzt",
    "region",
    "subject",
    "buyer_bin",
    "provider_bin",
    "engagement_id",
)
ROW_PX = 35  # Streamlit's default row height; the grid is sized to its rows up to a screenful


def _select_row() -> None:
    """on_select of the table: the chosen row's id goes to the bound `engagement` input (and the URL)."""
    selected = st.session_state["register_table"].selection.rows
    ids = st.session_state.get("register_ids", [])
    if selected and selected[0] < len(ids):
        st.session_state["engagement"] = ids[selected[0]]


def _table(rows: pd.DataFrame) -> None:
    # The ids in display order, for the selection callback (which runs before the next script run).
    st.session_state["register_ids"] = list(rows["engagement_id"])
    st.dataframe(
        _display_frame(rows),
        hide_index=True,
        key="register_table",
        on_select=_select_row,
        selection_mode="single-row",
        height=min(600, ROW_PX * (len(rows) + 1) + 3),
        column_order=COLUMN_ORDER,
        column_config={
            "signed_on": st.column_config.DateColumn(t("col.signed_on"), format="YYYY-MM-DD", pinned=True),
            "instrument": st.column_config.TextColumn(t("col.instrument"), width="medium"),
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
            "engagement_id": st.column_config.TextColumn(t("col.engagement_id")),
        },
    )


def _register(url: str, f: RegisterFilter) -> None:
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


def _raw_table(raw: pd.DataFrame) -> None:
    st.dataframe(
        pd.DataFrame(
            {
                "source": raw["source"],
                "record_type": raw["record_type"],
                "external_id": raw["external_id"],
                "fetched_at": [format_datetime(v) for v in raw["fetched_at"]],
                "human_url": [safe_link(u) for u in raw["human_url"]],
                "url": [safe_link(u) for u in raw["url"]],
            }
        ),
        hide_index=True,
        key="evidence_raw",
        column_config={
            "source": st.column_config.TextColumn(t("col.raw_source")),
            "record_type": st.column_config.TextColumn(t("col.record_type")),
            "external_id": st.column_config.TextColumn(t("col.external_id")),
            "fetched_at": st.column_config.TextColumn(t("col.fetched_at")),
            "human_url": st.column_config.LinkColumn(t("col.human_url"), display_text=t("col.source_link")),
            "url": st.column_config.LinkColumn(t("col.api_url")),
        },
    )


def _ppp_table(ppp: pd.DataFrame) -> None:
    st.dataframe(
        pd.DataFrame(
            {
                "project": ppp["project"],
                "signed_on": pd.to_datetime(ppp["signed_on"]),
                "state_partner": ppp["state_partner_name"],
                "state_partner_bin": ppp["state_partner_bin"],
                "private_partner": ppp["private_partner_name"],
                "private_partner_bin": ppp["private_partner_bin"],
                "ppp_form": ppp["ppp_form"],
                "selection_method": ppp["selection_method"],
                "term_months": pd.to_numeric(ppp["term_months"], errors="coerce"),
                "amount_kzt": pd.to_numeric(ppp["amount_kzt"], errors="coerce").astype(float),
                "status": ppp["status"],
                "source_url": [safe_link(u) for u in ppp["source_url"]],
                "is_fictional": ppp["is_fictional"].astype(bool),
            }
        ),
        hide_index=True,
        key="evidence_ppp",
        column_config={
            "project": st.column_config.TextColumn(t("col.ppp_project"), width="medium"),
            "signed_on": st.column_config.DateColumn(t("col.signed_on"), format="YYYY-MM-DD"),
            "state_partner": st.column_config.TextColumn(t("col.state_partner"), width="medium"),
            "state_partner_bin": st.column_config.TextColumn(t("col.buyer_bin")),
            "private_partner": st.column_config.TextColumn(t("col.private_partner"), width="medium"),
            "private_partner_bin": st.column_config.TextColumn(t("col.provider_bin")),
            "ppp_form": st.column_config.TextColumn(t("col.ppp_form")),
            "selection_method": st.column_config.TextColumn(t("col.selection_method")),
            "term_months": st.column_config.NumberColumn(t("col.term_months")),
            "amount_kzt": st.column_config.NumberColumn(t("col.amount_kzt"), format="localized"),
            "status": st.column_config.TextColumn(t("col.status")),
            "source_url": st.column_config.LinkColumn(t("col.source_url"), display_text=t("col.source_link")),
            "is_fictional": st.column_config.CheckboxColumn(t("col.is_fictional")),
        },
    )


def _documents_table(docs: pd.DataFrame) -> None:
    st.dataframe(
        pd.DataFrame(
            {
                "published_on": pd.to_datetime(docs["published_on"]),
                "relation": [t(f"relation.{r}") if r in RELATIONS else r for r in docs["relation"]],
                "title": docs["title"],
                "language": docs["language"],
                "source_url": [safe_link(u) for u in docs["source_url"]],
            }
        ),
        hide_index=True,
        key="evidence_documents",
        column_config={
            "published_on": st.column_config.DateColumn(t("col.published_on"), format="YYYY-MM-DD"),
            "relation": st.column_config.TextColumn(t("col.relation")),
            "title": st.column_config.TextColumn(t("col.title"), width="large"),
            "language": st.column_config.TextColumn(t("col.language")),
            "source_url": st.column_config.LinkColumn(t("col.source_url"), display_text=t("col.source_link")),
        },
    )


RELATIONS = ("announces", "refers_to")


def _evidence(url: str) -> None:
    """The evidence of one engagement: chosen by selecting a table row, or by `?engagement=<id>`."""
    st.subheader(t("evidence.header"))
    engagement_id = st.text_input(
        t("evidence.engagement"),
        key="engagement",
        bind="query-params",
        placeholder=t("evidence.placeholder"),
        help=t("evidence.help"),
    ).strip()
    if not engagement_id:
        st.caption(t("evidence.choose"))
        return
    eng = data.engagement(url, engagement_id)
    if eng is None:
        st.info(t("evidence.unknown", id=escape_md(engagement_id)))
        return
    found = data.engagement_evidence(url, engagement_id)
    st.markdown(
        t(
            "evidence.summary",
            instrument=escape_md(instrument_label(eng["instrument"])),
            buyer=escape_md(eng["buyer_name"] or "—"),
            provider=escape_md(eng["provider_name"] or "—"),
            signed=eng["signed_on"].isoformat() if eng["signed_on"] else "—",
        )
    )
    link = safe_link(eng["source_url"])
    if link is not None:
        st.link_button(t("evidence.open_source"), link, icon=":material/open_in_new:")

    st.markdown(f"**{t('evidence.raw_header')}**")
    if found["raw"].empty:
        st.caption(t("evidence.no_raw"))
    else:
        _raw_table(found["raw"])
    if eng["instrument"] == "memorandum":
        st.markdown(f"**{t('evidence.memorandum_header')}**")
        if found["memoranda"].empty:
            st.caption(t("evidence.no_agreement"))
        else:
            memoranda_table(found["memoranda"], key="evidence_memoranda")
            parties_table(found["parties"], key="evidence_parties")
        if not found["documents"].empty:
            st.markdown(f"**{t('evidence.documents_header')}**")
            _documents_table(found["documents"])
    if eng["instrument"] == "ppp_agreement":
        st.markdown(f"**{t('evidence.ppp_header')}**")
        if found["ppp"].empty:
            st.caption(t("evidence.no_agreement"))
        else:
            _ppp_table(found["ppp"])


def render() -> None:
    """The legal-basis register page."""
    url = st.session_state["database_url"]
    st.title(t("register.title"))
    st.caption(t("register.intro"))
    f = _filters(url)
    _register(url, f)
    _evidence(url)


render()
