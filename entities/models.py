"""The domain model (DESIGN §5) as SQLAlchemy 2 typed ORM classes.

Layers, as in DIGIWHIST's raw → clean → matched → master:
- provenance: `crawl_runs`, `raw_records` (append-only), `quarantine` (what could not be stored, and why);
- canonical goszakup rows: `procurements`, `lots`, `contracts` (+ `contract_units`), `bids`, `unreliable_suppliers`;
- entities: `organizations`, `persons`, `mentions` (every name exactly as written), `roles`, `judgements`;
- derived: `engagements` — one row per provider serving a buyer under one instrument.

Every canonical and derived row carries `raw_record_id` (or a list of them) so any figure on screen leads back
to the payload and URL it came from. The schema only changes through Alembic migrations.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime on both backends, stored as UTC.

    SQLite has no time zones: it would hand back naive values and silently drop offsets. Here every value is
    converted to UTC on the way in (a naive value is refused: it is a bug upstream) and comes back aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: make it timezone-aware before storing")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT for tables that can reach millions.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Money = Numeric(18, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dict[str, Any]: JSON,
        list[Any]: JSON,
        Decimal: Money,
        datetime: UtcDateTime(),
    }


# --------------------------------------------------------------------------------------------------
# Provenance


class CrawlRun(Base):
    """One spider run: what was asked, when, and what came of it."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40), index=True)
    spider_args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")  # running, finished, incomplete, stopped, killed, failed
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RawRecord(Base):
    """A source payload exactly as fetched. Never updated, never deleted; a changed payload is a new row."""

    __tablename__ = "raw_records"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)  # the API endpoint the payload came from
    human_url: Mapped[str | None] = mapped_column(Text)  # the public page a reader can open
    fetched_at: Mapped[datetime]
    sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))

    __table_args__ = (
        UniqueConstraint("source", "record_type", "external_id", "sha256"),
        Index("ix_raw_records_type_external", "source", "record_type", "external_id"),
    )


class Quarantine(Base):
    """A record that could not be stored or normalized, kept whole with the reason."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str | None] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(20))  # crawl (bad body) or normalize (bad record)
    reason: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # the offending text, verbatim
    raw_record_id: Mapped[int | None] = mapped_column(ForeignKey("raw_records.id"), index=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    created_at: Mapped[datetime]


class BuildState(Base):
    """Watermarks of the incremental build: the last raw record each stage has consumed."""

    __tablename__ = "build_state"

    stage: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_raw_record_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]


# --------------------------------------------------------------------------------------------------
# Entities


class Organization(Base):
    """A legal entity, individual entrepreneur or public body, keyed by BIN where one is known.

    `id` is stable across rebuilds: `kz-bin-<BIN>` for a BIN; for an individual entrepreneur (whose registration
    number is the owner's IIN) `kz-ip-<keyed hash>`, so no personal number ever appears in a URL.
    """

    __tablename__ = "organizations"
    # An entity card lists the organization's branches (same parent BIN): a lookup, not a scan of every row.
    __table_args__ = (Index("ix_organizations_parent_bin", "parent_bin"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    bin: Mapped[str | None] = mapped_column(String(12), index=True)
    bin_valid: Mapped[bool | None]
    # The IIN under which an individual entrepreneur trades, as goszakup publishes it for suppliers.
    iin: Mapped[str | None] = mapped_column(String(12))
    kind: Mapped[str | None] = mapped_column(String(30))  # company, individual_entrepreneur, public_body, school, ngo, foreign
    legal_form: Mapped[str | None] = mapped_column(String(40))
    name_ru: Mapped[str | None] = mapped_column(Text)
    name_kk: Mapped[str | None] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    name_norm: Mapped[str | None] = mapped_column(Text, index=True)  # folded key for search (SQLite can't fold Cyrillic)
    registered_on: Mapped[date | None] = mapped_column(Date)
    kato: Mapped[str | None] = mapped_column(String(9))
    region_kato: Mapped[str | None] = mapped_column(String(2), index=True)
    oked: Mapped[str | None] = mapped_column(String(10))
    parent_bin: Mapped[str | None] = mapped_column(String(12))
    goszakup_pid: Mapped[int | None] = mapped_column(BigInteger, index=True)
    is_fictional: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_record_id: Mapped[int | None] = mapped_column(ForeignKey("raw_records.id"), index=True)


class Person(Base):
    """A natural person. The IIN is never stored: only a keyed hash (HMAC) for exact matching."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    display_name: Mapped[str] = mapped_column(Text)
    surname: Mapped[str | None] = mapped_column(Text)
    given_name: Mapped[str | None] = mapped_column(Text)
    patronymic: Mapped[str | None] = mapped_column(Text)
    name_norm: Mapped[str | None] = mapped_column(Text, index=True)
    iin_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    is_fictional: Mapped[bool] = mapped_column(Boolean, default=False)


class Mention(Base):
    """A name exactly as one source record wrote it; resolution points it at an entity."""

    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("raw_record_id", "field", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)
    field: Mapped[str] = mapped_column(String(80))  # where in the payload, e.g. "Contract.supplierFio"
    kind: Mapped[str] = mapped_column(String(20))  # organization | person
    name: Mapped[str] = mapped_column(Text)
    bin: Mapped[str | None] = mapped_column(String(12))
    iin_hash: Mapped[str | None] = mapped_column(String(64))
    context_bin: Mapped[str | None] = mapped_column(String(12))  # the organization a person was named for
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), index=True)
    match_rule: Mapped[str | None] = mapped_column(String(60))  # why it points where it points
    match_score: Mapped[float | None]


class Role(Base):
    """Person ↔ organization: head, director, founder, commission member, official, signatory."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("person_id", "organization_id", "role", "raw_record_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


class Judgement(Base):
    """A human decision on two mentions or entities. Survives every rebuild and overrides the matcher."""

    __tablename__ = "judgements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    left_ref: Mapped[str] = mapped_column(String(100))
    right_ref: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(10))  # same | different | unsure
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


# --------------------------------------------------------------------------------------------------
# Canonical goszakup rows


class Procurement(Base):
    """An announcement (goszakup TrdBuy)."""

    __tablename__ = "procurements"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # TrdBuy.id
    number_anno: Mapped[str | None] = mapped_column(String(40), index=True)
    name_ru: Mapped[str | None] = mapped_column(Text)
    name_kk: Mapped[str | None] = mapped_column(Text)
    trade_method_id: Mapped[int | None]
    status_id: Mapped[int | None]
    customer_bin: Mapped[str | None] = mapped_column(String(12), index=True)
    organizer_bin: Mapped[str | None] = mapped_column(String(12))
    total_sum: Mapped[Decimal | None]
    publish_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    kato: Mapped[list[Any] | None]
    last_update: Mapped[datetime | None]
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


class Lot(Base):
    """A lot of an announcement (goszakup Lots)."""

    __tablename__ = "lots"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Lots.id
    trd_buy_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    lot_number: Mapped[str | None] = mapped_column(String(60))
    name_ru: Mapped[str | None] = mapped_column(Text)
    description_ru: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None]
    count: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    customer_bin: Mapped[str | None] = mapped_column(String(12), index=True)
    trade_method_id: Mapped[int | None]  # planned
    buy_trade_method_id: Mapped[int | None]  # actual
    status_id: Mapped[int | None]
    kato: Mapped[list[Any] | None]
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


class Contract(Base):
    """One contract version (goszakup Contract). Amendments are new rows sharing `root_id`."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Contract.id
    root_id: Mapped[int] = mapped_column(BigInteger, index=True)
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    contract_type_id: Mapped[int | None]  # 1 main contract, 2 amendment
    status_id: Mapped[int | None]
    trd_buy_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # None when concluded without announcement
    number: Mapped[str | None] = mapped_column(Text)
    number_sys: Mapped[str | None] = mapped_column(String(60))
    trade_method_id: Mapped[int | None]  # faktTradeMethodsId
    sign_reason: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime | None]
    last_update: Mapped[datetime | None]
    fin_year: Mapped[int | None]
    amount: Mapped[Decimal | None]  # contractSum, without VAT
    amount_with_vat: Mapped[Decimal | None]  # contractSumWnds
    currency: Mapped[str | None] = mapped_column(String(3))
    customer_bin: Mapped[str | None] = mapped_column(String(12), index=True)
    customer_pid: Mapped[int | None] = mapped_column(BigInteger)
    customer_fio: Mapped[str | None] = mapped_column(Text)
    supplier_biin: Mapped[str | None] = mapped_column(String(12), index=True)
    supplier_pid: Mapped[int | None] = mapped_column(BigInteger)
    supplier_fio: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    region_kato: Mapped[str | None] = mapped_column(String(9))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


class ContractUnit(Base):
    """A line of a contract: which lot or plan point, which ЕНС ТРУ item, how much."""

    __tablename__ = "contract_units"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # ContractUnits.id
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    lot_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    pln_point_id: Mapped[int | None] = mapped_column(BigInteger)
    enstru_code: Mapped[str | None] = mapped_column(String(40))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    item_price: Mapped[Decimal | None]
    total_sum: Mapped[Decimal | None]


class Bid(Base):
    """One application on one lot (goszakup TrdApp × AppLots): who bid, at what price, with what outcome."""

    __tablename__ = "bids"
    __table_args__ = (UniqueConstraint("application_id", "lot_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(BigInteger)
    trd_buy_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    lot_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    supplier_biin: Mapped[str | None] = mapped_column(String(12), index=True)
    supplier_pid: Mapped[int | None] = mapped_column(BigInteger)
    status_id: Mapped[int | None]
    price: Mapped[Decimal | None]
    amount: Mapped[Decimal | None]
    applied_at: Mapped[datetime | None]
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


class UnreliableSupplier(Base):
    """An entry in the register of unreliable suppliers (goszakup Rnu)."""

    __tablename__ = "unreliable_suppliers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rnu_id: Mapped[str] = mapped_column(String(40), unique=True)
    supplier_biin: Mapped[str | None] = mapped_column(String(12), index=True)
    supplier_name: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


# --------------------------------------------------------------------------------------------------
# Derived


class Engagement(Base):
    """Who holds what, on which basis: one provider serving one buyer under one instrument.

    For goszakup, one row per contract root (the latest version's amount). The export's columns
    (DESIGN §4) are these fields in that order.
    """

    __tablename__ = "engagements"
    __table_args__ = (
        Index("ix_engagements_region_year", "region_kato", "signed_on"),
        Index("ix_engagements_legal_basis", "legal_basis"),
        # The register's sort orders (issue 6): with these, the first page of a sort over millions of rows
        # is an index scan, not a full sort. The id breaks ties, as in `dashboard.queries.SORTS`.
        Index("ix_engagements_signed_on_id", "signed_on", "id"),
        Index("ix_engagements_amount_id", "amount_kzt", "id"),
        Index("ix_engagements_buyer_provider_name", "buyer_name", "provider_name"),
        Index("ix_engagements_provider_name", "provider_name"),
        # One party's engagements in date order, with the amount: a big provider's or buyer's rows are
        # counted, summed and paged from the index alone (the entity card, the register's name search).
        Index("ix_engagements_provider_signed", "provider_id", "signed_on", "id", "amount_kzt"),
        Index("ix_engagements_buyer_signed", "buyer_id", "signed_on", "id", "amount_kzt"),
        # An entity card's totals per legal basis and year, from the index alone (a big provider has ~90k
        # rows at the 1M scale; read from the table they took 0.3-0.5 s cold on SQLite).
        Index("ix_engagements_provider_basis", "provider_id", "legal_basis", "signed_on", "amount_kzt"),
        Index("ix_engagements_buyer_basis", "buyer_id", "legal_basis", "signed_on", "amount_kzt"),
        # The register filtered by legal basis (and year) sorted by amount: the basis's rows in amount order,
        # the year checked in the index, so only the page's rows are read from the table.
        Index("ix_engagements_basis_amount", "legal_basis", "amount_kzt", "signed_on"),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # e.g. goszakup-contract-<rootId>
    instrument: Mapped[str] = mapped_column(String(30))  # procurement_contract, ppp_agreement, memorandum, ...
    legal_basis: Mapped[str] = mapped_column(String(40))
    competitive: Mapped[bool]
    trade_method_id: Mapped[int | None]
    buyer_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    buyer_bin: Mapped[str | None] = mapped_column(String(12))
    buyer_name: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    provider_bin: Mapped[str | None] = mapped_column(String(12))
    provider_name: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    amount_kzt: Mapped[Decimal | None]
    signed_on: Mapped[date | None] = mapped_column(Date)
    region_kato: Mapped[str | None] = mapped_column(String(2))
    source_url: Mapped[str | None] = mapped_column(Text)
    contract_root_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    evidence_raw_ids: Mapped[list[Any]] = mapped_column(default=list)
    is_fictional: Mapped[bool] = mapped_column(Boolean, default=False)
    # The instrument row behind a non-contract engagement: memoranda.id, ppp_agreements.id or curated_facts.id.
    instrument_ref: Mapped[str | None] = mapped_column(String(120), index=True)


# --------------------------------------------------------------------------------------------------
# Resolution (issue 3, `pipeline.resolution`)


class EntityLink(Base):
    """Why two mentions are one entity: one merge the resolution stage made, with its rule and score.

    Rewritten by every resolution (derived, like `mentions.person_id`); `judgements` are the human input it
    obeys. `left_ref`/`right_ref` are stable mention references (`entities.judgements.mention_ref`).
    """

    __tablename__ = "entity_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(80), index=True)  # organizations.id or persons.id
    kind: Mapped[str] = mapped_column(String(20))  # organization | person
    left_ref: Mapped[str] = mapped_column(String(100))
    right_ref: Mapped[str] = mapped_column(String(100))
    left_name: Mapped[str] = mapped_column(Text)
    right_name: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(60))  # id, iin, judgement, name, person_*, normalized_name
    score: Mapped[float | None]


# --------------------------------------------------------------------------------------------------
# Instruments beyond procurement (issue 4): curated facts, memoranda, PPP agreements, their documents


class CuratedFact(Base):
    """A hand-checked public fact from `data/curated/*.yaml` (docs/curated-facts.md), one per raw record."""

    __tablename__ = "curated_facts"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the fact id
    kind: Mapped[str] = mapped_column(String(30), index=True)
    fact_date: Mapped[date | None] = mapped_column(Date)  # first day of the period for month/year precision
    date_precision: Mapped[str] = mapped_column(String(10))
    date_basis: Mapped[str] = mapped_column(String(15))
    summary: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str] = mapped_column(Text)
    citation: Mapped[str | None] = mapped_column(Text)
    retrieved_on: Mapped[date] = mapped_column(Date)
    quote: Mapped[str | None] = mapped_column(Text)
    quote_is_paraphrase: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(2))
    region_kato: Mapped[str | None] = mapped_column(String(2))
    amount: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    parties: Mapped[list[Any]] = mapped_column(default=list)  # [{name, role, entity, bin, note, organization_id}]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    related: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(Text)
    source_line: Mapped[int | None]
    is_fictional: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


class Memorandum(Base):
    """A memorandum or cooperation agreement: from a gov.kz press release or document, or a curated fact.

    `id` is stable across rebuilds: `govkz-<news|document>-<item id>` or `curated-<fact id>`. Later texts that only
    refer to it are `documents` rows pointing here, and their raw ids join `evidence_raw_ids`.
    """

    __tablename__ = "memoranda"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    origin: Mapped[str] = mapped_column(String(20))  # govkz_news, govkz_document, curated
    instrument: Mapped[str] = mapped_column(String(30))  # memorandum, cooperation_agreement
    title: Mapped[str | None] = mapped_column(Text)
    signed_on: Mapped[date | None] = mapped_column(Date, index=True)
    date_basis: Mapped[str | None] = mapped_column(String(30))
    date_precision: Mapped[str | None] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(Text)
    excerpt: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(2))
    source_url: Mapped[str | None] = mapped_column(Text)
    published_on: Mapped[date | None] = mapped_column(Date)
    publisher_slug: Mapped[str | None] = mapped_column(String(80))
    region_kato: Mapped[str | None] = mapped_column(String(2))
    evidence_raw_ids: Mapped[list[Any]] = mapped_column(default=list)
    is_fictional: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


class MemorandumParty(Base):
    """A party of a memorandum as written, resolved to an organization by BIN or exact normalized name if possible."""

    __tablename__ = "memorandum_parties"
    __table_args__ = (UniqueConstraint("memorandum_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    memorandum_id: Mapped[str] = mapped_column(ForeignKey("memoranda.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(40))  # curated role, or `publisher` when implied
    bin: Mapped[str | None] = mapped_column(String(12))
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    match_rule: Mapped[str | None] = mapped_column(String(40))  # bin, name_norm, publisher_slug; None: unresolved
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


class PPPAgreement(Base):
    """A PPP or concession agreement (docs/ppp-import.md): from a registry import or a curated fact."""

    __tablename__ = "ppp_agreements"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # ppp-import-<external id>, curated-<fact id>
    origin: Mapped[str] = mapped_column(String(20))  # registry_import, curated
    project: Mapped[str] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str | None] = mapped_column(String(20))
    ppp_type: Mapped[str | None] = mapped_column(String(20))
    ppp_form: Mapped[str | None] = mapped_column(Text)
    selection_method: Mapped[str | None] = mapped_column(String(30))
    competitive: Mapped[bool | None]
    state_partner_name: Mapped[str | None] = mapped_column(Text)
    state_partner_bin: Mapped[str | None] = mapped_column(String(12), index=True)
    state_partner_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    private_partner_name: Mapped[str | None] = mapped_column(Text)
    private_partner_bin: Mapped[str | None] = mapped_column(String(12), index=True)
    private_partner_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    signed_on: Mapped[date | None] = mapped_column(Date)
    term_months: Mapped[int | None]
    amount_kzt: Mapped[Decimal | None]
    status: Mapped[str | None] = mapped_column(String(20))
    region_kato: Mapped[str | None] = mapped_column(String(2))
    contract_number: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(Text)
    source_row: Mapped[int | None]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    is_fictional: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


class Document(Base):
    """A published text that evidences an instrument: a gov.kz press release or document (one per item+language).

    `memorandum_id` links it to the memorandum it announces or refers to; None when it names none.
    """

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # govkz-<news|document>-<item id>-<lang>
    kind: Mapped[str] = mapped_column(String(20))  # news, document
    title: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    published_on: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str | None] = mapped_column(String(2))
    publisher_slug: Mapped[str | None] = mapped_column(String(80))
    memorandum_id: Mapped[str | None] = mapped_column(ForeignKey("memoranda.id", ondelete="SET NULL"), index=True)
    relation: Mapped[str | None] = mapped_column(String(20))  # announces, refers_to
    excerpt: Mapped[str | None] = mapped_column(Text)
    is_fictional: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_records.id"), index=True)


# --------------------------------------------------------------------------------------------------
# Graph and red flags (issue 5, `pipeline.graph`, `pipeline.flags`)


class GraphEdge(Base):
    """One edge of the relationship graph, materialized by the build so the graph loads in one pass.

    Derived (rewritten by the graph stage). `evidence` holds the references of the rows that show the edge
    (engagement ids, role ids, memorandum and PPP ids, raw record ids), so every edge traces to its sources.
    """

    __tablename__ = "graph_edges"
    __table_args__ = (UniqueConstraint("source_id", "target_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(80), index=True)  # organizations.id or persons.id
    target_id: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # engagement, role, memorandum_party, ppp_party, branch
    weight: Mapped[float] = mapped_column(default=1.0)
    attrs: Mapped[dict[str, Any]] = mapped_column(default=dict)  # count, total_kzt, years, legal_bases, roles
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    is_fictional: Mapped[bool] = mapped_column(Boolean, default=False)


class Flag(Base):
    """A red flag raised by one rule on one subject: derived, recomputed by every flags stage.

    `id` is stable across rebuilds (rule code + subject), so adjudications, kept apart, still find their flag.
    """

    __tablename__ = "flags"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(10))  # low, medium, high
    subject_kind: Mapped[str] = mapped_column(String(20))  # organization, person, engagement, memorandum, pair
    subject_id: Mapped[str] = mapped_column(String(120), index=True)
    related_ids: Mapped[list[Any]] = mapped_column(default=list)  # other entities the flag names
    region_kato: Mapped[str | None] = mapped_column(String(2), index=True)
    explanation: Mapped[str] = mapped_column(Text)  # plain language, English; the UI renders `params` per language
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)  # inputs: the measured values
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the thresholds used, from data
    legal_reference: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(default=list)  # engagement/memorandum/raw record refs
    source_urls: Mapped[list[Any]] = mapped_column(default=list)
    computed_at: Mapped[datetime]
    is_fictional: Mapped[bool] = mapped_column(Boolean, default=False)


class FlagAdjudication(Base):
    """A human verdict on a flag (`ashyq flag justified|unjustified ID --note`): input, never rewritten by a build.

    The newest row per `flag_id` is in force; older rows stay as history.
    """

    __tablename__ = "flag_adjudications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flag_id: Mapped[str] = mapped_column(String(120), index=True)
    state: Mapped[str] = mapped_column(String(15))  # justified, unjustified
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


# --------------------------------------------------------------------------------------------------
# Dashboard aggregates (issue 6, `pipeline.aggregates`): derived from `engagements`, rewritten by each build


class EngagementTotal(Base):
    """Engagements counted and summed per region, signing year, legal basis, instrument and competition.

    Derived (rewritten whole by `pipeline.aggregates.refresh`). The overview's charts and the register's
    unsearched totals are sums over these few thousand rows instead of scans of millions of engagements.
    `year` and `region_kato` are None where the engagement has no date or no region.
    """

    __tablename__ = "engagement_totals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_kato: Mapped[str | None] = mapped_column(String(2))
    year: Mapped[int | None]
    legal_basis: Mapped[str] = mapped_column(String(40))
    instrument: Mapped[str] = mapped_column(String(30))
    competitive: Mapped[bool]
    contracts: Mapped[int] = mapped_column(BigInteger)
    amount_kzt: Mapped[Decimal]
    first_signed_on: Mapped[date | None] = mapped_column(Date)
    last_signed_on: Mapped[date | None] = mapped_column(Date)


class PartyTotal(Base):
    """Per buyer or provider BIN: engagements, sums, the non-competitive part, distinct counterparties.

    Derived (rewritten whole by `pipeline.aggregates.refresh`). `bin` is None for the one row that gathers
    the engagements whose party has no BIN in the source; `name` is one of the names the engagements carry.
    """

    __tablename__ = "party_totals"
    __table_args__ = (Index("ix_party_totals_role_amount", "role", "amount_kzt"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    role: Mapped[str] = mapped_column(String(10))  # buyer | provider
    bin: Mapped[str | None] = mapped_column(String(12))
    name: Mapped[str | None] = mapped_column(Text)
    contracts: Mapped[int] = mapped_column(BigInteger)
    amount_kzt: Mapped[Decimal]
    noncompetitive_amount_kzt: Mapped[Decimal]
    counterparties: Mapped[int] = mapped_column(BigInteger)  # distinct BINs on the other side


class OrganizationSearch(Base):
    """Each organization's names folded for substring search (case, Kazakh letters, ё; `pipeline.aggregates`).

    Derived (rewritten whole by `pipeline.aggregates.refresh`). Folding at query time costs seconds on
    PostgreSQL (`translate` over every name) and a Python call per name on SQLite; here it is done once per
    build, so a name search is a plain `LIKE` over one short column. Names are joined by newlines, which a
    typed search (whitespace-collapsed) never contains, so a match never spans two names.
    """

    __tablename__ = "organization_search"

    organization_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    folded: Mapped[str] = mapped_column(Text)


class SourceTotal(Base):
    """Per source: raw records kept and the latest fetch (`pipeline.aggregates`), for every page's footer.

    Derived at build time, so the footer describes the data the pages show (which also changes only with a
    build) without counting millions of raw records on each page view.
    """

    __tablename__ = "source_totals"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    fetched_at: Mapped[datetime | None]
    records: Mapped[int] = mapped_column(BigInteger)
    sample_url: Mapped[str | None] = mapped_column(Text)


class RegionPartyTotal(Base):
    """Per region: each buyer's and provider's engagements, sums and non-competitive count (`pipeline.aggregates`).

    Derived (rewritten whole by `pipeline.aggregates.refresh`), for the region page, which otherwise groups a
    region's ~100k engagements (1M scale) three ways per view. `category` is None on a party's row for the
    whole region; provider rows are repeated per service category (the first matching keyword of
    `data/reference/service_categories.csv` in the engagement's subject, classified once per build), which
    gives the page's market shares. `bin` is None for the row gathering parties without a BIN; `entity_id` and
    `name` are the greatest of those the engagements carry, as the direct query takes them.
    """

    __tablename__ = "region_party_totals"
    __table_args__ = (
        # The page's reads: one region, one side, one category (or the whole region), largest sums first.
        Index("ix_region_party_totals_region_role", "region_kato", "role", "category", "amount_kzt"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_kato: Mapped[str] = mapped_column(String(2))
    role: Mapped[str] = mapped_column(String(10))  # buyer | provider
    category: Mapped[str | None] = mapped_column(String(40))
    bin: Mapped[str | None] = mapped_column(String(12))
    entity_id: Mapped[str | None] = mapped_column(String(80))
    name: Mapped[str | None] = mapped_column(Text)
    engagements: Mapped[int] = mapped_column(BigInteger)
    amount_kzt: Mapped[Decimal]
    noncompetitive: Mapped[int] = mapped_column(BigInteger)  # engagements without competition
