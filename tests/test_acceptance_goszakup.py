"""Issue 2's acceptance check, end to end through the public commands, on SQLite and PostgreSQL.

Against a goszakup-compatible server (the simulator) with 5% of requests failing transiently,
`ashyq crawl goszakup --since 2024-01-01 --until 2025-12-31`, `ashyq build` and `ashyq export engagements`
reproduce every contract signed in the window exactly once, with the right legal basis, competitive flag,
buyer BIN, provider BIN or IIN, amount (latest version, with VAT when given) and signing date; a second crawl
and build change nothing; a wrong token gives one clear error line and a non-zero exit.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawlers.simulator.server import SimulatorServer
from entities.db import make_engine
from entities.models import Engagement, Quarantine, RawRecord

pytestmark = pytest.mark.slow

ASHYQ = str(Path(sys.executable).with_name("ashyq"))
TOKEN = "0123456789abcdef0123456789abcdef"
SINCE, UNTIL = "2024-01-01", "2025-12-31"


def ashyq(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ASHYQ, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def table_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = {
            "raw": conn.execute(select(func.count()).select_from(RawRecord)).scalar_one(),
            "engagements": conn.execute(select(func.count()).select_from(Engagement)).scalar_one(),
            "quarantine": conn.execute(select(func.count()).select_from(Quarantine)).scalar_one(),
        }
    engine.dispose()
    return counts


def test_crawl_build_export_reproduce_the_window(db_url: str, tmp_path: Path) -> None:
    with SimulatorServer(scenario="demo", token=TOKEN, fault_rate=0.05, seed=11, stall_seconds=3.0) as sim:
        env = {
            **os.environ,
            "ASHYQ_DATABASE_URL": db_url,
            "GOSZAKUP_TOKEN": TOKEN,
            "ASHYQ_GOSZAKUP_URL": sim.url,
            "ASHYQ_GOSZAKUP_DELAY": "0",
        }
        crawl = ["crawl", "goszakup", "--since", SINCE, "--until", UNTIL, "--job-dir", str(tmp_path / "job")]
        first = ashyq(crawl, env)
        assert first.returncode == 0, first.stderr[-3000:]
        assert sim.request_count > 0
        built = ashyq(["build"], env)
        assert built.returncode == 0, built.stderr[-3000:]
        out = tmp_path / "engagements.csv"
        exported = ashyq(["export", "engagements", "-o", str(out)], env)
        assert exported.returncode == 0, exported.stderr[-3000:]
        before = table_counts(db_url)
        first_bytes = out.read_bytes()

        # A second crawl (fresh job dir) and build change nothing.
        again = ashyq([*crawl[:-1], str(tmp_path / "job2")], env)
        assert again.returncode == 0, again.stderr[-3000:]
        assert ashyq(["build"], env).returncode == 0
        assert ashyq(["export", "engagements", "-o", str(out)], env).returncode == 0
        assert table_counts(db_url) == before
        assert out.read_bytes() == first_bytes
        truth = sim.scenario.truth_rows(SINCE, UNTIL)
        faults = sim.fault_counts
        sim_url = sim.url

    assert sum(faults.values()) > 0, "the run must actually have met transient faults"
    assert first_bytes.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(first_bytes.decode("utf-8-sig").splitlines()))
    by_root = {int(r["engagement_id"].rsplit("-", 1)[1]): r for r in rows}
    assert len(by_root) == len(rows), "an engagement appears twice"
    assert set(by_root) == {t.root_id for t in truth}
    for t in truth:
        row = by_root[t.root_id]
        got = (row["legal_basis"], row["competitive"], row["buyer_bin"], row["provider_bin"])
        assert got == (t.legal_basis, "true" if t.competitive else "false", t.customer_bin, t.supplier_biin), t
        assert Decimal(row["amount_kzt"]) == t.amount, t
        assert row["signed_on"] == t.signed_on.isoformat(), t  # type: ignore[union-attr]
        assert row["region_kato"] == t.region, t
        # Fictional records link to the simulator's portal pages, never to goszakup.gov.kz.
        assert row["source_url"] == f"{sim_url}/ru/egzcontract/cpublic/show/{row['engagement_id'].rsplit('-', 1)[1]}", t


def test_wrong_token_is_one_clear_error(db_url: str, tmp_path: Path) -> None:
    with SimulatorServer(scenario="demo", token=TOKEN) as sim:
        env = {
            **os.environ,
            "ASHYQ_DATABASE_URL": db_url,
            "GOSZAKUP_TOKEN": "ffffffffffffffffffffffffffffffff",
            "ASHYQ_GOSZAKUP_URL": sim.url,
            "ASHYQ_GOSZAKUP_DELAY": "0",
        }
        result = ashyq(["crawl", "goszakup", "--since", SINCE, "--until", SINCE, "--job-dir", str(tmp_path / "j")], env)
    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr
    assert "token" in error_lines[0].lower()
    assert "ffffffff" not in result.stderr + result.stdout, "the token must never be printed"
    assert table_counts(db_url)["raw"] == 0
