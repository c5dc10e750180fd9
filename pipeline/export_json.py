"""JSON variants of the engagements and entities exports, and helpers the FtM and OCDS exports share.

- `export_engagements_json`: the same rows, fields and order as the engagements CSV (DESIGN §4, `COLUMNS`),
  as one JSON document `{"columns": [...], "engagements": [{...}, ...]}` written row by row: amounts are
  strings with two decimals (no float rounding), dates ISO, `competitive` a boolean, missing values null.
  It deliberately mirrors the CSV, including `provider_bin` for individual entrepreneurs as goszakup publishes
  it, so the two formats never disagree.
- `export_entities_json`: the entities CSV's content with lists kept as lists (`names_seen` with counts,
  `sources`, `merge_reasons`), one object per organization and person; IINs masked as in the CSV.

Publisher labels name the source a record came from; rows fetched from the loopback simulator are fictional
and are labelled so, never with a real portal's name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, select

from entities.identifiers import mask
from entities.models import Engagement, Organization
from pipeline.export import COLUMNS
from pipeline.normalize.writer import table_of

PUBLISHERS: dict[str, str] = {
    "goszakup": "goszakup.gov.kz (OWS API)",
    "govkz": "gov.kz",
    "statgov": "stat.gov.kz",
    "curated": "Ashyq curated facts",
    "ppp_import": "PPP registry spreadsheet import",
}
FICTIONAL_PUBLISHER = "Ashyq demo simulator (fictional data)"
_CENT = Decimal("0.01")


def publisher(source: str | None, fictional: bool) -> str:
    """Who published the record, as a reader should see it; fictional rows never carry a real portal's name."""
    if fictional:
        return FICTIONAL_PUBLISHER
    return PUBLISHERS.get(source or "", source or "Ashyq")


def money(value: Decimal | float | None) -> str | None:
    """An amount as an exact decimal string with two places (JSON numbers would invite float rounding)."""
    return None if value is None else format(Decimal(str(value)).quantize(_CENT), "f")


def json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class IinScrubber:
    """Masks every individual entrepreneur's IIN wherever a text repeats it (goszakup names often do).

    An IIN encodes birth date and sex; the FtM, OCDS and entity exports never show one. The IINs are the
    individual entrepreneurs' (a fraction of the organizations), read once.
    """

    def __init__(self, conn: Connection) -> None:
        iins = sorted({v for v in conn.execute(select(table_of(Organization).c.iin)).scalars() if v})
        self._pattern = re.compile("|".join(re.escape(v) for v in iins)) if iins else None
        self.iins = frozenset(iins)

    def __call__(self, text: str | None) -> str | None:
        if text is None or self._pattern is None:
            return text
        return self._pattern.sub(lambda m: mask(m.group(0)), text)


@contextmanager
def atomic_text(path: Path | str) -> Iterator[IO[str]]:
    """Write `path` through `path.partial`, so the file appears under its name only when complete."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as fh:
            yield fh
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def id_order(column: Any, dialect: str) -> Any:
    """Order by a text id in byte order on both backends (PostgreSQL's default collation differs)."""
    return column.collate("C") if dialect == "postgresql" else column


def dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------- engagements


def export_engagements_json(engine: Engine, path: Path | str, batch_size: int = 2000) -> int:
    """All engagements as JSON (see the module docstring), ordered by engagement id; returns the row count."""
    e = table_of(Engagement).c
    # The CSV's columns are the table's, except `engagement_id`, which is `id`.
    columns = [e.id if name == "engagement_id" else e[name] for name in COLUMNS]
    query = select(*columns).order_by(id_order(e.id, engine.dialect.name))
    count = 0
    with atomic_text(path) as fh, engine.connect() as conn:
        fh.write('{"columns":' + dumps(list(COLUMNS)) + ',"engagements":[')
        for row in conn.execution_options(yield_per=batch_size).execute(query):
            record = {name: json_value(value) for name, value in zip(COLUMNS, row, strict=True)}
            fh.write(("," if count else "") + "\n" + dumps(record))
            count += 1
        fh.write("\n]}\n")
    return count


# ------------------------------------------------------------------------------------------- entities


def export_entities_json(engine: Engine, path: Path | str) -> int:
    """Organizations then persons, each by id: what the entities CSV shows, with lists as lists.

    Reads through `pipeline.resolution`'s entity aggregation (the same one the CSV uses, which holds one
    summary per entity in memory), so the two formats agree by construction."""
    from pipeline.resolution import entity_summaries  # the CSV's aggregation: one source of truth

    with engine.connect() as conn:
        entities = entity_summaries(conn)
        scrub = IinScrubber(conn)
    order = sorted(entities, key=lambda k: (entities[k].kind != "organization", k))
    with atomic_text(path) as fh:
        fh.write('{"entities":[')
        for n, eid in enumerate(order):
            e = entities[eid]
            names = sorted(e.names, key=lambda s: (-e.names[s], -len(s), s))
            record = {
                "entity_id": eid,
                "kind": e.kind,
                "name": scrub(e.name or (names[0] if names else None)),
                "bin": e.bin,
                "names_seen": [{"name": scrub(s), "count": e.names[s]} for s in names],
                "mention_count": sum(e.names.values()),
                "sources": [scrub(u) for u in dict.fromkeys(e.raws[k] for k in sorted(e.raws))],
                "source_record_ids": sorted(e.raws),
                "merge_reasons": [scrub(r) for r in e.reasons],
            }
            fh.write(("," if n else "") + "\n" + dumps(record))
        fh.write("\n]}\n")
    return len(order)
