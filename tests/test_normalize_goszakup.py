"""goszakup payload → canonical rows, field by field (city-scrapers style: a saved payload, one small test a field).

The payloads in `tests/fixtures/raw/goszakup/` are fictional and shaped exactly like the objects the
project's GraphQL operations select; `test_fixture_keys_match_the_query` keeps them honest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures.raw.goszakup_raw import (
    CUSTOMER_BIN,
    HEAD_IIN,
    IP_IIN,
    ORGANIZER_BIN,
    PARENT_BIN,
    SUPPLIER_BIN,
    contract,
    insert_raw,
    saved,
    subject,
)
from fixtures.raw.goszakup_raw import trd_buy as trd_buy_payload
from graphql import parse
from graphql.language import FieldNode, OperationDefinitionNode, SelectionSetNode
from sqlalchemy import Engine, select

from entities.identifiers import iin_hash, is_valid
from entities.models import Contract, Organization
from pipeline.normalize.common import (
    ALMATY,
    NormalizeError,
    almaty_date_of,
    almaty_datetime,
    as_utc,
    decimal,
    identifier,
    integer,
    is_fictional_url,
    money,
    name_norm,
    ref_id,
    text,
)
from pipeline.normalize.goszakup import (
    RawRef,
    Rows,
    normalize,
    normalize_contract,
    normalize_rnu,
    normalize_subject,
    normalize_trd_app,
    normalize_trd_buy,
)
from pipeline.normalize.organizations import legal_form, organization_kind
from pipeline.normalize.writer import write_rows

RAW = RawRef(id=41, is_fictional=True)
QUERY_FILE = Path(__file__).resolve().parent.parent / "crawlers" / "queries" / "goszakup.graphql"


# ---------------------------------------------------------------------------------- fixture shape


def _selection(selection_set: SelectionSetNode) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for node in selection_set.selections:
        assert isinstance(node, FieldNode)
        out[node.name.value] = _selection(node.selection_set) if node.selection_set else None
    return out


def _query_shapes() -> dict[str, dict[str, Any]]:
    shapes = {}
    for definition in parse(QUERY_FILE.read_text(encoding="utf-8")).definitions:
        assert isinstance(definition, OperationDefinitionNode)
        root = definition.selection_set.selections[0]
        assert isinstance(root, FieldNode)
        assert root.selection_set is not None
        shapes[root.name.value] = _selection(root.selection_set)
    return shapes


def _assert_shape(value: Any, shape: dict[str, Any], where: str) -> None:
    assert set(value) == set(shape), where
    for key, sub in shape.items():
        if sub is None or value[key] is None:
            continue
        for item in value[key] if isinstance(value[key], list) else [value[key]]:
            _assert_shape(item, sub, f"{where}.{key}")


@pytest.mark.parametrize(
    ("fixture", "root"),
    [
        ("contract", "Contract"),
        ("trd_buy", "TrdBuy"),
        ("trd_app", "TrdApp"),
        ("subject", "Subjects"),
        ("subject_ip", "Subjects"),
        ("rnu", "Rnu"),
    ],
)
def test_fixture_keys_match_the_query(fixture: str, root: str) -> None:
    _assert_shape(saved(fixture), _query_shapes()[root], fixture)


# ---------------------------------------------------------------------------------------- parsers


def test_almaty_datetime_is_aware_local_time() -> None:
    value = almaty_datetime("2024-02-29 23:30:00", "f")
    assert value == datetime(2024, 2, 29, 23, 30, tzinfo=ZoneInfo("Asia/Almaty"))
    assert value is not None
    assert value.utcoffset() is not None


def test_almaty_datetime_after_the_2024_offset_change() -> None:
    # Kazakhstan moved to UTC+5 on 2024-03-01; tzdata knows both offsets.
    before = almaty_datetime("2024-02-01 12:00:00", "f")
    after = almaty_datetime("2024-06-01 12:00:00", "f")
    assert before is not None
    assert after is not None
    assert before.astimezone(UTC).hour == 6
    assert after.astimezone(UTC).hour == 7


@pytest.mark.parametrize("value", [None, "", "   ", "0000-00-00 00:00:00"])
def test_almaty_datetime_absent(value: object) -> None:
    assert almaty_datetime(value, "f") is None


@pytest.mark.parametrize("value", ["31.13.2024", "2024-13-01 00:00:00", "2024-02-30", "yesterday", 20240101])
def test_almaty_datetime_rejects(value: object) -> None:
    with pytest.raises(NormalizeError, match=r"Contract\.signDate"):
        almaty_datetime(value, "Contract.signDate")


def test_date_only_and_fraction_forms() -> None:
    assert almaty_datetime("2024-05-01", "f") == datetime(2024, 5, 1, tzinfo=ALMATY)
    assert almaty_datetime("2024-05-01T10:11:12.5", "f") == datetime(
        2024, 5, 1, 10, 11, 12, 500000, tzinfo=ALMATY
    )


def test_stored_datetime_round_trip_to_almaty_date() -> None:
    late_evening = almaty_datetime("2024-02-29 23:30:00", "f")
    stored = as_utc(late_evening)
    assert stored is not None
    assert stored.date() == date(2024, 2, 29)
    assert almaty_date_of(stored.replace(tzinfo=None)) == date(2024, 2, 29)  # SQLite gives naive UTC back
    early = as_utc(almaty_datetime("2024-03-05 03:00:00", "f"))
    assert early is not None
    assert early.date() == date(2024, 3, 4)
    assert almaty_date_of(early) == date(2024, 3, 5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (624991.07, Decimal("624991.07")),
        (0.1, Decimal("0.10")),
        (32032, Decimal("32032.00")),
        ("14049", Decimal("14049.00")),
        (" 1.005 ", Decimal("1.01")),
        (None, None),
        ("", None),
    ],
)
def test_money(value: object, expected: Decimal | None) -> None:
    assert money(value, "f") == expected


@pytest.mark.parametrize("value", ["12 000", "abc", "NaN", "Infinity", True, [1], "1e17"])
def test_money_rejects(value: object) -> None:
    with pytest.raises(NormalizeError, match=r"Contract\.contractSum"):
        money(value, "Contract.contractSum")


def test_quantity_limit_follows_its_scale() -> None:
    assert decimal("999999999999999.999", "q", 3) == Decimal("999999999999999.999")
    with pytest.raises(NormalizeError):
        decimal("1000000000000000", "q", 3)


@pytest.mark.parametrize(("value", "expected"), [(5, 5), (5.0, 5), ("7", 7), (None, None), ("", None)])
def test_integer(value: object, expected: int | None) -> None:
    assert integer(value, "f") == expected


@pytest.mark.parametrize("value", [5.5, "x", True])
def test_integer_rejects(value: object) -> None:
    with pytest.raises(NormalizeError):
        integer(value, "f")


def test_zero_reference_is_none() -> None:
    assert ref_id(0, "Contract.trdBuyId") is None
    assert ref_id(7000011, "Contract.trdBuyId") == 7000011


def test_identifier_keeps_leading_zeros_and_invalid_numbers() -> None:
    assert identifier("000140001536", "f") == "000140001536"
    assert identifier(140001536, "f") == "000140001536"
    assert identifier("123", "f") == "123"  # kept as given; the caller marks it invalid
    assert identifier(" ", "f") is None
    with pytest.raises(NormalizeError, match="12-digit"):
        identifier("1234567890123", "f")


def test_text_strips_and_bounds() -> None:
    assert text("  a\x00b ", "f") == "ab"
    assert text("", "f") is None
    with pytest.raises(NormalizeError, match="longer than 3"):
        text("KZTX", "Contract.refCurrencyCode", 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('ТОО "Альфа-Бета"', "тоо альфа бета"),
        ("«Ёлка»  ЖШС", "елка жшс"),
        ("КГУ «Школа № 12»", "кгу школа № 12"),
        ("  ", None),
    ],
)
def test_name_norm(value: str, expected: str | None) -> None:
    assert name_norm(value) == expected


@pytest.mark.parametrize(
    ("url", "fictional"),
    [
        ("http://127.0.0.1:8765/v3/graphql", True),
        ("http://127.5.6.7/v3/graphql", True),
        ("http://localhost:8765/v3/graphql", True),
        ("http://[::1]:8765/v3/graphql", True),
        ("https://ows.goszakup.gov.kz/v3/graphql", False),
        ("http://10.0.0.1/v3/graphql", False),
        ("http://localhost.example.com/", False),
        (None, False),
    ],
)
def test_fictional_rule_is_loopback(url: str | None, fictional: bool) -> None:
    assert is_fictional_url(url) is fictional


# --------------------------------------------------------------------------------- organizations


@pytest.mark.parametrize(
    ("kopf", "name", "expected"),
    [
        ("ТОО", None, "ТОО"),
        ("инд", None, "ИП"),
        (None, "ТОО «Альфа»", "ТОО"),
        (None, "«Альфа» ЖШС", "ТОО"),
        (None, "Товарищество с ограниченной ответственностью «Альфа»", "ТОО"),
        (None, "КГУ «Школа-гимназия № 7»", "КГУ"),
        (None, "«Білім» КММ", "КГУ"),
        (None, "ИП Бекова Г.А.", "ИП"),
        (None, "Альфа", None),
    ],
)
def test_legal_form(kopf: str | None, name: str | None, expected: str | None) -> None:
    assert legal_form(kopf, name) == expected


@pytest.mark.parametrize(
    ("type_supplier", "form", "name", "expected"),
    [
        (3, None, "Бекова", "individual_entrepreneur"),
        (2, None, "Бекова Гульнара", "individual"),
        (1, "ТОО", "ТОО «Онлайн-школа Альфа»", "company"),
        (None, "КГУ", "КГУ «Общеобразовательная школа № 12»", "school"),
        (None, "ГККП", "ГККП «Ясли-сад № 5 „Балапан“»", "kindergarten"),
        (None, "ГККП", "ГККП «Высший колледж связи»", "college"),
        (None, "НАО", "НАО «Университет имени Выдуманного»", "university"),
        (None, "ГУ", "ГУ «Отдел образования Кербулакского района»", "public_body"),
        (None, None, "Министерство просвещения Республики Казахстан", "public_body"),
        (None, "ОФ", "ОФ «Фонд поддержки»", "ngo"),
        (None, None, "Альфа", "company"),
    ],
)
def test_organization_kind(type_supplier: int | None, form: str | None, name: str, expected: str) -> None:
    assert organization_kind(type_supplier=type_supplier, form=form, name=name) == expected


def test_non_resident_is_foreign() -> None:
    assert organization_kind(type_supplier=1, form=None, name="Alpha GmbH", non_resident=True) == "foreign"


# -------------------------------------------------------------------------------------- Contract


@pytest.fixture(scope="module")
def contract_rows() -> Rows:
    return normalize_contract(saved("contract"), RAW)


@pytest.fixture(scope="module")
def contract_row(contract_rows: Rows) -> dict[str, Any]:
    [row] = contract_rows.contracts
    return row


def test_contract_identity(contract_row: dict[str, Any]) -> None:
    assert contract_row["id"] == 9000101
    assert contract_row["root_id"] == 9000101
    assert contract_row["parent_id"] is None
    assert contract_row["contract_type_id"] == 1
    assert contract_row["status_id"] == 190
    assert contract_row["deleted"] is False


def test_contract_announcement_and_method(contract_row: dict[str, Any]) -> None:
    assert contract_row["trd_buy_id"] == 7000011
    assert contract_row["trade_method_id"] == 3
    assert contract_row["sign_reason"] == "Итоговый протокол о проведении государственных закупок"


def test_contract_numbers(contract_row: dict[str, Any]) -> None:
    assert contract_row["number"] == "ЭЖ-17"
    assert contract_row["number_sys"] == "150540002003/240017/00"
    assert contract_row["fin_year"] == 2024


def test_contract_signed_at_is_almaty(contract_row: dict[str, Any]) -> None:
    assert contract_row["signed_at"] == datetime(2024, 2, 29, 23, 30, tzinfo=ALMATY)
    assert contract_row["last_update"] == datetime(2024, 3, 1, 9, 0, tzinfo=ALMATY)


def test_contract_money(contract_row: dict[str, Any]) -> None:
    assert contract_row["amount"] == Decimal("1250000.50")
    assert contract_row["amount_with_vat"] == Decimal("1400000.56")
    assert contract_row["currency"] == "KZT"


def test_contract_parties(contract_row: dict[str, Any]) -> None:
    assert contract_row["customer_bin"] == CUSTOMER_BIN
    assert contract_row["customer_pid"] == 50011
    assert contract_row["supplier_biin"] == SUPPLIER_BIN
    assert contract_row["supplier_pid"] == 60021
    assert contract_row["supplier_fio"] == "Оспанов Ерлан Маратович"
    assert contract_row["customer_fio"] == "Жанабаева  Айгерим Сериковна"  # as written


def test_contract_subject_and_plan_kato(contract_row: dict[str, Any]) -> None:
    assert contract_row["subject"] == "Услуги по предоставлению доступа к электронному журналу"
    assert contract_row["region_kato"] == "315620100"
    assert contract_row["raw_record_id"] == RAW.id


def test_contract_subject_falls_back_to_announcement_name() -> None:
    rows = normalize_contract(contract(descriptionRu=None, descriptionKz=None), RAW)
    assert rows.contracts[0]["subject"] == "Услуги электронного журнала для школ"


def test_contract_units_skip_deleted_lines(contract_rows: Rows) -> None:
    [unit] = contract_rows.contract_units
    assert unit == {
        "id": 8800001,
        "contract_id": 9000101,
        "lot_id": 7100021,
        "pln_point_id": 6600001,
        "enstru_code": "620920.000.000002",
        "quantity": Decimal("1.000"),
        "item_price": Decimal("1250000.50"),
        "total_sum": Decimal("1250000.50"),
    }


def test_contract_without_announcement() -> None:
    rows = normalize_contract(contract(trdBuyId=0, trdBuyNumberAnno=None, faktTradeMethodsId=0), RAW)
    assert rows.contracts[0]["trd_buy_id"] is None
    assert rows.contracts[0]["trade_method_id"] is None


def test_contract_parties_become_organizations(contract_rows: Rows) -> None:
    orgs = {o["id"]: o for o in contract_rows.organizations_party}
    assert contract_rows.organizations_card == []
    supplier = orgs[f"kz-bin-{SUPPLIER_BIN}"]
    assert (supplier["kind"], supplier["legal_form"], supplier["bin_valid"]) == ("company", "ТОО", True)
    assert (supplier["name_ru"], supplier["name_kk"]) == ("ТОО «Кундызай Цифра»", "«Кундызай Цифра» ЖШС")
    assert supplier["name_norm"] == "тоо кундызай цифра"
    assert (supplier["kato"], supplier["region_kato"]) == ("751110000", "75")
    customer = orgs[f"kz-bin-{CUSTOMER_BIN}"]
    assert (customer["kind"], customer["legal_form"], customer["goszakup_pid"]) == ("school", "КГУ", 50011)
    assert all(o["is_fictional"] and o["raw_record_id"] == RAW.id for o in orgs.values())


def test_contract_heads_are_person_mentions_and_roles(contract_rows: Rows) -> None:
    persons = {p["display_name"]: p for p in contract_rows.persons}
    supplier_head = persons["Оспанов Ерлан Маратович"]
    assert supplier_head["iin_hash"] is None
    assert (supplier_head["surname"], supplier_head["given_name"], supplier_head["patronymic"]) == (
        "Оспанов",
        "Ерлан",
        "Маратович",
    )
    assert "Жанабаева Айгерим Сериковна" in persons  # whitespace collapsed for display
    mentions = {m["field"]: m for m in contract_rows.mentions if m["kind"] == "person"}
    assert mentions["Contract.supplierFio"]["context_bin"] == SUPPLIER_BIN
    assert mentions["Contract.supplierFio"]["person_id"] == supplier_head["id"]
    assert mentions["Contract.supplierFio"]["match_rule"] == "name_in_organization"
    assert mentions["Contract.customerFio"]["name"] == "Жанабаева  Айгерим Сериковна"
    roles = {r["organization_id"]: r for r in contract_rows.roles}
    role = roles[f"kz-bin-{SUPPLIER_BIN}"]
    assert (role["role"], role["start_date"], role["end_date"]) == (
        "head",
        date(2024, 2, 29),
        date(2024, 2, 29),
    )


def test_same_name_in_two_organizations_is_two_persons() -> None:
    one = normalize_contract(contract(customerFio="Оспанов Ерлан Маратович"), RAW)
    ids = {m["person_id"] for m in one.mentions if m["kind"] == "person"}
    assert len(ids) == 2  # a namesake at the customer is not merged with the supplier's head


def test_same_name_in_one_organization_is_one_person() -> None:
    first = normalize_contract(contract(9000101), RAW)
    second = normalize_contract(contract(9000999, supplierFio=" оспанов  ерлан маратович "), RAW)
    assert first.persons[0]["id"] == second.persons[0]["id"]


def test_contract_organization_mentions_keep_names_as_written(contract_rows: Rows) -> None:
    names = {(m["field"], m["name"]) for m in contract_rows.mentions if m["kind"] == "organization"}
    assert ("Contract.Supplier.nameRu", "ТОО «Кундызай Цифра»") in names
    assert ("Contract.Customer.nameKz", "«Жаңатұрмыс ауылының № 12 жалпы білім беретін мектебі» КММ") in names


def test_ip_supplier_is_keyed_by_iin_hash() -> None:
    card = {
        "pid": 60077, "bin": None, "iin": IP_IIN, "nameRu": "ИП «Сарыарка Сервис»", "nameKz": None,
        "fullNameRu": None, "fullNameKz": None, "refKopfCode": "ИНД", "typeSupplier": 3, "katoList": None,
    }  # fmt: skip
    rows = normalize_contract(contract(supplierBiin=IP_IIN, supplierId=60077, Supplier=card), RAW)
    [org] = [o for o in rows.organizations_party if o["kind"] == "individual_entrepreneur"]
    assert org["id"] == f"kz-ip-{iin_hash(IP_IIN)[:16]}"
    assert IP_IIN not in org["id"]
    assert (org["bin"], org["iin"], org["bin_valid"]) == (None, IP_IIN, True)
    assert rows.contracts[0]["supplier_biin"] == IP_IIN
    # The entrepreneur heads their own business: the head is keyed by the same IIN, stored only as a hash.
    person = next(p for p in rows.persons if p["iin_hash"] is not None)
    assert person["iin_hash"] == iin_hash(IP_IIN)


def test_ip_supplier_without_card_is_recognised_by_shape() -> None:
    rows = normalize_contract(contract(supplierBiin=IP_IIN, Supplier=None), RAW)
    assert any(o["id"].startswith("kz-ip-") and o["iin"] == IP_IIN for o in rows.organizations_party)


def test_customer_is_never_an_ip() -> None:
    rows = normalize_contract(contract(customerBin=IP_IIN, Customer=None), RAW)
    assert f"kz-bin-{IP_IIN}" in {o["id"] for o in rows.organizations_party}


def test_invalid_bin_is_recorded_as_invalid() -> None:
    bad = SUPPLIER_BIN[:-1] + str((int(SUPPLIER_BIN[-1]) + 1) % 10)
    assert not is_valid(bad)
    card = dict(saved("contract")["Supplier"], bin=bad)
    rows = normalize_contract(contract(supplierBiin=bad, Supplier=card), RAW)
    org = next(o for o in rows.organizations_party if o["bin"] == bad)
    assert (org["id"], org["bin_valid"]) == (f"kz-bin-{bad}", False)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"signDate": "31.13.2024"}, "Contract.signDate"),
        ({"contractSum": "двенадцать"}, "Contract.contractSum"),
        ({"id": None}, "Contract.id"),
        ({"refContractTypeId": 2, "rootId": 0}, "Contract.rootId"),
        ({"refCurrencyCode": "TENGE"}, "Contract.refCurrencyCode"),
        ({"ContractUnits": "none"}, "Contract.ContractUnits"),
        ({"Supplier": ["x"]}, "Contract.Supplier"),
    ],
)
def test_unreadable_contract_names_field_and_value(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(NormalizeError) as exc:
        normalize_contract(contract(**overrides), RAW)
    assert exc.value.field == field
    assert repr(exc.value.value) in str(exc.value)


# ---------------------------------------------------------------------------------------- TrdBuy


@pytest.fixture(scope="module")
def trd_buy_rows() -> Rows:
    return normalize_trd_buy(saved("trd_buy"), RAW)


def test_procurement_fields(trd_buy_rows: Rows) -> None:
    [row] = trd_buy_rows.procurements
    assert row["id"] == 7000011
    assert row["number_anno"] == "7000011-1"
    assert (row["name_ru"], row["name_kk"]) == (
        "Услуги электронного журнала для школ",
        "Мектептерге арналған электрондық журнал қызметтері",
    )
    assert (row["trade_method_id"], row["status_id"]) == (2, 350)
    assert (row["customer_bin"], row["organizer_bin"]) == (CUSTOMER_BIN, ORGANIZER_BIN)
    assert row["total_sum"] == Decimal("1500000.00")
    assert row["publish_date"] == datetime(2024, 2, 1, 9, 0, tzinfo=ALMATY)
    assert row["end_date"] == datetime(2024, 2, 8, 18, 0, tzinfo=ALMATY)
    assert row["kato"] == ["315620100", "751110000"]


def test_lots_fields(trd_buy_rows: Rows) -> None:
    first, second = trd_buy_rows.lots
    assert first["id"] == 7100021
    assert first["trd_buy_id"] == 7000011
    assert first["lot_number"] == "6600001-ЗЦП1"
    assert first["name_ru"] == "Услуги по предоставлению доступа к программному обеспечению"
    assert first["description_ru"] == "Электронный журнал, 12 месяцев"
    assert (first["amount"], first["count"]) == (Decimal("1400000.56"), Decimal("1.000"))
    assert (first["trade_method_id"], first["buy_trade_method_id"], first["status_id"]) == (3, 2, 360)
    assert first["kato"] == ["315620100"]
    assert second["count"] == Decimal("12.125")
    assert second["kato"] == []


def test_announcement_names_fill_organizations(trd_buy_rows: Rows) -> None:
    orgs = {o["id"]: o for o in trd_buy_rows.organizations_party}
    assert orgs[f"kz-bin-{ORGANIZER_BIN}"]["kind"] == "public_body"
    assert orgs[f"kz-bin-{CUSTOMER_BIN}"]["name_ru"] == "КГУ «Общеобразовательная школа № 12 села Жаңатұрмыс»"


def test_unreadable_announcement_name_is_reported_under_its_field() -> None:
    with pytest.raises(NormalizeError) as exc:
        normalize_trd_buy(trd_buy_payload(orgNameKz=["x"]), RAW)
    assert exc.value.field == "TrdBuy.orgNameKz"


def test_subject_without_number_has_no_validity() -> None:
    [org] = normalize_subject(subject(bin=None, iin=None), RAW).organizations_card
    assert org["bin_valid"] is None


def test_kato_list_of_numbers_becomes_strings() -> None:
    payload = saved("trd_buy")
    payload["kato"] = [751110000]
    assert normalize_trd_buy(payload, RAW).procurements[0]["kato"] == ["751110000"]


# ---------------------------------------------------------------------------------------- TrdApp


def test_one_bid_per_lot_applied_for() -> None:
    rows = normalize_trd_app(saved("trd_app"), RAW)
    assert [(b["application_id"], b["lot_id"], b["status_id"]) for b in rows.bids] == [
        (5500031, 7100021, 1),
        (5500031, 7100022, 2),
    ]
    bid = rows.bids[1]
    assert (bid["price"], bid["amount"]) == (Decimal("8000.00"), Decimal("97000.10"))
    assert (bid["trd_buy_id"], bid["supplier_biin"], bid["supplier_pid"]) == (7000011, SUPPLIER_BIN, 60021)
    assert bid["applied_at"] == datetime(2024, 2, 5, 16, 45, 10, tzinfo=ALMATY)


def test_bid_without_lot_is_unreadable() -> None:
    payload = saved("trd_app")
    payload["AppLots"][0]["lotId"] = None
    with pytest.raises(NormalizeError, match=r"TrdApp\.AppLots\.lotId"):
        normalize_trd_app(payload, RAW)


# --------------------------------------------------------------------------------------- Subject


@pytest.fixture(scope="module")
def subject_rows() -> Rows:
    return normalize_subject(saved("subject"), RAW)


def test_subject_card(subject_rows: Rows) -> None:
    [org] = subject_rows.organizations_card
    assert org["id"] == f"kz-bin-{SUPPLIER_BIN}"
    assert (org["kind"], org["legal_form"]) == ("company", "ТОО")
    assert org["registered_on"] == date(2010, 3, 15)
    assert org["oked"] == "62010"
    assert org["parent_bin"] == PARENT_BIN
    assert org["goszakup_pid"] == 60021


def test_subject_kato_prefers_legal_address(subject_rows: Rows) -> None:
    [org] = subject_rows.organizations_card
    assert (org["kato"], org["region_kato"]) == ("711210000", "71")


def test_subject_kato_falls_back_to_kato_list() -> None:
    [org] = normalize_subject(subject(Address=[]), RAW).organizations_card
    assert (org["kato"], org["region_kato"]) == ("751110000", "75")


def test_subject_head_only_role_1_with_iin_hash(subject_rows: Rows) -> None:
    [person] = subject_rows.persons
    assert person["display_name"] == "Оспанов Ерлан Маратович"
    assert person["iin_hash"] == iin_hash(HEAD_IIN)
    assert HEAD_IIN not in person["id"]
    [role] = subject_rows.roles
    assert (role["role"], role["title"], role["start_date"], role["end_date"]) == (
        "head",
        "Руководитель",
        date(2019, 6, 1),
        None,
    )
    [mention] = [m for m in subject_rows.mentions if m["kind"] == "person"]
    assert (mention["field"], mention["match_rule"], mention["context_bin"]) == (
        "Subjects.Employees.fio",
        "iin",
        SUPPLIER_BIN,
    )


def test_no_iin_is_stored_in_clear(subject_rows: Rows) -> None:
    for table in ("persons", "mentions", "roles"):
        for row in getattr(subject_rows, table):
            assert HEAD_IIN not in repr(row)


def test_ip_subject() -> None:
    rows = normalize_subject(saved("subject_ip"), RAW)
    [org] = rows.organizations_card
    assert org["id"] == f"kz-ip-{iin_hash(IP_IIN)[:16]}"
    assert (org["kind"], org["legal_form"], org["bin"], org["iin"]) == (
        "individual_entrepreneur",
        "ИП",
        None,
        IP_IIN,
    )


def test_subject_without_any_number_is_keyed_by_pid() -> None:
    [org] = normalize_subject(subject(bin=None, iin=None, typeSupplier=1), RAW).organizations_card
    assert org["id"] == "goszakup-pid-60021"
    assert org["kind"] == "company"


# ------------------------------------------------------------------------------------------- Rnu


def test_rnu() -> None:
    [row] = normalize_rnu(saved("rnu"), RAW).unreliable_suppliers
    assert row == {
        "rnu_id": "31007",
        "supplier_biin": "201140004001",
        "supplier_name": "ТОО «Тұманды Жоба»",
        "start_date": date(2024, 4, 1),
        "end_date": date(2026, 4, 1),
        "raw_record_id": RAW.id,
    }


def test_unknown_record_type_is_an_error() -> None:
    with pytest.raises(NormalizeError, match="record_type"):
        normalize("plan", {}, RAW)


def test_payload_must_be_an_object() -> None:
    with pytest.raises(NormalizeError, match="payload is not an object"):
        normalize("contract", ["x"], RAW)


# ------------------------------------------------------------------------- writer (both backends)


def _raw_ids(engine: Engine, n: int) -> list[int]:
    return [insert_raw(engine, "rnu", {"id": i}) for i in range(n)]


def test_card_wins_over_names_seen_on_contracts(engine: Engine) -> None:
    first, second, third = _raw_ids(engine, 3)
    card = normalize_subject(saved("subject"), RawRef(second, False))
    older_contract = normalize_contract(
        contract(Supplier=dict(saved("contract")["Supplier"], nameRu="ТОО «Старое имя»", katoList=None)),
        RawRef(first, False),
    )
    with engine.begin() as conn:
        write_rows(conn, older_contract)
    with engine.begin() as conn:
        write_rows(conn, card)
        write_rows(conn, normalize_contract(contract(9000102), RawRef(third, False)))
    with engine.connect() as conn:
        org = conn.execute(select(Organization).where(Organization.id == f"kz-bin-{SUPPLIER_BIN}")).one()
    assert org.name_ru == "ТОО «Кундызай Цифра»"  # the card renamed it; a later contract did not undo that
    assert org.registered_on == date(2010, 3, 15)
    assert org.kato == "711210000"
    assert org.raw_record_id == second


def test_names_seen_fill_gaps_only(engine: Engine) -> None:
    first, second = _raw_ids(engine, 2)
    bare = contract(Supplier=None)
    with engine.begin() as conn:
        write_rows(conn, normalize_contract(bare, RawRef(first, False)))
        write_rows(conn, normalize_contract(contract(9000102), RawRef(second, False)))
    with engine.connect() as conn:
        org = conn.execute(select(Organization).where(Organization.id == f"kz-bin-{SUPPLIER_BIN}")).one()
    assert org.name_ru == "ТОО «Кундызай Цифра»"
    assert org.raw_record_id == second  # the row changed (a name arrived), so it points at that record


def test_datetimes_are_stored_as_the_same_instant(engine: Engine) -> None:
    [raw_id] = _raw_ids(engine, 1)
    with engine.begin() as conn:
        write_rows(conn, normalize_contract(contract(), RawRef(raw_id, False)))
    with engine.connect() as conn:
        signed_at = conn.execute(select(Contract.signed_at)).scalar_one()
    assert almaty_date_of(signed_at) == date(2024, 2, 29)
    expected = datetime(2024, 2, 29, 17, 30, tzinfo=UTC)  # UTC+6 until 2024-03-01
    assert (signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=UTC)) == expected
