"""`ashyq export flags -o FILE.csv`: every flag with its inputs, thresholds, sources and adjudication.

UTF-8 with a BOM so Excel shows Cyrillic; one row per flag ordered by id; lists joined with ` | ` (as the
memoranda export), `params` and `thresholds` as JSON text; the file appears under its name only when complete.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from pipeline.export import csv_cell
from pipeline.flags.adjudicate import flag_rows

COLUMNS: tuple[str, ...] = (
    "flag_id", "code", "severity", "state", "subject_kind", "subject_id", "related_ids", "region_kato",
    "explanation", "params", "thresholds", "legal_reference", "evidence", "source_urls", "adjudication_note",
    "adjudicated_by", "adjudicated_at", "computed_at", "is_fictional",
)  # fmt: skip


def _cells(row: dict[str, Any]) -> list[str]:
    def joined(values: Any) -> str:
        return " | ".join(str(v) for v in values or [])

    def stamp(value: Any) -> str:
        return value.isoformat() if value is not None else ""

    return [
        row["id"], row["code"], row["severity"], row["state"], row["subject_kind"], row["subject_id"],
        joined(row["related_ids"]), csv_cell(row["region_kato"]), row["explanation"],
        json.dumps(row["params"], ensure_ascii=False, sort_keys=True),
        json.dumps(row["thresholds"], ensure_ascii=False, sort_keys=True), csv_cell(row["legal_reference"]),
        joined(row["evidence"]), joined(row["source_urls"]), csv_cell(row["note"]), csv_cell(row["author"]),
        stamp(row["adjudicated_at"]), stamp(row["computed_at"]), csv_cell(bool(row["is_fictional"])),
    ]  # fmt: skip


def export_flags(engine: Engine, path: Path | str, **filters: Any) -> int:
    """Write the flags (optionally filtered like `flag_rows`) to `path`; returns the number of rows."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    count = 0
    try:
        with partial.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for row in flag_rows(engine, **filters):
                writer.writerow(_cells(row))
                count += 1
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count
