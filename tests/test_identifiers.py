"""BIN/IIN: the control-digit rule, what the numbers encode, and the keyed IIN hash."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entities.identifiers import (
    bin_info,
    check_id,
    clean_id,
    control_digit,
    iin_hash,
    iin_info,
    is_valid,
    looks_like_iin,
    mask,
)

# python-stdnum's doctest BINs and kz-iin-validator's README IIN (shared/notes/entity-resolution.md §5.2).
KNOWN_VALID = ["940140000385", "990140004654", "061211600012"]


def _reference_control(first11: str) -> int | None:
    """The rule as the decree states it, written independently of the implementation under test."""
    digits = [int(c) for c in first11]
    first = sum((i + 1) * d for i, d in enumerate(digits)) % 11
    if first != 10:
        return first
    weights = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
    second = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
    return None if second == 10 else second


@pytest.mark.parametrize("value", KNOWN_VALID)
def test_known_numbers_are_valid(value: str) -> None:
    assert is_valid(value)
    assert check_id(value).status == "valid"


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_checker_agrees_with_the_control_digit_rule(first11: str) -> None:
    expected = _reference_control(first11)
    assert control_digit(first11) == expected
    for d in range(10):
        assert is_valid(first11 + str(d)) == (expected == d)


@pytest.mark.parametrize(
    ("raw", "status", "reason", "value"),
    [
        (None, "absent", None, None),
        ("", "absent", None, None),
        ("  ", "absent", None, None),
        ("940140000385", "valid", None, "940140000385"),
        ("9401 4000 0385", "valid", None, "940140000385"),
        ("949940000385", "invalid", "bad_control_digit", "949940000385"),
        ("12345", "invalid", "wrong_length", "12345"),
        ("9401400003851", "invalid", "wrong_length", "9401400003851"),
    ],
)
def test_check_id_keeps_invalid_digits_with_a_reason(
    raw: str | None, status: str, reason: str | None, value: str | None
) -> None:
    chk = check_id(raw)
    assert (chk.status, chk.reason, chk.value) == (status, reason, value)
    assert chk.valid == (value if status == "valid" else None)


def test_eleven_digits_without_any_control_digit_are_invalid() -> None:
    first11 = next(f"{n:011d}" for n in range(10**6) if control_digit(f"{n:011d}") is None)
    chk = check_id(first11 + "0")
    assert chk.status == "invalid"
    assert chk.reason == "no_control_digit"


def test_clean_id_restores_zeros_an_integer_lost() -> None:
    assert clean_id(61211600012) == "061211600012"
    assert clean_id("061-211-600-012") == "061211600012"


def test_bin_info_reads_registration_type_and_branch() -> None:
    info = bin_info("940140000385")
    assert info is not None
    assert (info.registered_year, info.registered_month, info.entity_type, info.branch) == (
        1994,
        1,
        "resident_legal_entity",
        False,
    )
    first11 = next(f"0403410{n:04d}" for n in range(10_000) if control_digit(f"0403410{n:04d}") is not None)
    branch = first11 + str(control_digit(first11))
    info = bin_info(branch)
    assert info is not None
    assert info.branch


def test_iin_info_gives_birth_date_and_sex() -> None:
    info = iin_info("061211600012")
    assert info is not None
    assert info.birth_date == date(2006, 12, 11)
    assert info.sex == "f"
    assert looks_like_iin("061211600012")
    assert iin_info("949940000385") is None  # invalid: encodes nothing we may trust


def test_iin_hash_is_keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    first = iin_hash("061211600012")
    assert first == iin_hash("061211600012")
    assert "061211600012" not in first
    monkeypatch.setenv("ASHYQ_IIN_HASH_KEY", "another deployment")
    assert iin_hash("061211600012") != first


def test_mask_shows_only_the_first_four_digits() -> None:
    assert mask("061211600012") == "0612••••••••"
