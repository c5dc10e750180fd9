"""Precision and recall of memorandum detection and party extraction on labelled press releases.

    .venv/bin/python bench/memoranda_eval.py                      # every set, side by side
    .venv/bin/python bench/memoranda_eval.py --set dev --errors   # list the development set's mistakes

A labelled set is a YAML list (`tests/fixtures/memoranda/<set>_<lang>.yaml`, sets dev, heldout, heldout2,
heldout3 and heldout4, described in the README there): each item is a gov.kz-style news item (title, HTML body, created date, language) with gold labels:
`kind` (new | reference | none), `parties` as written in the text, and `signed_on` when the text states it.
The detector (`pipeline.memoranda.extract`) runs as the pipeline runs it and never sees the labels.

Figures:
- detection, "memorandum found": an item counts as positive when its kind is new or reference. Precision and
  recall of that, and per kind (a `new` item predicted as `reference` counts against both kinds).
- parties: every predicted party of every item against the gold parties of that item, matched on
  `pipeline.memoranda.party_key` (so the grammatical case and the legal-form spelling do not matter). Parties
  predicted for an item without a memorandum are false positives; parties of a missed memorandum are misses.
- "complete": gold memoranda found with the right kind and exactly the gold party set.
- dates: items with a gold `signed_on` whose predicted date equals it.
Party linking (`--linking`): the demo scenario's memoranda (`crawlers.simulator.other_scenario`, whose ground
truth names each memorandum's party BINs) are extracted from their Russian and Kazakh releases, and every party
named in a text is resolved against the scenario's organizations (an in-memory SQLite database holding the
goszakup participants as the build names them) twice: "before" = BIN, else exact normalized name (the rule of
session 1); "after" = `pipeline.normalize.instruments.resolve_org` (adds the nominative, the legal-form spelling
and the resolver's name key among public bodies). A party counts as right when it links to the organization
whose BIN the truth lists, wrong when it links elsewhere, unlinked otherwise.

Each held-out set was run once before anything was changed because of it; those first runs
(`tests/fixtures/memoranda/first_runs.txt`) are the honest unseen figures. Measuring a new detector honestly
means writing a fresh set and running it once; tune on dev only (--set dev --errors).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.memoranda import MemorandumFinding, SourceText, extract, party_key

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "memoranda"
TARGET = "memorandum found: precision ≥ 0.95, recall ≥ 0.90"


@dataclass(frozen=True)
class Labelled:
    id: str
    item: SourceText
    kind: str
    parties: tuple[str, ...]
    signed_on: date | None


def load_labelled(path: Path) -> list[Labelled]:
    """Labelled items of one YAML file."""
    out: list[Labelled] = []
    for row in yaml.safe_load(path.read_text(encoding="utf-8")):
        published = row["date"]
        if isinstance(published, datetime):
            published = published.isoformat()
        slug = row.get("slug", "edu")
        url = (
            row.get("url")
            or f"https://www.gov.kz/memleket/entities/{slug}/press/news/details/{row['id']}?lang={row['lang']}"
        )
        item = SourceText(
            title=row["title"],
            body_html=row.get("body") or "",
            published=str(published),
            language=row["lang"],
            url=url,
            item_kind="document" if not (row.get("body") or "").strip() else "news",
        )
        signed = row.get("signed_on")
        out.append(
            Labelled(
                id=row["id"],
                item=item,
                kind=row["kind"],
                parties=tuple(row.get("parties") or ()),
                signed_on=signed if isinstance(signed, date) else None,
            )
        )
    return out


def load_set(name: str) -> list[Labelled]:
    return [x for path in sorted(FIXTURES.glob(f"{name}_*.yaml")) for x in load_labelled(path)]


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    items: int = 0
    found: Tally = field(default_factory=Tally)
    new: Tally = field(default_factory=Tally)
    reference: Tally = field(default_factory=Tally)
    parties: Tally = field(default_factory=Tally)
    complete: int = 0
    gold_memoranda: int = 0
    dates_right: int = 0
    dates_gold: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def score(items: list[Labelled]) -> dict[str, Report]:
    """Reports overall ('all') and per language."""
    reports: dict[str, Report] = defaultdict(Report)
    for x in items:
        finding = extract(x.item)
        for r in (reports["all"], reports[x.item.language or "?"]):
            _add(r, x, finding)
    return dict(reports)


def _add(r: Report, x: Labelled, finding: MemorandumFinding | None) -> None:
    r.items += 1
    pred = finding.kind if finding else "none"
    r.confusion[(x.kind, pred)] += 1
    if x.kind != "none" and pred != "none":
        r.found.tp += 1
    elif pred != "none":
        r.found.fp += 1
    elif x.kind != "none":
        r.found.fn += 1
    for k, tally in (("new", r.new), ("reference", r.reference)):
        if x.kind == k and pred == k:
            tally.tp += 1
        elif pred == k:
            tally.fp += 1
        elif x.kind == k:
            tally.fn += 1
    gold = {party_key(p) for p in x.parties}
    got = {p.key for p in finding.parties} if finding else set()
    r.parties.tp += len(gold & got)
    r.parties.fp += len(got - gold)
    r.parties.fn += len(gold - got)
    if x.kind != "none":
        r.gold_memoranda += 1
        if pred == x.kind and got == gold:
            r.complete += 1
    if x.signed_on is not None:
        r.dates_gold += 1
        if finding is not None and finding.signed_on == x.signed_on:
            r.dates_right += 1
    wrong = (
        pred != x.kind
        or got != gold
        or (x.signed_on is not None and (finding is None or finding.signed_on != x.signed_on))
    )
    if wrong:
        names = [p.name for p in finding.parties] if finding else []
        r.errors.append(
            f"{x.id}: gold {x.kind} {sorted(gold)} signed {x.signed_on}\n"
            f"    got  {pred} {sorted(got)} signed {finding.signed_on if finding else None} "
            f"cues {finding.cues if finding else ()}\n    names {names}"
        )


def _fmt(t: Tally) -> str:
    return f"P {t.precision:.3f}  R {t.recall:.3f}  (tp {t.tp}, fp {t.fp}, fn {t.fn})"


def print_report(name: str, reports: dict[str, Report]) -> None:
    print(f"== {name}")
    for lang in ["all", *sorted(k for k in reports if k != "all")]:
        r = reports[lang]
        print(f"-- {lang}: {r.items} texts, {r.gold_memoranda} with a memorandum")
        print(f"   memorandum found   {_fmt(r.found)}")
        print(f"   kind new           {_fmt(r.new)}")
        print(f"   kind reference     {_fmt(r.reference)}")
        print(f"   parties            {_fmt(r.parties)}")
        print(
            f"   complete (kind and exact party set) {r.complete}/{r.gold_memoranda}; "
            f"signing date {r.dates_right}/{r.dates_gold}"
        )
    conf = reports["all"].confusion
    kinds = ["new", "reference", "none"]
    print(
        "   confusion (rows gold, columns predicted): "
        + "  ".join(f"{g}→" + ",".join(f"{p}:{conf[(g, p)]}" for p in kinds) for g in kinds)
    )


def linking(errors: bool = False) -> None:
    """Print party-linking figures before/after on the demo scenario's memoranda (module docstring)."""
    from sqlalchemy import create_engine, select

    from crawlers.simulator.other_scenario import load_other_scenario
    from entities.models import Base, Organization
    from pipeline.normalize.common import name_norm
    from pipeline.normalize.instruments import resolve_org
    from pipeline.normalize.organizations import legal_form, organization_kind
    from pipeline.normalize.writer import table_of

    other = load_other_scenario("demo")
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    orgs = table_of(Organization)
    rows = []
    for subject in other.scenario.records("Subjects"):
        if not subject.get("bin"):
            continue
        form = legal_form(subject.get("refKopfCode"), subject["nameRu"])
        rows.append({"id": f"kz-bin-{subject['bin']}", "bin": subject["bin"], "name_ru": subject["nameRu"],
                     "name_kk": subject.get("nameKz"), "name_norm": name_norm(subject["nameRu"]),
                     "kind": organization_kind(type_supplier=None, form=form, name=subject["nameRu"]),
                     "is_fictional": True})
    tallies = {"before": Counter[str](), "after": Counter[str]()}
    per_lang: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    with engine.begin() as conn:
        conn.execute(orgs.insert(), rows)

        def before(name: str, bin_: str | None) -> str | None:
            if bin_:
                found = conn.execute(select(orgs.c.id).where(orgs.c.bin == bin_)).scalar_one_or_none()
                if found:
                    return str(found)
            ids = conn.execute(select(orgs.c.id).where(orgs.c.name_norm == name_norm(name)).limit(2)).scalars().all()
            return str(ids[0]) if len(ids) == 1 else None

        for memo in other.memoranda:
            truth = {f"kz-bin-{b}" for b in memo.party_bins}
            for news_id in memo.announced_in:
                for lang in memo.languages:
                    found = other.item("news", news_id, lang)
                    if found is None:
                        continue
                    _, payload = found
                    finding = extract(SourceText(payload["title"], payload["body"], payload["created_date"], lang,
                                                 "http://127.0.0.1/demo"))
                    for party in finding.parties if finding else ():
                        bin_ = party.bin if party.bin_valid else None
                        for label, got in (("before", before(party.name, bin_)),
                                           ("after", resolve_org(conn, party.name, bin_, language=lang,
                                                                 fictional=True)[0])):
                            verdict = "unlinked" if got is None else "right" if got in truth else "wrong"
                            if label == "after" and verdict != "right" and errors:
                                print(verdict, lang, party.name, truth)
                            tallies[label][verdict] += 1
                            per_lang[(label, lang)][verdict] += 1
    print("party linking on the demo memoranda (parties named in the texts; right / wrong / unlinked)")
    for label, tally in tallies.items():
        total = sum(tally.values())
        print(f"  {label:6} all: right {tally['right']}/{total} ({tally['right'] / (total or 1):.3f}), wrong "
              f"{tally['wrong']}, unlinked {tally['unlinked']}; " + "; ".join(
                  f"{lang}: right {per_lang[(label, lang)]['right']}/{sum(per_lang[(label, lang)].values())}"
                  for lang in ("ru", "kk")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=["dev", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "both", "all"], default="all")
    ap.add_argument("--errors", action="store_true", help="list the items the detector gets wrong")
    ap.add_argument("--linking", action="store_true", help="party linking on the demo scenario (see above)")
    args = ap.parse_args()
    if args.linking:
        linking(args.errors)
        return
    names = {"both": ["dev", "heldout"], "all": ["dev", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7"]}.get(
        args.set, [args.set]
    )
    print(f"target (issue 4): {TARGET}")
    for name in names:
        reports = score(load_set(name))
        print_report(name, reports)
        if args.errors:
            for e in reports["all"].errors:
                print(e)


if __name__ == "__main__":
    main()
