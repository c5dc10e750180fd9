"""Indexed, columnar tables behind the simulator's GraphQL roots: filtering, id-descending order and paging.

Each table keeps its filterable fields as numpy columns in **id-descending** order (the order the real API
returns rows in, SOURCE.md §2) and builds a record's dict only when a page needs it, so a scale scenario of
a million contracts costs a few hundred bytes per row and a page is cheap to serve. A filter is evaluated once
as a boolean mask and its matches are cached, so walking a date window page by page with `after` is a binary
search per page rather than a scan.

Filter semantics reproduced from the real service (SOURCE.md §2, "Filter semantics"):

* date fields take an array: `["from", "to"]`, `["", "to"]` (until), `["from"]` (since); each bound a date
  (`YYYY-MM-DD`) or a datetime (`YYYY-MM-DD HH:MM:SS`, also with `T` or without seconds). Both bounds are
  inclusive. **Decision (unverified against the live API):** a date-only "to" means the end of that day
  (23:59:59), because the official change list writes windows as `["2019-10-01","2019-10-24"]`, which a reader
  takes to include the 24th, and because a spider that pages day windows must not lose the last day. An empty
  array or two empty bounds only require the date to be present: rows whose date is null never match a date
  filter. More than two values or an unreadable date is an error.
* `[Int]` fields match any of the listed values (a bare Int is coerced to a list by GraphQL itself); an empty
  list matches nothing. `Int` fields match exactly; on list-valued fields (`TrdBuy.finYear`) they match when the
  row's list contains the value. String fields (BINs, numbers) match exactly; text search prefixes (`?`, `*`)
  are not simulated. `null` for a field means "no constraint".
* A filter field the simulator does not implement is an error, never silently ignored.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

# Timestamps are Almaty wall-clock seconds since 1970-01-01 00:00, computed as if the wall clock were UTC: the API
# has no offsets, and filters compare wall-clock text, so no zone arithmetic may happen here.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


class FilterError(ValueError):
    """A filter the simulator cannot evaluate: unsupported field or unreadable value."""


def wall_ts(value: datetime) -> int:
    """Seconds since 1970-01-01 of a wall-clock datetime (naive, or tagged UTC as a neutral container)."""
    return int((value.replace(tzinfo=UTC) - EPOCH).total_seconds())


def ts_text(ts: int) -> str:
    """The API's datetime text for a wall-clock timestamp: `YYYY-MM-DD HH:MM:SS`."""
    return (EPOCH + timedelta(seconds=int(ts))).strftime("%Y-%m-%d %H:%M:%S")


def parse_bound(text: str, field: str, *, upper: bool) -> int | None:
    """A date-filter bound as a timestamp; None for an empty bound. A date-only upper bound ends the day."""
    value = text.strip()
    if value == "":
        return None
    for fmt in _DATE_FORMATS:
        try:
            return wall_ts(datetime.strptime(value, fmt).replace(tzinfo=UTC))
        except ValueError:
            continue
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise FilterError(f'filter {field}: cannot read date "{text}"') from None
    return wall_ts(day) + (86_399 if upper else 0)


@dataclass(frozen=True)
class Field:
    """How one filter field is evaluated against a table.

    kind: `int_in` ([Int] against an int column), `int_eq` (Int), `str_eq` (String against a coded column),
    `date` (date window against a timestamp column, -1 = null), `int_has` / `str_has` (a value against a
    list-valued field, through an inverted index value → row numbers).
    """

    kind: str
    column: np.ndarray | None = None
    codes: Mapping[str, int] | None = None
    index: Mapping[Any, np.ndarray] | None = None


def int_in(column: np.ndarray) -> Field:
    return Field("int_in", column=np.asarray(column, dtype=np.int64))


def int_eq(column: np.ndarray) -> Field:
    return Field("int_eq", column=np.asarray(column, dtype=np.int64))


def date(column: np.ndarray) -> Field:
    return Field("date", column=np.asarray(column, dtype=np.int64))


def str_eq(column: np.ndarray, codes: Mapping[str, int]) -> Field:
    """A string field stored as integer codes; `codes` maps each value to its code (-1 = null)."""
    return Field("str_eq", column=np.asarray(column, dtype=np.int64), codes=codes)


def has(values_per_row: Sequence[Sequence[Any]], kind: str) -> Field:
    """A list-valued field (`int_has` or `str_has`), indexed value → rows that list it."""
    index: dict[Any, list[int]] = {}
    for row, values in enumerate(values_per_row):
        for value in set(values):
            index.setdefault(value, []).append(row)
    return Field(kind, index={k: np.asarray(v, dtype=np.int64) for k, v in index.items()})


@dataclass(frozen=True)
class PageInfo:
    limitPage: int  # noqa: N815 - the API's own key names
    totalCount: int  # noqa: N815
    hasNextPage: bool  # noqa: N815
    lastId: int | None  # noqa: N815

    def as_dict(self) -> dict[str, Any]:
        return {"limitPage": self.limitPage, "totalCount": self.totalCount,
                "hasNextPage": self.hasNextPage, "lastId": self.lastId}


class Table:
    """One GraphQL root over scenario rows: `select(filter, limit, after)` → (record dicts, page info)."""

    def __init__(self, root: str, ids: np.ndarray, build: Callable[[int], dict[str, Any]],
                 fields: Mapping[str, Field], cache_size: int = 64) -> None:
        """`ids` and every field are in the generator's row order; `build(row)` makes one record's dict."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(np.unique(ids)) != len(ids):
            raise ValueError(f"{root}: ids are not unique")
        order = np.argsort(-ids, kind="stable")
        self.root = root
        self.rows = order  # position (id-descending) → generator row
        self.ids = ids[order]
        self._neg_ids = -self.ids  # ascending, for searchsorted
        position_of_row = np.empty(len(ids), dtype=np.int64)
        position_of_row[order] = np.arange(len(ids), dtype=np.int64)
        self._build = build
        self._fields = {name: _reorder(spec, order, position_of_row) for name, spec in fields.items()}
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def filter_fields(self) -> list[str]:
        return sorted(self._fields)

    def record(self, position: int) -> dict[str, Any]:
        return self._build(int(self.rows[position]))

    def get(self, record_id: int) -> dict[str, Any] | None:
        """The record with this id, or None."""
        pos = int(np.searchsorted(self._neg_ids, -record_id))
        if pos < len(self.ids) and self.ids[pos] == record_id:
            return self.record(pos)
        return None

    def matches(self, flt: Mapping[str, Any] | None) -> np.ndarray:
        """Positions (ascending = ids descending) of rows matching the filter; cached per distinct filter."""
        active = {k: v for k, v in (flt or {}).items() if v is not None}
        key = json.dumps(active, sort_keys=True, ensure_ascii=False, default=str)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        mask = np.ones(len(self.ids), dtype=bool)
        for name, value in active.items():
            spec = self._fields.get(name)
            if spec is None:
                raise FilterError(
                    f"filter field {name!r} is not supported by the simulator for {self.root} "
                    f"(supported: {', '.join(self.filter_fields)})")
            mask &= _evaluate(name, spec, value, len(self.ids))
        positions = np.flatnonzero(mask)
        with self._lock:
            self._cache[key] = positions
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return positions

    def select(self, flt: Mapping[str, Any] | None, limit: int | None,
               after: int | None) -> tuple[list[dict[str, Any]], PageInfo]:
        """One page: up to `limit` (default 50, capped at 200) rows with id < `after`, newest id first."""
        if limit is None:
            limit = DEFAULT_LIMIT
        if limit < 1:
            raise FilterError(f"limit must be a positive number, got {limit}")
        limit = min(limit, MAX_LIMIT)
        positions = self.matches(flt)
        start = 0
        # `after: 0` (or absent) starts from the newest row; ids are positive, so 0 cannot be a real cursor.
        if after is not None and after > 0:
            start = int(np.searchsorted(self._neg_ids[positions], -after, side="right"))
        page = positions[start:start + limit]
        records = [self.record(int(p)) for p in page]
        last_id = int(self.ids[page[-1]]) if len(page) else None
        info = PageInfo(limitPage=limit, totalCount=len(positions),
                        hasNextPage=start + len(page) < len(positions), lastId=last_id)
        return records, info


def _reorder(spec: Field, order: np.ndarray, position_of_row: np.ndarray) -> Field:
    if spec.index is not None:
        index = {k: np.sort(position_of_row[v]) for k, v in spec.index.items()}
        return Field(spec.kind, index=index)
    assert spec.column is not None
    return Field(spec.kind, column=spec.column[order], codes=spec.codes)


def _evaluate(name: str, spec: Field, value: Any, size: int) -> np.ndarray:
    column = spec.column
    if spec.kind == "int_in":
        assert column is not None
        values = [v for v in _as_list(value) if v is not None]
        return np.isin(column, np.asarray(values, dtype=np.int64))
    if spec.kind == "int_eq":
        assert column is not None
        return column == int(value)
    if spec.kind == "str_eq":
        assert column is not None
        assert spec.codes is not None
        code = spec.codes.get(str(value))
        if code is None:
            return np.zeros(size, dtype=bool)
        return column == code
    if spec.kind == "date":
        assert column is not None
        return _date_mask(name, column, value)
    if spec.kind in ("int_has", "str_has"):
        assert spec.index is not None
        mask = np.zeros(size, dtype=bool)
        for v in _as_list(value):
            rows = spec.index.get(v)
            if rows is not None:
                mask[rows] = True
        return mask
    raise FilterError(f"filter {name}: unknown kind {spec.kind}")


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _date_mask(name: str, column: np.ndarray, value: Any) -> np.ndarray:
    bounds = _as_list(value)
    if len(bounds) > 2:
        raise FilterError(f"filter {name}: expected [from, to], got {len(bounds)} values")
    texts = ["" if b is None else str(b) for b in bounds] + ["", ""]
    low = parse_bound(texts[0], name, upper=False)
    high = parse_bound(texts[1], name, upper=True)
    mask = column >= 0  # null dates never match a window
    if low is not None:
        mask &= column >= low
    if high is not None:
        mask &= column <= high
    return mask
