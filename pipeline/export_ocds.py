"""`ashyq export ocds`: goszakup contracts as ONE OCDS 1.1 release package, validated offline.

One contracting process per contract root (goszakup `rootId`): an announcement (TrdBuy) covers many lots and
contracts with different suppliers, and a contract may have no announcement at all, so the root — one buyer,
one supplier, one contract with its amendments — is the unit that always exists. Each release has:
- `ocid` = `OCID_PREFIX-<rootId>`. `ocds-xxxxxx-ashyq` is a PLACEHOLDER: publishing OCDS needs a prefix
  registered with the Open Contracting Partnership (https://standard.open-contracting.org/1.1/en/schema/identifiers/);
  pass the real one with `--ocid-prefix` once there is one;
- `parties` with roles `buyer`, `supplier` and `tenderer` (the bidders on the contract's lots), id = our entity
  id, identifier scheme `KZ-BIN` for BINs (an individual entrepreneur's IIN is never published; the scheme
  name follows org-id.guide's pattern but was not checked against its list offline);
- `tender`: the announcement id, title, value and period; `procurementMethod` from our legal basis
  (`METHOD_OF_BASIS`), `procurementMethodDetails` = the goszakup trade method's name, and `legalBasis`
  (ocds_legalBasis_extension) = our legal-basis code with the procurement law in force on the signing date;
- one `award` (the root version's value and date) and one `contract` (the latest version's value,
  `dateSigned`), with one `amendment` per later version;
- `documents`: the public pages of the announcement and of every contract version (our source URLs).

The package is written as a stream: header, then releases one by one, then the closing brackets; nothing holds
all releases in memory. `validate_package` checks a written package against the official release-package and
release schemas (1.1.5, draft 4) with the legalBasis extension merged in, from `data/reference/ocds/`, offline.
Unverified here: how the goszakup contract statuses map to OCDS `contract.status` (not exported).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, or_, select

from entities.config import REFERENCE_DIR
from entities.models import Bid, Contract, ContractUnit, Engagement, Organization, Procurement, RawRecord
from pipeline.export_json import IinScrubber, atomic_text, dumps, publisher
from pipeline.legal_basis import default_table, legal_reference
from pipeline.normalize.writer import table_of

log = logging.getLogger(__name__)

OCDS_DIR = REFERENCE_DIR / "ocds"
OCID_PREFIX = "ocds-xxxxxx-ashyq"  # placeholder: see the module docstring
LEGAL_BASIS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_legalBasis_extension/1.1/extension.json"
)
EXTENSIONS = (LEGAL_BASIS_EXTENSION,)
LEGAL_BASIS_SCHEME = "x_ashyq_legal_basis"  # our codes (DESIGN §6); no registered scheme covers Kazakh law
DEFAULT_URI = "https://example.invalid/ashyq/ocds/release-package.json"  # not published anywhere yet
# OCDS `method` (closed codelist) per legal basis: competitive methods are open to any registered supplier,
# direct awards are `direct`; the special procedure invites chosen suppliers (`limited`); unknown: omitted.
METHOD_OF_BASIS: dict[str, str] = {
    "open_tender": "open",
    "auction": "open",
    "price_quotations": "open",
    "e_shop": "open",
    "commodity_exchange": "open",
    "single_source": "direct",
    "state_order": "direct",
    "special_procedure": "limited",
}
_BATCH = 500


@dataclass
class OcdsReport:
    releases: int = 0
    amendments: int = 0
    tenderers: int = 0
    unresolved_bidders: int = 0
    from_engagement_only: int = 0  # releases whose contract rows were missing

    def summary(self) -> str:
        text = (
            f"{self.releases} releases ({self.amendments} amendments, {self.tenderers} tenderer parties; "
            f"{self.unresolved_bidders} bidders not resolved to an organization)"
        )
        if self.from_engagement_only:
            text += f"; {self.from_engagement_only} built from the engagement alone (no contract rows)"
        return text


def _dt(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f"{value.isoformat()}T00:00:00Z"


def _value(amount: Decimal | None, currency: str | None = "KZT") -> dict[str, Any] | None:
    if amount is None:
        return None
    # A JSON number: OCDS `amount` is a number. Decimal → float keeps two places for any realistic sum.
    return {"amount": float(amount), "currency": currency or "KZT"}


def _version_value(v: Any) -> Decimal | None:
    return v.amount_with_vat if v.amount_with_vat is not None else v.amount


def _clean(obj: Any) -> Any:
    """Drop None, empty lists and empty objects: OCDS fields are optional, and null is noise for readers."""
    if isinstance(obj, dict):
        out = {k: _clean(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {}, "")}
    if isinstance(obj, list):
        return [c for c in (_clean(v) for v in obj) if c not in (None, [], {}, "")]
    return obj


class _Parties:
    """The parties of one release, merging roles when one organization plays several."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}

    def add(self, pid: str, name: str | None, bin_: str | None, role: str) -> dict[str, str]:
        party = self.by_id.get(pid)
        if party is None:
            party = {"id": pid, "name": name, "roles": []}
            if bin_:
                party["identifier"] = {"scheme": "KZ-BIN", "id": bin_, "legalName": name}
            self.by_id[pid] = party
        if role not in party["roles"]:
            party["roles"].append(role)
        return {"id": pid, "name": name} if name else {"id": pid}


def _party_id(org_id: str | None, bin_or_name: str | None, prefix: str) -> str:
    return org_id or f"{prefix}-{bin_or_name or 'unknown'}"


def _batches(rows: Any, size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _releases(engine: Engine, ocid_prefix: str, report: OcdsReport) -> Iterator[dict[str, Any]]:
    e = table_of(Engagement).c
    c, r, pr = table_of(Contract).c, table_of(RawRecord).c, table_of(Procurement).c
    cu, b, o = table_of(ContractUnit).c, table_of(Bid).c, table_of(Organization).c
    methods = default_table()
    query = (
        select(table_of(Engagement))
        .where(e.instrument == "procurement_contract", e.contract_root_id.is_not(None))
        .order_by(e.contract_root_id)
    )
    with engine.connect() as conn, engine.connect() as side:
        scrub = IinScrubber(side)
        rows = conn.execution_options(yield_per=_BATCH).execute(query)
        for batch in _batches(rows, _BATCH):
            roots = [row.contract_root_id for row in batch]
            versions: dict[int, list[Any]] = {}
            for v in side.execute(
                select(table_of(Contract), r.source.label("raw_source"), r.human_url, r.url.label("api_url"))
                .join(table_of(RawRecord), r.id == c.raw_record_id)
                .where(c.root_id.in_(roots))
                .order_by(c.root_id, c.id)
            ):
                versions.setdefault(v.root_id, []).append(v)
            buy_ids = {v[0].trd_buy_id for v in versions.values() if v and v[0].trd_buy_id}
            announcements = {
                a.id: a
                for a in side.execute(
                    select(table_of(Procurement), r.human_url)
                    .join(table_of(RawRecord), r.id == pr.raw_record_id)
                    .where(pr.id.in_(buy_ids))
                )
            } if buy_ids else {}
            root_version_ids = {v[0].id: root for root, v in versions.items() if v}
            lots_of: dict[int, set[int]] = {}
            for contract_id, lot_id in side.execute(
                select(cu.contract_id, cu.lot_id).where(
                    cu.contract_id.in_(list(root_version_ids)), cu.lot_id.is_not(None)
                )
            ):
                lots_of.setdefault(root_version_ids[contract_id], set()).add(lot_id)
            all_lots = set().union(*lots_of.values()) if lots_of else set()
            bidders: dict[int, set[str]] = {}
            if all_lots:
                for lot_id, biin in side.execute(
                    select(b.lot_id, b.supplier_biin).where(b.lot_id.in_(all_lots), b.supplier_biin.is_not(None))
                ):
                    bidders.setdefault(lot_id, set()).add(biin)
            biins = set().union(*bidders.values()) if bidders else set()
            orgs: dict[str, Any] = {}
            if biins:
                for org in side.execute(
                    select(o.id, o.bin, o.iin, o.name_ru, o.name_kk, o.name_en).where(
                        or_(o.bin.in_(biins), o.iin.in_(biins))
                    )
                ):
                    orgs[org.bin or org.iin] = org
            for row in batch:
                vs = versions.get(row.contract_root_id)
                if not vs:
                    # Contract rows gone since the build (or a database holding only engagements): the
                    # release is built from the engagement's own fields, and the report says how many.
                    report.from_engagement_only += 1
                    vs = [_pseudo_version(row)]
                tenderers = {biin for lot in lots_of.get(row.contract_root_id, ()) for biin in bidders.get(lot, ())}
                yield _release(row, vs, announcements, tenderers, orgs, methods, scrub, ocid_prefix, report)


def _pseudo_version(row: Any) -> SimpleNamespace:
    """A contract version as far as the engagement row knows it (no announcement, number or timestamps)."""
    return SimpleNamespace(
        id=row.contract_root_id, trd_buy_id=None, number=None, sign_reason=None, signed_at=None,
        last_update=None, amount=row.amount_kzt, amount_with_vat=None, currency="KZT",
        human_url=row.source_url, api_url=None, raw_source="goszakup",
    )


def _release(
    row: Any,
    versions: list[Any],
    announcements: dict[int, Any],
    tenderers: set[str],
    orgs: dict[str, Any],
    methods: dict[int, Any],
    scrub: IinScrubber,
    ocid_prefix: str,
    report: OcdsReport,
) -> dict[str, Any]:
    root, latest = versions[0], versions[-1]
    ocid = f"{ocid_prefix}-{row.contract_root_id}"
    parties = _Parties()
    buyer_bin = row.buyer_bin if row.buyer_bin not in scrub.iins else None
    buyer = parties.add(_party_id(row.buyer_id, row.buyer_bin, "buyer"), scrub(row.buyer_name), buyer_bin, "buyer")
    provider_bin = row.provider_bin if row.provider_bin not in scrub.iins else None
    provider_key = row.provider_bin if provider_bin else (row.provider_name or "")
    supplier = parties.add(
        _party_id(row.provider_id, provider_key, "supplier"), scrub(row.provider_name), provider_bin, "supplier"
    )
    tender_refs = []
    for biin in sorted(tenderers):
        org = orgs.get(biin)
        if org is None:
            report.unresolved_bidders += 1
            continue
        name = scrub(org.name_ru or org.name_kk or org.name_en)
        tender_refs.append(parties.add(org.id, name, org.bin, "tenderer"))
    report.tenderers += len(tender_refs)

    announcement = announcements.get(root.trd_buy_id) if root.trd_buy_id else None
    rule = methods.get(row.trade_method_id or 0)
    law = legal_reference(row.trade_method_id, row.signed_on)
    tender: dict[str, Any] = {
        "id": str(root.trd_buy_id) if root.trd_buy_id else f"{row.contract_root_id}-no-announcement",
        "title": scrub(announcement.name_ru) if announcement is not None else None,
        "value": _value(announcement.total_sum) if announcement is not None else None,
        "procurementMethod": METHOD_OF_BASIS.get(row.legal_basis),
        "procurementMethodDetails": rule.name_ru if rule else None,
        "legalBasis": {"scheme": LEGAL_BASIS_SCHEME, "id": row.legal_basis, "description": law},
        "tenderers": tender_refs,
        "numberOfTenderers": len(tender_refs) if tender_refs else None,
    }
    if announcement is not None:
        tender["tenderPeriod"] = {"startDate": _dt(announcement.publish_date), "endDate": _dt(announcement.end_date)}
        tender["documents"] = [{
            "id": f"announcement-{announcement.id}",
            "documentType": "tenderNotice",
            "title": f"Announcement {announcement.number_anno or announcement.id}",
            "url": announcement.human_url,
            "language": "ru",
        }]
    documents = [
        {
            "id": f"contract-{v.id}",
            "documentType": "contractNotice",
            "title": f"Contract {v.number or v.id}" + (" (amendment)" if v.id != root.id else ""),
            "url": v.human_url or v.api_url,
            "datePublished": _dt(v.signed_at),
            "dateModified": _dt(v.last_update),
            "language": "ru",
        }
        for v in versions
    ]
    amendments = []
    previous = _version_value(root)
    for v in versions[1:]:
        current = _version_value(v)
        amendments.append({
            "id": str(v.id),
            "date": _dt(v.signed_at or v.last_update),
            "rationale": v.sign_reason,
            "description": f"Contract version {v.id} (number {v.number}): value {previous} → {current} KZT",
        })
        previous = current
    report.amendments += len(amendments)
    award_id = f"{row.contract_root_id}-award"
    release_date = max((d for v in versions for d in (v.last_update, v.signed_at) if d), default=None)
    release = {
        "ocid": ocid,
        "id": f"{ocid}-{latest.id}",
        "date": _dt(release_date) or _dt(row.signed_on) or _dt(datetime.now(UTC)),
        "tag": ["tender", "award", "contract"] if announcement is not None else ["award", "contract"],
        "initiationType": "tender",
        "language": "ru",
        "parties": list(parties.by_id.values()),
        "buyer": buyer,
        "tender": tender,
        "awards": [{
            "id": award_id,
            "status": "active",
            "date": _dt(root.signed_at),
            "value": _value(_version_value(root), root.currency),
            "suppliers": [supplier],
        }],
        "contracts": [{
            "id": str(row.contract_root_id),
            "awardID": award_id,
            "title": scrub(row.subject),
            "value": _value(row.amount_kzt, latest.currency),
            "dateSigned": _dt(root.signed_at) or _dt(row.signed_on),
            "documents": documents,
            "amendments": amendments,
        }],
    }
    if amendments:
        release["tag"].append("contractAmendment")
    release["x_ashyq"] = {
        "engagementId": row.id,
        "competitive": bool(row.competitive),
        "publisher": publisher(root.raw_source, bool(row.is_fictional)),
        "fictional": bool(row.is_fictional),
        "sourceUrls": [d["url"] for d in documents if d.get("url")],
    }
    return _clean(release)


class NothingToExportError(ValueError):
    """The database holds nothing the export could write."""


def export_ocds(
    engine: Engine,
    path: Path | str,
    *,
    ocid_prefix: str = OCID_PREFIX,
    uri: str = DEFAULT_URI,
    published: datetime | None = None,
    allow_empty: bool = True,
) -> OcdsReport:
    """Write one release package to `path` (atomically, streaming releases); see the module docstring.

    With `allow_empty=False` a database without goszakup contracts raises `NothingToExportError` and leaves `path`
    as it was: a package without releases is not valid OCDS, and an earlier good file should not be replaced.
    """
    report = OcdsReport()
    header = {
        "uri": uri,
        "version": "1.1",
        "extensions": list(EXTENSIONS),
        "publishedDate": _dt(published or datetime.now(UTC)),
        "publisher": {"name": "Ashyq (unofficial re-publication of goszakup.gov.kz open data)"},
    }
    with atomic_text(path) as fh:
        fh.write(dumps(header)[:-1] + ',"releases":[')
        for release in _releases(engine, ocid_prefix, report):
            fh.write(("," if report.releases else "") + "\n" + dumps(release))
            report.releases += 1
        if not report.releases and not allow_empty:
            raise NothingToExportError("no goszakup contracts to export (an OCDS package needs one release)")
        fh.write("\n]}\n")
    log.info("ocds export: %s", report.summary())
    return report


# ------------------------------------------------------------------------------------------ validation


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch (how OCDS extensions amend the release schema)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


def release_schema(with_extensions: bool = True) -> dict[str, Any]:
    schema = json.loads((OCDS_DIR / "release-schema.json").read_text(encoding="utf-8"))
    if with_extensions:
        patch = json.loads((OCDS_DIR / "ocds_legalBasis_extension" / "release-schema.json").read_text("utf-8"))
        schema = _merge_patch(schema, patch)
    return schema


def _validators() -> tuple[Any, Any]:
    """Draft 4 validators (package, release) whose `$ref` to the release schema resolves locally, offline."""
    import jsonschema
    import referencing
    import referencing.jsonschema

    release = release_schema()
    package = json.loads((OCDS_DIR / "release-package-schema.json").read_text(encoding="utf-8"))
    resource = referencing.Resource.from_contents(release, default_specification=referencing.jsonschema.DRAFT4)
    registry = referencing.Registry().with_resource(release["id"], resource)  # no retrieve: never the network
    checker = jsonschema.FormatChecker()
    return (
        jsonschema.Draft4Validator(package, registry=registry, format_checker=checker),
        jsonschema.Draft4Validator(release, registry=registry, format_checker=checker),
    )


def package_validator() -> Any:
    """The official release-package schema (with the legalBasis extension merged into the release schema)."""
    return _validators()[0]


def codelist(name: str) -> set[str]:
    with (OCDS_DIR / "codelists" / name).open(encoding="utf-8", newline="") as fh:
        return {row["Code"] for row in csv.DictReader(fh)}


def _codelist_errors(n: int, release: dict[str, Any], roles: set[str], doc_types: set[str]) -> list[str]:
    """Open codelists are not enforced by the schema; ours must still use their codes."""
    errors = [
        f"releases/{n}: party role {role!r} not in partyRole"
        for party in release.get("parties", []) for role in party.get("roles", []) if role not in roles
    ]
    docs = [*release.get("tender", {}).get("documents", [])]
    for contract in release.get("contracts", []):
        docs.extend(contract.get("documents", []))
    errors.extend(
        f"releases/{n}: documentType {d.get('documentType')!r} not in documentType"
        for d in docs if d.get("documentType") not in doc_types
    )
    return errors


def validate_package(path: Path | str, limit: int = 20) -> list[str]:
    """Errors of a package written by `export_ocds` (up to `limit`); empty when it is valid.

    Streams: `export_ocds` writes the header and the opening bracket on the first line and one release per
    line, so the header with the first release is checked against the release-package schema and every
    other release against the release schema, one at a time (`uniqueItems` becomes: release ids unique).
    Also checks open codelists (partyRole, documentType) and unique ocids."""
    package_v, release_v = _validators()
    roles, doc_types = codelist("partyRole.csv"), codelist("documentType.csv")
    errors: list[str] = []
    seen_ids: set[str] = set()
    seen_ocids: set[str] = set()
    header: dict[str, Any] | None = None
    n = -1
    with Path(path).open(encoding="utf-8") as fh:
        for raw_line in fh:
            line = raw_line.strip().removesuffix(",")
            if header is None:
                header = json.loads(line.removesuffix("[") + "[]}")
                continue
            if line in ("]}", ""):
                continue
            release = json.loads(line)
            n += 1
            if n == 0:
                found = package_v.iter_errors({**header, "releases": [release]})
            else:
                found = release_v.iter_errors(release)
            prefix = "" if n == 0 else f"releases/{n}/"
            errors.extend(f"{prefix}{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in found)
            errors.extend(_codelist_errors(n, release, roles, doc_types))
            if release.get("id") in seen_ids:
                errors.append(f"releases/{n}: release id {release.get('id')!r} repeated")
            if release.get("ocid") in seen_ocids:
                errors.append(f"releases/{n}: ocid {release.get('ocid')!r} repeated")
            seen_ids.add(release.get("id"))
            seen_ocids.add(release.get("ocid"))
            if len(errors) >= limit:
                break
    if header is None or n < 0:
        errors.append("no releases: a release package needs at least one")
    return errors[:limit]
