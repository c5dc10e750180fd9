"""The stat.gov.kz juridical API (`GET /api/juridical/counter/api/?bin=<BIN>&lang=ru`), simulated.

Answers `{"success": true, "obj": {…}, "description": null}` with the card of
`crawlers.simulator.other_scenario.statgov_card` for every BIN (and entrepreneur IIN) of the goszakup scenario,
and the not-found shape `{"success": false, "obj": null, "description": "Не найдено"}` (HTTP 200) for any other
BIN and for the demo company the register does not list. Rate limiting is the server's seeded fault model
(429 with `Retry-After`, per-source rates via `SimulatorServer(source_faults={"statgov": …})`).

Unverified [U]: the status of a not-found answer (here 200), the answer to a request without `bin` (here the
not-found shape), and whether `lang` changes anything (here it does not).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from crawlers.simulator.govkz import Answer, FaultChooser, json_answer, with_fault
from crawlers.simulator.other_scenario import OtherScenario

PATH = "/api/juridical/counter/api"


class StatgovApi:
    def __init__(self, other: OtherScenario, retry_after: int = 1) -> None:
        self.other = other
        self.retry_after = retry_after

    @staticmethod
    def owns(path: str) -> bool:
        return path.rstrip("/") == PATH

    def handle(self, method: str, target: str, fault: FaultChooser) -> Answer:
        if method != "GET":
            return json_answer({"status": 405, "error": "Method Not Allowed"}, 405)
        _, _, query = target.partition("?")
        bin_ = parse_qs(query).get("bin", [""])[-1].strip()
        answer = json_answer(self.other.statgov_answer(bin_))
        answer.outcome = "ok" if answer.body.startswith(b'{"success":true') else "not_found"
        return with_fault(fault(f"{method} {target}"), answer, self.retry_after)
