"""The goszakup simulator over real HTTP on 127.0.0.1: auth answer, paging, filters, errors and faults."""

from __future__ import annotations

import html
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawlers.simulator.scenario import GARBAGE_SIGN_DATE, Scenario, load_scenario
from crawlers.simulator.server import PermanentFault, SimulatorServer

TOKEN = "0123456789abcdef0123456789abcdef"
QUERIES = (Path(__file__).resolve().parent.parent / "crawlers" / "queries" / "goszakup.graphql").read_text(
    encoding="utf-8")
OPERATIONS = {"Contracts": "Contract", "TrdBuys": "TrdBuy", "TrdApps": "TrdApp", "Subjects": "Subjects", "Rnu": "Rnu"}
ID_KEY = {"Subjects": "pid"}


def post(url: str, body: Any, token: str | None = TOKEN, timeout: float = 10.0, *,
         path: str = "/v3/graphql", raw: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url + path, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def query(url: str, operation: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    status, _, body = post(url, {"query": QUERIES, "operationName": operation, "variables": variables or {}}, **kw)
    assert status == 200, body[:200]
    return json.loads(body)


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return load_scenario("demo")


@pytest.fixture(scope="module")
def sim(demo: Scenario) -> Iterator[SimulatorServer]:
    with SimulatorServer(scenario=demo, token=TOKEN) as server:
        yield server


def walk(url: str, operation: str, flt: dict[str, Any] | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Every row of a filter, page by page with `after`, as a spider does."""
    rows: list[dict[str, Any]] = []
    after = None
    while True:
        answer = query(url, operation, {"filter": flt, "limit": limit, "after": after})
        assert "errors" not in answer, answer["errors"]
        rows.extend(answer["data"][OPERATIONS[operation]])
        info = answer["extensions"]["pageInfo"]
        if not info["hasNextPage"]:
            return rows
        after = info["lastId"]


# ------------------------------------------------------------------------------------------ auth
@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN.upper()])
def test_missing_or_wrong_token_is_404_invalid_route(sim: SimulatorServer, token: str | None) -> None:
    status, _, body = post(sim.url, {"query": "{ Rnu { id } }"}, token=token)
    assert (status, body) == (404, b"Invalid Route")


def test_other_paths_and_methods_are_404(sim: SimulatorServer) -> None:
    assert post(sim.url, {"query": "{ Rnu { id } }"}, path="/v2/graphql")[:3:2] == (404, b"Invalid Route")
    request = urllib.request.Request(sim.url + "/v3/graphql", headers={"Authorization": f"Bearer {TOKEN}"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 404
    assert caught.value.read() == b"Invalid Route"


def test_token_none_accepts_any_non_empty_token(demo: Scenario) -> None:
    with SimulatorServer(scenario=demo, token=None) as open_sim:
        assert post(open_sim.url, {"query": "{ Rnu { id } }"}, token="anything")[0] == 200
        assert post(open_sim.url, {"query": "{ Rnu { id } }"}, token="")[0] == 404
        assert post(open_sim.url, {"query": "{ Rnu { id } }"}, token=None)[0] == 404


# ------------------------------------------------------------------------------------------ paging
def test_default_limit_and_cap(sim: SimulatorServer) -> None:
    answer = query(sim.url, "Contracts")
    assert len(answer["data"]["Contract"]) == 50
    assert answer["extensions"]["pageInfo"]["limitPage"] == 50
    answer = query(sim.url, "Contracts", {"limit": 500})
    assert len(answer["data"]["Contract"]) == 200
    assert answer["extensions"]["pageInfo"]["limitPage"] == 200
    assert answer["extensions"]["pageInfo"]["totalCount"] == sim.scenario.count("Contract")


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_after_paging_covers_every_row_once_in_id_descending_order(sim: SimulatorServer, operation: str) -> None:
    root = OPERATIONS[operation]
    key = ID_KEY.get(root, "id")
    rows = walk(sim.url, operation)
    ids = [row[key] for row in rows]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(set(ids)) == sim.scenario.count(root)
    assert set(ids) == {r[key] for r in sim.scenario.records(root)}


def test_page_info_fields(sim: SimulatorServer) -> None:
    first = query(sim.url, "Contracts", {"limit": 10})
    info = first["extensions"]["pageInfo"]
    ids = [c["id"] for c in first["data"]["Contract"]]
    assert info == {"limitPage": 10, "totalCount": 2500, "hasNextPage": True, "lastId": ids[-1]}
    following = query(sim.url, "Contracts", {"limit": 10, "after": info["lastId"]})
    assert max(c["id"] for c in following["data"]["Contract"]) < info["lastId"]
    assert following["extensions"]["pageInfo"]["totalCount"] == 2500  # the filter's total, whatever `after`
    empty = query(sim.url, "Contracts", {"filter": {"id": [1]}})
    assert empty["data"]["Contract"] == []
    assert empty["extensions"]["pageInfo"] == {"limitPage": 50, "totalCount": 0, "hasNextPage": False,
                                               "lastId": None}


# ------------------------------------------------------------------------------------------ filters
def _sign_dates(sim: SimulatorServer) -> list[tuple[int, str]]:
    # The garbled signDate is indexed under its creation day (documented in the scenario).
    return [(c["id"], c["crdate"] if c["signDate"] == GARBAGE_SIGN_DATE else c["signDate"])
            for c in sim.scenario.records("Contract")]


@pytest.mark.parametrize(("window", "low", "high"), [
    (["2024-03-01", "2024-03-31"], "2024-03-01 00:00:00", "2024-03-31 23:59:59"),  # a date "to" ends the day
    (["", "2023-02-15"], "", "2023-02-15 23:59:59"),
    (["2025-12-01"], "2025-12-01 00:00:00", "9999"),
    (["2024-06-03 12:00:00", "2024-06-07 09:30:00"], "2024-06-03 12:00:00", "2024-06-07 09:30:00"),
])
def test_sign_date_windows(sim: SimulatorServer, window: list[str], low: str, high: str) -> None:
    rows = walk(sim.url, "Contracts", {"signDate": window})
    expected = {cid for cid, signed in _sign_dates(sim) if low <= signed <= high}
    assert expected
    assert {c["id"] for c in rows} == expected


def test_last_day_of_a_window_is_included(sim: SimulatorServer) -> None:
    cid, signed = next((cid, s) for cid, s in _sign_dates(sim) if s[11:13] >= "15")
    day = signed[:10]
    rows = walk(sim.url, "Contracts", {"signDate": [day, day]})
    assert cid in {c["id"] for c in rows}
    rows = walk(sim.url, "Contracts", {"signDate": [day, f"{day} 09:00:00"]})
    assert cid not in {c["id"] for c in rows}


@pytest.mark.parametrize(("window", "message"), [
    (["2024-13-01"], "cannot read date"), (["yesterday", ""], "cannot read date"),
    (["2024-01-01", "2024-02-01", "2024-03-01"], "expected [from, to]"),
])
def test_bad_date_windows_are_errors(sim: SimulatorServer, window: list[str], message: str) -> None:
    answer = query(sim.url, "Contracts", {"filter": {"signDate": window}})
    assert message in answer["errors"][0]["message"]


def test_list_and_string_filters_on_contracts(sim: SimulatorServer) -> None:
    contracts = list(sim.scenario.records("Contract"))
    some = [c["id"] for c in contracts[5:12]]
    assert sorted(c["id"] for c in walk(sim.url, "Contracts", {"id": some})) == sorted(some)
    no_anno = walk(sim.url, "Contracts", {"trdBuyId": [0]})
    assert no_anno
    assert len(no_anno) == sum(c["trdBuyId"] == 0 for c in contracts)
    direct = walk(sim.url, "Contracts", {"faktTradeMethodsId": [23, 122]})
    assert {c["faktTradeMethodsId"] for c in direct} == {23, 122}
    assert len(direct) == sum(c["faktTradeMethodsId"] in (23, 122) for c in contracts)
    customer = contracts[0]["customerBin"]
    by_customer = walk(sim.url, "Contracts", {"customerBin": customer})
    assert {c["customerBin"] for c in by_customer} == {customer}
    assert len(by_customer) == sum(c["customerBin"] == customer for c in contracts)
    ie = next(c for c in contracts if c["Supplier"]["typeSupplier"] == 3)
    by_supplier = walk(sim.url, "Contracts", {"supplierBiin": ie["supplierBiin"], "refContractTypeId": 1})
    assert by_supplier
    assert all(c["supplierBiin"] == ie["supplierBiin"] and c["refContractTypeId"] == 1
                               for c in by_supplier)
    amendments = walk(sim.url, "Contracts", {"refContractTypeId": 2, "finYear": 2024})
    assert amendments
    assert all(c["refContractTypeId"] == 2 and c["finYear"] == 2024 for c in amendments)
    assert walk(sim.url, "Contracts", {"customerBin": "000000000000"}) == []
    assert walk(sim.url, "Contracts", {"id": []}) == []


def test_filters_on_other_roots(sim: SimulatorServer) -> None:
    buys = list(sim.scenario.records("TrdBuy"))
    buy = next(b for b in buys if b["kato"])
    by_id = walk(sim.url, "TrdBuys", {"id": [buy["id"]]})
    assert [b["id"] for b in by_id] == [buy["id"]]
    by_kato = walk(sim.url, "TrdBuys", {"kato": [buy["kato"][0]]})
    assert buy["id"] in {b["id"] for b in by_kato}
    assert all(buy["kato"][0] in b["kato"] for b in by_kato)
    assert walk(sim.url, "TrdBuys", {"kato": [buy["kato"][0][:2]]}) == []  # full 9-digit codes only
    published = walk(sim.url, "TrdBuys", {"publishDate": ["2024-01-01", "2024-01-31"], "refTradeMethodsId": [3]})
    assert published
    assert all(b["publishDate"].startswith("2024-01") and b["refTradeMethodsId"] == 3
                             for b in published)
    apps = list(sim.scenario.records("TrdApp"))
    app = apps[0]
    by_buy = walk(sim.url, "TrdApps", {"buyId": app["buyId"]})
    assert app["id"] in {a["id"] for a in by_buy}
    assert all(a["buyId"] == app["buyId"] for a in by_buy)
    by_bidder = walk(sim.url, "TrdApps", {"supplierBinIin": app["supplierBinIin"], "dateApply": ["2024-01-01", ""]})
    assert by_bidder
    assert all(a["supplierBinIin"] == app["supplierBinIin"] and a["dateApply"] >= "2024-01-01"
                             for a in by_bidder)
    subjects = list(sim.scenario.records("Subjects"))
    pids = [s["pid"] for s in subjects[:7]]
    assert sorted(s["pid"] for s in walk(sim.url, "Subjects", {"pid": pids})) == sorted(pids)
    with_bin = next(s for s in subjects if s["bin"])
    assert [s["pid"] for s in walk(sim.url, "Subjects", {"bin": with_bin["bin"]})] == [with_bin["pid"]]
    entrepreneur = next(s for s in subjects if s["typeSupplier"] == 3)
    assert [s["pid"] for s in walk(sim.url, "Subjects", {"iin": entrepreneur["iin"]})] == [entrepreneur["pid"]]
    rnu = next(sim.scenario.records("Rnu"))
    assert [r["id"] for r in walk(sim.url, "Rnu", {"supplierBiin": rnu["supplierBiin"]})] == [rnu["id"]]


def test_lots_root(sim: SimulatorServer) -> None:
    buy = next(sim.scenario.records("TrdBuy"))
    answer = post(sim.url, {"query": "query($f: LotsFiltersInput){ Lots(filter: $f) { id trdBuyId } }",
                            "variables": {"f": {"trdBuyId": [buy["id"]]}}})
    lots = json.loads(answer[2])["data"]["Lots"]
    assert sorted(lot["id"] for lot in lots) == sorted(lot["id"] for lot in buy["Lots"])


def test_unsupported_filter_field_is_an_error(sim: SimulatorServer) -> None:
    answer = query(sim.url, "Contracts", {"filter": {"contractNumberSys": "x"}})
    assert "not supported" in answer["errors"][0]["message"]
    answer = query(sim.url, "TrdBuys", {"filter": {"nameRu": "?журнал"}})
    assert "not supported" in answer["errors"][0]["message"]


# ------------------------------------------------------------------------------------------ errors
def test_graphql_errors_come_with_http_200(sim: SimulatorServer) -> None:
    status, _, body = post(sim.url, {"query": "{ Contract { noSuchField } }"})
    assert status == 200
    answer = json.loads(body)
    assert set(answer) == {"errors"}
    assert "noSuchField" in answer["errors"][0]["message"]
    status, _, body = post(sim.url, None, raw=b"{not json")
    assert status == 200
    assert "errors" in json.loads(body)
    status, _, body = post(sim.url, {"query": QUERIES, "operationName": "Contracts", "variables": {"limit": "x"}})
    assert status == 200
    assert "errors" in json.loads(body)
    status, _, body = post(sim.url, {"query": "{ Plans { id } }"})
    assert status == 200
    assert "not simulated" in json.loads(body)["errors"][0]["message"]


def test_every_project_query_executes_without_errors(sim: SimulatorServer) -> None:
    for operation, root in OPERATIONS.items():
        answer = query(sim.url, operation, {"limit": 200})
        assert "errors" not in answer, (operation, answer.get("errors"))
        rows = answer["data"][root]
        assert rows, operation
        assert all(isinstance(row, dict) and None not in (row.get(ID_KEY.get(root, "id")),) for row in rows)
    contract = query(sim.url, "Contracts", {"limit": 1})["data"]["Contract"][0]
    assert contract["Supplier"]["pid"] == contract["supplierId"]
    assert contract["ContractUnits"]


def test_nested_relations_resolve(sim: SimulatorServer) -> None:
    body = {"query": "{ TrdApp(limit: 3) { id buyId TrdBuy { id } Supplier { pid } AppLots { lotId Lot { id } } } }"}
    apps = json.loads(post(sim.url, body)[2])["data"]["TrdApp"]
    for app in apps:
        assert app["TrdBuy"]["id"] == app["buyId"]
        assert app["Supplier"]["pid"]
        assert all(al["Lot"]["id"] == al["lotId"] for al in app["AppLots"])


def test_a_page_of_200_contracts_is_fast(sim: SimulatorServer) -> None:
    variables = {"limit": 200, "filter": {"signDate": ["2024-01-01", "2025-12-31"]}}
    query(sim.url, "Contracts", variables)  # warm the query and filter caches
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        answer = query(sim.url, "Contracts", variables)
        timings.append(time.perf_counter() - started)
        assert len(answer["data"]["Contract"]) == 200
    # ~60 ms on an idle core; the bound leaves room for a busy shared machine.
    assert sorted(timings)[2] < 0.5, timings


def test_authorization_header_is_never_logged(sim: SimulatorServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="crawlers.simulator.server"):
        query(sim.url, "Rnu")
        post(sim.url, {"query": "{ Rnu { id } }"}, token="wrong-token-value")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "/v3/graphql -> 200" in text
    assert "/v3/graphql -> 404" in text
    assert TOKEN not in text
    assert "wrong-token-value" not in text


# ------------------------------------------------------------------------------------------ faults
def _first_page(url: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    body = {"query": QUERIES, "operationName": "Rnu", "variables": {"limit": 200}}
    try:
        return post(url, body, timeout=timeout)
    except (TimeoutError, urllib.error.URLError):
        return -1, {}, b""


@pytest.mark.parametrize("kind", ["429", "502", "malformed"])
def test_each_fault_kind_then_retry_succeeds(demo: Scenario, sim: SimulatorServer, kind: str) -> None:
    clean = _first_page(sim.url)[2]
    with SimulatorServer(scenario=demo, token=TOKEN, faults={kind: 1.0}, seed=3) as faulty:
        status, headers, body = _first_page(faulty.url)
        if kind == "429":
            assert status == 429
            assert headers["Retry-After"] == "1"
        elif kind == "502":
            assert status == 502
            assert b"Bad Gateway" in body
        else:
            assert status == 200
            with pytest.raises(json.JSONDecodeError):
                json.loads(body)
            assert clean.startswith(body)
        attempts = [_first_page(faulty.url) for _ in range(faulty.max_faults_per_request)]
        assert attempts[-1][0] == 200
        assert attempts[-1][2] == clean
        assert faulty.fault_counts[kind] == faulty.max_faults_per_request
        assert faulty.fault_counts["ok"] == 1
        assert faulty.request_count == faulty.max_faults_per_request + 1


def test_stall_outlasts_the_client_timeout_then_retry_succeeds(demo: Scenario, sim: SimulatorServer) -> None:
    clean = _first_page(sim.url)[2]
    with SimulatorServer(scenario=demo, token=TOKEN, faults={"stall": 1.0}, stall_seconds=1.5,
                         max_faults_per_request=1) as faulty:
        started = time.perf_counter()
        assert _first_page(faulty.url, timeout=0.3)[0] == -1
        assert time.perf_counter() - started < 1.2
        status, _, body = _first_page(faulty.url, timeout=5)
        assert status == 200
        assert body == clean
        assert faulty.fault_counts["stall"] == 1


def test_faults_are_reproducible_and_a_retrying_crawl_gets_every_row_once(demo: Scenario) -> None:
    def crawl(seed: int) -> tuple[list[str], list[int]]:
        outcomes: list[str] = []
        ids: list[int] = []
        with SimulatorServer(scenario=demo, token=TOKEN, fault_rate=0.45,
                             faults={"malformed": 0.15}, seed=seed, stall_seconds=2.0) as faulty:
            after = None
            while True:
                body = {"query": QUERIES, "operationName": "Contracts",
                        "variables": {"limit": 50, "after": after, "filter": {"signDate": ["2024-01-01", "2024-06-30"]}}}
                for _attempt in range(10):
                    status, _, raw = _post_quiet(faulty.url, body)
                    try:
                        answer = json.loads(raw) if status == 200 else None
                    except ValueError:
                        answer = None
                    outcomes.append("ok" if answer else str(status))
                    if answer:
                        break
                else:
                    pytest.fail("a request never succeeded")
                ids.extend(c["id"] for c in answer["data"]["Contract"])
                info = answer["extensions"]["pageInfo"]
                if not info["hasNextPage"]:
                    break
                after = info["lastId"]
            counts = faulty.fault_counts
        assert sum(v for k, v in counts.items() if k != "ok") >= 3, counts
        return outcomes, ids

    first = crawl(seed=11)
    assert crawl(seed=11) == first
    expected = {r.root_id for r in demo.truth_rows("2024-01-01", "2024-06-30")}
    assert len(first[1]) == len(set(first[1]))
    assert expected <= set(first[1])  # every main contract signed in the window (plus amendments, deleted rows)


def test_fault_choice_depends_on_seed_request_and_attempt_only(demo: Scenario) -> None:
    def outcomes(seed: int) -> list[str | None]:
        faulty = SimulatorServer(scenario=demo, fault_rate=0.5, seed=seed)
        try:
            bodies = [json.dumps({"query": "{ Rnu { id } }", "n": n}).encode() for n in range(60)]
            return [faulty.choose_fault("/v3/graphql", body) for body in bodies for _ in range(4)]
        finally:
            faulty.stop()

    first = outcomes(11)
    assert first == outcomes(11)
    assert first != outcomes(12)
    assert {"429", "502", "stall"} <= set(first)
    for n in range(60):  # at most max_faults_per_request (3) faults, then the request goes through
        assert first[4 * n + 3] is None


def _post_quiet(url: str, body: Any) -> tuple[int, dict[str, str], bytes]:
    try:
        return post(url, body, timeout=1.0)  # well above a loaded page time, below the stall
    except (TimeoutError, urllib.error.URLError):
        return -1, {}, b""


def test_permanent_fault_on_one_page(demo: Scenario, sim: SimulatorServer) -> None:
    first = query(sim.url, "Contracts", {"limit": 200})
    second_page_after = first["extensions"]["pageInfo"]["lastId"]
    faults = [PermanentFault("malformed", root="Contract", after=second_page_after)]
    with SimulatorServer(scenario=demo, token=TOKEN, permanent_faults=faults) as faulty:
        assert query(faulty.url, "Contracts", {"limit": 200}) == first
        for _ in range(5):
            status, _, body = post(faulty.url, {"query": QUERIES, "operationName": "Contracts",
                                                "variables": {"limit": 200, "after": second_page_after}})
            assert status == 200
            with pytest.raises(json.JSONDecodeError):
                json.loads(body)
        assert "errors" not in query(faulty.url, "Rnu")


def test_bad_fault_configuration_is_rejected(demo: Scenario) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        SimulatorServer(scenario=demo, faults={"418": 0.1})
    with pytest.raises(ValueError, match="between 0 and 1"):
        SimulatorServer(scenario=demo, fault_rate=0.9, faults={"malformed": 0.5})


# ------------------------------------------------------------------------------------------ serve_forever
def test_serve_forever_in_a_process(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = f"from crawlers.simulator.server import serve_forever; serve_forever(port={port}, scenario='scale:500')"
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        banner = process.stderr.readline() if process.stderr else ""
        assert f"http://127.0.0.1:{port}/v3/graphql" in banner
        assert "fictional" in banner
        answer = query(f"http://127.0.0.1:{port}", "Contracts", {"limit": 5}, token="any-token")
        assert len(answer["data"]["Contract"]) == 5
        assert post(f"http://127.0.0.1:{port}", {"query": "{ Rnu { id } }"}, token=None)[0] == 404
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def test_portal_pages_show_fictional_records_escaped_and_labelled() -> None:
    from crawlers.simulator.scenario import load_scenario

    scenario = load_scenario("demo")
    contract = next(iter(scenario.records("Contract")))
    subject = next(iter(scenario.records("Subjects")))
    with SimulatorServer(scenario="demo", token="t" * 32) as sim:
        page = urllib.request.urlopen(f"{sim.url}/ru/egzcontract/cpublic/show/{contract['id']}").read().decode()
        supplier = urllib.request.urlopen(f"{sim.url}/ru/registry/show_supplier/{subject['pid']}").read().decode()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{sim.url}/ru/announce/index/1")
    assert "Вымышленная запись" in page
    assert str(contract["id"]) in page
    assert html.escape(str(subject["nameRu"])) in supplier
    assert missing.value.code == 404


def test_portal_page_escapes_hostile_names() -> None:
    from crawlers.simulator.scenario import load_scenario
    from crawlers.simulator.server import portal_page

    scenario = load_scenario("demo")
    subject = next(iter(scenario.records("Subjects")))
    original = subject["nameRu"]
    subject["nameRu"] = '<script>alert(1)</script>'
    try:
        status, body = portal_page(scenario, f"/ru/registry/show_supplier/{subject['pid']}")  # type: ignore[misc]
    finally:
        subject["nameRu"] = original
    assert status == 200
    assert b"<script>" not in body
    assert b"&lt;script&gt;" in body
