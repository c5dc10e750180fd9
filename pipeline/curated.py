"""Curated facts: hand-checked public facts (PPP agreements, memoranda, ownership, roles, switches…) in YAML.

Each file in `data/curated/` is a mapping with optional `defaults` (merged into every fact that lacks the key)
and a list `facts`. The format, every field and every check are described in `docs/curated-facts.md`.

Validation reports clear errors naming the file and line (PyYAML node marks are kept for every mapping and key):
missing or unknown field, bad date, bad URL, unknown kind, a BIN with a wrong control digit
(`entities.identifiers.is_valid`), an unknown KATO region, a duplicate id (also across files), a `related` id
that does not exist. A file with any error is rejected whole and reported; the other files still load. Nothing is
dropped silently: every fact of a rejected file is accounted for in `CuratedLoad.rejected_files`.

    .venv/bin/python -m pipeline.curated data/curated      # validate, print errors, exit 1 on any
"""

from __future__ import annotations

import csv
import datetime as dt  # CuratedFact has a field named `date`, which shadows the type inside the class
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from yaml.nodes import MappingNode, ScalarNode

from entities.config import DATA_DIR, REFERENCE_DIR
from entities.identifiers import clean_id, is_valid

CURATED_DIR = DATA_DIR / "curated"

KINDS = frozenset(
    {
        "memorandum",  # a memorandum or cooperation agreement
        "ppp_agreement",  # a PPP or concession agreement
        "ownership",  # who owns a company (shares)
        "role",  # a person's role in an organization (founder, director, head, chairman)
        "court_decision",
        "donation",  # goods or services given free of charge
        "service_launch",  # a service starts to be used (a platform, a system)
        "service_switch",  # a buyer moves from one operator to another, or back
        "order",  # a ministerial or departmental order (приказ) that is the basis of a service
        "allegation",  # a public claim by a named party, reported as a claim
        "statement",  # a public body's or company's public characterization of a fact
        "relationship",  # a reported link between organizations that fits no other kind
        "registry_statistic",  # an aggregate a registry operator publishes (a sanity check for imports)
    }
)
# group: «Kazakhstani investors», not one entity; service: a platform or product (BilimClass, OnlineMektep)
ENTITY_TYPES = frozenset({"organization", "person", "group", "service"})
LANGUAGES = frozenset({"ru", "kk", "en"})
DatePrecision = Literal["day", "month", "year", "unknown"]

_FACT_FIELDS_REQUIRED = (
    "id",
    "kind",
    "fictional",
    "parties",
    "date",
    "summary",
    "source_url",
    "retrieved_on",
    "language",
)
_FACT_FIELDS_OPTIONAL = (
    "date_basis", "date_note", "quote", "quote_is_paraphrase", "citation", "retrieval_note", "region", "amount",
    "currency", "amount_approximate", "details", "related", "note",
)  # fmt: skip
_PARTY_FIELDS = {"name", "role", "bin", "entity", "note"}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")


# ------------------------------------------------------------------------------------------ shapes


@dataclass(frozen=True)
class CuratedParty:
    name: str  # as the source writes it
    role: (
        str  # the party's role in this fact: state_partner, private_partner, owner, founder, operator_new, …
    )
    entity: Literal["organization", "person", "group", "service"] = "organization"
    bin: str | None = None  # 12 digits, control digit checked
    note: str | None = None


@dataclass(frozen=True)
class CuratedFact:
    id: str
    kind: str
    fictional: bool
    parties: tuple[CuratedParty, ...]
    date: dt.date | None  # the first day of the period when the precision is month or year; None when unknown
    date_precision: DatePrecision
    date_basis: Literal["event", "publication"]  # publication: the date of the report, not of the event
    summary: str
    source_url: str
    retrieved_on: dt.date
    retrieved_precision: Literal["day", "month"]
    language: str  # the source's language
    quote: str | None  # verbatim from the source, in its language; None when the source pack only paraphrases
    quote_is_paraphrase: bool
    citation: str | None = None  # the citation exactly as the source pack gives it (may be shortened there)
    retrieval_note: str | None = None
    region: str | None = None  # KATO 2-digit code
    amount: Decimal | None = None
    currency: str | None = None
    amount_approximate: bool = False
    details: Mapping[str, object] = field(default_factory=dict)
    related: tuple[str, ...] = ()
    date_note: str | None = None
    note: str | None = None
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class CuratedError:
    file: str
    line: int
    fact_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: [{self.fact_id}] {self.message}" if self.fact_id else f"{where}: {self.message}"


@dataclass
class CuratedLoad:
    facts: list[CuratedFact] = field(default_factory=list)
    errors: list[CuratedError] = field(default_factory=list)
    loaded_files: list[str] = field(default_factory=list)
    rejected_files: dict[str, int] = field(default_factory=dict)  # file → number of facts not loaded

    @property
    def ok(self) -> bool:
        return not self.errors


# ------------------------------------------------------------------------------------ YAML with lines


class _Map(dict[str, Any]):
    """A YAML mapping that remembers its own line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _DuplicateKeyError(yaml.YAMLError):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key
        self.line = line


class _LineLoader(yaml.SafeLoader):
    """PyYAML's safe loader, keeping node marks on mappings and refusing duplicate keys (which PyYAML would
    otherwise resolve silently by keeping the last)."""


def _construct_map(loader: _LineLoader, node: MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key_line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            key = str(key)
        if key in out:
            raise _DuplicateKeyError(key, key_line)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = (
            key_line if not isinstance(value_node, ScalarNode) else value_node.start_mark.line + 1
        )
    return out


def _construct_timestamp_as_text(loader: _LineLoader, node: ScalarNode) -> str:
    # PyYAML would turn 2026-13-45 into an exception without a line; dates are parsed (and reported) by us
    return str(loader.construct_scalar(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)  # type: ignore[arg-type]
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ checks


@dataclass
class _FileCheck:
    file: str
    errors: list[CuratedError] = field(default_factory=list)

    def error(self, line: int, fact_id: str | None, message: str) -> None:
        self.errors.append(CuratedError(self.file, line, fact_id, message))


def _kato_codes() -> frozenset[str]:
    with (REFERENCE_DIR / "kato_regions.csv").open(encoding="utf-8") as f:
        return frozenset(row["code2"].strip() for row in csv.DictReader(f))


def parse_partial_date(value: object) -> tuple[date | None, DatePrecision]:
    """A date as curated files write it: 2018-01-26, '2018-01', 2018 or 'unknown'. Raises ValueError."""
    if isinstance(value, date):
        return value, "day"
    if isinstance(value, int) and not isinstance(value, bool):
        if 1900 <= value <= 2100:
            return date(value, 1, 1), "year"
        raise ValueError(f"year {value} out of range")
    if isinstance(value, str):
        text = value.strip()
        if text == "unknown":
            return None, "unknown"
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3])), "day"
            except ValueError as e:
                raise ValueError(f"{text!r}: {e}") from e
        m = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if m and 1 <= int(m[2]) <= 12:
            return date(int(m[1]), int(m[2]), 1), "month"
        m = re.fullmatch(r"(\d{4})", text)
        if m:
            return date(int(m[1]), 1, 1), "year"
    raise ValueError(f"not a date: {value!r} (write YYYY-MM-DD, YYYY-MM, YYYY or 'unknown')")


def check_url(value: object) -> str | None:
    """Why `value` is not an absolute http(s) URL with a host, or None when it is one."""
    if not isinstance(value, str) or not value.strip():
        return "source_url must be a non-empty string"
    if value != value.strip() or any(c.isspace() for c in value):
        return f"source_url contains whitespace: {value!r}"
    if "…" in value or "..." in value:
        return f"source_url is shortened ({value!r}); keep the pack's text in `citation`, the resolvable part here"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        return f"source_url must start with http:// or https://: {value!r}"
    if not parts.hostname or "." not in parts.hostname:
        return f"source_url has no host: {value!r}"
    return None


def _str_field(check: _FileCheck, raw: _Map, key: str, fact_id: str | None, *, required: bool) -> str | None:
    value = raw.get(key)
    line = raw.key_lines.get(key, raw.line)
    if value is None:
        if required:
            check.error(raw.line, fact_id, f"missing field `{key}`")
        return None
    if not isinstance(value, str) or not value.strip():
        check.error(line, fact_id, f"`{key}` must be non-empty text, got {value!r}")
        return None
    return value.strip()


def _bool_field(
    check: _FileCheck, raw: _Map, key: str, fact_id: str | None, *, default: bool | None
) -> bool | None:
    value = raw.get(key, default)
    if value is None:
        check.error(raw.line, fact_id, f"missing field `{key}` (true or false)")
        return None
    if not isinstance(value, bool):
        check.error(
            raw.key_lines.get(key, raw.line), fact_id, f"`{key}` must be true or false, got {value!r}"
        )
        return None
    return value


def _parse_party(check: _FileCheck, raw: object, line: int, fact_id: str | None) -> CuratedParty | None:
    if not isinstance(raw, _Map):
        check.error(line, fact_id, f"a party must be a mapping with name and role, got {raw!r}")
        return None
    for key in raw:
        if key not in _PARTY_FIELDS:
            check.error(raw.key_lines.get(key, raw.line), fact_id, f"unknown party field `{key}`")
    name = _str_field(check, raw, "name", fact_id, required=True)
    role = _str_field(check, raw, "role", fact_id, required=True)
    entity = raw.get("entity", "organization")
    if entity not in ENTITY_TYPES:
        check.error(
            raw.key_lines.get("entity", raw.line),
            fact_id,
            f"party entity must be one of {sorted(ENTITY_TYPES)}, got {entity!r}",
        )
        return None
    bin_value: str | None = None
    if raw.get("bin") is not None:
        if isinstance(raw["bin"], int):
            # YAML reads 012345678901 as a number and drops the leading zero: the BIN must be quoted
            check.error(
                raw.key_lines.get("bin", raw.line),
                fact_id,
                f"bin must be quoted text (a number loses leading zeros): {raw['bin']!r}",
            )
            return None
        bin_value = clean_id(raw["bin"])
        if bin_value is None or len(bin_value) != 12 or str(raw["bin"]).strip() != bin_value:
            check.error(
                raw.key_lines.get("bin", raw.line), fact_id, f"bin must be 12 digits, got {raw['bin']!r}"
            )
            return None
        if not is_valid(bin_value):
            check.error(
                raw.key_lines.get("bin", raw.line), fact_id, f"bin {bin_value} has a wrong control digit"
            )
            return None
        if entity == "person":
            check.error(
                raw.key_lines.get("bin", raw.line),
                fact_id,
                "a person has no BIN (and an IIN is never stored in curated files)",
            )
            return None
    note = _str_field(check, raw, "note", fact_id, required=False)
    if name is None or role is None:
        return None
    return CuratedParty(name=name, role=role, entity=entity, bin=bin_value, note=note)


def _parse_fact(
    check: _FileCheck, raw: object, line: int, defaults: Mapping[str, object], kato: frozenset[str]
) -> CuratedFact | None:
    if not isinstance(raw, _Map):
        check.error(line, None, f"a fact must be a mapping, got {type(raw).__name__}")
        return None
    before = len(check.errors)
    fact_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    merged = _Map({**{k: v for k, v in defaults.items() if k not in raw}, **raw})
    merged.line = raw.line
    merged.key_lines = dict(raw.key_lines)
    for key in raw:
        if key not in _FACT_FIELDS_REQUIRED and key not in _FACT_FIELDS_OPTIONAL:
            check.error(raw.key_lines.get(key, raw.line), fact_id, f"unknown field `{key}`")
    for key in _FACT_FIELDS_REQUIRED:
        if merged.get(key) is None:
            check.error(raw.line, fact_id, f"missing field `{key}`")
    if fact_id is not None and not _ID_RE.match(fact_id):
        check.error(
            raw.key_lines.get("id", raw.line),
            fact_id,
            "id must be lower-case letters, digits and hyphens (3–81 characters)",
        )
    kind = merged.get("kind")
    if kind is not None and kind not in KINDS:
        check.error(
            merged.key_lines.get("kind", raw.line),
            fact_id,
            f"unknown kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}",
        )
    fictional = (
        _bool_field(check, merged, "fictional", fact_id, default=None) if "fictional" in merged else None
    )
    summary = _str_field(check, merged, "summary", fact_id, required=False)
    url = merged.get("source_url")
    if url is not None and (why := check_url(url)) is not None:
        check.error(merged.key_lines.get("source_url", raw.line), fact_id, why)
    language = merged.get("language")
    if language is not None and language not in LANGUAGES:
        check.error(
            merged.key_lines.get("language", raw.line),
            fact_id,
            f"language must be one of {sorted(LANGUAGES)}, got {language!r}",
        )
    # dates
    fact_date: date | None = None
    precision: DatePrecision = "unknown"
    if merged.get("date") is not None:
        try:
            fact_date, precision = parse_partial_date(merged["date"])
        except ValueError as e:
            check.error(merged.key_lines.get("date", raw.line), fact_id, f"bad date: {e}")
    date_basis = merged.get("date_basis", "event")
    if date_basis not in ("event", "publication"):
        check.error(
            merged.key_lines.get("date_basis", raw.line),
            fact_id,
            f"date_basis must be event or publication, got {date_basis!r}",
        )
    retrieved: date | None = None
    retrieved_precision: Literal["day", "month"] = "day"
    if merged.get("retrieved_on") is not None:
        try:
            retrieved, rp = parse_partial_date(merged["retrieved_on"])
            if rp not in ("day", "month") or retrieved is None:
                raise ValueError(f"{merged['retrieved_on']!r} is not a day or a month")
            retrieved_precision = "day" if rp == "day" else "month"
        except ValueError as e:
            check.error(merged.key_lines.get("retrieved_on", raw.line), fact_id, f"bad retrieved_on: {e}")
    # quote: verbatim, or explicitly absent because the pack only paraphrases
    paraphrase = _bool_field(check, merged, "quote_is_paraphrase", fact_id, default=False)
    quote = _str_field(check, merged, "quote", fact_id, required=False)
    if paraphrase is False and quote is None and "quote" not in merged:
        check.error(
            raw.line,
            fact_id,
            "missing field `quote` (or set quote_is_paraphrase: true and put the paraphrase in summary)",
        )
    if paraphrase and quote is not None:
        check.error(
            merged.key_lines.get("quote", raw.line),
            fact_id,
            "quote_is_paraphrase is true but a quote is given: a paraphrase goes in summary",
        )
    # parties
    parties: list[CuratedParty] = []
    raw_parties = merged.get("parties")
    if raw_parties is not None:
        if not isinstance(raw_parties, list) or not raw_parties:
            check.error(
                merged.key_lines.get("parties", raw.line), fact_id, "parties must be a non-empty list"
            )
        else:
            for p in raw_parties:
                party = _parse_party(
                    check, p, getattr(p, "line", merged.key_lines.get("parties", raw.line)), fact_id
                )
                if party is not None:
                    parties.append(party)
    # region, amount
    region = merged.get("region")
    if region is not None:
        region = str(region).zfill(2) if isinstance(region, int) else region
        if region not in kato:
            check.error(
                merged.key_lines.get("region", raw.line),
                fact_id,
                f"region {merged.get('region')!r} is not a KATO 2-digit region code (data/reference/kato_regions.csv)",
            )
    amount: Decimal | None = None
    if merged.get("amount") is not None:
        value = merged["amount"]
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            amount = Decimal(str(value).replace(" ", "").replace("\u00a0", ""))
            if not amount.is_finite() or amount < 0:
                raise InvalidOperation
        except InvalidOperation:
            check.error(
                merged.key_lines.get("amount", raw.line),
                fact_id,
                f"amount must be a non-negative number, got {value!r}",
            )
        if merged.get("currency") is None:
            check.error(
                merged.key_lines.get("amount", raw.line), fact_id, "an amount needs a currency (e.g. KZT)"
            )
    approx = _bool_field(check, merged, "amount_approximate", fact_id, default=False)
    details = merged.get("details", {})
    if not isinstance(details, dict):
        check.error(merged.key_lines.get("details", raw.line), fact_id, "details must be a mapping")
        details = {}
    related = merged.get("related", [])
    if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
        check.error(merged.key_lines.get("related", raw.line), fact_id, "related must be a list of fact ids")
        related = []
    citation = _str_field(check, merged, "citation", fact_id, required=False)
    retrieval_note = _str_field(check, merged, "retrieval_note", fact_id, required=False)
    date_note = _str_field(check, merged, "date_note", fact_id, required=False)
    note = _str_field(check, merged, "note", fact_id, required=False)
    currency = merged.get("currency")
    if currency is not None and not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
        check.error(
            merged.key_lines.get("currency", raw.line),
            fact_id,
            f"currency must be an ISO 4217 code like KZT, got {currency!r}",
        )
    if len(check.errors) > before:
        return None
    # every check above passed, so the required values are present
    if fact_id is None or not isinstance(kind, str) or summary is None or not isinstance(url, str):
        raise AssertionError(fact_id)
    if retrieved is None or fictional is None or paraphrase is None or approx is None:
        raise AssertionError(fact_id)
    return CuratedFact(
        id=fact_id,
        kind=kind,
        fictional=fictional,
        parties=tuple(parties),
        date=fact_date,
        date_precision=precision,
        date_basis=date_basis,
        summary=summary,
        source_url=url,
        retrieved_on=retrieved,
        retrieved_precision=retrieved_precision,
        language=str(language),
        quote=quote,
        quote_is_paraphrase=paraphrase,
        citation=citation,
        retrieval_note=retrieval_note,
        region=region,
        amount=amount,
        currency=currency,
        amount_approximate=approx,
        details=dict(details),
        related=tuple(related),
        date_note=date_note,
        note=note,
        file=check.file,
        line=raw.line,
    )


def _load_file(
    path: Path, kato: frozenset[str]
) -> tuple[list[CuratedFact], list[CuratedError], int, set[str]]:
    """Facts of one file, its errors, how many facts it holds (for the rejected-files count), and every id it
    names (also of facts with errors, so that a `related` link into a rejected file is not called dangling)."""
    name = str(path)
    check = _FileCheck(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return [], [CuratedError(name, 1, None, f"cannot read: {e}")], 0, set()
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except _DuplicateKeyError as e:
        return (
            [],
            [CuratedError(name, e.line, None, f"duplicate key `{e.key}` in one mapping")],
            _count_facts(text),
            set(),
        )
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(e, "problem", None) or str(e)
        return (
            [],
            [CuratedError(name, line, None, f"YAML syntax error: {problem}")],
            _count_facts(text),
            set(),
        )
    if not isinstance(doc, _Map) or not isinstance(doc.get("facts"), list):
        return (
            [],
            [
                CuratedError(
                    name, getattr(doc, "line", 1), None, "a curated file is a mapping with a list `facts`"
                )
            ],
            _count_facts(text),
            set(),
        )
    for key in doc:
        if key not in ("facts", "defaults", "description"):
            check.error(
                doc.key_lines.get(key, doc.line),
                None,
                f"unknown top-level key `{key}` (facts, defaults, description)",
            )
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        check.error(doc.key_lines.get("defaults", doc.line), None, "defaults must be a mapping")
        defaults = {}
    for key in defaults:
        if key in ("id", "parties") or (
            key not in _FACT_FIELDS_REQUIRED and key not in _FACT_FIELDS_OPTIONAL
        ):
            check.error(
                getattr(defaults, "key_lines", {}).get(key, doc.line), None, f"`{key}` cannot be a default"
            )
    facts: list[CuratedFact] = []
    seen: dict[str, int] = {}
    for raw in doc["facts"]:
        fact = _parse_fact(check, raw, getattr(raw, "line", doc.line), defaults, kato)
        if fact is None:
            continue
        if fact.id in seen:
            check.error(fact.line, fact.id, f"duplicate id (first at line {seen[fact.id]})")
            continue
        seen[fact.id] = fact.line
        facts.append(fact)
    ids = {r["id"] for r in doc["facts"] if isinstance(r, dict) and isinstance(r.get("id"), str)}
    return facts, check.errors, len(doc["facts"]), ids


def _count_facts(text: str) -> int:
    """How many facts an unparsable file seems to hold (lines starting a list item with `id:`), for the report."""
    return len(re.findall(r"^\s*-\s+id\s*:", text, flags=re.MULTILINE))


def load_curated(paths: Iterable[Path] | Path = CURATED_DIR) -> CuratedLoad:
    """Load and validate curated files (a directory means its *.yaml and *.yml, in name order)."""
    if isinstance(paths, Path):
        files = sorted([*paths.glob("*.yaml"), *paths.glob("*.yml")]) if paths.is_dir() else [paths]
    else:
        files = sorted(paths)
    kato = _kato_codes()
    result = CuratedLoad()
    first_seen: dict[str, tuple[str, int]] = {}
    pending: list[tuple[str, list[CuratedFact], int]] = []
    all_ids: set[str] = set()
    for path in files:
        facts, errors, count, ids = _load_file(path, kato)
        all_ids |= ids
        name = str(path)
        # an id already loaded from an earlier file makes this file wrong, not the earlier one
        for fact in facts:
            if fact.id in first_seen:
                other_file, other_line = first_seen[fact.id]
                errors.append(
                    CuratedError(
                        name,
                        fact.line,
                        fact.id,
                        f"duplicate id: already defined at {other_file}:{other_line}",
                    )
                )
        if errors:
            result.errors.extend(errors)
            result.rejected_files[name] = count
            continue
        for fact in facts:
            first_seen[fact.id] = (name, fact.line)
        pending.append((name, facts, count))
    for name, facts, count in pending:
        dangling = [
            CuratedError(name, f.line, f.id, f"related id {r!r} is not a curated fact")
            for f in facts
            for r in f.related
            if r not in all_ids
        ]
        if dangling:
            result.errors.extend(dangling)
            result.rejected_files[name] = count
            continue
        result.facts.extend(facts)
        result.loaded_files.append(name)
    return result


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    target = Path(args[0]) if args else CURATED_DIR
    loaded = load_curated(target)
    for error in loaded.errors:
        print(error, file=sys.stderr)
    print(
        f"{len(loaded.facts)} facts from {len(loaded.loaded_files)} files; "
        f"{len(loaded.rejected_files)} files rejected ({sum(loaded.rejected_files.values())} facts not loaded)"
    )
    return 1 if loaded.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
