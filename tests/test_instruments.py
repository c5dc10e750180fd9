"""Issue 4, database side: curated facts and PPP rows into the raw store, the instrument build stage, engagements
of every instrument, and the memoranda export — on SQLite and PostgreSQL (fixtures `db_url`/`engine`).

All data here is fictional: invented names, checksum-valid invented BINs, loopback URLs for "crawled" records.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fixtures.raw.goszakup_raw import CUSTOMER_BIN, SUPPLIER_BIN, contract, dump_tables, insert_raw
from sqlalchemy import Engine, func, select

from entities.models import (
    CrawlRun,
    CuratedFact,
    Document,
    Engagement,
    Memorandum,
    MemorandumParty,
    Organization,
    Person,
    PPPAgreement,
    RawRecord,
    Role,
)
from pipeline.build import run_build
from pipeline.cli import main as cli
from pipeline.export_memoranda import COLUMNS, export_memoranda
from pipeline.normalize.writer import table_of
from pipeline.raw_import import import_ppp_raw, load_curated_raw

PPP_FIXTURE = Path(__file__).parent / "fixtures" / "ppp" / "registry_ru.csv"
GOVKZ_API = "http://127.0.0.1:8766/api/v1/public/content-manager"
STAT_BIN = "180740131869"  # the private partner of the PPP fixture's first row (checksum-valid, invented)

CURATED = f"""\
defaults:
  fictional: true
  retrieved_on: 2026-11-01
  language: ru
  quote_is_paraphrase: true

facts:
  - id: test-memo-2025
    kind: memorandum
    date: 2025-09-01
    parties:
      - {{name: Управление образования Тестовой области, role: buyer_side}}
      - {{name: ТОО «Тест Журнал», role: operator, bin: "{SUPPLIER_BIN}"}}
    summary: Тестовый меморандум об электронном журнале.
    source_url: https://example.invalid/memo
  - id: test-ppp-2021
    kind: ppp_agreement
    date: 2021-03-15
    parties:
      - {{name: Акимат Тестовой области, role: state_partner}}
      - {{name: ТОО «Тест ГЧП», role: private_partner}}
    summary: Тестовый договор ГЧП.
    details: {{term_years: 12, selection_method: tender}}
    source_url: https://example.invalid/ppp
  - id: test-role-founder
    kind: role
    date: 2019-05-01
    parties:
      - {{name: ТОО «Тест Журнал», role: company, bin: "{SUPPLIER_BIN}"}}
      - {{name: Тестов Тест Тестович, entity: person, role: founder_and_ceo}}
    summary: Основатель ТОО «Тест Журнал».
    source_url: https://example.invalid/founder
  - id: test-donation
    kind: donation
    date: 2024-02-01
    parties:
      - {{name: ТОО «Тест Даритель», role: donor}}
      - {{name: Школа № 1 (тест), role: recipient}}
    summary: Переданы планшеты безвозмездно.
    source_url: https://example.invalid/donation
  - id: test-switch-none
    kind: service_switch
    date: 2026-01-10
    parties:
      - {{name: Отдел образования Тестового района, role: buyer_side}}
      - {{name: ТОО «Без Договора», role: operator_new}}
    summary: Школы перешли на новую платформу без договора.
    source_url: https://example.invalid/switch
  - id: test-launch-covered
    kind: service_launch
    date: 2026-01-11
    parties:
      - {{name: Акимат Тестовой области, role: buyer_side}}
      - {{name: ТОО «Тест ГЧП», role: operator_new}}
    summary: Запущен сервис по договору ГЧП.
    source_url: https://example.invalid/launch
"""

MALFORMED = """\
facts:
  - id: broken-fact
    kind: memorandum
    fictional: true
    date: 2026-02-30
    parties: [{name: X, role: party}]
    summary: bad date
    source_url: https://example.invalid/x
    retrieved_on: 2026-11-01
    language: ru
    quote_is_paraphrase: true
"""


def count(engine: Engine, model: type, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def one(engine: Engine, model: type, **where: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(model).filter_by(**where)).one()


def curated_dir(tmp_path: Path, *, malformed: bool = False) -> Path:
    folder = tmp_path / "curated"
    folder.mkdir(exist_ok=True)
    (folder / "a_good.yaml").write_text(CURATED, encoding="utf-8")
    if malformed:
        (folder / "b_bad.yaml").write_text(MALFORMED, encoding="utf-8")
    return folder


def insert_source(
    engine: Engine, source: str, record_type: str, external_id: str, payload: dict[str, Any], url: str,
    human_url: str | None = None,
) -> int:  # fmt: skip
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    row = {"source": source, "record_type": record_type, "external_id": external_id, "url": url,
           "human_url": human_url, "fetched_at": datetime.now(UTC), "sha256": hashlib.sha256(body.encode()).hexdigest(),
           "payload": payload}  # fmt: skip
    with engine.begin() as conn:
        return int(
            conn.execute(RawRecord.__table__.insert().returning(RawRecord.__table__.c.id), row).scalar_one()
        )


def govkz_news(
    engine: Engine, item_id: int, created: str, title: str, body: str, slug: str = "karaganda-bilim"
) -> int:
    return insert_source(
        engine, "govkz", "govkz_news", f"{item_id}:ru",
        {"id": item_id, "created_date": created, "title": title, "body": body, "projects": [slug]},
        f"{GOVKZ_API}/news?projects=eq:{slug}&page=1&size=100",
        f"http://127.0.0.1:8766/memleket/entities/{slug}/press/news/details/{item_id}?lang=ru",
    )  # fmt: skip


NEW_MEMO = (
    "<p>15 января 2026 года между Управлением образования Карагандинской области и ТОО «SabaqLab» подписан "
    "меморандум о сотрудничестве.</p><p>Документ предусматривает подготовку к ЕНТ в школах области.</p>"
)
REFERENCE = (
    "<p>В рамках подписанного ранее меморандума между Управлением образования Карагандинской области и "
    "ТОО «SabaqLab» в школах области продолжится использование платформы для подготовки к ЕНТ.</p>"
)
SABAQ_BIN = "190640432319"  # invented, checksum-valid


# ------------------------------------------------------------------------------------------- raw store


def test_curated_load_is_idempotent_and_rejects_malformed_file(engine: Engine, tmp_path: Path) -> None:
    folder = curated_dir(tmp_path, malformed=True)
    load = load_curated_raw(engine, folder)
    assert load.seen == 6
    assert load.new == 6
    assert list(load.rejected_files) == [str(folder / "b_bad.yaml")]
    assert any(e.file.endswith("b_bad.yaml") and e.line == 5 and "date" in e.message for e in load.errors)
    raw = one(engine, RawRecord, external_id="test-memo-2025")
    assert (raw.source, raw.record_type, raw.url) == ("curated", "memorandum", "https://example.invalid/memo")
    assert raw.payload["parties"][1]["bin"] == SUPPLIER_BIN
    assert "line" not in raw.payload
    again = load_curated_raw(engine, folder)
    assert (again.seen, again.new) == (6, 0)
    assert count(engine, RawRecord, source="curated") == 6
    assert count(engine, CrawlRun, source="curated") == 2


def test_cli_crawl_curated_exit_codes(
    db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASHYQ_DATABASE_URL", db_url)
    bad = CliRunner().invoke(cli, ["crawl", "curated", "-a", f"path={curated_dir(tmp_path, malformed=True)}"])
    assert bad.exit_code == 1
    assert "b_bad.yaml:5:" in bad.output
    assert "6 records read, 6 new" in bad.output
    (tmp_path / "curated" / "b_bad.yaml").unlink()
    good = CliRunner().invoke(cli, ["crawl", "curated", "-a", f"path={tmp_path / 'curated'}"])
    assert good.exit_code == 0, good.output
    assert "6 records read, 0 new, 6 unchanged" in good.output


def test_cli_import_ppp(db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASHYQ_DATABASE_URL", db_url)
    result = CliRunner().invoke(cli, ["import", "ppp", str(PPP_FIXTURE)])
    with engine.connect() as conn:
        rows = conn.execute(
            select(RawRecord.external_id, RawRecord.url)
            .where(RawRecord.source == "ppp_import")
            .order_by(RawRecord.id)
        ).all()
    assert rows[0] == ("ГЧП-001", "https://example.invalid/ppp/1")
    assert rows[1][1] == "file://registry_ru.csv#row=5"  # no source URL: the file and row
    expected_exit = 1 if "rejected:" in result.output else 0
    assert result.exit_code == expected_exit, result.output
    again = import_ppp_raw(engine, PPP_FIXTURE)
    assert again.new == 0
    assert again.seen == len(rows)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Наименование проекта;Дата заключения договора;Частный партнер\nСад;31.02.2020;ТОО «А»\n", "utf-8"
    )
    rejected = CliRunner().invoke(cli, ["import", "ppp", str(bad)])
    assert rejected.exit_code == 1
    assert "bad.csv row 2:" in rejected.output


# ----------------------------------------------------------------------------------------------- build


def _scenario(engine: Engine, tmp_path: Path) -> None:
    # a goszakup contract: buyer CUSTOMER_BIN, provider SUPPLIER_BIN
    insert_raw(engine, "contract", contract())
    insert_source(
        engine, "statgov", "statgov_company", SABAQ_BIN,
        {"success": True, "description": None, "obj": {
            "bin": SABAQ_BIN, "name": "ТОО «SabaqLab»", "registerDate": "2019-06-20T18:00:00.000+0000",
            "okedCode": "62010", "katoCode": "351010000", "fio": "Саба Лаб Тестович", "ip": False}},
        f"http://127.0.0.1:8767/api/juridical/counter/api/?bin={SABAQ_BIN}&lang=ru",
    )  # fmt: skip
    insert_source(
        engine, "statgov", "statgov_company", "091240005006",
        {"success": False, "obj": None, "description": "Не найдено"},
        "http://127.0.0.1:8767/api/juridical/counter/api/?bin=091240005006&lang=ru",
    )  # fmt: skip
    load_curated_raw(engine, curated_dir(tmp_path))
    import_ppp_raw(engine, PPP_FIXTURE)
    govkz_news(engine, 501, "2026-01-15T09:00:00.000+00:00", "Подписан меморандум с SabaqLab", NEW_MEMO)
    govkz_news(engine, 502, "2026-03-20T08:15:00.000+00:00", "Школы продолжат работу с SabaqLab", REFERENCE)
    govkz_news(engine, 503, "2026-03-21T08:15:00.000+00:00", "Итоги четверти", "<p>Совещание директоров.</p>")
    insert_source(
        engine, "govkz", "govkz_curator", "777:ru",
        {"id": 777, "lastname": "Тестова", "name": "Алия", "middlename": "Тестовна",
         "position": "Руководитель управления образования"},
        f"{GOVKZ_API}/curators?projects=almaty-edu&size=100",
    )  # fmt: skip


def test_build_instruments(engine: Engine, tmp_path: Path) -> None:
    _scenario(engine, tmp_path)
    report = run_build(engine)
    assert report.instrument_records == 6 + count(engine, RawRecord, source="ppp_import") + 2 + 3 + 1
    assert report.quarantined == 0
    # curated facts → tables
    assert count(engine, CuratedFact) == 6
    memo = one(engine, Memorandum, id="curated-test-memo-2025")
    assert (memo.origin, memo.signed_on, memo.is_fictional) == ("curated", date(2025, 9, 1), True)
    parties = {p.name: p for p in _parties(engine, "curated-test-memo-2025")}
    assert parties["ТОО «Тест Журнал»"].organization_id == f"kz-bin-{SUPPLIER_BIN}"  # by BIN
    assert parties["ТОО «Тест Журнал»"].match_rule == "bin"
    assert parties["Управление образования Тестовой области"].organization_id is None  # unresolved, name kept
    ppp = one(engine, PPPAgreement, id="curated-test-ppp-2021")
    assert (ppp.competitive, ppp.term_months, ppp.private_partner_name) == (True, 144, "ТОО «Тест ГЧП»")
    role = one(engine, Role, role="founder_and_ceo")
    assert role.organization_id == f"kz-bin-{SUPPLIER_BIN}"
    assert role.start_date == date(2019, 5, 1)
    assert one(engine, Person, id=role.person_id).display_name == "Тестов Тест Тестович"
    # PPP import rows
    imported = one(engine, PPPAgreement, id="import-ГЧП-001")
    assert imported.origin == "registry_import"
    assert imported.source_row == 4
    assert imported.private_partner_bin == STAT_BIN
    assert imported.amount_kzt is not None
    # stat.gov.kz card: filled organization and its director; the not-found answer changes nothing
    org = one(engine, Organization, id=f"kz-bin-{SABAQ_BIN}")
    assert (org.registered_on, org.kato, org.region_kato, org.oked) == (
        date(2019, 6, 21),
        "351010000",
        "35",
        "62010",
    )
    director = one(engine, Role, organization_id=f"kz-bin-{SABAQ_BIN}", role="director")
    assert one(engine, Person, id=director.person_id).display_name == "Саба Лаб Тестович"
    assert count(engine, Organization, id="kz-bin-091240005006") == 0
    # gov.kz: a new memorandum, a reference attached to it, an unrelated text ignored
    news = one(engine, Memorandum, id="govkz-news-501")
    assert news.signed_on == date(2026, 1, 15)
    assert news.publisher_slug == "karaganda-bilim"
    sabaq = [p for p in _parties(engine, "govkz-news-501") if "SabaqLab" in p.name]
    assert sabaq[0].organization_id == f"kz-bin-{SABAQ_BIN}"
    assert sabaq[0].match_rule == "name_norm"
    ref = one(engine, Document, id="govkz-news-502-ru")
    assert (ref.memorandum_id, ref.relation) == ("govkz-news-501", "refers_to")
    assert count(engine, Memorandum, id="govkz-news-502") == 0  # a reference never creates a memorandum
    assert one(engine, Document, id="govkz-news-501-ru").relation == "announces"
    assert len(news.evidence_raw_ids) == 2
    assert count(engine, Document, id="govkz-news-503-ru") == 0
    # gov.kz curator → person + official role on the publishing body
    official = one(engine, Role, role="official")
    assert official.title == "Руководитель управления образования"
    assert official.organization_id == "govkz-almaty-edu"  # no organization with the body's name: created
    assert one(engine, Organization, id="govkz-almaty-edu").kind == "public_body"


def _parties(engine: Engine, memo_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(MemorandumParty)
                .where(MemorandumParty.memorandum_id == memo_id)
                .order_by(MemorandumParty.position)
            )
        )


def test_engagements_of_every_instrument(engine: Engine, tmp_path: Path) -> None:
    _scenario(engine, tmp_path)
    run_build(engine)
    with engine.connect() as conn:
        rows = {e.id: e for e in conn.execute(select(Engagement))}
    assert rows["ppp-curated-test-ppp-2021"].instrument == "ppp_agreement"
    assert rows["ppp-curated-test-ppp-2021"].competitive is True
    assert rows["ppp-curated-test-ppp-2021"].source_url == "https://example.invalid/ppp"
    direct = rows["ppp-import-ГЧП-002"]  # «Прямые переговоры»: not competitive
    assert (direct.instrument, direct.competitive) == ("ppp_agreement", False)
    memo = rows["memorandum-curated-test-memo-2025"]
    assert (memo.instrument, memo.competitive) == ("memorandum", False)
    assert (memo.provider_id, memo.buyer_name) == (
        f"kz-bin-{SUPPLIER_BIN}",
        "Управление образования Тестовой области",
    )
    # the same provider also holds a contract: both engagements stand side by side
    contract_row = next(e for e in rows.values() if e.instrument == "procurement_contract")
    assert contract_row.provider_id == memo.provider_id
    news = rows["memorandum-govkz-news-501"]
    assert news.provider_id == f"kz-bin-{SABAQ_BIN}"
    assert news.source_url.endswith("/501?lang=ru")
    donation = rows["curated-test-donation"]
    assert (donation.instrument, donation.provider_name, donation.buyer_name) == (
        "donation", "ТОО «Тест Даритель»", "Школа № 1 (тест)")  # fmt: skip
    none_found = rows["curated-test-switch-none"]
    assert (none_found.instrument, none_found.competitive) == ("none_found", False)
    assert none_found.provider_name == "ТОО «Без Договора»"
    assert "curated-test-launch-covered" not in rows  # the PPP covers that buyer–provider pair
    assert {e.instrument for e in rows.values()} == {
        "procurement_contract", "ppp_agreement", "memorandum", "donation", "none_found"}  # fmt: skip
    assert all(e.evidence_raw_ids for e in rows.values())


def test_incremental_and_idempotent(engine: Engine, tmp_path: Path) -> None:
    _scenario(engine, tmp_path)
    run_build(engine)
    before = dump_tables(engine)
    report = run_build(engine)
    assert report.instrument_records == 0
    assert report.instrument_engagements == 0
    assert dump_tables(engine) == before
    # a new raw record: only it is read; a contract for the none_found pair would now cover it
    insert_source(
        engine, "curated", "donation", "late-donation",
        {"id": "late-donation", "kind": "donation", "fictional": True, "parties": [{"name": "A", "role": "donor"}],
         "date": "2026-05-01", "summary": "s", "source_url": "https://example.invalid/late", "language": "ru",
         "retrieved_on": "2026-11-01"},
        "https://example.invalid/late",
    )  # fmt: skip
    report = run_build(engine)
    assert report.instrument_records == 1
    assert count(engine, Engagement, id="curated-late-donation") == 1
    assert count(engine, Engagement, instrument="none_found") == 1


def test_curator_maps_to_existing_body_by_name(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            Organization.__table__.insert(),
            {"id": f"kz-bin-{CUSTOMER_BIN}", "bin": CUSTOMER_BIN, "name_ru": "Управление образования города Алматы",
             "name_norm": "управление образования города алматы", "is_fictional": True},
        )  # fmt: skip
    insert_source(
        engine, "govkz", "govkz_curator", "778:ru",
        {"id": 778, "lastname": "Тестов", "name": "Ерлан", "position": "Заместитель руководителя"},
        f"{GOVKZ_API}/curators?projects=almaty-edu&size=100",
    )  # fmt: skip
    run_build(engine)
    assert one(engine, Role, role="official").organization_id == f"kz-bin-{CUSTOMER_BIN}"


# ---------------------------------------------------------------------------------------------- export


def test_export_memoranda(
    db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scenario(engine, tmp_path)
    run_build(engine)
    out = tmp_path / "memoranda.csv"
    monkeypatch.setenv("ASHYQ_DATABASE_URL", db_url)
    result = CliRunner().invoke(cli, ["export", "memoranda", "-o", str(out)])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert tuple(rows[0]) == COLUMNS
    by_id = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    assert set(by_id) == {"curated-test-memo-2025", "govkz-news-501"}
    curated = by_id["curated-test-memo-2025"]
    assert curated["parties"] == "Управление образования Тестовой области | ТОО «Тест Журнал»"
    assert curated["party_bins"] == f" | {SUPPLIER_BIN}"
    assert curated["signed_on"] == "2025-09-01"
    assert curated["language"] == "ru"
    assert SABAQ_BIN in by_id["govkz-news-501"]["party_bins"]
    assert export_memoranda(engine, out) == 2


NEW_MEMO_KK = (
    "<p>2026 жылғы 15 қаңтарда Қарағанды облысының білім басқармасы мен «SabaqLab» ЖШС арасында ынтымақтастық "
    "туралы меморандумға қол қойылды.</p><p>Құжат облыс мектептерінде ҰБТ-ға дайындықты көздейді.</p>"
)
OTHER_SAME_DAY = (
    "<p>15 января 2026 года между Управлением образования Карагандинской области и ТОО «Дарын Тест» подписан "
    "меморандум о сотрудничестве по олимпиадной подготовке.</p>"
)


def all_rows(engine: Engine, model: type) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(model.__table__)).all())  # type: ignore[attr-defined]


def test_one_signing_told_twice_is_one_memorandum(engine: Engine) -> None:
    ru = govkz_news(engine, 601, "2026-01-15T09:00:00.000+00:00", "Подписан меморандум с SabaqLab", NEW_MEMO)
    kk = insert_source(
        engine, "govkz", "govkz_news", "602:kk",
        {"id": 602, "created_date": "2026-01-15T09:30:00.000+00:00", "title": "SabaqLab-пен меморандум",
         "body": NEW_MEMO_KK, "projects": ["karaganda-bilim"]},
        f"{GOVKZ_API}/news?projects=eq:karaganda-bilim&page=1&size=100",
        "http://127.0.0.1:8766/memleket/entities/karaganda-bilim/press/news/details/602?lang=kk",
    )  # fmt: skip
    govkz_news(engine, 603, "2026-01-15T10:00:00.000+00:00", "Меморандум с Дарын Тест", OTHER_SAME_DAY)
    run_build(engine)
    memos = {m.id: m for m in all_rows(engine, Memorandum)}
    assert set(memos) == {"govkz-news-601", "govkz-news-603"}  # the Kazakh release is the same signing
    assert set(memos["govkz-news-601"].evidence_raw_ids) == {ru, kk}
    before = {m.id: list(m.evidence_raw_ids) for m in all_rows(engine, Memorandum)}
    run_build(engine)
    assert {m.id: list(m.evidence_raw_ids) for m in all_rows(engine, Memorandum)} == before


# ------------------------------------------------------------------ session 2: linking, refs, donations, signatories
DEMO_DEPT_BIN = "111040616524"  # invented, as in the demo scenario's style
DEMO_DEPT = {"id": f"kz-bin-{DEMO_DEPT_BIN}", "bin": DEMO_DEPT_BIN, "kind": "public_body",
             "name_ru": 'ГУ "Управление образования Карагандинской области (демо)"',
             "name_kk": '"Қарағанды облысының білім басқармасы (демо)" ММ',
             "name_norm": "гу управление образования карагандинской области демо", "is_fictional": True}
SIGNED_KK = (
    "<p>Бүгін Қарағанды облысының білім басқармасымен «SabaqLab» ЖШС ынтымақтастық туралы меморандумға қол "
    "қойды.</p><p>Меморандумға Қарағанды облысының білім басқармасының басшысы Тестова Алия Тестовна және "
    "«SabaqLab» ЖШС директоры Саба Лаб Тестович қол қойды.</p>"
)
DONATION_RU = (
    "<p>ТОО «SabaqLab» безвозмездно передало управлению образования Карагандинской области 300 лицензий на "
    "программное обеспечение.</p>"
)


def _orgs(engine: Engine, *rows: dict[str, Any]) -> None:
    with engine.begin() as conn:
        for row in rows:
            conn.execute(table_of(Organization).insert(), row)


def test_oblique_and_kazakh_party_names_link_to_the_demo_department_only_for_fictional_texts(engine: Engine) -> None:
    _orgs(engine, DEMO_DEPT, {"id": f"kz-bin-{SABAQ_BIN}", "bin": SABAQ_BIN, "kind": "company",
                              "name_ru": 'ТОО "SabaqLab"', "name_norm": "тоо sabaqlab", "is_fictional": True})
    kk = insert_source(
        engine, "govkz", "govkz_news", "701:kk",
        {"id": 701, "created_date": "2026-02-02T06:00:00.000+00:00", "title": "SabaqLab-пен меморандум",
         "body": SIGNED_KK, "projects": ["karaganda-bilim"]},
        f"{GOVKZ_API}/news?projects=eq:karaganda-bilim&page=1&size=100",
        "http://127.0.0.1:8766/memleket/entities/karaganda-bilim/press/news/details/701?lang=kk",
    )  # fmt: skip
    # the same words on the real site must not find the demo body (fictional and real keys never meet)
    insert_source(
        engine, "govkz", "govkz_news", "702:ru",
        {"id": 702, "created_date": "2026-02-03T06:00:00.000+00:00", "title": "Меморандум с ТОО «Дарын Тест»",
         "body": OTHER_SAME_DAY, "projects": ["karaganda-bilim"]},
        "https://www.gov.kz/api/v1/public/content-manager/news?projects=eq:karaganda-bilim",
    )  # fmt: skip
    run_build(engine)
    by_name = {p.name: p for p in _parties(engine, "govkz-news-701")}
    dept = by_name["Қарағанды облысының білім басқармасымен"]
    assert (dept.organization_id, dept.match_rule) == (DEMO_DEPT["id"], "name_key")
    assert by_name["«SabaqLab» ЖШС"].organization_id == f"kz-bin-{SABAQ_BIN}"
    assert by_name["«SabaqLab» ЖШС"].match_rule == "legal_form"
    real = [p for p in _parties(engine, "govkz-news-702") if "Управлением" in p.name]
    assert real[0].organization_id is None
    # signatories: persons with role `signatory` on their own party's organization, tied to the record
    signers = {r.title: r for r in all_rows(engine, Role) if r.role == "signatory"}
    assert signers["басшысы"].organization_id == DEMO_DEPT["id"]
    assert signers["директоры"].organization_id == f"kz-bin-{SABAQ_BIN}"
    assert {r.raw_record_id for r in signers.values()} == {kk}
    assert one(engine, Person, id=signers["басшысы"].person_id).display_name == "Тестова Алия Тестовна"
    before = dump_tables(engine)
    run_build(engine)
    assert dump_tables(engine)["roles"] == before["roles"]


def test_signatory_is_the_person_already_known_at_that_organization(engine: Engine) -> None:
    _orgs(engine, DEMO_DEPT)
    insert_source(
        engine, "govkz", "govkz_curator", "779:ru",
        {"id": 779, "lastname": "Тестова", "name": "Алия", "middlename": "Тестовна",
         "position": "Руководитель управления образования"},
        f"{GOVKZ_API}/curators?projects=karaganda-bilim&size=100",
    )  # fmt: skip
    run_build(engine)
    govkz_news(engine, 703, "2026-02-04T06:00:00.000+00:00", "Меморандум", (
        "<p>Руководитель управления образования Карагандинской области Тестова Алия Тестовна и директор ТОО "
        "«Пример Софт» Примеров Пример Примерович подписали меморандум о сотрудничестве.</p>"))
    run_build(engine)
    signer = one(engine, Role, role="signatory", organization_id=DEMO_DEPT["id"])
    assert signer.person_id == "govkz-person-779"  # the curator, not a second person of the same name
    assert signer.title == "Руководитель"


def test_curators_of_a_demo_department_slug_join_its_goszakup_organization(engine: Engine) -> None:
    _orgs(engine, DEMO_DEPT)
    insert_source(
        engine, "govkz", "govkz_curator", "780:ru",
        {"id": 780, "lastname": "Тестов", "name": "Ерлан", "position": "Заместитель руководителя"},
        f"{GOVKZ_API}/curators?projects=karaganda-bilim&size=100",
    )  # fmt: skip
    run_build(engine)
    assert one(engine, Role, role="official").organization_id == DEMO_DEPT["id"]
    assert count(engine, Organization, id="govkz-karaganda-bilim") == 0  # no second organization for one body


def test_engagements_name_their_instrument_rows(engine: Engine, tmp_path: Path) -> None:
    _scenario(engine, tmp_path)
    run_build(engine)
    rows = [e for e in all_rows(engine, Engagement) if e.instrument != "procurement_contract"]
    assert rows
    tables = {"memorandum": Memorandum, "ppp_agreement": PPPAgreement}
    for e in rows:
        assert e.instrument_ref is not None, e.id
        model = tables.get(e.instrument, CuratedFact)
        if e.id.startswith("curated-"):
            model = CuratedFact
        assert count(engine, model, id=e.instrument_ref) == 1, (e.id, e.instrument_ref)
    assert {e.instrument_ref for e in rows if e.instrument == "memorandum"} >= {"govkz-news-501"}


def test_a_donation_release_is_a_donation_engagement_not_a_memorandum(
    db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _orgs(engine, DEMO_DEPT, {"id": f"kz-bin-{SABAQ_BIN}", "bin": SABAQ_BIN, "kind": "company",
                              "name_ru": 'ТОО "SabaqLab"', "name_norm": "тоо sabaqlab", "is_fictional": True})
    govkz_news(engine, 704, "2026-03-02T06:00:00.000+00:00", "Школам переданы лицензии", DONATION_RU)
    govkz_news(engine, 705, "2026-03-03T06:00:00.000+00:00", "Планы", (
        "<p>ТОО «Пример Софт» планирует безвозмездно передать школам ноутбуки.</p>"))
    run_build(engine)
    gift = one(engine, Memorandum, id="govkz-news-704")
    assert gift.instrument == "donation"
    assert count(engine, Memorandum, id="govkz-news-705") == 0  # a planned gift is no donation
    parties = {p.role: p for p in _parties(engine, "govkz-news-704")}
    assert parties["donor"].organization_id == f"kz-bin-{SABAQ_BIN}"
    assert parties["recipient"].organization_id == DEMO_DEPT["id"]
    engagement = one(engine, Engagement, instrument="donation")
    assert (engagement.instrument_ref, engagement.provider_id, engagement.buyer_id) == (
        "govkz-news-704", f"kz-bin-{SABAQ_BIN}", DEMO_DEPT["id"])
    assert engagement.competitive is False
    out = tmp_path / "memoranda.csv"
    assert export_memoranda(engine, out) == 0  # the memoranda export leaves donations out
