"""Entity card (`/entity?id=<stable id>`): who an organization or person is, with a source for every fact.

Identity (an organization's BIN and what it encodes, legal form, registration, KATO, OKED, parent and branches;
a person's name parts — an IIN is never shown, only whether one identifies them), every name the sources
gave it with how it was merged, engagements as buyer and as provider with their legal basis, tender history
(bids won and lost, with prices), people and roles, red flags with their adjudication, a timeline, and the
raw records behind it all. Every table downloads as CSV; «cite this» gives a text to quote.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data_entity, navigation
from dashboard.entity_ui import cite, csv_button, entity_href, page_url, source_list
from dashboard.i18n import basis_label, current_lang, t
from dashboard.queries_entity import retrieved_on
from dashboard.ui import escape_md, format_datetime, format_int, format_kzt, region_name, safe_link

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
ROLE_COLOURS = {"buyer": "#0072B2", "provider": "#E69F00"}


def _label(prefix: str, code: object) -> str:
    """A translated label for a code, or the code itself when the catalogue has none."""
    if code is None or (isinstance(code, float) and pd.isna(code)):
        return "—"
    text = t(f"{prefix}.{code}")
    return str(code) if text == f"{prefix}.{code}" else text


def _instrument(code: object) -> str:
    return _label("instrument", code)


def _identity_org(e: dict[str, Any]) -> pd.DataFrame:
    rows: list[tuple[str, object]] = [
        (t("entity.field.kind"), _label("kind", e["kind"])),
        (t("entity.field.bin"), e["bin"] or "—"),
    ]
    info = e["bin_info"]
    if info is not None:
        encodes = t(
            "entity.bin_encodes",
            registered=info["registered"],
            type=_label("bin_type", info["entity_type"]),
            branch=t("entity.branch_yes") if info["branch"] else t("entity.branch_no"),
        )
        rows.append((t("entity.field.bin_encodes"), encodes))
    elif e["bin"]:
        rows.append((t("entity.field.bin_encodes"), t("entity.bin_invalid")))
    rows += [
        (t("entity.field.legal_form"), e["legal_form"] or "—"),
        (t("entity.field.registered_on"), e["registered_on"].isoformat() if e["registered_on"] else "—"),
        (t("entity.field.region"), region_name(e["region_kato"]) if e["region_kato"] else "—"),
        (t("entity.field.kato"), e["kato"] or "—"),
        (t("entity.field.oked"), e["oked"] or "—"),
        (t("entity.field.parent"), e["parent_bin"] or "—"),
        (t("entity.field.branches"), str(len(e["branches"]))),
        (t("entity.field.name_ru"), e["name_ru"] or "—"),
        (t("entity.field.name_kk"), e["name_kk"] or "—"),
        (t("entity.field.name_en"), e["name_en"] or "—"),
        (t("entity.field.id"), e["id"]),
    ]
    return pd.DataFrame(rows, columns=["field", "value"]).astype(str)


def _identity_person(e: dict[str, Any]) -> pd.DataFrame:
    rows = [
        (t("entity.field.kind"), _label("kind", "person")),
        (t("entity.field.surname"), e["surname"] or "—"),
        (t("entity.field.given_name"), e["given_name"] or "—"),
        (t("entity.field.patronymic"), e["patronymic"] or "—"),
        (t("entity.field.iin"), t("entity.iin_known") if e["has_iin"] else t("entity.iin_unknown")),
        (t("entity.field.id"), e["id"]),
    ]
    return pd.DataFrame(rows, columns=["field", "value"]).astype(str)


def _identity(card: dict[str, Any]) -> None:
    e = card["entity"]
    st.subheader(t("entity.identity"))
    frame = _identity_org(e) if card["kind"] == "organization" else _identity_person(e)
    st.dataframe(
        frame,
        hide_index=True,
        key="identity_table",
        column_config={
            "field": st.column_config.TextColumn(t("entity.col.field")),
            "value": st.column_config.TextColumn(t("entity.col.value"), width="large"),
        },
    )
    if card["kind"] == "organization":
        link = safe_link(e.get("source_url")) or safe_link(e.get("source_api_url"))
        if link:
            st.markdown(
                t("entity.identity_source", date=format_datetime(e.get("fetched_at")))
                + f" — [{t('col.source_link')}]({link})"
            )
        if e["parent_id"]:
            st.page_link(
                navigation.entity_page(), label=t("entity.open_parent"), query_params={"id": e["parent_id"]}
            )
        for branch in e["branches"][:10]:
            st.page_link(
                navigation.entity_page(),
                label=escape_md(branch["name_ru"] or branch["bin"]),
                query_params={"id": branch["id"]},
            )
    csv_button(frame, "identity", key="identity_csv")


def _engagements(card: dict[str, Any]) -> None:
    frame = card["engagements"]
    totals = card["totals"]
    if frame.empty:
        st.caption(t("entity.no_engagements"))
        return
    lang = current_lang()
    for role in ("buyer", "provider"):
        part = totals[totals["role"] == role]
        if not part.empty:
            st.markdown(
                t(
                    f"entity.totals.{role}",
                    count=format_int(int(part["engagements"].sum())),
                    amount=format_kzt(float(part["amount_kzt"].astype(float).sum())),
                )
            )
    shown = pd.DataFrame(
        {
            "signed_on": pd.to_datetime(frame["signed_on"]),
            "source_url": [safe_link(u) for u in frame["source_url"]],
            "role": [t(f"entity.role.{r}") for r in frame["role"]],
            "counterpart_name": frame["counterpart_name"],
            "counterpart": [entity_href(i) for i in frame["counterpart_id"]],
            "instrument": [_instrument(c) for c in frame["instrument"]],
            "legal_basis": [basis_label(c, lang) for c in frame["legal_basis"]],
            "competitive": frame["competitive"].astype(bool),
            "amount_kzt": pd.to_numeric(frame["amount_kzt"], errors="coerce").astype(float),
            "subject": frame["subject"],
            "region": [region_name(c, lang) for c in frame["region_kato"]],
            "evidence": [f"register?engagement={i}&lang={lang}" for i in frame["engagement_id"]],
            "engagement_id": frame["engagement_id"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="engagements_table",
        column_config={
            "signed_on": st.column_config.DateColumn(t("col.signed_on"), format="YYYY-MM-DD", pinned=True),
            "source_url": st.column_config.LinkColumn(
                t("col.source_url"), display_text=t("col.source_link"), pinned=True
            ),
            "role": st.column_config.TextColumn(t("entity.col.role")),
            "counterpart_name": st.column_config.TextColumn(t("entity.col.counterpart"), width="medium"),
            "counterpart": st.column_config.LinkColumn(t("entity.col.card"), display_text=t("search.open")),
            "instrument": st.column_config.TextColumn(t("col.instrument")),
            "legal_basis": st.column_config.TextColumn(t("col.legal_basis"), width="medium"),
            "competitive": st.column_config.CheckboxColumn(t("col.competitive")),
            "amount_kzt": st.column_config.NumberColumn(t("col.amount_kzt"), format="localized"),
            "subject": st.column_config.TextColumn(t("col.subject"), width="medium"),
            "region": st.column_config.TextColumn(t("col.region")),
            "evidence": st.column_config.LinkColumn(
                t("entity.col.evidence"), display_text=t("entity.open_evidence")
            ),
            "engagement_id": st.column_config.TextColumn(t("col.engagement_id")),
        },
    )
    csv_button(frame, "engagements", key="engagements_csv")
    _cite_engagement(card, frame)


def _cite_engagement(card: dict[str, Any], frame: pd.DataFrame) -> None:
    """«Cite this» for one engagement, chosen from the card's engagements (the newest by default)."""
    by_id = {row.engagement_id: row for row in frame.itertuples()}

    def describe(eid: str) -> str:
        row = by_id[eid]
        signed = row.signed_on.isoformat() if row.signed_on else "—"
        return f"{signed} · {row.counterpart_name or '—'} · {format_kzt(row.amount_kzt)}"

    chosen = st.selectbox(
        t("entity.cite_engagement"), list(by_id), format_func=describe, key="cite_engagement"
    )
    if chosen is None:
        return
    row = by_id[chosen]
    title = t(
        "entity.engagement_title",
        name=card["entity"]["name"],
        counterpart=row.counterpart_name or "—",
        basis=basis_label(row.legal_basis),
        signed=row.signed_on.isoformat() if row.signed_on else "—",
    )
    cite(
        title,
        page_url("register", engagement=chosen),
        retrieved_on([card["sources"]]),
        source_list([row.source_url]),
    )


OUTCOMES = ("won", "lost", "open")


def _tenders(card: dict[str, Any]) -> None:
    frame = card["tenders"]  # shown: date, source and outcome first (they stay in view)
    if frame.empty:
        st.caption(t("entity.no_tenders"))
        return
    counts = frame["outcome"].value_counts()
    st.markdown(
        t(
            "entity.tender_summary",
            bids=format_int(len(frame)),
            won=format_int(int(counts.get("won", 0))),
            lost=format_int(int(counts.get("lost", 0))),
            open=format_int(int(counts.get("open", 0))),
        )
    )
    shown = pd.DataFrame(
        {
            "published": pd.to_datetime(frame["published"], utc=True).dt.date,
            "source_url": [safe_link(u) for u in frame["source_url"]],
            "outcome": [t(f"entity.outcome.{o}") for o in frame["outcome"]],
            "price": pd.to_numeric(frame["price"], errors="coerce").astype(float),
            "lot_amount": pd.to_numeric(frame["lot_amount"], errors="coerce").astype(float),
            "bidders": pd.to_numeric(frame["bidders"], errors="coerce"),
            "procurement": frame["procurement"],
            "lot": frame["lot"],
            "number_anno": frame["number_anno"],
            "winner_bin": frame["winner_bin"],
            "customer_bin": frame["customer_bin"],
            "fetched_at": [format_datetime(v) for v in pd.to_datetime(frame["fetched_at"], utc=True)],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="tenders_table",
        column_config={
            "published": st.column_config.DateColumn(
                t("entity.col.published"), format="YYYY-MM-DD", pinned=True
            ),
            "source_url": st.column_config.LinkColumn(
                t("col.source_url"), display_text=t("col.source_link"), pinned=True
            ),
            "number_anno": st.column_config.TextColumn(t("entity.col.number_anno")),
            "procurement": st.column_config.TextColumn(t("entity.col.procurement"), width="medium"),
            "lot": st.column_config.TextColumn(t("entity.col.lot"), width="medium"),
            "price": st.column_config.NumberColumn(t("entity.col.price"), format="localized"),
            "lot_amount": st.column_config.NumberColumn(t("entity.col.lot_amount"), format="localized"),
            "bidders": st.column_config.NumberColumn(t("entity.col.bidders")),
            "outcome": st.column_config.TextColumn(t("entity.col.outcome")),
            "winner_bin": st.column_config.TextColumn(t("entity.col.winner_bin")),
            "customer_bin": st.column_config.TextColumn(t("col.buyer_bin")),
            "fetched_at": st.column_config.TextColumn(t("col.fetched_at")),
        },
    )
    csv_button(frame, "tenders", key="tenders_csv")


def _names(card: dict[str, Any]) -> None:
    names, links = card["names"], card["links"]
    if names.empty and links.empty:
        st.caption(t("entity.no_names"))
        return
    if not names.empty:
        st.dataframe(
            pd.DataFrame(
                {
                    "name": names["name"],
                    "field": names["field"],
                    "match_rule": names["match_rule"],
                    "match_score": pd.to_numeric(names["match_score"], errors="coerce"),
                    "mentions": names["mentions"],
                    "source_url": [
                        safe_link(h) or safe_link(u)
                        for h, u in zip(names["human_url"], names["url"], strict=True)
                    ],
                    "fetched_at": [format_datetime(v) for v in pd.to_datetime(names["fetched_at"], utc=True)],
                }
            ),
            hide_index=True,
            key="names_table",
            column_config={
                "name": st.column_config.TextColumn(t("entity.col.name"), width="large"),
                "field": st.column_config.TextColumn(t("entity.col.field_seen")),
                "match_rule": st.column_config.TextColumn(t("entity.col.rule")),
                "match_score": st.column_config.NumberColumn(t("entity.col.score")),
                "mentions": st.column_config.NumberColumn(t("entity.col.mentions")),
                "source_url": st.column_config.LinkColumn(
                    t("col.source_url"), display_text=t("col.source_link")
                ),
                "fetched_at": st.column_config.TextColumn(t("col.fetched_at")),
            },
        )
        csv_button(names, "names", key="names_csv")
    if not links.empty:
        st.markdown(f"**{t('entity.merges')}**")
        st.dataframe(
            links[["left_name", "right_name", "rule", "score"]],
            hide_index=True,
            key="links_table",
            column_config={
                "left_name": st.column_config.TextColumn(t("entity.col.left_name"), width="medium"),
                "right_name": st.column_config.TextColumn(t("entity.col.right_name"), width="medium"),
                "rule": st.column_config.TextColumn(t("entity.col.rule")),
                "score": st.column_config.NumberColumn(t("entity.col.score")),
            },
        )
        csv_button(links, "merges", key="links_csv")


def _people(card: dict[str, Any]) -> None:
    frame = card["people"]
    if frame.empty:
        st.caption(t("entity.no_people"))
        return
    st.dataframe(
        pd.DataFrame(
            {
                "other_name": frame["other_name"],
                "card": [entity_href(i) for i in frame["other_id"]],
                "role": [_label("role", r) for r in frame["role"]],
                "title": frame["title"],
                "start_date": pd.to_datetime(frame["start_date"]),
                "end_date": pd.to_datetime(frame["end_date"]),
                "source_url": [
                    safe_link(h) or safe_link(u)
                    for h, u in zip(frame["human_url"], frame["url"], strict=True)
                ],
                "fetched_at": [format_datetime(v) for v in pd.to_datetime(frame["fetched_at"], utc=True)],
            }
        ),
        hide_index=True,
        key="people_table",
        column_config={
            "other_name": st.column_config.TextColumn(t("entity.col.name"), width="medium"),
            "card": st.column_config.LinkColumn(t("entity.col.card"), display_text=t("search.open")),
            "role": st.column_config.TextColumn(t("entity.col.role")),
            "title": st.column_config.TextColumn(t("entity.col.title"), width="medium"),
            "start_date": st.column_config.DateColumn(t("entity.col.start"), format="YYYY-MM-DD"),
            "end_date": st.column_config.DateColumn(t("entity.col.end"), format="YYYY-MM-DD"),
            "source_url": st.column_config.LinkColumn(t("col.source_url"), display_text=t("col.source_link")),
            "fetched_at": st.column_config.TextColumn(t("col.fetched_at")),
        },
    )
    csv_button(frame, "people", key="people_csv")


def _flags(card: dict[str, Any]) -> None:
    frame = card["flags"]
    if frame.empty:
        st.caption(t("entity.no_flags"))
        return
    st.dataframe(
        pd.DataFrame(
            {
                "code": frame["code"],
                "severity": [_label("severity", s) for s in frame["severity"]],
                "explanation": frame["explanation"],
                "state": [_label("adjudication", s) if s else t("adjudication.none") for s in frame["state"]],
                "note": frame["note"],
                "legal_reference": frame["legal_reference"],
                "source_url": [safe_link((s or "").split(" ")[0]) for s in frame["source_urls"]],
                "computed_at": [format_datetime(v) for v in pd.to_datetime(frame["computed_at"], utc=True)],
            }
        ),
        hide_index=True,
        key="flags_table",
        column_config={
            "code": st.column_config.TextColumn(t("entity.col.flag_code")),
            "severity": st.column_config.TextColumn(t("entity.col.severity")),
            "explanation": st.column_config.TextColumn(t("entity.col.explanation"), width="large"),
            "state": st.column_config.TextColumn(t("entity.col.adjudication")),
            "note": st.column_config.TextColumn(t("entity.col.note"), width="medium"),
            "legal_reference": st.column_config.TextColumn(t("entity.col.legal_reference")),
            "source_url": st.column_config.LinkColumn(t("col.source_url"), display_text=t("col.source_link")),
            "computed_at": st.column_config.TextColumn(t("entity.col.computed_at")),
        },
    )
    csv_button(frame, "flags", key="flags_csv")


def _timeline(card: dict[str, Any]) -> None:
    frame = card["timeline"]
    if frame.empty:
        st.caption(t("entity.no_timeline"))
        return
    fig = go.Figure()
    for role in ("buyer", "provider"):
        part = frame[frame["role"] == role]
        if part.empty:
            continue
        fig.add_bar(
            x=part["year"],
            y=part["amount_kzt"],
            name=html.escape(t(f"entity.role.{role}")),
            marker_color=ROLE_COLOURS[role],
            customdata=part["engagements"],
            hovertemplate="%{x}: %{y:,.0f} ₸ · %{customdata}<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        height=320,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"type": "category", "title": t("entity.col.year")},
        yaxis={"title": "₸"},
        legend={"orientation": "h"},
    )
    st.plotly_chart(fig, config=PLOTLY_CONFIG)
    csv_button(frame, "timeline", key="timeline_csv")


def _sources(card: dict[str, Any]) -> None:
    frame = card["sources"]
    if frame.empty:
        st.caption(t("entity.no_sources"))
        return
    st.dataframe(
        pd.DataFrame(
            {
                "fetched_at": [format_datetime(v) for v in pd.to_datetime(frame["fetched_at"], utc=True)],
                "source": frame["source"],
                "record_type": frame["record_type"],
                "external_id": frame["external_id"],
                "human_url": [safe_link(u) for u in frame["human_url"]],
                "url": [safe_link(u) for u in frame["url"]],
            }
        ),
        hide_index=True,
        key="sources_table",
        column_config={
            "fetched_at": st.column_config.TextColumn(t("col.fetched_at")),
            "source": st.column_config.TextColumn(t("col.raw_source")),
            "record_type": st.column_config.TextColumn(t("col.record_type")),
            "external_id": st.column_config.TextColumn(t("col.external_id")),
            "human_url": st.column_config.LinkColumn(t("col.human_url"), display_text=t("col.source_link")),
            "url": st.column_config.LinkColumn(t("col.api_url")),
        },
    )
    csv_button(frame, "sources", key="sources_csv")


def _network_link(entity_id: str) -> None:
    """The network explorer (another page, `/network?id=`): linked in-app when that page is registered."""
    network_page = getattr(navigation, "network_page", None)
    if network_page is not None:
        st.page_link(
            network_page(),
            label=t("entity.open_network"),
            icon=":material/hub:",
            query_params={"id": entity_id},
        )
    else:
        st.link_button(t("entity.open_network"), page_url("network", id=entity_id), icon=":material/hub:")


def render() -> None:
    url = st.session_state["database_url"]
    entity_id = (st.query_params.get("id") or "").strip()
    if not entity_id:
        st.title(t("nav.entity"))
        st.info(t("entity.no_id"))
        st.page_link(navigation.search_page(), label=t("entity.go_search"), icon=":material/search:")
        return
    card = data_entity.card(url, entity_id)
    if card is None:
        st.title(t("nav.entity"))
        st.warning(t("entity.unknown", id=escape_md(entity_id)))
        st.page_link(navigation.search_page(), label=t("entity.go_search"), icon=":material/search:")
        return
    e = card["entity"]
    st.title(escape_md(e["name"]))
    kind_text = (
        _label("kind", e.get("kind") or card["kind"])
        if card["kind"] == "organization"
        else _label("kind", "person")
    )
    st.caption(escape_md(kind_text) + (f" · {t('entity.field.bin')} {e['bin']}" if e.get("bin") else ""))
    if e.get("is_fictional"):
        st.caption(t("entity.fictional"))
    _network_link(entity_id)
    srcs = card["sources"]
    # Public pages a reader can open; an API endpoint only where a record has no such page.
    pages = [u for u in (e.get("source_url"), *srcs.get("human_url", [])) if safe_link(u)]
    apis = [
        u for u, h in zip(srcs.get("url", []), srcs.get("human_url", []), strict=True) if not safe_link(h)
    ]
    cite(e["name"], page_url("entity", id=entity_id), retrieved_on([srcs]), source_list([*pages, *apis]))
    _identity(card)
    tabs = st.tabs(
        [
            t("entity.tab.engagements"),
            t("entity.tab.tenders"),
            t("entity.tab.names"),
            t("entity.tab.people"),
            t("entity.tab.flags"),
            t("entity.tab.timeline"),
            t("entity.tab.sources"),
        ]
    )
    sections = (_engagements, _tenders, _names, _people, _flags, _timeline, _sources)
    for tab, section in zip(tabs, sections, strict=True):
        with tab:
            section(card)


render()
