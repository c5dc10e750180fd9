"""goszakup.gov.kz OpenData API (OWS v3, GraphQL): contracts, announcements, bids, participants, RNU."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import scrapy

from crawlers.spiders.base import GraphQLCursorSpider, KeyFetch, Output, Spec
from entities.config import PROJECT_ROOT

ALMATY = ZoneInfo("Asia/Almaty")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BIN = re.compile(r"^\d{12}$")
_SIGN_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
WINDOWS = ("month", "week", "day")

# Public portal pages a reader can open (SOURCE.md §1), relative to the portal's base URL.
HUMAN_PATHS = {
    "contract": "/ru/egzcontract/cpublic/show/{id}",
    "trd_buy": "/ru/announce/index/{id}",
    "trd_app": "/ru/announce/index/{buyId}",  # a bid is shown on its announcement
    "subject": "/ru/registry/show_supplier/{pid}",
}
REAL_PORTAL = "https://goszakup.gov.kz"


def portal_base_url(api_base_url: str) -> str:
    """Where the human-readable pages live: `ASHYQ_GOSZAKUP_PORTAL_URL`, else the real portal.

    When the API is a loopback simulator, its records are fictional: their links must not point at real
    goszakup pages (a made-up id there is someone else's contract), so they point at the simulator, which
    serves a page for each fictional record under the same paths.
    """
    explicit = os.environ.get("ASHYQ_GOSZAKUP_PORTAL_URL")
    if explicit:
        return explicit.rstrip("/")
    host = urlsplit(api_base_url).hostname or ""
    if host in {"localhost", "::1"} or host.startswith("127."):
        return api_base_url.rstrip("/")
    return REAL_PORTAL


def _parse_date(name: str, value: str) -> date:
    if not _DATE.match(value):
        raise ValueError(f"{name} must be a date as YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} is not a real date: {value!r}") from None


def _ids(*values: Any) -> list[int]:
    """Positive integer ids among `values` (goszakup uses 0 for "none", e.g. trdBuyId of a direct contract)."""
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0]


def split_windows(since: date, until: date, step: str) -> list[tuple[date, date]]:
    """[since, until] cut at calendar month (or ISO week, or day) boundaries, in order."""
    windows = []
    start = since
    while start <= until:
        if step == "day":
            end = start
        elif step == "week":
            end = start + timedelta(days=6 - start.weekday())
        else:
            next_month = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            end = next_month - timedelta(days=1)
        end = min(end, until)
        windows.append((start, end))
        start = end + timedelta(days=1)
    return windows


def _range(start: date, end: date) -> list[str]:
    """A goszakup date filter for whole days: `[from, to]` with times, so the last day counts in full."""
    return [f"{start.isoformat()} 00:00:00", f"{end.isoformat()} 23:59:59"]


class GoszakupSpider(GraphQLCursorSpider):
    """
    Domain
      Public procurement of Kazakhstan: the OpenData API of goszakup.gov.kz (operator: АО «Центр электронных
      финансов»). Contracts with their amendments, units, supplier and customer; announcements (TrdBuy) with
      lots and commission; applications (TrdApp, the bids, won and lost); participants (Subjects) with
      addresses (KATO) and employees (role 1 = head); the register of unreliable suppliers (Rnu).
    Caveats
      - The date window is on the contract's **signDate**: users ask "which contracts were signed in period X",
        and the signing date is the legal date of the engagement (publication, creation or indexing dates say
        when the portal handled the record, not when the parties committed).
      - Scope is *contract roots* signed in the window, with **every version** of them: amendments are new rows
        sharing `rootId`, so an amendment signed after `until` is fetched too (month units of
        `Contract(signDate: (until, today], refContractTypeId: 2)`, kept when the root is in the window), or
        "latest version" would be wrong. Amendments signed inside the window to a contract signed before it
        are not part of the window's contracts and are not stored (counted in stats
        `contracts/amendments_out_of_scope`). Whether a root is in the window is decided from the root row
        itself: seen in this run, or else fetched by id (`Contract(filter: {id: [...]})`, 200 per request).
        This is stricter than "keep the amendment if its rootId was seen": after a crash, the months that
        an earlier process finished are skipped, so "seen" would silently drop their later amendments.
      - The window is cut into calendar months (argument `window`), each paged on its own: units run in
        parallel and are the resumable unit (a finished month is recorded in `crawl_runs` and skipped by a
        re-run after a crash).
      - Announcements are fetched by id batches (`TrdBuy(filter: {id: [...]})`, 200 ids) for every
        `trdBuyId` ≠ 0 seen on contracts and bids; participants by pid batches for every customer, supplier,
        organizer and bidder seen.
      - Bids: by `dateApply` month windows from `since − bids_lead_days` to `until`, not one request per
        announcement: nationally that is one request per 200 bids instead of one per announcement (~100×
        fewer calls), and the lead covers applications filed before the contracts of the first months were
        signed. In `customer` mode (a few hundred announcements) bids are fetched per announcement instead,
        which is exact.
      - Per-organization modes for tender histories: `supplier=BIN` fetches the contracts with
        `supplierBiin`, the applications with `supplierBinIin`, their announcements and participants and the
        supplier's RNU entries; `customer=BIN` the contracts with `customerBin`, their announcements, every
        bid on those announcements and the participants. `since`/`until` narrow both modes.
      - A missing or invalid token is answered with HTTP 404 "Invalid Route" (not 401): the crawl stops at
        once with that message instead of reporting "no data".
      - Pages come newest id first; the cursor is `after = extensions.pageInfo.lastId`. `limit` is capped
        at 200 by the service.
    Spider arguments
      since, until
        Contract signing window, YYYY-MM-DD, inclusive (`until` defaults to today, Almaty time).
      supplier, customer
        A 12-digit BIN/IIN: the tender history of one supplier, or everything of one customer.
      window
        How to cut the window into units: month (default), week or day (for dense national crawls).
      bids_lead_days
        Days before `since` from which applications are fetched (default 60).
      today
        Override "today" (YYYY-MM-DD), for reproducible runs.
    Environment variables
      GOSZAKUP_TOKEN (required, 32 hex characters; never logged or stored), ASHYQ_GOSZAKUP_URL (default
      https://ows.goszakup.gov.kz), ASHYQ_GOSZAKUP_DELAY (seconds between requests, default 1),
      ASHYQ_GOSZAKUP_CONCURRENCY, ASHYQ_GOSZAKUP_TIMEOUT, ASHYQ_GOSZAKUP_BACKOFF (see the base class).
    API documentation
      https://goszakup.gov.kz/ru/developer/ows_v3 ; schema and behaviour notes in
      data/reference/goszakup/schema.graphql and shared/sources/goszakup/SOURCE.md.
    """

    name = "goszakup"
    # Arguments for a small valid crawl: what the docs and the "every spider starts" test use.
    sample_args: ClassVar[dict[str, str]] = {"since": "2024-01-01", "until": "2024-01-31"}
    # BaseSpider
    source = "goszakup"
    record_types: ClassVar[dict[str, tuple[str, str]]] = {
        "Contracts": ("contract", "id"),
        "TrdBuys": ("trd_buy", "id"),
        "TrdApps": ("trd_app", "id"),
        "Subjects": ("subject", "pid"),
        "Rnu": ("rnu", "id"),
    }
    # GraphQLCursorSpider
    default_base_url = "https://ows.goszakup.gov.kz"
    endpoint_path = "/v3/graphql"
    queries_file = PROJECT_ROOT / "crawlers" / "queries" / "goszakup.graphql"
    token_env = "GOSZAKUP_TOKEN"  # noqa: S105 - the variable's name, not a secret
    key_fetches: ClassVar[dict[str, KeyFetch]] = {
        "trd_buy": KeyFetch("TrdBuys", "id", row_key="id", handler="trd_buys"),
        "subject": KeyFetch("Subjects", "pid", row_key="pid", handler="subjects"),
        "root": KeyFetch("Contracts", "id", row_key="id", handler="roots"),
        "apps_for_buy": KeyFetch("TrdApps", "buyId", row_key="buyId", handler="apps", batch=1, scalar=True),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        since, until, today = kwargs.get("since"), kwargs.get("until"), kwargs.get("today")
        supplier, customer = kwargs.get("supplier"), kwargs.get("customer")
        window, bids_lead_days = kwargs.get("window", "month"), str(kwargs.get("bids_lead_days", "60"))
        self.today = _parse_date("today", today) if today else datetime.now(ALMATY).date()
        self.since = _parse_date("since", since) if since else None
        self.until = _parse_date("until", until) if until else self.today
        for name, value in (("supplier", supplier), ("customer", customer)):
            if value is not None and not _BIN.match(value):
                raise ValueError(f"{name} must be a 12-digit BIN or IIN, got {value!r}")
        self.supplier, self.customer = supplier, customer
        if self.since is None and supplier is None and customer is None:
            raise ValueError("goszakup needs a window (since=YYYY-MM-DD [until=…]) or supplier=BIN or customer=BIN")
        if self.since is not None and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}, got {window!r}")
        self.window = window
        if not bids_lead_days.isdigit():
            raise ValueError(f"bids_lead_days must be a whole number of days, got {bids_lead_days!r}")
        self.bids_lead = timedelta(days=int(bids_lead_days))

    # ------------------------------------------------------------------------------------- plan
    def plan_units(self) -> list[str]:
        units: list[str] = []
        if self.supplier is None and self.customer is None:
            assert self.since is not None
            units += [f"contracts:{a}:{b}" for a, b in split_windows(self.since, self.until, self.window)]
            bids_from = self.since - self.bids_lead
            units += [f"bids:{a}:{b}" for a, b in split_windows(bids_from, self.until, self.window)]
            later = self.until + timedelta(days=1)
            units += [f"amendments:{a}:{b}" for a, b in split_windows(later, self.today, self.window)]
            units.append("rnu")
            return units
        if self.supplier is not None:
            units += [f"supplier-contracts:{self.supplier}", f"supplier-bids:{self.supplier}"]
            units.append(f"rnu:{self.supplier}")
        if self.customer is not None:
            units.append(f"customer-contracts:{self.customer}")
            if self.supplier is None:
                units.append("rnu")
        return units

    def _signed(self) -> dict[str, Any]:
        if self.since is None:
            return {}
        return {"signDate": _range(self.since, self.until)}

    def _applied(self) -> dict[str, Any]:
        if self.since is None:
            return {}
        return {"dateApply": _range(self.since - self.bids_lead, self.until)}

    def begin_unit(self, uid: str) -> Iterable[scrapy.Request]:
        kind, _, rest = uid.partition(":")
        variables: dict[str, Any]
        if kind in ("contracts", "amendments", "bids"):
            a, b = (date.fromisoformat(x) for x in rest.split(":"))
            if kind == "contracts":
                variables = {"filter": {"signDate": _range(a, b)}}
                yield self.chain(uid, "Contracts", variables, "window_contracts", f"Contract signDate {a}..{b}")
            elif kind == "amendments":
                variables = {"filter": {"signDate": _range(a, b), "refContractTypeId": 2}}
                yield self.chain(uid, "Contracts", variables, "later_amendments", f"amendments signDate {a}..{b}")
            else:
                variables = {"filter": {"dateApply": _range(a, b)}}
                yield self.chain(uid, "TrdApps", variables, "apps", f"TrdApp dateApply {a}..{b}")
        elif kind == "rnu":
            variables = {"filter": {"supplierBiin": rest}} if rest else {}
            yield self.chain(uid, "Rnu", variables, "rnu", f"Rnu {rest or 'register'}")
        elif kind == "supplier-contracts":
            variables = {"filter": {"supplierBiin": rest, **self._signed()}}
            yield self.chain(uid, "Contracts", variables, "org_contracts", f"Contract supplierBiin {rest}")
        elif kind == "supplier-bids":
            variables = {"filter": {"supplierBinIin": rest, **self._applied()}}
            yield self.chain(uid, "TrdApps", variables, "apps", f"TrdApp supplierBinIin {rest}")
        elif kind == "customer-contracts":
            variables = {"filter": {"customerBin": rest, **self._signed()}}
            yield self.chain(uid, "Contracts", variables, "org_contracts", f"Contract customerBin {rest}")
        else:
            raise ValueError(f"unknown unit {uid!r}")

    # -------------------------------------------------------------------------------- contracts
    @property
    def roots_in(self) -> set[int]:
        """Contract roots known to be signed inside the window (their versions are stored)."""
        return self.state.setdefault("roots_in", set())

    @property
    def roots_out(self) -> set[int]:
        """Contract roots known to be signed outside the window (their amendments are not stored)."""
        return self.state.setdefault("roots_out", set())

    @property
    def held(self) -> dict[int, list[tuple[str, dict[str, Any], str]]]:
        """Amendments waiting for their root's verdict: root id → [(unit, row, fetched_at ISO)]."""
        return self.state.setdefault("held", {})

    def _in_window(self, sign_date: object) -> bool | None:
        """Whether a signDate falls in [since, until]; None when the text is not a date (we cannot tell)."""
        assert self.since is not None
        if not isinstance(sign_date, str) or not _SIGN_DAY.match(sign_date):
            return None
        return self.since.isoformat() <= sign_date[:10] <= self.until.isoformat()

    def _contract(self, uid: str, row: dict[str, Any], fetched_at: datetime) -> Output:
        yield self.raw_item("Contracts", row, fetched_at)
        self.need([uid], "trd_buy", _ids(row.get("trdBuyId")))
        self.need([uid], "subject", _ids(row.get("customerId"), row.get("supplierId")))
        if uid.startswith("customer-"):
            self.need([uid], "apps_for_buy", _ids(row.get("trdBuyId")))

    def _hold(self, uid: str, root: int, row: dict[str, Any], fetched_at: datetime) -> None:
        self.held.setdefault(root, []).append((uid, row, fetched_at.isoformat()))
        self.unit(uid).setdefault("held_roots", set()).add(root)

    def _release(self, root: int, keep: bool, stat: str | None = None) -> Output:
        for uid, row, fetched in self.held.pop(root, []):
            self.unit(uid).get("held_roots", set()).discard(root)
            if stat is not None:
                self.crawler.stats.inc_value(stat)
            if keep:
                yield from self._contract(uid, row, datetime.fromisoformat(fetched))

    def _version(self, uid: str, row: dict[str, Any], fetched_at: datetime) -> Output:
        """An amendment: store it if its root is in the window, drop it if not, else hold it for the verdict."""
        root = row["rootId"]
        if root in self.roots_in:
            yield from self._contract(uid, row, fetched_at)
        elif root in self.roots_out:
            self.crawler.stats.inc_value("contracts/amendments_out_of_scope")
        else:
            self._hold(uid, root, row, fetched_at)

    @staticmethod
    def _is_root(row: dict[str, Any]) -> bool:
        root = row.get("rootId")
        return not isinstance(root, int) or root in (0, row["id"])

    def handle_window_contracts(self, spec: Spec, rows: list[dict[str, Any]], fetched_at: datetime) -> Output:
        uid = spec["unit"]
        for row in rows:
            if self._is_root(row):
                inside = self._in_window(row.get("signDate"))
                if inside is None:  # the service matched it, so we store it; the normalizer will judge the text
                    self.crawler.stats.inc_value("contracts/unreadable_sign_date")
                elif not inside:  # the filter should make this impossible: say so rather than hide it
                    self.crawler.stats.inc_value("contracts/outside_requested_window")
                    self.logger.warning("contract %s signDate %r is outside %s", row["id"], row.get("signDate"), uid)
                self.roots_in.add(row["id"])
                yield from self._contract(uid, row, fetched_at)
                yield from self._release(row["id"], keep=True)
            else:
                yield from self._version(uid, row, fetched_at)

    def handle_later_amendments(self, spec: Spec, rows: list[dict[str, Any]], fetched_at: datetime) -> Output:
        uid = spec["unit"]
        for row in rows:
            if self._is_root(row):  # a root signed after the window is not one of ours
                continue
            yield from self._version(uid, row, fetched_at)
            if row["rootId"] in self.held:
                self.need([uid], "root", [row["rootId"]])

    def chain_finished(self, spec: Spec) -> Output:
        if spec["handler"] == "window_contracts":
            # Roots of the remaining held amendments are not in this month: ask for them by id.
            uid = spec["unit"]
            self.need([uid], "root", sorted(r for r in self.unit(uid).get("held_roots", ()) if r in self.held))
        return iter(())

    def handle_roots(self, spec: Spec, rows: list[dict[str, Any]], fetched_at: datetime) -> Output:  # noqa: ARG002
        for row in rows:
            root = row["id"]
            inside = self._in_window(row.get("signDate"))
            if inside is None:  # cannot tell: keep its versions rather than lose them
                self.roots_in.add(root)
                yield from self._release(root, keep=True, stat="contracts/root_sign_date_unreadable")
            elif inside:
                self.roots_in.add(root)
                yield from self._release(root, keep=True)
            else:
                self.roots_out.add(root)
                yield from self._release(root, keep=False, stat="contracts/amendments_out_of_scope")

    def keys_missing(self, kind: str, keys: list[Any]) -> Output:
        if kind == "root":  # the API has no such root: keep the amendment rather than lose it
            for root in keys:
                self.roots_in.add(root)
                yield from self._release(root, keep=True, stat="contracts/root_missing")

    def handle_org_contracts(self, spec: Spec, rows: list[dict[str, Any]], fetched_at: datetime) -> Output:
        for row in rows:
            yield from self._contract(spec["unit"], row, fetched_at)

    # ------------------------------------------------------------------------- other record types
    def handle_trd_buys(self, spec: Spec, rows: list[dict[str, Any]], fetched_at: datetime) -> Output:
        units = self.waiters_of(spec)
        for row in rows:
            yield self.raw_item("TrdBuys", row, fetched_at)
            self.need(units, "subject", _ids(row.get("customerPid"), row.get("orgPid")))

    def handle_apps(self, spec: Spec, rows: list[dict[str, Any]], fetched_at: datetime) -> Output:
        units = self.waiters_of(spec)
        for row in rows:
            yield self.raw_item("TrdApps", row, fetched_at)
            self.need(units, "trd_buy", _ids(row.get("buyId")))
            self.need(units, "subject", _ids(row.get("supplierId")))

    def handle_subjects(self, spec: Spec, rows: list[dict[str, Any]], fetched_at: datetime) -> Output:  # noqa: ARG002
        for row in rows:
            yield self.raw_item("Subjects", row, fetched_at)

    def handle_rnu(self, spec: Spec, rows: list[dict[str, Any]], fetched_at: datetime) -> Output:  # noqa: ARG002
        for row in rows:
            yield self.raw_item("Rnu", row, fetched_at)

    def human_url(self, record_type: str, row: dict[str, Any]) -> str | None:
        template = HUMAN_PATHS.get(record_type)
        if template is None:
            return None
        try:
            path = template.format(**row)
        except KeyError:
            return None
        return portal_base_url(self.endpoint.removesuffix(self.endpoint_path)) + path

