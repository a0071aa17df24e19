"""The scripted scenario of the event API (``ebox-enterprise-event-api-1.1.1.yaml``), after the
Message Registry's: the events its publications and readings wrote are read back through the feed,
other providers' events are submitted, and the rules of docs/events.md are seen from outside.

Roles: the ``conformance`` client of the demo enterprise reads its feed (messagesfull) and submits
events as a provider (publicationsender); the newcomer's reader client reads the newcomer's feed
(tenancy); the demo's ONSS client submits events for the newcomer. Every response is validated
against the event contract (with its documented deviations); each check prints one PASS/FAIL line.
"""

import uuid

from coffre.conformance import access
from coffre.conformance.calls import Api, Call
from coffre.conformance.report import Report
from coffre.conformance.server import REFERENCE_DATA_SCOPE, Instance, Server
from coffre.conformance.spec import Contract
from coffre.core.cbe import make_cbe

EVENTS_BASE = "/events-api/1.0.0"
EVENTS = "/ebox/enterprise/document/events"
PAGE_MAX = 1000
UNREGISTERED_CBE = make_cbe(9_999_997)


def _items(call: Call) -> list[dict]:
    body = call.json()
    return body.get("EboxEnterpriseDocumentEvents") or [] if isinstance(body, dict) else []


def _page_info(call: Call) -> dict:
    body = call.json()
    return (body.get("pageInfo") or {}) if isinstance(body, dict) else {}


class EventScenario:
    def __init__(self, server: Server, instance: Instance, contract: Contract, report: Report, registry):
        self.server = server
        self.instance = instance
        self.contract = contract
        self.report = report
        self.registry = registry  # the Message Registry's Scenario: its tokens and message ids
        self.api = Api(instance.base_url + EVENTS_BASE, contract)
        self.reader = registry.reader
        self.newcomer = server.token(instance.newcomer_reader)
        self.run_id = uuid.uuid4().hex[:12]

    # --- helpers ------------------------------------------------------------------------------------

    def expect(self, *args, **kwargs) -> bool:
        return self.registry.expect(*args, **kwargs)

    def feed(self, token: str | None = None, **params) -> Call:
        query = {"lastSequenceNbr": 0, "pageSize": PAGE_MAX, **params}
        query = {key: value for key, value in query.items() if value is not None}
        return self.api.call("GET", EVENTS, self.reader if token is None else token, params=query)

    def submit(self, token: str | None, events, params=None) -> Call:
        return self.api.call("POST", EVENTS, token, json_body=events, params=params)

    def event(self, key: str, enterprise: str | None = None, **changes) -> dict:
        return {
            "eventType": "newDocument",
            "eventCorrelationId": f"conformance-{self.run_id}-{key}",
            "enterpriseId": enterprise or self.instance.demo_enterprise,
            "messageId": f"dp2-{self.run_id}-{key}",
            "receiptDate": "2026-03-02T10:00:00+01:00",
            "expirationDate": "2027-03-02T10:00:00+01:00",
            "registeredMail": False,
            "messageTypeId": "TAXNOTICE",
            "senderOrganizationId": self.instance.other_institution,
            "subject": {"fr": "Avertissement-extrait de rôle", "nl": "Aanslagbiljet"},
            **changes,
        }

    def all_events(self, token: str | None = None) -> list[dict]:
        return _items(self.feed(token))

    # --- the scenario -----------------------------------------------------------------------------------

    def run(self) -> None:
        for title, step in (
            ("Event feed", self.feed_checks),
            ("Event feed: parameters", self.parameters),
            ("Event submission", self.submission),
            ("Event API: tenancy", self.tenancy),
            ("Event API: 401 and 403", self.access),
            ("Coverage of the event contract", lambda: access.check_coverage(self)),
        ):
            self.report.section(title)
            try:
                step()
            except Exception as exc:  # a broken step is a failure, and the other steps still run
                self.report.check(f"{title}: step completed", False, f"{type(exc).__name__}: {exc}")

    def feed_checks(self) -> None:
        whole = self.feed()
        items = _items(whole)
        numbers = [item.get("eventSequenceNbr") for item in items]
        own = self.instance.demo_enterprise
        self.expect(
            "the feed of the own enterprise, in sequence order",
            whole,
            200,
            condition=bool(items) and numbers == sorted(set(numbers)),
            why=f"{len(items)} event(s)",
        )
        self.report.check(
            "every event of the feed is the own enterprise's",
            all(item.get("eventData", {}).get("enterpriseId") == own for item in items),
            f"enterpriseIds: {sorted({item.get('eventData', {}).get('enterpriseId') for item in items})}",
        )
        main = self.registry.ids.get("main")
        kinds = [
            item["eventData"].get("eventType")
            for item in items
            if item.get("eventData", {}).get("messageId") == main
        ]
        self.report.check(
            "the publication and the first reading of a message: newDocument then readDocument",
            kinds == ["newDocument", "readDocument"],
            f"events of message {main}: {kinds}",
        )
        info = _page_info(whole)
        self.report.check(
            "pageInfo of the last page: lastSequenceNbr of its last event, hasNext false",
            info == {"lastSequenceNbr": numbers[-1] if numbers else 0, "hasNext": False},
            f"pageInfo={info}",
        )

        walked, last, pages, consistent = [], 0, 0, True
        while pages <= len(items):
            page = self.feed(lastSequenceNbr=last, pageSize=2)
            chunk = _items(page)
            consistent &= page.status == 200 and not page.problems and len(chunk) <= 2
            walked += chunk
            pages += 1
            last = _page_info(page).get("lastSequenceNbr", last)
            if not _page_info(page).get("hasNext"):
                break
        self.report.check(
            "pages of 2 from lastSequenceNbr=0: every event once, in order, no gap",
            consistent and walked == items,
            f"{pages} page(s), {len(walked)} of {len(items)} events",
        )
        after = self.feed(lastSequenceNbr=last)
        self.expect(
            "after the last event: an empty page at the same position",
            after,
            200,
            condition=_items(after) == []
            and _page_info(after) == {"lastSequenceNbr": last, "hasNext": False},
        )
        reads = self.feed(filter="readDocument")
        self.expect(
            "filter=readDocument keeps the readDocument events only",
            reads,
            200,
            condition=bool(_items(reads))
            and all(item["eventData"].get("eventType") == "readDocument" for item in _items(reads)),
        )
        if items:
            since = items[-1]["eventTime"]
            later = self.feed(startTime=since)
            self.expect(
                "startTime = the eventTime of the last event keeps it (at or after)",
                later,
                200,
                condition=numbers[-1] in [item["eventSequenceNbr"] for item in _items(later)]
                and all(item["eventTime"] >= since for item in _items(later)),
            )
        future = self.feed(startTime="2060-01-01T00:00:00+01:00")
        self.expect("startTime in 2060 -> 200 and no event", future, 200, condition=_items(future) == [])
        self.expect(
            "clientId of the token -> 200", self.feed(clientId=self.instance.conformance.client_id), 200
        )

    def parameters(self) -> None:
        for params in (
            {"pageSize": 0},
            {"pageSize": PAGE_MAX + 1},
            {"lastSequenceNbr": -1},
            {"lastSequenceNbr": None},
            {"pageSize": None},
            {"startTime": "yesterday"},
            {"startTime": "2026-03-02T10:00:00"},
            {"filter": "newDocument;readDocument"},
            {"filter": "bogus"},
        ):
            shown = {key: ("(absent)" if value is None else value) for key, value in params.items()}
            self.expect(f"malformed {shown} -> 400", self.feed(**params), 400, code="INVALID_INPUT")
        self.expect(
            "clientId of another client -> 403",
            self.feed(clientId=self.instance.sender.client_id),
            403,
            code="FORBIDDEN",
        )

    def submission(self) -> None:
        before = len(self.all_events())
        batch = [self.event("1"), self.event("2", eventType="readDocument")]
        first = self.submit(self.reader, batch)
        self.expect("submit two events of another provider", first, 201)
        items = self.all_events()
        mine = [item for item in items if item.get("eventProviderId") == self.instance.conformance.client_id]
        self.report.check(
            "the feed shows them, eventProviderId = the submitting client, with their eventCorrelationId",
            [item["eventData"].get("eventCorrelationId") for item in mine]
            == [e["eventCorrelationId"] for e in batch],
            f"{len(items) - before} new event(s) in the feed",
        )
        replay = self.submit(self.reader, batch)
        self.expect(
            "the same submission again (a replay) -> 201, nothing stored twice",
            replay,
            201,
            condition=len(self.all_events()) == len(items),
        )
        conflict = self.submit(self.reader, [self.event("3"), self.event("1", registeredMail=True)])
        self.expect(
            "an eventCorrelationId already used with another content -> 409, nothing stored",
            conflict,
            409,
            condition=len(self.all_events()) == len(items),
        )
        for name, events, params in (
            ("an enterprise that is not registered", [self.event("4", enterprise=UNREGISTERED_CBE)], None),
            ("an enterpriseId of 9 digits", [self.event("5", enterpriseId="456789034")], None),
            (
                "a required property missing",
                [{k: v for k, v in self.event("6").items() if k != "receiptDate"}],
                None,
            ),
            ("an eventType outside the enumeration", [self.event("7", eventType="documentArchived")], None),
        ):
            self.expect(f"{name} -> 400", self.submit(self.reader, events, params), 400, code="INVALID_INPUT")
        self.expect("an empty list -> 201, nothing to store", self.submit(self.reader, []), 201)
        self.expect(
            "submitting as another client (clientId) -> 403",
            self.submit(self.reader, [self.event("8")], {"clientId": self.instance.sender.client_id}),
            403,
            code="FORBIDDEN",
        )
        self.report.check(
            "refused submissions stored nothing", len(self.all_events()) == len(items), f"{len(items)} events"
        )

    def tenancy(self) -> None:
        newcomer = self.instance.newcomer
        sent = self.submit(self.registry.sender, [self.event("for-newcomer", enterprise=newcomer)])
        self.expect("ONSS submits an event for the newcomer", sent, 201)
        theirs = self.feed(self.newcomer)
        items = _items(theirs)
        self.expect(
            "the newcomer's feed: its own events only, ONSS's submission among them",
            theirs,
            200,
            condition=bool(items)
            and all(item["eventData"].get("enterpriseId") == newcomer for item in items)
            and f"dp2-{self.run_id}-for-newcomer" in [item["eventData"].get("messageId") for item in items],
            why=f"{len(items)} event(s)",
        )
        # (A broadcast message has the same messageId in both e-Boxes: its events are distinct.)
        own = self.all_events()
        self.report.check(
            "the two feeds share no event; the newcomer's submitted event is not in the demo enterprise's",
            not ({item["eventSequenceNbr"] for item in items} & {item["eventSequenceNbr"] for item in own})
            and f"dp2-{self.run_id}-for-newcomer" not in [item["eventData"].get("messageId") for item in own]
            and all(item["eventData"].get("enterpriseId") == self.instance.demo_enterprise for item in own),
            f"newcomer: {len(items)} event(s), demo enterprise: {len(own)} event(s)",
        )
        self.expect(
            "a reader without publicationsender cannot submit -> 403",
            self.submit(self.newcomer, [self.event("9", enterprise=newcomer)]),
            403,
        )

    def access(self) -> None:
        for method, arguments in (
            ("GET", {"params": {"lastSequenceNbr": 0, "pageSize": 10}}),
            ("POST", {"json_body": [self.event("10")]}),
        ):
            self.expect(
                f"no token: {method} {EVENTS} -> 401", self.api.call(method, EVENTS, None, **arguments), 401
            )
            self.expect(
                f"invalid token: {method} {EVENTS} -> 401",
                self.api.call(method, EVENTS, "not-a-token", **arguments),
                401,
            )
        self.expect(
            "token without messagesfull: GET -> 403",
            self.feed(self.registry.reader_publication_only),
            403,
            code="FORBIDDEN",
        )
        self.expect(
            "token without publicationsender: POST -> 403",
            self.submit(
                self.server.token(self.instance.conformance, REFERENCE_DATA_SCOPE), [self.event("11")]
            ),
            403,
            code="FORBIDDEN",
        )


def run(server: Server, instance: Instance, contract: Contract, report: Report, registry) -> EventScenario:
    scenario = EventScenario(server, instance, contract, report, registry)
    scenario.run()
    return scenario
