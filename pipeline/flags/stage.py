"""The flags stage of `ashyq build`: run every rule, then bring the `flags` table to the result.

Flags are derived: every run recomputes all of them from the current tables (thresholds may have changed in
`data/reference/flag_rules.yaml`, and entity resolution may have merged or split parties). The write is a diff:
a flag whose content is unchanged keeps its row and `computed_at`, a changed one is rewritten, a flag no rule
raises any more is deleted. `flag_adjudications` is never touched: it is human input, keyed by the stable flag id,
so a verdict finds its flag again after any rebuild (and waits, unshown, if the flag disappears and returns).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, select, text

from entities.models import Flag
from pipeline.flags.config import FlagConfig, default_config
from pipeline.flags.rules import SCAN_RULES, SIMPLE_RULES, Context, scan_engagements
from pipeline.normalize.writer import table_of, upsert

log = logging.getLogger(__name__)

flags_t = table_of(Flag)
CONTENT = ("code", "severity", "subject_kind", "subject_id", "related_ids", "region_kato", "explanation", "params",
           "thresholds", "legal_reference", "evidence", "source_urls", "is_fictional")  # fmt: skip


@dataclass
class FlagReport:
    by_code: Counter[str] = field(default_factory=Counter)
    written: int = 0
    removed: int = 0
    unchanged: int = 0
    engagements_scanned: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0

    def summary(self) -> str:
        codes = ", ".join(f"{code} {n}" for code, n in sorted(self.by_code.items()))
        return (
            f"flags: {sum(self.by_code.values())} ({codes}); {self.written} written, {self.removed} removed, "
            f"{self.unchanged} unchanged; {self.elapsed:.1f}s"
        )


def _digest(row: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps([row.get(k) for k in CONTENT], sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def compute_flags(engine: Engine, cfg: FlagConfig | None = None, report: FlagReport | None = None) -> list[dict[str, Any]]:
    """Every flag the rules raise now, by id (a rule raising one id twice keeps the first)."""
    cfg = cfg or default_config()
    report = report or FlagReport()
    flags: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        ctx = Context(conn, cfg)
        for rule in SIMPLE_RULES:
            started = time.monotonic()
            for flag in rule(ctx):
                flags.setdefault(flag["id"], flag)
            report.seconds[rule.__name__] = time.monotonic() - started
        started = time.monotonic()
        scan = scan_engagements(ctx)
        report.engagements_scanned = scan.rows
        report.seconds["scan_engagements"] = time.monotonic() - started
        for scan_rule in SCAN_RULES:
            started = time.monotonic()
            for flag in scan_rule(ctx, scan):
                flags.setdefault(flag["id"], flag)
            report.seconds[scan_rule.__name__] = time.monotonic() - started
        started = time.monotonic()
        ctx.resolve_urls()
        report.seconds["source_urls"] = time.monotonic() - started
    return list(flags.values())


def run_flags(
    engine: Engine, cfg: FlagConfig | None = None, batch_size: int = 1000, *, commit: bool = True
) -> FlagReport:
    """Recompute the flags and write the difference (module docstring); `commit=False` rolls the write back
    (the benchmark times the whole stage on a shared database without changing it)."""
    started = time.monotonic()
    report = FlagReport()
    fresh = compute_flags(engine, cfg, report)
    report.by_code.update(f["code"] for f in fresh)
    now = datetime.now(UTC)
    with engine.connect() as conn, conn.begin() as tx:
        f = flags_t.c
        old: dict[str, str] = {}
        for row in conn.execute((select(flags_t)).execution_options(yield_per=5000)):
            old[row.id] = _digest(dict(row._mapping))
        changed = [dict(flag, computed_at=now) for flag in fresh if old.get(flag["id"]) != _digest(flag)]
        gone = sorted(set(old) - {flag["id"] for flag in fresh})
        for start in range(0, len(gone), batch_size):
            conn.execute(delete(flags_t).where(f.id.in_(gone[start : start + batch_size])))
        for start in range(0, len(changed), batch_size):
            upsert(conn, flags_t, changed[start : start + batch_size], ["id"])
        if not commit:
            tx.rollback()
        elif (changed or gone) and conn.dialect.name == "postgresql":
            # Fresh statistics after a large rewrite: without them the planner scans a table full of dead rows
            # (the flags page's `SELECT DISTINCT code` took 1 s on an emptied table at the 1M scale).
            conn.execute(text("ANALYZE flags"))
    report.written, report.removed = len(changed), len(gone)
    report.unchanged = len(fresh) - len(changed)
    report.elapsed = time.monotonic() - started
    log.info("%s", report.summary())
    return report
