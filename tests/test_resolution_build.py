"""The build's resolution stage (`pipeline.resolution`) and `ashyq export entities`, on both backends.

Fixture: one supplier's head written twice («Оспанов Ерлан Маратович», «Оспанов Е.М.» — initials, one company:
the matcher merges them), and a namesake heading another company (kept apart: a full name alone never links two
organizations' people). Judgements flip both, through the CLI, and survive a rebuild from scratch.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from fixtures.raw.goszakup_raw import (
    IP_IIN,
    SUPPLIER_BIN,
    THIRD_BIN,
    contract,
    dump_tables,
    insert_raw,
    saved,
)
from sqlalchemy import Engine, delete, select

from entities.judgements import mention_ref
from entities.models import (
    Bid,
    BuildState,
    Contract,
    ContractUnit,
    Engagement,
    EntityLink,
    Lot,
    Mention,
    Organization,
    Person,
    Procurement,
    Quarantine,
    Role,
    UnreliableSupplier,
)
from pipeline.build import run_build
from pipeline.cli import main as cli
from pipeline.resolution import ENTITY_COLUMNS, export_entities, needs_resolution

FULL = "Оспанов Ерлан Маратович"
INITIALS = "Оспанов Е.М."


def _raws(engine: Engine) -> None:
    other = dict(saved("contract")["Supplier"], pid=60031, bin=THIRD_BIN, nameRu="ТОО «Білім Тех»", nameKz=None,
                 fullNameRu=None)  # fmt: skip
    insert_raw(engine, "contract", contract(9000101, supplierFio=FULL))
    insert_raw(engine, "contract", contract(9000102, supplierFio=INITIALS))
    insert_raw(engine, "contract", contract(9000103, supplierFio=FULL, supplierBiin=THIRD_BIN, supplierId=60031,
                                            Supplier=other))  # fmt: skip
    card = {k: v for k, v in saved("subject_ip").items() if k in saved("contract")["Supplier"]}
    insert_raw(engine, "contract", contract(9000104, supplierBiin=IP_IIN, supplierId=60077, Supplier=card,
                                            supplierFio="Бекова Гульнара Асхатовна"))  # fmt: skip


def _supplier_heads(engine: Engine) -> dict[int, tuple[str, str | None, int]]:
    """Contract id → (person id, match rule, mention id) of its `supplierFio` mention."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Contract.id, Mention.person_id, Mention.match_rule, Mention.id)
            .join(Mention, Mention.raw_record_id == Contract.raw_record_id)
            .where(Mention.field == "Contract.supplierFio")
        ).all()
    return {cid: (pid, rule, mid) for cid, pid, rule, mid in rows}


def _ids(engine: Engine) -> dict[int, str]:
    return {cid: pid for cid, (pid, _, _) in _supplier_heads(engine).items()}


def _wipe_derived(engine: Engine) -> None:
    """A rebuild from scratch: everything but the raw store and the judgements."""
    with engine.begin() as conn:
        for model in (EntityLink, Engagement, Role, Mention, ContractUnit, Contract, Bid, Lot, Procurement,
                      UnreliableSupplier, Person, Organization, Quarantine, BuildState):  # fmt: skip
            conn.execute(delete(model.__table__))  # type: ignore[attr-defined]


def test_build_resolves_mentions_and_keeps_the_reasons(engine: Engine) -> None:
    _raws(engine)
    run_build(engine)
    heads = _supplier_heads(engine)
    ids = _ids(engine)
    assert ids[9000101] == ids[9000102]  # initials within one company
    assert ids[9000103] != ids[9000101]  # a namesake at another company
    assert ids[9000101].startswith("person-")
    assert not ids[9000101].startswith("person-iin-")
    assert ids[9000104].startswith("person-iin-")
    assert heads[9000102][1] == "person_initials_same_context"
    assert heads[9000103][1] == "singleton"
    with engine.connect() as conn:
        persons = dict(conn.execute(select(Person.id, Person.display_name)).all())
        roles = conn.execute(select(Role.person_id, Role.organization_id)).all()
        links = conn.execute(select(EntityLink.entity_id, EntityLink.rule, EntityLink.score,
                                    EntityLink.left_name, EntityLink.right_name)).all()  # fmt: skip
        org_rules = set(
            conn.execute(select(Mention.match_rule).where(Mention.kind == "organization")).scalars()
        )
        org_ids = set(
            conn.execute(select(Mention.organization_id).where(Mention.kind == "organization")).scalars()
        )
    # Only the resolver's persons remain (the customer's head too); roles point at them; the merged one has its
    # full name.
    assert set(ids.values()) < set(persons)
    assert all(pid.startswith("person-") for pid in persons)
    assert persons[ids[9000101]] == FULL
    assert {pid for pid, _ in roles} == set(persons)
    assert sorted(org for pid, org in roles if pid == ids[9000101]) == [f"kz-bin-{SUPPLIER_BIN}"] * 2
    person_links = [lk for lk in links if lk.entity_id == ids[9000101]]
    assert len(person_links) == 1
    assert person_links[0].rule == "person_initials_same_context"
    assert {person_links[0].left_name, person_links[0].right_name} == {FULL, INITIALS}
    # Organizations stay keyed by their BIN; «ТОО «Кундызай Цифра»» and «…ЖШС» folded into one node, with a reason.
    assert f"kz-bin-{SUPPLIER_BIN}" in org_ids
    assert all(o.startswith(("kz-bin-", "kz-ip-")) for o in org_ids)
    assert org_rules <= {"id", "normalized_name", "singleton", "name"}
    assert any(lk.entity_id == f"kz-bin-{SUPPLIER_BIN}" and lk.rule == "normalized_name" for lk in links)

    # Re-running changes nothing; a rebuild from scratch gives the same ids and rows.
    assert not needs_resolution(engine)
    dump = dump_tables(engine)
    run_build(engine)
    assert dump_tables(engine) == dump
    before = {t: [r[1:] for r in rows] for t, rows in dump.items() if t in ("entity_links", "persons")}
    _wipe_derived(engine)
    run_build(engine)
    assert _ids(engine) == ids
    after = dump_tables(engine)
    assert {t: [r[1:] for r in after[t]] for t in before} == before


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _export(tmp_path: Path) -> dict[str, dict[str, Any]]:
    out = tmp_path / "entities.csv"
    _cli("export", "entities", "-o", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert IP_IIN.encode() not in raw  # never an IIN
    with out.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == ENTITY_COLUMNS
        return {row["entity_id"]: row for row in reader}


def test_judgements_flip_the_next_build_and_survive_a_rebuild(
    db_url: str, engine: Engine, monkeypatch: Any, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASHYQ_DATABASE_URL", db_url)
    monkeypatch.setenv("ASHYQ_USER", "test-editor")
    _raws(engine)
    _cli("build")
    heads = _supplier_heads(engine)
    merged = heads[9000101][0]
    assert heads[9000102][0] == merged
    rows = _export(tmp_path)
    assert rows[merged]["kind"] == "person"
    assert rows[merged]["names_seen"] == f"{FULL} | {INITIALS}"
    assert rows[merged]["mention_count"] == "2"
    assert "person_initials_same_context:100" in rows[merged]["merge_reasons"]
    assert rows[merged]["sources"].count("goszakup.gov.kz/ru/egzcontract/cpublic/show/") == 2
    supplier = rows[f"kz-bin-{SUPPLIER_BIN}"]
    assert supplier["bin"] == SUPPLIER_BIN
    assert "ТОО «Кундызай Цифра»" in supplier["names_seen"].split(" | ")
    assert "normalized_name:100" in supplier["merge_reasons"]
    ip = next(r for r in rows.values() if r["entity_id"].startswith("kz-ip-"))
    assert ip["bin"] == ""

    # «different» splits the initials from the full name at the next build.
    _cli("judge", "different", str(heads[9000101][2]), str(heads[9000102][2]), "--note", "two brothers")
    assert needs_resolution(engine)
    _cli("build")
    ids = _ids(engine)
    assert ids[9000101] != ids[9000102]
    # «same» joins the namesake at the other company, which the matcher kept apart.
    _cli("judge", "same", str(heads[9000101][2]), str(heads[9000103][2]), "--note", "same IIN in the order")
    _cli("build")
    ids = _ids(engine)
    assert ids[9000101] == ids[9000103] != ids[9000102]
    with engine.connect() as conn:
        rules = dict(conn.execute(select(Mention.id, Mention.match_rule)).all())
        roles = conn.execute(select(Role.person_id, Role.organization_id)).all()
    assert rules[heads[9000103][2]] == "judgement"
    assert sorted(org for pid, org in roles if pid == ids[9000101]) == sorted(
        [f"kz-bin-{SUPPLIER_BIN}", f"kz-bin-{THIRD_BIN}"]
    )
    assert "judgement:100" in _export(tmp_path)[ids[9000101]]["merge_reasons"]

    # A rebuild from scratch (derived tables gone, raw store and judgements kept): the judgements still hold.
    namesake = mention_ref(*_mention_key(engine, heads[9000103][2]))
    _wipe_derived(engine)
    _cli("build")
    assert _ids(engine) == ids
    with engine.connect() as conn:
        refs = set(conn.execute(select(EntityLink.left_ref)).scalars()) | set(
            conn.execute(select(EntityLink.right_ref)).scalars()
        )
    assert namesake in refs


def _mention_key(engine: Engine, mention_id: int) -> tuple[int, str, str]:
    with engine.connect() as conn:
        row = conn.execute(
            select(Mention.raw_record_id, Mention.field, Mention.name).where(Mention.id == mention_id)
        ).one()
    return row.raw_record_id, row.field, row.name


def test_export_of_an_empty_database(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "e.csv"
    assert export_entities(engine, out) == 0
    assert out.read_text(encoding="utf-8-sig").strip() == ",".join(ENTITY_COLUMNS)
    assert not needs_resolution(engine)


def test_a_newer_version_is_resolved_at_the_next_build(engine: Engine) -> None:
    insert_raw(engine, "contract", contract(9000101, supplierFio=FULL))
    run_build(engine)
    first = _ids(engine)[9000101]
    # A newer version of the same contract names the head with initials: its mentions replace the old ones.
    insert_raw(
        engine, "contract", contract(9000101, supplierFio=INITIALS, lastUpdateDate="2024-04-01 09:00:00")
    )
    assert needs_resolution(engine) is False  # nothing normalized yet
    run_build(engine)
    heads = _supplier_heads(engine)
    assert heads[9000101][0].startswith("person-")
    assert heads[9000101][0] != first  # another spelling, alone now: another anchor
    with engine.connect() as conn:
        persons = set(conn.execute(select(Person.id)).scalars())
        names = set(
            conn.execute(select(Mention.name).where(Mention.field == "Contract.supplierFio")).scalars()
        )
    assert names == {INITIALS}
    assert first not in persons
    assert all(p.startswith("person-") for p in persons)
