"""The gov.kz and stat.gov.kz simulators over real HTTP on 127.0.0.1 (mounted on the goszakup simulator's
server), and their ground truth against the goszakup demo scenario."""

from __future__ import annotations

import html
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from crawlers.simulator.govkz import TICKET_COOKIE, GovkzOptions
from crawlers.simulator.other_scenario import OtherScenario, iter_items, load_other_scenario
from crawlers.simulator.scenario import load_scenario
from crawlers.simulator.server import SimulatorServer
from entities.identifiers import is_valid

API = "/api/v1/public/content-manager"
TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def other() -> OtherScenario:
    return load_other_scenario("demo")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(scenario="demo", token=TOKEN, port=0) as server:
        yield server


def call(url: str, method: str = "GET", headers: dict[str, str] | None = None,
         data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def ticket(base: str) -> str:
    status, headers, _ = call(f"{base}/api/v1/public/_/c/k6", "POST", data=b"{}",
                              headers={"Content-Type": "application/json", "Origin": "https://www.gov.kz"})
    assert status == 200
    return headers["Set-Cookie"].split(";", 1)[0]


def get_json(url: str, lang: str = "ru", cookie: str | None = None) -> tuple[int, Any]:
    headers = {"Accept-Language": lang}
    if cookie:
        headers["Cookie"] = cookie
    status, _, body = call(url, headers=headers)
    return status, json.loads(body) if body.startswith((b"[", b"{")) else body


# ------------------------------------------------------------------------------------------ the ticket gate
def test_news_without_the_cookie_ticket_is_400_not_allowed(sim: SimulatorServer) -> None:
    url = f"{sim.url}{API}/news?projects=eq:kyzylorda-bilim&sort-by=created_date:DESC&page=1&size=5"
    assert get_json(url) == (400, {"message": "notAllowed"})
    assert get_json(url, cookie=f"{TICKET_COOKIE}=made-up") == (400, {"message": "notAllowed"})
    status, rows = get_json(url, cookie=ticket(sim.url))
    assert status == 200
    assert len(rows) == 5


def test_the_ticket_needs_json_and_the_gov_kz_origin(sim: SimulatorServer) -> None:
    url = f"{sim.url}/api/v1/public/_/c/k6"
    assert call(url, "POST", {"Content-Type": "application/json"}, b"{}")[0] == 400
    assert call(url, "POST", {"Origin": "https://www.gov.kz", "Content-Type": "text/plain"}, b"{}")[0] == 400
    assert call(url)[0] == 405
    assert ticket(sim.url).startswith(f"{TICKET_COOKIE}=")


def test_tickets_can_expire_or_never_work() -> None:
    with SimulatorServer(scenario="demo", port=0, govkz=GovkzOptions(ticket_max_uses=2)) as expiring:
        cookie = ticket(expiring.url)
        url = f"{expiring.url}{API}/news?projects=eq:edu&page=1&size=1"
        assert [get_json(url, cookie=cookie)[0] for _ in range(3)] == [200, 200, 400]
    with SimulatorServer(scenario="demo", port=0, govkz=GovkzOptions(ticket_broken=True)) as closed:
        assert get_json(f"{closed.url}{API}/news?projects=eq:edu", cookie=ticket(closed.url))[0] == 400


def test_documents_and_curators_need_no_ticket(sim: SimulatorServer) -> None:
    status, rows = get_json(f"{sim.url}{API}/documents?projects=edu&page=1&size=100&sort-by=created_date:DESC")
    assert status == 200
    assert rows
    assert all("gosorgan" in r for r in rows)
    status, people = get_json(f"{sim.url}{API}/curators?projects=edu&size=100")
    assert status == 200
    assert [p["order"] for p in people] == sorted(p["order"] for p in people)
    status, one = get_json(f"{sim.url}{API}/curators/{people[0]['id']}", lang="kk")
    assert status == 200
    assert one["id"] == people[0]["id"]
    assert one["position"] != people[0]["position"]
    assert get_json(f"{sim.url}{API}/curators/1")[0] == 404


# ------------------------------------------------------------------------------------------ lists
def walk(base: str, resource: str, slug: str, lang: str, cookie: str | None, size: int = 7,
         since: str | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    projects = f"eq:{slug}" if resource == "news" else slug
    while True:
        url = f"{base}{API}/{resource}?projects={projects}&sort-by=created_date:DESC&page={page}&size={size}"
        if since:
            url += f"&created_date=gt:{since}"
        status, chunk = get_json(url, lang, cookie)
        assert status == 200, chunk
        if not chunk:
            return rows
        rows.extend(chunk)
        page += 1


@pytest.mark.parametrize("resource", ["news", "documents"])
def test_pages_cover_every_item_once_newest_first_and_end_with_an_empty_array(
        sim: SimulatorServer, other: OtherScenario, resource: str) -> None:
    cookie = ticket(sim.url)
    for lang in ("ru", "kk"):
        rows = walk(sim.url, resource, "kyzylorda-bilim", lang, cookie)
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids))
        assert {f"{i}:{lang}" for i in ids} == other.expected(resource, ["kyzylorda-bilim"], [lang])
        dates = [r["created_date"] for r in rows]
        assert dates == sorted(dates, reverse=True)
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+00:00", d) for d in dates)


def test_accept_language_chooses_the_texts_of_the_same_ids(sim: SimulatorServer, other: OtherScenario) -> None:
    cookie = ticket(sim.url)
    ru = {r["id"]: r for r in walk(sim.url, "news", "kyzylorda-bilim", "ru", cookie, size=100)}
    kk = {r["id"]: r for r in walk(sim.url, "news", "kyzylorda-bilim", "kk", cookie, size=100)}
    both = set(ru) & set(kk)
    assert len(both) > len(ru) // 2
    assert all(ru[i]["title"] != kk[i]["title"] and ru[i]["created_date"] == kk[i]["created_date"] for i in both)
    assert re.search("[әғқңөұүһі]", " ".join(kk[i]["body"] for i in both))
    assert set(ru) != set(kk)  # some items exist in one language only
    assert get_json(f"{sim.url}{API}/news?projects=eq:kyzylorda-bilim&size=100", "en", cookie) == (200, [])
    assert get_json(f"{sim.url}{API}/news?projects=eq:kyzylorda-bilim&size=1", "kz", cookie)[1][0]["id"] in kk


def test_created_date_gt_filters_and_gte_is_a_server_error(sim: SimulatorServer) -> None:
    cookie = ticket(sim.url)
    newer = walk(sim.url, "news", "kyzylorda-bilim", "ru", cookie, since="2025-01-20T23:59:59")
    assert newer
    assert all(r["created_date"] > "2025-01-20T23:59:59" for r in newer)
    assert len(newer) < len(walk(sim.url, "news", "kyzylorda-bilim", "ru", cookie))
    base = f"{sim.url}{API}/news?projects=eq:kyzylorda-bilim&sort-by=created_date:DESC&page=1&size=5"
    assert get_json(base + "&created_date=gte:2025-01-20T23:59:59", cookie=cookie)[0] == 500
    assert get_json(base + "&created_date=gt:yesterday", cookie=cookie)[0] == 500
    assert get_json(base.replace("sort-by=created_date:DESC", "sort-by=title:DESC"), cookie=cookie)[0] == 500


def test_unknown_slugs_and_pages_past_the_end_are_empty_arrays(sim: SimulatorServer) -> None:
    cookie = ticket(sim.url)
    assert get_json(f"{sim.url}{API}/news?projects=eq:no-such-entity&page=1&size=10", cookie=cookie) == (200, [])
    assert get_json(f"{sim.url}{API}/documents?projects=edu&page=999&size=100") == (200, [])
    assert get_json(f"{sim.url}{API}/documents?projects=edu&page=0&size=100")[0] == 400
    # Both project forms work on both lists (documents are documented without `eq:`, news with it).
    plain = get_json(f"{sim.url}{API}/news?projects=edu&page=1&size=3", cookie=cookie)
    assert plain == get_json(f"{sim.url}{API}/news?projects=eq:edu&page=1&size=3", cookie=cookie)


def test_goszakup_routes_are_unchanged_beside_the_new_ones(sim: SimulatorServer) -> None:
    status, _, body = call(f"{sim.url}/v3/graphql", "POST", {"Content-Type": "application/json"}, b'{"query": "{ Rnu { id } }"}')
    assert (status, body) == (404, b"Invalid Route")
    status, _, body = call(f"{sim.url}/v3/graphql", "POST", {"Content-Type": "application/json",
                                                               "Authorization": f"Bearer {TOKEN}"},
                           b'{"query": "{ Rnu(limit: 1) { id } }"}')
    assert status == 200
    assert json.loads(body)["data"]["Rnu"]
    assert call(f"{sim.url}/elsewhere")[0] == 404


# ------------------------------------------------------------------------------------------ pages for readers
def test_entity_pages_show_fictional_items_escaped_and_labelled(sim: SimulatorServer, other: OtherScenario) -> None:
    slug, lang, item = next(iter_items(other, "news"))
    status, _, body = call(f"{sim.url}{other.human_path('news', slug, item['id'], lang)}")
    page = body.decode()
    assert status == 200
    assert "Вымышленная запись" in page
    assert "Это не страница gov.kz" in page
    assert html.escape(item["title"]) in page
    assert "<p>" not in page.split("<table>", 1)[1]  # the item's HTML body is shown as text, never rendered
    person = next(p for s, _, p in iter_items(other, "curators") if s == "kyzylorda-bilim")
    status, _, body = call(f"{sim.url}/memleket/entities/kyzylorda-bilim/about/structure/people/{person['id']}?lang=ru")
    assert status == 200
    assert html.escape(person["lastname"]) in body.decode()
    assert call(f"{sim.url}/memleket/entities/edu/press/news/details/1?lang=ru")[0] == 404
    elsewhere = next(n for s, _, n in iter_items(other, "news") if s != "edu")
    assert call(f"{sim.url}/memleket/entities/edu/press/news/details/{elsewhere['id']}?lang=ru")[0] == 404  # not edu's


# ------------------------------------------------------------------------------------------ stat.gov.kz
def test_company_cards_match_the_goszakup_participants(sim: SimulatorServer, other: OtherScenario) -> None:
    scenario = load_scenario("demo")
    subjects = {s["bin"]: s for s in scenario.records("Subjects") if s.get("bin")}
    story = other.story
    assert story is not None
    status, card = get_json(f"{sim.url}/api/juridical/counter/api/?bin={story.old_operator_bin}&lang=ru")
    assert status == 200
    assert card["success"] is True
    assert card["description"] is None
    obj = card["obj"]
    subject = subjects[story.old_operator_bin]
    assert (obj["bin"], obj["name"]) == (subject["bin"], subject["nameRu"])
    assert obj["fio"] == story.revolving_person.upper()  # director = the scenario's current head
    assert obj["katoCode"] == subject["Address"][0]["katoCode"]
    assert obj["okedCode"] == str(subject["okedList"])
    # Midnight Almaty of the registration day, in UTC as the sample writes it.
    registered = date.fromisoformat(subject["regdate"][:10])
    assert obj["registerDate"] == f"{registered - timedelta(days=1)}T18:00:00.000+0000"
    expected_keys = {"id", "bin", "name", "registerDate", "okedCode", "okedName", "secondOkeds", "krpCode", "krpName",
                     "krpBfCode", "krpBfName", "kseCode", "kseName", "kfsCode", "kfsName", "katoCode", "katoId",
                     "katoAddress", "fio", "ip"}
    assert set(obj) == expected_keys  # the sample's fields, no more, no fewer


def test_unknown_and_unregistered_bins_get_the_not_found_answer(sim: SimulatorServer, other: OtherScenario) -> None:
    not_found = {"success": False, "obj": None, "description": "Не найдено"}
    assert get_json(f"{sim.url}/api/juridical/counter/api/?bin=011240009242&lang=ru") == (200, not_found)
    (missing,) = other.statgov_missing
    assert is_valid(missing)
    assert get_json(f"{sim.url}/api/juridical/counter/api/?bin={missing}&lang=ru") == (200, not_found)
    assert get_json(f"{sim.url}/api/juridical/counter/api?lang=ru") == (200, not_found)


def test_statgov_faults_are_seeded_per_source_and_retrying_succeeds() -> None:
    with SimulatorServer(scenario="demo", port=0, seed=9, source_faults={"statgov": {"429": 1.0}}) as faulty:
        url = f"{faulty.url}/api/juridical/counter/api/?bin=011240009242&lang=ru"
        answers = [call(url) for _ in range(faulty.max_faults_per_request + 1)]
        assert [a[0] for a in answers] == [429] * faulty.max_faults_per_request + [200]
        assert answers[0][1]["Retry-After"] == "1"
        # gov.kz keeps the server's own rate (none here).
        assert get_json(f"{faulty.url}{API}/documents?projects=edu&page=1&size=1")[0] == 200
        assert faulty.fault_counts["statgov:429"] == faulty.max_faults_per_request


@pytest.mark.parametrize("kind", ["malformed", "stall", "502"])
def test_gov_kz_faults_then_the_retry_is_whole(kind: str) -> None:
    with SimulatorServer(scenario="demo", port=0, seed=2, stall_seconds=0.3,
                         source_faults={"govkz": {kind: 1.0}}, max_faults_per_request=1) as faulty:
        url = f"{faulty.url}{API}/documents?projects=edu&page=1&size=3"
        started = time.monotonic()
        status, _, first = call(url)
        if kind == "malformed":
            assert status == 200
            with pytest.raises(ValueError, match=r"Unterminated|Expecting|Extra data"):
                json.loads(first)
        elif kind == "stall":
            assert status == 200
            assert time.monotonic() - started >= 0.3
        else:
            assert status == 502
            assert b"Bad Gateway" in first
        assert len(json.loads(call(url)[2])) == 3  # the retry is whole
        assert faulty.fault_counts[f"govkz:{kind}"] == 1


# ------------------------------------------------------------------------------------------ ground truth
def test_memoranda_ground_truth_is_consistent_with_the_served_texts(other: OtherScenario) -> None:
    assert len(other.memoranda) >= 10
    for memo in other.memoranda:
        for bin_ in memo.party_bins:
            assert is_valid(bin_)
        for lang in memo.languages:
            found = other.item("news", memo.announced_in[0], lang)
            assert found is not None
            assert found[0] == memo.slug
            text = found[1]["title"] + found[1]["body"]
            assert "меморандум" in text.lower()
            company = memo.party_names[1]
            if lang == "ru":
                assert company in text
        for ref in memo.referenced_in:
            found = other.item("news", ref, "ru")
            assert found is not None
            assert "меморандум" in found[1]["body"]
            assert other._created[("news", ref)] > other._created[("news", memo.announced_in[0])]
    assert {m.languages for m in other.memoranda} >= {("ru", "kk"), ("kk",), ("ru",)}
    for near in other.near_misses:
        found = other.item("news", near.news_id, "ru")
        assert (found is not None and "меморандум" in (found[1]["title"] + found[1]["body"]).lower()) \
            or near.why == "ppp_agreement"


def test_demo_story_fits_the_goszakup_demo(other: OtherScenario) -> None:
    """A memorandum-only operator, a mid-year switch and a PPP operator in one region (module docstring)."""
    story = other.story
    assert story is not None
    assert story.slug == "kyzylorda-bilim"
    scenario = load_scenario("demo")
    subjects = {s.get("bin") or s.get("iin"): s for s in scenario.records("Subjects")}

    def in_region(row: Any) -> bool:
        kato = (subjects[row.customer_bin].get("katoList") or [""])[0]
        return story.region_code2 in (row.region, kato[:2])

    rows = [t for t in scenario.truth() if t.signed_on is not None and in_region(t)]
    assert not [t for t in rows if t.supplier_biin == story.memorandum_only_bin]  # memorandum only
    new_operator = sorted(t.signed_on for t in rows if t.supplier_biin == story.new_operator_bin
                          and t.signed_on >= date(2025, 1, 1))
    old_operator = [t.signed_on for t in rows if t.supplier_biin == story.old_operator_bin]
    assert story.switch_memorandum_on < new_operator[0] == story.new_operator_first_contract
    assert max(old_operator) < new_operator[0]
    assert story.switch_memorandum_on.month in (1, 2)  # mid school year: the third quarter starts in January
    kinds = {m.story: m for m in other.memoranda if m.story}
    assert kinds["switch"].party_bins == (story.department_bin, story.new_operator_bin)
    assert kinds["memorandum_only"].party_bins == (story.department_bin, story.memorandum_only_bin)
    assert kinds["memorandum_only"].documents
    assert kinds["memorandum_only"].referenced_in
    (ppp,) = other.ppp
    assert (ppp.state_partner_bin, ppp.private_partner_bin) == (story.department_bin, story.ppp_operator_bin)
    assert ppp.region_code2 == story.region_code2
    assert ppp.document_ids
    assert ppp.news_ids
    # The revolving door: the old operator's director headed the Abai department until she left it.
    abay = [n for _, lang, n in iter_items(other, "news") if lang == "ru" and story.revolving_person in n["body"]]
    assert abay
    assert abay[0]["created_date"].startswith(story.revolving_left_department.isoformat())
    heads = [p for s, lang, p in iter_items(other, "curators") if s == "kyzylorda-bilim" and lang == "ru" and p["order"] == 1]
    department = subjects[story.department_bin]
    current = next(e for e in department["Employees"] if e["role"] == 1 and e["endDate"] is None)
    assert current["fio"].lower() == f"{heads[0]['lastname']} {heads[0]['name']} {heads[0]['middlename']}".strip().lower()


def test_the_content_is_deterministic() -> None:
    from crawlers.simulator.other_scenario import OtherScenario as Fresh

    first, second = Fresh(load_scenario("demo")), load_other_scenario("demo")
    assert first.memoranda == second.memoranda
    assert list(iter_items(first, "news")) == list(iter_items(second, "news"))


def test_demo_donation_comes_before_the_donors_paid_single_source_work(other: OtherScenario) -> None:
    assert len(other.donations) == 1
    gift = other.donations[0]
    assert gift.given_on < gift.first_paid_contract
    single_source = sorted(
        row.signed_on for row in other.scenario.truth()
        if row.legal_basis == "single_source" and row.customer_bin == gift.recipient_bin
        and row.supplier_biin == gift.donor_bin and row.signed_on is not None
    )  # fmt: skip
    assert single_source
    assert single_source[0] == gift.first_paid_contract
    for lang in ("ru", "kk"):
        found = other.item("news", gift.news_id, lang)
        assert found is not None
        slug, payload = found
        assert slug == gift.slug
        assert payload["created_date"].startswith(gift.given_on.isoformat())
        assert "меморандум" not in payload["body"].lower()  # a gift, not a memorandum


def test_switch_memorandum_names_its_signatories_next_to_their_organizations(other: OtherScenario) -> None:
    story = other.story
    assert story is not None
    switch = next(m for m in other.memoranda if m.story == "switch")
    department = other.bodies[story.slug]
    company = next(c for c in other.companies.values() if c.bin == story.new_operator_bin)
    assert department is not None
    assert department.head
    assert company.head
    for lang in ("ru", "kk"):
        found = other.item("news", switch.announced_in[0], lang)
        assert found is not None
        body = found[1]["body"]
        assert department.head in body
        assert company.head in body
