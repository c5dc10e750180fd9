"""`ashyq resolve IN.csv -o OUT.csv`: entity resolution for a CSV of names, without a database (DESIGN §4).

IN has the header `record_id,kind,name,bin,iin,context` (other columns are ignored, so a labelled set with an
`entity` column can be fed as is); kind is `organization` or `person`; bin, iin and context may be empty.
OUT has the header `record_id,entity_id`, one row per input row, in input order. Bad input (missing columns,
an unknown kind, an empty or repeated record_id) stops with the line number and writes nothing; invalid
BINs/IINs are not errors — they are reported and the record is matched by name.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from entities.resolve import KINDS, Record, Resolution, resolve

REQUIRED_COLUMNS = ("record_id", "kind", "name", "bin", "iin", "context")
OUTPUT_COLUMNS = ("record_id", "entity_id")


class ResolveInputError(ValueError):
    """The input CSV cannot be resolved as given; the message names the line."""


@dataclass
class ResolveReport:
    records: Counter[str] = field(default_factory=Counter)  # per kind
    entities: Counter[str] = field(default_factory=Counter)
    invalid_ids: int = 0
    review_pairs: int = 0

    def summary(self) -> str:
        parts = [
            f"{self.records[k]} {k} records → {self.entities[k]} entities" for k in KINDS if self.records[k]
        ]
        parts.append(f"{self.invalid_ids} invalid BIN/IIN (matched by name instead)")
        parts.append(f"{self.review_pairs} uncertain pairs for review")
        return "; ".join(parts)


def read_records(path: Path) -> list[Record]:
    """The records of an input CSV, validated; raises `ResolveInputError` on the first bad line."""
    records: list[Record] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ResolveInputError(
                f"{path}: missing column(s) {', '.join(missing)}; expected {','.join(REQUIRED_COLUMNS)}"
            )
        for row in reader:
            line = reader.line_num
            if None in row:
                raise ResolveInputError(f"{path}:{line}: more fields than the header has")
            ref = (row["record_id"] or "").strip()
            kind = (row["kind"] or "").strip()
            if not ref:
                raise ResolveInputError(f"{path}:{line}: empty record_id")
            if ref in seen:
                raise ResolveInputError(f"{path}:{line}: record_id {ref!r} appears twice")
            if kind not in KINDS:
                raise ResolveInputError(
                    f"{path}:{line}: kind must be 'organization' or 'person', not {kind!r}"
                )
            seen.add(ref)
            records.append(
                Record(
                    ref=ref,
                    kind=kind,  # type: ignore[arg-type]  # checked against KINDS above
                    name=row["name"] or "",
                    bin=(row["bin"] or "").strip() or None,
                    iin=(row["iin"] or "").strip() or None,
                    context=(row["context"] or "").strip() or None,
                )
            )
    return records


def _rows(records: list[Record], result: Resolution) -> Iterator[tuple[str, str]]:
    for r in records:
        yield r.ref, result.entity_of(r.ref)


def resolve_csv(in_path: Path, out_path: Path) -> tuple[ResolveReport, Resolution]:
    """Resolve IN into OUT; OUT is written only when the whole input was valid and resolved."""
    records = read_records(in_path)
    result = resolve(records)
    report = ResolveReport()
    for r in records:
        report.records[r.kind] += 1
    kind_of = {r.ref: r.kind for r in records}
    for refs in result.entities().values():
        report.entities[kind_of[refs[0]]] += 1
    report.invalid_ids = len(result.invalid_ids)
    report.review_pairs = len(result.review)
    tmp = out_path.with_name(out_path.name + ".partial")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(OUTPUT_COLUMNS)
        writer.writerows(_rows(records, result))
    tmp.replace(out_path)
    return report, result
