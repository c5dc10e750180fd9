"""A small fictional market for the dashboard tests, written through the ORM into a migrated database.

Every name and number is invented; the BINs are checksum-valid. Tests compute what the pages should show
from `ENGAGEMENTS` itself, so a wrong query cannot agree with a wrong expectation by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine

from entities.db import session_scope
from entities.identifiers import control_digit
from entities.models import CrawlRun, Engagement, Organization, RawRecord


def fictional_bin(first11: str) -> str:
    """The first checksum-valid BIN at or after `first11` (the last digits move until one exists)."""
    number = int(first11)
    while True:
        digits = f"{number:011d}"
        check = control_digit(digits)
        if check is not None:
            return digits + str(check)
        number += 1


@dataclass(frozen=True)
class Org:
    key: str
    bin: str
    name_ru: str
    name_kk: str | None
    region: str | None
    kind: str


# fmt: off
ORGS: dict[str, Org] = {
    o.key: o
    for o in (
        Org("school12", fictional_bin("99014000110"), "КГУ «Школа-гимназия № 12» акимата города Алматы",
            "Алматы қаласы әкімдігінің «№ 12 мектеп-гимназиясы» КММ", "75", "school"),
        Org("astana_edu", fictional_bin("99024000220"), "ГУ «Управление образования города Астаны»",
            "«Астана қаласының білім басқармасы» ММ", "71", "public_body"),
        Org("kindergarten", fictional_bin("99034000330"), "КГКП «Ясли-сад «Балдәурен»»",
            "«Балдәурен» бөбекжай-бақшасы МКҚК", "63", "school"),
        Org("bilim", fictional_bin("15044000440"), "ТОО «Білім Технолоджис»", "«Білім Технолоджис» ЖШС",
            "75", "company"),
        Org("digital", fictional_bin("17054000550"), "ТОО «Цифровая школа»", None, "71", "company"),
        Org("akhmetov", fictional_bin("88050150000"), "ИП «Ахметов Серик»", None, "63", "individual_entrepreneur"),
    )
}
# fmt: on


@dataclass(frozen=True)
class Row:
    n: int
    buyer: str | None  # key in ORGS; None = the engagement names a buyer with no organization row
    provider: str
    legal_basis: str
    competitive: bool
    amount: Decimal
    signed_on: date
    region: str | None
    subject: str
    buyer_name: str | None = None  # only where `buyer` is None


# fmt: off
ENGAGEMENTS: tuple[Row, ...] = (
    Row(1, "school12", "bilim", "open_tender", True, Decimal("1000000.00"), date(2023, 3, 10), "75",
        "Электронный журнал, годовая подписка"),
    Row(2, "school12", "bilim", "single_source", False, Decimal("2500000.50"), date(2024, 2, 1), "75",
        "Сопровождение электронного журнала"),
    Row(3, "astana_edu", "digital", "price_quotations", True, Decimal("750000.00"), date(2024, 5, 20), "71",
        "Интерактивные панели"),
    Row(4, "astana_edu", "bilim", "single_source", False, Decimal("12000000.00"), date(2024, 9, 1), "71",
        "Платформа дистанционного обучения"),
    Row(5, "kindergarten", "akhmetov", "e_shop", True, Decimal("99999.99"), date(2025, 1, 15), "63",
        "Ноутбуки"),
    Row(6, "kindergarten", "digital", "state_order", False, Decimal("5000000.00"), date(2025, 6, 30), "63",
        "Услуги по государственному образовательному заказу"),
    Row(7, "astana_edu", "digital", "open_tender", True, Decimal("3000000.00"), date(2025, 11, 11), "71",
        "Цифровые образовательные ресурсы"),
    Row(8, None, "digital", "other_procurement", False, Decimal("400000.00"), date(2023, 12, 1), None,
        "Техническая поддержка", buyer_name="ГККП «Колледж искусств «Өнер»»"),
)
# fmt: on

FETCHED_AT = datetime(2025, 11, 20, 9, 30, tzinfo=UTC)


def source_url(n: int) -> str:
    return f"https://goszakup.gov.kz/ru/egzcontract/cpublic/show/{9000000 + n}"


def seed(engine: Engine, *, fictional: bool = True, hostile: bool = False) -> None:
    """Write the market into `engine`'s database. `hostile` adds a row whose texts try to inject markup."""
    with session_scope(engine) as session:
        run = CrawlRun(
            source="goszakup",
            spider_args={},
            started_at=FETCHED_AT,
            finished_at=FETCHED_AT,
            status="finished",
            stats={},
        )
        session.add(run)
        session.flush()
        raw = RawRecord(
            source="goszakup",
            record_type="contract",
            external_id="9000001",
            url="https://ows.goszakup.gov.kz/v3/graphql",
            human_url=source_url(1),
            fetched_at=FETCHED_AT,
            sha256="0" * 64,
            payload={"id": 9000001},
            crawl_run_id=run.id,
        )
        session.add(raw)
        for org in ORGS.values():
            session.add(
                Organization(
                    id=f"kz-bin-{org.bin}",
                    bin=org.bin,
                    bin_valid=True,
                    kind=org.kind,
                    name_ru=org.name_ru,
                    name_kk=org.name_kk,
                    region_kato=org.region,
                    is_fictional=fictional,
                )
            )
        session.flush()
        rows = list(ENGAGEMENTS)
        if hostile:
            rows.append(HOSTILE)
        for row in rows:
            buyer = ORGS[row.buyer] if row.buyer is not None else None
            provider = ORGS[row.provider]
            session.add(
                Engagement(
                    id=f"goszakup-contract-{9000000 + row.n}",
                    instrument="procurement_contract",
                    legal_basis=row.legal_basis,
                    competitive=row.competitive,
                    buyer_id=f"kz-bin-{buyer.bin}" if buyer is not None else None,
                    buyer_bin=buyer.bin if buyer is not None else None,
                    buyer_name=buyer.name_ru if buyer is not None else row.buyer_name,
                    provider_id=f"kz-bin-{provider.bin}",
                    provider_bin=provider.bin,
                    provider_name=provider.name_ru,
                    subject=row.subject,
                    amount_kzt=row.amount,
                    signed_on=row.signed_on,
                    region_kato=row.region,
                    source_url=HOSTILE_URL if row is HOSTILE else source_url(row.n),
                    contract_root_id=9000000 + row.n,
                    evidence_raw_ids=[raw.id],
                    is_fictional=fictional,
                )
            )


# A buyer-less row with texts an attacker could plant in a source: markdown, HTML and a script link.
HOSTILE = Row(
    99,
    None,
    "digital",
    "single_source",
    False,
    Decimal("1.00"),
    date(2022, 1, 1),
    "79",
    "<img src=x onerror=alert(1)> [click](https://evil.example)",
    buyer_name="**Жирный** <script>alert(1)</script> :red[x] $x$",
)
HOSTILE_URL = "javascript:alert(1)"
