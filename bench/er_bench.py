"""Entity-resolution benchmark: 1,000,000 organization and 300,000 person mentions, ours beside a naive baseline.

    .venv/bin/python bench/er_bench.py                        # the full run (a few minutes; 2 cores)
    .venv/bin/python bench/er_bench.py --orgs 100000 --persons 30000 --baseline-sample 20000   # a quick one

Data: `bench/er_dataset.py`'s BENCH profile (invented names, the same kinds of variants and hard negatives as
the labelled sets, scaled up with invented brand words). It is written to a CSV first; each contender then runs
in its own process, so wall time and peak memory (ru_maxrss) are that process's alone:

- **ours**: `ashyq resolve BIG.csv -o OUT.csv`, exactly as a user runs it (reading and writing the CSV
  included), with 2 worker processes for taking names apart;
- **naive baseline**: rapidfuzz `token_sort_ratio ≥ 90` with `utils.default_process`, blocked on the first
  three characters of the sorted processed words (what token_sort_ratio compares), connected components. Its
  blocks are quadratic (every «тоо …» name lands in one block), so it runs on a random sample of
  `--baseline-sample` mentions per kind and the time for the full data is extrapolated from the number of
  comparisons its blocks need (said so in the output).

Both are also scored on the labelled sets (`tests/fixtures/er/dev.csv`, `heldout.csv`), so the speed figures
sit next to what each approach gets right.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import er_dataset  # noqa: E402  (bench/ is not a package)
from er_eval import load_truth, score  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "er"


# --------------------------------------------------------------------------------------------- baseline


def _naive_clusters(records: list[tuple[str, str]]) -> tuple[dict[str, str], int]:
    """(ref → cluster id, comparisons made): token_sort_ratio ≥ 90 within first-three-character blocks."""
    from rapidfuzz import fuzz, process, utils

    parent = list(range(len(records)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    processed = [" ".join(sorted(utils.default_process(name).split())) for _, name in records]
    blocks: defaultdict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(processed):
        blocks[text[:3]].append(i)
    comparisons = 0
    for members in blocks.values():
        if len(members) < 2:
            continue
        texts = [processed[i] for i in members]
        comparisons += len(members) * (len(members) - 1) // 2
        for start in range(0, len(members), 2000):  # a 2000 × block matrix at a time: memory stays bounded
            matrix = process.cdist(
                texts[start : start + 2000],
                texts,
                scorer=fuzz.token_sort_ratio,
                score_cutoff=90,
                workers=2,
                dtype="uint8",
            )
            rows, cols = matrix.nonzero()
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                a, b = find(members[start + r]), find(members[c])
                if a != b:
                    parent[a] = b
    return {ref: str(find(i)) for i, (ref, _) in enumerate(records)}, comparisons


def _block_comparisons(names: list[str]) -> int:
    from rapidfuzz import utils

    sizes: defaultdict[str, int] = defaultdict(int)
    for name in names:
        sizes[" ".join(sorted(utils.default_process(name).split()))[:3]] += 1
    return sum(n * (n - 1) // 2 for n in sizes.values())


def _exactly(rows: Iterator[list[str]], wanted: dict[str, int]) -> Iterator[list[str]]:
    seen: defaultdict[str, int] = defaultdict(int)
    for row in rows:
        if seen[row[1]] < wanted[row[1]]:
            seen[row[1]] += 1
            yield row
    short = {k: wanted[k] - seen[k] for k in wanted if seen[k] < wanted[k]}
    if short:
        raise SystemExit(f"the generator made too few mentions: {short} missing")


# ----------------------------------------------------------------------------------------- child modes


def child_ours(src: Path, out: Path) -> None:
    from pipeline.resolve_csv import resolve_csv

    report, result = resolve_csv(src, out)
    print(json.dumps({"timings": result.timings, "summary": report.summary(), "review": len(result.review)}))


def child_naive(src: Path, sample: int) -> None:
    by_kind: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    with src.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            by_kind[row["kind"]].append((row["record_id"], row["name"]))
    rng = random.Random(1)
    out: dict[str, dict[str, float]] = {}
    for kind, records in by_kind.items():
        picked = rng.sample(records, min(sample, len(records)))
        started = time.perf_counter()
        _, comparisons = _naive_clusters(picked)
        elapsed = time.perf_counter() - started
        full = _block_comparisons([name for _, name in records])
        out[kind] = {
            "sample": len(picked),
            "seconds": elapsed,
            "comparisons": comparisons,
            "full_comparisons": full,
            "extrapolated_seconds": elapsed * full / max(1, comparisons),
        }
    print(json.dumps(out))


def _run(args: list[str]) -> tuple[float, float, str]:
    """Run a child process; (wall seconds, peak RSS in MB, its stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"})
    assert proc.stdout is not None
    stdout = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed with status {status}")
    return wall, usage.ru_maxrss / 1024, stdout


# -------------------------------------------------------------------------------------------- accuracy


def labelled_accuracy() -> list[tuple[str, str, str, float, float, float]]:
    """(set, kind, approach, pairwise P, R, F1) on the committed labelled sets."""
    from entities.resolve import resolve
    from pipeline.resolve_csv import read_records

    rows = []
    for name in ("dev.csv", "heldout.csv"):
        path = FIXTURES / name
        records = read_records(path)
        truth = load_truth(path)
        ours = resolve(records)
        for kind in ("organization", "person"):
            refs = [r for r in records if r.kind == kind]
            t = {r.ref: truth[r.ref] for r in refs}
            s = score(t, {r.ref: ours.entity_of(r.ref) for r in refs})
            rows.append((path.stem, kind, "ours", s.pair_p, s.pair_r, s.pair_f1))
            naive, _ = _naive_clusters([(r.ref, r.name) for r in refs])
            s = score(t, naive)
            rows.append((path.stem, kind, "naive", s.pair_p, s.pair_r, s.pair_f1))
    return rows


# ------------------------------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=1_000_000, help="organization mentions")
    parser.add_argument("--persons", type=int, default=300_000, help="person mentions")
    parser.add_argument(
        "--baseline-sample", type=int, default=50_000, help="mentions per kind for the baseline"
    )
    parser.add_argument(
        "--data", type=Path, help="where to keep the generated CSV (default: a temporary dir)"
    )
    parser.add_argument("--child-ours", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-naive", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_ours:
        child_ours(*args.child_ours)
        return 0
    if args.child_naive:
        child_naive(args.child_naive, args.baseline_sample)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp) / f"er_bench_{args.orgs}_{args.persons}.csv"
        if not data.exists():
            started = time.perf_counter()
            # ≈ 3 mentions per entity: generate somewhat more than needed, keep exactly the asked numbers.
            rows = er_dataset.generate(er_dataset.BENCH, round(args.orgs / 2.7), round(args.persons / 2.7))
            partial = data.with_name(data.name + ".partial")  # a failed run must not leave a short file behind
            n = er_dataset.write(partial, _exactly(rows, {"organization": args.orgs, "person": args.persons}))
            partial.replace(data)
            print(f"generated {n:,} mentions in {time.perf_counter() - started:.0f} s → {data}")
        with data.open(encoding="utf-8") as fh:
            counts = defaultdict(int)
            for row in csv.DictReader(fh):
                counts[row["kind"]] += 1
        print(f"data: {counts['organization']:,} organization + {counts['person']:,} person mentions; "
              f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f}")  # fmt: skip

        out = Path(tmp) / "out.csv"
        wall, rss, stdout = _run([sys.executable, __file__, "--child-ours", str(data), str(out)])
        ours = json.loads(stdout.strip().splitlines()[-1])
        print(f"\nours: `ashyq resolve` wall {wall:.1f} s, peak RSS {rss:,.0f} MB — {ours['summary']}")
        print("  stages (s): " + ", ".join(f"{k} {v:,.1f}" for k, v in ours["timings"].items()))

        nwall, nrss, nout = _run(
            [
                sys.executable,
                __file__,
                "--child-naive",
                str(data),
                "--baseline-sample",
                str(args.baseline_sample),
            ]
        )
        naive = json.loads(nout.strip().splitlines()[-1])
        print(f"\nnaive baseline (token_sort_ratio ≥ 90, first-3-character blocks, connected components): process "
              f"wall {nwall:.1f} s, peak RSS {nrss:,.0f} MB on samples of {args.baseline_sample:,} per kind")  # fmt: skip
        for kind, n in naive.items():
            print(f"  {kind}: {n['sample']:,} mentions in {n['seconds']:.1f} s ({n['comparisons']:,} comparisons); "
                  f"the full data needs {n['full_comparisons']:,} comparisons → about "
                  f"{n['extrapolated_seconds']:,.0f} s = {n['extrapolated_seconds'] / 3600:,.1f} h (extrapolated)")  # fmt: skip

    print("\nlabelled sets (pairwise precision / recall / F1):")
    for name, kind, approach, p, r, f1 in labelled_accuracy():
        print(f"  {name:8} {kind:12} {approach:6} {p:.3f} / {r:.3f} / {f1:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
