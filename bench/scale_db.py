"""Create a benchmark database with N contracts (100k, 1M) from the simulator's scale scenario.

    .venv/bin/python bench/scale_db.py --contracts 1000000 --url sqlite:////work/bench-data/scale_1m.sqlite
    .venv/bin/python bench/scale_db.py --contracts 1000000 \
        --url 'postgresql+psycopg://root@127.0.0.1:5432/test?options=-csearch_path%3Dscale_1m'

What this is, and is not: it **synthesizes the canonical and derived tables directly** (organizations, persons,
roles, engagements, memoranda and their parties, PPP agreements) from `load_scenario("scale:N")`, without a
crawl and without `ashyq build`. The crawl + build throughput is measured separately (`bench/crawl_build.py`,
at 100k); this database lets the graph, flags and dashboard benchmarks time *their own* stages at a size a
crawl of the simulator would take hours to reach on two cores.

What is synthesized, and how faithfully:
* organizations: every buyer and supplier of the scenario (`kz-bin-<BIN>`, individual entrepreneurs
  `kz-ip-<keyed hash>`), with kind, region, names; one `raw_records` row per organization (the Subjects card,
  with an empty payload) so roles have the evidence row the schema requires;
* persons and roles: each organization's head (and previous head, with dates) as role `head`, its staff as
  `employee` — ids `kz-person-<keyed hash of IIN>` as the normalizer makes them;
* engagements: one per contract root of the ground truth (`Scenario.truth_rows()`: legal basis, method,
  amount, sign date, region, buyer and provider), instrument `procurement_contract`; `provider_bin` is left
  empty for individual entrepreneurs (their id is an IIN, which is never stored in clear);
* `N // 500` memoranda (a public body and a company, plus a signatory `person` role at the public body) and
  `N // 1000` PPP agreements, each with its engagement (`instrument_ref` set), invented here: the scale
  scenario has no such instruments;
* no contracts, lots, announcements or bids (the graph and flags read engagements; bids are not cheap to
  synthesize faithfully and no benchmarked stage reads them yet).

Every row is `is_fictional`; source URLs point at a loopback host, as the simulator's would. The database is
replaced if it exists (SQLite file deleted; PostgreSQL schema dropped and recreated). When done, a marker file
`/work/bench-data/<name>.sqlite.done` or `<name>.pg.done` (name = the SQLite file stem or the PG schema) is
written, with the timings, so other benchmarks can wait for it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Connection, Engine, Table, create_engine, text

from crawlers.simulator.scenario import COLLEGE, COMPANY, KINDERGARTEN, SCHOOL, UNIVERSITY, load_scenario
from entities.migrate import upgrade
from entities.models import (
    Engagement,
    Memorandum,
    MemorandumParty,
    Organization,
    Person,
    PPPAgreement,
    RawRecord,
    Role,
)
from pipeline.normalize.common import bin_org_id, iin_person_id, ip_org_id, name_norm

BENCH_DIR = Path("/work/bench-data")
BATCH = 20_000
SIM_HOST = "http://127.0.0.1:8800"  # loopback: `is_fictional_url` recognizes it as the simulator's
CONTRACT_URL = SIM_HOST + "/goszakup/contract/{id}"
_KIND = {SCHOOL: "school", COLLEGE: "school", KINDERGARTEN: "school", UNIVERSITY: "school"}


def _org_kind(org: Any) -> str:
    if org.kind == COMPANY:
        return "individual_entrepreneur" if org.kopf == "ИП" else "company"
    return _KIND.get(org.kind, "public_body")


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def _batches(rows: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _copy_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def insert_rows(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Bulk insert: PostgreSQL COPY, SQLite executemany, in batches; returns the row count."""
    count = 0
    columns = [c.name for c in table.columns]
    for batch in _batches(rows):
        cols = [c for c in columns if c in batch[0]]
        if conn.dialect.name == "postgresql":
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row([_copy_value(row[c]) for c in cols])
        else:
            conn.execute(table.insert(), batch)
        count += len(batch)
    return count


def _reset(url: str) -> tuple[Engine, str, Path]:
    """A fresh, migrated database; returns (engine, marker name, marker path)."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    parts = urlsplit(url)
    if url.startswith("sqlite"):
        path = Path(parts.path[1:] if parts.path.startswith("//") else parts.path)
        path = Path("/" + url.split(":///", 1)[1].lstrip("/")) if url.startswith("sqlite:////") else path
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        marker = BENCH_DIR / f"{path.stem}.sqlite.done"
        engine = create_engine(url)
    else:
        options = parse_qs(parts.query).get("options", [""])[0]
        schema = options.split("search_path=", 1)[1].split(",")[0] if "search_path=" in options else "public"
        marker = BENCH_DIR / f"{schema}.pg.done"
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    marker.unlink(missing_ok=True)
    upgrade(engine)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("PRAGMA journal_mode=WAL"))
    return engine, marker.stem, marker


def populate(engine: Engine, n_contracts: int, seed: int | None = None) -> dict[str, Any]:
    """Fill a migrated, empty database; returns row counts and timings."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    scenario = load_scenario(f"scale:{n_contracts}", seed)
    truth = scenario.truth_rows()
    timings["scenario"] = time.perf_counter() - t0
    orgs = scenario._orgs
    people = scenario._people
    regions = scenario.regions
    now = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)
    counts: dict[str, int] = {}

    org_ids = [bin_org_id(o.bin) if o.bin else ip_org_id(o.iin) for o in orgs]
    by_biin = {o.biin: i for i, o in enumerate(orgs)}
    person_ids: dict[int, str] = {}

    def person_id(index: int) -> str:
        if index not in person_ids:
            person_ids[index] = iin_person_id(people.iin[index])
        return person_ids[index]

    t = time.perf_counter()
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
        raws = ({"id": i + 1, "source": "goszakup", "record_type": "subject", "external_id": str(o.pid),
                 "url": f"{SIM_HOST}/goszakup/v3/subject/{o.pid}", "human_url": None, "fetched_at": now,
                 "sha256": f"{i + 1:064x}", "payload": {}, "crawl_run_id": None} for i, o in enumerate(orgs))
        counts["raw_records"] = insert_rows(conn, RawRecord.__table__, raws)  # type: ignore[arg-type]
        org_rows = ({"id": org_ids[i], "bin": o.bin, "iin": None, "kind": _org_kind(o), "legal_form": o.kopf,
                     "name_ru": o.name_ru, "name_kk": o.name_kz, "name_en": None, "name_norm": name_norm(o.name_ru),
                     "registered_on": o.regdate.date(), "kato": str(o.kato), "region_kato": regions[o.region].code2,
                     "oked": None, "parent_bin": None, "goszakup_pid": o.pid, "is_fictional": True,
                     "raw_record_id": i + 1} for i, o in enumerate(orgs))
        counts["organizations"] = insert_rows(conn, Organization.__table__, org_rows)  # type: ignore[arg-type]

        roles: list[dict[str, Any]] = []
        for i, o in enumerate(orgs):
            start = _day(max(int(o.regdate.timestamp()), 1_420_070_400))
            if o.prev_head >= 0:
                change = _day(o.head_change_ts)
                roles.append({"p": o.prev_head, "o": i, "role": "head", "start": start, "end": change})
                roles.append({"p": o.head, "o": i, "role": "head", "start": change, "end": None})
            else:
                roles.append({"p": o.head, "o": i, "role": "head", "start": start, "end": None})
            roles.extend({"p": s, "o": i, "role": "employee", "start": start, "end": None} for s in o.staff)
        persons = sorted({r["p"] for r in roles})
        counts["persons"] = insert_rows(conn, Person.__table__, (  # type: ignore[arg-type]
            {"id": person_id(p), "display_name": people.fio[p], "surname": None, "given_name": None,
             "patronymic": None, "name_norm": name_norm(people.fio[p]), "iin_hash": None, "is_fictional": True}
            for p in persons))
        counts["roles"] = insert_rows(conn, Role.__table__, (  # type: ignore[arg-type]
            {"person_id": person_id(r["p"]), "organization_id": org_ids[r["o"]], "role": r["role"],
             "title": "Руководитель" if r["role"] == "head" else "Сотрудник", "start_date": r["start"],
             "end_date": r["end"], "raw_record_id": r["o"] + 1} for r in roles))
    timings["entities"] = time.perf_counter() - t

    t = time.perf_counter()
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")

        def engagements() -> Iterator[dict[str, Any]]:
            for row in truth:
                buyer, provider = by_biin[row.customer_bin], by_biin[row.supplier_biin]
                yield {"id": f"goszakup-contract-{row.root_id}", "instrument": "procurement_contract",
                       "legal_basis": row.legal_basis, "competitive": row.competitive,
                       "trade_method_id": row.trade_method_id, "buyer_id": org_ids[buyer],
                       "buyer_bin": row.customer_bin, "buyer_name": orgs[buyer].name_ru,
                       "provider_id": org_ids[provider], "provider_bin": orgs[provider].bin,
                       "provider_name": orgs[provider].name_ru, "subject": None, "amount_kzt": row.amount,
                       "signed_on": row.signed_on, "region_kato": row.region,
                       "source_url": CONTRACT_URL.format(id=row.root_id), "contract_root_id": row.root_id,
                       "evidence_raw_ids": [buyer + 1, provider + 1], "is_fictional": True, "instrument_ref": None}

        counts["engagements"] = insert_rows(conn, Engagement.__table__, engagements())  # type: ignore[arg-type]
    timings["engagements"] = time.perf_counter() - t

    t = time.perf_counter()
    counts.update(_instruments(engine, orgs, org_ids, person_id, n_contracts, now))
    timings["instruments"] = time.perf_counter() - t
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            # COPY with explicit ids does not move the sequence: move it, so later inserts get fresh ids
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('raw_records', 'id'), "
                                 "(SELECT max(id) FROM raw_records))")
            conn.exec_driver_sql("ANALYZE")
    timings["total"] = time.perf_counter() - t0
    return {"counts": counts, "timings": {k: round(v, 1) for k, v in timings.items()}}


def _instruments(engine: Engine, orgs: Sequence[Any], org_ids: Sequence[str], person_id: Any,
                 n_contracts: int, now: datetime) -> dict[str, int]:
    """Invented memoranda (public body + company, with a signatory) and PPP agreements, with engagements."""
    r = random.Random(n_contracts)
    bodies = [i for i, o in enumerate(orgs) if o.kind != COMPANY]
    companies = [i for i, o in enumerate(orgs) if o.kind == COMPANY]
    raw_base = len(orgs)
    memo_rows, parties, memo_roles, ppp_rows, engagements, raws = [], [], [], [], [], []
    for k in range(max(1, n_contracts // 500)):
        body, company = r.choice(bodies), r.choice(companies)
        raw_id = raw_base + len(raws) + 1
        mid = f"govkz-news-bench{k}"
        url = f"{SIM_HOST}/govkz/news/{k}"
        signed = date(2023, 1, 10) + (date(2025, 12, 1) - date(2023, 1, 10)) * r.random()
        raws.append({"id": raw_id, "source": "govkz", "record_type": "news", "external_id": f"bench{k}", "url": url,
                     "human_url": url, "fetched_at": now, "sha256": f"m{raw_id:063x}", "payload": {},
                     "crawl_run_id": None})
        memo_rows.append({"id": mid, "origin": "govkz_news", "instrument": "memorandum", "title": f"Меморандум {k}",
                          "signed_on": signed, "date_basis": "published", "date_precision": "day", "subject": None,
                          "excerpt": None, "language": "ru", "source_url": url, "published_on": signed,
                          "publisher_slug": None, "region_kato": None, "evidence_raw_ids": [raw_id],
                          "is_fictional": True, "raw_record_id": raw_id})
        for pos, org in enumerate((body, company)):
            parties.append({"memorandum_id": mid, "position": pos, "name": orgs[org].name_ru, "role": None,
                            "bin": orgs[org].bin, "organization_id": org_ids[org], "match_rule": "bin",
                            "raw_record_id": raw_id})
        memo_roles.append({"person_id": person_id(orgs[body].head), "organization_id": org_ids[body],
                           "role": "signatory", "title": None, "start_date": signed, "end_date": signed,
                           "raw_record_id": raw_id})
        engagements.append({"id": f"memorandum-{mid}", "instrument": "memorandum", "legal_basis": "memorandum",
                            "competitive": False, "trade_method_id": None, "buyer_id": org_ids[body],
                            "buyer_bin": orgs[body].bin, "buyer_name": orgs[body].name_ru,
                            "provider_id": org_ids[company], "provider_bin": orgs[company].bin,
                            "provider_name": orgs[company].name_ru, "subject": None, "amount_kzt": None,
                            "signed_on": signed, "region_kato": None, "source_url": url, "contract_root_id": None,
                            "evidence_raw_ids": [raw_id], "is_fictional": True, "instrument_ref": mid})
    for k in range(max(1, n_contracts // 1000)):
        body, company = r.choice(bodies), r.choice(companies)
        raw_id = raw_base + len(raws) + 1
        pid = f"ppp-import-bench{k}"
        url = f"{SIM_HOST}/ppp/{k}"
        signed = date(2023, 1, 10) + (date(2025, 12, 1) - date(2023, 1, 10)) * r.random()
        amount = Decimal(r.randrange(10_000_000, 5_000_000_000)) / 100
        raws.append({"id": raw_id, "source": "ppp_import", "record_type": "agreement", "external_id": f"bench{k}",
                     "url": url, "human_url": url, "fetched_at": now, "sha256": f"p{raw_id:063x}", "payload": {},
                     "crawl_run_id": None})
        ppp_rows.append({"id": pid, "origin": "registry_import", "project": f"Проект ГЧП {k}", "sector": "education",
                         "level": "local", "ppp_type": None, "ppp_form": None, "selection_method": None,
                         "competitive": None, "state_partner_name": orgs[body].name_ru,
                         "state_partner_bin": orgs[body].bin, "state_partner_id": org_ids[body],
                         "private_partner_name": orgs[company].name_ru, "private_partner_bin": orgs[company].bin,
                         "private_partner_id": org_ids[company], "signed_on": signed, "term_months": 120,
                         "amount_kzt": amount, "status": "active", "region_kato": None, "contract_number": None,
                         "source_url": url, "source_file": None, "source_row": None, "raw": {}, "warnings": [],
                         "is_fictional": True, "raw_record_id": raw_id})
        engagements.append({"id": f"ppp-{pid}", "instrument": "ppp_agreement", "legal_basis": "ppp",
                            "competitive": False, "trade_method_id": None, "buyer_id": org_ids[body],
                            "buyer_bin": orgs[body].bin, "buyer_name": orgs[body].name_ru,
                            "provider_id": org_ids[company], "provider_bin": orgs[company].bin,
                            "provider_name": orgs[company].name_ru, "subject": None, "amount_kzt": amount,
                            "signed_on": signed, "region_kato": None, "source_url": url, "contract_root_id": None,
                            "evidence_raw_ids": [raw_id], "is_fictional": True, "instrument_ref": pid})
    out = {}
    with engine.begin() as conn:
        out["instrument_raw_records"] = insert_rows(conn, RawRecord.__table__, raws)  # type: ignore[arg-type]
        out["memoranda"] = insert_rows(conn, Memorandum.__table__, memo_rows)  # type: ignore[arg-type]
        out["memorandum_parties"] = insert_rows(conn, MemorandumParty.__table__, parties)  # type: ignore[arg-type]
        out["signatory_roles"] = insert_rows(conn, Role.__table__, memo_roles)  # type: ignore[arg-type]
        out["ppp_agreements"] = insert_rows(conn, PPPAgreement.__table__, ppp_rows)  # type: ignore[arg-type]
        out["instrument_engagements"] = insert_rows(conn, Engagement.__table__, engagements)  # type: ignore[arg-type]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contracts", type=int, required=True, help="contract rows of the scale scenario")
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the database to (re)create")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("ASHYQ_IIN_HASH_KEY", "bench-scale-db")
    engine, name, marker = _reset(args.url)
    result = populate(engine, args.contracts, args.seed)
    result.update({"contracts": args.contracts, "backend": engine.dialect.name, "name": name})
    marker.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
