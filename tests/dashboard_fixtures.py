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
from entities.models import (
    CrawlRun,
    Document,
    Engagement,
    Memorandum,
    MemorandumParty,
    Organization,
    PPPAgreement,
    RawRecord,
)


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


# ------------------------------------------------------------------------------ instruments beyond contracts
# Two memoranda (ru 2025, kk 2024), one PPP agreement, their engagements and a press release that refers back
# to the first memorandum. The pairs repeat contract pairs of ENGAGEMENTS (Astana's department with «Білім»
# and with «Цифровая школа»), so one pair holds several engagements of different instruments.
@dataclass(frozen=True)
class Memo:
    id: str
    external_id: str
    signed_on: date
    title: str
    subject: str
    excerpt: str
    language: str
    source_url: str
    parties: tuple[tuple[str, str | None, str | None], ...]  # (name as written, BIN, ORGS key it resolves to)


MEMORANDA: tuple[Memo, ...] = (
    Memo(
        "govkz-news-5001",
        "5001",
        date(2025, 3, 14),
        "Подписан меморандум о цифровизации школ Астаны",
        "Внедрение электронного журнала",
        "«Стороны договорились о совместной работе по внедрению электронного журнала в школах города»",
        "ru",
        "https://www.gov.kz/memleket/entities/astana-bilim/press/news/details/5001?lang=ru",
        (
            ("Управление образования города Астаны", ORGS["astana_edu"].bin, "astana_edu"),
            ("ТОО «Білім Технолоджис»", None, "bilim"),
            ("ТОО «Неизвестный партнёр»", None, None),
        ),
    ),
    Memo(
        "govkz-news-5002",
        "5002",
        date(2024, 10, 2),
        "Цифрлық білім беру туралы меморандумға қол қойылды",
        "Цифрлық платформа",
        "«Тараптар цифрлық платформаны бірлесіп енгізуге келісті»",
        "kk",
        "https://www.gov.kz/memleket/entities/almaty-bilim/press/news/details/5002?lang=kk",
        (
            ("Алматы қаласының білім басқармасы", None, None),
            ("«Білім Технолоджис» ЖШС", ORGS["bilim"].bin, "bilim"),
        ),
    ),
)
PPP_ID = "ppp-import-KZ-0001"
PPP_PROJECT = "Оснащение школ Астаны цифровым оборудованием (ГЧП)"
PPP_SOURCE_URL = "https://ppp.example.kz/registry/KZ-0001"
PPP_AMOUNT = Decimal("450000000.00")
REFERRING_NEWS_URL = "https://www.gov.kz/memleket/entities/astana-bilim/press/news/details/5010?lang=ru"
HOSTILE_MEMO = Memo(
    "govkz-news-6666",
    "6666",
    date(2025, 5, 5),
    "**Жирный меморандум** <script>alert(1)</script> [click](https://evil.example)",
    "<img src=x onerror=alert(1)>",
    ":red[excerpt] $x$ <b>bold</b>",
    "ru",
    "javascript:alert(1)",
    (("ТОО «<b>Злой</b> [партнёр](https://evil.example)»", None, None),),
)


def memorandum_engagement_id(memo_id: str) -> str:
    return f"memorandum-{memo_id}"


PPP_ENGAGEMENT_ID = f"ppp-{PPP_ID}"


def _raw(
    source: str, record_type: str, external_id: str, url: str, human_url: str | None, run: int
) -> RawRecord:
    return RawRecord(
        source=source,
        record_type=record_type,
        external_id=external_id,
        url=url,
        human_url=human_url,
        fetched_at=FETCHED_AT,
        sha256=external_id.rjust(64, "0")[:64],
        payload={"id": external_id},
        crawl_run_id=run,
    )


def seed_instruments(engine: Engine, *, fictional: bool = True, hostile: bool = False) -> None:
    """Add the memoranda, the PPP agreement and their engagements (after `seed`, which made the organizations)."""
    with session_scope(engine) as session:
        run = CrawlRun(
            source="govkz", spider_args={}, started_at=FETCHED_AT, finished_at=FETCHED_AT, status="finished",
            stats={},
        )  # fmt: skip
        session.add(run)
        session.flush()
        memos = list(MEMORANDA) + ([HOSTILE_MEMO] if hostile else [])
        for memo in memos:
            raw = _raw(
                "govkz",
                "news",
                memo.external_id,
                f"https://www.gov.kz/api/v1/public/content-manager/news/{memo.external_id}",
                memo.source_url,
                run.id,
            )
            session.add(raw)
            session.flush()
            evidence = [raw.id]
            session.add(
                Memorandum(
                    id=memo.id, origin="govkz_news", instrument="memorandum", title=memo.title,
                    signed_on=memo.signed_on, subject=memo.subject, excerpt=memo.excerpt, language=memo.language,
                    source_url=memo.source_url, published_on=memo.signed_on, evidence_raw_ids=evidence,
                    is_fictional=fictional, raw_record_id=raw.id,
                )
            )  # fmt: skip
            session.flush()
            if memo is MEMORANDA[0]:
                # A later press release that only refers to the memorandum: evidence, not a new memorandum.
                later = _raw(
                    "govkz",
                    "news",
                    "5010",
                    "https://www.gov.kz/api/v1/public/content-manager/news/5010",
                    REFERRING_NEWS_URL,
                    run.id,
                )
                session.add(later)
                session.flush()
                evidence.append(later.id)
                session.add(
                    Document(
                        id="govkz-news-5010-ru", kind="news", title="Итоги года: электронный журнал в школах",
                        source_url=REFERRING_NEWS_URL, published_on=date(2025, 12, 1), language="ru",
                        memorandum_id=memo.id, relation="refers_to", is_fictional=fictional, raw_record_id=later.id,
                    )
                )  # fmt: skip
            for position, (name, bin_, org_key) in enumerate(memo.parties):
                session.add(
                    MemorandumParty(
                        memorandum_id=memo.id, position=position, name=name, bin=bin_,
                        organization_id=f"kz-bin-{ORGS[org_key].bin}" if org_key else None,
                        match_rule=("bin" if bin_ else "name_norm") if org_key else None, raw_record_id=raw.id,
                    )
                )  # fmt: skip
            buyer = memo.parties[0]
            provider = memo.parties[1] if len(memo.parties) > 1 else memo.parties[0]
            session.add(
                Engagement(
                    id=memorandum_engagement_id(memo.id), instrument="memorandum", legal_basis="memorandum",
                    competitive=False,
                    buyer_id=f"kz-bin-{ORGS[buyer[2]].bin}" if buyer[2] else None,
                    buyer_bin=buyer[1], buyer_name=buyer[0],
                    provider_id=f"kz-bin-{ORGS[provider[2]].bin}" if provider[2] else None,
                    provider_bin=provider[1] or (ORGS[provider[2]].bin if provider[2] else None),
                    provider_name=provider[0], subject=memo.subject, amount_kzt=None, signed_on=memo.signed_on,
                    region_kato="71", source_url=memo.source_url, evidence_raw_ids=list(evidence),
                    is_fictional=fictional, instrument_ref=memo.id,
                )
            )  # fmt: skip

        ppp_raw = _raw(
            "ppp_import", "ppp_agreement", "KZ-0001", "file:///data/ppp/registry.xlsx#row=2", None, run.id
        )
        session.add(ppp_raw)
        session.flush()
        state, private = ORGS["astana_edu"], ORGS["digital"]
        session.add(
            PPPAgreement(
                id=PPP_ID, origin="registry_import", project=PPP_PROJECT, sector="education", level="local",
                ppp_form="ДBOT", selection_method="tender", competitive=True,
                state_partner_name=state.name_ru, state_partner_bin=state.bin, state_partner_id=f"kz-bin-{state.bin}",
                private_partner_name=private.name_ru, private_partner_bin=private.bin,
                private_partner_id=f"kz-bin-{private.bin}", signed_on=date(2023, 8, 1), term_months=144,
                amount_kzt=PPP_AMOUNT, status="operating", region_kato="71", source_url=PPP_SOURCE_URL,
                is_fictional=fictional, raw_record_id=ppp_raw.id,
            )
        )  # fmt: skip
        session.add(
            Engagement(
                id=PPP_ENGAGEMENT_ID, instrument="ppp_agreement", legal_basis="ppp_agreement", competitive=True,
                buyer_id=f"kz-bin-{state.bin}", buyer_bin=state.bin, buyer_name=state.name_ru,
                provider_id=f"kz-bin-{private.bin}", provider_bin=private.bin, provider_name=private.name_ru,
                subject=PPP_PROJECT, amount_kzt=PPP_AMOUNT, signed_on=date(2023, 8, 1), region_kato="71",
                source_url=PPP_SOURCE_URL, evidence_raw_ids=[ppp_raw.id], is_fictional=fictional,
                instrument_ref=PPP_ID,
            )
        )  # fmt: skip
