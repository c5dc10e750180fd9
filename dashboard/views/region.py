"""Region (`/region?kato=<2-digit KATO>[&district=<KATO digits 3–4>]`): who buys, who provides, on what basis.

The region's buyers and providers (linked to their cards), market shares by service category (a keyword
vocabulary in `data/reference/service_categories.csv`: a subject matches the first category whose stem it
contains — a rough reading of free text, unverified against a labelled sample), the legal-basis mix, a chart
of all regions with this one highlighted (no map tiles: the dashboard works offline), and a link to the
register filtered to the region, where every engagement links to its source.

`kato` and `district` are plain codes in the URL (not translated labels), so a link is the same in every
language; a district is matched on the buyer organization's KATO address (engagements carry regions only).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, data_entity
from dashboard.entity_ui import cite, csv_button, entity_href, page_url
from dashboard.i18n import basis_label, current_lang, t
from dashboard.navigation import register_page
from dashboard.queries_entity import RegionFilter, categories
from dashboard.ui import format_int, format_kzt, format_percent, region_codes, region_name

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
HIGHLIGHT, OTHER = "#0072B2", "#B0B7BF"
COMPETITIVE_COLOURS = {True: "#0072B2", False: "#E69F00"}


def _category_name(code: str) -> str:
    lang = current_lang()
    for cat in categories():
        if cat.code == code:
            return cat.names[lang]
    return t("region.category_other")


def _choose() -> RegionFilter | None:
    """The region (and district) from `?kato=` / `?district=`; the choice is written back as codes."""
    codes = sorted(region_codes(), key=region_name)
    wanted = (st.query_params.get("kato") or "").strip()[:2]
    index = codes.index(wanted) if wanted in codes else None
    cols = st.columns([3, 2])
    kato = cols[0].selectbox(
        t("region.choose"),
        codes,
        index=index,
        format_func=region_name,
        placeholder=t("region.choose_placeholder"),
        key=f"region_kato_{wanted}",  # a new link (another ?kato=) starts from its own value
    )
    if kato is None:
        return None
    if st.query_params.get("kato") != kato:
        st.query_params["kato"] = kato
    url = st.session_state["database_url"]
    districts = data_entity.districts(url, kato)
    district = ""
    if districts:
        wanted_d = (st.query_params.get("district") or "").strip()
        options = ["", *districts]
        chosen = cols[1].selectbox(
            t("region.district"),
            options,
            index=options.index(wanted_d) if wanted_d in options else 0,
            format_func=lambda d: t("region.all_districts") if not d else f"{kato}{d}",
            key=f"region_district_{kato}",
        )
        district = chosen or ""
    if district:
        st.query_params["district"] = district
    elif "district" in st.query_params:
        del st.query_params["district"]
    return RegionFilter(kato=kato, district=district)


def _regions_chart(kato: str) -> None:
    """Every region's sum, this one highlighted: where the region stands, without a map."""
    frame = data.by_region(st.session_state["database_url"])
    if frame.empty:
        return
    per = frame.groupby("region_kato", dropna=False)["amount_kzt"].sum().astype(float).reset_index()
    per = per[per["region_kato"].notna()].sort_values("amount_kzt")
    names = [region_name(c) for c in per["region_kato"]]
    fig = go.Figure(
        go.Bar(
            x=per["amount_kzt"],
            y=names,
            orientation="h",
            marker_color=[HIGHLIGHT if c == kato else OTHER for c in per["region_kato"]],
            hovertemplate="%{y}: %{x:,.0f} ₸<extra></extra>",
        )
    )
    fig.update_layout(
        height=max(260, 22 * len(per)),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": t("region.amount_axis")},
    )
    st.plotly_chart(fig, config=PLOTLY_CONFIG)


def _parties(frame: pd.DataFrame, side: str, total: float) -> None:
    if frame.empty:
        st.caption(t("region.none"))
        return
    shown = pd.DataFrame(
        {
            "name": frame["name"],
            "card": [entity_href(i) for i in frame["entity_id"]],
            "bin": frame["bin"],
            "engagements": frame["engagements"],
            "amount_kzt": frame["amount_kzt"].astype(float),
            "share": [format_percent(a, total) for a in frame["amount_kzt"].astype(float)],
            "noncompetitive": frame["noncompetitive"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key=f"region_{side}_table",
        column_config={
            "name": st.column_config.TextColumn(t(f"region.col.{side}"), width="large"),
            "card": st.column_config.LinkColumn(t("entity.col.card"), display_text=t("search.open")),
            "bin": st.column_config.TextColumn(t("search.bin")),
            "engagements": st.column_config.NumberColumn(t("region.col.engagements")),
            "amount_kzt": st.column_config.NumberColumn(t("col.amount_kzt"), format="localized"),
            "share": st.column_config.TextColumn(t("region.col.share")),
            "noncompetitive": st.column_config.NumberColumn(t("region.col.noncompetitive")),
        },
    )
    csv_button(frame, f"region-{side}s", key=f"region_{side}_csv")


def _categories(frame: pd.DataFrame) -> None:
    if frame.empty:
        st.caption(t("region.none"))
        return
    totals = frame.groupby("category")["amount_kzt"].sum().sort_values()
    fig = go.Figure(
        go.Bar(
            x=totals.to_numpy(),
            y=[_category_name(c) for c in totals.index],
            orientation="h",
            marker_color=HIGHLIGHT,
            hovertemplate="%{y}: %{x:,.0f} ₸<extra></extra>",
        )
    )
    fig.update_layout(height=max(220, 40 * len(totals)), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    st.plotly_chart(fig, config=PLOTLY_CONFIG)
    shown = pd.DataFrame(
        {
            "category": [_category_name(c) for c in frame["category"]],
            "provider_name": frame["provider_name"],
            "card": [entity_href(i) for i in frame["provider_id"]],
            "provider_bin": frame["provider_bin"],
            "engagements": frame["engagements"],
            "amount_kzt": frame["amount_kzt"].astype(float),
            "share": [format_percent(s, 1.0) for s in frame["share"]],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="region_categories_table",
        column_config={
            "category": st.column_config.TextColumn(t("region.col.category"), width="medium"),
            "provider_name": st.column_config.TextColumn(t("region.col.provider"), width="large"),
            "card": st.column_config.LinkColumn(t("entity.col.card"), display_text=t("search.open")),
            "provider_bin": st.column_config.TextColumn(t("search.bin")),
            "engagements": st.column_config.NumberColumn(t("region.col.engagements")),
            "amount_kzt": st.column_config.NumberColumn(t("col.amount_kzt"), format="localized"),
            "share": st.column_config.TextColumn(t("region.col.category_share")),
        },
    )
    csv_button(frame, "region-categories", key="region_categories_csv")


def _bases(frame: pd.DataFrame) -> None:
    if frame.empty:
        st.caption(t("region.none"))
        return
    fig = go.Figure()
    for flag in (True, False):
        part = frame[frame["competitive"] == flag]
        if part.empty:
            continue
        fig.add_bar(
            x=part["amount_kzt"],
            y=[basis_label(c) for c in part["legal_basis"]],
            orientation="h",
            name=t("competitive.yes") if flag else t("competitive.no"),
            marker_color=COMPETITIVE_COLOURS[flag],
            customdata=part["engagements"],
            hovertemplate="%{y}: %{x:,.0f} ₸ · %{customdata}<extra></extra>",
        )
    fig.update_layout(
        barmode="stack",
        height=max(220, 40 * frame["legal_basis"].nunique()),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h"},
    )
    st.plotly_chart(fig, config=PLOTLY_CONFIG)
    csv_button(frame, "region-legal-basis", key="region_bases_csv")


def _summary(f: RegionFilter, found: dict[str, Any]) -> None:
    s = found["summary"]
    cols = st.columns(4)
    cols[0].metric(t("region.metric.engagements"), format_int(s["engagements"]))
    cols[1].metric(t("region.metric.amount"), format_kzt(s["amount_kzt"]))
    cols[2].metric(t("region.metric.buyers"), format_int(s["buyers"]))
    cols[3].metric(t("region.metric.providers"), format_int(s["providers"]))
    # The citizen's next step: the register of this region, each engagement with its source link.
    st.page_link(
        register_page(),
        label=t("region.open_register", region=region_name(f.kato)),
        icon=":material/table_view:",
        query_params={"region": f.kato},
    )


def render() -> None:
    st.title(t("region.title"))
    st.caption(t("region.intro"))
    f = _choose()
    if f is None:
        st.info(t("region.pick"))
        return
    found = data_entity.region(st.session_state["database_url"], f)
    st.header(region_name(f.kato) + (f" · {f.kato}{f.district}" if f.district else ""))
    if found["summary"]["engagements"] == 0:
        st.info(t("region.empty"))
        _regions_chart(f.kato)
        return
    _summary(f, found)
    params = {"kato": f.kato, **({"district": f.district} if f.district else {})}
    fresh = data.freshness(st.session_state["database_url"])
    retrieved = pd.to_datetime(fresh["fetched_at"], utc=True).max().date() if not fresh.empty else None
    cite(region_name(f.kato), page_url("region", **params), retrieved, [page_url("register", region=f.kato)])
    total = float(found["summary"]["amount_kzt"])
    left, right = st.columns(2)
    with left:
        st.subheader(t("region.buyers"))
        _parties(found["buyers"], "buyer", total)
    with right:
        st.subheader(t("region.providers"))
        _parties(found["providers"], "provider", total)
    st.subheader(t("region.categories"))
    st.caption(t("region.categories_help"))
    _categories(found["categories"])
    left, right = st.columns(2)
    with left:
        st.subheader(t("region.bases"))
        _bases(found["bases"])
    with right:
        st.subheader(t("region.compare"))
        _regions_chart(f.kato)


render()
