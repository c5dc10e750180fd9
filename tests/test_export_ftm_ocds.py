"""FollowTheMoney, OCDS and JSON exports (issue 5), on SQLite and PostgreSQL.

The main test crawls the fictional demo scenario from the simulator once per module (the real spiders, as
`ashyq demo` does), copies the raw store into each backend, builds there, exports, and checks the files with
the reference tools: `followthemoney` for FtM lines, `jsonschema` against the official OCDS 1.1.5 schema for
the release package. Smaller tests use hand-made goszakup records with hostile names.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import secrets
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fixtures.raw.goszakup_raw import IP_IIN, contract, insert_raw, saved, trd_buy
from followthemoney import model
from sqlalchemy import Engine, func, insert, select

from crawlers.simulator.server import SimulatorServer
from entities.db import make_engine
from entities.migrate import upgrade
from entities.models import (
    Contract,
    ContractUnit,
    CrawlRun,
    Engagement,
    Memorandum,
    Organization,
    Person,
    PPPAgreement,
    RawRecord,
    Role,
)
from pipeline.build import run_build
from pipeline.cli import main as cli
from pipeline.curated import CURATED_DIR
from pipeline.demo import DEMO_WINDOW, write_demo_ppp_sheet
from pipeline.export import COLUMNS, csv_cell, export_engagements
from pipeline.export_ftm import export_ftm, ftm_id, role_schema
from pipeline.export_json import FICTIONAL_PUBLISHER, export_engagements_json, export_entities_json
from pipeline.export_ocds import (
    OCID_PREFIX,
    _merge_patch,
    export_ocds,
    package_validator,
    release_schema,
    validate_package,
)
from pipeline.raw_import import import_ppp_raw, load_curated_raw
from pipeline.resolution import export_entities

ASHYQ = str(Path(sys.executable).with_name("ashyq"))
HOSTILE = 'ТОО «Ёлка» "</script><script>alert(1)</script>" & \'x\' \\ 🙂 ${jndi} ; DROP TABLE'
IP_NAME = f"ИП Сарыарка Сервис {IP_IIN}"  # goszakup often repeats an entrepreneur's IIN in the name


# ------------------------------------------------------------------------------------------ helpers


def _count(engine: Engine, model_: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model_).where(*where)).scalar_one()


def _ftm_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _check_ftm(entities: list[dict[str, Any]]) -> dict[str, Any]:
    """Every line is a valid FtM entity with provenance; ids unique; every reference resolves in the file."""
    proxies = {}
    for data in entities:
        proxy = model.get_proxy(data, cleaned=False)
        assert proxy.schema.validate(data) is None, data
        for prop in proxy.schema.required:
            assert proxy.get(prop), (prop, data)
        assert proxy.get("sourceUrl"), data
        assert proxy.get("publisher"), data
        assert proxy.id not in proxies
        proxies[proxy.id] = proxy
    for proxy in proxies.values():
        for prop, value in proxy.itervalues():
            if prop.type.name == "entity":
                assert value in proxies, (proxy.schema.name, prop.name, value)
    return proxies


def _iins(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {v for v in conn.execute(select(Organization.iin)).scalars() if v}


# ---------------------------------------------------------------------------- the demo, end to end


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo scenario crawled once by the real spiders (goszakup, gov.kz, stat.gov.kz) + curated + PPP sheet."""
    root = tmp_path_factory.mktemp("demo_raw")
    url = f"sqlite:///{root / 'raw.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    token = secrets.token_hex(16)
    with SimulatorServer(scenario="demo", token=token, port=0) as sim:
        env = {
            **os.environ, "ASHYQ_DATABASE_URL": url, "GOSZAKUP_TOKEN": token,
            "ASHYQ_GOSZAKUP_URL": sim.url, "ASHYQ_GOVKZ_URL": sim.url, "ASHYQ_STATGOV_URL": sim.url,
            "ASHYQ_GOSZAKUP_DELAY": "0", "ASHYQ_GOVKZ_DELAY": "0", "ASHYQ_STATGOV_DELAY": "0",
        }

        def crawl(*args: str) -> None:
            done = subprocess.run([ASHYQ, "crawl", *args], env=env, capture_output=True, text=True, timeout=600,
                                  check=False)
            assert done.returncode == 0, done.stderr[-3000:]

        crawl("goszakup", "--since", DEMO_WINDOW["since"], "--until", DEMO_WINDOW["until"])
        crawl("govkz", "--slugs", "all")
        load_curated_raw(engine, CURATED_DIR)
        import_ppp_raw(engine, write_demo_ppp_sheet(sim.url, root / "ppp.csv"))
        run_build(engine)  # stat.gov.kz is asked about the BINs the build has seen
        crawl("statgov")
    engine.dispose()
    return url


def _copy_raw(source_url: str, target: Engine) -> None:
    """The raw store (and its crawl runs) into a fresh database: what a crawl there would have stored."""
    source = make_engine(source_url)
    with source.connect() as src, target.begin() as dst:
        for table in (CrawlRun.__table__, RawRecord.__table__):
            rows = [dict(r._mapping) for r in src.execute(select(table).order_by(table.c.id))]
            for start in range(0, len(rows), 1000):
                dst.execute(insert(table), rows[start:start + 1000])
    source.dispose()


@pytest.mark.slow
def test_demo_exports_validate_and_match_the_database(
    demo_raw: str, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    _copy_raw(demo_raw, engine)
    run_build(engine)
    contracts_n = _count(engine, Engagement, Engagement.instrument == "procurement_contract")
    assert contracts_n > 100

    # ---- FtM
    ftm_path = tmp_path / "demo.ftm.json"
    report = export_ftm(engine, ftm_path)
    lines = _ftm_lines(ftm_path)
    assert len(lines) == report.total
    proxies = _check_ftm(lines)
    by_schema = Counter(p.schema.name for p in proxies.values())
    stubs = sum(1 for p in proxies.values() if any("Not resolved" in n for n in p.get("notes", quiet=True)))
    assert by_schema["Company"] + by_schema["PublicBody"] + by_schema["Organization"] - stubs == _count(
        engine, Organization
    )
    assert by_schema["Person"] == _count(engine, Person)
    assert by_schema["Contract"] == contracts_n + _count(engine, PPPAgreement) + _count(engine, Memorandum)
    with engine.connect() as conn:
        role_groups = conn.execute(
            select(func.count()).select_from(
                select(Role.person_id, Role.organization_id, Role.role)
                .group_by(Role.person_id, Role.organization_id, Role.role).subquery()
            )
        ).scalar_one()
        public_bodies = conn.execute(
            select(func.count()).select_from(Organization).where(Organization.kind == "public_body")
        ).scalar_one()
        sample = conn.execute(
            select(Engagement).where(Engagement.instrument == "procurement_contract").order_by(Engagement.id)
        ).first()
    assert sum(by_schema[s] for s in ("Directorship", "Employment", "Membership", "Ownership")) + sum(
        1 for p in proxies.values() if p.schema.name == "UnknownLink" and p.get("subject")
        and proxies[p.first("subject")].schema.name == "Person"
    ) == role_groups
    assert by_schema["PublicBody"] == public_bodies
    assert sample is not None
    deal = proxies[ftm_id("engagement", sample.id)]
    assert deal.schema.name == "Contract"
    assert Decimal(deal.first("amount")) == sample.amount_kzt
    assert deal.get("currency") == ["KZT"]
    assert deal.get("authority") == [ftm_id("organization", sample.buyer_id)]
    award = proxies[ftm_id("award", sample.id)]
    assert award.get("supplier") == [ftm_id("organization", sample.provider_id)]
    assert sample.source_url in award.get("sourceUrl")
    # Demo rows are fictional by provenance and say so; the curated (real, cited) facts do not.
    publishers = Counter(p.first("publisher") for p in proxies.values())
    assert publishers[FICTIONAL_PUBLISHER] > 0
    assert publishers["Ashyq curated facts"] > 0
    text = ftm_path.read_text(encoding="utf-8")
    for iin in _iins(engine):
        assert iin not in text
    with engine.connect() as conn:
        for hashed in conn.execute(select(Person.iin_hash).where(Person.iin_hash.is_not(None)).limit(50)).scalars():
            assert hashed not in text

    # ---- OCDS
    ocds_path = tmp_path / "demo.ocds.json"
    ocds = export_ocds(engine, ocds_path)
    assert validate_package(ocds_path) == []
    package = json.loads(ocds_path.read_text(encoding="utf-8"))
    assert list(package_validator().iter_errors(package)) == []  # the whole document, not line by line
    releases = package["releases"]
    assert len(releases) == ocds.releases == contracts_n
    assert len({r["ocid"] for r in releases}) == len(releases)
    assert all(r["ocid"].startswith(OCID_PREFIX + "-") for r in releases)
    for release in releases:
        urls = release["x_ashyq"]["sourceUrls"]
        assert urls
        assert all(u.startswith("http") for u in urls)
        assert release["tender"]["legalBasis"]["id"]
    with engine.connect() as conn:
        versions = dict(conn.execute(
            select(Contract.root_id, func.count()).group_by(Contract.root_id).having(func.count() > 1)
        ).all())
    amended = [r for r in releases if r["contracts"][0].get("amendments")]
    assert amended
    assert versions
    for release in amended:
        root = int(release["contracts"][0]["id"])
        assert len(release["contracts"][0]["amendments"]) == versions[root] - 1
        assert "contractAmendment" in release["tag"]
    with engine.connect() as conn:
        single = conn.execute(
            select(Engagement.contract_root_id).where(Engagement.legal_basis == "single_source").limit(1)
        ).scalar_one()
    direct = next(r for r in releases if r["contracts"][0]["id"] == str(single))
    assert direct["tender"]["procurementMethod"] == "direct"
    assert any(any("tenderer" in p["roles"] for p in r["parties"]) for r in releases)

    # ---- JSON variants agree with the CSVs
    csv_path, json_path = tmp_path / "e.csv", tmp_path / "e.json"
    assert export_engagements_json(engine, json_path) == export_engagements(engine, csv_path)
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["columns"] == list(COLUMNS)
    assert len(doc["engagements"]) == len(csv_rows)
    for row, from_csv in zip(doc["engagements"], csv_rows, strict=True):
        assert list(row) == list(COLUMNS)
        assert {k: csv_cell(Decimal(v) if k == "amount_kzt" and v else v) for k, v in row.items()} == from_csv
    ent_csv, ent_json = tmp_path / "ent.csv", tmp_path / "ent.json"
    assert export_entities_json(engine, ent_json) == export_entities(engine, ent_csv)
    with ent_csv.open(encoding="utf-8-sig", newline="") as fh:
        ent_rows = list(csv.DictReader(fh))
    ents = json.loads(ent_json.read_text(encoding="utf-8"))["entities"]
    assert [e["entity_id"] for e in ents] == [r["entity_id"] for r in ent_rows]
    assert [e["name"] for e in ents] == [r["name"] for r in ent_rows]
    assert [e["mention_count"] for e in ents] == [int(r["mention_count"]) for r in ent_rows]

    # ---- CLI
    runner = CliRunner()
    env = {"ASHYQ_DATABASE_URL": db_url}
    out = runner.invoke(cli, ["export", "ocds", "-o", str(tmp_path / "cli.json"), "--validate"], env=env)
    assert out.exit_code == 0, out.output
    assert "valid against" in out.output
    assert "placeholder" in out.output
    out = runner.invoke(cli, ["export", "ftm", "-o", str(tmp_path / "cli.ftm.json")], env=env)
    assert out.exit_code == 0, out.output
    assert (tmp_path / "cli.ftm.json").read_bytes() == ftm_path.read_bytes()
    for what, written in (("engagements", json_path), ("entities", ent_json)):  # `--format json` = the writers
        target = tmp_path / f"cli-{what}.json"
        out = runner.invoke(cli, ["export", what, "--format", "json", "-o", str(target)], env=env)
        assert out.exit_code == 0, out.output
        assert target.read_bytes() == written.read_bytes()


# ------------------------------------------------------------------------------ hostile names, small DB


@pytest.fixture
def hostile(engine: Engine) -> Engine:
    """A tender with a hostile supplier name and an amendment, and a direct award to an entrepreneur whose
    name repeats the IIN."""
    supplier = {**saved("contract")["Supplier"], "nameRu": HOSTILE}
    insert_raw(engine, "contract", contract(9000101, Supplier=supplier, descriptionRu=HOSTILE))
    insert_raw(engine, "contract", contract(9000155, 9000101, Supplier=supplier, contractSumWnds=1500000,
                                            descriptionRu=HOSTILE))
    insert_raw(engine, "trd_buy", trd_buy())
    ip_card = {k: v for k, v in saved("subject_ip").items() if k in saved("contract")["Supplier"]}
    ip_card["nameRu"] = IP_NAME
    insert_raw(engine, "contract", contract(
        900020, trdBuyId=0, faktTradeMethodsId=23, supplierBiin=IP_IIN, Supplier=ip_card, supplierFio=None,
    ))
    run_build(engine)
    return engine


def test_hostile_names_survive_and_iins_never_leak(hostile: Engine, tmp_path: Path) -> None:
    with hostile.connect() as conn:
        stored = conn.execute(select(Organization.name_ru).where(Organization.name_ru.contains("alert(1)"))).scalar_one()
    assert "</script>" in stored

    ftm_path = tmp_path / "h.ftm.json"
    export_ftm(hostile, ftm_path)
    proxies = _check_ftm(_ftm_lines(ftm_path))
    assert stored in {p.first("name") for p in proxies.values() if p.schema.is_a("LegalEntity")}
    assert HOSTILE in {p.first("title") for p in proxies.values() if p.schema.name == "Contract"}
    text = ftm_path.read_text(encoding="utf-8")
    assert IP_IIN not in text
    assert IP_IIN[:4] + "•" * 8 in text  # the entrepreneur's name is kept, the number masked

    ocds_path = tmp_path / "h.ocds.json"
    report = export_ocds(hostile, ocds_path)
    assert report.releases == 2
    assert report.amendments == 1
    assert validate_package(ocds_path) == []
    releases = json.loads(ocds_path.read_text(encoding="utf-8"))["releases"]
    names = {p["name"] for r in releases for p in r["parties"]}
    assert stored in names
    assert IP_IIN not in ocds_path.read_text(encoding="utf-8")
    ip_release = next(r for r in releases if r["contracts"][0]["id"] == "900020")
    supplier = next(p for p in ip_release["parties"] if "supplier" in p["roles"])
    assert "identifier" not in supplier  # an IIN is never published as an identifier
    assert ip_release["tender"]["procurementMethod"] == "direct"
    assert ip_release["tag"] == ["award", "contract"]  # no announcement

    ent_path = tmp_path / "h.entities.json"
    export_entities_json(hostile, ent_path)
    assert IP_IIN not in ent_path.read_text(encoding="utf-8")
    assert stored in {e["name"] for e in json.loads(ent_path.read_text(encoding="utf-8"))["entities"]}
    eng_path = tmp_path / "h.engagements.json"
    assert export_engagements_json(hostile, eng_path) == 2
    rows = json.loads(eng_path.read_text(encoding="utf-8"))["engagements"]
    assert stored in {r["provider_name"] for r in rows}
    assert {r["competitive"] for r in rows} == {True, False}


def test_validator_rejects_broken_packages(hostile: Engine, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    export_ocds(hostile, path)
    package = json.loads(path.read_text(encoding="utf-8"))
    broken = copy.deepcopy(package)
    del broken["releases"][0]["ocid"]
    broken["releases"][1]["tender"]["procurementMethod"] = "bogus"
    broken["releases"][1]["tender"]["legalBasis"] = "a string, not a Classification"
    messages = [e.message for e in package_validator().iter_errors(broken)]
    assert len(messages) == 3, messages
    # The same through the streaming check of a file in the exporter's layout, plus the open codelists.
    lines = path.read_text(encoding="utf-8").splitlines()
    second = json.loads(lines[2])
    second["parties"][0]["roles"] = ["friend"]
    second["date"] = "yesterday"
    lines[2] = json.dumps(second, ensure_ascii=False)
    bad = tmp_path / "bad.json"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = validate_package(bad)
    assert any("'friend' not in partyRole" in e for e in errors), errors
    assert any("date" in e and "yesterday" in e for e in errors), errors


def test_release_from_engagement_alone(hostile: Engine, tmp_path: Path) -> None:
    """Contract rows missing (removed since the build): the engagement still yields a valid release."""
    with hostile.begin() as conn:
        ids = list(conn.execute(select(Contract.id).where(Contract.root_id == 900020)).scalars())
        conn.execute(ContractUnit.__table__.delete().where(ContractUnit.contract_id.in_(ids)))
        conn.execute(Contract.__table__.delete().where(Contract.id.in_(ids)))
    path = tmp_path / "p.json"
    report = export_ocds(hostile, path)
    assert (report.releases, report.from_engagement_only) == (2, 1)
    assert validate_package(path) == []
    release = next(r for r in json.loads(path.read_text(encoding="utf-8"))["releases"]
                   if r["contracts"][0]["id"] == "900020")
    with hostile.connect() as conn:
        engagement = conn.execute(select(Engagement).where(Engagement.contract_root_id == 900020)).one()
    assert Decimal(str(release["contracts"][0]["value"]["amount"])) == engagement.amount_kzt
    assert release["x_ashyq"]["sourceUrls"] == [engagement.source_url]


def test_empty_database(engine: Engine, tmp_path: Path) -> None:
    report = export_ftm(engine, tmp_path / "e.ftm.json")
    assert report.total == 0
    assert (tmp_path / "e.ftm.json").read_text(encoding="utf-8") == ""
    assert export_ocds(engine, tmp_path / "e.json").releases == 0
    assert validate_package(tmp_path / "e.json") == ["no releases: a release package needs at least one"]
    assert json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))["releases"] == []
    assert export_engagements_json(engine, tmp_path / "g.json") == 0
    assert json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))["engagements"] == []


def test_cli_ocds_on_empty_database_fails_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    out = CliRunner().invoke(cli, ["export", "ocds", "-o", str(target)], env={"ASHYQ_DATABASE_URL": db_url})
    assert out.exit_code == 1
    assert "no goszakup contracts" in out.output
    assert not target.exists()
    assert not target.with_name(target.name + ".partial").exists()
    # An earlier package at that path is left as it was, not replaced by an invalid empty one.
    target.write_text("earlier package", encoding="utf-8")
    again = CliRunner().invoke(cli, ["export", "ocds", "-o", str(target)], env={"ASHYQ_DATABASE_URL": db_url})
    assert again.exit_code == 1
    assert target.read_text(encoding="utf-8") == "earlier package"


# ------------------------------------------------------------------------------------------ pure parts


@pytest.mark.parametrize(
    ("role", "schema"),
    [
        ("head", "Directorship"),
        ("director", "Directorship"),
        ("chairman_of_the_board", "Directorship"),
        ("founder_and_ceo", "Directorship"),
        ("founder", "Ownership"),
        ("official", "Employment"),
        ("commission_member", "Membership"),
        ("signatory", "UnknownLink"),
    ],
)
def test_role_schema(role: str, schema: str) -> None:
    name, person_prop, org_prop = role_schema(role)
    assert name == schema
    assert model.get(name).get(person_prop) is not None
    assert model.get(name).get(org_prop) is not None


def test_extension_merges_into_release_schema() -> None:
    core = release_schema(with_extensions=False)
    merged = release_schema()
    assert "legalBasis" not in core["definitions"]["Tender"]["properties"]
    assert merged["definitions"]["Tender"]["properties"]["legalBasis"]["$ref"] == "#/definitions/Classification"
    # Core fields survive the patch; `null` in a patch removes a key (RFC 7386).
    assert merged["definitions"]["Tender"]["properties"]["procurementMethod"] == core["definitions"]["Tender"][
        "properties"]["procurementMethod"]
    assert _merge_patch({"a": 1, "b": {"c": 2}}, {"a": None, "b": {"d": 3}}) == {"b": {"c": 2, "d": 3}}
