"""PPP registry import (pipeline.ppp_import): CSV and .xlsx, the column mapping, values, rejects."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from pipeline.ppp_import import (
    ColumnMapping,
    PPPImportError,
    import_ppp,
    iter_report,
    load_mapping,
    parse_amount,
    parse_date,
    parse_term_months,
    region_code,
)

FIXTURES = Path(__file__).parent / "fixtures" / "ppp"


# ------------------------------------------------------------------------------------------ CSV


def test_russian_csv_with_title_rows_rejects_and_warnings() -> None:
    result = import_ppp(FIXTURES / "registry_ru.csv")
    assert result.header_row == 3
    assert result.columns["private_partner_bin"] == "БИН частного партнера"
    assert result.columns["amount"] == "Стоимость проекта, млн тенге"
    assert result.unknown_headers == ["Примечание"]
    assert result.missing_fields == ["ppp_type"]
    assert result.empty_rows == 1
    assert [r.row_number for r in result.records] == [4, 5, 10]
    assert [(r.row_number, r.reason) for r in result.rejects] == [
        (6, "signed_on: not a date: 31.02.2020 (day is out of range for month)"),
        (7, "amount: not an amount: 'две тысячи'"),
        (9, "a total row, not an agreement"),
    ]
    first, second, third = result.records
    assert first.project == "Строительство и эксплуатация детского сада на 320 мест"
    assert (first.level, first.ppp_type, first.ppp_form) == ("local", "contractual", "concession")
    assert (first.selection_method, first.competitive) == ("tender", True)
    assert (first.state_partner_bin, first.private_partner_bin) == ("110840865799", "180740131869")
    assert first.signed_on == date(2021, 3, 15)
    assert first.term_months == 144
    assert first.amount_kzt == Decimal("1250500000.00")  # «1 250,5» million tenge
    assert (first.status, first.region_kato, first.contract_number) == ("active", "35", "ГЧП-001")
    assert first.source_url == "https://example.invalid/ppp/1"
    assert first.raw["Примечание"] == "первый"
    assert first.warnings == ()
    assert (second.selection_method, second.competitive, second.level) == (
        "direct_negotiations",
        False,
        "republican",
    )
    assert (second.signed_on, second.term_months, second.amount_kzt, second.region_kato) == (
        date(2018, 1, 26),
        144,
        None,
        "75",
    )
    assert third.private_partner_bin is None  # a wrong control digit is not used as a key …
    assert third.raw["БИН частного партнера"] == "180740131868"  # … but kept
    assert len(third.warnings) == 3
    assert third.status == "active"
    # nothing lost: every non-empty data row is a record or a reject
    assert len(result.records) + len(result.rejects) + result.empty_rows == 10 - result.header_row


def test_windows_1251_csv_reads_the_same() -> None:
    utf8 = import_ppp(FIXTURES / "registry_ru.csv")
    cp1251 = import_ppp(FIXTURES / "registry_ru_cp1251.csv")
    assert [r.project for r in cp1251.records] == [r.project for r in utf8.records]
    assert [r.row_number for r in cp1251.rejects] == [r.row_number for r in utf8.rejects]


def test_report_lists_mapping_unknown_headers_and_rejects() -> None:
    lines = list(iter_report(import_ppp(FIXTURES / "registry_ru.csv")))
    assert any("unknown header (not imported, values kept in raw): Примечание" in line for line in lines)
    assert "3 agreements, 3 rejected rows, 1 empty rows" in lines
    assert any(line.startswith("  row 6: signed_on") for line in lines)


# ------------------------------------------------------------------------------------------ xlsx


def _kazakh_workbook(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Тізілім"
    ws.append(["МЖӘ шарттарының тізілімі"])
    ws.append([])
    ws.append([
        "Жобаның атауы", "Саласы", "Деңгейі", "МЖӘ түрі", "МЖӘ нысаны", "Жекеше әріптесті айқындау тәсілі",
        "Мемлекеттік әріптес", "Жекеше әріптес", "Жекеше әріптестің БСН", "Шартқа қол қойылған күн",
        "Мерзімі (жыл)", "Жоба құны, мың теңге", "Мәртебесі", "Өңір", "Шарт нөмірі", "Бос баған",
    ])  # fmt: skip
    ws.append([
        "Балабақша салу", "Білім беру", "Жергілікті", "Келісімшарттық", "Концессия", "Конкурс",
        "Тест облысының білім басқармасы", "«Тест Құрылыс» ЖШС", 61040139094, datetime(2020, 9, 1),  # noqa: DTZ001 - Excel cells have no zone
        15, 1250000.5, "Іске асырылуда", "Алматы облысы", "№ 12", "x",
    ])  # fmt: skip
    ws.append([
        "Мектеп салу", "Білім беру", "Республикалық", "Институционалдық", "Өзге нысан", "Тікелей келіссөздер",
        "Тест министрлігі", "«Тест» ЖШС", "180740131869", 45000, "10 жыл 6 ай", "2 500 000", "Аяқталған",
        "Шығыс Қазақстан облысы", "7", None,
    ])  # fmt: skip
    ws.append(
        [
            "Спорт кешені",
            None,
            None,
            None,
            None,
            "Аукцион",
            None,
            None,
            None,
            "2021-05-04",
            "12 ай",
            None,
            "Бұзылған",
            "751710000",
            None,
            None,
        ]
    )
    wb.create_sheet("Notes").append(["not a table"])
    wb.save(path)


def test_kazakh_xlsx_with_dates_serials_and_leading_zero_bins(tmp_path: Path) -> None:
    path = tmp_path / "registry.xlsx"
    _kazakh_workbook(path)
    result = import_ppp(path)
    assert (result.sheet, result.header_row) == ("Тізілім", 3)
    assert result.columns["private_partner_bin"] == "Жекеше әріптестің БСН"
    assert result.columns["private_partner_name"] == "Жекеше әріптес"
    assert result.unknown_headers == ["Бос баған"]
    assert result.rejects == []
    a, b, c = result.records
    assert (a.level, a.ppp_type, a.ppp_form, a.competitive) == ("local", "contractual", "concession", True)
    assert a.private_partner_bin == "061040139094"  # stored as a number, the leading zero restored
    assert a.signed_on == date(2020, 9, 1)
    assert a.term_months == 180
    assert a.amount_kzt == Decimal("1250000500.00")  # thousand tenge
    assert (a.status, a.region_kato, a.contract_number) == ("active", "19", "№ 12")
    assert (b.level, b.ppp_type, b.selection_method, b.competitive) == (
        "republican",
        "institutional",
        "direct_negotiations",
        False,
    )
    assert b.ppp_form == "Өзге нысан"
    assert any("not one of the law's forms" in w for w in b.warnings)
    assert b.signed_on == date(2023, 3, 15)  # Excel serial 45000
    assert b.term_months == 126
    assert (b.amount_kzt, b.status, b.region_kato) == (Decimal("2500000000.00"), "completed", "63")
    assert (c.selection_method, c.competitive, c.signed_on, c.term_months) == (
        "auction",
        True,
        date(2021, 5, 4),
        12,
    )
    assert (c.status, c.region_kato) == ("terminated", "75")


def test_named_sheet_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "registry.xlsx"
    _kazakh_workbook(path)
    with pytest.raises(PPPImportError, match=r"no sheet 'Missing'"):
        import_ppp(path, sheet="Missing")
    with pytest.raises(PPPImportError, match="no header row found"):
        import_ppp(path, sheet="Notes")
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(PPPImportError, match=r"not a readable \.xlsx workbook"):
        import_ppp(bad)
    with pytest.raises(PPPImportError, match=r"unsupported file type '\.xls'"):
        import_ppp(tmp_path / "old.xls")


def test_custom_mapping_file(tmp_path: Path) -> None:
    csv_path = tmp_path / "custom.csv"
    csv_path.write_text(
        "Объект ГЧП,Контрагент (частная сторона),ИИН/БИН контрагента,Инвестиции всего,Статус\n"
        'Школа,ТОО «Тест»,180740131869,"1,5 млрд",действующий\n',
        encoding="utf-8",
    )
    with pytest.raises(PPPImportError, match="no header row"):
        import_ppp(csv_path)  # the default synonyms know only «Статус»
    result = import_ppp(csv_path, mapping=load_mapping(FIXTURES / "mapping_custom.yaml"))
    (record,) = result.records
    assert (record.project, record.private_partner_name, record.private_partner_bin) == (
        "Школа",
        "ТОО «Тест»",
        "180740131869",
    )
    assert record.amount_kzt == Decimal("1500000000.00")
    assert result.unknown_headers == []


def test_mapping_rejects_unknown_fields(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("columns:\n  X: private_partner\n", encoding="utf-8")
    with pytest.raises(PPPImportError, match="unknown field 'private_partner'"):
        load_mapping(bad)
    with pytest.raises(PPPImportError, match="unknown field 'nope'"):
        load_mapping(columns={"X": "nope"})


def test_header_synonyms_prefer_the_longest_match() -> None:
    m = ColumnMapping()
    assert m.field_for("БИН частного партнёра") == "private_partner_bin"
    assert m.field_for("Частный партнер (наименование)") == "private_partner_name"
    assert m.field_for("Private partner BIN") == "private_partner_bin"
    assert m.field_for("Дата подписания договора") == "signed_on"
    assert m.field_for("Примечание") is None


# ------------------------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15.03.2021", date(2021, 3, 15)),
        ("1.3.2021", date(2021, 3, 1)),
        ("15/03/2021", date(2021, 3, 15)),
        ("15.03.2021 г.", date(2021, 3, 15)),
        ("2021-03-15", date(2021, 3, 15)),
        ("2021-03-15T00:00:00", date(2021, 3, 15)),
        (44927, date(2023, 1, 1)),
        (44927.0, date(2023, 1, 1)),
        ("44927", date(2023, 1, 1)),
        (datetime(2021, 3, 15, 10, 0), date(2021, 3, 15)),  # noqa: DTZ001 - as openpyxl returns cells
    ],
)
def test_parse_date(value: object, expected: date) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["31.02.2020", "2021-13-01", "15.03.21", "вчера", 12.5, 100, "01.01.1901"])
def test_parse_date_rejects(value: object) -> None:
    with pytest.raises(ValueError, match=r"not a|out of range|serial"):
        parse_date(value)


@pytest.mark.parametrize(
    ("value", "header", "expected"),
    [
        ("1 234 567,89", "", Decimal("1234567.89")),
        ("1,234,567.89", "", Decimal("1234567.89")),
        ("1.234.567,89", "", Decimal("1234567.89")),
        ("1 234 567", "", Decimal("1234567.00")),
        (624991.07, "", Decimal("624991.07")),
        (1250, "Стоимость, млн тенге", Decimal("1250000000.00")),
        ("6 млрд", "Стоимость, тенге", Decimal("6000000000.00")),
        ("3,6 трлн тенге", "", Decimal("3600000000000.00")),
    ],
)
def test_parse_amount(value: object, header: str, expected: Decimal) -> None:
    assert parse_amount(value, header) == expected


@pytest.mark.parametrize(
    ("value", "header", "expected"),
    [
        ("12 лет", "", 144),
        ("144 мес.", "", 144),
        ("10 лет 6 месяцев", "", 126),
        ("15 жыл", "", 180),
        ("15 years", "", 180),
        (15, "Срок (мес.)", 15),
        (15, "Срок, лет", 180),
        ("2,5 года", "", 30),
    ],
)
def test_parse_term(value: object, header: str, expected: int) -> None:
    assert parse_term_months(value, header) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("г. Алматы", "75"),
        ("Алматинская обл.", "19"),
        ("Алматы облысы", "19"),
        ("Almaty", "75"),
        ("Нур-Султан", "71"),
        ("ЗКО", "27"),
        ("Шығыс Қазақстан облысы", "63"),
        ("751710000", "75"),
        ("Карагандинская область, г. Темиртау", "35"),
        ("Непонятный регион", None),
        ("99", None),
    ],
)
def test_region_code(text: str, code: str | None) -> None:
    assert region_code(text) == code
