"""KATO helpers: the 20 top-level regions (`data/reference/kato_regions.csv`) and region codes of KATO codes.

A KATO code is 9 digits `AB CD EF HIJ`; its region is the first two digits (SOURCE.md §6). Only the 20 regions
in force today count as regions here: `88888888` («по всей территории РК») and codes of former regions (51,
ЮКО before 2018) name no current region, so a caller falls through to its next source of a region instead of
showing a code no map or filter knows.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from entities.config import REFERENCE_DIR

KATO_REGIONS_CSV = REFERENCE_DIR / "kato_regions.csv"


@dataclass(frozen=True)
class Region:
    code2: str
    kato: str
    name_ru: str
    name_kk: str
    name_en: str


@cache
def regions() -> dict[str, Region]:
    """The current regions by two-digit code."""
    with KATO_REGIONS_CSV.open(encoding="utf-8", newline="") as fh:
        return {
            row["code2"]: Region(row["code2"], row["kato"], row["name_ru"], row["name_kk"], row["name_en"])
            for row in csv.DictReader(fh)
        }


def region_code(kato: object) -> str | None:
    """The two-digit region of a KATO code, or None when it names no current region."""
    if kato is None:
        return None
    text = str(kato).strip()
    if len(text) < 2 or not text[:2].isdigit():
        return None
    code = text[:2]
    return code if code in regions() else None


def dominant_region(katos: Iterable[object]) -> str | None:
    """The region most of `katos` lie in (ties: the lowest code), or None when none names a region.

    Used where one contract delivers to several places: its region is where most of its lines go.
    """
    counts = Counter(code for code in (region_code(k) for k in katos) if code is not None)
    if not counts:
        return None
    return min(counts, key=lambda code: (-counts[code], code))
