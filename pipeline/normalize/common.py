"""Field parsers shared by the normalizers: dates, money, identifiers, names, and the fictional-data rule.

Every parser is strict: a value it cannot read raises `NormalizeError` naming the field and the value, and the
build quarantines the whole record (nothing half-read is stored). Absent values (None, "") are None.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from entities.identifiers import iin_hash

ALMATY = ZoneInfo("Asia/Almaty")

_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$")
# Oracle/MySQL-style placeholders some registries use for "no date"; they mean absent, not a date.
_ZERO_DATE = re.compile(r"^0000-00-00(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_NUMERIC_DIGITS = 18  # Numeric(18, places): 18 - places integer digits


class NormalizeError(ValueError):
    """A field value the normalizer cannot read; the message names the field and the value."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}: {problem}: {value!r}")


def text(value: object, field: str, max_len: int | None = None) -> str | None:
    """A stripped string, None when empty; longer than `max_len` is an error (the column would truncate)."""
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise NormalizeError(field, value, "expected a string")
    # NUL never means anything in text, and PostgreSQL cannot store it.
    result = str(value).replace("\x00", "").strip()
    if not result:
        return None
    if max_len is not None and len(result) > max_len:
        raise NormalizeError(field, value, f"longer than {max_len} characters")
    return result


def integer(value: object, field: str) -> int | None:
    """An integer from an int, an integral float or a digit string."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise NormalizeError(field, value, "expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise NormalizeError(field, value, "expected an integer")


def ref_id(value: object, field: str) -> int | None:
    """A reference id where goszakup writes 0 for "none" (trdBuyId, lotId, faktTradeMethodsId, ...)."""
    result = integer(value, field)
    return None if result == 0 else result


def flag(value: object, field: str) -> bool:
    """A 0/1 flag (goszakup's `deleted`, `isDeleted`); absent means no."""
    result = integer(value, field)
    if result not in (None, 0, 1):
        raise NormalizeError(field, value, "expected 0 or 1")
    return result == 1


def decimal(value: object, field: str, places: int = 2) -> Decimal | None:
    """A Decimal from a float (via its shortest repr, never binary arithmetic) or a numeric string."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise NormalizeError(field, value, "expected a number")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise NormalizeError(field, value, "not a number") from None
    if not result.is_finite():
        raise NormalizeError(field, value, "not a finite number")
    if abs(result) >= Decimal(10) ** (_NUMERIC_DIGITS - places):
        raise NormalizeError(field, value, "too large for the column")
    return result.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: object, field: str) -> Decimal | None:
    """KZT amount with two decimal places."""
    return decimal(value, field, 2)


def almaty_datetime(value: object, field: str) -> datetime | None:
    """A goszakup datetime ("YYYY-MM-DD HH:MM:SS", Almaty local time without offset) as an aware datetime."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise NormalizeError(field, value, "expected a date string")
    raw = value.strip()
    if not raw or _ZERO_DATE.match(raw):
        return None
    match = _DATETIME.match(raw)
    if match is None:
        raise NormalizeError(field, value, "not a YYYY-MM-DD[ HH:MM[:SS]] date")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=ALMATY,
        )
    except ValueError as exc:
        raise NormalizeError(field, value, f"not a real date ({exc})") from None


def almaty_date(value: object, field: str) -> date | None:
    """The Almaty calendar date of a goszakup datetime string."""
    result = almaty_datetime(value, field)
    return None if result is None else result.date()


def as_utc(value: datetime | None) -> datetime | None:
    """An aware datetime in UTC, for storage: SQLite drops offsets, so every stored datetime is UTC.

    A naive value read back from SQLite is therefore UTC too (see `from_db`).
    """
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} cannot be stored")
    return value.astimezone(UTC)


def from_db(value: datetime | None) -> datetime | None:
    """A stored datetime as an aware one: PostgreSQL returns it aware, SQLite returns naive UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def almaty_date_of(value: datetime | None) -> date | None:
    """The Almaty calendar date of a stored datetime (what a Kazakh reader calls the signing date)."""
    aware = from_db(value)
    return None if aware is None else aware.astimezone(ALMATY).date()


# ---------------------------------------------------------------------------------------- identifiers


def identifier(value: object, field: str) -> str | None:
    """A BIN/IIN as published: a string (leading zeros kept), None when absent.

    Invalid numbers are kept as given (the caller records them as invalid); only a value that cannot fit the
    12-character columns is an error, because truncating it would store a different number.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise NormalizeError(field, value, "expected a BIN/IIN string")
    result = str(value).strip()
    if isinstance(value, int):
        result = result.zfill(12)  # a number that lost its leading zeros upstream
    if not result:
        return None
    if len(result) > 12:
        raise NormalizeError(field, value, "longer than a 12-digit BIN/IIN")
    return result


def bin_org_id(bin_: str) -> str:
    """Organization id for a BIN-keyed organization (a BIN is an authority id, fine in a URL)."""
    return f"kz-bin-{bin_}"


def ip_org_id(iin: str) -> str:
    """Organization id for an individual entrepreneur keyed by the owner's IIN: a keyed hash, never the IIN."""
    return f"kz-ip-{iin_hash(iin)[:16]}"


def pid_org_id(pid: int) -> str:
    """Organization id for a goszakup participant with neither BIN nor IIN (e.g. a foreign supplier)."""
    return f"goszakup-pid-{pid}"


def iin_person_id(iin: str) -> str:
    """Person id keyed by IIN (through its keyed hash; the same hash prefix as the person's IP, if any)."""
    return f"kz-person-{iin_hash(iin)[:16]}"


def org_person_id(organization_id: str, name_norm: str) -> str:
    """Person id for a name without IIN: exact normalized name *within one organization* (never across)."""
    digest = hashlib.sha256(f"{organization_id}|{name_norm}".encode()).hexdigest()
    return f"kz-person-o{digest[:15]}"


# -------------------------------------------------------------------------------------------- names

_QUOTES = re.compile(r"[\"'«»“”„‟‘’‚‛`]")
_NON_WORD = re.compile(r"[^\w№]+")


def name_norm(value: str | None) -> str | None:
    """A simple search key: casefolded, ё→е, quotes and punctuation stripped, spaces collapsed.

    Placeholder until the resolver's key (entities resolution, a later issue) replaces it.
    """
    if value is None:
        return None
    folded = _QUOTES.sub(" ", value.casefold().replace("ё", "е"))
    result = " ".join(_NON_WORD.sub(" ", folded).split())
    return result or None


def display_name(value: str | None) -> str | None:
    """A name as written, with runs of whitespace collapsed."""
    if value is None:
        return None
    result = " ".join(value.split())
    return result or None


def split_fio(fio: str) -> tuple[str | None, str | None, str | None]:
    """Surname, given name, patronymic of a ФИО in goszakup's usual order (surname first).

    Deliberately naive: the resolver (a later issue) parses other orders, initials and Kazakh patronymics.
    """
    parts = fio.split()
    surname = parts[0] if parts else None
    given = parts[1] if len(parts) > 1 else None
    patronymic = " ".join(parts[2:]) or None
    return surname, given, patronymic


# ------------------------------------------------------------------------------------------ fiction


def is_fictional_url(url: str | None) -> bool:
    """True when a raw record was fetched from a loopback address: such data is the simulator's invention.

    The rule is about where a record came from, not what it says: the offline simulator (`ashyq simulate`,
    `make demo`, the tests) only ever listens on 127.0.0.0/8, ::1 or localhost, while every real source is a
    public host. Rows derived from such records carry `is_fictional=True` and the dashboard labels them.
    """
    if not url:
        return False
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
