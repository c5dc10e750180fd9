"""Judgements in the database: recorded with who and when, applied by the next resolution, still in force after
the mentions are rebuilt from scratch; `ashyq judge` and `ashyq review`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, select

from entities.db import session_scope
from entities.judgements import (
    JudgementError,
    load_judgements,
    mention_records,
    mention_ref,
    record_judgement,
    review_queue,
)
from entities.models import Judgement, Mention, Organization, RawRecord
from entities.resolve import resolve
from pipeline.cli import main

BIN_A = "190540972277"  # invented, checksum-valid
NAMES = [
    ("Contract.supplier", "organization", "ТОО «Кунделик»", BIN_A, None),
    ("Contract.supplier", "organization", "Kundelik LLP", None, None),
    ("Contract.customer", "organization", "Средняя школа №5 г. Астаны", None, None),
    ("Contract.customer", "organization", "Средняя школа №5 г. Алматы", None, None),
    ("Contract.customer", "organization", "Средняя школа №5", None, None),
    ("Subject.head", "person", "Ильясов Мухтар Бекович", None, BIN_A),
    ("Subject.head", "person", "Ильясов М.Б.", None, "111240969799"),
]


def _seed(engine: Engine) -> dict[str, int]:
    """One raw record and its mentions; returns name → mention id."""
    with session_scope(engine) as session:
        raw = RawRecord(
            source="goszakup",
            record_type="contract",
            external_id="1",
            url="http://127.0.0.1/graphql",
            fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
            sha256="0" * 64,
            payload={},
        )
        session.add(raw)
        session.flush()
        _mentions(session, raw.id)
    return _ids(engine)


def _mentions(session, raw_id: int, *, reverse: bool = False) -> None:  # type: ignore[no-untyped-def]
    for fld, kind, name, bin_, ctx in reversed(NAMES) if reverse else NAMES:
        session.add(Mention(raw_record_id=raw_id, field=fld, kind=kind, name=name, bin=bin_, context_bin=ctx))


def _ids(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {m.name: m.id for m in session.scalars(select(Mention))}


def _resolved(engine: Engine) -> tuple[dict[str, str], object]:
    with session_scope(engine) as session:
        records = list(mention_records(session))
        names = {r.ref: r.name for r in records}
        result = resolve(records, load_judgements(engine))
    return {names[ref]: a.entity_id for ref, a in result.assignments.items()}, result


def test_judgement_is_stored_with_stable_refs_author_and_time(engine: Engine) -> None:
    ids = _seed(engine)
    j = record_judgement(engine, "same", str(ids["Kundelik LLP"]), str(ids["Средняя школа №5"]),
                         note="checked the registry", author="aigerim")  # fmt: skip
    with session_scope(engine) as session:
        row = session.scalars(select(Judgement)).one()
        raw_id = session.scalars(select(RawRecord.id)).one()
    assert row.left_ref == mention_ref(raw_id, "Contract.supplier", "Kundelik LLP")
    assert (row.decision, row.author, row.note) == ("same", "aigerim", "checked the registry")
    assert row.created_at.tzinfo is not None
    assert j.id == row.id


def test_bad_judgements_are_refused(engine: Engine) -> None:
    ids = _seed(engine)
    a, b = str(ids["Kundelik LLP"]), str(ids["ТОО «Кунделик»"])
    with pytest.raises(JudgementError, match="decision must be"):
        record_judgement(engine, "maybe", a, b, author="x")
    with pytest.raises(JudgementError, match="no mention with id"):
        record_judgement(engine, "same", a, "999999", author="x")
    with pytest.raises(JudgementError, match="two different"):
        record_judgement(engine, "same", a, a, author="x")
    with pytest.raises(JudgementError, match="no organization or person"):
        record_judgement(engine, "same", a, "kz-bin-111240969799", author="x")
    with pytest.raises(JudgementError, match="neither a mention id"):
        record_judgement(engine, "same", a, "Kundelik", author="x")
    with session_scope(engine) as session:
        assert session.scalars(select(Judgement)).all() == []


def test_entity_ids_are_accepted_when_the_entity_exists(engine: Engine) -> None:
    ids = _seed(engine)
    with session_scope(engine) as session:
        session.add(Organization(id=f"kz-bin-{BIN_A}", bin=BIN_A))
    j = record_judgement(engine, "different", f"kz-bin-{BIN_A}", str(ids["Kundelik LLP"]), author="x")
    assert j.left_ref == f"kz-bin-{BIN_A}"


def test_a_judgement_changes_the_next_resolution_and_survives_a_rebuild(engine: Engine) -> None:
    ids = _seed(engine)
    before, _ = _resolved(engine)
    assert before["Kundelik LLP"] == before["ТОО «Кунделик»"] == f"kz-bin-{BIN_A}"

    now = datetime(2025, 2, 1, tzinfo=UTC)
    record_judgement(
        engine, "different", str(ids["Kundelik LLP"]), str(ids["ТОО «Кунделик»"]), author="x", now=now
    )
    record_judgement(engine, "same", str(ids["Средняя школа №5"]), str(ids["Средняя школа №5 г. Астаны"]),
                     author="x", now=now + timedelta(seconds=1))  # fmt: skip
    after, _ = _resolved(engine)
    assert after["Kundelik LLP"] != after["ТОО «Кунделик»"]
    assert (
        after["Средняя школа №5"]
        == after["Средняя школа №5 г. Астаны"]
        != after["Средняя школа №5 г. Алматы"]
    )

    # Rebuild from scratch: the mentions are deleted and written again, in another order, under other ids.
    with session_scope(engine) as session:
        session.execute(delete(Mention))
    with session_scope(engine) as session:
        _mentions(session, session.scalars(select(RawRecord.id)).one(), reverse=True)
    renumbered = _ids(engine)
    assert renumbered != ids
    rebuilt, _ = _resolved(engine)
    assert rebuilt == after


def test_review_queue_lists_uncertain_pairs_and_drops_decided_ones(engine: Engine) -> None:
    ids = _seed(engine)
    items, _ = review_queue(engine)
    pairs = {frozenset((i.left.name, i.right.name)): i.pair.reason for i in items}
    assert "ambiguous" in pairs.values()
    assert any(
        {"Ильясов Мухтар Бекович", "Ильясов М.Б."} == set(p) for p in pairs
    )  # initials in another organization: a human decides
    record_judgement(
        engine, "different", str(ids["Ильясов Мухтар Бекович"]), str(ids["Ильясов М.Б."]), author="x"
    )
    items, _ = review_queue(engine, kind="person")
    assert items == []


def test_cli_judge_and_review(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _seed(engine)
    monkeypatch.setenv("ASHYQ_DATABASE_URL", db_url)
    monkeypatch.setenv("ASHYQ_USER", "journalist")
    runner = CliRunner()
    shown = runner.invoke(main, ["review", "--kind", "organization"])
    assert shown.exit_code == 0, shown.output
    assert "ashyq judge same|different|unsure" in shown.output
    assert "Средняя школа №5" in shown.output

    a, b = ids["Средняя школа №5"], ids["Средняя школа №5 г. Астаны"]
    done = runner.invoke(main, ["judge", "same", str(a), str(b), "--note", "same address"])
    assert done.exit_code == 0, done.output
    assert "by journalist" in done.output
    (j,) = load_judgements(engine)
    assert (j.author, j.note) == ("journalist", "same address")

    bad = runner.invoke(main, ["judge", "same", str(a), "424242"])
    assert bad.exit_code == 2
    assert "no mention with id 424242" in bad.output
