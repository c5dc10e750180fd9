"""The simulator's scenario generator: determinism, realism invariants, and a ground truth that agrees with
the records it describes (recomputed here from the served dicts, independently of the generator's arrays)."""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from crawlers.simulator.scenario import (
    APP_WINNER,
    DEMO_ROWS,
    DEMO_SEED,
    GARBAGE_SIGN_DATE,
    Scenario,
    load_scenario,
)
from crawlers.simulator.vocab import load_regions
from entities.identifiers import is_valid, looks_like_iin

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
BIN_SHAPE = re.compile(r"^\d{2}(0[1-9]|1[0-2])[45]0\d{6}$")


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return load_scenario("demo")


@pytest.fixture(scope="module")
def data(demo: Scenario) -> dict[str, list[dict[str, Any]]]:
    return {root: list(demo.records(root)) for root in demo.tables}


def _fingerprint(scenario: Scenario) -> str:
    return json.dumps({root: list(scenario.records(root)) for root in scenario.tables}, sort_keys=True,
                      ensure_ascii=False)


def test_same_seed_same_data_other_seed_other_data(demo: Scenario) -> None:
    again = Scenario("demo", DEMO_SEED, DEMO_ROWS, 0, 0)
    assert _fingerprint(again) == _fingerprint(demo)
    assert again.truth() == demo.truth()
    other = Scenario("demo", DEMO_SEED + 1, DEMO_ROWS, 0, 0)
    assert _fingerprint(other) != _fingerprint(demo)


def test_load_scenario_is_cached_and_rejects_unknown_specs() -> None:
    assert load_scenario("demo") is load_scenario("demo")
    for bad in ("dem0", "scale:", "scale:-5", "scale:10"):
        with pytest.raises(ValueError, match=r"scenario|at least"):
            load_scenario(bad)


def test_demo_size_and_period(demo: Scenario, data: dict[str, list[dict[str, Any]]]) -> None:
    assert demo.count("Contract") == DEMO_ROWS
    mains = list(demo.truth_rows())
    assert len(mains) >= 2_000
    assert {r.signed_on.year for r in mains if r.signed_on} == {2023, 2024, 2025}
    companies = [s for s in data["Subjects"] if s["supplier"] == 1]
    buyers = [s for s in data["Subjects"] if s["customer"] == 1]
    assert 28 <= len(companies) <= 35
    assert 280 <= len(buyers) <= 320


def test_identifiers_are_checksum_valid_and_shaped(data: dict[str, list[dict[str, Any]]]) -> None:
    for subject in data["Subjects"]:
        if subject["typeSupplier"] == 3:  # an individual entrepreneur: IIN, no BIN
            assert subject["bin"] is None
            assert is_valid(subject["iin"])
            assert looks_like_iin(subject["iin"])
        else:
            assert is_valid(subject["bin"]), subject["bin"]
            assert BIN_SHAPE.match(subject["bin"]), subject["bin"]
            assert subject["iin"] is None
        for employee in subject["Employees"]:
            assert is_valid(employee["iin"])
            assert looks_like_iin(employee["iin"])
    for contract in data["Contract"]:
        assert is_valid(contract["customerBin"])
        assert is_valid(contract["supplierBiin"])
    for rnu in data["Rnu"]:
        for founder in rnu["Detail"][0]["founders"]:
            assert is_valid(founder["head_biin"])
    entrepreneurs = {s["pid"] for s in data["Subjects"] if s["typeSupplier"] == 3}
    assert len(entrepreneurs) >= 3
    ie_contracts = [c for c in data["Contract"] if c["supplierId"] in entrepreneurs]
    assert ie_contracts
    assert all(looks_like_iin(c["supplierBiin"]) for c in ie_contracts)


def test_all_regions_are_covered(demo: Scenario, data: dict[str, list[dict[str, Any]]]) -> None:
    codes = {region.code2 for region in load_regions()}
    assert len(codes) == 20
    assert {row.region for row in demo.truth()} == codes
    buyer_regions = {s["Address"][0]["katoCode"][:2] for s in data["Subjects"] if s["customer"] == 1}
    assert buyer_regions == codes
    for lot in (lot for buy in data["TrdBuy"] for lot in buy["Lots"]):
        for code in lot["plnPointKatoList"]:
            assert re.fullmatch(r"\d{9}", code)
            assert code[:2] in codes


def test_every_trade_method_family_is_present(demo: Scenario) -> None:
    families = Counter(row.legal_basis for row in demo.truth())
    for family in ("open_tender", "auction", "price_quotations", "e_shop", "single_source", "state_order"):
        assert families[family] >= 20, families
    methods = Counter(row.trade_method_id for row in demo.truth())
    for method in (2, 3, 6, 23, 60, 77, 122):
        assert methods[method] > 0, method
    assert any(m > 100 and m not in (122,) for m in methods)  # quasi-public (non-ГЗ) variants too


def test_amendments_share_roots_and_change_the_sum(data: dict[str, list[dict[str, Any]]]) -> None:
    by_id = {c["id"]: c for c in data["Contract"]}
    amendments = [c for c in data["Contract"] if c["refContractTypeId"] == 2]
    assert len(amendments) >= 200
    later_year = 0
    for amendment in amendments:
        root, parent = by_id[amendment["rootId"]], by_id[amendment["parentId"]]
        assert root["refContractTypeId"] == 1
        assert root["rootId"] == root["id"]
        assert root["parentId"] == 0
        assert parent["rootId"] == amendment["rootId"]
        assert parent["id"] < amendment["id"]
        assert amendment["contractSum"] != parent["contractSum"]
        assert amendment["signDate"] > parent["signDate"]
        assert (amendment["customerBin"], amendment["supplierBiin"]) == (root["customerBin"], root["supplierBiin"])
        later_year += amendment["signDate"][:4] > root["signDate"][:4]
    assert later_year >= 10


def test_parties_and_links_exist(data: dict[str, list[dict[str, Any]]]) -> None:
    subjects = {s["pid"]: s for s in data["Subjects"]}
    buys = {b["id"]: b for b in data["TrdBuy"]}
    lots = {lot["id"]: lot for lot in data["Lots"]}
    for contract in data["Contract"]:
        customer, supplier = subjects[contract["customerId"]], subjects[contract["supplierId"]]
        assert customer["bin"] == contract["customerBin"] == contract["Customer"]["bin"]
        assert contract["supplierBiin"] in (supplier["bin"], supplier["iin"])
        if contract["trdBuyId"] == 0:
            assert contract["trdBuyNumberAnno"] is None
            assert all(unit["lotId"] == 0 for unit in contract["ContractUnits"])
        else:
            buy = buys[contract["trdBuyId"]]
            assert contract["trdBuyNumberAnno"] == buy["numberAnno"]
            assert buy["customerBin"] == contract["customerBin"]
            for unit in contract["ContractUnits"]:
                assert lots[unit["lotId"]]["trdBuyId"] == buy["id"]
        heads = {e["fio"] for e in supplier["Employees"] if e["role"] == 1}
        assert contract["supplierFio"] in heads
    for app in data["TrdApp"]:
        assert app["supplierId"] in subjects
        assert app["buyId"] in buys
        assert all(lots[al["lotId"]]["trdBuyId"] == app["buyId"] for al in app["AppLots"])
    for rnu in data["Rnu"]:
        assert subjects[rnu["pid"]]["bin"] in (rnu["supplierBiin"], None)
    assert {lot["id"] for buy in data["TrdBuy"] for lot in buy["Lots"]} == set(lots)


def test_direct_contracts_missing_methods_and_vat(data: dict[str, list[dict[str, Any]]]) -> None:
    contracts = data["Contract"]
    no_anno = [c for c in contracts if c["trdBuyId"] == 0]
    assert len(no_anno) >= 100
    assert {c["faktTradeMethodsId"] for c in no_anno} <= {23, 122, 123, None}
    missing = [c for c in contracts if c["faktTradeMethodsId"] is None]
    assert len(missing) >= 30
    assert all(c["trdBuyId"] != 0 for c in missing)
    without_vat = [c for c in contracts if c["contractSumWnds"] is None]
    assert 0 < len(without_vat) < len(contracts) * 0.3
    for c in contracts:
        if c["signDate"] != GARBAGE_SIGN_DATE:
            assert DATETIME.match(c["signDate"])
            assert DATETIME.match(c["crdate"])
            assert DATETIME.match(c["lastUpdateDate"])
        assert c["lastUpdateDate"] >= c["crdate"]
        assert isinstance(c["contractSum"], float)


def test_bids_winners_and_losers(data: dict[str, list[dict[str, Any]]]) -> None:
    contracts_by_lot = {unit["lotId"]: c for c in data["Contract"] if c["refContractTypeId"] == 1
                        and c["deleted"] == 0 for unit in c["ContractUnits"] if unit["lotId"]}
    statuses: Counter[int] = Counter()
    losers_with_price = 0
    for app in data["TrdApp"]:
        for app_lot in app["AppLots"]:
            statuses[app_lot["statusId"]] += 1
            if app_lot["statusId"] == APP_WINNER:
                contract = contracts_by_lot[app_lot["lotId"]]
                assert contract["supplierId"] == app["supplierId"]
                assert app_lot["amount"] == contract["contractSum"]
            else:
                losers_with_price += app_lot["price"] > 0
    assert statuses[APP_WINNER] >= 300
    assert losers_with_price >= 300


def test_people_names_and_heads(data: dict[str, list[dict[str, Any]]]) -> None:
    fios = [e["fio"] for s in data["Subjects"] for e in s["Employees"]]
    lowered = " ".join(fios).lower()
    for ending in ("ұлы", "қызы", "ович", "овна"):
        assert ending in lowered
    assert any(f.isupper() for f in fios)
    for subject in data["Subjects"]:
        current = [e for e in subject["Employees"] if e["role"] == 1 and e["disabled"] == 0]
        assert len(current) == 1
        assert subject["nameRu"]
        assert subject["nameKz"]
        assert subject["nameRu"] != subject["nameKz"]
    changed = [s for s in data["Subjects"] if sum(e["role"] == 1 for e in s["Employees"]) == 2]
    assert len(changed) >= 30
    # The same person heads two bidding companies (an intentional red flag).
    heads = Counter(e["iin"] for s in data["Subjects"] if s["supplier"] for e in s["Employees"] if e["role"] == 1)
    assert heads.most_common(1)[0][1] >= 2


def reference_truth(data: dict[str, list[dict[str, Any]]], *, plans_first: bool = False) -> dict[int, tuple[Any, ...]]:
    """The ground-truth rule of the issue, applied to the served records only."""
    buys = {b["id"]: b for b in data["TrdBuy"]}
    lots = {lot["id"]: lot for b in data["TrdBuy"] for lot in b["Lots"]}
    subjects = {s["pid"]: s for s in data["Subjects"]}
    versions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in data["Contract"]:
        versions[c["rootId"]].append(c)
    truth = {}
    for root, rows in versions.items():
        main = next((c for c in rows if c["id"] == root and c["refContractTypeId"] == 1 and not c["deleted"]), None)
        if main is None:
            continue
        latest = max((c for c in rows if not c["deleted"]), key=lambda c: c["id"])
        value = latest["contractSumWnds"] if latest["contractSumWnds"] is not None else latest["contractSum"]
        buy = buys.get(main["trdBuyId"])
        method = main["faktTradeMethodsId"] if main["faktTradeMethodsId"] is not None else buy["refTradeMethodsId"]
        unit = main["ContractUnits"][0]
        lot = lots.get(unit["lotId"])
        plan_kato = [k["refKatoCode"] for k in unit["Plans"]["PlansKato"]]
        if lot is not None and lot["plnPointKatoList"]:
            kato = lot["plnPointKatoList"][0]
        elif plans_first and plan_kato:
            kato = plan_kato[0]
        elif buy is not None and buy["kato"]:
            kato = buy["kato"][0]
        else:
            kato = subjects[main["customerId"]]["Address"][0]["katoCode"]
        truth[root] = (main["signDate"], method, main["customerBin"], main["supplierBiin"],
                       Decimal(str(value)), kato[:2])
    return truth


def test_ground_truth_matches_the_records(demo: Scenario, data: dict[str, list[dict[str, Any]]]) -> None:
    expected = reference_truth(data)
    actual = {r.root_id: (r.sign_date, r.trade_method_id, r.customer_bin, r.supplier_biin, r.amount, r.region)
              for r in demo.truth()}
    assert actual == expected
    # SOURCE.md §6 looks at plan delivery places before the announcement: the scenario keeps both consistent.
    assert reference_truth(data, plans_first=True) == expected
    # The fallbacks are exercised: lots without KATO, announcements without KATO, no announcement at all.
    lots = {lot["id"]: lot for b in data["TrdBuy"] for lot in b["Lots"]}
    mains = [c for c in data["Contract"] if c["id"] == c["rootId"] and not c["deleted"]]
    empty_lot = [c for c in mains if c["trdBuyId"] and not lots[c["ContractUnits"][0]["lotId"]]["plnPointKatoList"]]
    assert len(empty_lot) >= 20
    customer_region = {s["pid"]: s["Address"][0]["katoCode"][:2] for s in data["Subjects"]}
    assert any(expected[c["id"]][5] != customer_region[c["customerId"]] for c in mains)  # ministry buying for a region


def test_deleted_versions_and_garbage_dates(demo: Scenario, data: dict[str, list[dict[str, Any]]]) -> None:
    truth = {r.root_id: r for r in demo.truth()}
    deleted = [c for c in data["Contract"] if c["deleted"] == 1]
    deleted_amendments = [c for c in deleted if c["refContractTypeId"] == 2]
    deleted_mains = [c for c in deleted if c["refContractTypeId"] == 1]
    assert len(deleted_amendments) >= 2
    assert len(deleted_mains) >= 2
    newest_by_root: dict[int, dict[str, Any]] = {}
    for c in data["Contract"]:
        if c["rootId"] not in newest_by_root or c["id"] > newest_by_root[c["rootId"]]["id"]:
            newest_by_root[c["rootId"]] = c
    losing = [c for c in deleted_amendments if newest_by_root[c["rootId"]] is c]
    assert len(losing) >= 2
    for c in losing:  # the newest version is deleted: the truth amount is not its amount
        value = c["contractSumWnds"] if c["contractSumWnds"] is not None else c["contractSum"]
        assert truth[c["rootId"]].amount != Decimal(str(value))
    for c in deleted_mains:
        assert c["rootId"] == c["id"]
        assert c["id"] not in truth
    garbage = [c for c in data["Contract"] if c["signDate"] == GARBAGE_SIGN_DATE]
    assert len(garbage) == 1
    quarantined = demo.expected_quarantine()
    assert [r.root_id for r in quarantined] == [garbage[0]["id"]]
    assert quarantined[0].signed_at is None
    assert garbage[0]["id"] not in {r.root_id for r in demo.truth_rows()}
    assert garbage[0]["id"] in {r.root_id for r in demo.truth_rows("2024-01-01", "2024-12-31", include_quarantined=True)}


def test_truth_rows_window(demo: Scenario) -> None:
    everything = demo.truth_rows()
    window = demo.truth_rows("2024-01-01", date(2024, 12, 31))
    assert window
    assert all(r.signed_on and date(2024, 1, 1) <= r.signed_on <= date(2024, 12, 31) for r in window)
    assert len(window) == sum(1 for r in everything if r.sign_date.startswith("2024"))
    assert demo.truth_rows(until="2022-12-31") == []
    one_day = everything[len(everything) // 2].signed_on
    assert one_day is not None
    assert all(r.signed_on == one_day for r in demo.truth_rows(one_day, one_day))
    assert len(demo.truth_rows(one_day, one_day)) >= 1


def test_scale_scenario_has_exactly_n_rows_and_the_same_shape() -> None:
    small = load_scenario("scale:3000")
    assert small.count("Contract") == 3000
    assert small.name == "scale:3000"
    assert len({r.region for r in small.truth()}) == 20
    contract = next(small.records("Contract"))
    assert set(next(load_scenario("demo").records("Contract"))) == set(contract)


def test_scale_100k_generates_in_seconds() -> None:
    started = time.perf_counter()
    big = Scenario("scale:100000", 7, 100_000, 100_000 // 40, 100_000 // 400)
    elapsed = time.perf_counter() - started
    assert big.count("Contract") == 100_000
    assert elapsed < 15, f"scale:100000 took {elapsed:.1f} s"  # ~1 s on an idle core
