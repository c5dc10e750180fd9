"""`ashyq export engagements`: the public CSV format of DESIGN §4, on both backends."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures.raw.goszakup_raw import (
    ALMATY_SCHOOL_CARD,
    IP_IIN,
    OTHER_BIN,
    contract,
    insert_raw,
    saved,
    trd_buy,
)
from sqlalchemy import Engine

from pipeline.build import run_build
from pipeline.cli import main as cli
from pipeline.export import COLUMNS, export_engagements

HEADER = (
    "engagement_id,instrument,legal_basis,competitive,buyer_bin,buyer_name,provider_bin,provider_name,"
    "subject,amount_kzt,signed_on,region_kato,source_url"
)


@pytest.fixture
def built(engine: Engine) -> Engine:
    """Three engagements: a tender with an amendment, a direct award to an entrepreneur, one without a method."""
    insert_raw(engine, "contract", contract(9000101))
    insert_raw(engine, "contract", contract(9000155, 9000101, contractSumWnds=1500000))
    insert_raw(engine, "trd_buy", trd_buy())
    ip_card = {k: v for k, v in saved("subject_ip").items() if k in saved("contract")["Supplier"]}
    insert_raw(
        engine,
        "contract",
        contract(
            900020,  # a shorter id: after 9000101 in byte order, before it as a number
            trdBuyId=0,
            faktTradeMethodsId=23,
            supplierBiin=IP_IIN,
            Supplier=ip_card,
            supplierFio=None,
            contractSumWnds=None,
            contractSum=7,
            descriptionRu='Ремонт "ноутбуков", 2 шт.\nсрочно',
        ),
    )
    insert_raw(
        engine,
        "contract",
        contract(
            9000301, trdBuyId=0, faktTradeMethodsId=0, customerBin=OTHER_BIN, Customer=ALMATY_SCHOOL_CARD
        ),
    )
    run_build(engine)
    return engine


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_header_bom_and_column_order(built: Engine, tmp_path: Path) -> None:
    path = tmp_path / "engagements.csv"
    assert export_engagements(built, path) == 3
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw[3:].decode("utf-8").splitlines()[0] == HEADER
    assert ",".join(COLUMNS) == HEADER


def test_rows_ordered_by_engagement_id(built: Engine, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    export_engagements(built, path)
    ids = [row["engagement_id"] for row in _read(path)]
    assert ids == ["goszakup-contract-9000101", "goszakup-contract-900020", "goszakup-contract-9000301"]


def test_round_trip(built: Engine, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    export_engagements(built, path)
    rows = {row["engagement_id"]: row for row in _read(path)}
    tender = rows["goszakup-contract-9000101"]
    assert tender == {
        "engagement_id": "goszakup-contract-9000101",
        "instrument": "procurement_contract",
        "legal_basis": "price_quotations",
        "competitive": "true",
        "buyer_bin": "150540002003",
        "buyer_name": "КГУ «Общеобразовательная школа № 12 села Жаңатұрмыс»",
        "provider_bin": "100340001009",
        "provider_name": "ТОО «Кундызай Цифра»",
        "subject": "Услуги по предоставлению доступа к электронному журналу",
        "amount_kzt": "1500000.00",
        "signed_on": "2024-02-29",
        "region_kato": "31",
        "source_url": "https://goszakup.gov.kz/ru/egzcontract/cpublic/show/9000101",
    }
    direct = rows["goszakup-contract-900020"]
    assert (direct["legal_basis"], direct["competitive"]) == ("single_source", "false")
    assert (direct["provider_bin"], direct["provider_name"]) == (IP_IIN, "ИП «Сарыарка Сервис»")
    assert direct["amount_kzt"] == "7.00"
    assert direct["subject"] == 'Ремонт "ноутбуков", 2 шт.\nсрочно'  # quotes, commas and newlines survive
    other = rows["goszakup-contract-9000301"]
    assert (other["legal_basis"], other["competitive"], other["region_kato"]) == (
        "other_procurement",
        "false",
        "31",
    )


def test_empty_database_gives_header_only(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    assert export_engagements(engine, path) == 0
    assert path.read_text(encoding="utf-8-sig").splitlines() == [HEADER]


def test_no_partial_file_is_left(built: Engine, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert export_engagements(built, out / "e.csv", batch_size=1) == 3
    assert sorted(p.name for p in out.iterdir()) == ["e.csv"]


def test_cli_export(db_url: str, built: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASHYQ_DATABASE_URL", db_url)
    path = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["export", "engagements", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert f"3 engagements written to {path}" in result.output
    assert len(_read(path)) == 3
