"""Accuracy of `ashyq resolve` on labelled sets: pairwise and B-cubed precision, recall and F1 per kind.

    .venv/bin/python bench/er_eval.py tests/fixtures/er/dev.csv tests/fixtures/er/heldout.csv tests/fixtures/er/core.csv
    .venv/bin/python bench/er_eval.py tests/fixtures/er/dev.csv --errors 20   # show wrong merges and splits

A labelled set is an `ashyq resolve` input with one more column, `entity` (the true entity). The resolver runs
exactly as the command does (`pipeline.resolve_csv.read_records` → `entities.resolve.resolve`) and never sees
the labels. Pairwise figures count every pair of records; B-cubed figures average per record, so one giant
cluster cannot hide behind many small ones (Barnes, arXiv 1509.04238).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from entities.resolve import KINDS, Resolution, resolve
from pipeline.resolve_csv import read_records

TARGETS = {"organization": "pairwise F1 ≥ 0.97", "person": "pairwise precision ≥ 0.99, recall ≥ 0.90"}


@dataclass(frozen=True)
class Scores:
    records: int
    true_entities: int
    predicted_entities: int
    pair_p: float
    pair_r: float
    pair_f1: float
    b3_p: float
    b3_r: float
    b3_f1: float

    def meets_target(self, kind: str) -> bool:
        if kind == "organization":
            return self.pair_f1 >= 0.97
        return self.pair_p >= 0.99 and self.pair_r >= 0.90


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(truth: dict[str, str], predicted: dict[str, str]) -> Scores:
    """Pairwise and B-cubed scores of a predicted clustering against the true one (same record ids)."""
    cells: Counter[tuple[str, str]] = Counter((truth[r], predicted[r]) for r in truth)
    true_sizes: Counter[str] = Counter(truth.values())
    pred_sizes: Counter[str] = Counter(predicted[r] for r in truth)
    tp = sum(_pairs(n) for n in cells.values())
    pred_pairs = sum(_pairs(n) for n in pred_sizes.values())
    true_pairs = sum(_pairs(n) for n in true_sizes.values())
    p = tp / pred_pairs if pred_pairs else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    n = len(truth)
    b3_p = sum(cells[(truth[x], predicted[x])] / pred_sizes[predicted[x]] for x in truth) / n if n else 1.0
    b3_r = sum(cells[(truth[x], predicted[x])] / true_sizes[truth[x]] for x in truth) / n if n else 1.0
    return Scores(n, len(true_sizes), len(pred_sizes), p, r, _f1(p, r), b3_p, b3_r, _f1(b3_p, b3_r))


def load_truth(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {row["record_id"]: row["entity"] for row in csv.DictReader(fh)}


def evaluate(path: Path) -> tuple[dict[str, Scores], Resolution, dict[str, str], float]:
    """Scores per kind for one labelled set (plus the resolution, the truth and the seconds it took)."""
    records = read_records(path)
    truth = load_truth(path)
    started = time.perf_counter()
    result = resolve(records)
    elapsed = time.perf_counter() - started
    predicted = {r.ref: result.entity_of(r.ref) for r in records}
    out: dict[str, Scores] = {}
    for kind in KINDS:
        refs = [r.ref for r in records if r.kind == kind]
        if refs:
            out[kind] = score({x: truth[x] for x in refs}, {x: predicted[x] for x in refs})
    return out, result, truth, elapsed


def print_errors(path: Path, result: Resolution, truth: dict[str, str], limit: int) -> None:
    """Wrong merges (one predicted entity holding several true ones) and splits, with the names."""
    names = {r.ref: (r.kind, r.name, r.bin or "", r.iin or "", r.context or "") for r in read_records(path)}
    by_pred: defaultdict[str, list[str]] = defaultdict(list)
    by_true: defaultdict[str, list[str]] = defaultdict(list)
    for ref in truth:
        by_pred[result.entity_of(ref)].append(ref)
        by_true[truth[ref]].append(ref)
    merges = [refs for refs in by_pred.values() if len({truth[r] for r in refs}) > 1]
    splits = [refs for refs in by_true.values() if len({result.entity_of(r) for r in refs}) > 1]
    print(
        f"\n{path.name}: {len(merges)} predicted entities mix true entities; {len(splits)} true entities are split"
    )
    for title, groups, key in (("WRONG MERGE", merges, truth.get), ("SPLIT", splits, result.entity_of)):
        for refs in groups[:limit]:
            print(f"--- {title}")
            for ref in sorted(refs, key=lambda r: (key(r) or "", r)):
                a = result.assignments[ref]
                _kind, name, bin_, iin, ctx = names[ref]
                print(
                    f"  {truth[ref]:>6} {a.entity_id[:22]:22} {a.rule:28} {name!r} bin={bin_} iin={'yes' if iin else ''} ctx={ctx!r}"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument(
        "--errors", type=int, default=0, help="print this many wrong merges and splits per set"
    )
    args = parser.parse_args()
    ok = True
    header = f"{'set':14} {'kind':12} {'records':>7} {'true':>5} {'pred':>5}  {'pair P':>6} {'pair R':>6} {'pair F1':>7}  {'B3 P':>6} {'B3 R':>6} {'B3 F1':>6}  target"
    print(header)
    for path in args.sets:
        scores, result, truth, elapsed = evaluate(path)
        for kind, s in scores.items():
            met = s.meets_target(kind)
            ok &= met
            print(
                f"{path.stem:14} {kind:12} {s.records:7} {s.true_entities:5} {s.predicted_entities:5}  "
                f"{s.pair_p:6.3f} {s.pair_r:6.3f} {s.pair_f1:7.3f}  {s.b3_p:6.3f} {s.b3_r:6.3f} {s.b3_f1:6.3f}  "
                f"{'met' if met else 'MISSED'} ({TARGETS[kind]})"
            )
        print(f"{'':14} {len(result.review)} pairs in the review queue; resolved in {elapsed:.2f} s")
        if args.errors:
            print_errors(path, result, truth, args.errors)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
