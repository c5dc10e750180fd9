"""Red flags (issue 5, `pipeline.flags`): each rule fires on a small hand-made case and stays silent on its clean
counter-example, on SQLite and PostgreSQL; verdicts survive rebuilds; the CLI; and the demo data raise every code.

The hand-made databases hold only the rows a rule reads (organizations, engagements, contracts, roles, bids,
register entries), all invented. Thresholds come from the shipped `data/reference/flag_rules.yaml`, and the
cases are placed relative to them, so a tuned threshold moves the cases with it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, func, select

from entities.db import make_engine
from entities.models import (
    Bid,
    Contract,
    Engagement,
    Flag,
    FlagAdjudication,
    Organization,
    Person,
    RawRecord,
    Role,
    UnreliableSupplier,
)
from pipeline.cli import main
from pipeline.flags import CODES, FlagError, compute_flags, flag_rows, record_verdict, run_flags
from pipeline.flags.config import default_config
from pipeline.flags.rules import in_school_year

CFG = default_config()
URL = "http://127.0.0.1:8765/test/{}"  # loopback: fictional by provenance
B, S, S2, S3, DEPT = "org-buyer", "org-supplier", "org-supplier-2", "org-supplier-3", "org-dept"
EJ = "Услуги по предоставлению доступа к электронному журналу и дневнику"
LAPTOP = "Ноутбук"


# ------------------------------------------------------------------------------------------- helpers


def _raw(engine: Engine) -> int:
    with engine.begin() as conn:
        existing = conn.execute(select(RawRecord.id).limit(1)).scalar()
        if existing is not None:
            return int(existing)
        return int(
            conn.execute(
                RawRecord.__table__.insert().returning(RawRecord.id),
                [{"source": "test", "record_type": "t", "external_id": "1", "url": URL.format("raw"),
                  "fetched_at": datetime(2025, 1, 1, tzinfo=UTC), "sha256": "0" * 64, "payload": {}}],
            ).scalar_one()
        )  # fmt: skip


def orgs(engine: Engine, *specs: tuple[str, str], registered: dict[str, date] | None = None) -> None:
    """(id, name) organizations in region 43; BIN = the id's digits padded (only used by bids and the register)."""
    raw = _raw(engine)
    rows = [
        {"id": oid, "bin": bin_of(oid), "name_ru": name, "region_kato": "43", "kind": "company",
         "registered_on": (registered or {}).get(oid), "is_fictional": True, "raw_record_id": raw}
        for oid, name in specs
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(Organization.__table__.insert(), rows)


def bin_of(oid: str) -> str:
    """A stable 12-digit number per test organization (no checksum needed: only joins use it)."""
    return str(int(hashlib.sha256(oid.encode()).hexdigest(), 16) % 10**12).zfill(12)


_counter = iter(range(1, 10**6))


def eng(
    buyer: str | None, provider: str | None, *, instrument: str = "procurement_contract",
    legal_basis: str = "open_tender", competitive: bool = True, subject: str = LAPTOP,
    amount: int | None = 1_000_000, signed: str = "2024-03-01", region: str | None = "43",
    root: int | None = None, ref: str | None = None, provider_name: str | None = None,
    buyer_name: str | None = None, fictional: bool = True, ident: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    n = next(_counter)
    return {
        "id": ident or f"e-{n}", "instrument": instrument, "legal_basis": legal_basis, "competitive": competitive,
        "buyer_id": buyer, "buyer_name": buyer_name or buyer, "provider_id": provider,
        "provider_bin": bin_of(provider) if provider else None, "provider_name": provider_name or provider,
        "subject": subject, "amount_kzt": None if amount is None else Decimal(amount),
        "signed_on": date.fromisoformat(signed), "region_kato": region, "source_url": URL.format(n),
        "contract_root_id": root, "evidence_raw_ids": [], "is_fictional": fictional, "instrument_ref": ref,
    }  # fmt: skip


def add(engine: Engine, model: type, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(model.__table__.insert(), rows)  # type: ignore[attr-defined]


def contract(root: int, cid: int | None = None, *, amount: int = 1_000_000, trd_buy: int | None = None,
             deleted: bool = False, raw: int) -> dict[str, Any]:  # fmt: skip
    cid = cid or root
    return {"id": cid, "root_id": root, "contract_type_id": 1 if cid == root else 2, "deleted": deleted,
            "trd_buy_id": trd_buy, "amount": Decimal(amount), "amount_with_vat": None, "raw_record_id": raw}  # fmt: skip


def flags_by_code(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for flag in compute_flags(engine, CFG):
        out.setdefault(flag["code"], []).append(flag)
    return out


def two_orgs(engine: Engine) -> None:
    orgs(engine, (B, "КГУ «Школа №1 (тест)»"), (S, "ТОО «Тест Журнал»"), (S2, "ТОО «Тест Дневник»"),
         (S3, "ТОО «Тест Сервис»"), (DEPT, "ГУ «Управление образования (тест)»"))  # fmt: skip


# ------------------------------------------------------------------------------------------- rules


def test_single_source_share(engine: Engine) -> None:
    rule = CFG.rule("single_source_share")
    two_orgs(engine)
    n = int(rule["min_contracts"])
    direct = [eng(B, S, legal_basis="single_source", competitive=False, amount=2_000_000) for _ in range(n - 1)]
    add(engine, Engagement, [*direct, eng(B, S2, amount=100_000)])
    hits = {f["id"]: f for f in flags_by_code(engine)["single_source_share"]}
    flag = hits[f"single_source_share:buyer|{B}"]
    assert flag["params"]["direct_share"] >= rule["min_share"]
    assert flag["params"]["contracts"] == n
    assert flag["legal_reference"]
    assert "106-VIII" in flag["legal_reference"]


def test_single_source_share_clean(engine: Engine) -> None:
    two_orgs(engine)
    n = int(CFG.rule("single_source_share")["min_contracts"])
    rows = [eng(B, S, legal_basis="single_source", competitive=False) for _ in range(1)]
    rows += [eng(B, S2) for _ in range(n)]
    add(engine, Engagement, rows)
    assert "single_source_share" not in flags_by_code(engine)


def test_no_announcement(engine: Engine) -> None:
    two_orgs(engine)
    raw = _raw(engine)
    add(engine, Contract, [contract(10, raw=raw)])
    add(engine, Engagement, [eng(B, S, root=10, ident="goszakup-contract-10")])
    (flag,) = flags_by_code(engine)["no_announcement"]
    assert flag["subject_id"] == "goszakup-contract-10"
    assert flag["severity"] == "high"
    assert flag["params"]["competitive_method"] is True


def test_no_announcement_clean(engine: Engine) -> None:
    two_orgs(engine)
    raw = _raw(engine)
    small = int(CFG.rule("no_announcement")["min_amount_kzt"]) // 2
    add(engine, Contract, [contract(10, raw=raw, trd_buy=555), contract(11, raw=raw, amount=small)])
    add(engine, Engagement, [
        eng(B, S, root=10),  # competitive, announced
        eng(B, S, root=11, legal_basis="single_source", competitive=False, amount=small),  # direct, small
    ])  # fmt: skip
    assert "no_announcement" not in flags_by_code(engine)


def _memo(provider: str | None, *, signed: str = "2025-01-21", provider_name: str | None = None) -> dict[str, Any]:
    return eng(None, provider, instrument="memorandum", legal_basis="memorandum", competitive=False, amount=None,
               subject="переход школ региона на информационную систему электронного журнала", signed=signed,
               ref="govkz-news-1", provider_name=provider_name, buyer_name="Управление образования (тест)",
               ident="memorandum-govkz-news-1")  # fmt: skip


def test_memorandum_no_contract(engine: Engine) -> None:
    two_orgs(engine)
    # the memorandum's company is unresolved: matched by legal form and name core (kk spelling)
    add(engine, Engagement, [_memo(None, provider_name="«Тест Журнал» ЖШС"),
                             eng(B, S, subject=EJ, region="11")])  # a contract elsewhere does not count
    (flag,) = flags_by_code(engine)["memorandum_no_contract"]
    assert flag["subject_id"] == "govkz-news-1"
    assert flag["params"]["provider_id"] == S
    assert flag["params"]["service_category"] == "e_journal"
    assert flag["region_kato"] == "43"


def test_memorandum_no_contract_clean(engine: Engine) -> None:
    two_orgs(engine)
    add(engine, Engagement, [_memo(S), eng(B, S, subject=EJ, signed="2023-05-01")])
    assert "memorandum_no_contract" not in flags_by_code(engine)


def test_memorandum_no_contract_spares_real_memoranda_without_real_contracts(engine: Engine) -> None:
    two_orgs(engine)
    add(engine, Engagement, [dict(_memo(S), is_fictional=False), eng(B, S2, subject=EJ)])
    assert "memorandum_no_contract" not in flags_by_code(engine)


def test_memorandum_direct_award(engine: Engine) -> None:
    two_orgs(engine)
    add(engine, Engagement, [
        _memo(S), eng(B, S, subject=EJ, legal_basis="single_source", competitive=False, signed="2025-04-16"),
    ])  # fmt: skip
    (flag,) = flags_by_code(engine)["memorandum_direct_award"]
    assert flag["params"]["days_after"] == (date(2025, 4, 16) - date(2025, 1, 21)).days
    assert flag["params"]["direct_contracts"] == 1


def test_memorandum_direct_award_clean(engine: Engine) -> None:
    two_orgs(engine)
    late = (date(2025, 1, 21) + timedelta(days=int(CFG.rule("memorandum_direct_award")["period_days"]) + 5))
    add(engine, Engagement, [
        _memo(S),
        eng(B, S, subject=EJ, signed="2025-04-16"),  # competitive
        eng(B, S, legal_basis="single_source", competitive=False, signed="2024-12-01"),  # before
        eng(B, S, legal_basis="single_source", competitive=False, signed=late.isoformat()),  # too late
        eng(B, S2, legal_basis="single_source", competitive=False, signed="2025-03-01"),  # another company
    ])  # fmt: skip
    assert "memorandum_direct_award" not in flags_by_code(engine)


def test_two_operators(engine: Engine) -> None:
    two_orgs(engine)
    add(engine, Engagement, [eng(B, S, subject=EJ, signed="2024-01-10"), eng(B, S, subject=EJ, signed="2024-12-10"),
                             eng(B, S2, subject=EJ, signed="2024-06-03")])  # fmt: skip
    (flag,) = flags_by_code(engine)["two_operators"]
    assert flag["id"] == f"two_operators:{B}|e_journal"
    assert flag["related_ids"] == sorted([S, S2])


def test_two_operators_clean(engine: Engine) -> None:
    two_orgs(engine)
    add(engine, Engagement, [
        eng(B, S, subject=EJ, signed="2023-01-10"), eng(B, S, subject=EJ, signed="2023-05-10"),
        eng(B, S2, subject=EJ, signed="2023-09-01"),  # after the first operator: a handover, not an overlap
        eng(B, S3, subject=LAPTOP, signed="2023-03-01"),  # another service
    ])  # fmt: skip
    assert "two_operators" not in flags_by_code(engine)


def test_mid_year_switch(engine: Engine) -> None:
    two_orgs(engine)
    add(engine, Engagement, [eng(B, S, subject=EJ, signed="2024-10-01"), eng(B, S2, subject=EJ, signed="2025-02-05")])
    (flag,) = flags_by_code(engine)["mid_year_switch"]
    assert (flag["params"]["old_provider_id"], flag["params"]["new_provider_id"]) == (S, S2)


def test_mid_year_switch_clean(engine: Engine) -> None:
    two_orgs(engine)
    add(engine, Engagement, [eng(B, S, subject=EJ, signed="2024-05-20"), eng(B, S2, subject=EJ, signed="2024-09-05")])
    assert "mid_year_switch" not in flags_by_code(engine)


def test_school_year_window() -> None:
    rule = CFG.rule("mid_year_switch")
    assert in_school_year(date(2025, 1, 15), rule)
    assert in_school_year(date(2024, 11, 1), rule)
    assert not in_school_year(date(2024, 9, 2), rule)  # inside the start grace period
    assert not in_school_year(date(2024, 7, 1), rule)  # summer
    assert in_school_year(date(2025, 5, 31), rule)
    assert not in_school_year(date(2025, 6, 1), rule)


def test_winner_concentration(engine: Engine) -> None:
    two_orgs(engine)
    n = int(CFG.rule("winner_concentration")["min_contracts"])
    add(engine, Engagement, [eng(B, S3) for _ in range(n)])
    (flag,) = flags_by_code(engine)["winner_concentration"]
    assert flag["subject_id"] == "43|hardware"
    assert flag["params"]["hhi"] == 10000
    assert flag["params"]["top_share"] == 1.0


def test_winner_concentration_clean(engine: Engine) -> None:
    two_orgs(engine)
    n = int(CFG.rule("winner_concentration")["min_contracts"])
    add(engine, Engagement, [eng(B, (S, S2, S3, DEPT)[i % 4]) for i in range(n + 2)])
    assert "winner_concentration" not in flags_by_code(engine)


def test_repeated_pair(engine: Engine) -> None:
    two_orgs(engine)
    rule = CFG.rule("repeated_pair")
    k, nc = int(rule["min_contracts"]), int(rule["min_noncompetitive"])
    rows = [eng(B, S, legal_basis="single_source", competitive=False) for _ in range(nc)]
    rows += [eng(B, S) for _ in range(k - nc)]
    add(engine, Engagement, rows)
    (flag,) = flags_by_code(engine)["repeated_pair"]
    assert flag["id"] == f"repeated_pair:{B}|{S}"
    assert flag["params"]["contracts"] == k


def test_repeated_pair_clean(engine: Engine) -> None:
    two_orgs(engine)
    k = int(CFG.rule("repeated_pair")["min_contracts"])
    add(engine, Engagement, [eng(B, S) for _ in range(k + 3)])  # all competitive
    assert "repeated_pair" not in flags_by_code(engine)


def _register(engine: Engine) -> None:
    add(engine, UnreliableSupplier, [{"rnu_id": "17071", "supplier_biin": bin_of(S), "supplier_name": "ТОО «Тест»",
                                      "start_date": date(2024, 1, 1), "end_date": date(2025, 12, 31),
                                      "raw_record_id": _raw(engine)}])  # fmt: skip


def test_unreliable_supplier(engine: Engine) -> None:
    two_orgs(engine)
    _register(engine)
    add(engine, Engagement, [eng(B, S, signed="2024-06-01")])
    (flag,) = flags_by_code(engine)["unreliable_supplier"]
    assert flag["params"]["register_entry"] == "17071"
    assert flag["severity"] == "high"


def test_unreliable_supplier_clean(engine: Engine) -> None:
    two_orgs(engine)
    _register(engine)
    add(engine, Engagement, [eng(B, S, signed="2023-06-01"), eng(B, S2, signed="2024-06-01")])
    assert "unreliable_supplier" not in flags_by_code(engine)


def test_new_company(engine: Engine) -> None:
    orgs(engine, (B, "Школа"), (S, "ТОО «Новая»"), registered={S: date(2024, 1, 10)})
    add(engine, Engagement, [eng(B, S, signed="2024-03-01"), eng(B, S, signed="2024-09-01")])
    (flag,) = flags_by_code(engine)["new_company"]
    assert flag["params"]["days"] == (date(2024, 3, 1) - date(2024, 1, 10)).days
    assert flag["params"]["first_award_on"] == "2024-03-01"


def test_new_company_clean(engine: Engine) -> None:
    days = int(CFG.rule("new_company")["max_days"])
    orgs(engine, (B, "Школа"), (S, "ТОО «Старая»"), registered={S: date(2024, 3, 1) - timedelta(days=days + 1)})
    add(engine, Engagement, [eng(B, S, signed="2024-03-01")])
    assert "new_company" not in flags_by_code(engine)


def _person(engine: Engine, pid: str, *holds: tuple[str, str]) -> None:
    add(engine, Person, [{"id": pid, "display_name": "Тестов Тест Тестович", "is_fictional": True}])
    raw = _raw(engine)
    add(engine, Role, [{"person_id": pid, "organization_id": org, "role": role, "raw_record_id": raw,
                        "start_date": date(2023, 1, 1)} for org, role in holds])  # fmt: skip


def _bids(engine: Engine, *pairs: tuple[int, str]) -> None:
    raw = _raw(engine)
    add(engine, Bid, [{"application_id": 100 + i, "lot_id": lot, "supplier_biin": bin_of(org), "raw_record_id": raw}
                      for i, (lot, org) in enumerate(pairs)])  # fmt: skip


def test_shared_person(engine: Engine) -> None:
    two_orgs(engine)
    _person(engine, "p-1", (B, "head"), (S, "founder"))
    _person(engine, "p-2", (S2, "head"), (S3, "director"))
    add(engine, Engagement, [eng(B, S)])
    _bids(engine, (7001, S2), (7001, S3), (7002, S))
    flags = {f["id"]: f for f in flags_by_code(engine)["shared_person"]}
    assert set(flags) == {f"shared_person:p-1|{B}|{S}", f"shared_person:p-2|bids|{S2}|{S3}"}
    assert flags[f"shared_person:p-2|bids|{S2}|{S3}"]["params"]["lot_ids"] == [7001]
    assert flags[f"shared_person:p-2|bids|{S2}|{S3}"]["source_urls"] == [URL.format("raw")]
    assert flags[f"shared_person:p-1|{B}|{S}"]["params"]["supplier"]["roles"] == ["founder"]


def test_shared_person_clean(engine: Engine) -> None:
    two_orgs(engine)
    _person(engine, "p-1", (B, "head"), (S, "founder"))  # no engagement between them
    _person(engine, "p-2", (S2, "head"), (S3, "official"))  # not a head/founder role in S3
    _person(engine, "p-3", (S, "head"), (DEPT, "head"))
    add(engine, Engagement, [eng(B, S2), eng(DEPT, S3)])
    _bids(engine, (7001, S2), (7001, S3), (7002, S), (7003, DEPT))
    assert "shared_person" not in flags_by_code(engine)


def test_amendment_value_creep(engine: Engine) -> None:
    two_orgs(engine)
    raw = _raw(engine)
    share = float(CFG.rule("amendment_value_creep")["min_increase"])
    grown = round(1_000_000 * (1 + share + 0.05))
    add(engine, Contract, [contract(20, raw=raw, trd_buy=1), contract(20, 21, amount=grown, trd_buy=1, raw=raw)])
    add(engine, Engagement, [eng(B, S, root=20, amount=grown)])
    (flag,) = flags_by_code(engine)["amendment_value_creep"]
    assert flag["params"]["original_kzt"] == 1_000_000.0
    assert flag["params"]["latest_kzt"] == float(grown)


def test_amendment_value_creep_clean(engine: Engine) -> None:
    two_orgs(engine)
    raw = _raw(engine)
    add(engine, Contract, [
        contract(20, raw=raw, trd_buy=1), contract(20, 21, amount=1_050_000, trd_buy=1, raw=raw),
        contract(20, 22, amount=9_000_000, trd_buy=1, deleted=True, raw=raw),  # an annulled amendment
    ])  # fmt: skip
    add(engine, Engagement, [eng(B, S, root=20, amount=1_050_000)])
    assert "amendment_value_creep" not in flags_by_code(engine)


def _donation() -> dict[str, Any]:
    return eng(B, S, instrument="donation", legal_basis="donation", competitive=False, amount=None,
               subject="Безвозмездная передача оборудования", signed="2024-01-10")  # fmt: skip


def test_donation_paid_support(engine: Engine) -> None:
    two_orgs(engine)
    add(engine, Engagement, [_donation(), eng(B, S, legal_basis="single_source", competitive=False,
                                              subject="Услуги по сопровождению программного обеспечения",
                                              signed="2024-05-02")])  # fmt: skip
    (flag,) = flags_by_code(engine)["donation_paid_support"]
    assert flag["params"]["paid_contracts"] == 1
    assert flag["params"]["service_categories"] == ["it_support"]


def test_donation_paid_support_clean(engine: Engine) -> None:
    two_orgs(engine)
    add(engine, Engagement, [_donation(), eng(DEPT, S, signed="2024-05-02"),  # another buyer
                             eng(B, S, signed="2023-12-01"), eng(B, S2, signed="2024-05-02")])  # fmt: skip
    assert "donation_paid_support" not in flags_by_code(engine)


def test_every_code_has_a_rule_and_thresholds() -> None:
    assert sorted(CODES) == sorted(CFG.rules)
    assert len(CODES) == 13


# ------------------------------------------------------------------------------------------- adjudication


def _flagged(engine: Engine) -> str:
    two_orgs(engine)
    add(engine, Engagement, [eng(B, S, subject=EJ, signed="2024-10-01"), eng(B, S2, subject=EJ, signed="2025-02-05")])
    run_flags(engine, CFG)
    return f"mid_year_switch:{B}|e_journal|{S2}"


def _state(engine: Engine, flag_id: str) -> tuple[str, str | None]:
    (row,) = [r for r in flag_rows(engine) if r["id"] == flag_id]
    return row["state"], row["note"]


def test_verdict_survives_rebuilds_and_newest_wins(engine: Engine) -> None:
    flag_id = _flagged(engine)
    assert _state(engine, flag_id) == ("open", None)
    record_verdict(engine, "unjustified", flag_id, note="first look", author="a")
    record_verdict(engine, "justified", flag_id, note="the order explains it", author="b")
    report = run_flags(engine, CFG)  # same inputs: nothing rewritten
    assert (report.written, report.removed, report.unchanged) == (0, 0, 1)
    assert _state(engine, flag_id) == ("justified", "the order explains it")
    with engine.begin() as conn:  # rebuild from scratch: derived rows gone, verdicts kept
        conn.execute(delete(Flag))
    run_flags(engine, CFG)
    assert _state(engine, flag_id) == ("justified", "the order explains it")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FlagAdjudication)).scalar_one() == 2
    assert [r["id"] for r in flag_rows(engine, state="justified")] == [flag_id]
    assert list(flag_rows(engine, state="open")) == []


def test_changed_input_rewrites_only_that_flag(engine: Engine) -> None:
    flag_id = _flagged(engine)
    with engine.connect() as conn:
        before = conn.execute(select(Flag.computed_at).where(Flag.id == flag_id)).scalar_one()
    add(engine, Engagement, [eng(B, S3, subject=EJ, signed="2025-03-03")])  # a third operator follows
    report = run_flags(engine, CFG)
    assert report.written >= 1
    with engine.connect() as conn:
        after = conn.execute(select(Flag.computed_at).where(Flag.id == flag_id)).scalar_one()
        assert after == before  # the first switch's flag did not change


def test_unknown_flag_and_bad_state_are_refused(engine: Engine) -> None:
    with pytest.raises(FlagError, match="no flag"):
        record_verdict(engine, "justified", "nope:1")
    with pytest.raises(FlagError, match="state"):
        record_verdict(engine, "maybe", "nope:1")


# ------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ASHYQ_DATABASE_URL", db_url)
    monkeypatch.setenv("ASHYQ_USER", "tester")
    return db_url


def test_cli_list_adjudicate_export(engine: Engine, cli_env: str, tmp_path: Path) -> None:
    flag_id = _flagged(engine)
    runner = CliRunner()
    listed = runner.invoke(main, ["flags", "list", "--json", "--code", "mid_year_switch", "--region", "43"])
    assert listed.exit_code == 0, listed.output
    (item,) = [json.loads(line) for line in listed.output.splitlines()]
    assert (item["id"], item["state"]) == (flag_id, "open")
    done = runner.invoke(main, ["flag", "justified", flag_id, "--note", "приказ №17 объясняет"])
    assert done.exit_code == 0, done.output
    assert "tester" in done.output
    text = runner.invoke(main, ["flags", "list", "--state", "justified"])
    assert text.exit_code == 0
    assert flag_id in text.output
    assert "приказ №17" in text.output
    assert runner.invoke(main, ["flags", "list", "--state", "open", "--json"]).output == ""
    out = tmp_path / "flags.csv"
    exported = runner.invoke(main, ["export", "flags", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    (row,) = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert (row["flag_id"], row["state"], row["adjudication_note"], row["adjudicated_by"]) == (
        flag_id, "justified", "приказ №17 объясняет", "tester")  # fmt: skip
    assert row["source_urls"].startswith("http://127.0.0.1:8765/test/")
    assert json.loads(row["params"])["new_provider_id"] == S2


def test_cli_unknown_flag_exits_2(engine: Engine, cli_env: str) -> None:
    result = CliRunner().invoke(main, ["flag", "unjustified", "no-such-flag", "--note", "x"])
    assert result.exit_code == 2
    assert "no flag 'no-such-flag'" in result.output
    bad = CliRunner().invoke(main, ["flags", "list", "--code", "nonsense"])
    assert bad.exit_code == 2


# ------------------------------------------------------------------------------------------- the demo


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo (simulator → every spider → build), built once on SQLite: what `make demo` shows."""
    from pipeline.demo import run_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite'}"
    saved = {k: os.environ.get(k) for k in ("ASHYQ_DATABASE_URL", "ASHYQ_DEMO_SIMULATOR_PORT")}
    os.environ["ASHYQ_DATABASE_URL"] = url
    os.environ["ASHYQ_DEMO_SIMULATOR_PORT"] = str(_free_port())
    try:
        run_demo(serve=False)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return url


@pytest.mark.slow
def test_demo_raises_every_flag(demo_db: str) -> None:
    engine = make_engine(demo_db)
    try:
        rows = list(flag_rows(engine))
    finally:
        engine.dispose()
    codes = {r["code"] for r in rows}
    assert codes == set(CODES), f"missing in the demo: {sorted(set(CODES) - codes)}"
    assert all(r["is_fictional"] for r in rows)  # the demo never flags a real entity
    by_id = {r["id"]: r for r in rows}
    # the Kyzylorda story (crawlers/simulator/other_scenario.py): the memorandum-only operator and the switch
    story = [r for r in rows if r["region_kato"] == "43"]
    assert any(r["code"] == "memorandum_no_contract" and "Үлгі Бағалау" in r["explanation"] for r in story)
    assert any(r["code"] == "memorandum_direct_award" and "Сынақ Мектеп Онлайн" in r["explanation"] for r in story)
    assert any(r["code"] == "mid_year_switch" and r["params"]["new_provider_name"].endswith('"Сынақ Мектеп Онлайн"')
               for r in story)  # fmt: skip
    assert all(r["source_urls"] for r in by_id.values())
    # the gift before paid work (other_scenario.py `_donation`): the donor's paid contracts follow
    (gift,) = [r for r in rows if r["code"] == "donation_paid_support"]
    assert gift["params"]["paid_contracts"] >= 1
    assert gift["params"]["days_after"] > 0


def test_service_categories_of_the_simulator_items() -> None:
    """Every demo item, in Russian and in Kazakh, lands in its own category (the vocabulary's tuning set)."""
    from crawlers.simulator import vocab

    expected = {"ejournal": "e_journal", "platform": "learning_platform", "hardware": "hardware",
                "it_support": "it_support", "training": "training"}  # fmt: skip
    for item in vocab.ITEMS:
        assert CFG.category(item.name_ru) == expected[vocab.CATEGORIES[item.category]], item.name_ru
        assert CFG.category(item.name_kz) == expected[vocab.CATEGORIES[item.category]], item.name_kz
    assert CFG.category("пилотное внедрение системы оценивания учебных достижений") == "assessment"
    assert CFG.category(None) == CFG.category("Услуги охраны") == "other"
