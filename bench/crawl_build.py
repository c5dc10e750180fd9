"""Benchmark: crawl + build of a scale scenario from the simulator (issue 2, item 9).

    .venv/bin/python bench/crawl_build.py --contracts 100000 [--pg postgresql+psycopg://root@127.0.0.1:5432/test]

Steps, each run as its own `ashyq` process so wall time and peak memory (max RSS from wait4) are its own:
1. crawl the `scale:N` scenario from the simulator into SQLite (the simulator runs in this process);
2. build on SQLite;
3. with --pg: crawl the same scenario into a fresh PostgreSQL schema (setup, reported but not the target),
   then build on PostgreSQL (the figure asked for).
Prints a Markdown table (contracts per second = contract versions stored / step wall time) and writes
bench/results/crawl_build-<N>.json. Not a test: figures depend on the machine (ours: 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawlers.simulator.server import SimulatorServer  # noqa: E402
from entities.models import Engagement, RawRecord  # noqa: E402

ASHYQ = str(Path(sys.executable).with_name("ashyq"))


@dataclass
class Step:
    name: str
    backend: str
    seconds: float
    peak_rss_mb: float
    contracts: int
    raw_records: int
    engagements: int

    @property
    def contracts_per_second(self) -> float:
        return self.contracts / self.seconds if self.seconds else 0.0


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run one command; return (wall seconds, peak RSS in MB) of that process alone."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(args)} exited {code}")
    return elapsed, usage.ru_maxrss / 1024


def counts(url: str) -> tuple[int, int, int]:
    """(contract versions, raw records, engagements); contract versions counted in the raw store, so the
    crawl step, which builds nothing, has its figure too."""
    engine = create_engine(url)
    with engine.connect() as conn:
        result = (
            conn.execute(
                select(func.count()).select_from(RawRecord).where(RawRecord.record_type == "contract")
            ).scalar_one(),
            conn.execute(select(func.count()).select_from(RawRecord)).scalar_one(),
            conn.execute(select(func.count()).select_from(Engagement)).scalar_one(),
        )
    engine.dispose()
    return result


def crawl_and_build(url: str, backend: str, sim_url: str, token: str, build_only: bool) -> list[Step]:
    env = {
        **os.environ,
        "ASHYQ_DATABASE_URL": url,
        "GOSZAKUP_TOKEN": token,
        "ASHYQ_GOSZAKUP_URL": sim_url,
        "ASHYQ_GOSZAKUP_DELAY": "0",
        # Several cursor chains in flight: the simulator answers from another process's core.
        "ASHYQ_GOSZAKUP_CONCURRENCY": os.environ.get("ASHYQ_GOSZAKUP_CONCURRENCY", "4"),
    }
    steps: list[Step] = []
    job_dir = tempfile.mkdtemp(prefix="ashyq-bench-job-")
    try:
        crawl = [ASHYQ, "crawl", "goszakup", "--since", "2023-01-01", "--until", "2025-12-31", "--job-dir", job_dir]
        seconds, rss = run_measured(crawl, env)
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    c, r, e = counts(url)
    steps.append(Step("crawl" + (" (setup)" if build_only else ""), backend, seconds, rss, c, r, e))
    seconds, rss = run_measured([ASHYQ, "build"], env)
    c, r, e = counts(url)
    steps.append(Step("build", backend, seconds, rss, c, r, e))
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--pg", default=os.environ.get("ASHYQ_TEST_PG_URL", ""), help="PostgreSQL URL (optional)")
    opts = parser.parse_args()

    token = secrets.token_hex(16)
    steps: list[Step] = []
    workdir = Path(tempfile.mkdtemp(prefix="ashyq-bench-"))
    print(f"generating scale:{opts.contracts} …", flush=True)
    t0 = time.perf_counter()
    with SimulatorServer(scenario=f"scale:{opts.contracts}", token=token) as sim:
        print(f"scenario ready in {time.perf_counter() - t0:.1f} s; simulator on {sim.url}", flush=True)
        sqlite_url = f"sqlite:///{workdir / 'bench.sqlite'}"
        steps += crawl_and_build(sqlite_url, "sqlite", sim.url, token, build_only=False)
        if opts.pg:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(opts.pg)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in opts.pg else "?"
            pg_url = f"{opts.pg}{sep}options=-csearch_path%3D{schema}"
            try:
                steps += crawl_and_build(pg_url, "postgresql", sim.url, token, build_only=True)
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()
    shutil.rmtree(workdir, ignore_errors=True)

    print("\n| step | backend | wall s | contracts/s | peak RSS MB | contract versions | raw records | engagements |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for s in steps:
        print(
            f"| {s.name} | {s.backend} | {s.seconds:.1f} | {s.contracts_per_second:,.0f} | {s.peak_rss_mb:,.0f} "
            f"| {s.contracts:,} | {s.raw_records:,} | {s.engagements:,} |"
        )
    out = ROOT / "bench" / "results" / f"crawl_build-{opts.contracts}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([asdict(s) | {"contracts_per_second": s.contracts_per_second} for s in steps], indent=1))
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
