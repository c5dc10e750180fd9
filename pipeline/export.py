"""`ashyq export engagements`: the "who holds what, on which basis" table as CSV (DESIGN §4, a public format).

UTF-8 with a byte-order mark so Excel shows Cyrillic; columns exactly `COLUMNS`, in that order; `competitive`
as `true`/`false`, amounts with two decimals, dates ISO; one row per engagement, ordered by engagement id
(byte order, the same on SQLite and PostgreSQL). Rows are streamed from the database, and the file appears
under its name only when complete.
"""

from __future__ import annotations

import csv
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, select

from entities.models import Engagement
from pipeline.normalize.writer import table_of

COLUMNS: tuple[str, ...] = (
    "engagement_id",
    "instrument",
    "legal_basis",
    "competitive",
    "buyer_bin",
    "buyer_name",
    "provider_bin",
    "provider_name",
    "subject",
    "amount_kzt",
    "signed_on",
    "region_kato",
    "source_url",
)
_CENT = Decimal("0.01")


def csv_cell(value: object) -> str:
    """One cell as the public export writes it: `true`/`false`, amounts with two decimals, ISO dates, "" for none.

    Shared with the dashboard's CSV downloads, so a download and `ashyq export` never disagree.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | float):
        return format(Decimal(str(value)).quantize(_CENT), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def export_engagements(engine: Engine, path: Path | str, batch_size: int = 2000) -> int:
    """Write all engagements to `path` (see the module docstring); returns the number of rows written."""
    path = Path(path)
    e = table_of(Engagement).c
    order = e.id.collate("C") if engine.dialect.name == "postgresql" else e.id
    query = select(
        e.id,
        e.instrument,
        e.legal_basis,
        e.competitive,
        e.buyer_bin,
        e.buyer_name,
        e.provider_bin,
        e.provider_name,
        e.subject,
        e.amount_kzt,
        e.signed_on,
        e.region_kato,
        e.source_url,
    ).order_by(order)
    partial = path.with_name(path.name + ".partial")
    count = 0
    try:
        with partial.open("w", encoding="utf-8-sig", newline="") as fh, engine.connect() as conn:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for row in conn.execution_options(yield_per=batch_size).execute(query):
                writer.writerow([csv_cell(value) for value in row])
                count += 1
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count
