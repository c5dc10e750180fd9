"""Overview: how much is bought on which legal basis, year by year and region by region."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data
from dashboard.i18n import basis_label, current_lang, t
from dashboard.navigation import register_page
from dashboard.ui import format_int, format_kzt, format_percent, region_name

# Colour-blind-safe pair (Okabe–Ito blue and orange), the same meaning on every chart.
COLOURS = {True: "#0072B2", False: "#E69F00"}
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
TOP_PROVIDERS = 10


def _competitive_name(flag: bool) -> str:
    return t("competitive.yes") if flag else t("competitive.no")


def _scale(values: pd.Series) -> tuple[float, str]:
    """A divisor and its unit word so axes read «12 млн», not «12M» (plotly's SI suffixes are English)."""
    peak = float(values.abs().max()) if len(values) else 0.0
    for size, key in ((10**12, "unit.trillion"), (10**9, "unit.billion"), (10**6, "unit.million")):
        if peak >= size:
            return float(size), f"{t(key)} "
    return 1.0, ""


def _bars(frame: pd.DataFrame, category: str, *, horizontal: bool) -> go.Figure:
    """Bars of `amount_kzt` per `category`, stacked by competition; hover gives exact sum and count."""
    divisor, unit = _scale(frame.groupby(category)["amount_kzt"].sum().astype(float))
    fig = go.Figure()
    cat = "%{y}" if horizontal else "%{x}"
    for flag in (True, False):
        part = frame[frame["competitive"] == flag]
        if part.empty:
            continue
        values = part["amount_kzt"].astype(float)
        scaled = values / divisor
        fig.add_bar(
            x=scaled if horizontal else part[category],
            y=part[category] if horizontal else scaled,
            orientation="h" if horizontal else "v",
            name=_competitive_name(flag),
            marker_color=COLOURS[flag],
            customdata=list(zip(part["contracts"], values, strict=True)),
            hovertemplate=f"{cat}: %{{customdata[1]:,.0f}} ₸ · %{{customdata[0]}} "
            f"{t('chart.contracts_unit')}<extra></extra>",
        )
    title = t("chart.amount_axis", unit=unit)
    if horizontal:
        fig.update_xaxes(title=title)
    else:
        fig.update_yaxes(title=title)
    fig.update_layout(
        barmode="stack",
        margin={"l": 0, "r": 10, "t": 10, "b": 0},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "traceorder": "normal"},
        # Decimal comma and a space between thousands in Russian and Kazakh.
        separators=".," if current_lang() == "en" else ", ",
        hoverlabel={"namelength": -1},
    )
    return fig


def _headline(url: str) -> None:
    head = data.headline(url)
    first, last = head["first_signed_on"], head["last_signed_on"]
    period = f"{first:%Y}–{last:%Y}" if first is not None and last is not None else "—"
    cols = st.columns(3)
    cols[0].metric(t("metric.contracts"), format_int(head["contracts"]), help=t("metric.contracts_help"))
    cols[1].metric(t("metric.amount"), format_kzt(head["amount_kzt"]), help=t("metric.amount_help"))
    cols[2].metric(
        t("metric.noncompetitive_share"),
        format_percent(head["amount_kzt"] - head["competitive_amount_kzt"], head["amount_kzt"]),
        help=t("metric.noncompetitive_share_help"),
    )
    st.caption(
        t(
            "overview.parties",
            period=period,
            buyers=format_int(head["buyers"]),
            providers=format_int(head["providers"]),
        )
    )


def _legal_basis(url: str) -> None:
    st.subheader(t("overview.basis_header"))
    frame = data.by_legal_basis(url)
    frame["label"] = [basis_label(code) for code in frame["legal_basis"]]
    frame["amount"] = frame["amount_kzt"].astype(float)
    total = frame["amount"].sum()
    order = frame.groupby("label")["amount"].sum().sort_values().index.tolist()
    fig = _bars(frame, "label", horizontal=True)
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    fig.update_layout(height=90 + 34 * len(order))
    st.plotly_chart(fig, config=PLOTLY_CONFIG)

    table = pd.DataFrame(
        {
            "basis": frame["label"],
            "competitive": frame["competitive"].astype(bool),
            "contracts": frame["contracts"].astype(int),
            "amount": frame["amount"],
            "share": frame["amount"] / total if total else 0.0,
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        key="basis_table",
        column_config={
            "basis": st.column_config.TextColumn(t("col.legal_basis")),
            "competitive": st.column_config.CheckboxColumn(t("col.competitive")),
            "contracts": st.column_config.NumberColumn(t("col.contracts"), format="localized"),
            "amount": st.column_config.NumberColumn(t("col.amount_kzt"), format="localized"),
            "share": st.column_config.NumberColumn(t("col.share"), format="percent"),
        },
    )


def _per_year(url: str, height: int) -> None:
    st.subheader(t("overview.year_header"))
    frame = data.by_year(url)
    frame["year"] = frame["year"].astype(str)
    fig = _bars(frame, "year", horizontal=False)
    fig.update_xaxes(type="category")
    fig.update_layout(height=height)
    st.plotly_chart(fig, config=PLOTLY_CONFIG)


def _per_region(url: str, height: int) -> None:
    st.subheader(t("overview.region_header"))
    frame = data.by_region(url)
    frame["region"] = [region_name(code) for code in frame["region_kato"]]
    order = frame.groupby("region")["amount_kzt"].sum().astype(float).sort_values().index.tolist()
    fig = _bars(frame, "region", horizontal=True)
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    fig.update_layout(height=height)
    st.plotly_chart(fig, config=PLOTLY_CONFIG)
    st.caption(t("overview.region_note"))


def _top_providers(url: str) -> None:
    st.subheader(t("overview.providers_header"))
    frame = data.top_providers(url, TOP_PROVIDERS)
    amount = frame["amount_kzt"].astype(float)
    table = pd.DataFrame(
        {
            "provider_name": frame["provider_name"],
            "provider_bin": frame["provider_bin"],
            "contracts": frame["contracts"].astype(int),
            "buyers": frame["buyers"].astype(int),
            "amount": amount,
            "noncompetitive": frame["noncompetitive_amount_kzt"].astype(float) / amount.where(amount > 0),
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        key="providers_table",
        column_config={
            "provider_name": st.column_config.TextColumn(t("col.provider_name"), width="large"),
            "provider_bin": st.column_config.TextColumn(t("col.provider_bin")),
            "contracts": st.column_config.NumberColumn(t("col.contracts"), format="localized"),
            "buyers": st.column_config.NumberColumn(t("col.buyers"), format="localized"),
            "amount": st.column_config.NumberColumn(t("col.amount_kzt"), format="localized"),
            "noncompetitive": st.column_config.NumberColumn(t("col.noncompetitive_share"), format="percent"),
        },
    )


def render() -> None:
    """The overview page (the app's default page)."""
    url = st.session_state["database_url"]
    st.title(t("overview.title"))
    st.caption(t("overview.intro"))
    if data.headline(url)["contracts"] == 0:
        st.info(t("empty.no_engagements"))
        return
    _headline(url)
    _legal_basis(url)
    regions = data.by_region(url)["region_kato"].nunique(dropna=False)
    # Side by side at one height: the region list sets it (up to 21 bars), the year chart follows.
    height = max(340, 80 + 26 * regions)
    left, right = st.columns(2, gap="large")
    with left:
        _per_year(url, height)
    with right:
        _per_region(url, height)
    _top_providers(url)
    st.page_link(register_page(), label=t("overview.to_register"), icon=":material/table_view:")


render()
