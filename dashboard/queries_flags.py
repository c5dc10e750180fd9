"""Flags page queries: red flags with their subject's name and the adjudication in force.

`flags` is derived (rewritten by every flags stage); `flag_adjudications` is human input and append-only: the
newest row per `flag_id` (by `created_at`, then id) is the verdict in force, older rows are history. The page
filters by code, region and state (`open` = never adjudicated) in the database and shows at most `FLAGS_LIMIT`
rows; the CSV has every matching row. The rule codes and their thresholds are data
(`data/reference/flag_rules.yaml`, read by `pipeline/flags`); this module only reads the codes to list them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
import yaml
from sqlalchemy import Engine, Select, case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from dashboard.i18n import basis_label, catalogue, translate
from dashboard.queries import _frame
from dashboard.queries_network import retrieved_times
from dashboard.queries_sources import _cell
from dashboard.ui import format_kzt
from entities.config import REFERENCE_DIR
from entities.models import Engagement, Flag, FlagAdjudication, Organization, Person

F = Flag.__table__.c
A = FlagAdjudication.__table__.c
O = Organization.__table__.c  # noqa: E741 - short alias used only in query expressions
P = Person.__table__.c
EN = Engagement.__table__.c

FLAGS_LIMIT = 1_000  # as the register: at the 1M scale 2,000 rows (23k flags) took 1-2 s to read, date and render
EVIDENCE_DATED = 3
CSV_BATCH = 5_000
STATES = ("open", "justified", "unjustified")
SEVERITIES = ("high", "medium", "low")
RULES_FILE = REFERENCE_DIR / "flag_rules.yaml"
COLUMNS = (
    "id",
    "code",
    "severity",
    "subject_kind",
    "subject_id",
    "subject_name",
    "region_kato",
    "explanation",
    "params",
    "thresholds",
    "legal_reference",
    "evidence",
    "source_urls",
    "related_ids",
    "computed_at",
    "state",
    "note",
    "adjudicated_by",
    "adjudicated_at",
    "is_fictional",
)


@cache
def rules() -> dict[str, dict[str, Any]]:
    """The flag rules as configured: code → its settings (severity, legal_reference, thresholds)."""
    with RULES_FILE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return dict(data.get("rules") or {})


@cache
def service_categories() -> list[str]:
    """The service category codes the rules use (`service_categories` of the rules file, then `other`)."""
    with RULES_FILE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return [c["code"] for c in data.get("service_categories") or []] + ["other"]


@cache
def legal_sources() -> dict[str, str]:
    with RULES_FILE.open(encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh).get("legal_sources") or {})


def rule_codes() -> list[str]:
    return list(rules())


@dataclass(frozen=True)
class FlagFilter:
    codes: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    states: tuple[str, ...] = ()


def _verdicts() -> Any:
    """The adjudication in force per flag: the newest row by time, then id."""
    ranked = select(
        A.flag_id,
        A.state,
        A.note,
        A.author,
        A.created_at,
        func.row_number()
        .over(partition_by=A.flag_id, order_by=(A.created_at.desc(), A.id.desc()))
        .label("n"),
    ).subquery()
    return select(ranked).where(ranked.c.n == 1).subquery("verdict")


def _select(f: FlagFilter) -> Select[Any]:
    verdict = _verdicts()
    state = func.coalesce(verdict.c.state, literal("open"))
    query = (
        select(
            F.id,
            F.code,
            F.severity,
            F.subject_kind,
            F.subject_id,
            # An engagement's flag is about its provider (the buyer is in the explanation and the evidence).
            func.coalesce(O.name_ru, O.name_kk, P.display_name, EN.provider_name).label("subject_name"),
            F.region_kato,
            F.explanation,
            F.params,
            F.thresholds,
            F.legal_reference,
            F.evidence,
            F.source_urls,
            F.related_ids,
            F.computed_at,
            state.label("state"),
            verdict.c.note,
            verdict.c.author.label("adjudicated_by"),
            verdict.c.created_at.label("adjudicated_at"),
            F.is_fictional,
        )
        .outerjoin(verdict, verdict.c.flag_id == F.id)
        .outerjoin(Organization, O.id == F.subject_id)
        .outerjoin(Person, P.id == F.subject_id)
        .outerjoin(Engagement, EN.id == F.subject_id)
    )
    conditions: list[ColumnElement[bool]] = []
    if f.codes:
        conditions.append(F.code.in_(f.codes))
    if f.regions:
        conditions.append(F.region_kato.in_(f.regions))
    if f.states:
        conditions.append(state.in_(f.states))
    rank = case({code: n for n, code in enumerate(SEVERITIES)}, value=F.severity, else_=len(SEVERITIES))
    return query.where(*conditions).order_by(rank, F.code, F.id)


def _matching(f: FlagFilter) -> Select[Any]:
    """The ids of the flags `f` selects, in the page's order: `flags` alone (with the verdicts only when a state
    is filtered), so counting and ordering 20k+ flags (1M scale) does not join names or carry JSON columns."""
    query = select(F.id)
    conditions: list[ColumnElement[bool]] = []
    if f.codes:
        conditions.append(F.code.in_(f.codes))
    if f.regions:
        conditions.append(F.region_kato.in_(f.regions))
    if f.states:
        verdict = _verdicts()
        query = query.outerjoin(verdict, verdict.c.flag_id == F.id)
        conditions.append(func.coalesce(verdict.c.state, literal("open")).in_(f.states))
    rank = case({code: n for n, code in enumerate(SEVERITIES)}, value=F.severity, else_=len(SEVERITIES))
    return query.where(*conditions).order_by(rank, F.code, F.id)


def flags_count(engine: Engine, f: FlagFilter) -> int:
    sub = _matching(f).order_by(None).subquery()
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(sub)).scalar_one())


def flags_rows(engine: Engine, f: FlagFilter, limit: int = FLAGS_LIMIT) -> pd.DataFrame:
    """The matching flags, at most `limit`, each with `retrieved_at`: when the records behind its first
    `EVIDENCE_DATED` evidence items (engagement ids) were fetched.

    The page's ids first (`_matching`), then only those rows with their subjects' names and verdicts: at the 1M
    scale the one-query form joined and sorted all 23k flags with their JSON (0.4-0.8 s on SQLite)."""
    with engine.connect() as conn:
        ids = list(conn.execute(_matching(f).limit(limit)).scalars())
    if not ids:
        return pd.DataFrame(columns=[*COLUMNS, "retrieved_at"])
    frame = _frame(engine, _select(FlagFilter()).where(F.id.in_(ids)))  # same order: `_select` sorts alike
    refs = [
        [f"engagement:{e}" for e in (ev or [])[:EVIDENCE_DATED] if isinstance(e, str)]
        for ev in frame["evidence"]
    ]
    times = retrieved_times(engine, sorted({r for rs in refs for r in rs}))
    frame["retrieved_at"] = [max((times[r] for r in rs if r in times), default=None) for rs in refs]
    return frame


def flags_csv(engine: Engine, f: FlagFilter) -> bytes:
    """Every matching flag (no limit) as CSV with a BOM; JSON fields as JSON text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CSV_BATCH).execute(_select(f))
        for row in result:
            writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def flag_codes(engine: Engine) -> list[str]:
    """Codes present in the database (a code the rules file no longer has is still listed)."""
    with engine.connect() as conn:
        return sorted(conn.execute(select(F.code).distinct()).scalars())


def flag_regions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(r for r in conn.execute(select(F.region_kato).distinct()).scalars() if r)


# --------------------------------------------------------------------------------------- explanations
class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _label(key: str, fallback: str, lang: str) -> str:
    text = translate(lang, key)
    return fallback if text == key else text


def threshold_text(key: str, value: Any, lang: str) -> str:
    """A threshold as a reader reads it: shares in percent, sums in tenge, legal bases by name."""
    if isinstance(value, list):
        if key == "legal_bases":
            return ", ".join(basis_label(str(v), lang) for v in value)
        if key in ("instruments", "categories"):
            prefix = "instrument" if key == "instruments" else "flags.category"
            return ", ".join(_label(f"{prefix}.{v}", str(v), lang) for v in value)
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float) and ("share" in key or "increase" in key):
        return f"{value * 100:g} %"
    if isinstance(value, int | float) and key.endswith("_kzt"):
        return format_kzt(value, lang)
    return str(value)


def flag_title(code: str, lang: str) -> str:
    key = f"flag.{code}.title"
    text = translate(lang, key)
    return code if text == key else text


def explain(code: str, thresholds: dict[str, Any], fallback: str, lang: str) -> str:
    """The plain-language explanation of a flag in `lang`, from its code and the thresholds it was computed with.

    Plain text, no markup: the page escapes it. A threshold the template names but the flag lacks shows as «?».
    """
    template = catalogue(lang).get(f"flag.{code}.text")
    if template is None:
        return fallback
    values = _Missing({k: threshold_text(k, v, lang) for k, v in (thresholds or {}).items()})
    return template.format_map(values)
