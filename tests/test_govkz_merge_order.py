"""Crawl order must not decide how many organizations one education body is (issue 4, gov.kz bodies).

A leadership page and a memorandum release of a department are built before any goszakup record of that
department exists, so the build makes the placeholder `govkz-<slug>` for it. A later crawl brings the
department's goszakup card; the next build must fold the placeholder into that organization — roles,
memorandum parties, engagements and mentions pointing at one node — and a build after that changes nothing.
Runs on SQLite and PostgreSQL (fixtures `db_url`/`engine`). All data is fictional (invented names and BINs,
loopback URLs).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from fixtures.raw.goszakup_raw import dump_tables, insert_raw, subject
from sqlalchemy import Engine, select

from entities.models import Engagement, MemorandumParty, Mention, Organization, RawRecord, Role
from pipeline.build import run_build
from pipeline.normalize.writer import table_of

GOVKZ_API = "http://127.0.0.1:8766/api/v1/public/content-manager"
SLUG = "karaganda-bilim"  # `data/reference/govkz_slugs.csv`: «Управление образования Карагандинской области»
PLACEHOLDER = f"govkz-{SLUG}"
DEPT_BIN = "080540011226"  # invented, checksum-valid
DEPT_ID = f"kz-bin-{DEPT_BIN}"


def _govkz(
    record_type: str, external_id: str, payload: dict[str, Any], url: str, human: str | None
) -> dict[str, Any]:
    """A gov.kz raw record row, as the raw store writes it."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    row = {"source": "govkz", "record_type": record_type, "external_id": external_id, "url": url,
           "human_url": human, "fetched_at": datetime.now(UTC), "sha256": hashlib.sha256(body.encode()).hexdigest(),
           "payload": payload}  # fmt: skip
    return row


def _insert(engine: Engine, *rows: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(table_of(RawRecord).insert(), list(rows))


def _govkz_only(engine: Engine) -> None:
    curator = _govkz(
        "govkz_curator", "901:ru",
        {"id": 901, "lastname": "Тестова", "name": "Алия", "middlename": "Тестовна",
         "position": "Руководитель управления образования"},
        f"{GOVKZ_API}/curators?projects={SLUG}&size=100", None,
    )  # fmt: skip
    news = _govkz(
        "govkz_news", "902:ru",
        {"id": 902, "created_date": "2026-02-04T06:00:00.000+00:00", "title": "Подписан меморандум",
         "body": "<p>Сегодня Управление образования Карагандинской области и ТОО «Пример Софт» подписали "
                 "меморандум о сотрудничестве в области цифровизации школ.</p>",
         "projects": [SLUG]},
        f"{GOVKZ_API}/news?projects=eq:{SLUG}&page=1&size=100",
        f"http://127.0.0.1:8766/memleket/entities/{SLUG}/press/news/details/902?lang=ru",
    )  # fmt: skip
    _insert(engine, curator, news)


def _goszakup_card(engine: Engine) -> None:
    # The department as goszakup names it (a state institution, customer), fetched from the simulator.
    insert_raw(
        engine, "subject",
        subject(pid=70901, bin=DEPT_BIN, nameRu='ГУ "Управление образования Карагандинской области"',
                nameKz='"Қарағанды облысының білім басқармасы" ММ',
                fullNameRu='Государственное учреждение "Управление образования Карагандинской области"',
                refKopfCode="ГУ", typeSupplier=1, parentSubject=None, customer=1, organizer=1, supplier=0),
    )  # fmt: skip


def _referencing(engine: Engine, org_id: str) -> dict[str, int]:
    """Rows of every table that point at `org_id` through a foreign key."""
    orgs = table_of(Organization)
    out: dict[str, int] = {}
    with engine.connect() as conn:
        for table in orgs.metadata.tables.values():
            for fk in table.foreign_keys:
                if fk.column.table is orgs:
                    n = len(conn.execute(select(table).where(fk.parent == org_id)).all())
                    if n:
                        out[f"{table.name}.{fk.parent.name}"] = n
    return out


def test_a_body_seen_first_on_govkz_becomes_its_goszakup_organization(engine: Engine) -> None:
    _govkz_only(engine)
    run_build(engine)
    # Build 1: only gov.kz knows the department, so it is the placeholder; the release's party and the
    # curator's role point there.
    refs = _referencing(engine, PLACEHOLDER)
    assert refs.get("roles.organization_id") == 1
    assert refs.get("memorandum_parties.organization_id") == 1
    assert refs.get("engagements.buyer_id") == 1

    _goszakup_card(engine)
    run_build(engine)

    with engine.connect() as conn:
        orgs = table_of(Organization)
        assert conn.execute(select(orgs.c.id).where(orgs.c.id == PLACEHOLDER)).first() is None
        assert _referencing(engine, PLACEHOLDER) == {}
        role = conn.execute(select(table_of(Role)).where(table_of(Role).c.role == "official")).one()
        assert role.organization_id == DEPT_ID
        assert role.person_id == "govkz-person-901"  # the person keeps its id; the role keeps its record
        curator_raw = conn.execute(
            select(table_of(RawRecord).c.id).where(table_of(RawRecord).c.external_id == "901:ru")
        ).scalar_one()
        assert role.raw_record_id == curator_raw
        mp = table_of(MemorandumParty)
        party = conn.execute(select(mp).where(mp.c.name.like("Управление образования%"))).one()
        assert party.organization_id == DEPT_ID
        assert party.match_rule is not None
        eng = conn.execute(select(table_of(Engagement)).where(table_of(Engagement).c.instrument == "memorandum")).one()
        assert eng.buyer_id == DEPT_ID
        m = table_of(Mention)
        assert conn.execute(select(m.c.id).where(m.c.organization_id == PLACEHOLDER)).first() is None
        # the body's row is goszakup's, not overwritten by the placeholder's
        dept = conn.execute(select(orgs).where(orgs.c.id == DEPT_ID)).one()
        assert dept.name_ru == 'ГУ "Управление образования Карагандинской области"'
    # the graph has one node for the body
    with engine.connect() as conn:
        edges = conn.exec_driver_sql("SELECT source_id, target_id FROM graph_edges").all()
    nodes = {n for e in edges for n in e}
    assert DEPT_ID in nodes
    assert PLACEHOLDER not in nodes

    before = dump_tables(engine)
    # nothing anywhere — derived tables (graph, totals, search) included — still names the placeholder
    stale = [(table, row) for table, rows in before.items() for row in rows if PLACEHOLDER in repr(row)]
    assert stale == []
    run_build(engine)
    after = dump_tables(engine)
    assert after == before  # a build with nothing new changes nothing


def test_goszakup_first_never_makes_a_placeholder(engine: Engine) -> None:
    # The other order, for comparison: the same records, goszakup first, give the same organization.
    _goszakup_card(engine)
    run_build(engine)
    _govkz_only(engine)
    run_build(engine)
    with engine.connect() as conn:
        orgs = table_of(Organization)
        assert conn.execute(select(orgs.c.id).where(orgs.c.id == PLACEHOLDER)).first() is None
        role = conn.execute(select(table_of(Role)).where(table_of(Role).c.role == "official")).one()
        assert role.organization_id == DEPT_ID


def test_a_placeholder_with_no_body_elsewhere_stays(engine: Engine) -> None:
    _govkz_only(engine)
    run_build(engine)
    # an unrelated goszakup organization arrives: nothing to merge, the placeholder is still the body
    insert_raw(engine, "subject", subject())
    run_build(engine)
    assert _referencing(engine, PLACEHOLDER).get("roles.organization_id") == 1


COMPANY_BIN = "190540972277"  # invented, checksum-valid
COMPANY_ID = f"kz-bin-{COMPANY_BIN}"


def test_a_party_named_before_its_company_arrives_links_when_it_does(engine: Engine) -> None:
    _goszakup_card(engine)
    _govkz_only(engine)
    run_build(engine)
    mp, eng = table_of(MemorandumParty), table_of(Engagement)
    with engine.connect() as conn:
        party = conn.execute(select(mp).where(mp.c.name.like("%Пример Софт%"))).one()
        assert party.organization_id is None  # no source has the company yet
        # the memorandum's engagement is there, with no provider to name yet
        assert conn.execute(select(eng.c.provider_id).where(eng.c.instrument == "memorandum")).all() == [(None,)]
    # A later crawl brings the company's goszakup card (a supplier).
    insert_raw(
        engine, "subject",
        subject(pid=70902, bin=COMPANY_BIN, nameRu='ТОО "Пример Софт"', nameKz='"Пример Софт" ЖШС',
                fullNameRu='Товарищество с ограниченной ответственностью "Пример Софт"', refKopfCode="ТОО",
                typeSupplier=1, parentSubject=None, customer=0, organizer=0, supplier=1),
    )  # fmt: skip
    run_build(engine)
    with engine.connect() as conn:
        party = conn.execute(select(mp).where(mp.c.name.like("%Пример Софт%"))).one()
        assert party.organization_id == COMPANY_ID
        assert party.match_rule is not None
        memo = conn.execute(select(eng.c.buyer_id, eng.c.provider_id).where(eng.c.instrument == "memorandum")).one()
        assert (memo.buyer_id, memo.provider_id) == (DEPT_ID, COMPANY_ID)
    before = dump_tables(engine)
    run_build(engine)
    assert dump_tables(engine) == before
