"""`ashyq resolve IN.csv -o OUT.csv`: the DESIGN §4 contract, bad input, no database."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.resolve_csv import ResolveInputError, read_records, resolve_csv

FIXTURES = Path(__file__).parent / "fixtures" / "er"
HEADER = "record_id,kind,name,bin,iin,context"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_command_writes_record_id_entity_id_in_input_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No database may be touched: point the database URL at a directory that does not exist.
    monkeypatch.setenv("ASHYQ_DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    src = _write(
        tmp_path / "in.csv",
        f"{HEADER}\n"
        "b,organization,Кунделик ТОО,,,\n"
        'a,organization,"ТОО ""Күнделік""",190540972277,,\n'
        "c,person,Ильясов М.Б.,,,190540972277\n"
        "d,person,Ильясов Мухтар Бекович,,,190540972277\n"
        "e,organization,ИП Кунделик,,,\n",
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["resolve", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines()[0] == "record_id,entity_id"
    rows = _rows(out)
    assert [r["record_id"] for r in rows] == ["b", "a", "c", "d", "e"]
    ids = {r["record_id"]: r["entity_id"] for r in rows}
    assert ids["a"] == ids["b"] == "kz-bin-190540972277"
    assert ids["c"] == ids["d"] != ids["a"]
    assert ids["e"] != ids["a"]
    assert "3 organization records → 2 entities" in result.output
    assert not (tmp_path / "missing").exists()


def test_rerun_gives_the_same_ids(tmp_path: Path) -> None:
    first, second = tmp_path / "1.csv", tmp_path / "2.csv"
    resolve_csv(FIXTURES / "core.csv", first)
    resolve_csv(FIXTURES / "core.csv", second)
    assert first.read_bytes() == second.read_bytes()


def test_bom_extra_columns_and_empty_optional_fields_are_accepted(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.csv", f"{HEADER},note\nx,organization,ТОО «Бастау»,,,,hello\n", "utf-8-sig")
    (record,) = read_records(src)
    assert (record.ref, record.bin, record.iin, record.context) == ("x", None, None, None)


def test_invalid_ids_are_matched_by_name_and_counted(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "in.csv",
        f"{HEADER}\n1,organization,ТОО «Бастау»,190540972270,,\n2,organization,Бастау ЖШС,,,\n",
    )
    report, result = resolve_csv(src, tmp_path / "out.csv")
    assert report.invalid_ids == 1
    assert result.entity_of("1") == result.entity_of("2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("record_id,kind,name\n1,organization,x\n", "missing column(s) bin, iin, context"),
        (f"{HEADER}\n1,company,ТОО X,,,\n", ":2: kind must be 'organization' or 'person'"),
        (f"{HEADER}\n1,organization,ТОО X,,,\n1,organization,ТОО Y,,,\n", ":3: record_id '1' appears twice"),
        (f"{HEADER}\n,organization,ТОО X,,,\n", ":2: empty record_id"),
        (f"{HEADER}\n1,organization,ТОО X,,,,extra\n", ":2: more fields than the header has"),
    ],
)
def test_bad_input_stops_with_the_line_and_writes_nothing(tmp_path: Path, text: str, message: str) -> None:
    src = _write(tmp_path / "in.csv", text)
    out = tmp_path / "out.csv"
    with pytest.raises(ResolveInputError, match=re.escape(message)):
        resolve_csv(src, out)
    assert not out.exists()
    result = CliRunner().invoke(main, ["resolve", str(src), "-o", str(out)])
    assert result.exit_code == 2
    assert message.rsplit(":", maxsplit=1)[-1].strip() in result.output
    assert not out.exists()
