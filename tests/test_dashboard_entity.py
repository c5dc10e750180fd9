"""Search, entity card and region pages: their queries and their page logic through Streamlit's AppTest.

Every database test runs on SQLite and PostgreSQL (the `db_url` fixture) against the fictional market of
`tests/dashboard_fixtures_entity.py`; expected values are derived from that fixture's constants.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from decimal import Decimal

import pandas as pd
import pytest
import streamlit as st
from dashboard_fixtures import ENGAGEMENTS, ORGS, source_url
from dashboard_fixtures_entity import (
    BILIM,
    BILIM_ID,
    BILIM_KATO,
    DIGITAL_ID,
    FLAG_EXPLANATION,
    FLAG_ID,
    IIN,
    PERSON_ID,
    PERSON_NAME,
    SPELLINGS,
    TENDERS,
    seed_entity,
    tender_url,
)
from sqlalchemy import Engine, update
from streamlit.testing.v1 import AppTest

from dashboard import queries_entity as q
from dashboard.i18n import LANGUAGES, catalogue, translate
from dashboard.queries import read_engine
from dashboard.ui import escape_md, format_int, format_kzt, region_name
from entities.config import PROJECT_ROOT
from entities.db import session_scope
from entities.models import Organization
from pipeline.normalize.common import name_norm

APP = PROJECT_ROOT / "dashboard" / "app.py"
TIMEOUT = 30
BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> Iterator[None]:
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def seeded(db_url: str, engine: Engine) -> str:
    seed_entity(engine)
    return db_url


@pytest.fixture
def reader(seeded: str) -> Iterator[Engine]:
    eng = read_engine(seeded)
    yield eng
    eng.dispose()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    def make(url: str, page: str, **params: str) -> AppTest:
        """Run the frame once (it registers the pages), then open `page` with `params` in the URL."""
        monkeypatch.setenv("ASHYQ_DATABASE_URL", url)
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.query_params.update(params)
        at.run()
        at.query_params = dict(params)
        return at.switch_page(f"views/{page}.py").run()

    return make


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def all_text(at: AppTest) -> str:
    """Every text the page rendered: markdown, captions, titles, code blocks, alerts and every grid cell."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "code", "info", "warning", "metric"):
        parts += [str(getattr(el, "value", "")) for el in at.get(kind)]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------ search queries
@pytest.mark.parametrize(
    "term",
    ["Білім", "БИЛИМ", "билим технолоджис", "Bilim Technologies", "Билим Технолоджис", "Білім Техналоджис"],
)
def test_search_ranks_the_name_first_in_any_script(reader: Engine, term: str) -> None:
    hits = q.search(reader, term)
    assert hits["entity_id"].iloc[0] == BILIM_ID
    assert hits["matched_by"].iloc[0] == "name"


def test_search_finds_persons_and_public_bodies(reader: Engine) -> None:
    assert q.search(reader, "жумабеков ерлан")["entity_id"].iloc[0] == PERSON_ID
    body = ORGS["astana_edu"]
    hits = q.search(reader, "Управление образования Астаны")
    assert hits["entity_id"].iloc[0] == f"kz-bin-{body.bin}"
    assert hits["kind"].iloc[0] == "public_body"


def test_search_by_bin_exact_and_prefix(reader: Engine) -> None:
    exact = q.search(reader, BILIM.bin)
    assert list(exact["entity_id"]) == [BILIM_ID]
    assert exact["matched_by"].iloc[0] == "bin"
    spaced = q.search(reader, f"{BILIM.bin[:6]} {BILIM.bin[6:]}")
    assert list(spaced["entity_id"]) == [BILIM_ID]
    prefix = q.search(reader, BILIM.bin[:4])
    assert set(prefix["entity_id"]) == {
        f"kz-bin-{o.bin}" for o in ORGS.values() if o.bin.startswith(BILIM.bin[:4])
    }


def test_search_by_iin_finds_the_person_and_never_returns_the_number(reader: Engine) -> None:
    hits = q.search(reader, IIN)
    assert list(hits["entity_id"]) == [PERSON_ID]
    assert hits["matched_by"].iloc[0] == "iin"
    assert IIN not in hits.to_csv()


def test_search_of_nothing_finds_nothing(reader: Engine) -> None:
    assert q.search(reader, "   ").empty
    assert q.search(reader, "Қарағанды Металлургия Комбинаты").empty


# ------------------------------------------------------------------------------------------- card queries
def test_tender_history_won_lost_open(reader: Engine) -> None:
    frame = q.tenders(reader, BILIM.bin)
    by_trd = {int(r.trd_buy_id): r for r in frame.itertuples()}
    mine = [tnd for tnd in TENDERS if any(who == "bilim" for who, _ in tnd.bids)]
    assert set(by_trd) == {tnd.trd_buy_id for tnd in mine}
    for tnd in mine:
        row = by_trd[tnd.trd_buy_id]
        expected = "open" if tnd.winner is None else ("won" if tnd.winner == "bilim" else "lost")
        assert row.outcome == expected
        assert int(row.bidders) == len(tnd.bids)
        assert Decimal(str(row.price)) == dict(tnd.bids)["bilim"]
        assert row.winner_bin == (ORGS[tnd.winner].bin if tnd.winner else None) or (
            tnd.winner is None and pd.isna(row.winner_bin)
        )
        assert row.source_url == tender_url(tnd.trd_buy_id)
    assert q.tenders(reader, None).empty


def test_identity_names_people_flags_sources(reader: Engine) -> None:
    org = q.organization(reader, BILIM_ID)
    assert org is not None
    assert org["bin"] == BILIM.bin
    assert org["bin_info"]["registered"] == f"20{BILIM.bin[:2]}-{BILIM.bin[2:4]}"
    assert org["bin_info"]["entity_type"] == "resident_legal_entity"
    assert org["kato"] == BILIM_KATO
    assert "iin" not in org
    assert set(q.names_seen(reader, BILIM_ID, "organization")["name"]) == set(SPELLINGS)
    links = q.merge_links(reader, BILIM_ID)
    assert set(links["rule"]) == {"id", "name"}
    people = q.people(reader, BILIM_ID, "organization")
    assert list(people["other_id"]) == [PERSON_ID]
    assert list(q.people(reader, PERSON_ID, "person")["other_id"]) == [BILIM_ID]
    flags = q.flags_about(reader, BILIM_ID)
    assert list(flags["flag_id"]) == [FLAG_ID]
    assert flags["state"].iloc[0] == "justified"  # the newest adjudication is in force
    assert flags["explanation"].iloc[0] == FLAG_EXPLANATION
    assert q.flags_about(reader, DIGITAL_ID).empty
    sources = q.sources(reader, BILIM_ID, "organization", org["raw_record_id"])
    assert len(sources) == 1 + 1 + len(SPELLINGS)  # own record, the head's record, one per spelling


def test_person_identity_hides_the_iin(reader: Engine) -> None:
    person = q.person(reader, PERSON_ID)
    assert person is not None
    assert person["has_iin"] is True
    assert "iin_hash" not in person
    assert IIN not in repr(person)


def test_engagements_and_totals_match_seed(reader: Engine) -> None:
    frame = q.engagements(reader, BILIM_ID)
    rows = [r for r in ENGAGEMENTS if r.provider == "bilim"]
    assert {source_url(r.n) for r in rows} == set(frame["source_url"])
    assert set(frame["role"]) == {"provider"}
    dates = list(frame["signed_on"])
    assert dates == sorted(dates, reverse=True)
    totals, timeline = q.totals_and_timeline(reader, BILIM_ID)
    assert Decimal(str(totals["amount_kzt"].map(Decimal).sum())) == sum(r.amount for r in rows)
    school = q.engagements(reader, f"kz-bin-{ORGS['school12'].bin}")
    assert set(school["role"]) == {"buyer"}
    assert dict(zip(timeline["year"], timeline["engagements"], strict=True)) == {
        y: sum(1 for r in rows if r.signed_on.year == y) for y in {r.signed_on.year for r in rows}
    }


# ----------------------------------------------------------------------------------------- region queries
@pytest.mark.parametrize("kato", ["71", "75", "63"])
def test_region_summary_and_parties_match_seed(reader: Engine, kato: str) -> None:
    rows = [r for r in ENGAGEMENTS if r.region == kato]
    f = q.RegionFilter(kato)
    view = q.region_view(reader, f)
    summary = view["summary"]
    assert summary["engagements"] == len(rows)
    assert summary["amount_kzt"] == sum(r.amount for r in rows)
    assert summary["buyers"] == len({r.buyer for r in rows if r.buyer})
    assert summary["providers"] == len({r.provider for r in rows})
    providers = view["providers"]
    expected = {}
    for r in rows:
        expected[ORGS[r.provider].bin] = expected.get(ORGS[r.provider].bin, Decimal(0)) + r.amount
    assert dict(zip(providers["bin"], providers["amount_kzt"], strict=True)) == pytest.approx(
        {k: float(v) for k, v in expected.items()}
    )
    assert list(providers["amount_kzt"]) == sorted(providers["amount_kzt"], reverse=True)
    cats = view["categories"]
    assert cats["amount_kzt"].sum() == pytest.approx(float(sum(r.amount for r in rows)))
    for _, part in cats.groupby("category"):
        assert part["share"].sum() == pytest.approx(1.0)
    bases = view["bases"]
    assert set(bases["legal_basis"]) == {r.legal_basis for r in rows}
    years = view["years"]
    assert dict(years.groupby("year")["engagements"].sum()) == {
        y: sum(1 for r in rows if r.signed_on.year == y) for y in {r.signed_on.year for r in rows}
    }


def test_region_district_narrows_to_buyers_there(reader: Engine) -> None:
    # The school (region 75) carries a district code in its KATO; other buyers of 75 would not.
    assert q.region_districts(reader, "75") == [BILIM_KATO[2:4]]
    rows = [r for r in ENGAGEMENTS if r.region == "75" and r.buyer == "school12"]
    assert q.region_view(reader, q.RegionFilter("75", BILIM_KATO[2:4]))["summary"]["engagements"] == len(rows)
    assert q.region_view(reader, q.RegionFilter("75", "99"))["summary"]["engagements"] == 0


def test_categories_come_from_the_vocabulary() -> None:
    assert q.category_of("Электронный журнал, годовая подписка") == "platform"
    assert q.category_of("Ноутбуки") == "equipment"
    assert q.category_of("Күнделік платформасына жазылым") == "platform"
    assert q.category_of("Аренда помещения") == "other"
    assert q.category_of(None) == "other"


def test_frame_csv_has_bom_and_every_row(reader: Engine) -> None:
    frame = q.tenders(reader, BILIM.bin)
    data = q.frame_csv(frame)
    assert data.startswith(BOM)
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(table[0]) == tuple(frame.columns)
    assert len(table) == len(frame) + 1
    assert {row[table[0].index("outcome")] for row in table[1:]} == {"won", "lost", "open"}


# ------------------------------------------------------------------------------------------- translations
def test_codes_shown_on_these_pages_have_labels_in_every_language() -> None:
    codes = [f"kind.{k}" for k in ("organization", "company", "individual_entrepreneur", "public_body", "school",
                                   "ngo", "foreign", "person")]  # fmt: skip
    codes += [f"entity.outcome.{o}" for o in ("won", "lost", "open")]
    codes += [f"entity.role.{r}" for r in ("buyer", "provider")] + [
        f"entity.totals.{r}" for r in ("buyer", "provider")
    ]
    codes += [f"severity.{s}" for s in ("low", "medium", "high")]
    codes += [f"adjudication.{s}" for s in ("justified", "unjustified", "none")]
    codes += [
        f"bin_type.{s}"
        for s in ("resident_legal_entity", "non_resident", "joint_individual_entrepreneur", "unknown")
    ]
    codes += ["nav.search", "nav.entity", "nav.region", "common.cite_text"]
    for lang in LANGUAGES:
        missing = [c for c in codes if c not in catalogue(lang)]
        assert not missing, (lang, missing)


# ------------------------------------------------------------------------------------------------ AppTest
def test_search_page_lists_matches_with_card_links(app: Callable[..., AppTest], seeded: str) -> None:
    at = app(seeded, "search", q="Білім")
    no_exception(at)
    table = at.dataframe[0].value
    assert table["entity_id"].iloc[0] == BILIM_ID
    assert table["link"].iloc[0] == f"entity?id={BILIM_ID}&lang=ru"
    assert at.text_input(key="q").value == "Білім"
    assert at.get("download_button")


def test_search_page_by_iin_never_shows_it(app: Callable[..., AppTest], seeded: str) -> None:
    at = app(seeded, "search", q=IIN)
    no_exception(at)
    assert list(at.dataframe[0].value["entity_id"]) == [PERSON_ID]
    rendered = all_text(at)
    assert PERSON_NAME in rendered
    assert IIN not in rendered  # only the reader's own input box holds it


@pytest.mark.parametrize("lang", LANGUAGES)
def test_entity_card_in_every_language(app: Callable[..., AppTest], seeded: str, lang: str) -> None:
    at = app(seeded, "entity", id=BILIM_ID, lang=lang)
    no_exception(at)
    assert at.title[0].value == escape_md(BILIM.name_ru)
    tabs = [tab.label for tab in at.tabs]
    assert translate(lang, "entity.tab.tenders") in tabs
    tenders = next(df.value for df in at.dataframe if "outcome" in df.value.columns)
    outcomes = {translate(lang, f"entity.outcome.{o}") for o in ("won", "lost", "open")}
    assert set(tenders["outcome"]) == outcomes
    assert set(tenders["source_url"]) == {tender_url(t.trd_buy_id) for t in TENDERS}
    cite = at.code[0].value
    assert BILIM.name_ru in cite
    assert f"entity?id={BILIM_ID}" in cite
    assert "2025-11-20" in cite  # the fetch date of the records the card rests on
    assert "https://stat.gov.kz/" in cite
    engagement_cite = at.code[1].value
    assert "register?engagement=goszakup-contract-9000004" in engagement_cite
    assert source_url(4) in engagement_cite
    flags = next(df.value for df in at.dataframe if "explanation" in df.value.columns)
    assert list(flags["state"]) == [translate(lang, "adjudication.justified")]
    identity = at.dataframe[0].value
    assert BILIM.bin in set(identity["value"])
    rows = [r for r in ENGAGEMENTS if r.provider == "bilim"]
    summary = translate(
        lang,
        "entity.totals.provider",
        count=format_int(len(rows), lang),
        amount=format_kzt(sum(r.amount for r in rows), lang),
    )
    assert summary in [m.value for m in at.markdown]
    assert len(at.get("download_button")) >= 6


def test_person_card_shows_roles_and_not_the_iin(app: Callable[..., AppTest], seeded: str) -> None:
    at = app(seeded, "entity", id=PERSON_ID)
    no_exception(at)
    assert at.title[0].value == escape_md(PERSON_NAME)
    rendered = all_text(at)
    assert translate("ru", "entity.iin_known") in rendered
    assert IIN not in rendered
    people = next(df.value for df in at.dataframe if "other_name" in df.value.columns)
    assert list(people["card"]) == [f"entity?id={BILIM_ID}&lang=ru"]


def test_unknown_and_missing_entity(app: Callable[..., AppTest], seeded: str) -> None:
    at = app(seeded, "entity", id="kz-bin-000000000000")
    no_exception(at)
    assert at.warning[-1].value == translate("ru", "entity.unknown", id=escape_md("kz-bin-000000000000"))
    at = app(seeded, "entity")
    no_exception(at)
    assert translate("ru", "entity.no_id") in [i.value for i in at.info]


def test_hostile_name_is_escaped_on_card_and_in_search(
    app: Callable[..., AppTest], seeded: str, engine: Engine
) -> None:
    hostile = "**Жирный** <script>alert(1)</script> [x](javascript:alert(1)) :red[x]"
    with session_scope(engine) as session:
        session.execute(
            update(Organization)
            .where(Organization.id == DIGITAL_ID)
            .values(name_ru=hostile, name_norm=name_norm(hostile))
        )
    at = app(seeded, "entity", id=DIGITAL_ID)
    no_exception(at)
    assert at.title[0].value == escape_md(hostile)
    for md in at.markdown:
        assert "<script>" not in md.value
        assert "](javascript" not in md.value
    assert hostile in at.code[0].value  # the citation is plain text (st.code renders no markup)
    at = app(seeded, "search", q="Жирный")
    no_exception(at)
    assert at.dataframe[0].value["name"].iloc[0] == hostile  # verbatim in a grid cell


def test_region_page_and_register_link(app: Callable[..., AppTest], seeded: str) -> None:
    at = app(seeded, "region", kato="75")
    no_exception(at)
    rows = [r for r in ENGAGEMENTS if r.region == "75"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[translate("ru", "region.metric.engagements")] == format_int(len(rows), "ru")
    assert metrics[translate("ru", "region.metric.amount")] == format_kzt(sum(r.amount for r in rows), "ru")
    buyers, providers = [df.value for df in at.dataframe if "noncompetitive" in df.value.columns]
    assert providers["card"].iloc[0] == f"entity?id={BILIM_ID}&lang=ru"  # the region's largest provider
    assert set(buyers["bin"]) == {ORGS[r.buyer].bin for r in rows if r.buyer}
    assert len(at.get("plotly_chart")) == 3
    assert "region?kato=75" in at.code[0].value
    assert at.query_params["kato"] == "75"
    assert at.header[0].value == region_name("75", "ru")
    # The citizen's next step: the register opened with the region's code shows exactly its engagements.
    reg = app(seeded, "register", region="75")
    no_exception(reg)
    shown = {int(u.rsplit("/", 1)[1]) - 9000000 for u in reg.dataframe[0].value["source_url"] if u}
    assert shown == {r.n for r in rows}


def test_region_page_without_region_asks_for_one(app: Callable[..., AppTest], seeded: str) -> None:
    at = app(seeded, "region")
    no_exception(at)
    assert translate("ru", "region.pick") in [i.value for i in at.info]
    at.selectbox[0].set_value("71").run()
    no_exception(at)
    assert at.query_params["kato"] == "71"
    rows = [r for r in ENGAGEMENTS if r.region == "71"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[translate("ru", "region.metric.engagements")] == format_int(len(rows), "ru")


def _mix(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """A basis/year frame as comparable rows (an undated group as year -1)."""
    return sorted(
        (r.legal_basis, bool(r.competitive), -1 if pd.isna(r.year) else int(r.year), int(r.engagements),
         Decimal(str(r.amount_kzt)).quantize(Decimal("0.01")))
        for r in frame.itertuples()
    )  # fmt: skip


def test_region_mix_from_aggregates_equals_the_direct_query(engine: Engine, reader: Engine) -> None:
    """After the build's aggregates exist, the region page reads them; the mix must be what the scan gives."""
    from pipeline.aggregates import refresh

    assert q._by_basis_year_from_totals(reader, "75") is None  # no aggregates yet: the page scans
    refresh(engine)
    for kato in ("71", "75", "63"):
        f = q.RegionFilter(kato)
        fast = q._by_basis_year_from_totals(reader, kato)
        assert fast is not None
        assert _mix(fast) == _mix(q._by_basis_year_direct(reader, f)) != []
        assert q.region_view(reader, f)["summary"]["engagements"] == len([r for r in ENGAGEMENTS if r.region == kato])
