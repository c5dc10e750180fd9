"""What spiders yield. Defined here so crawlers depend on entities only (DESIGN §2), never on the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class RawItem:
    """One source record as fetched, with its provenance; stored verbatim in `raw_records`."""

    source: str  # goszakup, govkz, statgov, ...
    record_type: str  # e.g. contract, trd_buy, lot, subject, trd_app, rnu
    external_id: str  # the source's own id for the record
    url: str  # the API endpoint it came from
    payload: dict[str, Any]
    fetched_at: datetime  # timezone-aware UTC
    human_url: str | None = None  # the public page a reader can open
    meta: dict[str, Any] = field(default_factory=dict)  # never stored; e.g. the query name


@dataclass
class QuarantineItem:
    """A record (or a whole response body) that could not be read, kept verbatim with the reason."""

    source: str
    reason: str
    body: str
    url: str | None = None
    record_type: str | None = None
    external_id: str | None = None
