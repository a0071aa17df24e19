"""Bounded property-based fuzz of the event API's two operations with schemathesis, as ``fuzz``
does for the Message Registry: schemathesis' coverage phase, then ``examples`` positive and
``examples`` negative cases per operation under a fixed Hypothesis seed, with the all-scopes token
of the demo enterprise's ``conformance`` client (a reader of its feed and a provider).

Required: no server error (5xx or no answer). Checked too: 2xx bodies match the contract, 4xx
bodies are StatusMessages, and both operations reached their service (some 2xx).

Cases are steered towards our code paths: half of the feed requests get a ``pageSize`` and a
``lastSequenceNbr`` within bounds (a random int64 is nearly always refused), and half of the
submitted events name a registered enterprise with coherent dates, some of them with an
eventCorrelationId already used (replays and conflicts).
"""

import copy
from collections import Counter

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from coffre.conformance.fuzz import MODES, FuzzResult, _distinct, check_answer, exchange
from coffre.conformance.live_events import EVENTS_BASE, PAGE_MAX
from coffre.conformance.report import Report
from coffre.conformance.server import Instance, Server
from coffre.conformance.spec import Contract

FEED = "GET /ebox/enterprise/document/events"
SUBMIT = "POST /ebox/enterprise/document/events"
EVENT_TYPES = ("newDocument", "newDocumentReminder", "readDocument", "documentExpirationAlert")
DATES = (
    ("2026-03-02T10:00:00+01:00", "2027-03-02T10:00:00+01:00"),
    ("2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z"),
    ("0001-01-01T00:00:00+00:00", "9999-12-31T00:00:00Z"),
    ("2026-03-02T10:00:00.123456+01:00", "2026-04-02T10:00:00.5Z"),
)
#: Dates a provider should not send, drawn now and then: out of the calendar in UTC, no offset.
WRONG_DATES = (
    ("2026-03-02T10:00:00+01:00", "9999-12-31T23:59:59-12:00"),
    ("2026-03-02T10:00:00", "2027-03-02"),
)


class Shaper:
    def __init__(self, instance: Instance):
        # Mostly registered enterprises; now and then a number that is not a CBE (refused).
        self.recipients = [instance.demo_enterprise, instance.institution, instance.newcomer] * 4 + [
            "0999999999"
        ]
        self.correlation_ids = [f"fuzz-{number}" for number in range(8)]

    def shape(self, label: str, case, draw) -> None:
        if not draw(st.booleans()):
            return  # as generated
        if label == FEED:
            query = dict(case.query or {})
            query["pageSize"] = draw(st.integers(1, PAGE_MAX))
            query["lastSequenceNbr"] = draw(st.integers(0, 200))
            for name, values in (
                ("filter", st.lists(st.sampled_from(EVENT_TYPES), min_size=1, max_size=4).map(",".join)),
                ("startTime", st.sampled_from([date for pair in DATES + WRONG_DATES for date in pair])),
            ):
                if draw(st.booleans()):
                    query[name] = draw(values)
                else:
                    query.pop(name, None)
            query.pop("clientId", None)
            case.query = query
        elif label == SUBMIT and isinstance(case.body, list):
            case.body = [self.event(item, draw) if isinstance(item, dict) else item for item in case.body]
            case.query = {key: value for key, value in (case.query or {}).items() if key != "clientId"}

    def event(self, item: dict, draw) -> dict:
        """The generated event with a registered enterprise (mostly), dates that mostly parse, ids
        within bounds, and a correlation id often used before (replays and conflicts)."""
        receipt, expiration = draw(st.sampled_from(WRONG_DATES if draw(st.integers(0, 9)) == 7 else DATES))
        steered = {
            key: value
            for key, value in item.items()
            if not (isinstance(value, str) and not 0 < len(value) <= 100)
        }
        steered.update(
            {
                "eventType": draw(st.sampled_from(EVENT_TYPES)),
                "enterpriseId": draw(st.sampled_from(self.recipients)),
                "messageId": draw(st.sampled_from(["dp2-a", "dp2-b", "dp2-c"])),
                "receiptDate": receipt,
                "expirationDate": expiration,
                "registeredMail": draw(st.booleans()),
            }
        )
        subject = steered.get("subject")
        if not isinstance(subject, dict) or any(
            not isinstance(text, str) or len(text) > 255 for text in subject.values()
        ):
            steered["subject"] = {"fr": draw(st.sampled_from(["Avis", "Rappel"]))}
        if draw(st.booleans()):
            steered["eventCorrelationId"] = draw(st.sampled_from(self.correlation_ids))
        return steered


def run(
    server: Server, instance: Instance, contract: Contract, report: Report, *, examples: int, seed: int
) -> FuzzResult:
    report.section(
        f"Fuzz of the event API (schemathesis {schemathesis.__version__}: its coverage phase, then {examples} "
        f"positive and {examples} negative cases per operation, seed {seed})"
    )
    token = server.token(instance.conformance)
    headers = {"Authorization": f"Bearer {token}"}
    session = requests.Session()
    root = instance.base_url + EVENTS_BASE
    raw = copy.deepcopy(contract.spec)
    raw.update(
        {"host": instance.base_url.removeprefix("http://"), "schemes": ["http"], "basePath": EVENTS_BASE}
    )
    schema = schemathesis.openapi.from_dict(raw)
    shaper = Shaper(instance)
    result = FuzzResult()
    operations = {found.ok().label: found.ok() for found in schema.get_all_operations()}
    operation_of = {
        label: contract.operation(operation.method, operation.path) for label, operation in operations.items()
    }

    def send(label: str, case) -> None:
        response = exchange(result, contract, operation_of[label], label, case, root, session, headers)
        if response is not None:
            check_answer(result, contract, operation_of[label], label, case, response)

    for label, operation in operations.items():
        generation = schema.config.generation_for(operation=operation, phase="coverage")
        for case in schema.iter_coverage_cases(
            operation, generation_modes=list(MODES), generation_config=generation
        ):
            send(label, case)
    result.coverage_cases = result.cases
    for label, operation in operations.items():
        for mode in MODES:
            strategy = operation.as_strategy(generation_mode=mode)

            @hypothesis_seed(seed)
            @settings(
                max_examples=examples,
                database=None,
                deadline=None,
                derandomize=False,
                print_blob=False,
                phases=[Phase.explicit, Phase.generate],
                verbosity=Verbosity.quiet,
                suppress_health_check=list(HealthCheck),
            )
            @given(data=st.data())
            def exercise(data):
                case = data.draw(strategy)
                shaper.shape(label, case, data.draw)
                send(label, case)

            try:
                exercise()
            except Unsatisfiable:
                result.notes.append(f"{label}: no {mode.value} case can be generated (nothing to negate)")
    _print(result, contract, report)
    return result


def _print(result: FuzzResult, contract: Contract, report: Report) -> None:
    report.say(
        f"{result.cases} cases: {result.coverage_cases} of the coverage phase, "
        f"{result.cases - result.coverage_cases} drawn by Hypothesis"
    )
    report.say("status distribution per operation (all cases, positive and negative):")
    for operation in contract.operations:
        counts = result.statuses.get(operation.label, Counter())
        shown = ", ".join(
            f"{status}: {count}" for status, count in sorted(counts.items(), key=lambda i: str(i[0]))
        )
        report.say(f"  {operation.label:<50} {shown or 'no case'}")
    for note in result.notes:
        report.say(f"  note: {note}")
    report.say("most frequent refusals (how far the cases got):")
    for label in (FEED, SUBMIT):
        for reason, count in result.refusals.get(label, Counter()).most_common(6):
            report.say(f"  {label}: {count} x {reason}")
    if result.undocumented:
        report.say(
            "answers the contract does not document, by method sent (not a failure; see docs/conformance.md):"
        )
        for label, counts in result.undocumented.items():
            report.say(
                f"  {label}: " + ", ".join(f"{status} x{count}" for status, count in sorted(counts.items()))
            )
    success = [f for f in result.schema_findings if isinstance(f.status, int) and f.status < 300]
    errors = [f for f in result.schema_findings if f not in success]
    for title, findings in (
        ("2xx responses off the contract", success),
        ("error responses off the contract", errors),
    ):
        report.say(f"{title}: {len(findings)}")
        for finding in _distinct(findings):
            report.say(f"  {finding.label} -> {finding.status}: {finding.detail}\n    {finding.reproduction}")
    for label in (FEED, SUBMIT):
        counts = result.statuses.get(label, Counter())
        passed = sum(count for status, count in counts.items() if isinstance(status, int) and status < 300)
        report.check(
            f"fuzz: {label} reached the service",
            passed > 0,
            f"{passed} of {sum(counts.values())} cases answered 2xx",
        )
    report.check(
        "fuzz: event API 2xx responses match the contract",
        not success,
        f"{len(success)} finding(s)" if success else "all 2xx bodies valid",
    )
    report.check(
        "fuzz: every 4xx answer of the event API is a StatusMessage",
        not result.not_status_messages,
        f"{len(result.not_status_messages)} answer(s) are not" if result.not_status_messages else "all are",
    )
    for finding in _distinct(result.not_status_messages):
        report.say(f"  {finding.label} -> {finding.status}: {finding.detail}\n    {finding.reproduction}")
    report.check(
        "fuzz: no server error on the event API (5xx or no answer)",
        not result.server_errors,
        f"{len(result.server_errors)} server error(s)" if result.server_errors else "none",
    )
    for finding in _distinct(result.server_errors):
        report.say(f"  {finding.label} -> {finding.status}: {finding.detail}\n    {finding.reproduction}")
