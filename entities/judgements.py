"""Human decisions on entity matches: stored in `judgements`, applied by every resolution, and the queue of
uncertain pairs waiting for one.

A judgement names two *references*, each either a mention or an entity:

- a mention by its stable reference `m-…` (`mention_ref`: a hash of the raw record, field and name, which the
  `mentions` unique key already identifies). `ashyq judge` also accepts the numeric `mentions.id` shown by
  `ashyq review` and stores the stable reference instead, because a rebuild from scratch renumbers mentions;
- an entity by its id: `kz-bin-<BIN>`, `kz-ip-…`, `person-iin-…` (stable by construction) or `org-…`,
  `person-…` (the hash of the entity's smallest member reference, which `entities.resolve` maps back to that
  member, so the judgement keeps pointing at the same mention after the entity grows).

`same` links the two for good; `different` keeps their whole clusters apart; `unsure` changes nothing but is
listed by `ashyq review`. The latest judgement on a pair wins. Nothing here deletes a judgement: the build
rebuilds mentions and entities, never this table.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from entities.db import session_scope
from entities.models import Judgement, Mention, Organization, Person
from entities.resolve import Kind, MatchConfig, Record, Resolution, ReviewPair, resolve

DECISIONS = ("same", "different", "unsure")
_MENTION_REF = re.compile(r"^m-[0-9a-f]{20}$")
_ENTITY_REF = re.compile(r"^(kz-bin-\d{12}|kz-ip-[0-9a-f]{16}|org-[0-9a-f]{16}|person-(iin-)?[0-9a-f]{16})$")


class JudgementError(ValueError):
    """A judgement that cannot be recorded as given; the message says why."""


@dataclass(frozen=True)
class JudgementRecord:
    """A stored judgement, in the shape `entities.resolve.resolve` takes."""

    left_ref: str
    right_ref: str
    decision: str
    author: str
    created_at: datetime
    note: str | None = None
    id: int | None = None


def mention_ref(raw_record_id: int, field: str, name: str) -> str:
    """The stable reference of a mention: the same after every rebuild, whatever `mentions.id` becomes."""
    digest = hashlib.sha1(f"{raw_record_id}\x1f{field}\x1f{name}".encode()).hexdigest()  # noqa: S324 - an id
    return "m-" + digest[:20]


def default_author() -> str:
    return os.environ.get("ASHYQ_USER") or getpass.getuser()


def _entity_exists(session: Session, ref: str) -> bool:
    if session.get(Organization, ref) is not None or session.get(Person, ref) is not None:
        return True
    found = session.scalar(
        select(Mention.id).where((Mention.organization_id == ref) | (Mention.person_id == ref)).limit(1)
    )
    return found is not None


def normalize_ref(session: Session, ref: str) -> str:
    """The reference to store for what the user typed: a mention id becomes its stable reference."""
    ref = ref.strip()
    if ref.isdigit():
        mention = session.get(Mention, int(ref))
        if mention is None:
            raise JudgementError(f"no mention with id {ref}")
        return mention_ref(mention.raw_record_id, mention.field, mention.name)
    if _MENTION_REF.match(ref):
        return ref
    if _ENTITY_REF.match(ref):
        if not _entity_exists(session, ref):
            raise JudgementError(
                f"no organization or person {ref!r} in the database (run `ashyq build` first?)"
            )
        return ref
    raise JudgementError(
        f"{ref!r} is neither a mention id (a number, or m-…) nor an entity id (kz-bin-…, org-…, person-…)"
    )


def record_judgement(
    engine: Engine,
    decision: str,
    left: str,
    right: str,
    *,
    note: str | None = None,
    author: str | None = None,
    now: datetime | None = None,
) -> JudgementRecord:
    """Store a judgement after checking both references; it applies from the next resolution on."""
    if decision not in DECISIONS:
        raise JudgementError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    with session_scope(engine) as session:
        left_ref, right_ref = normalize_ref(session, left), normalize_ref(session, right)
        if left_ref == right_ref:
            raise JudgementError("a judgement needs two different mentions or entities")
        row = Judgement(
            left_ref=left_ref,
            right_ref=right_ref,
            decision=decision,
            note=note,
            author=author or default_author(),
            created_at=now or datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        return _record(row)


def _record(row: Judgement) -> JudgementRecord:
    return JudgementRecord(
        left_ref=row.left_ref,
        right_ref=row.right_ref,
        decision=row.decision,
        author=row.author,
        created_at=row.created_at,
        note=row.note,
        id=row.id,
    )


def load_judgements(engine: Engine) -> list[JudgementRecord]:
    """Every judgement, oldest first (so that `resolve` lets the latest on a pair win)."""
    with session_scope(engine) as session:
        rows = session.scalars(select(Judgement).order_by(Judgement.created_at, Judgement.id))
        return [_record(row) for row in rows]


# ----------------------------------------------------------------------------------- mentions → records


@dataclass(frozen=True)
class MentionInfo:
    id: int
    kind: str
    name: str


def mention_records(session: Session, index: dict[str, MentionInfo] | None = None) -> Iterator[Record]:
    """Every mention as a `Record` for `entities.resolve.resolve`, streamed from the database.

    A person's context is the BIN of the organization they were named for. `index`, when given, is filled
    with reference → (mention id, kind, name) for display.
    """
    rows = session.execute(
        select(
            Mention.id,
            Mention.raw_record_id,
            Mention.field,
            Mention.kind,
            Mention.name,
            Mention.bin,
            Mention.iin_hash,
            Mention.context_bin,
        ).execution_options(yield_per=10_000)
    )
    for mid, raw_id, fld, kind, name, bin_, hashed, context in rows:
        ref = mention_ref(raw_id, fld, name)
        if index is not None:
            index[ref] = MentionInfo(mid, kind, name)
        k: Kind = "person" if kind == "person" else "organization"
        yield Record(ref=ref, kind=k, name=name, bin=bin_, iin_hash=hashed, context=context)


@dataclass(frozen=True)
class ReviewItem:
    pair: ReviewPair
    left: MentionInfo
    right: MentionInfo


def review_queue(
    engine: Engine, *, kind: Kind | None = None, config: MatchConfig | None = None
) -> tuple[list[ReviewItem], Resolution]:
    """The uncertain pairs of the current mentions, most important first, with the mentions' ids and names."""
    index: dict[str, MentionInfo] = {}
    with session_scope(engine) as session:
        result = resolve(mention_records(session, index), load_judgements(engine), config)
    items = [
        ReviewItem(pair, index[pair.left], index[pair.right])
        for pair in result.review
        if (kind is None or pair.kind == kind) and pair.left in index and pair.right in index
    ]
    return items, result
