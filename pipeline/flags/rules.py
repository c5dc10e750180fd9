"""The red-flag rules (DESIGN §8): each reads the database with aggregate SQL or one streamed pass and yields flags.

A flag is a dict with the columns of `flags` (but `computed_at`). Its id is `<code>:<subject>` — stable across
rebuilds so adjudications find it again; thresholds are not part of it. `params` holds the measured inputs as
plain JSON (numbers, ISO dates, strings, lists), enough for the dashboard to word the explanation in any
language; `explanation` is the English wording.

Rules (thresholds in `data/reference/flag_rules.yaml`):
- `single_source_share` — a buyer's or supplier's procurement contracts are mostly non-competitive by value;
- `no_announcement` — no version of a contract points at an announcement (competitive method: always; else
  from an amount);
- `memorandum_no_contract` — a memorandum's company has no contract or PPP with that buyer or in that region
  (same service category when known);
- `memorandum_direct_award` — a non-competitive contract to the memorandum's company follows within a period;
- `two_operators` — one buyer, one service category, two providers whose periods overlap;
- `mid_year_switch` — a buyer's provider of a service changes inside the school year (Sep–May);
- `winner_concentration` — per region and category, top supplier share and HHI by contract value;
- `repeated_pair` — one buyer–supplier pair with many contracts, several non-competitive;
- `unreliable_supplier` — a contract signed while the supplier stood in the register of unreliable suppliers;
- `new_company` — first award soon after the company's registration;
- `shared_person` — one person is head/director/founder of both buyer and supplier, or of two bidders on a lot;
- `amendment_value_creep` — the latest version's amount exceeds the main contract's by a share;
- `donation_paid_support` — a paid contract between donor and recipient follows a donation.

Limits: no contract end dates exist in the data, so "periods" are first..last engagement (plus an assumed
term); a memorandum or donation party that the build could not resolve is matched by its legal form and name
core (`entities.names.normalize_org`), which can miss spelling variants; the legal reference names the law
only (articles were not verified here).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, and_, case, false, func, or_, select, true

from entities.models import (
    Bid,
    Contract,
    Engagement,
    Organization,
    Person,
    RawRecord,
    Role,
    UnreliableSupplier,
)
from pipeline.flags.config import OTHER, FlagConfig
from pipeline.normalize.writer import table_of

Flag = dict[str, Any]

eng_t = table_of(Engagement)
con_t = table_of(Contract)
org_t = table_of(Organization)
per_t = table_of(Person)
role_t = table_of(Role)
bid_t = table_of(Bid)
rnu_t = table_of(UnreliableSupplier)

CONTRACT = "procurement_contract"
ID_LIMIT = 120
CHUNK = 900


def flag_id(code: str, subject: str) -> str:
    """`<code>:<subject>`, within the 120 characters of `flags.id` (a longer one keeps a hash of itself)."""
    full = f"{code}:{subject}"
    if len(full) <= ID_LIMIT:
        return full
    return full[:100] + "~" + hashlib.sha256(full.encode()).hexdigest()[:19]


def money(value: Any) -> float | None:
    return None if value is None else float(round(Decimal(value), 2))


def iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class Context:
    """What several rules share: the configuration, organization names, evidence URLs."""

    conn: Connection
    cfg: FlagConfig
    _orgs: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    _name_keys: dict[tuple[str | None, str], str] | None = None
    # flags whose source URLs are their evidence engagements' URLs, looked up in batches at the end
    pending_urls: list[Flag] = field(default_factory=list)

    def make(
        self,
        code: str,
        subject_kind: str,
        subject_id: str,
        *,
        explanation: str,
        params: dict[str, Any],
        related: Iterable[str | None] = (),
        region: str | None = None,
        evidence: Iterable[str] = (),
        urls: Iterable[str | None] | None = (),
        fictional: bool = False,
        severity: str | None = None,
        id_subject: str | None = None,
    ) -> Flag:
        limit = self.cfg.max_evidence
        flag = {
            "id": flag_id(code, id_subject or subject_id),
            "code": code,
            "severity": severity or self.cfg.rule(code).get("severity", "medium"),
            "subject_kind": subject_kind,
            "subject_id": subject_id[:ID_LIMIT],
            "related_ids": sorted({r for r in related if r and r != subject_id}),
            "region_kato": (region or None) and str(region)[:2],
            "explanation": explanation,
            "params": params,
            "thresholds": self.cfg.thresholds(code),
            "legal_reference": self.cfg.legal_reference(code),
            "evidence": list(dict.fromkeys(evidence))[:limit],
            "source_urls": [] if urls is None else list(dict.fromkeys(u for u in urls if u))[:limit],
            "is_fictional": bool(fictional),
        }
        if urls is None:
            self.pending_urls.append(flag)
        return flag

    def resolve_urls(self) -> None:
        """Fill the source URLs of the flags made with `urls=None` from their evidence, in a few queries."""
        wanted = sorted({i for f in self.pending_urls for i in f["evidence"]})
        found = self.urls(wanted)
        for f in self.pending_urls:
            f["source_urls"] = list(dict.fromkeys(u for i in f["evidence"] if (u := found.get(i))))
        self.pending_urls.clear()

    def orgs(self, ids: Iterable[str | None]) -> dict[str, tuple[str | None, str | None]]:
        """id → (name, two-digit region) for organizations, cached."""
        missing = sorted({i for i in ids if i and i not in self._orgs})
        o = org_t.c
        for chunk in _chunks(missing):
            for row in self.conn.execute(
                select(o.id, o.name_ru, o.name_kk, o.region_kato).where(o.id.in_(chunk))
            ):
                self._orgs[row.id] = (row.name_ru or row.name_kk, row.region_kato)
        for i in missing:
            self._orgs.setdefault(i, (None, None))
        return self._orgs

    def name(self, org_id: str | None, fallback: str | None = None) -> str | None:
        if not org_id:
            return fallback
        return self.orgs([org_id]).get(org_id, (None, None))[0] or fallback

    def region(self, org_id: str | None) -> str | None:
        if not org_id:
            return None
        return self.orgs([org_id]).get(org_id, (None, None))[1]

    def org_by_name(self, name: str | None) -> str | None:
        """An unresolved party → a contract party with the same legal form and name core, if exactly one."""
        if not name:
            return None
        from entities.names import normalize_org

        if self._name_keys is None:
            keys: dict[tuple[str | None, str], str] = {}
            seen: set[tuple[str | None, str]] = set()
            e, o = eng_t.c, org_t.c
            parties = select(e.provider_id.label("oid")).where(e.provider_id.isnot(None)).union(
                select(e.buyer_id.label("oid")).where(e.buyer_id.isnot(None))
            ).subquery()
            rows = self.conn.execute(
                select(o.id, o.name_ru, o.name_kk).join(parties, parties.c.oid == o.id)
            )
            for row in rows:
                for text in {row.name_ru, row.name_kk} - {None}:
                    parsed = normalize_org(text)
                    key = (parsed.legal_type, parsed.core)
                    if not parsed.core:
                        continue
                    if key in keys and keys[key] != row.id:
                        seen.add(key)  # ambiguous: two organizations share the key
                    keys[key] = row.id
            self._name_keys = {k: v for k, v in keys.items() if k not in seen}
        parsed = normalize_org(name)
        return self._name_keys.get((parsed.legal_type, parsed.core)) if parsed.core else None

    def urls(self, engagement_ids: Sequence[str]) -> dict[str, str | None]:
        e = eng_t.c
        out: dict[str, str | None] = {}
        for chunk in _chunks(list(engagement_ids)):
            for row in self.conn.execute(select(e.id, e.source_url).where(e.id.in_(chunk))):
                out[row.id] = row.source_url
        return out


def _is_contract() -> Any:
    return eng_t.c.instrument == CONTRACT


# ------------------------------------------------------------------------------ single-source share


def single_source_share(ctx: Context) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("single_source_share")
    e = eng_t.c
    direct = e.legal_basis.in_(list(cfg["legal_bases"]))
    for side, column, kind in (("buyer", e.buyer_id, "buyer"), ("supplier", e.provider_id, "supplier")):
        query = (
            select(
                column.label("org"),
                func.count().label("n"),
                func.sum(e.amount_kzt).label("total"),
                func.sum(case((direct, e.amount_kzt), else_=0)).label("direct_total"),
                func.sum(case((direct, 1), else_=0)).label("direct_n"),
                func.max(case((e.is_fictional == true(), 1), else_=0)).label("fict"),
            )
            .where(_is_contract(), column.isnot(None), e.amount_kzt.isnot(None))
            .group_by(column)
            .having(func.count() >= int(cfg["min_contracts"]))
        )
        hits = []
        for row in ctx.conn.execute(query):
            total = Decimal(row.total or 0)
            if total < Decimal(str(cfg["min_total_kzt"])) or total <= 0:
                continue
            share = float(Decimal(row.direct_total or 0) / total)
            if share >= float(cfg["min_share"]):
                hits.append((row, share))
        ctx.orgs(row.org for row, _ in hits)
        for row, share in hits:
            sample = list(
                ctx.conn.execute(
                    select(e.id, e.source_url)
                    .where(_is_contract(), column == row.org, direct)
                    .order_by(e.amount_kzt.desc())
                    .limit(ctx.cfg.max_evidence)
                )
            )
            name = ctx.name(row.org)
            params = {
                "side": side, "org_id": row.org, "org_name": name, "contracts": int(row.n),
                "total_kzt": money(row.total), "direct_contracts": int(row.direct_n),
                "direct_total_kzt": money(row.direct_total), "direct_share": round(share, 4),
                "legal_bases": list(cfg["legal_bases"]),
            }  # fmt: skip
            yield ctx.make(
                "single_source_share", "organization", row.org, id_subject=f"{side}|{row.org}",
                explanation=(
                    f"{share:.0%} of the value of the {row.n} procurement contracts of {name or row.org} as {kind} "
                    f"({params['direct_total_kzt']:,.2f} of {params['total_kzt']:,.2f} KZT) was awarded without "
                    f"competition ({', '.join(cfg['legal_bases'])}); the threshold is {float(cfg['min_share']):.0%}."
                ),
                params=params, region=ctx.region(row.org), evidence=[s.id for s in sample],
                urls=[s.source_url for s in sample], fictional=bool(row.fict),
            )  # fmt: skip


# ------------------------------------------------------------------------------ no announcement


def no_announcement(ctx: Context) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("no_announcement")
    e, c = eng_t.c, con_t.c
    announced = (
        select(c.id)
        .where(c.root_id == e.contract_root_id, c.trd_buy_id.isnot(None), c.deleted == false())
        .exists()
    )
    # without any stored version the rule cannot tell (an engagement loaded from elsewhere): no flag
    stored = select(c.id).where(c.root_id == e.contract_root_id).exists()
    query = select(
        e.id, e.buyer_id, e.buyer_name, e.provider_id, e.provider_name, e.legal_basis, e.competitive,
        e.trade_method_id, e.amount_kzt, e.signed_on, e.region_kato, e.source_url, e.is_fictional,
        e.contract_root_id,
    ).where(
        _is_contract(), e.contract_root_id.isnot(None), stored, ~announced,
        or_(e.competitive == true(), e.amount_kzt >= Decimal(str(cfg["min_amount_kzt"]))),
    )  # fmt: skip
    for row in ctx.conn.execute((query).execution_options(yield_per=2000)):
        params = {
            "engagement_id": row.id, "contract_root_id": row.contract_root_id, "legal_basis": row.legal_basis,
            "competitive_method": bool(row.competitive), "trade_method_id": row.trade_method_id,
            "amount_kzt": money(row.amount_kzt), "signed_on": iso(row.signed_on), "buyer_id": row.buyer_id,
            "buyer_name": row.buyer_name, "provider_id": row.provider_id, "provider_name": row.provider_name,
        }  # fmt: skip
        why = (
            "its method is a competitive one, which needs a published announcement"
            if row.competitive
            else f"it is worth {params['amount_kzt'] or 0:,.2f} KZT, at or above {float(cfg['min_amount_kzt']):,.0f} KZT"
        )
        yield ctx.make(
            "no_announcement", "engagement", row.id,
            explanation=(
                f"Contract {row.contract_root_id} ({row.legal_basis}) between {row.buyer_name or row.buyer_id} and "
                f"{row.provider_name or row.provider_id}, signed {iso(row.signed_on)}, refers to no announcement; "
                f"flagged because {why}."
            ),
            params=params, related=[row.buyer_id, row.provider_id], region=row.region_kato, evidence=[row.id],
            urls=[row.source_url], fictional=row.is_fictional, severity="high" if row.competitive else None,
        )  # fmt: skip


# ------------------------------------------------------------------------------ memoranda and donations


@dataclass
class _Instrument:
    id: str
    buyer_id: str | None
    buyer_name: str | None
    provider_id: str | None
    provider_name: str | None
    subject: str | None
    signed_on: date | None
    region: str | None
    url: str | None
    fictional: bool
    ref: str | None


def _instruments(ctx: Context, instrument: str) -> list[_Instrument]:
    e = eng_t.c
    rows = ctx.conn.execute(
        select(
            e.id, e.buyer_id, e.buyer_name, e.provider_id, e.provider_name, e.subject, e.signed_on, e.region_kato,
            e.source_url, e.is_fictional, e.instrument_ref,
        ).where(e.instrument == instrument).order_by(e.id)
    ).all()  # fmt: skip
    out = []
    for r in rows:
        provider = r.provider_id or ctx.org_by_name(r.provider_name)
        buyer = r.buyer_id or ctx.org_by_name(r.buyer_name)
        region = r.region_kato or ctx.region(buyer)
        out.append(_Instrument(r.id, buyer, r.buyer_name, provider, r.provider_name, r.subject, r.signed_on,
                               region, r.source_url, bool(r.is_fictional), r.instrument_ref))  # fmt: skip
    return out


def _same_place(m: _Instrument) -> Any:
    e = eng_t.c
    terms = []
    if m.buyer_id:
        terms.append(e.buyer_id == m.buyer_id)
    if m.region:
        terms.append(e.region_kato == m.region)
    return or_(*terms) if terms else None


def _has_real_contracts(ctx: Context) -> bool:
    e = eng_t.c
    return (
        ctx.conn.execute(select(e.id).where(_is_contract(), e.is_fictional == false()).limit(1)).first()
        is not None
    )


def _categories_near(
    ctx: Context, memos: Sequence[_Instrument], instruments: Sequence[str]
) -> tuple[dict[tuple[str, str], Counter[str]], dict[tuple[str, str], Counter[str]]]:
    """Service categories (with counts) of the memoranda companies' engagements, per region and per buyer.

    Two grouped queries per chunk of companies instead of one query per memorandum: at scale, one company
    signs many memoranda.
    """
    e = eng_t.c
    by_region: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    by_buyer: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    providers = sorted({m.provider_id for m in memos if m.provider_id})
    buyers = sorted({m.buyer_id for m in memos if m.buyer_id})
    base = e.instrument.in_(list(instruments))
    for chunk in _chunks(providers):
        for row in ctx.conn.execute(
            select(e.provider_id, e.region_kato, e.subject, func.count().label("n"))
            .where(base, e.provider_id.in_(chunk), e.region_kato.isnot(None))
            .group_by(e.provider_id, e.region_kato, e.subject)
        ):
            by_region[(row.provider_id, row.region_kato)][ctx.cfg.category(row.subject)] += int(row.n)
        for buyer_chunk in _chunks(buyers):
            for row in ctx.conn.execute(
                select(e.provider_id, e.buyer_id, e.subject, func.count().label("n"))
                .where(base, e.provider_id.in_(chunk), e.buyer_id.in_(buyer_chunk))
                .group_by(e.provider_id, e.buyer_id, e.subject)
            ):
                by_buyer[(row.provider_id, row.buyer_id)][ctx.cfg.category(row.subject)] += int(row.n)
    return by_region, by_buyer


def memorandum_no_contract(ctx: Context) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("memorandum_no_contract")
    real_contracts = _has_real_contracts(ctx)
    memos = [
        m for m in _instruments(ctx, "memorandum")
        # unresolved company or nowhere to look: the rule cannot tell
        if m.provider_id is not None and (m.region or m.buyer_id)
        and (m.fictional or not ctx.cfg.absence_needs_real or real_contracts)
    ]  # fmt: skip
    by_region, by_buyer = _categories_near(ctx, memos, cfg["instruments"])
    for m in memos:
        assert m.provider_id is not None
        category = ctx.cfg.category(m.subject)
        found: Counter[str] = Counter()
        if m.region:
            found |= by_region.get((m.provider_id, m.region), Counter())
        if m.buyer_id:
            found |= by_buyer.get((m.provider_id, m.buyer_id), Counter())
        if found and (category == OTHER or found[category]):
            continue
        name = ctx.name(m.provider_id, m.provider_name)
        params = {
            "memorandum_engagement_id": m.id, "memorandum_id": m.ref, "signed_on": iso(m.signed_on),
            "provider_id": m.provider_id, "provider_name": name, "buyer_id": m.buyer_id, "buyer_name": m.buyer_name,
            "region_kato": m.region, "service_category": category, "instruments_checked": list(cfg["instruments"]),
            "other_engagements_of_provider_there": sum(found.values()),
        }  # fmt: skip
        scope = f"in region {m.region}" if m.region else f"with {m.buyer_name or m.buyer_id}"
        what = f" for the service category {category}" if category != OTHER else ""
        yield ctx.make(
            "memorandum_no_contract", "memorandum", m.ref or m.id,
            explanation=(
                f"{name} signed a memorandum on {iso(m.signed_on)} with {m.buyer_name or m.buyer_id}, but no "
                f"procurement contract or PPP agreement of {name} {scope}{what} is in the database."
            ),
            params=params, related=[m.provider_id, m.buyer_id], region=m.region, evidence=[m.id] + ([m.ref] if m.ref else []),
            urls=[m.url], fictional=m.fictional,
        )  # fmt: skip


def _followers(
    ctx: Context, m: _Instrument, days: int, where: Any, *, strictly_after: bool = False
) -> list[Any]:
    e = eng_t.c
    if m.signed_on is None or m.provider_id is None or where is None:
        return []
    start = e.signed_on > m.signed_on if strictly_after else e.signed_on >= m.signed_on
    return ctx.conn.execute(
        select(e.id, e.signed_on, e.amount_kzt, e.legal_basis, e.buyer_id, e.buyer_name, e.source_url,
               e.is_fictional, e.subject)
        .where(_is_contract(), e.provider_id == m.provider_id, start,
               e.signed_on <= m.signed_on + timedelta(days=days), where)
        .order_by(e.signed_on, e.id)
    ).all()  # fmt: skip


def memorandum_direct_award(ctx: Context) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("memorandum_direct_award")
    days = int(cfg["period_days"])
    e = eng_t.c
    for m in _instruments(ctx, "memorandum"):
        place = _same_place(m)
        rows = _followers(ctx, m, days, and_(e.competitive == false(), place) if place is not None else None)
        if not rows:
            continue
        name = ctx.name(m.provider_id, m.provider_name)
        first = rows[0]
        params = {
            "memorandum_engagement_id": m.id, "memorandum_id": m.ref, "memorandum_signed_on": iso(m.signed_on),
            "provider_id": m.provider_id, "provider_name": name, "buyer_id": m.buyer_id, "buyer_name": m.buyer_name,
            "region_kato": m.region, "direct_contracts": len(rows),
            "direct_total_kzt": money(sum(Decimal(r.amount_kzt or 0) for r in rows)),
            "first_contract_id": first.id, "first_contract_signed_on": iso(first.signed_on),
            "days_after": (first.signed_on - m.signed_on).days, "legal_bases": sorted({r.legal_basis for r in rows}),
        }  # fmt: skip
        yield ctx.make(
            "memorandum_direct_award", "memorandum", m.ref or m.id,
            explanation=(
                f"{params['days_after']} days after signing a memorandum with {m.buyer_name or m.buyer_id} "
                f"({iso(m.signed_on)}), {name} received {len(rows)} non-competitive contract(s) "
                f"worth {params['direct_total_kzt']:,.2f} KZT from buyers "
                f"{'in region ' + m.region if m.region else 'of the memorandum'} within {days} days."
            ),
            params=params, related=[m.provider_id, m.buyer_id, *(r.buyer_id for r in rows)], region=m.region,
            evidence=[m.id, *(r.id for r in rows)], urls=[m.url, *(r.source_url for r in rows)],
            fictional=m.fictional or any(r.is_fictional for r in rows),
        )  # fmt: skip


def donation_paid_support(ctx: Context) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("donation_paid_support")
    days = int(cfg["period_days"])
    e = eng_t.c
    for m in _instruments(ctx, "donation"):
        if m.buyer_id is None:
            continue
        rows = _followers(ctx, m, days, and_(e.buyer_id == m.buyer_id, e.amount_kzt > 0), strictly_after=True)
        if not rows:
            continue
        donor = ctx.name(m.provider_id, m.provider_name)
        recipient = ctx.name(m.buyer_id, m.buyer_name)
        first = rows[0]
        params = {
            "donation_engagement_id": m.id, "donated_on": iso(m.signed_on), "provider_id": m.provider_id,
            "provider_name": donor, "buyer_id": m.buyer_id, "buyer_name": recipient, "paid_contracts": len(rows),
            "paid_total_kzt": money(sum(Decimal(r.amount_kzt or 0) for r in rows)),
            "first_contract_id": first.id, "first_contract_signed_on": iso(first.signed_on),
            "days_after": (first.signed_on - m.signed_on).days, "legal_bases": sorted({r.legal_basis for r in rows}),
            "service_categories": sorted({ctx.cfg.category(r.subject) for r in rows}),
        }  # fmt: skip
        yield ctx.make(
            "donation_paid_support", "engagement", m.id,
            explanation=(
                f"{donor} donated to {recipient} on {iso(m.signed_on)}; {params['days_after']} days later the "
                f"same buyer paid {donor} under {len(rows)} contract(s) worth {params['paid_total_kzt']:,.2f} KZT "
                f"(within {days} days)."
            ),
            params=params, related=[m.provider_id, m.buyer_id], region=m.region or ctx.region(m.buyer_id),
            evidence=[m.id, *(r.id for r in rows)], urls=[m.url, *(r.source_url for r in rows)],
            fictional=m.fictional or any(r.is_fictional for r in rows),
        )  # fmt: skip


# ------------------------------------------------------------------------------ one streamed pass


@dataclass(slots=True)
class _Span:
    first: date
    last: date
    n: int = 0
    fict: bool = False
    ids: list[str] = field(default_factory=list)

    def add(self, day: date, ident: str, fict: bool) -> None:
        self.first = min(self.first, day)
        self.last = max(self.last, day)
        self.n += 1
        self.fict = self.fict or fict
        if len(self.ids) < 3:
            self.ids.append(ident)


@dataclass(slots=True)
class _Pair:
    n: int = 0
    noncompetitive: int = 0
    total: Decimal = Decimal(0)
    first: date | None = None
    last: date | None = None
    fict: bool = False
    ids: list[str] = field(default_factory=list)


@dataclass
class Scan:
    """Aggregates of one pass over the engagements: per buyer × category × provider, per pair, per market."""

    spans: dict[tuple[str, str], dict[str, _Span]] = field(default_factory=lambda: defaultdict(dict))
    pairs: dict[tuple[str, str], _Pair] = field(default_factory=lambda: defaultdict(_Pair))
    markets: dict[tuple[str, str], dict[str, list[Any]]] = field(default_factory=lambda: defaultdict(dict))
    rows: int = 0


def scan_engagements(ctx: Context) -> Scan:
    cfg = ctx.cfg
    tracked = set(cfg.rule("two_operators")["categories"]) | set(cfg.rule("mid_year_switch")["categories"])
    e = eng_t.c
    scan = Scan()
    query = select(
        e.id, e.instrument, e.competitive, e.buyer_id, e.provider_id, e.subject, e.amount_kzt, e.signed_on,
        e.region_kato, e.is_fictional,
    ).where(e.buyer_id.isnot(None), e.provider_id.isnot(None), e.signed_on.isnot(None))
    for row in ctx.conn.execute((query).execution_options(yield_per=5000)):
        scan.rows += 1
        category = cfg.category(row.subject)
        if category in tracked and row.buyer_id != row.provider_id:
            by_provider = scan.spans[(row.buyer_id, category)]
            span = by_provider.get(row.provider_id)
            if span is None:
                span = by_provider[row.provider_id] = _Span(row.signed_on, row.signed_on)
            span.add(row.signed_on, row.id, bool(row.is_fictional))
        if row.instrument != CONTRACT:
            continue
        pair = scan.pairs[(row.buyer_id, row.provider_id)]
        pair.n += 1
        pair.noncompetitive += 0 if row.competitive else 1
        pair.total += Decimal(row.amount_kzt or 0)
        pair.first = row.signed_on if pair.first is None else min(pair.first, row.signed_on)
        pair.last = row.signed_on if pair.last is None else max(pair.last, row.signed_on)
        pair.fict = pair.fict or bool(row.is_fictional)
        if len(pair.ids) < 5:
            pair.ids.append(row.id)
        if row.region_kato and category != OTHER and row.amount_kzt is not None:
            market = scan.markets[(row.region_kato, category)]
            entry = market.setdefault(row.provider_id, [0, Decimal(0), False, []])
            entry[0] += 1
            entry[1] += Decimal(row.amount_kzt)
            entry[2] = entry[2] or bool(row.is_fictional)
            if len(entry[3]) < 5:
                entry[3].append(row.id)
    return scan


def _overlap(a: _Span, b: _Span, term: int) -> int | None:
    """Days two spans (each extended by `term` days) share, or None when disjoint."""
    start = max(a.first, b.first)
    end = min(a.last + timedelta(days=term), b.last + timedelta(days=term))
    return (end - start).days if end >= start else None


def two_operators(ctx: Context, scan: Scan) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("two_operators")
    cats, term, least = set(cfg["categories"]), int(cfg["assumed_term_days"]), int(cfg["min_engagements"])
    for (buyer, category), providers in scan.spans.items():
        if category not in cats or len(providers) < 2:
            continue
        items = sorted((p, s) for p, s in providers.items() if s.n >= least)
        overlaps = []
        for i, (pa, sa) in enumerate(items):
            for pb, sb in items[i + 1 :]:
                days = _overlap(sa, sb, term)
                if days is not None:
                    overlaps.append((pa, sa, pb, sb, days))
        if not overlaps:
            continue
        ctx.orgs([buyer, *providers])
        involved = sorted({p for o in overlaps for p in (o[0], o[2])})
        params = {
            "buyer_id": buyer, "buyer_name": ctx.name(buyer), "service_category": category,
            "providers": [{"provider_id": p, "provider_name": ctx.name(p), "first": iso(providers[p].first),
                           "last": iso(providers[p].last), "engagements": providers[p].n} for p in involved],
            "overlaps": [{"a": pa, "b": pb, "from": iso(max(sa.first, sb.first)), "days": days}
                         for pa, sa, pb, sb, days in overlaps],
        }  # fmt: skip
        ids = [i for p in involved for i in providers[p].ids]
        names = " and ".join(str(ctx.name(p) or p) for p in involved)
        yield ctx.make(
            "two_operators", "organization", buyer, id_subject=f"{buyer}|{category}",
            explanation=(
                f"{ctx.name(buyer) or buyer} has engagements for the same service ({category}) with {names} "
                f"in overlapping periods."
            ),
            params=params, related=involved, region=ctx.region(buyer), evidence=ids,
            urls=None, fictional=any(providers[p].fict for p in involved),
        )  # fmt: skip


def in_school_year(day: date, cfg: dict[str, Any]) -> bool:
    """Whether a day falls inside the school year, after the start grace period (flag_rules.yaml)."""
    start_month, end_month = int(cfg["school_year_start_month"]), int(cfg["school_year_end_month"])
    year = day.year if day.month >= start_month else day.year - 1
    start = date(year, start_month, 1) + timedelta(days=int(cfg["start_grace_days"]))
    end_year = year + 1 if end_month < start_month else year
    end = (date(end_year, end_month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return start <= day <= end


def mid_year_switch(ctx: Context, scan: Scan) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("mid_year_switch")
    cats, gap = set(cfg["categories"]), int(cfg["max_gap_days"])
    for (buyer, category), providers in scan.spans.items():
        if category not in cats or len(providers) < 2:
            continue
        ordered = sorted(providers.items(), key=lambda kv: (kv[1].first, kv[0]))
        for (old, so), (new, sn) in pairwise(ordered):
            if not so.last < sn.first <= so.last + timedelta(days=gap) or not in_school_year(sn.first, cfg):
                continue
            ctx.orgs([buyer, old, new])
            params = {
                "buyer_id": buyer, "buyer_name": ctx.name(buyer), "service_category": category,
                "old_provider_id": old, "old_provider_name": ctx.name(old), "old_last": iso(so.last),
                "new_provider_id": new, "new_provider_name": ctx.name(new), "new_first": iso(sn.first),
                "gap_days": (sn.first - so.last).days,
            }  # fmt: skip
            ids = [*so.ids, *sn.ids]
            yield ctx.make(
                "mid_year_switch", "organization", buyer, id_subject=f"{buyer}|{category}|{new}",
                explanation=(
                    f"{ctx.name(buyer) or buyer} moved its {category} service from {ctx.name(old) or old} "
                    f"(last engagement {iso(so.last)}) to {ctx.name(new) or new} (first engagement "
                    f"{iso(sn.first)}), in the middle of the school year."
                ),
                params=params, related=[old, new], region=ctx.region(buyer), evidence=ids,
                urls=None, fictional=so.fict or sn.fict,
            )  # fmt: skip


def winner_concentration(ctx: Context, scan: Scan) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("winner_concentration")
    for (region, category), suppliers in sorted(scan.markets.items()):
        n = sum(v[0] for v in suppliers.values())
        total = sum((v[1] for v in suppliers.values()), Decimal(0))
        if n < int(cfg["min_contracts"]) or total <= 0:
            continue
        shares = sorted(((float(v[1] / total), p) for p, v in suppliers.items()), reverse=True)
        hhi = round(sum((100 * s) ** 2 for s, _ in shares))
        top_share, top = shares[0]
        if top_share < float(cfg["min_top_share"]) or hhi < int(cfg["min_hhi"]):
            continue  # both must hold: a dominant supplier in a concentrated market
        ctx.orgs(p for _, p in shares[:5])
        params = {
            "region_kato": region, "service_category": category, "contracts": n, "total_kzt": money(total),
            "suppliers": len(shares), "top_supplier_id": top, "top_supplier_name": ctx.name(top),
            "top_share": round(top_share, 4), "hhi": hhi,
            "top5": [{"supplier_id": p, "supplier_name": ctx.name(p), "share": round(s, 4)} for s, p in shares[:5]],
        }  # fmt: skip
        ids = list(suppliers[top][3])
        yield ctx.make(
            "winner_concentration", "market", f"{region}|{category}",
            explanation=(
                f"In region {region}, {ctx.name(top) or top} holds {top_share:.0%} of the value of the {n} "
                f"{category} procurement contracts ({len(shares)} supplier(s), HHI {hhi} of 10000)."
            ),
            params=params, related=[top], region=region, evidence=ids, urls=None,
            fictional=any(v[2] for v in suppliers.values()),
        )  # fmt: skip


def repeated_pair(ctx: Context, scan: Scan) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("repeated_pair")
    least, noncomp = int(cfg["min_contracts"]), int(cfg["min_noncompetitive"])
    hits = [(k, p) for k, p in scan.pairs.items() if p.n >= least and p.noncompetitive >= noncomp]
    ctx.orgs(i for (b, s), _ in hits for i in (b, s))
    for (buyer, supplier), p in sorted(hits):
        params = {
            "buyer_id": buyer, "buyer_name": ctx.name(buyer), "provider_id": supplier,
            "provider_name": ctx.name(supplier), "contracts": p.n, "noncompetitive_contracts": p.noncompetitive,
            "total_kzt": money(p.total), "first": iso(p.first), "last": iso(p.last),
        }  # fmt: skip
        yield ctx.make(
            "repeated_pair", "pair", f"{buyer}|{supplier}",
            explanation=(
                f"{ctx.name(buyer) or buyer} signed {p.n} procurement contracts with {ctx.name(supplier) or supplier} "
                f"({p.noncompetitive} non-competitive) worth {params['total_kzt']:,.2f} KZT between {iso(p.first)} "
                f"and {iso(p.last)}."
            ),
            params=params, related=[buyer, supplier], region=ctx.region(buyer), evidence=p.ids,
            urls=None, fictional=p.fict,
        )  # fmt: skip


# ------------------------------------------------------------------------------ registers and registrations


def unreliable_supplier(ctx: Context) -> Iterator[Flag]:
    e, u = eng_t.c, rnu_t.c
    query = (
        select(
            e.id, e.buyer_id, e.buyer_name, e.provider_id, e.provider_name, e.provider_bin, e.signed_on,
            e.amount_kzt, e.region_kato, e.source_url, e.is_fictional, u.rnu_id, u.start_date, u.end_date,
        )
        .join(rnu_t, u.supplier_biin == e.provider_bin)
        .where(_is_contract(), u.start_date.isnot(None), e.signed_on >= u.start_date,
               or_(u.end_date.is_(None), e.signed_on <= u.end_date))
    )  # fmt: skip
    for row in ctx.conn.execute((query).execution_options(yield_per=2000)):
        params = {
            "engagement_id": row.id, "provider_id": row.provider_id, "provider_name": row.provider_name,
            "provider_bin": row.provider_bin, "buyer_id": row.buyer_id, "buyer_name": row.buyer_name,
            "signed_on": iso(row.signed_on), "amount_kzt": money(row.amount_kzt), "register_entry": row.rnu_id,
            "listed_from": iso(row.start_date), "listed_until": iso(row.end_date),
        }  # fmt: skip
        yield ctx.make(
            "unreliable_supplier", "engagement", row.id,
            explanation=(
                f"{row.provider_name or row.provider_bin} was awarded a contract by {row.buyer_name or row.buyer_id} "
                f"on {iso(row.signed_on)} while listed in the register of unreliable suppliers "
                f"({iso(row.start_date)} – {iso(row.end_date) or 'open'}, entry {row.rnu_id})."
            ),
            params=params, related=[row.provider_id, row.buyer_id], region=row.region_kato, evidence=[row.id],
            urls=[row.source_url], fictional=row.is_fictional,
        )  # fmt: skip


def new_company(ctx: Context) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("new_company")
    e, o = eng_t.c, org_t.c
    firsts = (
        select(e.provider_id.label("org"), func.min(e.signed_on).label("first"), func.count().label("n"))
        .where(_is_contract(), e.provider_id.isnot(None), e.signed_on.isnot(None))
        .group_by(e.provider_id)
        .subquery()
    )
    rows = ctx.conn.execute(
        select(firsts.c.org, firsts.c.first, firsts.c.n, o.registered_on, o.name_ru, o.name_kk, o.region_kato)
        .join(org_t, o.id == firsts.c.org)
        .where(o.registered_on.isnot(None))
    ).all()
    for row in rows:
        days = (row.first - row.registered_on).days
        if not 0 <= days <= int(cfg["max_days"]):
            continue
        first = ctx.conn.execute(
            select(e.id, e.source_url, e.buyer_id, e.buyer_name, e.amount_kzt, e.is_fictional)
            .where(_is_contract(), e.provider_id == row.org, e.signed_on == row.first)
            .order_by(e.id)
            .limit(1)
        ).one()
        name = row.name_ru or row.name_kk
        params = {
            "org_id": row.org, "org_name": name, "registered_on": iso(row.registered_on),
            "first_award_on": iso(row.first), "days": days, "first_engagement_id": first.id,
            "first_buyer_id": first.buyer_id, "first_buyer_name": first.buyer_name,
            "first_amount_kzt": money(first.amount_kzt), "contracts": int(row.n),
        }  # fmt: skip
        yield ctx.make(
            "new_company", "organization", row.org,
            explanation=(
                f"{name or row.org} was registered on {iso(row.registered_on)} and won its first procurement "
                f"contract {days} days later ({iso(row.first)}, from {first.buyer_name or first.buyer_id})."
            ),
            params=params, related=[first.buyer_id], region=row.region_kato, evidence=[first.id],
            urls=[first.source_url], fictional=first.is_fictional,
        )  # fmt: skip


# ------------------------------------------------------------------------------ shared people


def shared_person(ctx: Context) -> Iterator[Flag]:
    """Only persons with such roles in two or more organizations are candidates: a small set even at scale."""
    cfg = ctx.cfg.rule("shared_person")
    roles = list(cfg["roles"])
    r = role_t.c
    multi = (
        select(r.person_id)
        .where(r.role.in_(roles))
        .group_by(r.person_id)
        .having(func.count(func.distinct(r.organization_id)) > 1)
        .subquery()
    )
    held: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # person → org → role summary
    for row in ctx.conn.execute(
        select(r.person_id, r.organization_id, r.role, func.min(r.start_date).label("since"),
               func.max(r.end_date).label("until"))
        .where(r.role.in_(roles), r.person_id.in_(select(multi.c.person_id)))
        .group_by(r.person_id, r.organization_id, r.role)
    ):  # fmt: skip
        entry = held[row.person_id].setdefault(row.organization_id, {"roles": set(), "since": None, "until": None})
        entry["roles"].add(row.role)
        if row.since and (entry["since"] is None or row.since < entry["since"]):
            entry["since"] = row.since
        if row.until and (entry["until"] is None or row.until > entry["until"]):
            entry["until"] = row.until
    if not held:
        return
    people = {p.id: p.display_name for p in ctx.conn.execute(
        select(per_t.c.id, per_t.c.display_name).where(per_t.c.id.in_(list(held)))
    )}  # fmt: skip
    by_org: dict[str, set[str]] = defaultdict(set)
    for person, orgs in held.items():
        for org in orgs:
            by_org[org].add(person)
    candidates = sorted(by_org)
    ctx.orgs(candidates)

    def role_of(person: str, org: str) -> dict[str, Any]:
        h = held[person][org]
        return {"org_id": org, "org_name": ctx.name(org), "roles": sorted(h["roles"]), "since": iso(h["since"]),
                "until": iso(h["until"])}  # fmt: skip

    # (a) buyer and supplier of an engagement
    e = eng_t.c
    for chunk in _chunks(candidates, 450):
        rows = ctx.conn.execute(
            select(e.buyer_id, e.provider_id, func.count().label("n"), func.min(e.signed_on).label("first"),
                   func.max(e.signed_on).label("last"), func.sum(e.amount_kzt).label("total"),
                   func.min(e.id).label("eid"), func.max(case((e.is_fictional == true(), 1), else_=0)).label("fict"))
            .where(e.buyer_id.in_(chunk), e.provider_id.in_(candidates), e.buyer_id != e.provider_id)
            .group_by(e.buyer_id, e.provider_id)
        ).all()  # fmt: skip
        for row in rows:
            shared = sorted(by_org[row.buyer_id] & by_org[row.provider_id])
            for person in shared:
                params = {
                    "kind": "buyer_supplier", "person_id": person, "person_name": people.get(person),
                    "buyer": role_of(person, row.buyer_id), "supplier": role_of(person, row.provider_id),
                    "engagements": int(row.n), "total_kzt": money(row.total), "first": iso(row.first),
                    "last": iso(row.last),
                }  # fmt: skip
                yield ctx.make(
                    "shared_person", "person", person, id_subject=f"{person}|{row.buyer_id}|{row.provider_id}",
                    explanation=(
                        f"{people.get(person) or person} is recorded as {'/'.join(params['buyer']['roles'])} of the "
                        f"buyer {ctx.name(row.buyer_id) or row.buyer_id} and as "
                        f"{'/'.join(params['supplier']['roles'])} of its supplier "
                        f"{ctx.name(row.provider_id) or row.provider_id} ({row.n} engagement(s), {iso(row.first)} – "
                        f"{iso(row.last)}); the role dates are in the inputs."
                    ),
                    params=params, related=[row.buyer_id, row.provider_id], region=ctx.region(row.buyer_id),
                    evidence=[row.eid], urls=None, fictional=bool(row.fict),
                )  # fmt: skip

    # (b) two bidders on one lot
    o = org_t.c
    org_of: dict[str, str] = {}
    for chunk in _chunks(candidates):
        for row in ctx.conn.execute(select(o.id, o.bin, o.iin).where(o.id.in_(chunk))):
            for key in (row.bin, row.iin):
                if key:
                    org_of[key] = row.id
    lots: dict[int, set[str]] = defaultdict(set)
    applications: dict[tuple[int, str], int] = {}  # (lot, bidder) → the raw record of the application
    b = bid_t.c
    for chunk in _chunks(sorted(org_of)):
        for row in ctx.conn.execute(
            select(b.lot_id, b.supplier_biin, b.raw_record_id).where(
                b.supplier_biin.in_(chunk), b.lot_id.isnot(None)
            )
        ):
            lots[row.lot_id].add(org_of[row.supplier_biin])
            applications[(row.lot_id, org_of[row.supplier_biin])] = row.raw_record_id
    together: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for lot, orgs in lots.items():
        ordered = sorted(orgs)
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                for person in by_org[first] & by_org[second]:
                    together[(person, first, second)].append(lot)
    for (person, first, second), lot_ids in sorted(together.items()):
        fictional = ctx.conn.execute(
            select(func.count()).select_from(eng_t).where(
                e.is_fictional == true(), or_(e.provider_id == first, e.provider_id == second)
            )
        ).scalar_one() > 0  # fmt: skip
        params = {
            "kind": "bidders", "person_id": person, "person_name": people.get(person),
            "bidder_a": role_of(person, first), "bidder_b": role_of(person, second), "lots": len(lot_ids),
            "lot_ids": sorted(lot_ids)[:25],
        }  # fmt: skip
        yield ctx.make(
            "shared_person", "person", person, id_subject=f"{person}|bids|{first}|{second}",
            explanation=(
                f"{people.get(person) or person} is recorded as head or founder of both "
                f"{ctx.name(first) or first} and {ctx.name(second) or second}, which bid on the same "
                f"{len(lot_ids)} lot(s)."
            ),
            params=params, related=[first, second], region=ctx.region(first),
            evidence=[f"lot:{lot}" for lot in sorted(lot_ids)],
            urls=_raw_urls(ctx, [applications[(lot, org)] for lot in sorted(lot_ids) for org in (first, second)]),
            fictional=fictional,
        )  # fmt: skip


def _raw_urls(ctx: Context, raw_ids: Sequence[int]) -> list[str]:
    """The public page (else the API address) of each raw record, in the given order."""
    r = table_of(RawRecord).c
    found = {
        row.id: row.human_url or row.url
        for chunk in _chunks(sorted(set(raw_ids)))
        for row in ctx.conn.execute(select(r.id, r.url, r.human_url).where(r.id.in_(chunk)))
    }
    return [found[i] for i in raw_ids if found.get(i)]


# ------------------------------------------------------------------------------ amendments


def _effective(amount: Any, with_vat: Any) -> Decimal | None:
    """As the engagement's amount: with VAT when given (a 0 beside a non-zero sum is "not given")."""
    if with_vat is not None and not (with_vat == 0 and amount not in (None, 0)):
        return Decimal(with_vat)
    return None if amount is None else Decimal(amount)


def amendment_value_creep(ctx: Context) -> Iterator[Flag]:
    cfg = ctx.cfg.rule("amendment_value_creep")
    c, e = con_t.c, eng_t.c
    latest = (
        select(c.root_id, func.max(c.id).label("last_id"), func.count().label("n"))
        .where(c.deleted == false())
        .group_by(c.root_id)
        .having(func.count() > 1)
        .subquery()
    )
    main, last = con_t.alias("main"), con_t.alias("last")
    query = (
        select(
            latest.c.root_id, latest.c.n, main.c.amount.label("m_amount"), main.c.amount_with_vat.label("m_vat"),
            main.c.signed_at.label("m_signed"), last.c.amount.label("l_amount"), last.c.amount_with_vat.label("l_vat"),
            last.c.signed_at.label("l_signed"), e.id, e.buyer_id, e.buyer_name, e.provider_id, e.provider_name,
            e.region_kato, e.source_url, e.is_fictional,
        )
        .join(main, main.c.id == latest.c.root_id)
        .join(last, last.c.id == latest.c.last_id)
        .join(eng_t, e.contract_root_id == latest.c.root_id)
    )  # fmt: skip
    limit = float(cfg["min_increase"])
    for row in ctx.conn.execute((query).execution_options(yield_per=2000)):
        before, after = _effective(row.m_amount, row.m_vat), _effective(row.l_amount, row.l_vat)
        if not before or after is None or before <= 0:
            continue
        increase = float(after / before - 1)
        if increase < limit:
            continue
        params = {
            "engagement_id": row.id, "contract_root_id": row.root_id, "versions": int(row.n),
            "original_kzt": money(before), "latest_kzt": money(after), "increase": round(increase, 4),
            "buyer_id": row.buyer_id, "buyer_name": row.buyer_name, "provider_id": row.provider_id,
            "provider_name": row.provider_name,
        }  # fmt: skip
        yield ctx.make(
            "amendment_value_creep", "engagement", row.id,
            explanation=(
                f"Contract {row.root_id} between {row.buyer_name or row.buyer_id} and "
                f"{row.provider_name or row.provider_id} grew from {params['original_kzt']:,.2f} to "
                f"{params['latest_kzt']:,.2f} KZT (+{increase:.0%}) over {row.n - 1} amendment(s); the threshold is "
                f"+{limit:.0%}."
            ),
            params=params, related=[row.buyer_id, row.provider_id], region=row.region_kato, evidence=[row.id],
            urls=[row.source_url], fictional=row.is_fictional, severity="high" if increase >= 0.5 else None,
        )  # fmt: skip


SIMPLE_RULES: tuple[Callable[[Context], Iterator[Flag]], ...] = (
    single_source_share,
    no_announcement,
    memorandum_no_contract,
    memorandum_direct_award,
    unreliable_supplier,
    new_company,
    shared_person,
    amendment_value_creep,
    donation_paid_support,
)
SCAN_RULES: tuple[Callable[[Context, Scan], Iterator[Flag]], ...] = (
    two_operators,
    mid_year_switch,
    winner_concentration,
    repeated_pair,
)
CODES: tuple[str, ...] = tuple(f.__name__ for f in (*SIMPLE_RULES, *SCAN_RULES))
