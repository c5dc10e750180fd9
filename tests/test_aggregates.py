"""The dashboard's pre-aggregated tables (`pipeline.aggregates`) and the register's index-ordered first page.

Every figure the overview and the register read from `engagement_totals` / `party_totals` must equal the same
query run straight on `engagements` (the `direct=True` path, which is also what a database without
aggregates gets). The market is the dashboard fixture plus rows with the awkward cases: no date, no amount,
no region, no provider BIN. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from dashboard_fixtures import seed, seed_instruments
from sqlalchemy import Engine, delete, func, select

from dashboard import queries
from dashboard.queries import SORTS, RegisterFilter, read_engine
from entities.db import session_scope
from entities.models import Engagement, EngagementTotal, PartyTotal
from pipeline import aggregates


def _awkward(n: int, **kw: object) -> Engagement:
    values: dict[str, object] = {
        "id": f"test-awkward-{n}",
        "instrument": "procurement_contract",
        "legal_basis": "single_source",
        "competitive": False,
        "buyer_bin": None,
        "buyer_name": f"Покупатель {n}",
        "provider_bin": None,
        "provider_name": f"Поставщик {n}",
        "amount_kzt": Decimal("100.00"),
        "signed_on": date(2024, 1, n),
        "region_kato": "75",
        "source_url": f"https://example.invalid/{n}",
        "evidence_raw_ids": [],
        "is_fictional": True,
    }
    values.update(kw)
    return Engagement(**values)


AWKWARD = (
    {"signed_on": None},
    {"signed_on": None, "amount_kzt": None},
    {"amount_kzt": None, "region_kato": None},
    {
        "amount_kzt": Decimal("2500000.50"),
        "competitive": True,
        "legal_basis": "open_tender",
    },  # a tie on amount
    {"signed_on": date(2024, 2, 1)},  # a tie on date with the fixture's row 2
)


@pytest.fixture
def market(db_url: str, engine: Engine) -> Iterator[Engine]:
    seed(engine)
    seed_instruments(engine)
    with session_scope(engine) as session:
        session.add_all(_awkward(n, **kw) for n, kw in enumerate(AWKWARD, start=1))
    reader = read_engine(db_url)
    yield reader
    reader.dispose()


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal frames, comparing values (an int from count() equals a cast sum; Decimal equals Decimal)."""
    assert list(left.columns) == list(right.columns)
    assert left.astype(object).where(left.notna(), None).values.tolist() == (
        right.astype(object).where(right.notna(), None).values.tolist()
    )


FILTERS = (
    RegisterFilter(),
    RegisterFilter(regions=("75",)),
    RegisterFilter(regions=("71", "63"), competitive=False),
    RegisterFilter(legal_bases=("single_source",), years=(2024,)),
    RegisterFilter(legal_bases=("single_source",), years=(2024,), sort="amount_desc"),
    RegisterFilter(instruments=("memorandum", "ppp_agreement")),
    RegisterFilter(years=(2023, 2025), competitive=True),
)


def test_aggregates_equal_the_direct_queries(market: Engine, engine: Engine) -> None:
    assert not queries.aggregates_ready(market)  # nothing refreshed yet: the direct path answers
    direct_head = queries.headline(market)
    stats = aggregates.refresh(engine)
    assert queries.aggregates_ready(market)
    assert stats.engagement_totals > 0
    assert stats.party_totals > 0

    assert queries.headline(market) == direct_head == queries.headline(market, direct=True)
    for name in ("by_legal_basis", "by_year", "by_region"):
        _same(getattr(queries, name)(market), getattr(queries, name)(market, direct=True))
    _same(queries.top_providers(market, 100), queries.top_providers(market, 100, direct=True))
    assert not queries.freshness(market).empty
    _same(queries.freshness(market), queries.freshness(market, direct=True))
    assert queries.years(market) == queries.years(market, direct=True)
    assert queries.legal_bases(market) == queries.legal_bases(market, direct=True)
    for f in FILTERS:
        assert queries.register_summary(market, f) == queries.register_summary(market, f, direct=True), f


def test_the_aggregates_are_really_read(market: Engine, engine: Engine) -> None:
    """After a refresh the overview follows the aggregates (so a stale table would show): proof it is used."""
    aggregates.refresh(engine)
    total = queries.headline(market)["contracts"]
    with engine.begin() as conn:
        conn.execute(delete(Engagement.__table__).where(Engagement.id == "test-awkward-1"))
    assert queries.headline(market)["contracts"] == total  # still the aggregate
    assert queries.headline(market, direct=True)["contracts"] == total - 1
    aggregates.refresh(engine)  # the build's next run catches up
    assert queries.headline(market)["contracts"] == total - 1


def test_refresh_replaces_rather_than_adds(market: Engine, engine: Engine) -> None:
    first = aggregates.refresh(engine)
    second = aggregates.refresh(engine)
    assert first == second
    with engine.connect() as conn:
        contracts = conn.execute(select(func.sum(EngagementTotal.contracts))).scalar()
        engagements = conn.execute(select(func.count()).select_from(Engagement)).scalar()
        providers = conn.execute(
            select(func.count()).select_from(PartyTotal).where(PartyTotal.role == "provider")
        ).scalar()
        distinct = conn.execute(select(func.count(Engagement.provider_bin.distinct()))).scalar()
    assert contracts == engagements
    # One row per provider BIN, plus the one that gathers engagements whose provider has no BIN.
    assert providers == distinct + 1


@pytest.mark.parametrize("sort", list(SORTS))
def test_register_first_page_is_the_full_order_cut(market: Engine, sort: str) -> None:
    """The index-friendly two-part read gives exactly the first rows of the full ORDER BY (nulls last)."""
    f = RegisterFilter(sort=sort)
    full = queries._frame(market, queries._register_select(f))
    for limit in (1, 3, len(full) - 2, len(full), len(full) + 5):
        page = queries.register_rows(market, f, limit)
        assert list(page["engagement_id"]) == list(full["engagement_id"][:limit]), (sort, limit)
    for narrowed in (
        RegisterFilter(regions=("75",), sort=sort),
        RegisterFilter(provider="цифровая", sort=sort),  # a name search: ids first, then the rows
        RegisterFilter(buyer="школа", provider="білім", sort=sort),
    ):
        want = list(queries._frame(market, queries._register_select(narrowed))["engagement_id"])
        assert want
        assert list(queries.register_rows(market, narrowed, 100)["engagement_id"]) == want, narrowed
        assert list(queries.register_rows(market, narrowed, 2)["engagement_id"]) == want[:2], narrowed
    # By basis and amount, SQLite is told to keep the year off its date index (`_unindexed`): the same rows
    # must match as with the year on the index.
    by_basis = RegisterFilter(legal_bases=("single_source", "open_tender"), years=(2024, 2025), sort=sort)
    on_index = RegisterFilter(legal_bases=by_basis.legal_bases, years=by_basis.years, sort="signed_desc")
    got = list(queries.register_rows(market, by_basis)["engagement_id"])
    assert got, sort
    assert sorted(got) == sorted(queries.register_rows(market, on_index)["engagement_id"]), sort


SEARCHES = ("білім", "БИЛИМ", "цифровая", "Өнер", "ахметов", "нет такого", "17054")


@pytest.mark.parametrize("inline", [True, False])
def test_name_search_on_folded_names_equals_folding_per_query(
    market: Engine, engine: Engine, monkeypatch: pytest.MonkeyPatch, inline: bool
) -> None:
    """`organization_search` (folded once by the build) finds what folding every name per query finds."""
    if not inline:  # every search takes the subquery path, as a broad one («ТОО») would
        monkeypatch.setattr(queries, "ORG_IDS_INLINE", 0)
    filters = [RegisterFilter(provider=s) for s in SEARCHES] + [RegisterFilter(buyer=s) for s in SEARCHES]
    before = {
        f: (queries.register_summary(market, f), list(queries.register_rows(market, f)["engagement_id"]))
        for f in filters
    }
    assert any(rows for _, rows in before.values())  # the searches do find something
    both = (RegisterFilter(buyer="школа", provider="білім"), RegisterFilter(provider="Өнер", regions=("75",)))
    for f in [*filters, *both]:
        # Counted per alternative (`_search_parts`) and added up = the one query with the OR, as the CSV reads it.
        one = queries._frame(market, queries._register_select(f))
        amounts = [Decimal(str(a)) for a in one["amount_kzt"] if a is not None and not pd.isna(a)]
        summary = queries.register_summary(market, f)
        assert summary["contracts"] == len(one), f
        assert summary["amount_kzt"].quantize(Decimal("0.01")) == sum(amounts, Decimal(0)).quantize(
            Decimal("0.01")
        ), f
    assert before[RegisterFilter(buyer="Өнер")][1]  # a buyer known only by the engagement's own name
    aggregates.refresh(engine)
    for f in filters:
        after = (queries.register_summary(market, f), list(queries.register_rows(market, f)["engagement_id"]))
        assert after == before[f], f


def _rows(frame: pd.DataFrame) -> list[list[object]]:
    """A frame's values with floats rounded to the cent/millionth: sums of partial sums may differ in the last
    binary digit from one sum (SQLite stores amounts as floats)."""
    return [
        [round(v, 6) if isinstance(v, float) else v for v in row]
        for row in frame.astype(object).where(frame.notna(), None).values.tolist()
    ]


def test_region_page_from_aggregates_equals_the_direct_query(market: Engine, engine: Engine) -> None:
    """`region_party_totals` gives the region page exactly what its three scans of `engagements` give.

    The market has a region whose providers include ones without a BIN, subjects in several categories and
    none, and rows without an amount; each region is also cut to one and two parties (the order's ties)."""
    from dashboard.queries_entity import RegionFilter, region_view

    with engine.connect() as conn:
        katos = sorted(conn.execute(select(Engagement.region_kato).distinct()).scalars().all(), key=str)
    assert {"63", "71", "75"} <= set(katos)
    stats = aggregates.refresh(engine)
    assert stats.region_party_totals > 0
    for kato in [k for k in katos if k is not None] + ["11"]:  # 11: no engagement there
        for limit in (1, 2, 20):
            fast = region_view(market, RegionFilter(kato), limit)
            slow = region_view(market, RegionFilter(kato), limit, direct=True)
            assert fast["summary"] == slow["summary"], kato
            for part in ("buyers", "providers", "categories", "bases", "years"):
                assert list(fast[part].columns) == list(slow[part].columns), (kato, part)
                assert _rows(fast[part]) == _rows(slow[part]), (kato, limit, part)
    busy = region_view(market, RegionFilter("75"))
    assert busy["providers"]["bin"].isna().any()  # the row gathering providers without a BIN is there
    assert len(set(busy["categories"]["category"])) > 1  # subjects were classified, not all `other`


def test_region_page_reads_the_aggregates(market: Engine, engine: Engine) -> None:
    """After a refresh a whole region follows `region_party_totals` (a stale table would show): proof it is used."""
    from dashboard.queries_entity import RegionFilter, region_view

    aggregates.refresh(engine)
    before = region_view(market, RegionFilter("75"))["summary"]["providers"]
    with engine.begin() as conn:
        gone = delete(Engagement.__table__).where(
            Engagement.region_kato == "75", Engagement.provider_bin.is_not(None)
        )
        conn.execute(gone)
    assert region_view(market, RegionFilter("75"))["summary"]["providers"] == before
    assert region_view(market, RegionFilter("75"), direct=True)["summary"]["providers"] == 0
    aggregates.refresh(engine)
    assert region_view(market, RegionFilter("75"))["summary"]["providers"] == 0
