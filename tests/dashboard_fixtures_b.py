"""Fixtures for the network, flags and sources pages: people, roles, a hub, flags, quarantine, crawl runs.

Built on top of `dashboard_fixtures.seed` + `seed_instruments` (the fictional market), then the real graph stage
(`pipeline.graph.run_graph_stage`) materializes `graph_edges`. Every name is invented. Tests compute what the
pages should show from the constants here, not from the pages' own queries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dashboard_fixtures import FETCHED_AT, ORGS, fictional_bin, seed, seed_instruments, source_url
from sqlalchemy import Engine, update

from entities.db import session_scope
from entities.models import (
    CrawlRun,
    Engagement,
    Flag,
    FlagAdjudication,
    Organization,
    Person,
    Quarantine,
    RawRecord,
    Role,
)
from pipeline.graph import clear_cache, run_graph_stage
from pipeline.normalize.common import name_norm


def org_id(key: str) -> str:
    return f"kz-bin-{ORGS[key].bin}"


# A director of «Білім Технолоджис» who also heads the kindergarten: the shortest way between the two.
DIRECTOR_ID = "kz-person-o0000000000000d1"
DIRECTOR_NAME = "Жумабаева Айгерим Болатовна"
# A hub: an official with a role in every organization of the market (more neighbours than `HUB_DEGREE`
# in the tests), so a path through her is the shortest but says nothing.
HUB_ID = "kz-person-o0000000000000h1"
HUB_NAME = "Сапарова Динара Ерлановна"
HUB_DEGREE_IN_TESTS = 5

# A company whose name is an attack, supplying the Astana department (so it sits in its ego network).
HOSTILE_BIN = fictional_bin("19064000660")
HOSTILE_ORG_ID = f"kz-bin-{HOSTILE_BIN}"
HOSTILE_NAME = "<img src=x onerror=alert(1)> <script>alert(1)</script> **ТОО** $x$"
HOSTILE_ENGAGEMENT_ID = "goszakup-contract-9000077"

QUARANTINE_ROWS = (
    ("goszakup", "crawl", "invalid JSON body", "https://ows.goszakup.gov.kz/v3/graphql?page=7"),
    ("goszakup", "normalize", "contract without supplier BIN", source_url(55)),
    ("govkz", "normalize", "date not parseable: «32.13.2024»", "javascript:alert(1)"),
)

# Flags: (id, code, severity, subject kind, subject, region, params, thresholds, source urls)
FLAGS = (
    (
        "single_source_share:" + org_id("school12"),
        "single_source_share",
        "medium",
        "organization",
        org_id("school12"),
        "75",
        {"contracts": 2, "total_kzt": "3500000.50", "share": 0.714},
        {"legal_bases": ["single_source"], "min_contracts": 2, "min_total_kzt": 1000000, "min_share": 0.6},
        [source_url(2)],
    ),
    (
        "memorandum_direct_award:memorandum-govkz-news-5001",
        "memorandum_direct_award",
        "high",
        "engagement",
        "memorandum-govkz-news-5001",
        "71",
        {"days_after": 171, "contract": "goszakup-contract-9000004"},
        {"period_days": 365},
        ["https://www.gov.kz/memleket/entities/astana-bilim/press/news/details/5001?lang=ru", source_url(4)],
    ),
    (
        "shared_person:" + org_id("kindergarten"),
        "shared_person",
        "high",
        "organization",
        org_id("kindergarten"),
        "63",
        {"person": DIRECTOR_NAME, "hostile_note": "<script>alert(1)</script>"},
        {"roles": ["head", "director"]},
        ["javascript:alert(1)", source_url(5)],
    ),
)
# Adjudications in insertion order: the newest per flag is in force.
ADJUDICATIONS = (
    ("single_source_share:" + org_id("school12"), "justified", "первый взгляд", 1),
    ("single_source_share:" + org_id("school12"), "unjustified", "Поставщик единственный по закону", 2),
    ("shared_person:" + org_id("kindergarten"), "justified", "<b>note</b> [x](https://evil.example)", 3),
)
CRAWL_RUNS = (
    ("goszakup", {"since": "2023-01-01"}, "finished", {"items": 120, "errors": 0}),
    ("statgov", {"bins": "file"}, "failed", {"items": 3, "errors": 2}),
)


def _raw(session: object, n: int) -> RawRecord:
    raw = RawRecord(
        source="statgov",
        record_type="company",
        external_id=f"role-{n}",
        url=f"https://old.stat.gov.kz/api/juridical/?bin={n}",
        human_url=None,
        fetched_at=FETCHED_AT,
        sha256=f"{n:064d}",
        payload={"n": n},
    )
    session.add(raw)  # type: ignore[attr-defined]
    return raw


def seed_b(engine: Engine, *, hostile: bool = False) -> None:
    """The market, its memoranda and PPP, people, a hub, flags and provenance; then the graph stage."""
    seed(engine)
    seed_instruments(engine)
    with session_scope(engine) as session:
        for n, (source, args, status, stats) in enumerate(CRAWL_RUNS):
            session.add(
                CrawlRun(
                    source=source,
                    spider_args=args,
                    started_at=FETCHED_AT + timedelta(hours=n + 1),
                    finished_at=FETCHED_AT + timedelta(hours=n + 1, minutes=5),
                    status=status,
                    stats=stats,
                )
            )
        # Search keys as the normalizer writes them (the market's seed leaves them empty).
        for org in ORGS.values():
            session.execute(
                update(Organization)
                .where(Organization.id == f"kz-bin-{org.bin}")
                .values(name_norm=name_norm(org.name_ru))
            )
        raws = [_raw(session, n) for n in range(1, 4)]
        session.flush()
        session.add(
            Person(
                id=DIRECTOR_ID,
                display_name=DIRECTOR_NAME,
                name_norm=name_norm(DIRECTOR_NAME),
                is_fictional=True,
            )
        )
        session.add(
            Person(id=HUB_ID, display_name=HUB_NAME, name_norm=name_norm(HUB_NAME), is_fictional=True)
        )
        session.flush()
        session.add(
            Role(
                person_id=DIRECTOR_ID,
                organization_id=org_id("bilim"),
                role="director",
                raw_record_id=raws[0].id,
            )
        )
        session.add(
            Role(
                person_id=DIRECTOR_ID,
                organization_id=org_id("kindergarten"),
                role="head",
                raw_record_id=raws[1].id,
            )
        )
        for key in ORGS:
            session.add(
                Role(person_id=HUB_ID, organization_id=org_id(key), role="official", raw_record_id=raws[2].id)
            )
        if hostile:
            session.add(
                Organization(
                    id=HOSTILE_ORG_ID, bin=HOSTILE_BIN, bin_valid=True, kind="company", name_ru=HOSTILE_NAME,
                    name_norm=name_norm(HOSTILE_NAME),
                    name_kk=HOSTILE_NAME, region_kato="71", is_fictional=True,
                )
            )  # fmt: skip
            session.flush()
            buyer = ORGS["astana_edu"]
            session.add(
                Engagement(
                    id=HOSTILE_ENGAGEMENT_ID, instrument="procurement_contract", legal_basis="single_source",
                    competitive=False, buyer_id=org_id("astana_edu"), buyer_bin=buyer.bin, buyer_name=buyer.name_ru,
                    provider_id=HOSTILE_ORG_ID, provider_bin=HOSTILE_BIN, provider_name=HOSTILE_NAME,
                    subject="<b>Платформа</b>", amount_kzt=Decimal("77.00"), signed_on=FETCHED_AT.date(),
                    region_kato="71", source_url=source_url(77), contract_root_id=9000077,
                    evidence_raw_ids=[raws[0].id], is_fictional=True,
                )
            )  # fmt: skip
        for n, (stage_source, stage, reason, url) in enumerate(QUARANTINE_ROWS):
            session.add(
                Quarantine(
                    source=stage_source, record_type="contract", external_id=f"q{n}", url=url, stage=stage,
                    reason=reason, body="{broken", created_at=FETCHED_AT + timedelta(minutes=n),
                )
            )  # fmt: skip
        computed = datetime(2025, 11, 21, 6, 0, tzinfo=UTC)
        flags = list(FLAGS)
        if hostile:
            flags.append(
                (
                    "repeated_pair:" + HOSTILE_ORG_ID, "repeated_pair", "low", "organization", HOSTILE_ORG_ID, "71",
                    {"name": HOSTILE_NAME}, {"min_contracts": 1, "min_noncompetitive": 1}, [source_url(77)],
                )
            )  # fmt: skip
        for flag_id, code, severity, kind, subject, region, params, thresholds, urls in flags:
            session.add(
                Flag(
                    id=flag_id, code=code, severity=severity, subject_kind=kind, subject_id=subject,
                    related_ids=[], region_kato=region, explanation=f"{code} (English, from the build)",
                    params=params, thresholds=thresholds, legal_reference=None,
                    evidence=[subject], source_urls=urls, computed_at=computed, is_fictional=True,
                )
            )  # fmt: skip
        for flag_id, state, note, minutes in ADJUDICATIONS:
            session.add(
                FlagAdjudication(
                    flag_id=flag_id, state=state, note=note, author="editor",
                    created_at=computed + timedelta(minutes=minutes),
                )
            )  # fmt: skip
    run_graph_stage(engine)
    clear_cache()
