"""The fictional market of `dashboard_fixtures`, plus what the search, entity and region pages read.

On top of `seed` (organizations and engagements): identity details and source records for the organizations,
two persons (one identified by a fictional IIN, stored only as its keyed hash), their roles, the names the
sources gave «Білім Технолоджис» with the resolver's merge links, two procurements with lots, bids and
contracts (one bid of «Білім» won, one lost to «Цифровая школа», one without a contract yet), and a flag
with an adjudication. Every name and number is invented; tests derive expectations from the constants here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from dashboard_fixtures import FETCHED_AT, ORGS, seed
from sqlalchemy import Engine, update

from entities.db import session_scope
from entities.identifiers import control_digit, iin_hash
from entities.models import (
    Bid,
    Contract,
    CrawlRun,
    EntityLink,
    Flag,
    FlagAdjudication,
    Lot,
    Mention,
    Organization,
    Person,
    Procurement,
    RawRecord,
    Role,
)


def fictional_iin(first11: str) -> str:
    """A checksum-valid IIN of a fictional person (born 1985-03-12, the 7th digit says 20th century, male)."""
    number = int(first11)
    while True:
        digits = f"{number:011d}"
        check = control_digit(digits)
        if check is not None:
            return digits + str(check)
        number += 1


BILIM = ORGS["bilim"]
DIGITAL = ORGS["digital"]
SCHOOL = ORGS["school12"]
ASTANA = ORGS["astana_edu"]

BILIM_ID = f"kz-bin-{BILIM.bin}"
DIGITAL_ID = f"kz-bin-{DIGITAL.bin}"
SCHOOL_ID = f"kz-bin-{SCHOOL.bin}"

IIN = fictional_iin("85031230000")
PERSON_ID = "person-iin-" + iin_hash(IIN)[:16]
PERSON_NAME = "Жумабеков Ерлан Сапарович"
SIGNATORY_ID = "person-0000000000000001"
SIGNATORY_NAME = "Ахметова Айгерим Болатовна"

BILIM_REGISTERED = date(2015, 4, 2)
BILIM_KATO = "751210000"  # a fictional district code inside region 75
BILIM_OKED = "62010"
ORG_SOURCE_URL = "https://stat.gov.kz/ru/juridical/by/bin/?bin={bin}"
SPELLINGS = ("ТОО «Білім Технолоджис»", 'ТОО "Билим Технолоджис"', "Bilim Technologies LLP")


@dataclass(frozen=True)
class Tender:
    trd_buy_id: int
    number_anno: str
    name: str
    customer: str  # key of ORGS
    lot_id: int
    lot_amount: Decimal
    bids: tuple[tuple[str, Decimal], ...]  # (ORGS key, price)
    winner: str | None  # ORGS key named by the contract; None: no contract yet
    published: datetime


TENDERS: tuple[Tender, ...] = (
    Tender(7001, "7001-1", "Электронный журнал для школ", "school12", 8001, Decimal("1200000.00"),
           (("bilim", Decimal("1000000.00")), ("digital", Decimal("1100000.00"))), "bilim",
           datetime(2023, 2, 1, 10, tzinfo=UTC)),
    Tender(7002, "7002-1", "Интерактивные панели", "astana_edu", 8002, Decimal("900000.00"),
           (("bilim", Decimal("800000.00")), ("digital", Decimal("750000.00")), ("akhmetov", Decimal("870000.00"))),
           "digital", datetime(2024, 4, 1, 10, tzinfo=UTC)),
    Tender(7003, "7003-1", "Цифровые ресурсы", "astana_edu", 8003, Decimal("3500000.00"),
           (("bilim", Decimal("3400000.00")),), None, datetime(2025, 10, 1, 10, tzinfo=UTC)),
)  # fmt: skip


def tender_url(trd_buy_id: int) -> str:
    return f"https://goszakup.gov.kz/ru/announce/index/{trd_buy_id}"


FLAG_ID = f"single_source_share:{BILIM_ID}"
FLAG_EXPLANATION = "Most of this provider's contract value came without competition."


def _raw(session: object, run_id: int, record_type: str, external_id: str, human_url: str) -> RawRecord:
    raw = RawRecord(
        source="goszakup",
        record_type=record_type,
        external_id=external_id,
        url="https://ows.goszakup.gov.kz/v3/graphql",
        human_url=human_url,
        fetched_at=FETCHED_AT,
        sha256=(record_type + external_id).encode().hex()[:64].ljust(64, "0"),
        payload={"id": external_id},
        crawl_run_id=run_id,
    )
    session.add(raw)  # type: ignore[attr-defined]
    return raw


def seed_entity(engine: Engine, *, fictional: bool = True) -> None:
    """`seed`, then everything the entity, search and region pages read."""
    seed(engine, fictional=fictional)
    with session_scope(engine) as session:
        run = CrawlRun(
            source="goszakup", spider_args={}, started_at=FETCHED_AT, finished_at=FETCHED_AT, status="finished",
            stats={},
        )  # fmt: skip
        session.add(run)
        session.flush()
        org_raw = _raw(session, run.id, "subject", BILIM.bin, ORG_SOURCE_URL.format(bin=BILIM.bin))
        session.flush()
        session.execute(
            update(Organization)
            .where(Organization.id == BILIM_ID)
            .values(
                legal_form="ТОО",
                registered_on=BILIM_REGISTERED,
                kato=BILIM_KATO,
                oked=BILIM_OKED,
                name_norm="тоо білім технолоджис",
                raw_record_id=org_raw.id,
            )
        )
        for key, org in ORGS.items():
            if key != "bilim":
                norm = " ".join(org.name_ru.casefold().replace("«", " ").replace("»", " ").split())
                session.execute(
                    update(Organization).where(Organization.id == f"kz-bin-{org.bin}").values(name_norm=norm)
                )
        session.execute(update(Organization).where(Organization.id == SCHOOL_ID).values(kato="751210000"))

        session.add_all(
            [
                Person(id=PERSON_ID, display_name=PERSON_NAME, surname="Жумабеков", given_name="Ерлан",
                       patronymic="Сапарович", name_norm=PERSON_NAME.casefold(), iin_hash=iin_hash(IIN),
                       is_fictional=fictional),
                Person(id=SIGNATORY_ID, display_name=SIGNATORY_NAME, surname="Ахметова", given_name="Айгерим",
                       patronymic="Болатовна", name_norm=SIGNATORY_NAME.casefold(), iin_hash=None,
                       is_fictional=fictional),
            ]
        )  # fmt: skip
        session.flush()
        role_raw = _raw(
            session, run.id, "subject_head", BILIM.bin, ORG_SOURCE_URL.format(bin=BILIM.bin) + "#head"
        )
        session.flush()
        session.add_all(
            [
                Role(person_id=PERSON_ID, organization_id=BILIM_ID, role="head", title="Директор",
                     start_date=date(2020, 1, 1), end_date=None, raw_record_id=role_raw.id),
                Role(person_id=SIGNATORY_ID, organization_id=SCHOOL_ID, role="signatory", title="Директор школы",
                     start_date=date(2023, 3, 10), end_date=date(2023, 3, 10), raw_record_id=role_raw.id),
            ]
        )  # fmt: skip
        for n, name in enumerate(SPELLINGS):
            raw = _raw(
                session,
                run.id,
                "contract",
                f"m{n}",
                f"https://goszakup.gov.kz/ru/egzcontract/cpublic/show/{9100000 + n}",
            )
            session.flush()
            session.add(
                Mention(raw_record_id=raw.id, field="Contract.supplier", kind="organization", name=name,
                        bin=BILIM.bin, organization_id=BILIM_ID, match_rule="id", match_score=None)
            )  # fmt: skip
        session.add_all(
            [
                EntityLink(entity_id=BILIM_ID, kind="organization", left_ref="m:1", right_ref="m:2",
                           left_name=SPELLINGS[0], right_name=SPELLINGS[1], rule="id", score=None),
                EntityLink(entity_id=BILIM_ID, kind="organization", left_ref="m:1", right_ref="m:3",
                           left_name=SPELLINGS[0], right_name=SPELLINGS[2], rule="name", score=0.93),
            ]
        )  # fmt: skip

        for tender in TENDERS:
            raw = _raw(session, run.id, "trdbuy", str(tender.trd_buy_id), tender_url(tender.trd_buy_id))
            session.flush()
            customer = ORGS[tender.customer].bin
            session.add(
                Procurement(id=tender.trd_buy_id, number_anno=tender.number_anno, name_ru=tender.name,
                            customer_bin=customer, total_sum=tender.lot_amount, publish_date=tender.published,
                            raw_record_id=raw.id)
            )  # fmt: skip
            session.add(
                Lot(id=tender.lot_id, trd_buy_id=tender.trd_buy_id, lot_number=f"{tender.lot_id}-L1",
                    name_ru=tender.name, amount=tender.lot_amount, customer_bin=customer, raw_record_id=raw.id)
            )  # fmt: skip
            for n, (who, price) in enumerate(tender.bids):
                session.add(
                    Bid(application_id=tender.trd_buy_id * 10 + n, trd_buy_id=tender.trd_buy_id,
                        lot_id=tender.lot_id, supplier_biin=ORGS[who].bin, price=price, amount=price,
                        applied_at=tender.published.replace(day=5), raw_record_id=raw.id)
                )  # fmt: skip
            if tender.winner is not None:
                session.add(
                    Contract(id=tender.trd_buy_id * 100, root_id=tender.trd_buy_id * 100,
                             trd_buy_id=tender.trd_buy_id, customer_bin=customer,
                             supplier_biin=ORGS[tender.winner].bin, amount=dict(tender.bids)[tender.winner],
                             raw_record_id=raw.id)
                )  # fmt: skip

        session.add(
            Flag(id=FLAG_ID, code="single_source_share", severity="medium", subject_kind="organization",
                 subject_id=BILIM_ID, related_ids=[], region_kato="75", explanation=FLAG_EXPLANATION,
                 params={"share": 0.93}, thresholds={"share": 0.5}, legal_reference=None, evidence=[],
                 source_urls=["https://goszakup.gov.kz/ru/egzcontract/cpublic/show/9000004"],
                 computed_at=FETCHED_AT, is_fictional=fictional)
        )  # fmt: skip
        session.add_all(
            [
                FlagAdjudication(flag_id=FLAG_ID, state="unjustified", note="first look", author="t",
                                 created_at=datetime(2025, 11, 21, tzinfo=UTC)),
                FlagAdjudication(flag_id=FLAG_ID, state="justified", note="checked the contracts", author="t",
                                 created_at=datetime(2025, 11, 22, tzinfo=UTC)),
            ]
        )  # fmt: skip
