"""`ashyq export memoranda`: every memorandum with its parties, as CSV (issue 4).

Columns exactly `COLUMNS`; UTF-8 with a byte-order mark (Excel shows Cyrillic); lists (`parties`, `party_bins`)
joined with ` | ` in party order — `party_bins` has one entry per party, empty where the party has no known BIN
(its own, or its resolved organization's), so the two lists line up. Dates ISO; ordered by memorandum id (byte
order on both backends). The file appears under its name only when complete.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from sqlalchemy import Engine, select

from entities.models import Memorandum, MemorandumParty, Organization
from pipeline.normalize.writer import table_of

COLUMNS: tuple[str, ...] = (
    "memorandum_id",
    "signed_on",
    "title",
    "parties",
    "party_bins",
    "source_url",
    "language",
)
SEPARATOR = " | "


def export_memoranda(engine: Engine, path: Path | str) -> int:
    """Write all memoranda to `path`; returns the number of rows written."""
    path = Path(path)
    m, p, o = table_of(Memorandum).c, table_of(MemorandumParty).c, table_of(Organization).c
    order = m.id.collate("C") if engine.dialect.name == "postgresql" else m.id
    partial = path.with_name(path.name + ".partial")
    count = 0
    try:
        with partial.open("w", encoding="utf-8-sig", newline="") as fh, engine.connect() as conn:
            parties: dict[str, list[tuple[str, str]]] = {}
            for row in conn.execute(
                select(p.memorandum_id, p.name, p.bin, o.bin.label("org_bin"))
                .outerjoin(table_of(Organization), o.id == p.organization_id)
                .order_by(p.memorandum_id, p.position)
            ):
                parties.setdefault(row.memorandum_id, []).append((row.name, row.bin or row.org_bin or ""))
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for row in conn.execute(
                select(m.id, m.signed_on, m.title, m.source_url, m.language)
                .where(m.instrument != "donation")  # donations share the table, not the export
                .order_by(order)
            ):
                names = parties.get(row.id, [])
                writer.writerow(
                    [
                        row.id,
                        row.signed_on.isoformat() if row.signed_on else "",
                        row.title or "",
                        SEPARATOR.join(n for n, _ in names),
                        SEPARATOR.join(b for _, b in names),
                        row.source_url or "",
                        row.language or "",
                    ]
                )
                count += 1
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count
