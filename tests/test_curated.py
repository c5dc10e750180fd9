"""Curated facts (pipeline.curated): the shipped set, and validation that names file, line and reason."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.curated import CURATED_DIR, KINDS, load_curated, main

# A copy of the research pack's fact sheet (shared/sources/other/SOURCE.md), so a clone checks its citations alone.
SOURCE_PACK = Path(__file__).resolve().parent / "fixtures" / "source_pack" / "other_SOURCE.md"

GOOD = """\
defaults:
  fictional: true
  retrieved_on: 2026-11-20
  language: ru
facts:
  - id: demo-memo-1
    kind: memorandum
    date: 2026-01-13
    parties:
      - {name: Управление образования Тестовой области, role: party}
      - {name: ТОО «Тест», role: party, bin: "150340601819"}
    summary: A fictional memorandum.
    source_url: https://example.invalid/news/1
    quote: «подписан меморандум о сотрудничестве»
    region: "35"
    amount: "1 250 000.50"
    currency: KZT
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def one_error(tmp_path: Path, text: str, facts: int = 1) -> str:
    """Load one file that must fail with exactly one error; return the error as printed."""
    path = write(tmp_path, "bad.yaml", text)
    loaded = load_curated(tmp_path)
    assert loaded.facts == []
    assert loaded.rejected_files == {str(path): facts}
    assert len(loaded.errors) == 1, [str(e) for e in loaded.errors]
    return str(loaded.errors[0])


# ------------------------------------------------------------------------------------ the shipped set


def test_shipped_set_loads_without_errors() -> None:
    loaded = load_curated(CURATED_DIR)
    assert loaded.errors == []
    assert len(loaded.facts) >= 15
    assert all(not f.fictional for f in loaded.facts)  # real, public facts
    assert {f.kind for f in loaded.facts} <= KINDS
    for fact in loaded.facts:
        assert fact.source_url.startswith("https://")
        assert fact.retrieved_on == date(2026, 11, 1)
        assert fact.retrieved_precision == "month"
        assert fact.retrieval_note is not None
        assert "not a live fetch" in fact.retrieval_note
        assert fact.quote is not None or fact.quote_is_paraphrase


def test_shipped_kundelik_ppp_and_switches() -> None:
    facts = {f.id: f for f in load_curated(CURATED_DIR).facts}
    ppp = facts["kundelik-ppp-2018"]
    assert (ppp.kind, ppp.date, ppp.date_precision) == ("ppp_agreement", date(2018, 1, 26), "day")
    assert ppp.details["term_years"] == 12
    assert [p.role for p in ppp.parties] == ["state_partner", "private_partner"]
    assert ppp.parties[1].name == "ТОО «Күнделік»"
    uralsk = facts["uralsk-revert-to-kundelik-ppp"]
    assert "kundelik-ppp-2018" in uralsk.related
    almaty = facts["almaty-switch-to-bilimclass-2026-01"]
    assert (almaty.date, almaty.date_precision, almaty.region) == (date(2026, 1, 1), "month", "75")
    assert facts["shymkent-switch-announced-2026-01"].region == "79"
    karaganda = facts["karaganda-kindergartens-concession"]
    assert (karaganda.amount, karaganda.currency, karaganda.amount_approximate) == (
        Decimal(6_000_000_000),
        "KZT",
        True,
    )
    order = facts["mon-order-536-2016-kundelik-pilot"]
    assert order.date == date(2016, 8, 29)
    assert order.quote is not None
    assert "Kүнделік" in order.quote
    assert facts["astana-six-schools-ppp"].date_basis == "publication"
    assert {p.entity for p in facts["kundelik-ownership-2019"].parties} == {"organization", "group"}


def test_shipped_quotes_and_citations_are_the_packs_own_text() -> None:
    """Only text the pack attributes to a source is quoted; citations are exactly as the pack gives them."""
    pack = SOURCE_PACK.read_text(encoding="utf-8")
    for fact in load_curated(CURATED_DIR).facts:
        if fact.quote is not None:
            assert fact.quote in pack, fact.id
        if fact.citation is not None:
            assert fact.citation in pack, fact.id
        host_and_path = fact.source_url.removeprefix("https://").rstrip("/")
        assert host_and_path in pack, fact.id


# ------------------------------------------------------------------------------------ validation


def test_good_file_with_defaults(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", GOOD)
    loaded = load_curated(tmp_path)
    assert loaded.errors == []
    (fact,) = loaded.facts
    assert fact.fictional is True
    assert fact.language == "ru"
    assert fact.retrieved_on == date(2026, 11, 20)
    assert fact.parties[1].bin == "150340601819"
    assert fact.amount == Decimal("1250000.50")
    assert (fact.file, fact.line) == (str(tmp_path / "good.yaml"), 6)


@pytest.mark.parametrize(
    ("change", "line", "expected"),
    [
        (("    kind: memorandum\n", ""), 6, "missing field `kind`"),
        (("date: 2026-01-13", "date: 2026-13-45"), 8, "bad date"),
        (("date: 2026-01-13", "date: 13.01.2026"), 8, "bad date"),
        (
            ("source_url: https://example.invalid/news/1", "source_url: example.invalid/news/1"),
            13,
            "must start with http",
        ),
        (
            ("source_url: https://example.invalid/news/1", "source_url: https://example.invalid/n/…"),
            13,
            "shortened",
        ),
        (("kind: memorandum", "kind: memorandom"), 7, "unknown kind 'memorandom'"),
        (('bin: "150340601819"', 'bin: "150340601818"'), 11, "wrong control digit"),
        (('bin: "150340601819"', "bin: 150340601819"), 11, "must be quoted"),
        (('region: "35"', 'region: "99"'), 15, "not a KATO 2-digit region"),
        (("    currency: KZT\n", ""), 16, "needs a currency"),
        (("    quote: «подписан меморандум о сотрудничестве»\n", ""), 6, "missing field `quote`"),
        (("quote: «", "quote_is_paraphrase: true\n    quote: «"), 15, "a paraphrase goes in summary"),
        (
            ("    summary: A fictional memorandum.\n", "    summery: A fictional memorandum.\n"),
            12,
            "unknown field `summery`",
        ),
        (("role: party}\n", "}\n"), 10, "missing field `role`"),
    ],
)
def test_errors_name_file_line_and_reason(
    tmp_path: Path, change: tuple[str, str], line: int, expected: str
) -> None:
    old, new = change
    assert old in GOOD
    message = (
        one_error(tmp_path, GOOD.replace(old, new, 1)) if expected != "unknown field `summery`" else None
    )
    if message is None:  # a misspelt field is reported, and its absence too
        path = write(tmp_path, "bad.yaml", GOOD.replace(old, new, 1))
        errors = [str(e) for e in load_curated(tmp_path).errors]
        assert f"{path}:{line}: [demo-memo-1] unknown field `summery`" in errors
        assert any("missing field `summary`" in e for e in errors)
        return
    assert message.startswith(f"{tmp_path / 'bad.yaml'}:{line}: [demo-memo-1] ")
    assert expected in message


def test_yaml_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    message = one_error(
        tmp_path, GOOD.replace("    summary: A fictional memorandum.", "    summary: [unclosed")
    )
    assert message.startswith(f"{tmp_path / 'bad.yaml'}:")
    assert "YAML syntax error" in message
    assert int(message.split(":")[1]) in (13, 14)


def test_duplicate_key_in_one_mapping_is_an_error(tmp_path: Path) -> None:
    message = one_error(
        tmp_path, GOOD.replace("    kind: memorandum\n", "    kind: memorandum\n    kind: donation\n")
    )
    assert message == f"{tmp_path / 'bad.yaml'}:8: duplicate key `kind` in one mapping"


def test_duplicate_id_within_a_file(tmp_path: Path) -> None:
    second = GOOD.split("facts:\n", 1)[1]
    path = write(tmp_path, "dup.yaml", GOOD + second)
    loaded = load_curated(tmp_path)
    assert loaded.facts == []
    assert [str(e) for e in loaded.errors] == [f"{path}:18: [demo-memo-1] duplicate id (first at line 6)"]
    assert loaded.rejected_files == {str(path): 2}  # both copies unloaded: the file is rejected whole


def test_duplicate_id_across_files_rejects_the_later_file_only(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", GOOD)
    second = write(
        tmp_path, "b.yaml", GOOD.replace("demo-memo-1", "demo-memo-2", 1) + GOOD.split("facts:\n", 1)[1]
    )
    loaded = load_curated(tmp_path)
    assert [f.id for f in loaded.facts] == ["demo-memo-1"]
    assert loaded.loaded_files == [str(first)]
    assert loaded.rejected_files == {str(second): 2}
    assert [str(e) for e in loaded.errors] == [
        f"{second}:18: [demo-memo-1] duplicate id: already defined at {first}:6"
    ]


def test_malformed_file_is_rejected_whole_and_others_still_load(tmp_path: Path) -> None:
    good = write(tmp_path, "a_good.yaml", GOOD)
    bad_text = GOOD.replace("demo-memo-1", "demo-memo-2") + (
        "  - id: demo-memo-3\n"
        "    kind: donation\n"
        "    date: 2026-02-30\n"
        "    parties: [{name: X, role: donor}]\n"
        "    summary: s\n"
        "    source_url: https://example.invalid/3\n"
        "    quote: q\n"
    )
    bad = write(tmp_path, "b_bad.yaml", bad_text)
    loaded = load_curated(tmp_path)
    assert [f.id for f in loaded.facts] == ["demo-memo-1"]
    assert loaded.loaded_files == [str(good)]
    assert loaded.rejected_files == {
        str(bad): 2
    }  # the valid demo-memo-2 is not loaded either: nothing half-loaded
    assert [str(e) for e in loaded.errors] == [
        f"{bad}:20: [demo-memo-3] bad date: '2026-02-30': day is out of range for month"
    ]


def test_related_id_must_exist(tmp_path: Path) -> None:
    message = one_error(tmp_path, GOOD + "    related: [no-such-fact]\n")
    assert (
        message == f"{tmp_path / 'bad.yaml'}:6: [demo-memo-1] related id 'no-such-fact' is not a curated fact"
    )


def test_a_person_has_no_bin(tmp_path: Path) -> None:
    text = GOOD.replace(
        "{name: ТОО «Тест», role: party, bin:", "{name: Иван Тестов, entity: person, role: party, bin:"
    )
    assert "a person has no BIN" in one_error(tmp_path, text)


def test_not_a_curated_file(tmp_path: Path) -> None:
    assert one_error(tmp_path, "- just\n- a list\n", facts=0).endswith(
        "a curated file is a mapping with a list `facts`"
    )


def test_cli_exit_code_and_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "a.yaml", GOOD)
    assert main([str(tmp_path)]) == 0
    write(
        tmp_path,
        "b.yaml",
        GOOD.replace("demo-memo-1", "demo-memo-2").replace("kind: memorandum", "kind: nope"),
    )
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert f"{tmp_path / 'b.yaml'}:7: [demo-memo-2] unknown kind 'nope'" in out.err
    assert "1 facts from 1 files; 1 files rejected (1 facts not loaded)" in out.out
