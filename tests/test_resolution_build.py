"""The build's resolution stage (`pipeline.resolution`) and `ashyq export entities`, on both backends.

Fixture: one supplier's head written twice («Оспанов Ерлан Маратович», «Оспанов Е.М.» — initials, one company:
the matcher merges them), and a namesake heading another company (kept apart: a full name alone never links two
organizations' people). Judgements flip both, through the CLI, and survive a rebuild from scratch. And names
from the other sources (stat.gov.kz director, PPP partner, memorandum party, curated fact party) become mentions
and resolve against each other.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
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
    CuratedFact,
    Engagement,
    EntityLink,
    Lot,
    Memorandum,
    MemorandumParty,
    Mention,
    Organization,
    Person,
    PPPAgreement,
    Procurement,
    Quarantine,
    RawRecord,
    Role,
    UnreliableSupplier,
)
from pipeline.build import run_build
from pipeline.cli import main as cli
from pipeline.resolution import (
    ENTITY_COLUMNS,
    FIELD_CURATED,
    FIELD_PPP,
    FIELD_STATGOV,
    export_entities,
    needs_resolution,
    run_resolution,
)

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


# ------------------------------------------------------------------------- mentions from the other sources

_ORG_BIN = "190540972277"  # invented, checksum-valid
DIRECTOR = "ИЛЬЯСОВ МУХТАР БЕКОВИЧ"  # as the card writes it; the person row shows it in title case


def _raw(
    conn: Any, source: str, record_type: str, external_id: str, payload: dict[str, Any] | None = None
) -> int:
    row = {"source": source, "record_type": record_type, "external_id": external_id,
           "url": f"http://127.0.0.1:9/{source}/{external_id}", "human_url": None,
           "fetched_at": datetime(2026, 1, 1, tzinfo=UTC), "sha256": external_id.rjust(64, "0"), "payload": payload or {}}  # fmt: skip
    return int(
        conn.execute(RawRecord.__table__.insert().returning(RawRecord.__table__.c.id), row).scalar_one()
    )  # type: ignore[attr-defined]


def _other_sources(engine: Engine) -> dict[str, int]:
    """One organization (by BIN) and its director from stat.gov.kz; a PPP agreement naming it with the BIN; a
    memorandum naming it in Kazakh without one; a curated fact naming the director by initials only."""
    org_id = f"kz-bin-{_ORG_BIN}"
    with engine.begin() as conn:
        card = {"success": True, "obj": {"bin": _ORG_BIN, "fio": DIRECTOR}}
        raws = {k: _raw(conn, src, rt, k, card if src == "statgov" else None) for k, src, rt in (
            ("statgov", "statgov", "statgov_company"), ("ppp", "ppp_import", "ppp_agreement"),
            ("memo", "govkz", "govkz_news"), ("fact", "curated", "curated_fact"))}  # fmt: skip
        conn.execute(Organization.__table__.insert(), [{"id": org_id, "bin": _ORG_BIN, "name_ru": "ТОО «Күнделік»",  # type: ignore[attr-defined]
                                                         "raw_record_id": raws["statgov"]}])  # fmt: skip
        conn.execute(Person.__table__.insert(), [{"id": "statgov-director-1", "display_name": "Ильясов Мухтар Бекович",  # type: ignore[attr-defined]
                                                  "is_fictional": True}])  # fmt: skip
        conn.execute(Role.__table__.insert(), [{"person_id": "statgov-director-1", "organization_id": org_id,  # type: ignore[attr-defined]
                                                "role": "director", "raw_record_id": raws["statgov"]}])  # fmt: skip
        conn.execute(PPPAgreement.__table__.insert(), [{"id": "ppp-import-1", "origin": "registry_import",  # type: ignore[attr-defined]
            "project": "Мектеп", "private_partner_name": "ТОО \"Кунделик\"", "private_partner_bin": _ORG_BIN,
            "private_partner_id": org_id, "state_partner_name": "ГУ «Управление образования города Астаны»",
            "raw_record_id": raws["ppp"]}])  # fmt: skip
        conn.execute(Memorandum.__table__.insert(), [{"id": "govkz-news-1", "origin": "govkz_news",  # type: ignore[attr-defined]
                                                      "instrument": "memorandum", "raw_record_id": raws["memo"]}])  # fmt: skip
        conn.execute(MemorandumParty.__table__.insert(), [{"memorandum_id": "govkz-news-1", "position": 0,  # type: ignore[attr-defined]
                                                           "name": "«Күнделік» ЖШС", "raw_record_id": raws["memo"]}])  # fmt: skip
        conn.execute(CuratedFact.__table__.insert(), [{"id": "fact-1", "kind": "memorandum", "date_precision": "day",  # type: ignore[attr-defined]
            "date_basis": "signed", "summary": "…", "source_url": "http://127.0.0.1:9/x", "retrieved_on": date(2026, 1, 1),
            "language": "ru", "raw_record_id": raws["fact"],
            "parties": [{"name": "М.Б. Ильясов", "role": "signatory", "entity": "person"},
                        {"name": "Russian investors", "role": "party", "entity": "group"}]}])  # fmt: skip
    return raws


def test_mentions_from_every_source_resolve_like_goszakup_ones(engine: Engine) -> None:
    raws = _other_sources(engine)
    report = run_resolution(engine)
    assert report.ran
    assert report.source_mentions_added == 5  # the group names nobody
    with engine.connect() as conn:
        rows = {(r.field, r.name): r for r in conn.execute(select(Mention.__table__))}  # type: ignore[attr-defined]
        roles = conn.execute(select(Role.person_id, Role.organization_id)).all()
    org_id = f"kz-bin-{_ORG_BIN}"
    memo = rows[("memorandum_party:govkz-news-1:0", "«Күнделік» ЖШС")]
    assert memo.organization_id == org_id  # no BIN in the memorandum: the name met the PPP partner's
    assert rows[(FIELD_PPP + "private_partner", 'ТОО "Кунделик"')].organization_id == org_id
    director = rows[(FIELD_STATGOV, DIRECTOR)]
    signatory = rows[(FIELD_CURATED + "0", "М.Б. Ильясов")]
    assert director.context_bin == _ORG_BIN
    assert director.person_id == signatory.person_id  # initials named for nobody, one compatible person
    assert signatory.match_rule == "person_initials_unique"
    assert roles == [(director.person_id, org_id)]  # the stat.gov.kz role follows its person
    assert director.raw_record_id == raws["statgov"]

    again = run_resolution(engine)
    assert not again.ran
    assert (again.source_mentions_added, again.source_mentions_removed) == (0, 0)

    with engine.begin() as conn:  # the memorandum's newer version no longer names the party
        conn.execute(delete(MemorandumParty.__table__))  # type: ignore[attr-defined]
    gone = run_resolution(engine)
    assert gone.ran
    assert gone.source_mentions_removed == 1
    with engine.connect() as conn:
        fields = set(conn.execute(select(Mention.field)).scalars())
    assert not any(f.startswith("memorandum_party:") for f in fields)
