"""Deterministic goszakup scenarios for the offline simulator: a fictional education-technology market.

`load_scenario("demo")` builds the demo market: 30 invented companies (e-journal operators, learning and
content platforms, hardware resellers, IT-support firms, teacher-training centres, a few individual
entrepreneurs whose supplier id is an IIN), 300 education buyers spread over all 20 KATO regions (the
ministry, regional and city education departments, schools, colleges, kindergartens, universities) and 2,500
contract rows signed 2023–2025. `load_scenario("scale:N")` runs the same generator for N contract rows
(N ≥ 100; a million is feasible: rows are kept as numpy columns and a record's dict is built only when it is
served).

Records are plain dicts with the real schema's camelCase field names (`data/reference/goszakup/schema.graphql`),
covering every field `crawlers/queries/goszakup.graphql` selects plus a few more, nested objects included.
Roots: `Contract`, `TrdBuy` (with `Lots`, `Commission`), `Lots`, `TrdApp` (with `AppLots`), `Subjects`
(with `Address`, `Employees`), `Rnu` (with `Detail`). Treat returned dicts as read-only: nested subject dicts
are shared.

What the generator reproduces from the real service (SOURCE.md §4–7): contract versions (amendments are new
rows with the main contract's `rootId`, `parentId` = previous version, `refContractTypeId` 2, a changed sum,
sometimes signed in a later year); contracts without an announcement (`trdBuyId` 0, `trdBuyNumberAnno` null:
direct single source and state educational order); `faktTradeMethodsId` null on some contracts (the method is
then the announcement's `refTradeMethodsId`); `contractSumWnds` null for some non-VAT suppliers; `supplierBiin`
an IIN for individual entrepreneurs (`typeSupplier` 3, Subject `bin` null, `iin` set); 9-digit KATO on lots
(`plnPointKatoList`, empty for some lots), announcements (`kato`) and addresses; quasi-public buyers (НАО
universities) using the non-ГЗ method ids; failed lots followed by single-source procurement (method 6);
bids that lost; heads of organizations changing over time; a few unreliable-supplier (Rnu) entries.

Unverified or invented (no public sample shows them): the ids of bid statuses (`AppLots.statusId`, ref_po_st:
`APP_ADMITTED`, `APP_REJECTED`, `APP_WINNER` below), commission roles (`refCommRolesId` 1–4), amendment
justifications (`refAmendmAgreemJustifId` 1–3), `refContractAgrFormId` values; whether e-shop purchases carry an
announcement (here they do); what the status of a superseded contract version is (here 450 «Создано
доп.соглашение»); `Subject.bin` of an individual entrepreneur (here null, the IIN in `iin`).

Deliberate edge cases, all reflected in the ground truth (`Scenario.truth_rows`):
* deleted amendments (`deleted: 1`) that are the newest version of their root, with a different sum — the
  previous non-deleted version wins;
* deleted duplicate main contracts (`deleted: 1`, their own root, status 330) — not engagements;
* one main contract whose `signDate` is the garbage text "31.13.2024" — expected to be quarantined (the
  simulator's date index keeps the day the text stands for, so date-window crawls still deliver it).
* red-flag cases (`Scenario._red_flag_cases`, for `pipeline.flags`): a company registered shortly before its first
  award, two bidders with one head on one lot, and a department's direct award to the company its former head
  leads.

Ground truth: for each root with a non-deleted main contract, the main contract's signDate, the effective
trade method (faktTradeMethodsId, else the announcement's refTradeMethodsId), customer BIN, supplier BIN/IIN,
the amount of the non-deleted version with the highest id (contractSumWnds when given, else contractSum),
and the region (first two KATO digits: the first unit's lot's first `plnPointKatoList` code, else the
announcement's first `kato`, else the customer's address `katoCode`; the units' plan points carry the same
code, so the alternative order of SOURCE.md §6 gives the same answer).
"""

from __future__ import annotations

import csv
import functools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from crawlers.simulator import vocab
from crawlers.simulator.tables import Table, has, int_eq, int_in, str_eq, ts_text, wall_ts
from crawlers.simulator.tables import date as date_field
from entities.config import REFERENCE_DIR
from entities.identifiers import control_digit

ALMATY = ZoneInfo("Asia/Almaty")
DAY = 86_400
HOUR = 3_600
FIRST_DAY = date(2023, 1, 3)
LAST_DAY = date(2025, 12, 29)
END_TS = wall_ts(datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC))
SNAPSHOT_TS = wall_ts(datetime(2026, 1, 12, 6, 0, 0, tzinfo=UTC))  # "now" of the scenario: nothing is newer
DEMO_SEED = 2025
DEMO_ROWS = 2_500
GARBAGE_SIGN_DATE = "31.13.2024"

ROOT_RECORD_TYPES = {"Contract": "contract", "TrdBuy": "trd_buy", "Lots": "lot", "TrdApp": "trd_app",
                     "Subjects": "subject", "Rnu": "rnu"}

# Bid statuses (ref_po_st) — invented ids, see the module docstring.
APP_ADMITTED, APP_REJECTED, APP_WINNER = 1, 2, 3
LOT_DONE, LOT_FAILED = 360, 370  # ref_lots_status «Закупка состоялась» / «Закупка не состоялась»
BUY_COMPLETE = 350  # ref_buy_status «Завершено»

BUYER_KINDS = ("ministry", "region_dept", "city_dept", "school", "college", "kindergarten", "university")
MINISTRY, REGION_DEPT, CITY_DEPT, SCHOOL, COLLEGE, KINDERGARTEN, UNIVERSITY = range(7)
COMPANY = 7

# Category mix per buyer kind (columns: ejournal, platform, hardware, it_support, training).
_CATEGORY_P = np.array([
    [0.05, 0.45, 0.15, 0.20, 0.15],
    [0.15, 0.30, 0.20, 0.15, 0.20],
    [0.20, 0.25, 0.25, 0.15, 0.15],
    [0.32, 0.20, 0.28, 0.20, 0.00],
    [0.20, 0.25, 0.30, 0.25, 0.00],
    [0.00, 0.35, 0.45, 0.20, 0.00],
    [0.00, 0.40, 0.30, 0.30, 0.00],
])
_SIZE = np.array([40.0, 15.0, 6.0, 1.0, 1.5, 0.7, 3.0])  # contract size multiplier per buyer kind
_BUYER_WEIGHT = {MINISTRY: 15.0, REGION_DEPT: 8.0, CITY_DEPT: 4.0, SCHOOL: 1.0, COLLEGE: 1.5,
                 KINDERGARTEN: 0.6, UNIVERSITY: 2.5}
_MEDIAN_KZT = np.array([350_000.0, 900_000.0, 2_500_000.0, 600_000.0, 1_500_000.0])
_SIGMA = np.array([0.5, 0.7, 0.8, 0.6, 0.6])

# Trade methods per category, for ordinary public buyers (ids of ref_trade_methods).
_METHODS: dict[int, list[tuple[int, float]]] = {
    vocab.EJOURNAL: [(23, 0.38), (3, 0.25), (6, 0.10), (60, 0.10), (2, 0.15), (188, 0.02)],
    vocab.PLATFORM: [(3, 0.30), (60, 0.20), (2, 0.20), (23, 0.12), (188, 0.07), (77, 0.05), (6, 0.04), (130, 0.02)],
    vocab.HARDWARE: [(60, 0.52), (3, 0.20), (77, 0.12), (2, 0.10), (6, 0.04), (32, 0.02)],
    vocab.IT_SUPPORT: [(3, 0.42), (2, 0.18), (60, 0.18), (23, 0.12), (6, 0.10)],
    vocab.TRAINING: [(122, 0.70), (2, 0.18), (3, 0.12)],
}
# Quasi-public buyers (НАО) buy outside the public-procurement law, under the non-ГЗ variants.
_QUASI = {3: 126, 60: 160, 23: 123, 2: 124, 77: 177, 6: 125, 188: 200, 32: 124, 130: 123, 122: 123}
DIRECT_METHODS = frozenset({23, 122, 123})  # concluded without an announcement
BIDDED_METHODS = frozenset({2, 3, 32, 77, 188, 124, 126, 177, 200})
TENDER_METHODS = frozenset({2, 32, 188, 124, 200})  # quality counts: a cheaper bid can lose
FAILED_FIRST_METHODS = frozenset({6, 125})  # single source after a failed procurement

_SIGN_REASON = {
    "competitive": "Итоговый протокол о проведении государственных закупок",
    "direct": "Решение о заключении договора способом из одного источника",
    "failed": "Протокол об итогах (закупка не состоялась)",
    "state_order": "Решение о размещении государственного образовательного заказа",
    "eshop": "Итоги закупки через электронный магазин",
}
_STREETS = ("ул. Сынақ", "ул. Мысал", "пр. Үлгі", "ул. Нұсқа", "мкр. Жоба", "ул. Макет", "пр. Болжам")


# --------------------------------------------------------------------------------------------- truth
@dataclass(frozen=True)
class TruthRow:
    """What a correct crawl + build must report for one contract root."""

    root_id: int
    sign_date: str  # the main contract's signDate exactly as served
    trade_method_id: int
    legal_basis: str
    competitive: bool
    customer_bin: str
    supplier_biin: str
    amount: Decimal  # KZT, two places: latest non-deleted version, with VAT when given
    region: str  # first two KATO digits
    versions: int  # non-deleted versions of the root
    expected_quarantine: bool = False  # the record cannot be read (garbage signDate): quarantine, no engagement

    @property
    def signed_at(self) -> datetime | None:
        """Aware Almaty datetime of the signing, or None when the text is garbage."""
        try:
            return datetime.strptime(self.sign_date, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ALMATY)
        except ValueError:
            return None

    @property
    def signed_on(self) -> date | None:
        signed = self.signed_at
        return None if signed is None else signed.date()


def _legal_basis_table() -> dict[int, tuple[str, bool]]:
    path = Path(REFERENCE_DIR) / "legal_basis_trade_methods.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return {int(r["trade_method_id"]): (r["legal_basis"], r["competitive"] == "yes") for r in csv.DictReader(fh)}


# --------------------------------------------------------------------------------------------- people
@dataclass
class _People:
    rand: random.Random
    fio: list[str] = field(default_factory=list)
    iin: list[str] = field(default_factory=list)
    person_id: list[int] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _next_id: int = 700_000

    def make(self, *, female: bool | None = None, style: str | None = None,
             surname: tuple[str, int] | None = None) -> int:
        """A new invented person; returns its index."""
        r = self.rand
        if female is None:
            female = r.random() < 0.58
        if surname is not None:
            style = surname[0]
        elif style is None:
            style = "kz" if r.random() < 0.7 else "ru"
        if style == "kz":
            pair = vocab.SURNAMES_KZ[surname[1]] if surname else r.choice(vocab.SURNAMES_KZ)
            first = r.choice(vocab.FEMALE_KZ if female else vocab.MALE_KZ)
            father = r.choice(vocab.KZ_FATHERS)
            if r.random() < 0.55 or father not in vocab.KZ_FATHERS_RU_STYLE:
                patronymic = father + ("қызы" if female else "ұлы")
            else:
                patronymic = vocab.KZ_FATHERS_RU_STYLE[father] + ("овна" if female else "ович")
        else:
            pair = vocab.SURNAMES_RU[surname[1]] if surname else r.choice(vocab.SURNAMES_RU)
            first = r.choice(vocab.FEMALE_RU if female else vocab.MALE_RU)
            patronymic = r.choice(vocab.RU_PATRONYMICS)[1 if female else 0]
        parts = [pair[1 if female else 0], first]
        if r.random() >= 0.05:
            parts.append(patronymic)
        fio = " ".join(parts)
        if r.random() < 0.12:
            fio = fio.upper()
        self.fio.append(fio)
        self.iin.append(self._iin(female))
        self._next_id += r.randint(1, 40)
        self.person_id.append(self._next_id)
        return len(self.fio) - 1

    def _iin(self, female: bool) -> str:
        r = self.rand
        while True:
            born = date(1958, 1, 1).toordinal() + r.randrange(14_000)
            first11 = f"{date.fromordinal(born):%y%m%d}{4 if female else 3}{r.randrange(10_000):04d}"
            digit = control_digit(first11)
            if digit is not None and first11 not in self._seen:
                self._seen.add(first11)
                return first11 + str(digit)


# --------------------------------------------------------------------------------------------- organizations
@dataclass
class _Org:
    kind: int  # BUYER_KINDS index, or COMPANY
    kopf: str
    name_ru: str
    name_kz: str
    full_name_ru: str
    full_name_kz: str
    region: int
    kato: int
    address: str
    regdate: datetime
    category: int = -1
    weight: float = 1.0
    role: str = "buyer"  # buyer, supplier, loser
    vat: int = 2  # 2 VAT payer (sum x 1.12), 1 no VAT (same sum), 0 no VAT and contractSumWnds null
    quasi: bool = False
    bin: str | None = None
    iin: str | None = None
    head: int = -1
    prev_head: int = -1
    head_change_ts: int = 0  # prev_head was head before this instant
    staff: list[int] = field(default_factory=list)
    pid: int = 0
    updated_ts: int = 0

    @property
    def biin(self) -> str:
        value = self.bin or self.iin
        assert value is not None
        return value


@dataclass
class _Places:
    towns: list[list[tuple[str, int]]]  # per region: (name, KATO of the centre)


def _make_places(r: random.Random, regions: list[vocab.Region]) -> _Places:
    names = [root + ending for root in vocab.PLACE_ROOTS for ending in vocab.PLACE_ENDINGS]
    r.shuffle(names)
    towns = []
    for i, region in enumerate(regions):
        districts = r.sample(range(10, 70), 3)
        towns.append([(names[3 * i + j], int(f"{region.code2}{districts[j]:02d}10000")) for j in range(3)])
    return _Places(towns)


def _bin(r: random.Random, seen: set[str], registered: datetime) -> str:
    while True:
        first11 = f"{registered:%y%m}40{r.randrange(100_000):05d}"
        digit = control_digit(first11)
        if digit is not None and first11 not in seen:
            seen.add(first11)
            return first11 + str(digit)


def _local_kato(r: random.Random, centre: int) -> int:
    if r.random() < 0.6:
        return centre
    text = str(centre)
    return int(f"{text[:4]}{r.randint(20, 60):02d}{r.randint(100, 500):03d}")


def _wall(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """Timestamp of a wall-clock date and time (see `tables.wall_ts`)."""
    return wall_ts(datetime(year, month, day, hour, minute, second, tzinfo=UTC))


def _build_orgs(r: random.Random, people: _People, regions: list[vocab.Region], places: _Places,
                n_extra_buyers: int, n_extra_suppliers: int) -> list[_Org]:
    orgs: list[_Org] = []
    bins: set[str] = set()

    def place(region: int, town: int) -> tuple[str, str, str, str, int]:
        name, centre = places.towns[region][town]
        if regions[region].city:
            return f"района {name}", f"{name} ауданы", f"район {name}", name, centre
        return f"города {name}", f"{name} қаласы", f"г. {name}", name, centre

    def address(region: int, nominative: str) -> str:
        return f"{regions[region].name_ru}, {nominative}, {r.choice(_STREETS)}, {r.randint(1, 160)}"

    def buyer(kind: int, kopf: str, ru: str, kz: str, region: int, kato: int, nominative: str) -> _Org:
        _, kz_suffix, full_ru, full_kz = vocab.KOPF_FORMS[kopf]
        registered = datetime(r.randint(1998, 2012), r.randint(1, 12), r.randint(1, 28), r.randint(9, 17),
                              r.randint(0, 59), r.randint(0, 59), tzinfo=UTC)
        org = _Org(kind=kind, kopf=kopf, name_ru=f'{kopf} "{ru}"', name_kz=f'"{kz}" {kz_suffix}',
                   full_name_ru=f'{full_ru} "{ru}"', full_name_kz=f'"{kz}" {full_kz}', region=region, kato=kato,
                   address=address(region, nominative), regdate=registered, weight=_BUYER_WEIGHT[kind],
                   quasi=kind == UNIVERSITY)
        orgs.append(org)
        return org

    astana = next(i for i, reg in enumerate(regions) if reg.code2 == "71")
    buyer(MINISTRY, "ГУ", "Министерство просвещения Республики Казахстан (демо)",
          "Қазақстан Республикасы Оқу-ағарту министрлігі (демо)", astana, int(f"{places.towns[astana][0][1]}"),
          "г. Астана")
    for i, reg in enumerate(regions):
        _, _, nominative, _, centre = place(i, 0)
        buyer(REGION_DEPT, "ГУ", f"Управление образования {reg.genitive_ru} (демо)",
              f"{reg.genitive_kz} білім басқармасы (демо)", i, centre, nominative)
    for i in range(len(regions)):
        for town in (0, 1):
            gen_ru, gen_kz, nominative, _, centre = place(i, town)
            buyer(CITY_DEPT, "ГУ", f"Отдел образования {gen_ru}", f"{gen_kz}ның білім бөлімі", i, centre, nominative)

    # Local institutions: at least one school per region, the rest spread by a rough size weight.
    weights = [reg.weight for reg in regions]
    counts = {SCHOOL: 170, COLLEGE: 30, KINDERGARTEN: 30, UNIVERSITY: 9}
    extra_colleges = min(n_extra_buyers // 20, 150)
    counts[COLLEGE] += extra_colleges
    counts[KINDERGARTEN] += n_extra_buyers * 15 // 100
    counts[SCHOOL] += n_extra_buyers - extra_colleges - n_extra_buyers * 15 // 100
    numbers: dict[tuple[int, int, int], int] = {}
    used: set[tuple[Any, ...]] = set()
    for kind in (SCHOOL, COLLEGE, KINDERGARTEN, UNIVERSITY):
        for n in range(counts[kind]):
            region = n if kind == SCHOOL and n < len(regions) else r.choices(range(len(regions)), weights)[0]
            town = r.randrange(3)
            gen_ru, gen_kz, nominative, _, centre = place(region, town)
            kato = _local_kato(r, centre)
            if kind in (SCHOOL, KINDERGARTEN):
                key = (kind, region, town)
                numbers[key] = numbers.get(key, r.randint(0, 20)) + r.randint(1, 4)
                number = numbers[key]
                if kind == SCHOOL:
                    kind_ru, kind_kz = r.choices(vocab.SCHOOL_KINDS, (0.8, 0.1, 0.1))[0]
                    buyer(SCHOOL, "КГУ", f"{kind_ru} №{number} отдела образования {gen_ru}",
                          f"{gen_kz}ның білім бөлімінің №{number} {kind_kz}", region, kato, nominative)
                else:
                    buyer(KINDERGARTEN, "ГККП", f"Ясли-сад №{number} отдела образования {gen_ru}",
                          f"{gen_kz}ның білім бөлімінің №{number} бөбекжай-бақшасы", region, kato, nominative)
            elif kind == COLLEGE:
                for _ in range(20):
                    kind_ru, kind_kz = r.choice(vocab.COLLEGE_KINDS)
                    if (kind_ru, region, town) not in used:
                        break
                    region, town = r.randrange(len(regions)), r.randrange(3)
                    gen_ru, gen_kz, nominative, _, centre = place(region, town)
                used.add((kind_ru, region, town))
                buyer(COLLEGE, "ГККП", f"{kind_ru} {gen_ru}", f"{gen_kz}ның {kind_kz}", region, kato, nominative)
            else:
                while ("univ", region, town) in used:
                    region, town = r.randrange(len(regions)), r.randrange(3)
                    gen_ru, gen_kz, nominative, _, centre = place(region, town)
                used.add(("univ", region, town))
                buyer(UNIVERSITY, "НАО", f"Университет {gen_ru}", f"{gen_kz}ның университеті", region,
                      centre, nominative)
    for org in orgs:
        org.bin = _bin(r, bins, org.regdate)
        org.vat = 2

    # Companies: the 30 demo seeds, then invented extras for scale scenarios.
    seeds = list(vocab.COMPANIES)
    for k in range(n_extra_suppliers):
        category = r.choices(range(len(vocab.CATEGORIES)), (1, 3, 4, 3, 1))[0]
        brand = f"{r.choice(vocab.PLACE_ROOTS)} {r.choice(vocab.BRAND_FIELDS[category])} {k + 2}"
        seeds.append(vocab.CompanySeed(brand, "ИП" if r.random() < 0.08 else "ТОО", category,
                                       weight=round(r.uniform(0.2, 1.5), 2)))
    home = [astana, next(i for i, reg in enumerate(regions) if reg.code2 == "75")]
    for seed in seeds:
        region = home[0] if r.random() < 0.6 else home[1] if r.random() < 0.75 else r.randrange(len(regions))
        _, _, nominative, _, centre = place(region, r.randrange(3))
        registered = datetime(r.randint(2006, 2021), r.randint(1, 12), r.randint(1, 28), r.randint(9, 17),
                              r.randint(0, 59), r.randint(0, 59), tzinfo=UTC)
        head = -1
        brand = seed.brand
        if seed.owner is not None:
            style, surname, female = seed.owner
            head = people.make(female=female, surname=(style, surname))
            brand = people.fio[head].title() if people.fio[head].isupper() else people.fio[head]
        _, kz_suffix, full_ru, full_kz = vocab.KOPF_FORMS[seed.kopf]
        org = _Org(kind=COMPANY, kopf=seed.kopf, name_ru=f'{seed.kopf} "{brand}"', name_kz=f'"{brand}" {kz_suffix}',
                   full_name_ru=f'{full_ru} "{brand}"', full_name_kz=f'"{brand}" {full_kz}', region=region,
                   kato=_local_kato(r, centre), address=address(region, nominative), regdate=registered,
                   category=seed.category, weight=seed.weight, role=seed.role)
        if seed.kopf == "ИП":
            if head < 0:
                head = people.make()
            org.head = head
            org.iin = people.iin[head]  # an entrepreneur's supplier id is their own IIN
            org.vat = 0
        else:
            org.bin = _bin(r, bins, registered)
            org.vat = 0 if seed.kopf == "ЧУ" else 2 if r.random() < 0.8 else 1
        orgs.append(org)

    # Heads and staff; some heads changed during the period.
    for org in orgs:
        if org.head < 0:
            org.head = people.make()
            if r.random() < (0.25 if org.kind != COMPANY else 0.2):
                org.prev_head = people.make()
                org.head_change_ts = r.randint(_wall(2023, 3, 1), _wall(2025, 9, 30))
        org.staff = [people.make() for _ in range(2 if org.kind != COMPANY else 1)]
    companies = [o for o in orgs if o.kind == COMPANY]
    # Two bidders that compete for the same lots share a head (a red flag the graph must show) ...
    losers = [o for o in companies if o.role == "loser" and o.kopf != "ИП"]
    if len(losers) >= 2:
        losers[1].head, losers[1].prev_head, losers[1].head_change_ts = losers[0].head, -1, 0
    # ... and a regional education head moves to the leading e-journal operator (a revolving door).
    department = next(o for o in orgs if o.kind == REGION_DEPT)
    operator = companies[0]
    department.prev_head = people.make()
    department.head_change_ts = _wall(2023, 8, 14, 10, 0, 0)
    operator.prev_head, operator.head = operator.head, department.prev_head
    operator.head_change_ts = _wall(2023, 9, 20, 11, 30, 0)
    department.prev_head, department.head = department.prev_head, people.make()

    # pids follow registration order, like a registry that numbers participants as they join.
    pid = 100_000
    for org in sorted(orgs, key=lambda o: o.regdate):
        pid += r.randint(1, 300)
        org.pid = pid
    for org in orgs:
        low = max(_wall(2023, 1, 1), org.head_change_ts)
        org.updated_ts = r.randint(low, _wall(2025, 12, 31, 18, 0, 0))
    return orgs


# --------------------------------------------------------------------------------------------- the scenario
class Scenario:
    """Generated goszakup data, its indexed tables (one per GraphQL root) and its ground truth."""

    def __init__(self, name: str, seed: int, n_rows: int, n_extra_buyers: int, n_extra_suppliers: int) -> None:
        if n_rows < 100:
            raise ValueError(f"a scenario needs at least 100 contract rows, got {n_rows}")
        self.name = name
        self.seed = seed
        r = random.Random(seed)
        rng = np.random.default_rng(seed)
        self.regions = vocab.load_regions()
        self._people = _People(random.Random(seed + 1))
        self._places = _make_places(r, self.regions)
        self._orgs = _build_orgs(r, self._people, self.regions, self._places, n_extra_buyers, n_extra_suppliers)
        self._legal = _legal_basis_table()
        self._method_symbol = _method_symbols()
        self._generate(rng, n_rows)
        self._red_flag_cases(random.Random(seed + 5))
        self._org_pos = {o.pid: i for i, o in enumerate(self._orgs)}
        self._subject_dicts = [self._subject(o) for o in self._orgs]
        self._rnu_dicts = self._make_rnu(r)
        self.tables: dict[str, Table] = self._make_tables()
        self._truth: list[TruthRow] | None = None

    # ------------------------------------------------------------------ public API
    def count(self, root: str) -> int:
        return len(self.tables[root])

    def records(self, root: str) -> Iterator[dict[str, Any]]:
        """Every record of a root (`Contract`, `TrdBuy`, `Lots`, `TrdApp`, `Subjects`, `Rnu`), newest id first."""
        table = self.tables[root]
        for position in range(len(table)):
            yield table.record(position)

    def get(self, root: str, record_id: int) -> dict[str, Any] | None:
        return self.tables[root].get(record_id)

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(root)} {root}" for root in self.tables)
        return f"scenario {self.name} (seed {self.seed}): {counts}"

    def truth(self) -> list[TruthRow]:
        """One row per contract root with a non-deleted main contract, including expected quarantines."""
        if self._truth is None:
            self._truth = self._compute_truth()
        return self._truth

    def truth_rows(self, since: date | str | None = None, until: date | str | None = None, *,
                   include_quarantined: bool = False) -> list[TruthRow]:
        """Truth rows whose main contract was signed in [since, until] (dates, both inclusive).

        Expected quarantines have no readable date: they are returned only with `include_quarantined`, for
        any window.
        """
        low = _as_date(since)
        high = _as_date(until)
        rows = []
        for row in self.truth():
            if row.expected_quarantine:
                if include_quarantined:
                    rows.append(row)
                continue
            day = row.signed_on
            assert day is not None
            if (low is None or day >= low) and (high is None or day <= high):
                rows.append(row)
        return rows

    def expected_quarantine(self) -> list[TruthRow]:
        return [row for row in self.truth() if row.expected_quarantine]

    # ------------------------------------------------------------------ generation
    def _generate(self, rng: np.random.Generator, n_rows: int) -> None:
        orgs = self._orgs
        n_amend = round(n_rows * 0.13)
        n_dup = max(2, n_rows // 1000)
        m = n_rows - n_amend - n_dup
        self.n_deals = m

        org_kind = np.array([o.kind for o in orgs])
        org_region = np.array([o.region for o in orgs])
        org_kato = np.array([o.kato for o in orgs], dtype=np.int64)
        org_quasi = np.array([o.quasi for o in orgs])
        buyers = np.flatnonzero(org_kind != COMPANY)
        weights = np.array([orgs[i].weight for i in buyers])

        # Deals = main contracts: buyer, category, item, method, size.
        d_buyer = buyers[rng.choice(len(buyers), m, p=weights / weights.sum())]
        kind = org_kind[d_buyer]
        d_cat = _draw_rows(rng, _CATEGORY_P[kind])
        items_by_cat = [np.array([i for i, it in enumerate(vocab.ITEMS) if it.category == c])
                        for c in range(len(vocab.CATEGORIES))]
        d_item = np.empty(m, dtype=np.int64)
        d_method = np.empty(m, dtype=np.int64)
        for c, methods in _METHODS.items():
            mask = d_cat == c
            d_item[mask] = rng.choice(items_by_cat[c], mask.sum())
            ids = np.array([mid for mid, _ in methods])
            p = np.array([pr for _, pr in methods])
            d_method[mask] = ids[rng.choice(len(ids), mask.sum(), p=p / p.sum())]
        quasi_map = np.arange(256)
        for plain, quasi in _QUASI.items():
            quasi_map[plain] = quasi
        d_method = np.where(org_quasi[d_buyer], quasi_map[d_method], d_method)
        direct = np.isin(d_method, list(DIRECT_METHODS))
        item_qty = np.array([it.max_quantity for it in vocab.ITEMS])
        item_goods = np.array([it.subject_type == 1 for it in vocab.ITEMS])
        max_qty = item_qty[d_item]
        d_qty = np.where(item_goods[d_item], rng.integers(1, max_qty + 1),
                         np.where(max_qty >= 12, rng.choice([9, 12], m), 1))
        sums = rng.lognormal(np.log(_MEDIAN_KZT[d_cat] * _SIZE[kind]), _SIGMA[d_cat])
        d_sum = np.maximum(np.round(sums * 100), 2_000_000).astype(np.int64)  # cents, at least 20,000 KZT

        # Where the goods go: a ministry or regional department buys for a town of some region.
        n_regions = len(self.regions)
        centre = np.array([[kato for _, kato in towns] for towns in self._places.towns], dtype=np.int64)
        d_region = np.where(kind == MINISTRY, rng.integers(0, n_regions, m), org_region[d_buyer])
        wide = (kind == MINISTRY) | (kind == REGION_DEPT)
        d_kato = np.where(wide, centre[d_region, rng.integers(0, 3, m)], org_kato[d_buyer])

        # Announcements: deals of one buyer and method are grouped into multi-lot announcements.
        days, day_p = _sign_days()
        ai = np.flatnonzero(~direct)
        order = np.lexsort((rng.random(ai.size), d_method[ai], d_buyer[ai]))
        ai = ai[order]
        brk = np.ones(ai.size, dtype=bool)
        brk[1:] = ((d_buyer[ai[1:]] != d_buyer[ai[:-1]]) | (d_method[ai[1:]] != d_method[ai[:-1]])
                   | (rng.random(ai.size - 1) < 0.55))
        group_of = np.cumsum(brk) - 1
        n_groups = int(group_of[-1]) + 1 if ai.size else 0
        group_start = np.flatnonzero(brk)
        group_size = np.diff(np.append(group_start, ai.size))
        lot_in_group = np.arange(ai.size) - group_start[group_of]
        group_day = rng.choice(days, n_groups, p=day_p)
        d_day = np.empty(m, dtype=np.int64)
        d_day[ai] = np.minimum(group_day[group_of] + rng.integers(0, 3, ai.size), days[-1] + 2)
        d_day[direct] = rng.choice(days, int(direct.sum()), p=day_p)
        d_sign = np.minimum(d_day * DAY + 9 * HOUR + rng.integers(0, 34_200, m), END_TS)

        # Suppliers: e-journal operators hold regions and sometimes replace one another; other categories
        # draw from a weighted pool.
        d_supplier = np.empty(m, dtype=np.int64)
        companies = [i for i, o in enumerate(orgs) if o.kind == COMPANY]
        winners = {c: np.array([i for i in companies if orgs[i].category == c and orgs[i].role == "supplier"])
                   for c in range(len(vocab.CATEGORIES))}
        for c, pool in winners.items():
            mask = d_cat == c
            w = np.array([orgs[i].weight for i in pool])
            d_supplier[mask] = pool[rng.choice(len(pool), mask.sum(), p=w / w.sum())]
        before, after, switch = self._ejournal_schedule(rng, winners[vocab.EJOURNAL])
        ej = (d_cat == vocab.EJOURNAL) & (rng.random(m) < 0.9)
        d_supplier[ej] = np.where(d_sign[ej] < switch[d_region[ej]], before[d_region[ej]], after[d_region[ej]])

        # Buys: one per group, plus a failed earlier announcement before each single-source-after-failure.
        first_deal = ai[group_start]
        g_method = d_method[first_deal]
        pred_groups = np.flatnonzero(np.isin(g_method, list(FAILED_FIRST_METHODS)))
        n_pred = pred_groups.size
        n_buys = n_groups + n_pred
        extra_lot = rng.random(n_groups) < 0.08
        lots_per_buy = np.concatenate([group_size + extra_lot, group_size[pred_groups]])
        lot_first = np.concatenate([[0], np.cumsum(lots_per_buy)[:-1]]).astype(np.int64)
        n_lots = int(lots_per_buy.sum())
        l_buy = np.repeat(np.arange(n_buys), lots_per_buy)
        l_index = np.arange(n_lots) - lot_first[l_buy]  # 0-based position in its announcement
        l_deal = np.full(n_lots, -1, dtype=np.int64)
        l_src = np.empty(n_lots, dtype=np.int64)  # the deal a lot describes (item, amount, place)
        deal_lot = lot_first[group_of] + lot_in_group
        l_deal[deal_lot] = ai
        l_src[deal_lot] = ai
        extra_groups = np.flatnonzero(extra_lot)
        extra_pos = lot_first[extra_groups] + group_size[extra_groups]
        l_src[extra_pos] = first_deal[extra_groups]
        pred_buy_of_group = np.full(n_groups, -1, dtype=np.int64)
        pred_buy_of_group[pred_groups] = n_groups + np.arange(n_pred)
        in_pred = pred_buy_of_group[group_of] >= 0
        pred_pos = lot_first[pred_buy_of_group[group_of[in_pred]]] + lot_in_group[in_pred]
        l_src[pred_pos] = ai[in_pred]
        l_status = np.where(l_deal >= 0, LOT_DONE, LOT_FAILED)
        l_item = d_item[l_src].copy()
        l_item[extra_pos] = [rng.choice(items_by_cat[d_cat[s]]) for s in first_deal[extra_groups]]
        l_qty = d_qty[l_src].copy()
        l_amount = np.round(d_sum[l_src] * rng.uniform(1.0, 1.2, n_lots)).astype(np.int64)
        # Delivery KATO: most lots name one place, some none (≈9% in the real data), some two.
        l_kato_a = d_kato[l_src].copy()
        l_kato_a[rng.random(n_lots) < 0.09] = 0
        l_kato_b = np.zeros(n_lots, dtype=np.int64)
        two = wide[l_src] & (l_kato_a != 0) & (rng.random(n_lots) < 0.1)
        l_kato_b[two] = centre[d_region[l_src[two]], rng.integers(0, 3, int(two.sum()))]
        l_kato_b[l_kato_b == l_kato_a] = 0

        b_first_deal = np.concatenate([first_deal, first_deal[pred_groups]])
        b_customer = d_buyer[b_first_deal]
        b_method = np.concatenate([g_method, np.where(org_quasi[b_customer[n_groups:]], 126,
                                                      rng.choice([3, 3, 2], n_pred))])
        b_pred = np.zeros(n_buys, dtype=bool)
        b_pred[n_groups:] = True
        # Announcement-level KATO when no lot names a place (most such announcements still carry one).
        b_kato_first = np.zeros(n_buys, dtype=np.int64)
        with_kato = np.flatnonzero(l_kato_a != 0)
        buys_with, first_idx = np.unique(l_buy[with_kato], return_index=True)
        b_kato_first[buys_with] = l_kato_a[with_kato[first_idx]]
        b_kato_extra = np.where((b_kato_first == 0) & (rng.random(n_buys) < 0.7), d_kato[b_first_deal], 0)
        b_kato_first = np.where(b_kato_first == 0, b_kato_extra, b_kato_first)

        # Announcement timeline, ending before the earliest contract of the group.
        g_sign = np.minimum.reduceat(d_sign[ai], group_start) if n_groups else np.zeros(0, dtype=np.int64)
        eshop = np.isin(g_method, [60, 160])
        itogi = g_sign - rng.integers(DAY, 5 * DAY, n_groups)
        end = itogi - rng.integers(DAY, 3 * DAY, n_groups)
        publish = end - np.where(eshop, rng.integers(2 * DAY, 5 * DAY, n_groups), rng.integers(7 * DAY, 20 * DAY, n_groups))
        p_itogi = publish[pred_groups] - rng.integers(3 * DAY, 10 * DAY, n_pred)
        p_end = p_itogi - rng.integers(DAY, 3 * DAY, n_pred)
        p_publish = p_end - rng.integers(7 * DAY, 15 * DAY, n_pred)
        b_publish = np.concatenate([publish, p_publish])
        b_end = np.concatenate([end, p_end])
        b_itogi = np.concatenate([itogi, p_itogi])
        b_start = b_publish + rng.integers(HOUR, DAY, n_buys)
        b_updated = b_itogi + rng.integers(HOUR, 2 * DAY, n_buys)

        # Bids: the winner and the losers of each competitive lot; one bid on some failed lots.
        bidders = {c: np.array([i for i in companies if orgs[i].category == c]) for c in range(len(vocab.CATEGORIES))}
        bidder_w = {c: np.array([orgs[i].weight * (3.0 if orgs[i].role == "loser" else 1.0) for i in pool])
                    for c, pool in bidders.items()}
        l_cat = np.array([it.category for it in vocab.ITEMS])[l_item]
        l_method = b_method[l_buy]
        won = np.flatnonzero((l_deal >= 0) & np.isin(l_method, list(BIDDED_METHODS)))
        bid_lot = [won]
        bid_sup = [d_supplier[l_deal[won]]]
        bid_status = [np.full(won.size, APP_WINNER)]
        bid_amount = [d_sum[l_deal[won]]]
        n_losers = rng.choice([0, 1, 2, 3, 4], won.size, p=[0.15, 0.3, 0.3, 0.15, 0.1])
        loser_lot = np.repeat(won, n_losers)
        loser_sup = np.empty(loser_lot.size, dtype=np.int64)
        for c, pool in bidders.items():
            mask = l_cat[loser_lot] == c
            loser_sup[mask] = pool[rng.choice(len(pool), mask.sum(), p=bidder_w[c] / bidder_w[c].sum())]
        winner_of_lot = np.full(n_lots, -1, dtype=np.int64)
        winner_of_lot[won] = d_supplier[l_deal[won]]
        keep = loser_sup != winner_of_lot[loser_lot]
        loser_lot, loser_sup = loser_lot[keep], loser_sup[keep]
        _, unique_idx = np.unique(loser_lot * len(orgs) + loser_sup, return_index=True)
        loser_lot, loser_sup = loser_lot[unique_idx], loser_sup[unique_idx]
        tender = np.isin(l_method[loser_lot], list(TENDER_METHODS)) & (rng.random(loser_lot.size) < 0.25)
        ratio = np.where(tender, rng.uniform(0.9, 0.99, loser_lot.size), rng.uniform(1.01, 1.3, loser_lot.size))
        bid_lot.append(loser_lot)
        bid_sup.append(loser_sup)
        bid_status.append(np.where(rng.random(loser_lot.size) < 0.15, APP_REJECTED, APP_ADMITTED))
        bid_amount.append(np.round(d_sum[l_deal[loser_lot]] * ratio).astype(np.int64))
        # A failed first procurement usually had a single bid, from the firm that then gets the direct contract.
        lone = pred_pos[rng.random(pred_pos.size) < 0.6]
        bid_lot.append(lone)
        bid_sup.append(d_supplier[l_src[lone]])
        bid_status.append(np.full(lone.size, APP_ADMITTED))
        bid_amount.append(np.round(l_amount[lone] * rng.uniform(0.95, 1.0, lone.size)).astype(np.int64))
        rejected = extra_pos[rng.random(extra_pos.size) < 0.5]
        rejected_sup = np.array([rng.choice(bidders[c]) for c in l_cat[rejected]], dtype=np.int64)
        bid_lot.append(rejected)
        bid_sup.append(rejected_sup)
        bid_status.append(np.full(rejected.size, APP_REJECTED))
        bid_amount.append(np.round(l_amount[rejected] * rng.uniform(0.8, 1.0, rejected.size)).astype(np.int64))
        bl = np.concatenate(bid_lot)
        bs = np.concatenate(bid_sup)
        order = np.lexsort((bl, bs, l_buy[bl]))
        bl, bs = bl[order], bs[order]
        bst = np.concatenate(bid_status)[order]
        bam = np.concatenate(bid_amount)[order]
        bb = l_buy[bl]
        new_app = np.ones(bl.size, dtype=bool)
        new_app[1:] = (bb[1:] != bb[:-1]) | (bs[1:] != bs[:-1])
        app_first = np.flatnonzero(new_app)
        a_buy = bb[app_first]
        a_supplier = bs[app_first]
        a_count = np.diff(np.append(app_first, bl.size))
        a_date = b_start[a_buy] + (rng.random(a_buy.size) * (b_end[a_buy] - b_start[a_buy])).astype(np.int64)

        # Contract rows: mains, amendments (chains per root), deleted duplicates.
        garbage = int(rng.choice(np.flatnonzero((d_sign > _wall(2024, 3, 1)) &
                                                (d_sign < _wall(2024, 11, 1)) & direct)))
        eligible = np.flatnonzero(d_sign < END_TS - 20 * DAY)
        eligible = eligible[eligible != garbage]
        am_deal = np.sort(rng.choice(eligible, n_amend))
        am_new = np.ones(n_amend, dtype=bool)
        am_new[1:] = am_deal[1:] != am_deal[:-1]
        am_start = np.flatnonzero(am_new)
        am_group = np.cumsum(am_new) - 1
        am_rank = np.arange(n_amend) - am_start[am_group]
        am_count = np.diff(np.append(am_start, n_amend))[am_group]
        gaps = rng.integers(15 * DAY, 200 * DAY, n_amend)
        cum = np.cumsum(gaps)
        cum -= (cum - gaps)[am_start][am_group]
        # Squeeze a chain that would run past the end of the period into the time that is left.
        chain_total = cum[am_start + np.diff(np.append(am_start, n_amend)) - 1][am_group]
        room = END_TS - rng.integers(DAY, 10 * DAY, am_start.size)[am_group] - d_sign[am_deal]
        am_sign = d_sign[am_deal] + (cum * np.minimum(1.0, room / chain_total)).astype(np.int64)
        logf = np.log(rng.uniform(0.85, 1.25, n_amend))
        cumf = np.cumsum(logf)
        cumf -= (cumf - logf)[am_start][am_group]
        am_sum = np.round(d_sum[am_deal] * np.exp(cumf)).astype(np.int64)
        am_deleted = np.zeros(n_amend, dtype=bool)
        last_in_chain = np.flatnonzero(am_rank == am_count - 1)
        n_del = min(last_in_chain.size, max(2, last_in_chain.size * 3 // 100))
        deleted_am = rng.choice(last_in_chain, n_del, replace=False)
        am_deleted[deleted_am] = True
        am_sum[deleted_am] = np.round(am_sum[deleted_am] * 1.5).astype(np.int64)

        amended = np.zeros(m, dtype=bool)
        amended[am_deal] = True
        dup_pool = np.flatnonzero(~amended)
        dup_deal = rng.choice(dup_pool[dup_pool != garbage], n_dup, replace=False)

        n = m + n_amend + n_dup
        c_deal = np.concatenate([np.arange(m), am_deal, dup_deal])
        c_version = np.concatenate([np.zeros(m, dtype=np.int64), am_rank + 1, np.zeros(n_dup, dtype=np.int64)])
        c_type = np.concatenate([np.ones(m, dtype=np.int64), np.full(n_amend, 2), np.ones(n_dup, dtype=np.int64)])
        c_deleted = np.concatenate([np.zeros(m, dtype=bool), am_deleted, np.ones(n_dup, dtype=bool)])
        main_crdate = d_sign - rng.integers(HOUR, 30 * HOUR, m)
        c_sign = np.concatenate([d_sign, am_sign, d_sign[dup_deal] - rng.integers(HOUR, 3 * DAY, n_dup)])
        c_crdate = np.concatenate([main_crdate, am_sign - rng.integers(600, 3_000, n_amend),
                                   main_crdate[dup_deal] - rng.integers(2 * HOUR, 2 * DAY, n_dup)])
        c_sum = np.concatenate([d_sum, am_sum, np.round(d_sum[dup_deal] * 0.95).astype(np.int64)])
        rows = np.arange(n)
        c_root = np.concatenate([np.arange(m), am_deal, rows[m + n_amend:]])
        c_parent = np.concatenate([np.full(m, -1), np.where(am_rank == 0, am_deal, rows[m:m + n_amend] - 1),
                                   np.full(n_dup, -1)])
        # The next version of a row, for its status and its lastUpdateDate.
        c_next = np.full(n, -1, dtype=np.int64)
        c_next[am_deal[am_start]] = m + am_start
        has_later = am_rank < am_count - 1
        c_next[m + np.flatnonzero(has_later)] = m + np.flatnonzero(has_later) + 1
        c_updated = np.where(c_next >= 0, c_sign[np.maximum(c_next, 0)] + rng.integers(0, 2 * HOUR, n),
                             c_sign + rng.integers(HOUR, 20 * DAY, n))
        late = c_updated > SNAPSHOT_TS
        c_updated[late] = SNAPSHOT_TS - rng.integers(HOUR, 10 * DAY, int(late.sum()))
        recent = c_sign > _wall(2025, 6, 30)
        closing = rng.choice([390, 470, 350, 190], n, p=[0.75, 0.15, 0.05, 0.05])
        c_status = np.where(c_next >= 0, 450, np.where(recent, 190, closing))
        c_status[m + n_amend:] = 330  # «Не заключен»: the deleted duplicates

        # Ids follow creation time, with gaps, as in a shared sequence.
        self.c_id = _ids_by_time(rng, c_crdate, 14_200_000, 60)
        d_units = 1 + (rng.random(m) < 0.25).astype(np.int64)
        unit_counts = d_units[c_deal]
        by_id = np.argsort(self.c_id, kind="stable")
        unit_first = np.empty(n, dtype=np.int64)
        unit_first[by_id] = 21_000_000 + np.cumsum(unit_counts[by_id] + rng.integers(0, 3, n)) - unit_counts[by_id]

        b_id = _ids_by_time(rng, b_publish, 9_800_000, 25)
        l_points = d_units[l_src]
        l_points[l_deal < 0] = 1
        lot_order = np.lexsort((l_index, _rank(b_id)[l_buy]))  # lots in announcement-id order
        l_id = np.empty(n_lots, dtype=np.int64)
        l_id[lot_order] = 61_000_000 + np.cumsum(rng.integers(1, 6, n_lots))
        l_plan = np.empty(n_lots, dtype=np.int64)
        l_plan[lot_order] = 71_000_000 + np.cumsum(l_points[lot_order] + rng.integers(0, 4, n_lots)) - l_points[lot_order]
        d_plan = np.zeros(m, dtype=np.int64)
        d_lot = np.full(m, -1, dtype=np.int64)
        d_lot[ai] = deal_lot
        d_plan[ai] = l_plan[deal_lot]
        direct_idx = np.flatnonzero(direct)
        d_plan[direct_idx] = 79_000_000 + np.cumsum(d_units[direct_idx] + rng.integers(0, 4, direct_idx.size))
        d_buy = np.full(m, -1, dtype=np.int64)
        d_buy[ai] = l_buy[deal_lot]

        a_id = _ids_by_time(rng, a_date, 33_000_000, 30)
        al_order = np.lexsort((np.arange(bl.size), _rank(a_id)[np.cumsum(new_app) - 1]))
        al_id = np.empty(bl.size, dtype=np.int64)
        al_id[al_order] = 47_000_000 + np.cumsum(rng.integers(1, 4, bl.size))
        b_prot = np.zeros(n_buys, dtype=np.int64)
        b_prot[np.unique(a_buy)] = 5_100_000 + np.arange(np.unique(a_buy).size) * 7

        # Region of each deal, by the ground-truth rule.
        lot_kato = np.where(d_lot >= 0, l_kato_a[np.maximum(d_lot, 0)], 0)
        buy_kato = np.where(d_buy >= 0, b_kato_first[np.maximum(d_buy, 0)], 0)
        d_region_kato = np.where(lot_kato != 0, lot_kato, np.where(buy_kato != 0, buy_kato, org_kato[d_buyer]))

        d_fakt_null = ~direct & (rng.random(m) < 0.05)
        d_year = _years(d_sign)
        # Some December contracts are paid from the next year's budget.
        december = (_months(d_sign) == 12) & (rng.random(m) < 0.1)
        d_fin_year = d_year + december

        self.garbage_row = garbage  # main rows are deal-indexed
        self.n_amend, self.n_dup = n_amend, n_dup
        # Keep what materialization and the truth need.
        self.d = {"buyer": d_buyer, "supplier": d_supplier, "method": d_method, "fakt_null": d_fakt_null,
                  "item": d_item, "qty": d_qty, "units": d_units, "plan": d_plan, "lot": d_lot, "buy": d_buy,
                  "region_kato": d_region_kato, "fin_year": d_fin_year, "share": rng.uniform(0.3, 0.7, m),
                  "plans_kato_empty": rng.random(m) < 0.1, "number": rng.integers(1, 250, m),
                  "agr_form": rng.choice([1, 2], m, p=[0.85, 0.15]), "justif": rng.integers(1, 4, n)}
        self.c = {"deal": c_deal, "version": c_version, "type": c_type, "deleted": c_deleted, "sign": c_sign,
                  "crdate": c_crdate, "updated": c_updated, "sum": c_sum, "root": c_root, "parent": c_parent,
                  "status": c_status, "unit_first": unit_first}
        self.b = {"id": b_id, "customer": b_customer, "method": b_method, "pred": b_pred, "publish": b_publish,
                  "start": b_start, "end": b_end, "itogi": b_itogi, "updated": b_updated, "lot_first": lot_first,
                  "lot_count": lots_per_buy, "kato_extra": b_kato_extra, "first_deal": b_first_deal, "prot": b_prot,
                  "fin_year": _years(b_itogi)}
        self.lot = {"id": l_id, "buy": l_buy, "index": l_index, "deal": l_deal, "src": l_src, "status": l_status,
                    "item": l_item, "qty": l_qty, "amount": l_amount, "kato_a": l_kato_a, "kato_b": l_kato_b,
                    "plan": l_plan, "points": l_points}
        self.app = {"id": a_id, "buy": a_buy, "supplier": a_supplier, "first": app_first, "count": a_count,
                    "date": a_date}
        self.bid = {"id": al_id, "lot": bl, "status": bst, "amount": bam}

    def _red_flag_cases(self, r: random.Random) -> None:
        """Cases the red-flag rules (`pipeline.flags`) must find, made after generation.

        Applied to the generated arrays without drawing from the generator's random streams, so every other
        record, the ground truth's other rows and the gov.kz demo story stay exactly as they were:
        * a hardware reseller registered about two months before its first award (ТОО «Қиял Дисплей»: its
          registration date and the BIN, whose first digits are the registration year and month, move);
        * the two losing bidders that share a head bid on the same lot (the second one's application is added);
        * the head who left the first regional education department for the leading e-journal operator: that
          department later awards the operator a direct contract (one of its direct deals changes supplier).
        """
        orgs = self._orgs
        companies = [i for i, o in enumerate(orgs) if o.kind == COMPANY]
        d, main_sign = self.d, self.c["sign"][: self.n_deals]  # main contract rows come first, in deal order
        # 1. Registered shortly before the first award.
        young = next((i for i in companies if orgs[i].name_ru.endswith('"Қиял Дисплей"')), None)
        own = np.flatnonzero(d["supplier"] == young) if young is not None else np.zeros(0, dtype=np.int64)
        if young is not None and own.size:
            org = orgs[young]
            first = datetime.fromtimestamp(int(main_sign[own].min()), UTC)
            registered = (first - timedelta(days=58)).replace(hour=10, minute=15, second=0)
            org.regdate = registered
            org.bin = _bin(r, {o.bin[:11] for o in orgs if o.bin}, registered)
            if org.prev_head >= 0 and org.head_change_ts <= wall_ts(registered):
                org.prev_head, org.head_change_ts = -1, 0
        # 2. Bidders with one head on one lot.
        losers = [i for i in companies if orgs[i].role == "loser" and orgs[i].kopf != "ИП"]
        if len(losers) >= 2 and orgs[losers[0]].head == orgs[losers[1]].head:
            a, bid = self.app, self.bid
            apps = np.flatnonzero(a["supplier"] == losers[0])
            if apps.size:
                app = int(apps[0])
                k = int(a["first"][app])
                self.app = {
                    "id": np.append(a["id"], int(a["id"].max()) + 11), "buy": np.append(a["buy"], a["buy"][app]),
                    "supplier": np.append(a["supplier"], losers[1]), "first": np.append(a["first"], len(bid["id"])),
                    "count": np.append(a["count"], 1), "date": np.append(a["date"], a["date"][app] + HOUR)}
                self.bid = {
                    "id": np.append(bid["id"], int(bid["id"].max()) + 7), "lot": np.append(bid["lot"], bid["lot"][k]),
                    "status": np.append(bid["status"], APP_ADMITTED),
                    "amount": np.append(bid["amount"], round(int(bid["amount"][k]) * 1.04))}
        # 3. A department awards a direct contract to the company its former head now leads.
        department = next(i for i, o in enumerate(orgs) if o.kind == REGION_DEPT)
        operator = orgs[companies[0]]
        # a direct deal (no announcement, no bids: nothing else refers to its supplier) becomes a single-source
        # e-journal contract (method 23) with the operator
        deals = np.flatnonzero((d["buyer"] == department) & np.isin(d["method"], list(DIRECT_METHODS))
                               & (main_sign > operator.head_change_ts))
        if deals.size and operator.category == vocab.EJOURNAL:
            deal = int(deals[0])
            d["method"][deal] = 23
            d["supplier"][deal] = companies[0]
            d["item"][deal] = next(i for i, it in enumerate(vocab.ITEMS) if it.category == vocab.EJOURNAL)
            d["qty"][deal] = 12

    def _ejournal_schedule(self, rng: np.random.Generator,
                           operators: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per region: the e-journal operator before and after a switch, and the switch instant (or never)."""
        n = len(self.regions)
        w = np.array([self._orgs[i].weight for i in operators])
        before = operators[rng.choice(len(operators), n, p=w / w.sum())]
        after = before.copy()
        switch = np.full(n, np.iinfo(np.int64).max)
        for region in np.flatnonzero(rng.random(n) < 0.35):
            others = operators[operators != before[region]]
            after[region] = rng.choice(others)
            # Some switches land in the middle of a school year (Nov–Feb): a flag the dashboard must raise.
            switch[region] = rng.integers(_wall(2024, 1, 10), _wall(2025, 6, 30))
        return before, after, switch

    # ------------------------------------------------------------------ materialization
    def _head_fio(self, org: _Org, ts: int) -> str:
        person = org.prev_head if org.prev_head >= 0 and ts < org.head_change_ts else org.head
        return self._people.fio[person]

    def _subject(self, org: _Org) -> dict[str, Any]:
        people = self._people
        regdate = org.regdate
        updated = ts_text(org.updated_ts)
        employees = []

        def employee(person: int, role: int, start: int, end: int | None) -> None:
            employees.append({
                "id": f"{org.pid}-{people.person_id[person]}", "personId": people.person_id[person], "pid": org.pid,
                "iin": people.iin[person], "resident": 1, "fio": people.fio[person], "disabled": 0 if end is None else 1,
                "role": role, "roleName": "Руководитель" if role == 1 else "Сотрудник", "startDate": ts_text(start),
                "editDate": updated, "endDate": None if end is None else ts_text(end), "systemId": 3,
                "indexDate": updated})

        joined = max(wall_ts(regdate), _wall(2015, 1, 1))
        if org.prev_head >= 0:
            employee(org.prev_head, 1, joined, org.head_change_ts)
            employee(org.head, 1, org.head_change_ts, None)
        else:
            employee(org.head, 1, joined, None)
        for person in org.staff:
            employee(person, 2, joined + 30 * DAY, None)
        kato = str(org.kato)
        return {
            "pid": org.pid, "bin": org.bin, "iin": org.iin, "inn": None, "unp": None,
            "regdate": regdate.strftime("%Y-%m-%d %H:%M:%S"), "crdate": max(regdate.year, 2015),
            "indexDate": updated, "numberReg": None, "series": None, "name": org.name_ru,
            "nameRu": org.name_ru, "nameKz": org.name_kz, "fullName": org.full_name_ru,
            "fullNameRu": org.full_name_ru, "fullNameKz": org.full_name_kz,
            "email": f"org{org.pid}@ashyq-demo.example", "phone": f"+7 7{org.pid % 100:02d} {org.pid % 1000:03d} 00 00",
            "website": None, "lastUpdateDate": updated, "countryCode": "398", "katoList": [kato],
            "qvazi": 1 if org.quasi else 0, "customer": 0 if org.kind == COMPANY else 1,
            "organizer": 0 if org.kind == COMPANY else 1, "markNationalCompany": 0,
            "refKopfCode": vocab.KOPF_FORMS[org.kopf][0], "markAssocWithDisab": 0, "year": max(regdate.year, 2015),
            "markResident": 1, "systemId": 3, "supplier": 1 if org.kind == COMPANY else 0,
            "typeSupplier": 3 if org.kopf == "ИП" else 1, "krpCode": 2, "branches": [], "parentSubject": None,
            "parentNameKz": None, "parentNameRu": None,
            "okedList": vocab.OKED[org.category] if org.kind == COMPANY else vocab.OKED[BUYER_KINDS[org.kind]],
            "kseCode": 1, "markWorldCompany": 0, "markStateMonopoly": 0, "markNaturalMonopoly": 0,
            "markPatronymicProducer": 0, "markPatronymicSupplyer": 0, "markSmallEmployer": 0, "isSingleOrg": 0,
            "Address": [{"id": org.pid * 10 + 1, "pid": org.pid, "refSourceCode": 1, "addressType": 1,
                         "address": org.address, "katoCode": kato, "phone": None, "countryCode": 398,
                         "dateCreate": regdate.strftime("%Y-%m-%d %H:%M:%S"), "editDate": updated, "systemId": 3,
                         "indexDate": updated}],
            "Employees": employees,
        }

    def _plan(self, plan_id: int, customer: _Org, item: vocab.Item, qty: int, amount_cents: int,
              kato: list[str], year: int, method: int, created: int) -> dict[str, Any]:
        created_text = ts_text(created)
        return {
            "id": plan_id, "rootrecordId": plan_id, "sysSubjectsId": customer.pid, "subjectBiin": customer.bin,
            "subjectNameRu": customer.name_ru, "subjectNameKz": customer.name_kz, "nameRu": item.name_ru,
            "nameKz": item.name_kz, "refTradeMethodsId": method, "count": float(qty),
            "price": round(amount_cents / max(qty, 1)) / 100, "amount": amount_cents / 100, "plnPointYear": year,
            "refSubjectTypeId": item.subject_type, "refEnstruCode": item.enstru, "isQvazi": 1 if customer.quasi else 0,
            "dateCreate": created_text, "timestamp": created_text, "isDeleted": 0, "systemId": 3,
            "PlansKato": [{"id": plan_id * 3 + i, "plnPointsId": plan_id, "refKatoCode": code,
                           "refCountriesCode": "398", "fullDeliveryPlaceNameRu": customer.address,
                           "count": float(qty), "isActive": 1, "isDeleted": 0, "systemId": 3}
                          for i, code in enumerate(kato)],
        }

    def _contract(self, row: int) -> dict[str, Any]:
        c, d = self.c, self.d
        deal = int(c["deal"][row])
        customer = self._orgs[int(d["buyer"][deal])]
        supplier = self._orgs[int(d["supplier"][deal])]
        cid = int(self.c_id[row])
        version = int(c["version"][row])
        method = int(d["method"][deal])
        buy = int(d["buy"][deal])
        lot = int(d["lot"][deal])
        item = vocab.ITEMS[int(d["item"][deal])]
        sign = int(c["sign"][row])
        is_garbage = row == self.garbage_row
        sign_text = GARBAGE_SIGN_DATE if is_garbage else ts_text(sign)
        sum_cents = int(c["sum"][row])
        wnds_cents = _with_vat(sum_cents, supplier.vat)
        status = int(c["status"][row])
        fin_year = int(d["fin_year"][deal])
        parent_row = int(c["parent"][row])
        root_row = int(c["root"][row])
        updated = ts_text(int(c["updated"][row]))
        created = ts_text(int(c["crdate"][row]))
        if buy >= 0:
            buy_id = int(self.b["id"][buy])
            anno = f"{buy_id}-1"
            buy_item = vocab.ITEMS[int(self.lot["item"][int(self.b["lot_first"][buy])])]
            itogi: str | None = ts_text(int(self.b["itogi"][buy]))
            reason = _SIGN_REASON["eshop" if method in (60, 160) else
                                  "failed" if method in FAILED_FIRST_METHODS else "competitive"]
        else:
            buy_id, anno, buy_item, itogi = 0, None, None, None
            reason = _SIGN_REASON["state_order" if method == 122 else "direct"]
        n_units = int(d["units"][deal])
        unit_first = int(c["unit_first"][row])
        parent_first = int(c["unit_first"][parent_row]) if parent_row >= 0 else 0
        root_first = int(c["unit_first"][root_row])
        plan_first = int(d["plan"][deal])
        qty = int(d["qty"][deal])
        kato = [] if d["plans_kato_empty"][deal] else [str(int(d["region_kato"][deal]))]
        shares = [sum_cents] if n_units == 1 else [round(sum_cents * float(d["share"][deal]))]
        if n_units == 2:
            shares.append(sum_cents - shares[0])
        units = []
        for k, unit_cents in enumerate(shares):
            unit_qty = max(1, qty // n_units)
            unit_wnds = None if wnds_cents is None else _with_vat(unit_cents, supplier.vat)
            units.append({
                "id": unit_first + k, "lotId": int(self.lot["id"][lot]) if lot >= 0 else 0,
                "plnPointId": plan_first + k, "itemPrice": round(unit_cents / unit_qty) / 100,
                "itemPriceWnds": None if unit_wnds is None else round(unit_wnds / unit_qty) / 100,
                "quantity": float(unit_qty), "totalSum": unit_cents / 100,
                "totalSumWnds": None if unit_wnds is None else unit_wnds / 100,
                "factSum": unit_cents / 100 if status == 390 else 0.0,
                "factSumWnds": (unit_wnds or unit_cents) / 100 if status == 390 else 0.0, "ksProc": 0.0,
                "ksSum": 0.0, "deleted": 0, "trdBuyId": buy_id, "contractRegistryId": cid, "crdate": created,
                "execFaktDate": None, "execPlanDate": None, "executed": 1 if status == 390 else 0,
                "parentId": parent_first + k if parent_row >= 0 else 0, "rootId": root_first + k,
                "refContractStatusId": status, "crDeleted": 0, "refAmendmAgreemJustifId": [0], "systemId": 3,
                "indexDate": updated, "refEnstruCode": [item.enstru],
                "Plans": self._plan(plan_first + k, customer, item, unit_qty, unit_cents, kato, fin_year,
                                    method, int(c["crdate"][root_row]) - 60 * DAY)})
        executed = status == 390
        fakt_method = None if d["fakt_null"][deal] else method
        return {
            "id": cid, "parentId": int(self.c_id[parent_row]) if parent_row >= 0 else 0,
            "rootId": int(self.c_id[root_row]), "trdBuyId": buy_id, "trdBuyNumberAnno": anno,
            "trdBuyNameRu": None if buy_item is None else buy_item.name_ru,
            "trdBuyNameKz": None if buy_item is None else buy_item.name_kz,
            "refAmendmAgreemJustifId": [int(d["justif"][row])] if version else [0],
            "refContractStatusId": status, "deleted": int(c["deleted"][row]), "crdate": created,
            "lastUpdateDate": updated, "supplierId": supplier.pid, "supplierBiin": supplier.biin,
            "supplierBik": "KCJBKZKX", "supplierIik": f"KZ{supplier.pid % 97:02d}856000000{supplier.pid:07d}",
            "supplierFio": self._head_fio(supplier, sign), "supplierBankNameKz": '"Мысал Банк" АҚ',
            "supplierBankNameRu": 'АО "Мысал Банк"', "supplierLegalAddress": supplier.address,
            "supplierBillId": supplier.pid * 3, "supplierPhone": None,
            "contractNumber": str(int(d["number"][deal])), "signReasonDocName": reason,
            "signReasonDocDate": itogi if itogi is not None else created, "trdBuyItogiDatePublic": itogi,
            "customerId": customer.pid, "customerBin": customer.bin, "customerBik": "KKMFKZ2A",
            "customerIik": f"KZ{customer.pid % 97:02d}070101KSN{customer.pid:07d}",
            "customerFio": self._head_fio(customer, sign), "customerBillId": customer.pid * 3,
            "customerBankNameKz": '"ҚР Қаржы министрлігінің Қазынашылық комитеті" РММ',
            "customerBankNameRu": 'РГУ "Комитет казначейства Министерства финансов РК"',
            "customerLegalAddress": customer.address, "customerPhone": None,
            "contractNumberSys": f"{customer.bin}/{fin_year % 100:02d}{deal % 10_000:04d}/{version:02d}",
            "paymentsTermsRu": None, "paymentsTermsKz": None, "refSubjectTypeId": item.subject_type,
            "refSubjectTypesId": item.subject_type, "isGu": 1 if customer.kopf in ("ГУ", "КГУ") else 0,
            "finYear": fin_year, "refContractAgrFormId": int(d["agr_form"][deal]), "refContractYearTypeId": 1,
            "refFinsourceId": 1 if not customer.quasi else 6, "refCurrencyCode": "KZT", "exchangeRate": 1.0,
            "contractSum": sum_cents / 100, "contractSumWnds": None if wnds_cents is None else wnds_cents / 100,
            "signDate": sign_text, "ecEndDate": f"{fin_year}-12-31 00:00:00", "planExecDate": f"{fin_year}-12-25 00:00:00",
            "faktExecDate": ts_text(int(c["updated"][row])) if executed else None,
            "faktSum": sum_cents / 100 if executed else 0.0,
            "faktSumWnds": (wnds_cents or sum_cents) / 100 if executed else 0.0,
            "contractEndDate": None, "refContractCancelId": 0, "refContractTypeId": int(c["type"][row]),
            "descriptionKz": item.name_kz, "descriptionRu": item.name_ru, "faktTradeMethodsId": fakt_method,
            "ecCustomerApprove": 1, "ecSupplierApprove": 1, "contractMs": 0.0, "withNds": 1 if supplier.vat == 2 else 0,
            "systemId": 3, "indexDate": updated,
            "ContractUnits": units,
            "Supplier": self._subject_dicts[self._org_index(supplier)],
            "Customer": self._subject_dicts[self._org_index(customer)],
            "FaktTradeMethods": None if fakt_method is None else self._method_ref(fakt_method),
        }

    def _org_index(self, org: _Org) -> int:
        return self._org_pos[org.pid]

    def _method_ref(self, method: int) -> dict[str, Any]:
        symbol, name = self._method_symbol.get(method, ("", ""))
        return {"id": method, "nameRu": name, "nameKz": name, "code": str(method), "symbolCode": symbol}

    def _lot(self, lot: int) -> dict[str, Any]:
        lots, b = self.lot, self.b
        buy = int(lots["buy"][lot])
        buy_id = int(b["id"][buy])
        method = int(b["method"][buy])
        customer = self._orgs[int(b["customer"][buy])]
        item = vocab.ITEMS[int(lots["item"][lot])]
        kato = [str(int(k)) for k in (lots["kato_a"][lot], lots["kato_b"][lot]) if k != 0]
        plan = int(lots["plan"][lot])
        points = int(lots["points"][lot])
        symbol = self._method_symbol.get(method, ("", ""))[0]
        updated = ts_text(int(b["updated"][buy]))
        return {
            "id": int(lots["id"][lot]), "lotNumber": f"{plan}-{symbol}{int(lots['index'][lot]) + 1}",
            "refLotStatusId": int(lots["status"][lot]), "lastUpdateDate": updated, "unionLots": 0,
            "count": float(lots["qty"][lot]), "amount": int(lots["amount"][lot]) / 100, "nameRu": item.name_ru,
            "nameKz": item.name_kz, "descriptionRu": f"{item.name_ru} для нужд организации образования",
            "descriptionKz": f"{item.name_kz} білім беру ұйымының қажеттілігі үшін", "customerId": customer.pid,
            "customerBin": customer.bin, "customerNameRu": customer.name_ru, "customerNameKz": customer.name_kz,
            "trdBuyNumberAnno": f"{buy_id}-1", "trdBuyId": buy_id, "dumping": 0, "refTradeMethodsId": method,
            "refBuyTradeMethodsId": method, "psdSign": 0, "consultingServices": 0,
            "pointList": [plan + k for k in range(points)], "enstruList": [0], "plnPointKatoList": kato,
            "singlOrgSign": 0, "isLightIndustry": 0, "isConstructionWork": 0, "disablePersonId": 0, "isDeleted": 0,
            "systemId": 3, "indexDate": updated,
        }

    def _buy_kato(self, buy: int) -> list[str]:
        lots, b = self.lot, self.b
        first = int(b["lot_first"][buy])
        codes: list[str] = []
        for lot in range(first, first + int(b["lot_count"][buy])):
            for k in (lots["kato_a"][lot], lots["kato_b"][lot]):
                text = str(int(k))
                if k != 0 and text not in codes:
                    codes.append(text)
        extra = int(b["kato_extra"][buy])
        if extra and not codes:
            codes.append(str(extra))
        return codes

    def _trd_buy(self, buy: int) -> dict[str, Any]:
        b = self.b
        buy_id = int(b["id"][buy])
        method = int(b["method"][buy])
        customer = self._orgs[int(b["customer"][buy])]
        first = int(b["lot_first"][buy])
        lots = [self._lot(lot) for lot in range(first, first + int(b["lot_count"][buy]))]
        item = vocab.ITEMS[int(self.lot["item"][first])]
        single = method in FAILED_FIRST_METHODS and not b["pred"][buy]
        supplier = self._orgs[int(self.d["supplier"][int(b["first_deal"][buy])])] if single else None
        commission = []
        if method in TENDER_METHODS:
            members = [(customer.head, 1), (customer.staff[0], 3), (customer.staff[1], 4)]
            commission = [{"id": buy_id * 4 + i, "trdBuyId": buy_id, "fio": self._people.fio[p], "refCommRolesId": role,
                           "active": 1, "bin": customer.bin, "isDeleted": 0, "systemId": 3}
                          for i, (p, role) in enumerate(members)]
        updated = ts_text(int(b["updated"][buy]))
        name_ru = item.name_ru if len(lots) == 1 else f"{item.name_ru} и другие ({len(lots)} лота)"
        name_kz = item.name_kz if len(lots) == 1 else f"{item.name_kz} және басқалар ({len(lots)} лот)"
        return {
            "id": buy_id, "numberAnno": f"{buy_id}-1", "nameRu": name_ru, "nameKz": name_kz,
            "totalSum": sum(int(self.lot["amount"][lot]) for lot in range(first, first + len(lots))) / 100,
            "countLots": len(lots), "refTradeMethodsId": method, "refSubjectTypeId": item.subject_type,
            "customerBin": customer.bin, "customerPid": customer.pid, "customerNameKz": customer.name_kz,
            "customerNameRu": customer.name_ru, "orgBin": customer.bin, "orgPid": customer.pid,
            "orgNameKz": customer.name_kz, "orgNameRu": customer.name_ru, "refBuyStatusId": BUY_COMPLETE,
            "startDate": ts_text(int(b["start"][buy])), "repeatStartDate": None, "repeatEndDate": None,
            "endDate": ts_text(int(b["end"][buy])), "publishDate": ts_text(int(b["publish"][buy])),
            "itogiDatePublic": ts_text(int(b["itogi"][buy])), "refTypeTradeId": 2 if single else 1,
            "disablePersonId": 0, "discusStartDate": None, "discusEndDate": None,
            "idSupplier": None if supplier is None else supplier.pid,
            "biinSupplier": None if supplier is None else supplier.biin, "parentId": 0, "singlOrgSign": 0,
            "isLightIndustry": 0, "isConstructionWork": 0, "refSpecPurchaseTypeId": None, "lastUpdateDate": updated,
            "finYear": [int(b["fin_year"][buy])], "kato": self._buy_kato(buy), "systemId": 3, "indexDate": updated,
            "Lots": lots, "Commission": commission,
            "RefTradeMethods": self._method_ref(method),
        }

    def _trd_app(self, app: int) -> dict[str, Any]:
        a, bid, lots = self.app, self.bid, self.lot
        app_id = int(a["id"][app])
        buy = int(a["buy"][app])
        supplier = self._orgs[int(a["supplier"][app])]
        applied = ts_text(int(a["date"][app]))
        app_lots = []
        first = int(a["first"][app])
        for k in range(first, first + int(a["count"][app])):
            lot = int(bid["lot"][k])
            qty = max(1, int(lots["qty"][lot]))
            amount = int(bid["amount"][k])
            price = round(amount / qty) / 100
            app_lots.append({"id": int(bid["id"][k]), "appId": app_id, "lotId": int(lots["id"][lot]),
                             "pointList": [int(lots["plan"][lot]) + j for j in range(int(lots["points"][lot]))],
                             "statusId": int(bid["status"][k]), "price": price, "amount": amount / 100,
                             "discountValue": 0.0, "discountPrice": price, "systemId": 3, "indexDate": applied})
        prot = int(self.b["prot"][buy])
        return {"id": app_id, "buyId": int(self.b["id"][buy]), "supplierId": supplier.pid,
                "crFio": self._people.fio[supplier.staff[0]], "modFio": None, "supplierBinIin": supplier.biin,
                "protId": prot, "protNumber": f"{prot}-ИТ", "dateApply": applied, "systemId": 3, "indexDate": applied,
                "AppLots": app_lots}

    def _make_rnu(self, r: random.Random) -> list[dict[str, Any]]:
        """Unreliable suppliers: an active e-journal rival, the two losing bidders, and more at scale."""
        companies = [o for o in self._orgs if o.kind == COMPANY]
        chosen = [*[o for o in companies if o.role == "loser"][::2], companies[22]]
        extra = [o for o in companies[30:] if r.random() < 0.02][: max(0, self.n_deals // 20_000)]
        chosen += extra
        schools = [o for o in self._orgs if o.kind == SCHOOL]
        rows = []
        rnu_id = 17_000
        for org in chosen:
            rnu_id += r.randint(3, 40)
            start = r.randint(_wall(2023, 4, 1), _wall(2025, 10, 1))
            end = start + 730 * DAY
            complainant = r.choice(schools)
            head_fio, head_iin = self._people.fio[org.head], self._people.iin[org.head]
            founders = [{"head_fio": head_fio, "head_biin": head_iin, "head_innunp": None, "head_snils": None,
                         "head_name_ru": head_fio, "head_name_kz": head_fio, "head_type": 3}]
            if org.kopf != "ИП":
                founder = self._people.make()
                founders.append({"head_fio": self._people.fio[founder], "head_biin": self._people.iin[founder],
                                 "head_innunp": None, "head_snils": None, "head_name_ru": self._people.fio[founder],
                                 "head_name_kz": self._people.fio[founder], "head_type": 2})
            decided = start - r.randint(5, 30) * DAY
            rows.append({
                "id": rnu_id, "pid": org.pid, "supplierNameRu": org.name_ru, "supplierNameKz": org.name_kz,
                "supplierBiin": org.biin, "supplierInnunp": None, "systemId": 3, "startDate": ts_text(start),
                "endDate": ts_text(end), "supplier": org.name_ru, "katoList": [org.kato], "indexDate": ts_text(start),
                "Detail": [{"id": f"{rnu_id}-1", "pid": org.pid, "customerNameRu": complainant.name_ru,
                            "customerNameKz": complainant.name_kz, "customerBiin": complainant.bin,
                            "supplierNameRu": org.name_ru, "supplierNameKz": org.name_kz, "supplierBiin": org.biin,
                            "supplierInnunp": None, "supplierHeadNameKz": head_fio, "supplierHeadNameRu": head_fio,
                            "supplierHeadBiin": head_iin, "courtDecision": f"№2-{r.randint(100, 9999)}/{start // (365 * DAY) + 1970}",
                            "courtDecisionDate": ts_text(decided), "sendDate": ts_text(decided + 2 * DAY),
                            "approveDate": ts_text(start - DAY), "startDate": ts_text(start), "endDate": ts_text(end),
                            "refReasonId": r.choice([1, 2, 3]), "katoList": [org.kato], "systemId": 3,
                            "indexDate": ts_text(start), "founders": founders}],
            })
        return rows

    # ------------------------------------------------------------------ tables
    def _make_tables(self) -> dict[str, Table]:
        orgs = self._orgs
        pid = np.array([o.pid for o in orgs], dtype=np.int64)
        bin_codes = {o.bin: i for i, o in enumerate(orgs) if o.bin}
        iin_codes = {o.iin: i for i, o in enumerate(orgs) if o.iin}
        biin_codes = {o.biin: i for i, o in enumerate(orgs)}
        has_bin = np.array([i if o.bin else -1 for i, o in enumerate(orgs)])
        has_iin = np.array([i if o.iin else -1 for i, o in enumerate(orgs)])
        c, d, b, lots = self.c, self.d, self.b, self.lot
        deal = c["deal"]
        c_buy = d["buy"][deal]
        c_buy_id = np.where(c_buy >= 0, b["id"][np.maximum(c_buy, 0)], 0)
        fakt = np.where(d["fakt_null"][deal], -1, d["method"][deal])
        c_customer = d["buyer"][deal]
        c_supplier = d["supplier"][deal]
        is_gu = np.array([1 if o.kopf in ("ГУ", "КГУ") else 0 for o in orgs])[c_customer]
        number_codes = {str(v): v for v in range(1, 250)}
        contract = Table("Contract", self.c_id, self._contract, {
            "id": int_in(self.c_id), "trdBuyId": int_in(c_buy_id),
            "trdBuyNumberAnno": str_eq(c_buy_id, _anno_codes(b["id"])),
            "contractNumber": str_eq(d["number"][deal], number_codes),
            "crdate": date_field(c["crdate"]), "lastUpdateDate": date_field(c["updated"]),
            "signDate": date_field(c["sign"]), "indexDate": date_field(c["updated"]),
            "customerId": int_in(pid[c_customer]), "customerBin": str_eq(c_customer, bin_codes),
            "supplierId": int_in(pid[c_supplier]), "supplierBiin": str_eq(c_supplier, biin_codes),
            "finYear": int_eq(d["fin_year"][deal]), "isGu": int_eq(is_gu),
            "refContractStatusId": int_in(c["status"]), "faktTradeMethodsId": int_in(fakt),
            "refContractAgrFormId": int_eq(d["agr_form"][deal]), "refContractTypeId": int_eq(c["type"]),
        })
        n_buys = len(b["id"])
        buy_kato = [self._buy_kato(i) for i in range(n_buys)]
        trd_buy = Table("TrdBuy", b["id"], self._trd_buy, {
            "id": int_in(b["id"]), "numberAnno": str_eq(b["id"], _anno_codes(b["id"])),
            "refTradeMethodsId": int_in(b["method"]),
            "refSubjectTypeId": int_eq(np.array([it.subject_type for it in vocab.ITEMS])[lots["item"][b["lot_first"]]]),
            "orgBin": str_eq(b["customer"], bin_codes), "orgPid": int_in(pid[b["customer"]]),
            "refBuyStatusId": int_in(np.full(n_buys, BUY_COMPLETE)), "publishDate": date_field(b["publish"]),
            "lastUpdateDate": date_field(b["updated"]), "indexDate": date_field(b["updated"]),
            "kato": has(buy_kato, "str_has"), "finYear": has([[int(y)] for y in b["fin_year"]], "int_has"),
        })
        lot_customer = b["customer"][lots["buy"]]
        lot_kato = [[str(int(k)) for k in (ka, kb) if k != 0] for ka, kb in zip(lots["kato_a"], lots["kato_b"], strict=True)]
        lot_table = Table("Lots", lots["id"], self._lot, {
            "id": int_in(lots["id"]), "trdBuyId": int_in(b["id"][lots["buy"]]),
            "trdBuyNumberAnno": str_eq(b["id"][lots["buy"]], _anno_codes(b["id"])),
            "refLotStatusId": int_in(lots["status"]), "customerId": int_eq(pid[lot_customer]),
            "customerBin": str_eq(lot_customer, bin_codes), "refTradeMethodsId": int_in(b["method"][lots["buy"]]),
            "refBuyTradeMethodsId": int_in(b["method"][lots["buy"]]), "lastUpdateDate": date_field(b["updated"][lots["buy"]]),
            "indexDate": date_field(b["updated"][lots["buy"]]), "plnPointKatoList": has(lot_kato, "str_has"),
        })
        a = self.app
        trd_app = Table("TrdApp", a["id"], self._trd_app, {
            "id": int_in(a["id"]), "buyId": int_eq(b["id"][a["buy"]]), "protId": int_eq(b["prot"][a["buy"]]),
            "supplierId": int_eq(pid[a["supplier"]]), "supplierBinIin": str_eq(a["supplier"], biin_codes),
            "dateApply": date_field(a["date"]),
        })
        updated = np.array([o.updated_ts for o in orgs], dtype=np.int64)
        subjects = Table("Subjects", pid, self._subject_dicts.__getitem__, {
            "pid": int_in(pid), "bin": str_eq(has_bin, bin_codes), "iin": str_eq(has_iin, iin_codes),
            "lastUpdateDate": date_field(updated),
            "typeSupplier": int_in(np.array([3 if o.kopf == "ИП" else 1 for o in orgs])),
            "katoList": has([[str(o.kato)] for o in orgs], "str_has"),
            "parentSubject": str_eq(np.full(len(orgs), -1), {}),
        })
        rnu_rows = self._rnu_dicts
        rnu_biin = {row["supplierBiin"]: i for i, row in enumerate(rnu_rows)}
        rnu = Table("Rnu", np.array([row["id"] for row in rnu_rows], dtype=np.int64), rnu_rows.__getitem__, {
            "id": int_in(np.array([row["id"] for row in rnu_rows])), "pid": int_in(np.array([row["pid"] for row in rnu_rows])),
            "supplierBiin": str_eq(np.arange(len(rnu_rows)), rnu_biin),
            "supplierInnunp": str_eq(np.full(len(rnu_rows), -1), {}),
        })
        return {"Contract": contract, "TrdBuy": trd_buy, "Lots": lot_table, "TrdApp": trd_app, "Subjects": subjects,
                "Rnu": rnu}

    # ------------------------------------------------------------------ truth
    def _compute_truth(self) -> list[TruthRow]:
        c, d = self.c, self.d
        alive = np.flatnonzero(~c["deleted"])
        order = alive[np.lexsort((self.c_id[alive], c["root"][alive]))]
        roots = c["root"][order]
        last = np.flatnonzero(np.append(roots[1:] != roots[:-1], True))
        latest_of_root = dict(zip(roots[last].tolist(), order[last].tolist(), strict=True))
        versions = dict(zip(*np.unique(roots, return_counts=True), strict=True))
        rows = []
        for root in np.flatnonzero((c["type"] == 1) & ~c["deleted"]).tolist():
            deal = int(c["deal"][root])
            latest = latest_of_root[root]
            supplier = self._orgs[int(d["supplier"][deal])]
            customer = self._orgs[int(d["buyer"][deal])]
            cents = int(c["sum"][latest])
            with_vat = _with_vat(cents, supplier.vat)
            method = int(d["method"][deal])
            basis, competitive = self._legal.get(method, ("other_procurement", False))
            garbage = root == self.garbage_row
            rows.append(TruthRow(
                root_id=int(self.c_id[root]),
                sign_date=GARBAGE_SIGN_DATE if garbage else ts_text(int(c["sign"][root])),
                trade_method_id=method, legal_basis=basis, competitive=competitive,
                customer_bin=customer.biin, supplier_biin=supplier.biin,
                amount=(Decimal(with_vat if with_vat is not None else cents) / 100).quantize(Decimal("0.01")),
                region=str(int(d["region_kato"][deal]))[:2], versions=int(versions[root]),
                expected_quarantine=garbage))
        rows.sort(key=lambda row: row.root_id)
        return rows


# --------------------------------------------------------------------------------------------- helpers
def _with_vat(cents: int, vat: int) -> int | None:
    """contractSumWnds in cents for a supplier's VAT mode: x1.12 for payers, the same sum, or absent."""
    if vat == 2:
        return round(cents * 112 / 100)
    return cents if vat == 1 else None


def _draw_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a probability matrix."""
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random(len(probabilities)) * cumulative[:, -1]
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), probabilities.shape[1] - 1)


def _sign_days() -> tuple[np.ndarray, np.ndarray]:
    """Signing days (days since 1970) with weights: working days, busier in Jan–Feb, Aug–Sep and December."""
    first = (FIRST_DAY - date(1970, 1, 1)).days
    last = (LAST_DAY - date(1970, 1, 1)).days
    days = np.arange(first, last + 1)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    month = _months(days * DAY)
    season = np.array([0, 1.3, 1.3, 1.0, 1.0, 1.0, 0.7, 0.6, 1.4, 1.4, 1.0, 1.0, 1.2])[month]
    weight = np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.08, 0.02)) * season
    return days, weight / weight.sum()


def _months(ts: np.ndarray) -> np.ndarray:
    days = (np.asarray(ts) // DAY).astype("datetime64[D]")
    return (days.astype("datetime64[M]").astype(np.int64) % 12) + 1


def _years(ts: np.ndarray) -> np.ndarray:
    days = (np.asarray(ts) // DAY).astype("datetime64[D]")
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


def _rank(values: np.ndarray) -> np.ndarray:
    """Each element's position in ascending order."""
    rank = np.empty(len(values), dtype=np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(len(values))
    return rank


def _ids_by_time(rng: np.random.Generator, ts: np.ndarray, base: int, max_gap: int) -> np.ndarray:
    """Unique ids increasing with time (creation order), with random gaps as in a shared sequence."""
    order = np.argsort(ts, kind="stable")
    ids = np.empty(len(ts), dtype=np.int64)
    ids[order] = base + np.cumsum(rng.integers(1, max_gap, len(ts)))
    return ids


def _anno_codes(buy_ids: np.ndarray) -> _AnnoCodes:
    return _AnnoCodes(set(buy_ids.tolist()))


class _AnnoCodes(dict[str, int]):
    """`numberAnno` → buy id for a `str_eq` filter, computed from the text instead of stored per buy."""

    def __init__(self, ids: set[int]) -> None:
        super().__init__()
        self._ids = ids

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        match = re.fullmatch(r"(\d+)-1", key)
        if match is None or int(match.group(1)) not in self._ids:
            return default
        return int(match.group(1))


def _method_symbols() -> dict[int, tuple[str, str]]:
    import json

    path = Path(REFERENCE_DIR) / "goszakup" / "ref_trade_methods.json"
    items = json.loads(path.read_text(encoding="utf-8"))["items"]
    return {int(it["id"]): (it.get("symbol_code") or "", it.get("name_ru") or "") for it in items}


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


_SPEC = re.compile(r"^(demo|scale:(\d+))$")


@functools.lru_cache(maxsize=8)
def load_scenario(spec: str = "demo", seed: int | None = None) -> Scenario:
    """`demo` or `scale:N` (N contract rows); cached, so servers and tests share one immutable instance."""
    match = _SPEC.match(spec.strip())
    if match is None:
        raise ValueError(f"unknown scenario {spec!r}: use 'demo' or 'scale:N' (N contract rows, N >= 100)")
    if match.group(1) == "demo":
        return Scenario("demo", DEMO_SEED if seed is None else seed, DEMO_ROWS, 0, 0)
    n = int(match.group(2))
    return Scenario(f"scale:{n}", 7 if seed is None else seed, n, n // 40, n // 400)
