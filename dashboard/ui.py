"""What every page shares: reference labels, number formats, safe text, the banner and the footer."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from dashboard.i18n import LANGUAGES, current_lang, t, translate
from entities.config import REFERENCE_DIR

ALMATY = ZoneInfo("Asia/Almaty")


# ------------------------------------------------------------------------------------------- reference
@cache
def _regions() -> dict[str, dict[str, str]]:
    """2-digit KATO code → {lang: name}, from data/reference/kato_regions.csv."""
    with (REFERENCE_DIR / "kato_regions.csv").open(encoding="utf-8") as fh:
        return {row["code2"]: {lang: row[f"name_{lang}"] for lang in LANGUAGES} for row in csv.DictReader(fh)}


def region_codes() -> list[str]:
    return list(_regions())


def region_name(code: str | None, lang: str | None = None) -> str:
    """Region name in the UI language; an unknown code is shown as itself, a missing one as «not known»."""
    lang = lang or current_lang()
    if code is None or (isinstance(code, float) and pd.isna(code)):
        return translate(lang, "region.unknown")
    names = _regions().get(str(code))
    return names[lang] if names is not None else str(code)


# ---------------------------------------------------------------------------------------------- numbers
_UNITS = (
    (10**12, "unit.trillion"),
    (10**9, "unit.billion"),
    (10**6, "unit.million"),
    (10**3, "unit.thousand"),
)


def _group_digits(text: str, lang: str) -> str:
    # Russian and Kazakh group thousands with a (non-breaking) space and use a decimal comma.
    if lang == "en":
        return text
    return text.replace(",", "\u00a0").replace(".", ",")


def format_int(value: int | float | Decimal, lang: str | None = None) -> str:
    return _group_digits(f"{int(value):,}", lang or current_lang())


def format_kzt(value: int | float | Decimal | None, lang: str | None = None) -> str:
    """A sum for headlines: «12,3 млрд ₸» / «12.3 bn ₸»; exact sums stay in the tables."""
    lang = lang or current_lang()
    if value is None:
        return "—"
    number = float(value)
    for size, key in _UNITS:
        if abs(number) >= size:
            return f"{_group_digits(f'{number / size:,.1f}', lang)} {translate(lang, key)} ₸"
    return f"{_group_digits(f'{number:,.0f}', lang)} ₸"


def format_percent(part: float, whole: float, lang: str | None = None) -> str:
    if not whole:
        return "—"
    return f"{_group_digits(f'{100 * part / whole:.1f}', lang or current_lang())} %"


def format_datetime(value: datetime | None) -> str:
    """A fetch time for the footer; aware values are shown in Almaty time, as goszakup publishes."""
    if value is None or pd.isna(value):
        return "—"
    if value.tzinfo is not None:
        value = value.astimezone(ALMATY)
    return value.strftime("%Y-%m-%d %H:%M")


# -------------------------------------------------------------------------------------------- safe text
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&=^\"'])")


def escape_md(text: object) -> str:
    """Untrusted text (names from sources, search terms from a URL) made inert inside Streamlit markdown.

    Every ASCII punctuation mark that markdown, Streamlit's `:color[...]`/`:icon:` directives or LaTeX could
    read is backslash-escaped (CommonMark unescapes them to themselves), and line breaks become spaces, so a
    name can neither format, link, load an image nor break out of its line.
    """
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def safe_link(url: object) -> str | None:
    """Only http(s) links reach a clickable cell; anything else (javascript:, data:, junk) is dropped."""
    if not isinstance(url, str):
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


# --------------------------------------------------------------------------------- URL-bound code widgets
def seed_codes_from_url(
    key: str, options: Sequence[str], label: Callable[[str, str], str], *, multiple: bool = True
) -> None:
    """Let a link name filter values by code (`?region=75`) or by a label in any UI language.

    Bound widgets keep their *labels* in the URL, which change with the language; links built elsewhere
    (an entity page, a script) are better written with codes. On a session's first run, before the widget
    exists, such values are translated into the widget's state, so the view is right. Streamlit then drops
    the parameter it could not read from the address bar; it reappears (as a label) on the next change.
    """
    if key in st.session_state:
        return
    raw = st.query_params.get_all(key)
    if not raw:
        return
    lang = current_lang()
    by_text = {code: code for code in options}
    for other in LANGUAGES:
        by_text.update({label(code, other): code for code in options})
    codes = list(dict.fromkeys(by_text[value] for value in raw if value in by_text))
    if not codes or [label(code, lang) for code in codes] == raw:
        return  # nothing to translate: the binding reads (or drops) the values itself
    st.session_state[key] = codes if multiple else codes[-1]


# Widgets whose URL value is a translated label: re-assigned on a language switch so the URL follows.
LABELLED_KEYS = ("region", "basis", "instrument", "competitive", "sort")


def relabel_bound_widgets() -> None:
    """on_change of the language selector: re-store the values so bound URLs carry the new labels."""
    for key in LABELLED_KEYS:
        if key in st.session_state:
            value = st.session_state[key]
            st.session_state[key] = list(value) if isinstance(value, list) else value


# ------------------------------------------------------------------------------------------ page chrome
def fictional_banner() -> None:
    st.warning(t("banner.fictional"), icon=":material/warning:")


def _source_label(source: str, sample_url: str | None) -> str:
    host = urlsplit(sample_url or "").hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        return t("source.simulator", source=source)
    key = f"source.{source}"
    text = t(key)
    return source if text == key else text


def footer(fresh: pd.DataFrame) -> None:
    """Where the data comes from and when it was last fetched, per source."""
    st.divider()
    if fresh.empty:
        st.caption(t("footer.no_raw"))
        return
    parts = [
        t(
            "footer.source",
            source=escape_md(_source_label(row.source, row.sample_url)),
            fetched=format_datetime(row.fetched_at),
            records=format_int(row.records),
        )
        for row in fresh.itertuples()
    ]
    st.caption(" · ".join(parts))
    st.caption(t("footer.about"))


# --------------------------------------------------------------------------------------- memoranda tables
# Shared by the memoranda page and the register's evidence section. Titles, party names and excerpts are
# untrusted source text: they go into grid cells, which render plain text only (never markdown or HTML).
def memoranda_table(frame: pd.DataFrame, *, key: str) -> None:
    """Memoranda as `queries.MEMORANDA_FRAME_COLUMNS`: date, title, parties, excerpt verbatim, source link."""
    shown = frame.assign(
        signed_on=pd.to_datetime(frame["signed_on"]),
        source_url=[safe_link(u) for u in frame["source_url"]],
        is_fictional=frame["is_fictional"].astype(bool),
    )
    st.dataframe(
        shown,
        hide_index=True,
        key=key,
        column_order=(
            "signed_on",
            "source_url",
            "title",
            "parties",
            "party_bins",
            "organizations",
            "subject",
            "excerpt",
            "language",
            "is_fictional",
            "memorandum_id",
        ),
        column_config={
            "signed_on": st.column_config.DateColumn(t("col.signed_on"), format="YYYY-MM-DD", pinned=True),
            "source_url": st.column_config.LinkColumn(
                t("col.source_url"), display_text=t("col.source_link"), pinned=True
            ),
            "title": st.column_config.TextColumn(t("col.title"), width="large"),
            "parties": st.column_config.TextColumn(t("col.parties"), width="large"),
            "party_bins": st.column_config.TextColumn(t("col.party_bins")),
            "organizations": st.column_config.TextColumn(
                t("col.organizations"), width="medium", help=t("col.organizations_help")
            ),
            "subject": st.column_config.TextColumn(t("col.subject"), width="medium"),
            "excerpt": st.column_config.TextColumn(
                t("col.excerpt"), width="large", help=t("col.excerpt_help")
            ),
            "language": st.column_config.TextColumn(t("col.language")),
            "is_fictional": st.column_config.CheckboxColumn(t("col.is_fictional")),
            "memorandum_id": st.column_config.TextColumn(t("col.memorandum_id")),
        },
    )


def parties_table(frame: pd.DataFrame, *, key: str) -> None:
    """One row per party: the name as written, its BIN, role, and the organization it resolved to."""
    st.dataframe(
        pd.DataFrame(
            {
                "name": frame["name"],
                "bin": [
                    ob if pd.isna(b) or not b else b
                    for b, ob in zip(frame["bin"], frame["org_bin"], strict=True)
                ],
                "role": frame["role"],
                "org_name": frame["org_name"],
            }
        ),
        hide_index=True,
        key=key,
        column_config={
            "name": st.column_config.TextColumn(t("col.party_name"), width="large"),
            "bin": st.column_config.TextColumn(t("col.party_bin")),
            "role": st.column_config.TextColumn(t("col.party_role")),
            "org_name": st.column_config.TextColumn(t("col.organization"), width="large"),
        },
    )
