"""Kazakhstan's 12-digit business (BIN) and individual (IIN) identification numbers.

Control digit (Правила присвоения ИИН/БИН): digit 12 = Σ dᵢ·wᵢ mod 11 over the first 11 digits with
weights 1…11; if that is 10, recompute with weights 3…11,1,2; if it is 10 again, the number is invalid.
An IIN starts with the birth date (YYMMDD) and a century/sex digit; a BIN starts with the registration
year and month, then an entity-type digit (4 resident legal entity, 5 non-resident, 6 individual
entrepreneur under a joint venture) and a head-office/branch digit. IINs are personal data: they are
used for matching through a keyed hash and never displayed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

_DIGITS = re.compile(r"^\d{12}$")
_WEIGHTS_1 = tuple(range(1, 12))
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def control_digit(first11: str) -> int | None:
    """The control digit for 11 digits, or None when no valid control digit exists."""
    digits = [int(c) for c in first11]
    check = sum(d * w for d, w in zip(digits, _WEIGHTS_1, strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, _WEIGHTS_2, strict=True)) % 11
        if check == 10:
            return None
    return check


def clean_id(value: object) -> str | None:
    """Digits of an identifier as a 12-character string (leading zeros kept), or None if absent."""
    if value is None:
        return None
    text = re.sub(r"\D", "", str(value))
    if not text:
        return None
    if len(text) < 12 and isinstance(value, int):  # a number that lost its leading zeros upstream
        text = text.zfill(12)
    return text


def is_valid(value: str | None) -> bool:
    """True when `value` is 12 digits with a correct control digit (BIN and IIN share the rule)."""
    if value is None or not _DIGITS.match(value):
        return False
    expected = control_digit(value[:11])
    return expected is not None and expected == int(value[11])


def looks_like_iin(value: str) -> bool:
    """An IIN's 7th digit (1–6) encodes century and sex, and its first six digits are a real date.

    A BIN's 5th digit is an entity type (4, 5, 6) and its 3rd–4th a month; the two ranges overlap, so this is
    a heuristic for records that do not say which kind they carry. Goszakup says so via `typeSupplier`.
    """
    if not _DIGITS.match(value) or value[6] not in "123456":
        return False
    century = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}[value[6]]
    try:
        date(century + int(value[:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class BinInfo:
    registered_year: int
    registered_month: int
    entity_type: str  # resident_legal_entity, non_resident, joint_individual_entrepreneur, unknown
    branch: bool  # a branch or representative office with its own BIN


_BIN_TYPES = {"4": "resident_legal_entity", "5": "non_resident", "6": "joint_individual_entrepreneur"}


def bin_info(value: str) -> BinInfo | None:
    """What a valid BIN encodes (registration year/month, entity type, branch), or None."""
    if not is_valid(value):
        return None
    year, month = int(value[:2]), int(value[2:4])
    if not 1 <= month <= 12:
        return None
    return BinInfo(
        registered_year=(1900 if year > 90 else 2000) + year,
        registered_month=month,
        entity_type=_BIN_TYPES.get(value[4], "unknown"),
        branch=value[5] in "12",  # 0 head office; 1 branch; 2 representative office
    )


def _hash_key() -> bytes:
    # The key makes the hash useless to anyone holding a list of IINs but not the key. A deployment sets its own;
    # the default only keeps demo and test databases working and is not a secret.
    return os.environ.get("ASHYQ_IIN_HASH_KEY", "ashyq-development-key-not-secret").encode()


def iin_hash(iin: str) -> str:
    """Keyed hash (HMAC-SHA256) of an IIN: equal IINs meet, the number itself is never stored."""
    return hmac.new(_hash_key(), iin.encode(), hashlib.sha256).hexdigest()


def mask(value: str) -> str:
    """An identifier as it may be displayed: the first four digits, the rest hidden."""
    return value[:4] + "•" * max(0, len(value) - 4)


# --------------------------------------------------------------------------------------------------
# Checking a raw identifier field, and what an IIN encodes (for matching only, never for display)

IdStatus = Literal["absent", "valid", "invalid"]


@dataclass(frozen=True)
class IdCheck:
    """A raw BIN/IIN field checked: its digits (kept even when invalid, so nothing is lost) and why."""

    value: str | None  # the digits, as cleaned by `clean_id`; None when the field was empty
    status: IdStatus
    reason: str | None = None  # for invalid ids: wrong_length, no_control_digit, bad_control_digit

    @property
    def valid(self) -> str | None:
        """The identifier when it is valid, else None: only valid ids are matching keys."""
        return self.value if self.status == "valid" else None


def check_id(raw: object) -> IdCheck:
    """Classify a raw identifier field as absent, valid, or invalid with a reason (the digits are kept)."""
    value = clean_id(raw)
    if value is None:
        return IdCheck(None, "absent")
    if len(value) != 12:
        return IdCheck(value, "invalid", "wrong_length")
    expected = control_digit(value[:11])
    if expected is None:
        return IdCheck(value, "invalid", "no_control_digit")
    if expected != int(value[11]):
        return IdCheck(value, "invalid", "bad_control_digit")
    return IdCheck(value, "valid")


@dataclass(frozen=True)
class IinInfo:
    birth_date: date
    sex: Literal["m", "f"]


def iin_info(value: str) -> IinInfo | None:
    """Birth date and sex encoded in a valid IIN, or None when it does not encode them.

    Personal data: callers use it to veto impossible person matches (a male IIN against a name with a female
    patronymic) and must never display or store it.
    """
    if not is_valid(value) or not looks_like_iin(value):
        return None
    century = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}[value[6]]
    born = date(century + int(value[:2]), int(value[2:4]), int(value[4:6]))
    return IinInfo(birth_date=born, sex="m" if int(value[6]) % 2 == 1 else "f")
