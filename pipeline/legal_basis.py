"""Legal basis of a goszakup contract: the trade method → `legal_basis` code and `competitive` flag (DESIGN §6).

The table is data, `data/reference/legal_basis_trade_methods.csv` (`trade_method_id, legal_basis, competitive,
name_ru`); a method id it does not list is `other_procurement`, not competitive.

Which method: the contract's actual method (`Contract.faktTradeMethodsId`), falling back to the announcement's
(`TrdBuy.refTradeMethodsId`, reached through `Contract.trdBuyId`). Goszakup writes 0 for "none"; 0 is absent.

A contract with neither a method nor an announcement (`trdBuyId` 0) is `other_procurement`, not competitive,
with a note saying why. We do not guess "single source" although most such contracts are direct awards: a
contract concluded without any published announcement cannot be shown to be competitive, but which
non-competitive basis it had is exactly what a journalist must not read from a guess.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from entities.config import REFERENCE_DIR

TABLE_PATH = REFERENCE_DIR / "legal_basis_trade_methods.csv"
TRADE_METHODS_PATH = REFERENCE_DIR / "goszakup" / "ref_trade_methods.json"
OTHER = "other_procurement"
CODES = frozenset(
    {
        "open_tender",
        "auction",
        "price_quotations",
        "e_shop",
        "commodity_exchange",
        "single_source",
        "state_order",
        "special_procedure",
        OTHER,
    }
)

# The public procurement law in force on a date (law level only; articles differ by method and version).
# From general knowledge of the laws' titles and commencement dates, not from a source in this repository;
# goszakup's OWS data starts after 2016, so earlier laws are not listed.
# Applies to methods goszakup marks as public procurement (ref_trade_methods `type` 1), not to the
# quasi-public-sector ("не ГЗ", type 2) methods, which follow their own procurement rules.
_PROCUREMENT_LAWS: tuple[tuple[date, date | None, str], ...] = (
    (
        date(2016, 1, 1),
        date(2024, 12, 31),
        "Закон РК от 4 декабря 2015 года № 434-V «О государственных закупках»",
    ),
    (date(2025, 1, 1), None, "Закон РК от 1 июля 2024 года № 106-VIII «О государственных закупках»"),
)


class LegalBasisTableError(ValueError):
    """The reference table is malformed; the build must not guess legal bases from a broken table."""


@dataclass(frozen=True)
class Rule:
    trade_method_id: int
    legal_basis: str
    competitive: bool
    name_ru: str


@dataclass(frozen=True)
class LegalBasis:
    """The legal basis of one engagement, with the method it was read from and how."""

    code: str
    competitive: bool
    trade_method_id: int | None
    method_from: str | None  # "contract", "announcement", or None when no method was known
    note: str | None = None


def load_table(path: Path = TABLE_PATH) -> dict[int, Rule]:
    """The trade-method table, validated: known codes, yes/no flags, no id listed twice."""
    rules: dict[int, Rule] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for line_no, row in enumerate(csv.DictReader(fh), start=2):
            try:
                method_id = int(row["trade_method_id"])
            except (TypeError, ValueError):
                raise LegalBasisTableError(
                    f"{path}:{line_no}: trade_method_id {row['trade_method_id']!r}"
                ) from None
            code = (row["legal_basis"] or "").strip()
            flag = (row["competitive"] or "").strip()
            if code not in CODES:
                raise LegalBasisTableError(f"{path}:{line_no}: unknown legal_basis {code!r}")
            if flag not in ("yes", "no"):
                raise LegalBasisTableError(f"{path}:{line_no}: competitive must be yes or no, not {flag!r}")
            if method_id in rules:
                raise LegalBasisTableError(f"{path}:{line_no}: trade method {method_id} listed twice")
            rules[method_id] = Rule(method_id, code, flag == "yes", (row.get("name_ru") or "").strip())
    return rules


@cache
def default_table() -> dict[int, Rule]:
    return load_table()


def classify(
    contract_method_id: int | None,
    announcement_method_id: int | None = None,
    *,
    has_announcement: bool = True,
    table: dict[int, Rule] | None = None,
) -> LegalBasis:
    """The legal basis from the contract's method, else the announcement's (see the module docstring)."""
    rules = default_table() if table is None else table
    for method_id, origin in ((contract_method_id, "contract"), (announcement_method_id, "announcement")):
        if method_id:  # 0 is goszakup's "none"
            rule = rules.get(method_id)
            if rule is None:
                return LegalBasis(
                    OTHER, False, method_id, origin, f"trade method {method_id} is not in the table"
                )
            return LegalBasis(rule.legal_basis, rule.competitive, method_id, origin)
    note = (
        "no trade method and no announcement: concluded without a published procurement"
        if not has_announcement
        else "no trade method on the contract or its announcement"
    )
    return LegalBasis(OTHER, False, None, None, note)


@cache
def _public_procurement_methods() -> frozenset[int]:
    with TRADE_METHODS_PATH.open(encoding="utf-8") as fh:
        items = json.load(fh)["items"]
    return frozenset(int(item["id"]) for item in items if item.get("type") == 1)


def legal_reference(trade_method_id: int | None, signed_on: date | None) -> str | None:
    """The public procurement law in force on the signing date, for public-procurement methods; else None."""
    if trade_method_id is None or signed_on is None or trade_method_id not in _public_procurement_methods():
        return None
    for start, end, law in _PROCUREMENT_LAWS:
        if start <= signed_on and (end is None or signed_on <= end):
            return law
    return None
