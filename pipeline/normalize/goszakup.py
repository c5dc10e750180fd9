"""goszakup raw payloads → canonical row dicts. Pure functions: a payload in, rows out, nothing written.

The payloads are exactly the objects `crawlers/queries/goszakup.graphql` selects (camelCase keys, nested
objects included), one per raw record: `contract`, `trd_buy`, `trd_app`, `subject`, `rnu`. Each normalizer
returns a `Rows` bundle whose dicts use the column names of `entities.models`; the writer upserts them.

Conventions (SOURCE.md §7): datetimes are Almaty local time → aware; money is `Decimal(str(x))`; BIN/IIN are
12-character strings; goszakup writes 0 for "no reference" (trdBuyId, lotId, method). A value that cannot be
read raises `NormalizeError` and the whole record goes to quarantine.

Organizations come in two strengths. A participant card from the Subjects register is authoritative
(`organizations_card`: it overwrites). The parties embedded in contracts and the customer/organizer names on
announcements only fill gaps (`organizations_party`), so an older contract never renames a company whose card
says otherwise; every name as written is kept anyway, as a mention.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from entities.identifiers import bin_info, iin_hash, is_valid
from pipeline.normalize.common import (
    NormalizeError,
    almaty_date,
    almaty_datetime,
    bin_org_id,
    decimal,
    display_name,
    flag,
    identifier,
    iin_person_id,
    integer,
    ip_org_id,
    money,
    name_norm,
    org_person_id,
    pid_org_id,
    ref_id,
    split_fio,
    text,
)
from pipeline.normalize.organizations import legal_form, organization_kind
from pipeline.regions import dominant_region, region_code

SOURCE = "goszakup"
HEAD_ROLE = 1  # SubjectUsers.role 1 = «Руководитель» (2 = «Сотрудник»)
IP_KOPF = frozenset({"ИП", "ИНД"})


@dataclass
class Rows:
    """Canonical rows derived from one or more raw records, per table."""

    organizations_card: list[dict[str, Any]] = field(default_factory=list)
    organizations_party: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    procurements: list[dict[str, Any]] = field(default_factory=list)
    lots: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    contract_units: list[dict[str, Any]] = field(default_factory=list)
    bids: list[dict[str, Any]] = field(default_factory=list)
    unreliable_suppliers: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class RawRef:
    """The raw record a payload came from: its id (provenance of every row) and whether it is fictional."""

    id: int
    is_fictional: bool


# ------------------------------------------------------------------------------------------- helpers


def _required_id(payload: dict[str, Any], key: str, obj: str) -> int:
    value = integer(payload.get(key), f"{obj}.{key}")
    if value is None:
        raise NormalizeError(f"{obj}.{key}", payload.get(key), "missing")
    return value


def _first(values: object, field_name: str, max_len: int) -> str | None:
    """The first non-empty string of a list field (e.g. `refEnstruCode: [String]`)."""
    if values is None:
        return None
    if not isinstance(values, list):
        raise NormalizeError(field_name, values, "expected a list")
    for value in values:
        result = text(value, field_name, max_len)
        if result is not None:
            return result
    return None


def _text_list(values: object, field_name: str) -> list[str] | None:
    """A list of codes (KATO lists) as non-empty strings; goszakup sometimes sends numbers."""
    if values is None:
        return None
    if not isinstance(values, list):
        raise NormalizeError(field_name, values, "expected a list")
    return [t for t in (text(v, field_name) for v in values) if t is not None]


def _bin_shaped(number: str) -> bool:
    """A BIN's fifth digit is its entity type (4 resident, 5 non-resident, 6 joint entrepreneur)."""
    return len(number) == 12 and number[4] in "456"


def _iin_shaped(number: str) -> bool:
    """An IIN's fifth digit is the tens of the birth day (0–3), which a BIN's type digit never is."""
    return len(number) == 12 and number.isdigit() and number[4] in "0123" and number[6] in "0123456"


def _kato(value: object, field_name: str) -> str | None:
    return text(value, field_name, max_len=9)


def _org_row(
    *,
    org_id: str,
    bin_: str | None,
    iin: str | None,
    key_valid: bool | None,
    kind: str,
    form: str | None,
    name_ru: str | None,
    name_kk: str | None,
    kato: str | None,
    pid: int | None,
    raw: RawRef,
    registered_on: date | None = None,
    oked: str | None = None,
    parent_bin: str | None = None,
) -> dict[str, Any]:
    return {
        "id": org_id,
        "bin": bin_,
        # Validity of the registration number the row is keyed by: the BIN, or an entrepreneur's IIN.
        "bin_valid": key_valid,
        "iin": iin,
        "kind": kind,
        "legal_form": form,
        "name_ru": name_ru,
        "name_kk": name_kk,
        "name_en": None,
        "name_norm": name_norm(name_ru or name_kk),
        "registered_on": registered_on,
        "kato": kato,
        "region_kato": region_code(kato),
        "oked": oked,
        "parent_bin": parent_bin,
        "goszakup_pid": pid,
        "is_fictional": raw.is_fictional,
        "raw_record_id": raw.id,
    }


@dataclass(frozen=True)
class _Party:
    """An organization a record names: its id, its identifier as the record gives it, and the row."""

    org_id: str
    biin: str | None
    is_ip: bool
    row: dict[str, Any]


def _subject_party(
    card: dict[str, Any] | None,
    biin: str | None,
    pid: int | None,
    obj: str,
    raw: RawRef,
    *,
    may_be_person: bool,
) -> _Party | None:
    """An organization from a nested Subject card and/or the BIN/IIN a record gives for it.

    `may_be_person`: a supplier may be an individual entrepreneur (or a natural person) trading under an IIN;
    a customer never is. The card says which (`typeSupplier` 2/3, КОПФ ИП); without a card, the number's
    shape does (`_iin_shaped`). An entrepreneur is keyed by a hash of the IIN, never by the IIN itself.
    """
    card = card or {}
    type_supplier = integer(card.get("typeSupplier"), f"{obj}.typeSupplier")
    kopf = text(card.get("refKopfCode"), f"{obj}.refKopfCode")
    card_bin = identifier(card.get("bin"), f"{obj}.bin")
    card_iin = identifier(card.get("iin"), f"{obj}.iin")
    card_pid = integer(card.get("pid"), f"{obj}.pid")
    pid = pid if pid is not None else card_pid
    name_ru = display_name(
        text(card.get("nameRu"), f"{obj}.nameRu") or text(card.get("fullNameRu"), f"{obj}.fullNameRu")
    )
    name_kk = display_name(
        text(card.get("nameKz"), f"{obj}.nameKz") or text(card.get("fullNameKz"), f"{obj}.fullNameKz")
    )
    kato = _kato(_first(card.get("katoList"), f"{obj}.katoList", 9), f"{obj}.katoList")
    form = legal_form(kopf, name_ru or name_kk)

    number = biin or card_bin or card_iin
    says_person = type_supplier in (2, 3) or form == "ИП" or (kopf or "").upper() in IP_KOPF
    if may_be_person and says_person:
        number = biin or card_iin or card_bin
        # An entrepreneur in joint-entrepreneurship form has a real BIN (type digit 6): key that one as a BIN.
        is_ip = number is None or not _bin_shaped(number)
    elif may_be_person and type_supplier is None and number is not None:
        is_ip = _iin_shaped(number)
    else:
        is_ip = False
    if number is not None:
        org_id = ip_org_id(number) if is_ip else bin_org_id(number)
    elif pid is not None:
        org_id = pid_org_id(pid)
    else:
        return None
    info = None if is_ip or number is None else bin_info(number)
    kind = organization_kind(
        type_supplier=type_supplier if may_be_person else None,
        form=form,
        name=name_ru or name_kk,
        non_resident=info is not None and info.entity_type == "non_resident",
    )
    if is_ip and kind not in ("individual_entrepreneur", "individual"):
        kind = "individual_entrepreneur"
    row = _org_row(
        org_id=org_id,
        bin_=None if is_ip else number,
        iin=number if is_ip else None,
        key_valid=is_valid(number) if number is not None else None,
        kind=kind,
        form=form,
        name_ru=name_ru,
        name_kk=name_kk,
        kato=kato,
        pid=pid,
        raw=raw,
    )
    return _Party(org_id=org_id, biin=number, is_ip=is_ip, row=row)


def _org_mentions(party: _Party, card: dict[str, Any] | None, obj: str, raw: RawRef) -> list[dict[str, Any]]:
    """Every name the record gives an organization, exactly as written."""
    out = []
    for key in ("nameRu", "nameKz"):
        value = _as_written((card or {}).get(key))
        if value is not None:
            out.append(_org_mention(party, f"{obj}.{key}", value, raw))
    return out


def _as_written(value: object) -> str | None:
    """A name exactly as the source wrote it (only NUL removed, which PostgreSQL cannot store), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.replace("\x00", "")


def _org_mention(party: _Party, field_name: str, name: str, raw: RawRef) -> dict[str, Any]:
    return {
        "raw_record_id": raw.id,
        "field": field_name,
        "kind": "organization",
        "name": name,
        "bin": None if party.is_ip else party.biin,
        "iin_hash": iin_hash(party.biin) if party.is_ip and party.biin else None,
        "context_bin": None,
        "organization_id": party.org_id,
        "person_id": None,
        "match_rule": "iin" if party.is_ip else ("bin" if party.biin else "goszakup_pid"),
        "match_score": None,
    }


def _person(
    fio_raw: str,
    *,
    iin: str | None,
    organization_id: str,
    raw: RawRef,
) -> tuple[dict[str, Any], str]:
    """A person row and the rule that keyed it: IIN (hashed) when known, else exact name in one organization."""
    shown = display_name(fio_raw) or fio_raw
    norm = name_norm(shown) or shown.casefold()
    if iin is not None and is_valid(iin):
        person_id, rule, hashed = iin_person_id(iin), "iin", iin_hash(iin)
    else:
        person_id, rule, hashed = org_person_id(organization_id, norm), "name_in_organization", None
    surname, given, patronymic = split_fio(shown)
    row = {
        "id": person_id,
        "display_name": shown,
        "surname": surname,
        "given_name": given,
        "patronymic": patronymic,
        "name_norm": norm,
        "iin_hash": hashed,
        "is_fictional": raw.is_fictional,
    }
    return row, rule


def _person_mention(
    person: dict[str, Any], rule: str, *, field_name: str, name: str, context: _Party, raw: RawRef
) -> dict[str, Any]:
    return {
        "raw_record_id": raw.id,
        "field": field_name,
        "kind": "person",
        "name": name,
        "bin": None,
        "iin_hash": person["iin_hash"],
        # The organization the person was named for, by the identifier the source publishes for it.
        "context_bin": context.biin,
        "organization_id": None,
        "person_id": person["id"],
        "match_rule": rule,
        "match_score": None,
    }


def _role(
    person_id: str,
    org_id: str,
    *,
    role: str,
    title: str | None,
    start: date | None,
    end: date | None,
    raw: RawRef,
) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "organization_id": org_id,
        "role": role,
        "title": title,
        "start_date": start,
        "end_date": end,
        "raw_record_id": raw.id,
    }


# ------------------------------------------------------------------------------------------ Contract


def normalize_contract(payload: dict[str, Any], raw: RawRef) -> Rows:
    """One contract version → `contracts` + `contract_units`, its parties, their heads as mentions and roles."""
    rows = Rows()
    obj = "Contract"
    contract_id = _required_id(payload, "id", obj)
    contract_type = integer(payload.get("refContractTypeId"), f"{obj}.refContractTypeId")
    root_id = ref_id(payload.get("rootId"), f"{obj}.rootId")
    if root_id is None:
        if contract_type == 2:
            raise NormalizeError(f"{obj}.rootId", payload.get("rootId"), "missing on an amendment")
        root_id = contract_id  # a main contract is its own root
    signed_at = almaty_datetime(payload.get("signDate"), f"{obj}.signDate")
    signed_on = signed_at.date() if signed_at else None

    supplier_biin = identifier(payload.get("supplierBiin"), f"{obj}.supplierBiin")
    customer_bin = identifier(payload.get("customerBin"), f"{obj}.customerBin")
    supplier_pid = integer(payload.get("supplierId"), f"{obj}.supplierId")
    customer_pid = integer(payload.get("customerId"), f"{obj}.customerId")
    supplier_fio = text(payload.get("supplierFio"), f"{obj}.supplierFio")
    customer_fio = text(payload.get("customerFio"), f"{obj}.customerFio")

    units, plan_katos = _contract_units(payload.get("ContractUnits"), contract_id)
    rows.contract_units.extend(units)
    subject = (
        text(payload.get("descriptionRu"), f"{obj}.descriptionRu")
        or text(payload.get("descriptionKz"), f"{obj}.descriptionKz")
        or text(payload.get("trdBuyNameRu"), f"{obj}.trdBuyNameRu")
        or text(payload.get("trdBuyNameKz"), f"{obj}.trdBuyNameKz")
    )
    rows.contracts.append(
        {
            "id": contract_id,
            "root_id": root_id,
            "parent_id": ref_id(payload.get("parentId"), f"{obj}.parentId"),
            "contract_type_id": contract_type,
            "status_id": integer(payload.get("refContractStatusId"), f"{obj}.refContractStatusId"),
            "trd_buy_id": ref_id(payload.get("trdBuyId"), f"{obj}.trdBuyId"),
            "number": text(payload.get("contractNumber"), f"{obj}.contractNumber"),
            "number_sys": text(payload.get("contractNumberSys"), f"{obj}.contractNumberSys", 60),
            "trade_method_id": ref_id(payload.get("faktTradeMethodsId"), f"{obj}.faktTradeMethodsId"),
            "sign_reason": text(payload.get("signReasonDocName"), f"{obj}.signReasonDocName"),
            "signed_at": signed_at,
            "last_update": almaty_datetime(payload.get("lastUpdateDate"), f"{obj}.lastUpdateDate"),
            "fin_year": integer(payload.get("finYear"), f"{obj}.finYear"),
            "amount": money(payload.get("contractSum"), f"{obj}.contractSum"),
            "amount_with_vat": money(payload.get("contractSumWnds"), f"{obj}.contractSumWnds"),
            "currency": text(payload.get("refCurrencyCode"), f"{obj}.refCurrencyCode", 3),
            "customer_bin": customer_bin,
            "customer_pid": customer_pid,
            "customer_fio": customer_fio,
            "supplier_biin": supplier_biin,
            "supplier_pid": supplier_pid,
            "supplier_fio": supplier_fio,
            "subject": subject,
            # The delivery place the contract's own lines name (plan points); lots may say more (engagements).
            "region_kato": _dominant_kato(plan_katos),
            "deleted": flag(payload.get("deleted"), f"{obj}.deleted"),
            "raw_record_id": raw.id,
        }
    )

    for side, card_key, biin, pid, fio_key, fio, may_be_person in (
        ("supplier", "Supplier", supplier_biin, supplier_pid, "supplierFio", supplier_fio, True),
        ("customer", "Customer", customer_bin, customer_pid, "customerFio", customer_fio, False),
    ):
        card = payload.get(card_key)
        if card is not None and not isinstance(card, dict):
            raise NormalizeError(f"{obj}.{card_key}", card, "expected an object")
        party = _subject_party(card, biin, pid, f"{obj}.{card_key}", raw, may_be_person=may_be_person)
        if party is None:
            continue
        rows.organizations_party.append(party.row)
        rows.mentions.extend(_org_mentions(party, card, f"{obj}.{card_key}", raw))
        if fio is None:
            continue
        # The head of an individual entrepreneur is the entrepreneur: the same IIN keys both.
        person, rule = _person(
            fio, iin=party.biin if party.is_ip else None, organization_id=party.org_id, raw=raw
        )
        rows.persons.append(person)
        rows.mentions.append(
            _person_mention(person, rule, field_name=f"{obj}.{fio_key}", name=fio, context=party, raw=raw)
        )
        title = f"руководитель {'поставщика' if side == 'supplier' else 'заказчика'} (по договору)"
        # Observed on the signing date only: start = end = that date, not a term of office.
        rows.roles.append(
            _role(
                person["id"], party.org_id, role="head", title=title, start=signed_on, end=signed_on, raw=raw
            )
        )
    return rows


def _contract_units(units: object, contract_id: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Contract lines (deleted ones skipped) and the delivery KATO codes of their plan points."""
    if units is None:
        return [], []
    if not isinstance(units, list):
        raise NormalizeError("Contract.ContractUnits", units, "expected a list")
    rows, katos = [], []
    for unit in units:
        obj = "Contract.ContractUnits"
        if not isinstance(unit, dict):
            raise NormalizeError(obj, unit, "expected an object")
        if flag(unit.get("deleted"), f"{obj}.deleted"):
            continue
        rows.append(
            {
                "id": _required_id(unit, "id", obj),
                "contract_id": contract_id,
                "lot_id": ref_id(unit.get("lotId"), f"{obj}.lotId"),
                "pln_point_id": ref_id(unit.get("plnPointId"), f"{obj}.plnPointId"),
                "enstru_code": _first(unit.get("refEnstruCode"), f"{obj}.refEnstruCode", 40),
                "quantity": decimal(unit.get("quantity"), f"{obj}.quantity", 3),
                "item_price": money(unit.get("itemPrice"), f"{obj}.itemPrice"),
                "total_sum": money(unit.get("totalSum"), f"{obj}.totalSum"),
            }
        )
        plan = unit.get("Plans")
        if isinstance(plan, dict):
            for place in plan.get("PlansKato") or []:
                kato = _kato((place or {}).get("refKatoCode"), f"{obj}.Plans.PlansKato.refKatoCode")
                if kato is not None:
                    katos.append(kato)
        elif plan is not None:
            raise NormalizeError(f"{obj}.Plans", plan, "expected an object")
    return rows, katos


def _dominant_kato(katos: list[str]) -> str | None:
    """The lowest full KATO code within the dominant region of `katos`."""
    region = dominant_region(katos)
    if region is None:
        return None
    return min(k for k in katos if region_code(k) == region)


# -------------------------------------------------------------------------------------------- TrdBuy


def normalize_trd_buy(payload: dict[str, Any], raw: RawRef) -> Rows:
    """An announcement → `procurements` + its `lots`; customer and organizer names fill organization gaps."""
    rows = Rows()
    obj = "TrdBuy"
    buy_id = _required_id(payload, "id", obj)
    customer_bin = identifier(payload.get("customerBin"), f"{obj}.customerBin")
    organizer_bin = identifier(payload.get("orgBin"), f"{obj}.orgBin")
    rows.procurements.append(
        {
            "id": buy_id,
            "number_anno": text(payload.get("numberAnno"), f"{obj}.numberAnno", 40),
            "name_ru": text(payload.get("nameRu"), f"{obj}.nameRu"),
            "name_kk": text(payload.get("nameKz"), f"{obj}.nameKz"),
            "trade_method_id": ref_id(payload.get("refTradeMethodsId"), f"{obj}.refTradeMethodsId"),
            "status_id": integer(payload.get("refBuyStatusId"), f"{obj}.refBuyStatusId"),
            "customer_bin": customer_bin,
            "organizer_bin": organizer_bin,
            "total_sum": money(payload.get("totalSum"), f"{obj}.totalSum"),
            "publish_date": almaty_datetime(payload.get("publishDate"), f"{obj}.publishDate"),
            "end_date": almaty_datetime(payload.get("endDate"), f"{obj}.endDate"),
            "kato": _text_list(payload.get("kato"), f"{obj}.kato"),
            "last_update": almaty_datetime(payload.get("lastUpdateDate"), f"{obj}.lastUpdateDate"),
            "raw_record_id": raw.id,
        }
    )
    lots = payload.get("Lots")
    if lots is not None and not isinstance(lots, list):
        raise NormalizeError(f"{obj}.Lots", lots, "expected a list")
    for lot in lots or []:
        rows.lots.append(_lot(lot, buy_id, raw))

    for prefix, bin_, pid_key in (
        ("customer", customer_bin, "customerPid"),
        ("org", organizer_bin, "orgPid"),
    ):
        # Read here so an unreadable name is reported under its own field name.
        card = {
            key: text(payload.get(f"{prefix}N{key[1:]}"), f"{obj}.{prefix}N{key[1:]}")
            for key in ("nameRu", "nameKz")
        }
        pid = integer(payload.get(pid_key), f"{obj}.{pid_key}")
        if bin_ is None:
            continue
        party = _subject_party(card, bin_, pid, obj, raw, may_be_person=False)
        if party is not None:
            rows.organizations_party.append(party.row)
            for key in ("NameRu", "NameKz"):
                value = _as_written(payload.get(f"{prefix}{key}"))
                if value is not None:
                    rows.mentions.append(_org_mention(party, f"{obj}.{prefix}{key}", value, raw))
    return rows


def _lot(lot: object, buy_id: int, raw: RawRef) -> dict[str, Any]:
    obj = "TrdBuy.Lots"
    if not isinstance(lot, dict):
        raise NormalizeError(obj, lot, "expected an object")
    return {
        "id": _required_id(lot, "id", obj),
        "trd_buy_id": ref_id(lot.get("trdBuyId"), f"{obj}.trdBuyId") or buy_id,
        "lot_number": text(lot.get("lotNumber"), f"{obj}.lotNumber", 60),
        "name_ru": text(lot.get("nameRu"), f"{obj}.nameRu") or text(lot.get("nameKz"), f"{obj}.nameKz"),
        "description_ru": text(lot.get("descriptionRu"), f"{obj}.descriptionRu"),
        "amount": money(lot.get("amount"), f"{obj}.amount"),
        "count": decimal(lot.get("count"), f"{obj}.count", 3),
        "customer_bin": identifier(lot.get("customerBin"), f"{obj}.customerBin"),
        "trade_method_id": ref_id(lot.get("refTradeMethodsId"), f"{obj}.refTradeMethodsId"),
        "buy_trade_method_id": ref_id(lot.get("refBuyTradeMethodsId"), f"{obj}.refBuyTradeMethodsId"),
        "status_id": integer(lot.get("refLotStatusId"), f"{obj}.refLotStatusId"),
        "kato": _text_list(lot.get("plnPointKatoList"), f"{obj}.plnPointKatoList"),
        "raw_record_id": raw.id,
    }


# -------------------------------------------------------------------------------------------- TrdApp


def normalize_trd_app(payload: dict[str, Any], raw: RawRef) -> Rows:
    """An application → one `bids` row per lot applied for (AppLots)."""
    rows = Rows()
    obj = "TrdApp"
    app_id = _required_id(payload, "id", obj)
    common = {
        "application_id": app_id,
        "trd_buy_id": ref_id(payload.get("buyId"), f"{obj}.buyId"),
        "supplier_biin": identifier(payload.get("supplierBinIin"), f"{obj}.supplierBinIin"),
        "supplier_pid": integer(payload.get("supplierId"), f"{obj}.supplierId"),
        "applied_at": almaty_datetime(payload.get("dateApply"), f"{obj}.dateApply"),
        "raw_record_id": raw.id,
    }
    lots = payload.get("AppLots")
    if lots is not None and not isinstance(lots, list):
        raise NormalizeError(f"{obj}.AppLots", lots, "expected a list")
    for app_lot in lots or []:
        sub = f"{obj}.AppLots"
        if not isinstance(app_lot, dict):
            raise NormalizeError(sub, app_lot, "expected an object")
        rows.bids.append(
            {
                **common,
                # Required: (application, lot) is the bid's key, and a NULL lot would never match on update.
                "lot_id": _required_id(app_lot, "lotId", sub),
                "status_id": integer(app_lot.get("statusId"), f"{sub}.statusId"),
                "price": money(app_lot.get("price"), f"{sub}.price"),
                "amount": money(app_lot.get("amount"), f"{sub}.amount"),
            }
        )
    return rows


# ------------------------------------------------------------------------------------------- Subject


def normalize_subject(payload: dict[str, Any], raw: RawRef) -> Rows:
    """A participant card → the authoritative `organizations` row; its heads (Employees role 1) → persons."""
    rows = Rows()
    obj = "Subjects"
    pid = _required_id(payload, "pid", obj)
    party = _subject_party(payload, None, pid, obj, raw, may_be_person=True)
    if party is None:  # unreachable: a pid always keys one
        raise NormalizeError(f"{obj}.pid", pid, "no identifier")
    row = dict(party.row)
    row["kato"] = _subject_kato(payload) or row["kato"]
    row["region_kato"] = region_code(row["kato"])
    row["registered_on"] = almaty_date(payload.get("regdate"), f"{obj}.regdate")
    oked = integer(payload.get("okedList"), f"{obj}.okedList")
    row["oked"] = None if oked is None else text(str(oked), f"{obj}.okedList", 10)
    row["parent_bin"] = identifier(payload.get("parentSubject"), f"{obj}.parentSubject")
    rows.organizations_card.append(row)
    rows.mentions.extend(_org_mentions(party, payload, obj, raw))

    employees = payload.get("Employees")
    if employees is not None and not isinstance(employees, list):
        raise NormalizeError(f"{obj}.Employees", employees, "expected a list")
    for employee in employees or []:
        sub = f"{obj}.Employees"
        if not isinstance(employee, dict):
            raise NormalizeError(sub, employee, "expected an object")
        if integer(employee.get("role"), f"{sub}.role") != HEAD_ROLE:
            continue
        fio = text(employee.get("fio"), f"{sub}.fio")
        if fio is None:
            continue
        iin = identifier(employee.get("iin"), f"{sub}.iin")
        person, rule = _person(fio, iin=iin, organization_id=party.org_id, raw=raw)
        rows.persons.append(person)
        rows.mentions.append(
            _person_mention(person, rule, field_name=f"{sub}.fio", name=fio, context=party, raw=raw)
        )
        rows.roles.append(
            _role(
                person["id"],
                party.org_id,
                role="head",
                title=text(employee.get("roleName"), f"{sub}.roleName"),
                start=almaty_date(employee.get("startDate"), f"{sub}.startDate"),
                end=almaty_date(employee.get("endDate"), f"{sub}.endDate"),
                raw=raw,
            )
        )
    return rows


def _subject_kato(payload: dict[str, Any]) -> str | None:
    """The KATO of the participant's address (legal address, type 1, first), else of its KATO list."""
    addresses = payload.get("Address")
    if addresses is not None and not isinstance(addresses, list):
        raise NormalizeError("Subjects.Address", addresses, "expected a list")
    ordered = sorted(
        (a for a in addresses or [] if isinstance(a, dict)),
        key=lambda a: 0 if a.get("addressType") == 1 else 1,
    )
    for address in ordered:
        kato = _kato(address.get("katoCode"), "Subjects.Address.katoCode")
        if kato is not None:
            return kato
    return _kato(_first(payload.get("katoList"), "Subjects.katoList", 9), "Subjects.katoList")


# ----------------------------------------------------------------------------------------------- Rnu


def normalize_rnu(payload: dict[str, Any], raw: RawRef) -> Rows:
    """An entry of the register of unreliable suppliers → `unreliable_suppliers`."""
    rows = Rows()
    obj = "Rnu"
    rnu_id = text(payload.get("id"), f"{obj}.id", 40)
    if rnu_id is None:
        raise NormalizeError(f"{obj}.id", payload.get("id"), "missing")
    rows.unreliable_suppliers.append(
        {
            "rnu_id": rnu_id,
            "supplier_biin": identifier(payload.get("supplierBiin"), f"{obj}.supplierBiin"),
            "supplier_name": text(payload.get("supplierNameRu"), f"{obj}.supplierNameRu")
            or text(payload.get("supplierNameKz"), f"{obj}.supplierNameKz"),
            "start_date": almaty_date(payload.get("startDate"), f"{obj}.startDate"),
            "end_date": almaty_date(payload.get("endDate"), f"{obj}.endDate"),
            "raw_record_id": raw.id,
        }
    )
    return rows


NORMALIZERS: dict[str, Callable[[dict[str, Any], RawRef], Rows]] = {
    "contract": normalize_contract,
    "trd_buy": normalize_trd_buy,
    "trd_app": normalize_trd_app,
    "subject": normalize_subject,
    "rnu": normalize_rnu,
}


def normalize(record_type: str, payload: object, raw: RawRef) -> Rows:
    """Dispatch one goszakup payload to its normalizer; an unknown record type is an error, not a skip."""
    normalizer = NORMALIZERS.get(record_type)
    if normalizer is None:
        raise NormalizeError("record_type", record_type, "no goszakup normalizer for this record type")
    if not isinstance(payload, dict):
        raise NormalizeError(record_type, payload, "payload is not an object")
    return normalizer(payload, raw)
