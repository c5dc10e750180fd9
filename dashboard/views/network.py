"""Network explorer: who is connected to an entity, and how two entities are connected.

URL: `network?id=<entity id or BIN>&depth=1..3&cap=<nodes>&to=<second entity>&skip_hubs=true&hub=<degree>`;
every input follows its parameter (`id` by hand, the others through `bind`), so the address bar is a
permalink. The graph is drawn by Streamlit's own ECharts (bundled: no CDN, works offline), with names only as
canvas text and rich-text tooltips (never HTML). Clicking a node opens its entity card; the node table below
holds the same links (card, and "network around") for keyboards and screen readers. Every edge lists its
evidence, its first source links and when those records were fetched. Downloads: the drawn network as GEXF
(Gephi) and PNG (matplotlib, drawn on the server), its nodes and edges as CSV with a BOM — each built only when
its button is clicked (a deferred download), never on a page run.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import date
from functools import partial

import pandas as pd
import streamlit as st

from dashboard import data_pages
from dashboard.data_pages import page_link
from dashboard.i18n import basis_label, current_lang, t
from dashboard.navigation import entity_page
from dashboard.queries_network import (
    CAPS,
    DEFAULT_CAP,
    DEPTHS,
    HUB_DEGREE,
    MAX_PATH_LENGTH,
    Network,
    echarts_spec,
    to_gexf,
    to_png,
)
from dashboard.queries_sources import frame_csv
from dashboard.ui import escape_md, format_datetime, format_int, region_name, safe_link
from pipeline.graph import EDGE_KINDS

KINDS = ("public", "organization", "person", "unknown")
OPEN_KEY = "network_open_entity"
CENTRE_KEY = "network_centre"


def _categories() -> dict[str, str]:
    return {kind: t(f"network.kind.{kind}") for kind in KINDS}


def _centre_to_url() -> None:
    value = str(st.session_state.get(CENTRE_KEY, "")).strip()
    if value:
        st.query_params["id"] = value
    elif "id" in st.query_params:
        del st.query_params["id"]


def _inputs() -> tuple[str, int, int, str, int | None]:
    cols = st.columns([3, 1.2, 1, 3])
    # `id` is kept in the URL by hand, not by `bind`: a parameter bound to a widget cannot be set by
    # `st.switch_page`, and a click on a node must open `entity?id=…`.
    if CENTRE_KEY not in st.session_state:
        st.session_state[CENTRE_KEY] = st.query_params.get("id", "")
    ref = cols[0].text_input(
        t("network.centre"), key=CENTRE_KEY, on_change=_centre_to_url, placeholder=t("network.id_placeholder"),
        help=t("network.id_help"),
    )  # fmt: skip
    depth = cols[1].segmented_control(
        t("network.depth"), DEPTHS, default=1, required=True, key="depth", bind="query-params",
        help=t("network.depth_help"),
    )  # fmt: skip
    cap = cols[2].selectbox(
        t("network.cap"), CAPS, index=CAPS.index(DEFAULT_CAP), key="cap", bind="query-params",
        help=t("network.cap_help"),
    )  # fmt: skip
    to = cols[3].text_input(
        t("network.to"), key="to", bind="query-params", placeholder=t("network.id_placeholder"),
        help=t("network.to_help"),
    )  # fmt: skip
    hub_cols = st.columns([2, 1, 3])
    skip = hub_cols[0].toggle(
        t("network.skip_hubs"), key="skip_hubs", bind="query-params", help=t("network.skip_hubs_help")
    )
    hub = hub_cols[1].number_input(
        t("network.hub_degree"), min_value=1, value=HUB_DEGREE, step=1, key="hub", bind="query-params",
        disabled=not skip,
    )  # fmt: skip
    return ref.strip(), int(depth or 1), int(cap or DEFAULT_CAP), to.strip(), int(hub) if skip else None


def _clicked(node_ids: list[str], key: str) -> None:
    """on_select of a chart: remember the clicked node; the next run opens its card before any widget exists.

    (Switching pages from the script body would carry `id` while it is still bound to this page's input, which
    Streamlit refuses; at the top of the next run nothing is bound yet.)
    """
    state = st.session_state.get(key)
    # EChartsState is dict-like (so is the plain dict a test puts into session state): read it by key.
    selection = state.get("selection") if isinstance(state, Mapping) else None
    groups = selection.get("selected", []) if isinstance(selection, Mapping) else []
    for group in groups:
        if group.get("data_type") != "node":
            continue
        for i in group.get("data_indices", []):
            if 0 <= i < len(node_ids):
                st.session_state[OPEN_KEY] = node_ids[i]
                return


def _open_clicked_card() -> None:
    node = st.session_state.pop(OPEN_KEY, None)
    if isinstance(node, str):
        # `lang` follows by itself: the language selector is bound to the URL on every page.
        st.switch_page(entity_page(), query_params={"id": node})


def _chart(net: Network, key: str, *, row: bool = False) -> None:
    st.echarts_chart(
        echarts_spec(net, _categories(), row=row),
        key=key,
        on_select=partial(_clicked, list(net.nodes["id"]), key),
        height=320 if row else 560,
        alt=t("network.chart_alt", nodes=len(net.nodes), edges=len(net.edges)),
    )


def _nodes_table(net: Network, key: str) -> None:
    lang = current_lang()
    frame = pd.DataFrame(
        {
            "label": net.nodes["label"],
            "kind": [t(f"network.kind.{k}") if k in KINDS else k for k in net.nodes["kind"]],
            "hop": net.nodes["hop"],
            "bin": net.nodes["bin"],
            "region": [region_name(r, lang) if r else "—" for r in net.nodes["region_kato"]],
            "card": [page_link("entity", id=i) for i in net.nodes["id"]],
            "centre": [page_link("network", id=i) for i in net.nodes["id"]],
            "id": net.nodes["id"],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        key=key,
        column_config={
            "label": st.column_config.TextColumn(t("network.col.name"), width="large"),
            "kind": st.column_config.TextColumn(t("network.col.kind")),
            "hop": st.column_config.NumberColumn(t("network.col.hop"), help=t("network.col.hop_help")),
            "bin": st.column_config.TextColumn(t("network.col.bin")),
            "region": st.column_config.TextColumn(t("col.region")),
            "card": st.column_config.LinkColumn(t("network.col.card"), display_text=t("network.open_card")),
            "centre": st.column_config.LinkColumn(
                t("network.col.centre"), display_text=t("network.centre_here")
            ),
            "id": st.column_config.TextColumn(t("network.col.id")),
        },
    )


def _edges_frame(net: Network) -> pd.DataFrame:
    names = dict(zip(net.nodes["id"], net.nodes["label"], strict=True))
    return pd.DataFrame(
        {
            "source": [names.get(i, i) for i in net.edges["source_id"]],
            "target": [names.get(i, i) for i in net.edges["target_id"]],
            "kind": [t(f"network.edge.{k}") if k in EDGE_KINDS else k for k in net.edges["kind"]],
            "count": net.edges["count"],
            "total_kzt": pd.to_numeric(net.edges["total_kzt"], errors="coerce"),
            "years": net.edges["years"],
            "legal_bases": [
                ", ".join(basis_label(b) for b in v.split(", ") if b) for v in net.edges["legal_bases"]
            ],
            "roles": net.edges["roles"],
            "source_url": [safe_link(urls[0]) if urls else None for urls in net.edges["source_urls"]],
            "retrieved_at": [format_datetime(v) if v is not None else "—" for v in net.edges["retrieved_at"]],
            "source_urls": [" ".join(u for u in urls if safe_link(u)) for urls in net.edges["source_urls"]],
            "evidence": net.edges["evidence"],
            "evidence_count": net.edges["evidence_count"],
            "source_id": net.edges["source_id"],
            "target_id": net.edges["target_id"],
        }
    )


def _edges_table(frame: pd.DataFrame, key: str) -> None:
    st.dataframe(
        frame,
        hide_index=True,
        key=key,
        column_order=(
            "source", "target", "kind", "count", "total_kzt", "source_url", "retrieved_at", "years", "legal_bases",
            "roles", "evidence_count", "evidence", "source_urls",
        ),
        column_config={
            "source": st.column_config.TextColumn(t("network.col.from"), width="medium"),
            "target": st.column_config.TextColumn(t("network.col.to"), width="medium"),
            "kind": st.column_config.TextColumn(t("network.col.edge_kind")),
            "count": st.column_config.NumberColumn(t("network.col.count")),
            "total_kzt": st.column_config.NumberColumn(t("col.amount_kzt"), format="localized"),
            "source_url": st.column_config.LinkColumn(t("col.source_url"), display_text=t("col.source_link")),
            "retrieved_at": st.column_config.TextColumn(t("col.fetched_at")),
            "years": st.column_config.TextColumn(t("network.col.years")),
            "legal_bases": st.column_config.TextColumn(t("col.legal_basis")),
            "roles": st.column_config.TextColumn(t("network.col.roles")),
            "evidence_count": st.column_config.NumberColumn(t("network.col.evidence_count")),
            "evidence": st.column_config.TextColumn(t("network.col.evidence"), width="large"),
            "source_urls": st.column_config.TextColumn(t("network.col.source_urls"), width="large"),
        },
    )  # fmt: skip


def _downloads(net: Network, stem: str, title: str, key: str) -> None:
    cols = st.columns(4)
    today = f"{date.today():%Y%m%d}"  # noqa: DTZ011 - a file name, local date
    cols[0].download_button(
        "GEXF", data=lambda: to_gexf(net), file_name=f"ashyq-{stem}-{today}.gexf", mime="application/xml",
        on_click="ignore", icon=":material/download:", key=f"{key}_gexf", help=t("network.gexf_help"),
    )  # fmt: skip
    cols[1].download_button(
        "PNG", data=lambda: to_png(net, title), file_name=f"ashyq-{stem}-{today}.png", mime="image/png",
        on_click="ignore", icon=":material/download:", key=f"{key}_png", help=t("network.png_help"),
    )  # fmt: skip
    cols[2].download_button(
        t("network.nodes_csv"), data=lambda: frame_csv(net.nodes), file_name=f"ashyq-{stem}-nodes-{today}.csv",
        mime="text/csv", on_click="ignore", icon=":material/download:", key=f"{key}_nodes_csv",
    )  # fmt: skip
    cols[3].download_button(
        t("network.edges_csv"), data=lambda: frame_csv(_edges_frame(net)),
        file_name=f"ashyq-{stem}-edges-{today}.csv", mime="text/csv", on_click="ignore",
        icon=":material/download:", key=f"{key}_edges_csv",
    )  # fmt: skip


def _name(net: Network, node_id: str) -> str:
    match = net.nodes.loc[net.nodes["id"] == node_id, "label"]
    return str(match.iloc[0]) if len(match) else node_id


def _ego(url: str, centre: str, depth: int, cap: int) -> None:
    net = data_pages.ego(url, centre, depth, cap, current_lang())
    name = _name(net, centre)
    st.subheader(t("network.ego_header", name=escape_md(name)))
    st.markdown(
        t(
            "network.ego_summary",
            nodes=format_int(len(net.nodes)),
            edges=format_int(len(net.edges)),
            # The depth drawn, not the one asked: around a hub the cap fills nearer the centre, and the caption
            # below says how many were left out.
            depth=net.reached or depth,
        )
        + f" [{t('network.open_card')}]({page_link('entity', id=centre)})"
    )
    if net.hidden:
        st.caption(t("network.capped", hidden=format_int(net.hidden), cap=format_int(cap)))
    st.caption(t("network.click_hint"))
    _chart(net, "network_chart")
    _downloads(net, "network", name, "ego")
    st.markdown(f"**{t('network.nodes_header')}**")
    _nodes_table(net, "network_nodes")
    st.markdown(f"**{t('network.edges_header')}**")
    _edges_table(_edges_frame(net), "network_edges")


def _path(url: str, start: str, goal: str, hub: int | None) -> None:
    st.subheader(t("network.path_header"))
    found = data_pages.path(url, start, goal, hub, current_lang())
    if found.network is None:
        st.info(t("network.no_path", length=MAX_PATH_LENGTH))
        if hub is not None:
            st.caption(t("network.hubs_skipped", count=format_int(found.excluded_hubs), hub=hub))
        return
    net = found.network
    names = list(net.nodes["label"])
    ids = list(net.nodes["id"])
    st.markdown(t("network.path_summary", steps=len(ids) - 1))
    if hub is not None:
        st.caption(t("network.hubs_skipped", count=format_int(found.excluded_hubs), hub=hub))
    st.markdown(
        " → ".join(f"[{escape_md(n)}]({page_link('entity', id=i)})" for n, i in zip(names, ids, strict=True))
    )
    _chart(net, "path_chart", row=True)
    _downloads(net, "path", " → ".join(names), "path")
    _edges_table(_edges_frame(net), "path_edges")


# Seconds a run waits for the graph before it shows "loading" and polls instead: long enough for a small
# database's load, short enough that a run which ends on "loading" stays well inside the 1 s budget.
GRAPH_WAIT = 0.4


def _graph_ready(url: str) -> bool:
    """True once the process holds the current graph; until then a fragment polls and reruns the page when it is.

    A graph loaded before a rebuild is replaced the same way, in the background: otherwise the page's first
    query after the rebuild would load it inline (8–60 s at 1M) inside a reader's request.
    """
    loading = data_pages.graph_loading(url)
    if loading.done() and loading.exception() is None and not data_pages.graph_current(url):
        data_pages.graph_loading.clear(url)
        loading = data_pages.graph_loading(url)
    try:
        loading.result(timeout=GRAPH_WAIT)
    except FutureTimeout:
        pass
    except Exception:
        data_pages.graph_loading.clear()  # the next run tries again; this one shows the error
        raise
    if loading.done():
        return True

    @st.fragment(run_every=2)
    def _poll() -> None:
        if loading.done():
            st.rerun()
        st.info(t("network.loading"), icon=":material/hourglass_top:")

    _poll()
    return False


def render() -> None:
    """The network explorer page."""
    url = st.session_state["database_url"]
    _open_clicked_card()
    st.title(t("network.title"))
    st.caption(t("network.intro"))
    ref, depth, cap, to, hub = _inputs()
    if not ref:
        st.info(t("network.choose"))
        return
    if not _graph_ready(url):
        return
    centre = data_pages.resolve_entity(url, ref)
    if centre is None:
        st.warning(t("network.unknown", ref=escape_md(ref)))
        return
    if to:
        goal = data_pages.resolve_entity(url, to)
        if goal is None:
            st.warning(t("network.unknown", ref=escape_md(to)))
        else:
            _path(url, centre, goal, hub)
    _ego(url, centre, depth, cap)


render()
