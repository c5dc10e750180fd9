"""The trade-method → legal-basis table (DESIGN §6), kept as data, and how a contract's method is chosen."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from pipeline.legal_basis import (
    OTHER,
    TABLE_PATH,
    LegalBasisTableError,
    classify,
    default_table,
    legal_reference,
    load_table,
)

# DESIGN §6, written out again on purpose: the CSV must say exactly this.
DESIGN_TABLE: dict[str, tuple[set[int], bool]] = {
    "open_tender": ({2, 22, 32, 120, 121, 124, 128, 132, 133, 188, 190, 200, 201, 202}, True),
    "auction": ({7, 77, 78, 177, 178}, True),
    "price_quotations": ({3, 126}, True),
    "e_shop": ({60, 160}, True),
    "commodity_exchange": ({8, 118}, True),
    "single_source": ({6, 23, 105, 123, 125, 131}, False),
    "state_order": ({52, 122}, False),
    "special_procedure": ({130}, False),
}


def _csv_rows() -> list[dict[str, str]]:
    with TABLE_PATH.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_table_is_design_section_6() -> None:
    by_code: dict[str, set[int]] = {}
    for rule in default_table().values():
        by_code.setdefault(rule.legal_basis, set()).add(rule.trade_method_id)
        assert rule.competitive is DESIGN_TABLE[rule.legal_basis][1]
    assert by_code == {code: ids for code, (ids, _) in DESIGN_TABLE.items()}


@pytest.mark.parametrize("row", _csv_rows(), ids=lambda r: r["trade_method_id"])
def test_every_row_of_the_csv(row: dict[str, str]) -> None:
    method_id = int(row["trade_method_id"])
    basis = classify(method_id)
    assert basis.code == row["legal_basis"]
    assert basis.competitive is (row["competitive"] == "yes")
    assert basis.trade_method_id == method_id
    assert basis.method_from == "contract"
    assert basis.note is None


@pytest.mark.parametrize("method_id", [1, 50, 55, 999])
def test_unknown_method_is_other_and_not_competitive(method_id: int) -> None:
    basis = classify(method_id)
    assert (basis.code, basis.competitive, basis.trade_method_id) == (OTHER, False, method_id)
    assert basis.note is not None
    assert str(method_id) in basis.note


def test_contract_method_wins_over_announcement() -> None:
    basis = classify(6, 2)  # tender failed, then single source: the contract says how it was concluded
    assert (basis.code, basis.competitive, basis.method_from) == ("single_source", False, "contract")


@pytest.mark.parametrize("contract_method", [None, 0])
def test_falls_back_to_announcement_method(contract_method: int | None) -> None:
    basis = classify(contract_method, 60)
    assert (basis.code, basis.competitive, basis.trade_method_id, basis.method_from) == (
        "e_shop",
        True,
        60,
        "announcement",
    )


def test_no_method_and_no_announcement_is_other_with_note() -> None:
    basis = classify(None, None, has_announcement=False)
    assert (basis.code, basis.competitive, basis.trade_method_id, basis.method_from) == (
        OTHER,
        False,
        None,
        None,
    )
    assert basis.note is not None
    assert "without a published procurement" in basis.note


def test_announcement_without_method_is_other() -> None:
    basis = classify(0, 0, has_announcement=True)
    assert (basis.code, basis.competitive) == (OTHER, False)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "table.csv"
    path.write_text("trade_method_id,legal_basis,competitive,name_ru\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("2,open_tender,maybe,x\n", "competitive must be yes or no"),
        ("2,tender,yes,x\n", "unknown legal_basis"),
        ("2,open_tender,yes,x\n2,auction,yes,y\n", "listed twice"),
        ("two,open_tender,yes,x\n", "trade_method_id"),
    ],
)
def test_malformed_table_is_refused(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(LegalBasisTableError, match=message):
        load_table(_write(tmp_path, body))


def test_a_table_passed_in_is_used(tmp_path: Path) -> None:
    table = load_table(_write(tmp_path, "999,auction,yes,Аукцион будущего\n"))
    assert classify(999, table=table).code == "auction"
    assert classify(2, table=table).code == OTHER


@pytest.mark.parametrize(
    ("method_id", "signed_on", "expected"),
    [
        (3, date(2024, 12, 31), "№ 434-V"),
        (3, date(2025, 1, 1), "№ 106-VIII"),
        (126, date(2025, 6, 1), None),  # "не ГЗ": not the public procurement law
        (3, None, None),
        (None, date(2025, 6, 1), None),
    ],
)
def test_legal_reference(method_id: int | None, signed_on: date | None, expected: str | None) -> None:
    reference = legal_reference(method_id, signed_on)
    if expected is None:
        assert reference is None
    else:
        assert reference is not None
        assert expected in reference
