"""Human verdicts on flags (`ashyq flag justified|unjustified ID --note`) and the flag list with their state.

A verdict is a new `flag_adjudications` row; the newest one (highest id) per flag is in force, older ones stay
as history. The build never writes this table. A flag's state is `open` until someone decides.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from entities.models import Flag, FlagAdjudication
from pipeline.normalize.writer import table_of

flags_t = table_of(Flag)
adj_t = table_of(FlagAdjudication)
STATES = ("justified", "unjustified")
FILTER_STATES = ("open", *STATES)


class FlagError(Exception):
    """A verdict that cannot be recorded (unknown flag, bad state); the CLI exits 2 with the message."""


@dataclass(frozen=True)
class Verdict:
    flag_id: str
    state: str
    note: str | None
    author: str
    created_at: datetime


def default_author() -> str:
    """$ASHYQ_USER, else the login name."""
    user = os.environ.get("ASHYQ_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def record_verdict(
    engine: Engine, state: str, flag_id: str, note: str | None = None, author: str | None = None
) -> Verdict:
    if state not in STATES:
        raise FlagError(f"state must be one of {', '.join(STATES)}, not {state!r}")
    with engine.begin() as conn:
        exists = conn.execute(select(flags_t.c.id).where(flags_t.c.id == flag_id)).first()
        if exists is None:
            raise FlagError(f"no flag {flag_id!r} (see `ashyq flags list`)")
        verdict = Verdict(flag_id, state, note, (author or default_author())[:100], datetime.now(UTC))
        conn.execute(
            adj_t.insert(),
            [{"flag_id": flag_id, "state": state, "note": note, "author": verdict.author,
              "created_at": verdict.created_at}],
        )  # fmt: skip
    return verdict


def _newest() -> Any:
    """The verdict in force per flag: the row with the highest id."""
    a = adj_t.c
    last = select(func.max(a.id).label("id")).group_by(a.flag_id).subquery()
    return select(a.flag_id, a.state, a.note, a.author, a.created_at).join(last, last.c.id == a.id).subquery()


def flag_rows(
    engine: Engine, *, code: str | None = None, region: str | None = None, state: str | None = None
) -> Iterator[dict[str, Any]]:
    """Flags with their state (`open` without a verdict), filtered, ordered by id; streamed."""
    if state is not None and state not in FILTER_STATES:
        raise FlagError(f"state must be one of {', '.join(FILTER_STATES)}, not {state!r}")
    with engine.connect() as conn:
        v = _newest()
        f = flags_t.c
        query = select(flags_t, v.c.state, v.c.note, v.c.author, v.c.created_at.label("adjudicated_at")).outerjoin(
            v, v.c.flag_id == f.id
        )
        if code:
            query = query.where(f.code == code)
        if region:
            query = query.where(f.region_kato == region[:2])
        if state == "open":
            query = query.where(v.c.state.is_(None))
        elif state:
            query = query.where(v.c.state == state)
        order = f.id.collate("C") if engine.dialect.name == "postgresql" else f.id
        for row in conn.execute((query.order_by(order)).execution_options(yield_per=2000)):
            item = dict(row._mapping)
            item["state"] = item["state"] or "open"
            yield item


def history(engine: Engine, flag_id: str) -> list[Verdict]:
    a = adj_t.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.flag_id, a.state, a.note, a.author, a.created_at).where(a.flag_id == flag_id).order_by(a.id)
        )
        return [Verdict(r.flag_id, r.state, r.note, r.author, r.created_at) for r in rows]
