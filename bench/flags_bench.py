"""Benchmark of the flags stage (issue 5): every rule's time and the whole stage's, on a scale database.

    .venv/bin/python bench/flags_bench.py --url sqlite:////work/bench-data/scale_1m.sqlite
    .venv/bin/python bench/flags_bench.py \
        --url 'postgresql+psycopg://root@127.0.0.1:5432/test?options=-csearch_path%3Dscale_1m'

The scale databases (`bench/scale_db.py`) are synthesized from the simulator's scale scenario: engagements,
organizations, persons, roles, memoranda and PPP agreements, but no contract versions, bids or register
entries, so the rules that read those tables (no announcement, amendments, bidders sharing a head, unreliable
suppliers) run on empty tables there and their times are not representative; the engagement-based rules (the
streamed pass, shares, concentration, pairs, memoranda, new companies, buyer–supplier shared heads) are.

The write is rolled back (`run_flags(commit=False)`): the database is shared with other benchmarks. Reported:
rows scanned, flags per code, seconds per rule, wall time of the stage, peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from entities.db import make_engine
from entities.migrate import upgrade
from entities.models import Engagement
from pipeline.flags.stage import run_flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a scale database")
    parser.add_argument("--wait", type=Path, default=None, help="marker file to wait for (e.g. …scale_1m.sqlite.done)")
    parser.add_argument("--wait-seconds", type=float, default=0.0)
    args = parser.parse_args()
    if args.wait is not None:
        deadline = time.monotonic() + args.wait_seconds
        while not args.wait.exists():
            if time.monotonic() > deadline:
                sys.exit(f"marker {args.wait} not there after {args.wait_seconds:.0f}s")
            time.sleep(10)
    engine = make_engine(args.url)
    upgrade(engine)
    with engine.connect() as conn:
        engagements = conn.execute(select(func.count()).select_from(Engagement)).scalar_one()
    started = time.monotonic()
    report = run_flags(engine, commit=False)
    wall = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: {engine.url.render_as_string(hide_password=True)}")
    print(f"engagements: {engagements}; scanned in the streamed pass: {report.engagements_scanned}")
    print(f"flags: {sum(report.by_code.values())}: " + ", ".join(f"{c} {n}" for c, n in sorted(report.by_code.items())))
    for name, seconds in sorted(report.seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<24} {seconds:8.2f} s")
    print(f"stage wall time: {wall:.1f} s (write rolled back); peak RSS {peak_mb:.0f} MB")
    engine.dispose()


if __name__ == "__main__":
    main()
