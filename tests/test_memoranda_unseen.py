"""Issue 4's acceptance, end to end: press releases the detector was not tuned on, served by the simulator's
gov.kz API, crawled by the `govkz` spider (with transient faults), built, exported with `ashyq export
memoranda`, and scored against their labels — on SQLite and PostgreSQL.

Sets (`tests/fixtures/memoranda/heldout{4,5}_{ru,kk}.yaml`, fictional): `heldout5` was run through this test
once before any change made because of it (its first run is in `first_runs.txt`); `heldout4` was the first-run
set of the bench (`bench/memoranda_eval.py --set heldout4`) and has been tuned on since, so it is a regression
check here, not an unseen estimate.

Scoring, per memorandum (a signing), not per text: the Russian and the Kazakh release of one signing
(`h5-ru-003`, `h5-kk-003`, served as one gov.kz item in two languages, as gov.kz does) must become ONE
exported memorandum. An exported memorandum is right when every
labelled item announcing it is gold `new` and they all tell the same signing; a gold `new` item is found when
its document row announces an exported memorandum. Parties: the exported parties of each right memorandum
against the gold parties of the item in the memorandum's language, on `party_key`.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from crawlers.simulator.govkz import GovkzApi
from crawlers.simulator.other_scenario import PressReleaseSet
from crawlers.simulator.server import SimulatorServer
from crawlers.simulator.statgov import StatgovApi
from entities.models import Document
from pipeline.build import run_build
from pipeline.memoranda import party_key

FIXTURES = Path(__file__).parent / "fixtures" / "memoranda"
ASHYQ = str(Path(sys.executable).with_name("ashyq"))
SLUG = "unseen-press"


def labelled(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(FIXTURES.glob(f"{name}_*.yaml")):
        for row in yaml.safe_load(path.read_text(encoding="utf-8")):
            row["date"] = row["date"].isoformat() if hasattr(row["date"], "isoformat") else str(row["date"])
            rows.append(row)
    return rows


class LabelledServer(SimulatorServer):
    """The simulator, its gov.kz API serving a labelled set instead of the demo scenario's releases."""

    def __init__(self, content: PressReleaseSet, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.content = content

    def other_sources(self) -> tuple[GovkzApi, StatgovApi]:
        with self._other_lock:
            if self._other is None:
                self._other = (GovkzApi(self.content, self.govkz_options, self.retry_after),
                               StatgovApi(self.content, self.retry_after))
            return self._other


def _signing(label: str) -> str:
    """`h5-ru-003` and `h5-kk-003` tell one signing (the sets are written so)."""
    prefix, _, number = label.split("-")
    return f"{prefix}-{number}"


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[LabelledServer, list[dict[str, Any]]]]:
    rows = labelled(request.param)
    content = PressReleaseSet(rows, slug=SLUG, item_key=lambda r: _signing(r["id"]))  # ru + kk of one release: one item
    with LabelledServer(content, scenario="demo", seed=5, port=0, stall_seconds=0.5,
                        source_faults={"govkz": {"429": 0.03, "502": 0.03, "malformed": 0.03}}) as server:
        assert isinstance(server, LabelledServer)
        yield server, rows


def _crawl(server: SimulatorServer, db_url: str, job: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASHYQ_")}
    env.update(ASHYQ_GOVKZ_URL=server.url, ASHYQ_DATABASE_URL=db_url, ASHYQ_GOVKZ_DELAY="0",
               ASHYQ_GOVKZ_CONCURRENCY="8", ASHYQ_GOVKZ_TIMEOUT="0.5", ASHYQ_GOVKZ_BACKOFF="0.02")
    for attempt in range(3):  # a unit left incomplete by faults is fetched again by the next run
        done = subprocess.run([ASHYQ, "crawl", "govkz", "--slugs", SLUG, "-a", "page_size=10",
                               "--job-dir", str(job / str(attempt))],
                              env=env, capture_output=True, text=True, timeout=180, check=False)
        if done.returncode == 0:
            return
    raise AssertionError(done.stderr[-2000:])


def _export(db_url: str, out: Path) -> list[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASHYQ_")}
    env["ASHYQ_DATABASE_URL"] = db_url
    done = subprocess.run([ASHYQ, "export", "memoranda", "-o", str(out)], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    with out.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("served", ["heldout5", "heldout4"], indirect=True)
def test_unseen_press_releases_become_memoranda_with_their_parties(
    served: tuple[LabelledServer, list[dict[str, Any]]], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    server, rows = served
    content = server.content
    _crawl(server, db_url, tmp_path / "job")
    run_build(engine)
    exported = _export(db_url, tmp_path / "memoranda.csv")

    by_label = {r["id"]: r for r in rows}
    label_of = {(content.id_of(label), r["lang"]): label for label, r in by_label.items()}
    with engine.connect() as conn:
        announcing: dict[str, list[str]] = {}
        for doc in conn.execute(select(Document.id, Document.memorandum_id, Document.relation)):
            _, _, item_id, lang = doc.id.split("-")
            label = label_of.get((int(item_id), lang))
            if doc.memorandum_id and doc.relation == "announces" and label is not None:
                announcing.setdefault(doc.memorandum_id, []).append(label)
    gold_new = {label for label, r in by_label.items() if r["kind"] == "new"}
    right, wrong, right_signings = 0, [], []
    found: set[str] = set()
    party = {"tp": 0, "fp": 0, "fn": 0}
    for memo in exported:
        labels = announcing.get(memo["memorandum_id"], [])
        if not labels or any(x not in gold_new for x in labels) or len({_signing(x) for x in labels}) != 1:
            wrong.append(f"{memo['memorandum_id']} {labels} {memo['title']!r}")
            continue
        right += 1
        right_signings.append(_signing(labels[0]))
        found.update(labels)
        # the parties as the memorandum's own text names them (the other language names them in other words)
        source = next((x for x in labels if by_label[x]["lang"] == memo["language"]), labels[0])
        gold = {party_key(p) for p in by_label[source]["parties"]}
        got = {party_key(p) for p in memo["parties"].split(" | ") if p}
        party["tp"] += len(gold & got)
        party["fp"] += len(got - gold)
        party["fn"] += len(gold - got)
    gold_signings = {_signing(x) for x in gold_new}
    found_signings = {_signing(x) for x in found}
    precision = right / len(exported) if exported else 1.0
    recall = len(found_signings) / len(gold_signings)
    party_p = party["tp"] / ((party["tp"] + party["fp"]) or 1)
    party_r = party["tp"] / ((party["tp"] + party["fn"]) or 1)
    print(f"\nend to end: {len(exported)} exported, {right} right; {len(found_signings)}/{len(gold_signings)} "
          f"signings found: P {precision:.3f} R {recall:.3f}; parties P {party_p:.3f} R {party_r:.3f}; "
          f"wrong {wrong}; missed {sorted(gold_signings - found_signings)}")
    assert precision >= 0.95, wrong
    assert recall >= 0.9, sorted(gold_signings - found_signings)
    assert party_p >= 0.9, party
    assert party_r >= 0.9, party
    assert len(right_signings) == len(set(right_signings)), "one signing exported as two memoranda"
