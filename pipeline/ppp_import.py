"""PPP registry spreadsheets (.xlsx, .csv) → PPP agreement records, with a documented column mapping.

The PPP Center's registry layout is unknown (`../shared/sources/other/SOURCE.md` §1: kzppp.kz's project database
was not found in any public source; its fields must be confirmed live). So this importer reads any registry
table whose header row names the fields the PPP rules require (SOURCE.md §1, "Enumerations to model" and
"Proposed registry record fields"): project, sector, level (republican/local), PPP type (institutional/
contractual) and form (concession, trust management, …), private-partner selection method (tender/auction or
direct negotiations), state partner (name, BIN), private partner (name, BIN), signing date, term, sum, status
(active/completed/terminated), region, contract number, source URL. Headers are matched on Russian, Kazakh and
English synonyms (`DEFAULT_SYNONYMS`), extendable by a YAML/JSON mapping file or exact column names.

Nothing is lost: every data row becomes either a `PPPAgreementRecord` (with warnings for values kept but not
understood) or a `RejectedRow` with its spreadsheet row number, reason and raw cells; headers that map to no
field are reported. `docs/ppp-import.md` documents the mapping and what a live check of kzppp.kz must confirm.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml

from entities.config import REFERENCE_DIR
from entities.identifiers import check_id

Level = Literal["republican", "local"]
PPPType = Literal["institutional", "contractual"]
SelectionMethod = Literal["tender", "auction", "direct_negotiations"]
Status = Literal["active", "completed", "terminated"]

FIELDS = (
    "project", "sector", "level", "ppp_type", "ppp_form", "selection_method", "state_partner_name",
    "state_partner_bin", "private_partner_name", "private_partner_bin", "signed_on", "term", "amount", "status",
    "region", "contract_number", "source_url",
)  # fmt: skip

# Header synonyms, compared after `normalize_header` (case, ё, punctuation and spacing do not matter). A header
# matches a field when it equals a synonym or starts with it; the longest matching synonym wins, so
# «БИН частного партнера» goes to private_partner_bin, not private_partner_name.
DEFAULT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "project": (
        "наименование проекта", "название проекта", "проект", "наименование", "жоба атауы", "жобаның атауы",
        "жоба", "project name", "project title", "project",
    ),
    "sector": ("отрасль", "сфера", "сектор", "сала", "саласы", "sector", "industry"),
    "level": (
        "уровень проекта", "уровень", "республиканский местный", "деңгейі", "жоба деңгейі", "level", "project level",
    ),
    "ppp_type": ("вид гчп", "тип гчп", "вид", "мжә түрі", "түрі", "ppp type", "type"),
    "ppp_form": (
        "форма гчп", "форма реализации", "форма договора", "форма", "мжә нысаны", "нысаны", "ppp form", "form",
        "contract form",
    ),
    "selection_method": (
        "способ определения частного партнера", "способ выбора частного партнера", "способ отбора", "способ выбора",
        "способ определения", "метод отбора", "жекеше әріптесті айқындау тәсілі", "айқындау тәсілі", "тәсілі",
        "selection method", "private partner selection", "procurement method",
    ),
    "state_partner_name": (
        "государственный партнер", "госпартнер", "концедент", "мемлекеттік әріптес", "state partner",
        "public partner", "grantor",
    ),
    "state_partner_bin": (
        "бин государственного партнера", "бин госпартнера", "бин концедента", "мемлекеттік әріптестің бсн",
        "мемлекеттік әріптес бсн", "state partner bin", "public partner bin",
    ),
    "private_partner_name": (
        "частный партнер", "концессионер", "жекеше әріптес", "private partner", "concessionaire",
    ),
    "private_partner_bin": (
        "бин частного партнера", "бин концессионера", "жекеше әріптестің бсн", "жекеше әріптес бсн",
        "private partner bin", "concessionaire bin",
    ),
    "signed_on": (
        "дата заключения договора", "дата заключения", "дата подписания", "дата договора",
        "шарт жасалған күн", "шартқа қол қойылған күн", "жасалған күні", "signing date", "date signed",
        "contract date", "date of signing",
    ),
    "term": ("срок действия договора", "срок реализации", "срок действия", "срок", "мерзімі", "term", "duration"),
    "amount": (
        "стоимость проекта", "сумма договора", "стоимость", "сумма", "объем инвестиций", "объем финансирования",
        "жоба құны", "шарт сомасы", "сомасы", "құны", "amount", "project cost", "contract value", "investment",
        "sum",
    ),
    "status": ("статус договора", "статус", "состояние", "мәртебесі", "күйі", "status", "state of contract"),
    "region": ("регион", "область", "местоположение", "өңір", "облыс", "region", "location"),
    "contract_number": (
        "номер договора", "№ договора", "номер", "шарт нөмірі", "нөмірі", "contract number", "contract no",
        "number",
    ),
    "source_url": ("ссылка", "источник", "url", "сілтеме", "дереккөз", "link", "source", "source url"),
}  # fmt: skip

_LEVELS: tuple[tuple[re.Pattern[str], Level], ...] = (
    (re.compile(r"республик|republic|ұлттық|national"), "republican"),
    (
        re.compile(r"местн|жергілікті|local|област|облыст|городск|қалалық|район|аудан|region|municipal"),
        "local",
    ),
)
_TYPES: tuple[tuple[re.Pattern[str], PPPType], ...] = (
    (re.compile(r"институц|institution"), "institutional"),
    (re.compile(r"контракт|келісімшарт|contract"), "contractual"),
)
# The contractual forms of the PPP law (SOURCE.md §1, after the mondaq summary).
_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"концесс|concession"), "concession"),
    (re.compile(r"доверительн|сенімгерлік|trust"), "trust_management"),
    (re.compile(r"имуществ\w*\s+наем|наем|аренд|жалда|rent|lease(?!sing)"), "property_rent"),
    (re.compile(r"лизинг|leasing"), "leasing"),
    (re.compile(r"разработк\w*\s+технолог|технологиял|technolog"), "technology_development"),
    (re.compile(r"жизненн\w*\s+цикл|өмірлік\s+цикл|life.?cycle"), "life_cycle"),
    (re.compile(r"сервисн|сервистік|service"), "service_contract"),
)
_METHODS: tuple[tuple[re.Pattern[str], SelectionMethod], ...] = (
    (re.compile(r"аукцион|auction"), "auction"),
    (
        re.compile(
            r"прям\w*\s+переговор|тікелей|direct|частн\w*\s+инициатив|жеке\s*бастам|private\s+initiative"
        ),
        "direct_negotiations",
    ),
    (re.compile(r"конкурс|тендер|tender|competit|competition"), "tender"),
)
_STATUSES: tuple[tuple[re.Pattern[str], Status], ...] = (
    (re.compile(r"расторг|прекращ|бұзыл|тоқтатыл|terminat|cancel"), "terminated"),
    (
        re.compile(r"заверш|исполнен|закрыт|аяқталған|аяқталды|орындалған|complet|finish|closed|expired"),
        "completed",
    ),
    (
        re.compile(
            r"действ|реализ|эксплуатац|строител|іске\s+асыр|қолданыстағы|active|in\s+force|ongoing|operation|construction"
        ),
        "active",
    ),
)


# ------------------------------------------------------------------------------------------ shapes


@dataclass(frozen=True)
class PPPAgreementRecord:
    """One PPP agreement row, interpreted. Maps 1:1 to a future `ppp_agreements` row."""

    row_number: int  # as a spreadsheet shows it (1-based, counting the header and any title rows)
    project: str
    sector: str | None
    level: Level | None
    ppp_type: PPPType | None
    ppp_form: str | None  # concession, trust_management, property_rent, leasing, technology_development,
    # life_cycle, service_contract; None when absent; the raw text when not one of these (with a warning)
    selection_method: SelectionMethod | None
    competitive: bool | None  # selected by tender or auction; None when the method is unknown
    state_partner_name: str | None
    state_partner_bin: str | None  # valid BINs only; an invalid one stays in `raw` with a warning
    private_partner_name: str | None
    private_partner_bin: str | None
    signed_on: date | None
    term_months: int | None
    amount_kzt: Decimal | None
    status: Status | None
    region_kato: str | None  # KATO 2-digit region code
    contract_number: str | None
    source_url: str | None
    raw: Mapping[str, str]  # every cell of the row by its header, as text
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RejectedRow:
    row_number: int
    reason: str
    raw: Mapping[str, str]


@dataclass
class PPPImport:
    file: str
    sheet: str | None
    header_row: int
    columns: dict[str, str]  # field → header it was read from
    unknown_headers: list[str]
    missing_fields: list[str]  # fields no header maps to
    records: list[PPPAgreementRecord] = field(default_factory=list)
    rejects: list[RejectedRow] = field(default_factory=list)
    empty_rows: int = 0


class PPPImportError(ValueError):
    """The file cannot be read as a registry table at all (no header row, no project column, bad format)."""


# ------------------------------------------------------------------------------------- header mapping


def normalize_header(text: object) -> str:
    """Case, ё, NBSP, punctuation and spacing removed: «БИН  частного-партнёра:» → «бин частного партнера»."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text)).casefold().replace("ё", "е")
    value = value.replace("№", " № ")
    value = re.sub(r"[^\w№]+", " ", value)
    return " ".join(value.split())


@dataclass(frozen=True)
class ColumnMapping:
    """Synonyms per field, plus exact header → field assignments that win over synonyms."""

    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_SYNONYMS))
    exact: Mapping[str, str] = field(default_factory=dict)  # normalized header → field

    def field_for(self, header: str) -> str | None:
        norm = normalize_header(header)
        if not norm:
            return None
        if norm in self.exact:
            return self.exact[norm]
        best: tuple[int, str] | None = None
        for name, options in self.synonyms.items():
            for option in options:
                opt = normalize_header(option)
                if (norm == opt or norm.startswith(opt + " ")) and (best is None or len(opt) > best[0]):
                    best = (len(opt), name)
        return best[1] if best else None


def load_mapping(path: Path | None = None, *, columns: Mapping[str, str] | None = None) -> ColumnMapping:
    """The default mapping, extended by a YAML/JSON file `{synonyms: {field: [..]}, columns: {header: field}}`
    and by `columns` (exact header → field). Unknown field names are an error."""
    synonyms = {k: tuple(v) for k, v in DEFAULT_SYNONYMS.items()}
    exact: dict[str, str] = {}
    if path is not None:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        if not isinstance(data, dict):
            raise PPPImportError(f"{path}: a mapping file is a mapping with `synonyms` and/or `columns`")
        for name, extra in (data.get("synonyms") or {}).items():
            if name not in FIELDS:
                raise PPPImportError(
                    f"{path}: unknown field {name!r} in synonyms (fields: {', '.join(FIELDS)})"
                )
            synonyms[name] = tuple(extra) + synonyms.get(name, ())
        for header, name in (data.get("columns") or {}).items():
            if name not in FIELDS:
                raise PPPImportError(f"{path}: unknown field {name!r} for column {header!r}")
            exact[normalize_header(header)] = name
    for header, name in (columns or {}).items():
        if name not in FIELDS:
            raise PPPImportError(
                f"unknown field {name!r} for column {header!r} (fields: {', '.join(FIELDS)})"
            )
        exact[normalize_header(header)] = name
    return ColumnMapping(synonyms=synonyms, exact=exact)


# ------------------------------------------------------------------------------------------ values


_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's 1900 date system, counting its phantom 29 Feb 1900


def parse_date(value: object) -> date:
    """dd.mm.yyyy, d.m.yyyy, dd/mm/yyyy, ISO yyyy-mm-dd (with or without time), a datetime, or an Excel serial.
    Raises ValueError."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        serial = float(value)
        if serial != int(serial) or not 20_000 <= serial <= 80_000:  # 1954 … 2119
            raise ValueError(f"{value!r} is not an Excel date serial")
        return _EXCEL_EPOCH + timedelta(days=int(serial))
    text = str(value).strip()
    m = re.fullmatch(
        r"(\d{1,2})[./](\d{1,2})[./](\d{4})(?:\s*(?:г\.?|ж\.?))?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?", text
    )
    if m:
        return _checked(int(m[3]), int(m[2]), int(m[1]))
    m = re.fullmatch(
        r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?", text
    )
    if m:
        return _checked(int(m[1]), int(m[2]), int(m[3]))
    if re.fullmatch(r"\d{5}(?:\.0+)?", text):
        return parse_date(float(text))
    raise ValueError(f"not a date: {text!r} (dd.mm.yyyy, yyyy-mm-dd or an Excel date)")


def _checked(year: int, month: int, day: int) -> date:
    try:
        result = date(year, month, day)
    except ValueError as e:  # 31.02.2020
        raise ValueError(f"not a date: {day:02d}.{month:02d}.{year} ({e})") from e
    if not 1990 <= year <= 2100:
        raise ValueError(f"year {year} is out of range")
    return result


_MULTIPLIERS = (
    (re.compile(r"трлн|триллион|trillion|trn"), Decimal(10) ** 12),
    (re.compile(r"млрд|миллиард|billion|bn"), Decimal(10) ** 9),
    (re.compile(r"млн|миллион|million|mln"), Decimal(10) ** 6),
    (re.compile(r"тыс|мың|thousand|ths"), Decimal(10) ** 3),
)


def multiplier(text: str) -> Decimal:
    """The unit a header or value states («Стоимость, млн тенге» → 10^6); 1 when none."""
    low = text.lower()
    for pattern, factor in _MULTIPLIERS:
        if pattern.search(low):
            return factor
    return Decimal(1)


def parse_amount(value: object, header: str = "") -> Decimal:
    """A sum in KZT: numbers, «1 234 567,89», «1,234,567.89», «1.234.567,89», «6 млрд»; the header's unit
    («млн тенге») multiplies. Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("not an amount")
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
        factor = multiplier(header)
    elif isinstance(value, float):
        number = Decimal(str(value))  # 624991.07 stays 624991.07
        factor = multiplier(header)
    else:
        text = str(value).strip()
        factor = multiplier(text) if multiplier(text) != 1 else multiplier(header)
        digits = re.sub(r"(?i)[^\d,.\-]", "", text.replace("\u00a0", " ").replace(" ", ""))
        if not digits or not re.search(r"\d", digits):
            raise ValueError(f"not an amount: {text!r}")
        number = _decimal_from_text(digits, text)
    if not number.is_finite() or number < 0:
        raise ValueError(f"not a non-negative amount: {value!r}")
    return (number * factor).quantize(Decimal("0.01"))


def _decimal_from_text(digits: str, original: str) -> Decimal:
    if "," in digits and "." in digits:
        # the last separator is the decimal one
        if digits.rfind(",") > digits.rfind("."):
            digits = digits.replace(".", "").replace(",", ".")
        else:
            digits = digits.replace(",", "")
    elif digits.count(",") == 1 and len(digits.split(",")[1]) != 3:
        digits = digits.replace(",", ".")
    elif digits.count(",") >= 1:
        digits = digits.replace(",", "")  # 1,234,567
    elif digits.count(".") > 1:
        digits = digits.replace(".", "")  # 1.234.567
    try:
        return Decimal(digits)
    except InvalidOperation as e:
        raise ValueError(f"not an amount: {original!r}") from e


def parse_term_months(value: object, header: str = "") -> int:
    """«12 лет», «144 мес.», «10 лет 6 месяцев», «15 жыл», «15 years», or a bare number in the header's unit
    (years unless the header says months). Raises ValueError."""
    text = str(value).strip().lower().replace(",", ".")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        text = str(value)
    months = Decimal(0)
    found = False
    for m in re.finditer(r"(\d+(?:\.\d+)?)\s*([a-zа-яәғқңөұүһі.]*)", text):
        number = Decimal(m[1])
        unit = m[2]
        if re.match(r"(?:мес|ай|month|мөс)", unit):
            months += number
        elif re.match(r"(?:лет|год|г\.|жыл|year|yr)", unit) or not unit:
            if not unit and re.search(r"мес|ай\b|month", header.lower()):
                months += number
            else:
                months += number * 12
        elif re.match(r"(?:дн|день|күн|day)", unit):
            months += number / Decimal(30)
        else:
            raise ValueError(f"unknown unit {unit!r} in term {value!r}")
        found = True
    if not found:
        raise ValueError(f"not a term: {value!r}")
    return int(months.to_integral_value())


def _classify(value: str, table: Iterable[tuple[re.Pattern[str], str]]) -> str | None:
    low = value.lower().replace("ё", "е")
    for pattern, result in table:
        if pattern.search(low):
            return result
    return None


# ------------------------------------------------------------------------------------------ regions


@dataclass(frozen=True)
class _Region:
    code2: str
    names: tuple[str, ...]
    city: bool


def _regions() -> list[_Region]:
    out: list[_Region] = []
    with (REFERENCE_DIR / "kato_regions.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names = tuple(normalize_header(row[k]) for k in ("name_ru", "name_kk", "name_en") if row.get(k))
            out.append(_Region(row["code2"], names, city=row["code2"] in {"71", "75", "79"}))
    return out


_CITY_ALIASES = {"нур султан": "71", "нұр сұлтан": "71", "nur sultan": "71", "астана": "71", "astana": "71"}
# The abbreviations every Kazakhstani document uses for the three «Kazakhstan» regions.
_REGION_ABBREVIATIONS = {
    "зко": "27",
    "бко": "27",
    "бқо": "27",
    "вко": "63",
    "шқо": "63",
    "ско": "59",
    "сқо": "59",
}
_REGION_WORDS = {"область", "облысы", "region", "г", "қаласы", "city", "обл", "oblast"}


def region_code(value: object) -> str | None:
    """KATO 2-digit region code for a region cell: a code (2 or 9 digits) or a name in ru/kk/en («г. Алматы»,
    «Алматинская обл.», «Алматы облысы», «Нур-Султан»). None when it names no single region."""
    text = normalize_header(value)
    if not text:
        return None
    codes = {r.code2 for r in _regions()}
    m = re.fullmatch(r"(\d{2})(\d{7})?", text.replace(" ", ""))
    if m:
        return m[1] if m[1] in codes else None
    for alias, code in _CITY_ALIASES.items():
        if alias in text:
            return code
    for word in text.split():
        if word in _REGION_ABBREVIATIONS:
            return _REGION_ABBREVIATIONS[word]
    oblast = bool(re.search(r"\b(?:обл\w*|облыс\w*|region|oblast)\b", text))
    words = set(text.split())
    hits: set[str] = set()
    city_stems = {
        w[:5]
        for r in _regions()
        if r.city
        for name in r.names
        for w in name.split()
        if w not in _REGION_WORDS
    }
    for region in _regions():
        for name in region.names:
            stems = [w[:5] for w in name.split() if w not in _REGION_WORDS]
            if stems and all(any(word.startswith(stem) for word in words) for stem in stems):
                if region.city and oblast:
                    continue  # «Алматинская область» is not the city of Almaty
                if not region.city and not oblast and stems[0] in city_stems:
                    continue  # «Алматы» alone is the city
                hits.add(region.code2)
    return hits.pop() if len(hits) == 1 else None


# ------------------------------------------------------------------------------------------ reading


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    return str(value).strip()


def _sheet_rows(ws: object) -> list[tuple[int, list[object]]]:
    rows: list[tuple[int, list[object]]] = []
    for i, r in enumerate(ws.iter_rows(values_only=True), start=1):  # type: ignore[attr-defined]
        cells: list[object] = list(r)
        rows.append((i, cells))
    return rows


def _rows_xlsx(
    path: Path, sheet: str | None, mapping: ColumnMapping
) -> tuple[str, list[tuple[int, list[object]]]]:
    from openpyxl import load_workbook  # openpyxl is only needed for .xlsx

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several unrelated types for a file that is not a workbook
        raise PPPImportError(f"{path}: not a readable .xlsx workbook ({type(e).__name__}: {e})") from e
    try:
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                raise PPPImportError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(workbook.sheetnames)})")
            names = [sheet]
        else:
            names = list(workbook.sheetnames)
        for name in names:
            ws = workbook[name]
            rows = _sheet_rows(ws)
            if _find_header(rows, mapping) is not None or sheet is not None:
                return name, rows
        return names[0], _sheet_rows(workbook[names[0]])
    finally:
        workbook.close()


def _rows_csv(path: Path) -> list[tuple[int, list[object]]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1251"):  # Excel's Russian CSV exports are often Windows-1251
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise PPPImportError(f"{path}: not UTF-8 or Windows-1251 text")
    delimiter = _guess_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [(i, list(r)) for i, r in enumerate(reader, start=1)]


def _guess_delimiter(text: str) -> str:
    """`;` (Excel's export in Russian locales), tab or `,`: the one that splits the widest of the first lines
    (csv.Sniffer is misled by a title line above the table and by decimal commas)."""
    lines = [line for line in text.splitlines()[:40] if line.strip()]
    best, best_width = ",", 0
    for delimiter in (";", "\t", ","):
        width = max((len(next(csv.reader([line], delimiter=delimiter))) for line in lines), default=0)
        if width > best_width:
            best, best_width = delimiter, width
    return best


def _find_header(rows: Sequence[tuple[int, Sequence[object]]], mapping: ColumnMapping) -> int | None:
    """Index (in `rows`) of the header row: the first of the first 30 rows where three or more cells map to a
    field (title rows above the table are common in exported registers)."""
    for idx, (_, cells) in enumerate(rows[:30]):
        fields = {mapping.field_for(_cell_text(c)) for c in cells if _cell_text(c)}
        fields.discard(None)
        if len(fields) >= 3:
            return idx
    return None


def read_table(
    path: Path, *, sheet: str | None = None, mapping: ColumnMapping | None = None
) -> tuple[str | None, list[tuple[int, list[object]]]]:
    """The rows of a sheet (the named one, else the first with a header row) or of a CSV file, numbered."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _rows_xlsx(path, sheet, mapping or ColumnMapping())
    if suffix in (".csv", ".txt", ".tsv"):
        return None, _rows_csv(path)
    raise PPPImportError(f"{path}: unsupported file type {suffix!r} (.xlsx or .csv; save .xls as .xlsx)")


def import_ppp(path: Path, *, mapping: ColumnMapping | None = None, sheet: str | None = None) -> PPPImport:
    """Read a registry spreadsheet into records and rejects. Raises PPPImportError when there is no table."""
    mapping = mapping or ColumnMapping()
    sheet_name, rows = read_table(path, sheet=sheet, mapping=mapping)
    header_idx = _find_header(rows, mapping)
    if header_idx is None:
        raise PPPImportError(
            f"{path}: no header row found (a row of at least three known column names among the first 30; "
            f"see docs/ppp-import.md, or give a mapping file)"
        )
    header_row_number, header_cells = rows[header_idx]
    headers = [_cell_text(c) for c in header_cells]
    columns: dict[str, str] = {}
    column_index: dict[str, int] = {}
    unknown: list[str] = []
    for i, header in enumerate(headers):
        if not header:
            continue
        name = mapping.field_for(header)
        if name is None or name in columns:
            unknown.append(header if name is None else f"{header} (second column for {name}; ignored)")
            continue
        columns[name] = header
        column_index[name] = i
    if "project" not in columns:
        raise PPPImportError(f"{path}: no column for the project name among headers {headers}")
    result = PPPImport(
        file=str(path),
        sheet=sheet_name,
        header_row=header_row_number,
        columns=columns,
        unknown_headers=unknown,
        missing_fields=[f for f in FIELDS if f not in columns],
    )
    for row_number, cells in rows[header_idx + 1 :]:
        raw = {
            headers[i] or f"column {i + 1}": _cell_text(c) for i, c in enumerate(cells) if i < len(headers)
        }
        extra = [_cell_text(c) for c in cells[len(headers) :] if _cell_text(c)]
        if extra:
            raw["(cells beyond the header)"] = " | ".join(extra)
        if not any(raw.values()):
            result.empty_rows += 1
            continue
        values = {name: (cells[i] if i < len(cells) else None) for name, i in column_index.items()}
        outcome = _interpret(row_number, values, columns, raw)
        if isinstance(outcome, RejectedRow):
            result.rejects.append(outcome)
        else:
            result.records.append(outcome)
    return result


def _interpret(
    row_number: int, values: Mapping[str, object], columns: Mapping[str, str], raw: Mapping[str, str]
) -> PPPAgreementRecord | RejectedRow:
    text = {k: _cell_text(v) for k, v in values.items()}
    warnings: list[str] = []
    reasons: list[str] = []
    project = text.get("project", "")
    if not project:
        first = next((v for v in raw.values() if v), "")
        if re.match(r"(?i)^\s*(итого|всего|барлығы|жиыны|total)", first):
            return RejectedRow(row_number, "a total row, not an agreement", raw)
        reasons.append("no project name")

    def enum(name: str, table: Iterable[tuple[re.Pattern[str], str]]) -> str | None:
        value = text.get(name, "")
        if not value:
            return None
        found = _classify(value, table)
        if found is None:
            warnings.append(f"{name} {value!r} not recognised; kept in raw")
        return found

    level = enum("level", _LEVELS)
    ppp_type = enum("ppp_type", _TYPES)
    form_text = text.get("ppp_form", "")
    ppp_form = _classify(form_text, _FORMS) if form_text else None
    if form_text and ppp_form is None:
        ppp_form = form_text
        warnings.append(f"ppp_form {form_text!r} is not one of the law's forms; kept as written")
    if ppp_type is None and ppp_form in (
        "concession",
        "trust_management",
        "property_rent",
        "leasing",
        "technology_development",
        "life_cycle",
        "service_contract",
    ):
        ppp_type = "contractual"  # every named form is a contractual PPP (SOURCE.md §1)
    method = enum("selection_method", _METHODS)
    status = enum("status", _STATUSES)

    bins: dict[str, str | None] = {}
    for name in ("state_partner_bin", "private_partner_bin"):
        value = values.get(name)
        checked = check_id(value)
        if checked.status == "invalid":
            warnings.append(f"{name} {checked.value} is invalid ({checked.reason}); kept in raw, not used")
        bins[name] = checked.valid

    signed_on: date | None = None
    if values.get("signed_on") not in (None, ""):
        try:
            signed_on = parse_date(values["signed_on"])
        except ValueError as e:
            reasons.append(f"signed_on: {e}")
    term: int | None = None
    if text.get("term"):
        try:
            term = parse_term_months(values["term"], columns.get("term", ""))
        except ValueError as e:
            reasons.append(f"term: {e}")
    amount: Decimal | None = None
    if text.get("amount"):
        try:
            amount = parse_amount(values["amount"], columns.get("amount", ""))
        except ValueError as e:
            reasons.append(f"amount: {e}")
    region: str | None = None
    if text.get("region"):
        region = region_code(values["region"])
        if region is None:
            warnings.append(f"region {text['region']!r} names no single KATO region; kept in raw")
    url = text.get("source_url") or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            warnings.append(f"source_url {url!r} is not an http(s) URL; kept in raw")
            url = None
    if reasons:
        return RejectedRow(row_number, "; ".join(reasons), raw)
    return PPPAgreementRecord(
        row_number=row_number,
        project=project,
        sector=text.get("sector") or None,
        level=level,  # type: ignore[arg-type]
        ppp_type=ppp_type,  # type: ignore[arg-type]
        ppp_form=ppp_form,
        selection_method=method,  # type: ignore[arg-type]
        competitive=None if method is None else method in ("tender", "auction"),
        state_partner_name=text.get("state_partner_name") or None,
        state_partner_bin=bins["state_partner_bin"],
        private_partner_name=text.get("private_partner_name") or None,
        private_partner_bin=bins["private_partner_bin"],
        signed_on=signed_on,
        term_months=term,
        amount_kzt=amount,
        status=status,  # type: ignore[arg-type]
        region_kato=region,
        contract_number=text.get("contract_number") or None,
        source_url=url,
        raw=dict(raw),
        warnings=tuple(warnings),
    )


def iter_report(result: PPPImport) -> Iterator[str]:
    """Human-readable lines about an import: the mapping used, unknown headers, rejects."""
    yield f"{result.file}{f' [{result.sheet}]' if result.sheet else ''}: header on row {result.header_row}"
    for name, header in result.columns.items():
        yield f"  {name:<22} ← {header}"
    if result.missing_fields:
        yield f"  no column for: {', '.join(result.missing_fields)}"
    for header in result.unknown_headers:
        yield f"  unknown header (not imported, values kept in raw): {header}"
    yield f"{len(result.records)} agreements, {len(result.rejects)} rejected rows, {result.empty_rows} empty rows"
    for reject in result.rejects:
        yield f"  row {reject.row_number}: {reject.reason}"
    for record in result.records:
        for warning in record.warnings:
            yield f"  row {record.row_number}: warning: {warning}"
