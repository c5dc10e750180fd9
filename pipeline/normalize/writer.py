"""Bulk upserts of canonical rows, with the dialect's own `INSERT … ON CONFLICT` (SQLite and PostgreSQL).

One call writes many rows in one executemany (PostgreSQL batches it into multi-row VALUES). Rows with the same
key are merged first, because PostgreSQL refuses to update one row twice in one statement. Aware datetimes are
stored in UTC (SQLite would silently drop an offset).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, case, delete, func, or_
from sqlalchemy.dialects import postgresql, sqlite

from entities.models import (
    Bid,
    Contract,
    ContractUnit,
    Lot,
    Mention,
    Organization,
    Person,
    Procurement,
    Role,
    UnreliableSupplier,
)
from pipeline.normalize.common import as_utc
from pipeline.normalize.goszakup import Rows


class Mode(Enum):
    REPLACE = "replace"  # the new row wins whole (a newer version of the same source record)
    OVERWRITE = "overwrite"  # the new row wins, column by column, where it has a value
    FILL = "fill"  # the stored row wins; the new one only fills its empty columns
    KEEP = "keep"  # insert if absent, else leave alone


def table_of(model: type) -> Table:
    """The Core table of a mapped class (typed: `__table__` is a plain FromClause to type checkers)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def _merge(rows: Iterable[dict[str, Any]], key: Sequence[str], mode: Mode) -> list[dict[str, Any]]:
    """Rows with one key merged the way the database would merge them one after another."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        old = merged.get(k)
        if old is None or mode is Mode.REPLACE:
            merged[k] = dict(row)
        elif mode is Mode.OVERWRITE:
            old.update({c: v for c, v in row.items() if v is not None})
        elif mode is Mode.FILL:
            old.update({c: v for c, v in row.items() if old.get(c) is None})
    return list(merged.values())


def _storable(row: dict[str, Any]) -> dict[str, Any]:
    return {c: (as_utc(v) if isinstance(v, datetime) else v) for c, v in row.items()}


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    mode: Mode = Mode.REPLACE,
    touch_on_fill: Sequence[str] = (),
) -> int:
    """Insert `rows`, merging into existing rows with the same `key` per `mode`. Returns rows sent.

    `touch_on_fill`: in FILL mode, when one of these columns goes from empty to filled, `raw_record_id` moves
    to the new record too — it marks the row as changed for the incremental engagement stage.
    """
    if not rows:
        return 0
    data = [_storable(r) for r in _merge(rows, key, mode)]
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - the project supports exactly these two
        raise NotImplementedError(f"upsert on {dialect}")
    columns = [c for c in data[0] if c not in key]
    excluded = stmt.excluded
    if mode is Mode.KEEP or not columns:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    else:
        current = table.c
        if mode is Mode.REPLACE:
            set_ = {c: excluded[c] for c in columns}
        elif mode is Mode.OVERWRITE:
            set_ = {c: func.coalesce(excluded[c], current[c]) for c in columns}
        else:
            set_ = {c: func.coalesce(current[c], excluded[c]) for c in columns}
            if touch_on_fill and "raw_record_id" in columns:
                filled = or_(*(and_(current[c].is_(None), excluded[c].isnot(None)) for c in touch_on_fill))
                set_["raw_record_id"] = case(
                    (filled, excluded["raw_record_id"]), else_=current["raw_record_id"]
                )
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=set_)
    conn.execute(stmt, data)
    return len(data)


def write_rows(conn: Connection, rows: Rows, superseded_raw_ids: Sequence[int] = ()) -> dict[str, int]:
    """Write one batch of normalized rows in dependency order; returns rows sent per table.

    `superseded_raw_ids`: older raw versions of the records in this batch; the roles and mentions they stated
    are replaced by what the newest version states, so an incremental build ends where a build from scratch
    would (which never reads superseded versions). The older payloads themselves stay in the raw store.
    """
    counts: dict[str, int] = {}
    org = table_of(Organization)
    # Cards first, then names seen elsewhere fill what the cards leave empty (either order gives that result).
    counts["organizations"] = upsert(conn, org, rows.organizations_card, ["id"], mode=Mode.OVERWRITE)
    counts["organizations"] += upsert(
        conn,
        org,
        rows.organizations_party,
        ["id"],
        mode=Mode.FILL,
        touch_on_fill=("name_ru", "name_kk", "kato"),
    )
    counts["persons"] = upsert(conn, table_of(Person), rows.persons, ["id"], mode=Mode.KEEP)
    counts["procurements"] = upsert(conn, table_of(Procurement), rows.procurements, ["id"])
    counts["lots"] = upsert(conn, table_of(Lot), rows.lots, ["id"])
    counts["contracts"] = upsert(conn, table_of(Contract), rows.contracts, ["id"])
    contract_ids = sorted({r["id"] for r in rows.contracts})
    units = table_of(ContractUnit)
    for chunk in _chunks(contract_ids, 5000):
        # A newer version of a contract states all its lines: lines it no longer lists are gone.
        conn.execute(delete(units).where(units.c.contract_id.in_(chunk)))
    counts["contract_units"] = upsert(conn, units, rows.contract_units, ["id"])
    counts["bids"] = upsert(conn, table_of(Bid), rows.bids, ["application_id", "lot_id"])
    counts["unreliable_suppliers"] = upsert(
        conn, table_of(UnreliableSupplier), rows.unreliable_suppliers, ["rnu_id"]
    )
    roles, mentions = table_of(Role), table_of(Mention)
    for chunk in _chunks(sorted(set(superseded_raw_ids)), 5000):
        conn.execute(delete(roles).where(roles.c.raw_record_id.in_(chunk)))
        conn.execute(delete(mentions).where(mentions.c.raw_record_id.in_(chunk)))
    counts["mentions"] = upsert(conn, mentions, rows.mentions, ["raw_record_id", "field", "name"])
    counts["roles"] = upsert(
        conn, roles, rows.roles, ["person_id", "organization_id", "role", "raw_record_id"]
    )
    return counts


def _chunks(values: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
