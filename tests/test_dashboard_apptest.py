"""The dashboard: query layer, page logic through Streamlit's AppTest, translations, safe rendering.

Every database test runs on SQLite and PostgreSQL (the `db_url` fixture) against a small fictional market
(`tests/dashboard_fixtures.py`); expected numbers are computed from that fixture's rows, not from SQL.
"""

from __future__ import annotations

import csv
import io
import re
import socket
import urllib.request
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from dashboard_fixtures import (
    ENGAGEMENTS,
    HOSTILE,
    HOSTILE_MEMO,
    MEMORANDA,
    ORGS,
    PPP_ENGAGEMENT_ID,
    PPP_PROJECT,
    PPP_SOURCE_URL,
    REFERRING_NEWS_URL,
    Row,
    memorandum_engagement_id,
    seed,
    seed_instruments,
)
from sqlalchemy import Engine, literal, select, text
from sqlalchemy.exc import SQLAlchemyError
from streamlit.testing.v1 import AppTest

from dashboard import queries
from dashboard.i18n import LANGUAGES, basis_label, catalogue, catalogue_files, translate
from dashboard.queries import EXPORT_COLUMNS, RegisterFilter, fold, fold_text, read_engine
from dashboard.ui import escape_md, format_int, format_kzt, format_percent, region_name, safe_link
from entities.config import PROJECT_ROOT
from entities.db import make_engine
from entities.migrate import upgrade
from pipeline import aggregates
from pipeline.serve import ServeError, free_port, port_is_free, serve_dashboard, streamlit_command

APP = PROJECT_ROOT / "dashboard" / "app.py"
DASHBOARD = PROJECT_ROOT / "dashboard"
TIMEOUT = 30  # generous for a loaded CI machine; a run takes well under a second here


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> Iterator[None]:
    """Cached engines and results are per URL, but drop them so each test's database can be removed."""
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def seeded(db_url: str, engine: Engine) -> str:
    seed(engine)
    return db_url


@pytest.fixture
def reader(seeded: str) -> Iterator[Engine]:
    eng = read_engine(seeded)
    yield eng
    eng.dispose()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """An AppTest of the real entrypoint against `url`, optionally opened with URL query parameters."""

    def make(url: str, **params: str | list[str]) -> AppTest:
        monkeypatch.setenv("ASHYQ_DATABASE_URL", url)
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.query_params.update(params)
        return at

    return make


def open_register(at: AppTest) -> AppTest:
    """Run the frame once (it registers the pages), then open the register with the same query params."""
    params = dict(at.query_params)
    at.run()
    at.query_params = params
    return at.switch_page("views/register.py").run()


def expected(rows: tuple[Row, ...] | list[Row]) -> tuple[int, Decimal]:
    return len(rows), sum((r.amount for r in rows), Decimal(0))


def shown_ids(at: AppTest) -> set[int]:
    """Seed row numbers of the register table's rows (recovered from each row's source link)."""
    frame = at.dataframe[0].value
    return {int(u.rsplit("/", 1)[1]) - 9000000 for u in frame["source_url"] if u}


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# ---------------------------------------------------------------------------------------- translations
def _keys_used_in_code() -> set[str]:
    keys: set[str] = set()
    for path in DASHBOARD.rglob("*.py"):
        keys |= set(re.findall(r"""\bt\(\s*"([a-z_.]+)""", path.read_text(encoding="utf-8")))
    return keys


def _dynamic_keys() -> set[str]:
    """Keys the code builds from codes: sort orders, competition choices, units, legal bases."""
    keys = {f"sort.{code}" for code in queries.SORTS}
    keys |= {f"filter.competitive.{code}" for code in queries.COMPETITIVE}
    keys |= {"unit.thousand", "unit.million", "unit.billion", "unit.trillion", "region.unknown"}
    keys |= {"error.database", "footer.source", "source.goszakup", "source.simulator", "banner.fictional"}
    keys |= {"source.govkz", "source.statgov", "source.curated", "source.ppp_import"}
    keys |= {f"instrument.{code}" for code in queries.INSTRUMENTS}
    keys |= {"relation.announces", "relation.refers_to"}
    # Every legal basis and instrument of DESIGN §6 has a human label.
    keys |= {
        f"basis.{code}"
        for code in [
            "open_tender",
            "auction",
            "price_quotations",
            "e_shop",
            "commodity_exchange",
            "single_source",
            "state_order",
            "special_procedure",
            "other_procurement",
            "ppp_agreement",
            "memorandum",
            "donation",
            "none_found",
        ]
    }
    return keys


def test_every_language_has_every_key() -> None:
    reference = set(catalogue("ru"))
    for lang in LANGUAGES:
        data = catalogue(lang)  # merges locales/<lang>/*.json and refuses a key defined twice
        assert set(catalogue_files(lang)) == set(catalogue_files("ru")), f"{lang}: other catalogue files"
        assert set(data) == reference, (
            f"{lang}: missing {reference - set(data)}, extra {set(data) - reference}"
        )
        assert all(isinstance(v, str) and v.strip() for v in data.values()), f"{lang} has an empty string"
        for key, value in data.items():  # the same placeholders in every language
            assert re.findall(r"{(\w+)}", value) == re.findall(r"{(\w+)}", catalogue("ru")[key]), (lang, key)
    missing = (_keys_used_in_code() | _dynamic_keys()) - reference
    assert not missing, f"keys used by the dashboard but absent from the catalogues: {missing}"


def test_translation_falls_back_to_russian_then_key() -> None:
    assert translate("kk", "nav.overview") == "Шолу"
    assert translate("xx", "nav.overview") == "Обзор"
    assert translate("en", "no.such.key") == "no.such.key"
    assert basis_label("single_source", "en") == "Single source"
    assert basis_label("brand_new_code", "kk") == "brand_new_code"  # an unknown code stays visible


def test_region_names_from_reference_in_each_language() -> None:
    assert region_name("75", "ru") == "г. Алматы"
    assert region_name("75", "kk") == "Алматы қаласы"
    assert region_name("75", "en") == "Almaty"
    assert region_name(None, "en") == "Region not known"
    assert region_name("99", "ru") == "99"


def test_number_formats_follow_the_language() -> None:
    assert format_kzt(Decimal("24749999.49"), "ru") == "24,7 млн ₸"
    assert format_kzt(Decimal("24749999.49"), "en") == "24.7 M ₸"
    assert format_kzt(Decimal("1500000000"), "kk") == "1,5 млрд ₸"
    assert format_kzt(Decimal("950"), "ru") == "950 ₸"
    assert format_int(1234567, "ru") == "1\u00a0234\u00a0567"
    assert format_int(1234567, "en") == "1,234,567"
    assert format_percent(1, 3, "en") == "33.3 %"
    assert format_percent(1, 0, "en") == "—"


# ------------------------------------------------------------------------------------------ safe text
@pytest.mark.parametrize(
    "hostile",
    [
        "**bold** _it_ `code`",
        "[click](https://evil.example) ![img](https://evil.example/x.png)",
        "<script>alert(1)</script> <img src=x onerror=alert(1)>",
        ":red[alarm] :material/warning: $x^2$",
        "# heading\n\n- item",
    ],
)
def test_escape_md_leaves_no_markup(hostile: str) -> None:
    escaped = escape_md(hostile)
    assert "\n" not in escaped
    # Every markdown-significant ASCII mark is preceded by a backslash.
    assert not re.search(r"(?<!\\)[*_`\[\]()<>!#:$-]", escaped), escaped
    # And unescaping gives the (flattened) original back: nothing is lost.
    assert re.sub(r"\\(.)", r"\1", escaped) == " ".join(hostile.split())


def test_safe_link_keeps_only_http() -> None:
    assert safe_link("https://goszakup.gov.kz/ru/x") == "https://goszakup.gov.kz/ru/x"
    assert safe_link("http://example.kz") == "http://example.kz"
    for bad in ("javascript:alert(1)", " JAVASCRIPT:alert(1)", "data:text/html,x", "//evil", "", None, 5):
        assert safe_link(bad) is None


# ---------------------------------------------------------------------------------------- query layer
FOLD_SAMPLES = ["ТОО «БІЛІМ Технолоджис»", "Әлем ҚҰРЫЛЫС Өнер ҢҒҮҺ", "Ёлка Ltd", "mixed ЛАТ lat"]


def test_fold_is_the_same_in_python_and_sql(reader: Engine) -> None:
    with reader.connect() as conn:
        for sample in FOLD_SAMPLES:
            assert conn.execute(select(fold(literal(sample)))).scalar() == fold_text(sample)
    assert fold_text("ТОО «БІЛІМ»") == "тоо «билим»"
    # every Kazakh letter to the Russian letter the resolver folds it to (қ→к, ө→о, һ→х, not shifted by one)
    assert fold_text("ӘҒҚҢӨҰҮҺІЁ әғқңөұүһіё") == "агкноуухие агкноуухие"


def test_dashboard_connections_cannot_write(reader: Engine) -> None:
    with pytest.raises(SQLAlchemyError), reader.begin() as conn:
        conn.execute(text("DELETE FROM engagements"))
    with reader.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM engagements")).scalar() == len(ENGAGEMENTS)


def test_overview_aggregates_match_seed(reader: Engine) -> None:
    head = queries.headline(reader)
    count, amount = expected(ENGAGEMENTS)
    assert head["contracts"] == count
    assert head["amount_kzt"] == amount
    assert head["competitive_amount_kzt"] == sum(r.amount for r in ENGAGEMENTS if r.competitive)
    assert head["buyers"] == len({r.buyer for r in ENGAGEMENTS if r.buyer})
    assert head["providers"] == len({r.provider for r in ENGAGEMENTS})

    basis = queries.by_legal_basis(reader)
    got = {
        (r.legal_basis, bool(r.competitive)): (r.contracts, Decimal(r.amount_kzt)) for r in basis.itertuples()
    }
    want: dict[tuple[str, bool], tuple[int, Decimal]] = {}
    for r in ENGAGEMENTS:
        n, s = want.get((r.legal_basis, r.competitive), (0, Decimal(0)))
        want[(r.legal_basis, r.competitive)] = (n + 1, s + r.amount)
    assert got == want
    assert list(basis["amount_kzt"]) == sorted(basis["amount_kzt"], reverse=True)

    year = queries.by_year(reader)
    assert year.groupby("year")["contracts"].sum().to_dict() == {2023: 2, 2024: 3, 2025: 3}
    region = queries.by_region(reader)
    by_code: dict[str | None, tuple[int, Decimal]] = {}
    for r in region.itertuples():
        code = None if pd.isna(r.region_kato) else r.region_kato
        n, total = by_code.get(code, (0, Decimal(0)))
        by_code[code] = (n + r.contracts, total + Decimal(r.amount_kzt))
    assert by_code["71"] == expected([r for r in ENGAGEMENTS if r.region == "71"])
    assert by_code[None] == expected([r for r in ENGAGEMENTS if r.region is None])
    assert queries.years(reader) == [2025, 2024, 2023]


SEARCHES = [
    # (field, what a reader types, seed rows expected)
    ("provider", "БІЛІМ", {1, 2, 4}),  # upper-case Kazakh letters
    ("provider", "билим", {1, 2, 4}),  # Russian и for Kazakh і
    ("provider", "цифровая ШКОЛА", {3, 6, 7, 8}),
    ("buyer", "балдаурен", {5, 6}),  # ә typed as а
    ("buyer", "білім басқармасы", {3, 4, 7}),  # only the Kazakh name has these words
    ("buyer", "өнер", {8}),  # no organization row: the engagement's own name is searched
    ("buyer", ORGS["school12"].bin[:6], {1, 2}),  # BIN prefix
    ("buyer", "100%_школ", set()),  # LIKE wildcards are literal characters
]


@pytest.mark.parametrize(("field", "term", "rows"), SEARCHES)
def test_name_and_bin_search(reader: Engine, field: str, term: str, rows: set[int]) -> None:
    f = RegisterFilter(**{field: term})
    frame = queries.register_rows(reader, f)
    assert {int(i.rsplit("-", 1)[1]) - 9000000 for i in frame["engagement_id"]} == rows
    assert queries.register_summary(reader, f)["contracts"] == len(rows)


def test_register_filters_combine_and_sort(reader: Engine) -> None:
    f = RegisterFilter(
        regions=("71", "75"), years=(2024,), legal_bases=("single_source",), sort="amount_desc"
    )
    frame = queries.register_rows(reader, f)
    assert list(frame["amount_kzt"]) == [Decimal("12000000.00"), Decimal("2500000.50")]
    assert queries.register_rows(reader, RegisterFilter(competitive=True))["competitive"].all()
    assert len(queries.register_rows(reader, RegisterFilter(), limit=3)) == 3
    dates = list(queries.register_rows(reader, RegisterFilter(sort="signed_asc"))["signed_on"])
    assert dates == sorted(dates)


def test_register_csv_has_bom_header_and_every_filtered_row(reader: Engine) -> None:
    f = RegisterFilter(years=(2024, 2025))
    data = queries.register_csv(reader, f)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    body = rows[1:]
    want = [r for r in ENGAGEMENTS if r.signed_on.year in (2024, 2025)]
    assert len(body) == len(want)
    by_id = {row[0]: dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in body}
    row4 = by_id["goszakup-contract-9000004"]
    assert row4["amount_kzt"] == "12000000.00"
    assert row4["signed_on"] == "2024-09-01"
    assert row4["competitive"] == "false"
    assert row4["provider_name"] == "ТОО «Білім Технолоджис»"
    assert row4["region_kato"] == "71"


def test_register_csv_streams_more_than_a_batch(reader: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "CSV_BATCH", 3)
    rows = list(csv.reader(io.StringIO(queries.register_csv(reader, RegisterFilter()).decode("utf-8-sig"))))
    assert len(rows) == 1 + len(ENGAGEMENTS)


# ------------------------------------------------------------------------------------------- AppTest
def test_overview_shows_seeded_numbers_and_banner(app: Callable[..., AppTest], seeded: str) -> None:
    at = app(seeded).run()
    no_exception(at)
    assert [w.value for w in at.warning] == [translate("ru", "banner.fictional")]
    metrics = {m.label: m.value for m in at.metric}
    count, amount = expected(ENGAGEMENTS)
    noncompetitive = sum((r.amount for r in ENGAGEMENTS if not r.competitive), Decimal(0))
    assert metrics[translate("ru", "metric.contracts")] == str(count)
    assert metrics[translate("ru", "metric.amount")] == format_kzt(amount, "ru")
    assert metrics[translate("ru", "metric.noncompetitive_share")] == format_percent(
        noncompetitive, amount, "ru"
    )
    table = at.dataframe[0].value
    single = table[table["basis"] == translate("ru", "basis.single_source")]
    assert int(single["contracts"].iloc[0]) == 2
    assert single["amount"].iloc[0] == pytest.approx(14_500_000.50)
    assert len(at.get("plotly_chart")) == 3
    providers = at.dataframe[1].value
    assert providers["provider_name"].iloc[0] == "ТОО «Білім Технолоджис»"  # 15.5 M, the largest
    captions = [c.value for c in at.caption]
    buyers = len({r.buyer for r in ENGAGEMENTS if r.buyer})
    providers = len({r.provider for r in ENGAGEMENTS})
    assert (
        translate("ru", "overview.parties", period="2023–2025", buyers=buyers, providers=providers)
        in captions
    )
    footer = " ".join(captions)
    assert "2025-11-20" in footer
    assert "goszakup" in footer


def test_no_banner_for_real_data(app: Callable[..., AppTest], db_url: str, engine: Engine) -> None:
    seed(engine, fictional=False)
    at = app(db_url).run()
    no_exception(at)
    assert not at.warning
    at = open_register(app(db_url))
    no_exception(at)
    assert not at.warning


def test_register_lists_rows_with_source_links(app: Callable[..., AppTest], seeded: str) -> None:
    at = open_register(app(seeded))
    no_exception(at)
    assert [w.value for w in at.warning] == [translate("ru", "banner.fictional")]
    assert shown_ids(at) == {r.n for r in ENGAGEMENTS}
    frame = at.dataframe[0].value
    assert list(frame["signed_on"]) == sorted(frame["signed_on"], reverse=True)  # newest first by default
    assert frame["source_url"].str.startswith("https://goszakup.gov.kz/").all()
    count, amount = expected(ENGAGEMENTS)
    assert at.markdown[0].value == translate(
        "ru", "register.found", count=count, amount=format_kzt(amount, "ru")
    )
    [download] = at.get("download_button")
    assert download.label == translate("ru", "register.download")


def test_pages_read_the_aggregates_with_the_same_numbers(
    app: Callable[..., AppTest], seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the build's aggregates stage the overview and the register's totals come from the aggregates."""
    engine = make_engine(seeded)
    try:
        aggregates.refresh(engine)
    finally:
        engine.dispose()
    at = app(seeded).run()
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    count, amount = expected(ENGAGEMENTS)
    assert metrics[translate("ru", "metric.contracts")] == str(count)
    assert metrics[translate("ru", "metric.amount")] == format_kzt(amount, "ru")
    assert at.dataframe[1].value["provider_name"].iloc[0] == "ТОО «Білім Технолоджис»"

    # The register shows the first REGISTER_LIMIT rows of the order and says the CSV has the rest.
    monkeypatch.setattr(queries, "REGISTER_LIMIT", 2)
    at = open_register(app(seeded, region="71"))
    no_exception(at)
    astana = [r for r in ENGAGEMENTS if r.region == "71"]
    n, total = expected(astana)
    assert at.markdown[0].value == translate("ru", "register.found", count=n, amount=format_kzt(total, "ru"))
    assert shown_ids(at) == {r.n for r in sorted(astana, key=lambda r: r.signed_on, reverse=True)[:2]}
    assert translate("ru", "register.truncated", limit=2) in [c.value for c in at.caption]


def test_register_widgets_filter(app: Callable[..., AppTest], seeded: str) -> None:
    at = open_register(app(seeded))
    at.multiselect(key="region").select("71")
    at.multiselect(key="year").select(2025)
    at.run()
    no_exception(at)
    assert shown_ids(at) == {7}
    at.multiselect(key="year").unselect(2025)
    at.multiselect(key="basis").select("single_source")
    at.run()
    assert shown_ids(at) == {4}
    at.multiselect(key="region").unselect("71")
    at.text_input(key="provider").input("БІЛІМ").run()
    assert shown_ids(at) == {2, 4}
    at.multiselect(key="basis").unselect("single_source")
    at.text_input(key="provider").input("").run()
    at.text_input(key="buyer").input("балдаурен").run()
    assert shown_ids(at) == {5, 6}
    assert "балдаурен" in at.markdown[0].value


def test_query_params_restore_filters(app: Callable[..., AppTest], seeded: str) -> None:
    """A permalink: bound widgets read their labels from the URL (as the browser writes them)."""
    at = open_register(
        app(
            seeded,
            region=[region_name("71", "ru"), region_name("75", "ru")],
            basis=basis_label("single_source", "ru"),
            year="2024",
            buyer="білім басқармасы",
            sort=translate("ru", "sort.amount_asc"),
        )
    )
    no_exception(at)
    assert at.multiselect(key="region").value == ["71", "75"]
    assert at.multiselect(key="basis").value == ["single_source"]
    assert at.multiselect(key="year").value == [2024]
    assert at.text_input(key="buyer").value == "білім басқармасы"
    assert at.selectbox(key="sort").value == "amount_asc"
    assert shown_ids(at) == {4}


def test_query_params_accept_codes_and_other_languages(app: Callable[..., AppTest], seeded: str) -> None:
    """Links written by code (`region=63`) or in another language still open the same view."""
    at = open_register(app(seeded, region="63", basis=basis_label("state_order", "kk"), competitive="no"))
    no_exception(at)
    assert at.multiselect(key="region").value == ["63"]
    assert at.multiselect(key="basis").value == ["state_order"]
    assert at.selectbox(key="competitive").value == "no"
    assert shown_ids(at) == {6}


@pytest.mark.parametrize("lang", ["kk", "en"])
def test_languages_switch_the_whole_ui(app: Callable[..., AppTest], seeded: str, lang: str) -> None:
    at = app(seeded, lang=lang).run()
    no_exception(at)
    assert at.button_group(key="lang").value == lang
    assert at.title[0].value == translate(lang, "overview.title")
    assert [w.value for w in at.warning] == [translate(lang, "banner.fictional")]
    assert translate(lang, "metric.contracts") in [m.label for m in at.metric]
    at = open_register(app(seeded, lang=lang))
    no_exception(at)
    assert at.title[0].value == translate(lang, "register.title")
    regions = set(at.dataframe[0].value["region"])
    assert region_name("71", lang) in regions


def test_language_selector_changes_language(app: Callable[..., AppTest], seeded: str) -> None:
    at = app(seeded).run()
    assert at.title[0].value == translate("ru", "overview.title")
    at.button_group(key="lang").set_value("en").run()
    no_exception(at)
    assert at.title[0].value == translate("en", "overview.title")


def test_hostile_names_are_shown_as_text(app: Callable[..., AppTest], db_url: str, engine: Engine) -> None:
    seed(engine, hostile=True)
    at = open_register(app(db_url, buyer="**Жирный**"))
    no_exception(at)
    frame = at.dataframe[0].value
    assert list(frame["buyer_name"]) == [HOSTILE.buyer_name]  # verbatim, in a grid cell (no markup)
    assert frame["source_url"].isna().all()  # javascript: never becomes a link
    assert r"«\*\*Жирный\*\*»" in at.markdown[0].value  # the search term echoes escaped, not bold


def test_missing_database_gives_a_clear_error(app: Callable[..., AppTest], tmp_path: Path) -> None:
    at = app(f"sqlite:///{tmp_path / 'absent.sqlite'}").run()
    assert not at.exception
    [error] = at.error
    assert "ashyq demo" in error.value


def test_empty_database_says_so(app: Callable[..., AppTest], db_url: str) -> None:
    at = app(db_url).run()
    no_exception(at)
    assert [i.value for i in at.info] == [translate("ru", "empty.no_engagements")]
    assert not at.warning


# ------------------------------------------------------------------------------------------ serving
def test_serve_dashboard_runs_streamlit_on_loopback(tmp_path: Path) -> None:
    """`ashyq dashboard` as the CLI starts it: a real Streamlit process, healthy, then stopped."""
    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    seed(engine)
    engine.dispose()
    port = free_port()
    with serve_dashboard(port=port, database_url=url, wait=False) as running:
        assert running.url == f"http://127.0.0.1:{port}"
        assert running.healthy()
        with urllib.request.urlopen(running.url) as resp:  # the app shell Streamlit serves
            assert resp.status == 200
        assert not port_is_free(port)
    assert running.process.returncode is not None
    assert port_is_free(port)


def test_serve_dashboard_refuses_a_taken_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(ServeError, match=f"port {port}"):
            serve_dashboard(port=port, wait=False)


def test_streamlit_command_has_production_settings() -> None:
    cmd = " ".join(streamlit_command(8501))
    for flag in (
        "--server.address=127.0.0.1",
        "--server.port=8501",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--client.toolbarMode=viewer",
    ):
        assert flag in cmd


# ------------------------------------------------------------------------- instruments, evidence, memoranda
@pytest.fixture
def with_instruments(db_url: str, engine: Engine) -> str:
    seed(engine)
    seed_instruments(engine)
    return db_url


def has_table(at: AppTest, column: str) -> bool:
    return any(column in d.value.columns for d in at.dataframe)


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first grid with `column` (AppTest keeps keys only for grids that are widgets)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def shown_instruments(at: AppTest, lang: str = "ru") -> list[str]:
    return list(at.dataframe[0].value["instrument"])


def test_instrument_filter_in_query_layer(with_instruments: str) -> None:
    eng = read_engine(with_instruments)
    try:
        memos = queries.register_rows(eng, RegisterFilter(instruments=("memorandum",)))
        assert set(memos["engagement_id"]) == {memorandum_engagement_id(m.id) for m in MEMORANDA}
        both = queries.register_rows(
            eng, RegisterFilter(instruments=("ppp_agreement", "procurement_contract"))
        )
        assert len(both) == len(ENGAGEMENTS) + 1
        # Sorted by pair, one buyer–provider pair's engagements of every instrument are adjacent.
        pair = queries.register_rows(eng, RegisterFilter(sort="pair"))
        keys = list(zip(pair["buyer_name"], pair["provider_name"], strict=True))
        astana_digital = (ORGS["astana_edu"].name_ru, ORGS["digital"].name_ru)
        at = [i for i, k in enumerate(keys) if k == astana_digital]
        assert len(at) == 3
        assert at == list(range(at[0], at[0] + 3))
        assert set(pair["instrument"].iloc[at[0] : at[0] + 3]) == {"procurement_contract", "ppp_agreement"}
    finally:
        eng.dispose()


def test_register_instrument_widget_and_url(app: Callable[..., AppTest], with_instruments: str) -> None:
    at = open_register(app(with_instruments))
    no_exception(at)
    assert translate("ru", "instrument.memorandum") in shown_instruments(at)
    at.multiselect(key="instrument").select("ppp_agreement").run()
    no_exception(at)
    frame = at.dataframe[0].value
    assert list(frame["instrument"]) == [translate("ru", "instrument.ppp_agreement")]
    assert list(frame["engagement_id"]) == [PPP_ENGAGEMENT_ID]
    # A permalink by label (as the browser writes it) and one by code open the same view.
    for value in (translate("ru", "instrument.memorandum"), "memorandum"):
        at = open_register(app(with_instruments, instrument=value))
        no_exception(at)
        assert at.multiselect(key="instrument").value == ["memorandum"]
        assert set(at.dataframe[0].value["engagement_id"]) == {
            memorandum_engagement_id(m.id) for m in MEMORANDA
        }
    at = open_register(
        app(with_instruments, lang="en", instrument="Procurement contract", sort="Buyer, then provider")
    )
    no_exception(at)
    assert len(at.dataframe[0].value) == len(ENGAGEMENTS)
    assert at.selectbox(key="sort").value == "pair"


def test_memorandum_engagement_lists_its_evidence(app: Callable[..., AppTest], with_instruments: str) -> None:
    memo = MEMORANDA[0]
    at = open_register(app(with_instruments, engagement=memorandum_engagement_id(memo.id)))
    no_exception(at)
    assert at.text_input(key="engagement").value == memorandum_engagement_id(memo.id)
    raw = table(at, "record_type")
    assert set(raw["source"]) == {"govkz"}
    assert set(raw["human_url"]) == {memo.source_url, REFERRING_NEWS_URL}
    assert raw["url"].str.startswith("https://www.gov.kz/api/").all()
    memos = table(at, "excerpt")
    assert list(memos["title"]) == [memo.title]
    assert list(memos["excerpt"]) == [memo.excerpt]
    assert list(memos["source_url"]) == [memo.source_url]
    assert memos["parties"].iloc[0] == " | ".join(p[0] for p in memo.parties)
    parties = table(at, "org_name")
    assert list(parties["name"]) == [p[0] for p in memo.parties]
    assert list(parties["org_name"])[:2] == [ORGS["astana_edu"].name_ru, ORGS["bilim"].name_ru]
    assert parties["bin"].iloc[1] == ORGS["bilim"].bin  # the resolved organization's BIN where none written
    docs = table(at, "relation")
    assert list(docs["source_url"]) == [REFERRING_NEWS_URL]
    assert list(docs["relation"]) == [translate("ru", "relation.refers_to")]


def test_ppp_and_contract_engagements_list_their_evidence(
    app: Callable[..., AppTest], with_instruments: str
) -> None:
    at = open_register(app(with_instruments, engagement=PPP_ENGAGEMENT_ID))
    no_exception(at)
    ppp = table(at, "project")
    assert list(ppp["project"]) == [PPP_PROJECT]
    assert list(ppp["source_url"]) == [PPP_SOURCE_URL]
    assert list(ppp["private_partner"]) == [ORGS["digital"].name_ru]
    raw = table(at, "record_type")
    assert list(raw["source"]) == ["ppp_import"]
    assert raw["url"].isna().all()  # a file:// address is not a link
    # The widget: typing an id shows that engagement's evidence; a contract has no agreement table.
    at.text_input(key="engagement").input("goszakup-contract-9000001").run()
    no_exception(at)
    raw = table(at, "record_type")
    assert list(raw["record_type"]) == ["contract"]
    assert not has_table(at, "project")
    assert not has_table(at, "excerpt")
    at.text_input(key="engagement").input("no-such-id").run()
    assert [i.value for i in at.info] == [translate("ru", "evidence.unknown", id="no\\-such\\-id")]


def open_memoranda(at: AppTest) -> AppTest:
    params = dict(at.query_params)
    at.run()
    at.query_params = params
    return at.switch_page("views/memoranda.py").run()


def test_memoranda_page_rows_and_filters(app: Callable[..., AppTest], with_instruments: str) -> None:
    at = open_memoranda(app(with_instruments))
    no_exception(at)
    frame = table(at, "memorandum_id")
    assert list(frame["memorandum_id"]) == [m.id for m in MEMORANDA]  # newest first
    first = frame.iloc[0]
    memo = MEMORANDA[0]
    assert first["excerpt"] == memo.excerpt
    assert first["language"] == "ru"
    assert first["party_bins"] == f"{ORGS['astana_edu'].bin} | {ORGS['bilim'].bin} | "
    assert first["organizations"] == f"{ORGS['astana_edu'].name_ru} | {ORGS['bilim'].name_ru} | "
    assert bool(first["is_fictional"]) is True
    # Party search folds like the register: «БИЛИМ» finds both, a Kazakh-only word finds the kk one.
    at.text_input(key="party").input("БИЛИМ").run()
    assert len(table(at, "memorandum_id")) == 2
    at.text_input(key="party").input("неизвестныи").run()  # й typed as и is not folded: no match
    assert [i.value for i in at.info] == [translate("ru", "memoranda.none")]
    at.text_input(key="party").input("неизвестный").run()
    assert list(table(at, "memorandum_id")["memorandum_id"]) == [memo.id]
    at.text_input(key="party").input(ORGS["bilim"].bin[:8]).run()  # a BIN prefix, own or resolved
    assert len(table(at, "memorandum_id")) == 2
    at.text_input(key="party").input("").run()
    at.multiselect(key="memo_year").select(2024).run()
    assert list(table(at, "memorandum_id")["memorandum_id"]) == [MEMORANDA[1].id]
    # URL: by code or by the language's own name.
    for lang in ("kk", "Қазақша"):
        at = open_memoranda(app(with_instruments, memo_lang=lang))
        no_exception(at)
        assert list(table(at, "memorandum_id")["memorandum_id"]) == [MEMORANDA[1].id]


def test_memoranda_csv_has_bom_and_export_columns(with_instruments: str) -> None:
    from pipeline.export_memoranda import COLUMNS

    eng = read_engine(with_instruments)
    try:
        body = queries.memoranda_csv(eng, queries.MemorandumFilter(languages=("ru",)))
    finally:
        eng.dispose()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert (
        tuple(rows[0])
        == COLUMNS
        == ("memorandum_id", "signed_on", "title", "parties", "party_bins", "source_url", "language")
    )
    assert rows[1] == [
        MEMORANDA[0].id,
        "2025-03-14",
        MEMORANDA[0].title,
        " | ".join(p[0] for p in MEMORANDA[0].parties),
        f"{ORGS['astana_edu'].bin} | {ORGS['bilim'].bin} | ",
        MEMORANDA[0].source_url,
        "ru",
    ]
    assert len(rows) == 2


def test_memoranda_csv_equals_the_export(with_instruments: str, tmp_path: Path) -> None:
    """The page's CSV (no filter) is byte for byte what `ashyq export memoranda` writes."""
    from pipeline.export_memoranda import export_memoranda

    writer = make_engine(with_instruments)
    eng = read_engine(with_instruments)
    try:
        export_memoranda(writer, tmp_path / "m.csv")
        assert queries.memoranda_csv(eng, queries.MemorandumFilter()) == (tmp_path / "m.csv").read_bytes()
    finally:
        eng.dispose()
        writer.dispose()


def test_memoranda_page_download_button(app: Callable[..., AppTest], with_instruments: str) -> None:
    at = open_memoranda(app(with_instruments, lang="kk"))
    no_exception(at)
    assert at.title[0].value == translate("kk", "memoranda.title")
    [download] = at.get("download_button")
    assert download.label == translate("kk", "register.download")


def test_hostile_memorandum_is_plain_text(app: Callable[..., AppTest], db_url: str, engine: Engine) -> None:
    seed(engine)
    seed_instruments(engine, hostile=True)
    at = open_memoranda(app(db_url, party="Злой"))
    no_exception(at)
    frame = table(at, "memorandum_id")
    assert list(frame["title"]) == [HOSTILE_MEMO.title]  # verbatim in a grid cell
    assert list(frame["excerpt"]) == [HOSTILE_MEMO.excerpt]
    assert list(frame["parties"]) == [HOSTILE_MEMO.parties[0][0]]
    assert frame["source_url"].isna().all()  # javascript: is never a link
    rendered = " ".join(m.value for m in at.markdown)
    assert "<b>" not in rendered
    assert "](https" not in rendered
    at = open_register(app(db_url, engagement=memorandum_engagement_id(HOSTILE_MEMO.id)))
    no_exception(at)
    summary = next(m.value for m in at.markdown if m.value.startswith("**"))
    assert "[партнёр]" not in summary
    assert r"\[партнёр\]" in summary
    assert not at.get("link_button")  # the engagement's javascript: source gets no button
    assert list(table(at, "excerpt")["title"]) == [HOSTILE_MEMO.title]
