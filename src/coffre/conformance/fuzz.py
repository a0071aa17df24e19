"""Bounded property-based fuzz of every operation with schemathesis (v4 Python API).

The official Swagger (with the documented deviations, its base path replaced by our API root) is
loaded into schemathesis. Each operation gets the deterministic cases of schemathesis' coverage
phase, then ``examples`` positive and ``examples`` negative cases drawn under a fixed Hypothesis
seed, all sent with the Authorization header of the all-scopes token. The required check: no
server error (5xx, or no answer) on any operation. Checked too: 2xx bodies match their Swagger
schema, 4xx bodies are StatusMessages, and the operations that take a body reached the service.
Printed: the status distribution per operation and the most frequent refusals.

Random ids would only ever meet 404 and random JSON would never pass the first parser, so cases
are steered towards our code paths, the way schemathesis hooks do it: half of the path ids and
body ids are replaced by ids that exist, and ``messageToPublish`` (a string in the Swagger whose
content is "See MessageToPublish definition") is generated from the ``MessageToPublish``
definition, often merged into a valid skeleton that matches the file parts actually sent.
"""

import base64
import copy
import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.transport.serialization import Binary

from coffre.conformance.report import Report
from coffre.conformance.server import API_ROOT, Instance, Server
from coffre.conformance.spec import Contract

DEFAULT_EXAMPLES = 50
DEFAULT_SEED = 20260301
TIMEOUT = 60
PUBLISH = "POST /publishMessage"
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# The extremes of the formats: the first and last days a date can name, instants that leave the
# years 1..9999 once converted to UTC or to Europe/Brussels.
EXTREME_DATES = ("0001-01-01", "9999-12-31")
EXTREME_DATE_TIMES = (
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:30:00Z",
    "9999-12-31",
    "0001-01-01",
)
# Media types a file part is sent with, besides the contract's (with the image deviation).
REFUSED_TYPES = (
    "application/octet-stream",
    "image/svg+xml",
    "application/x-msdownload",
    "text/javascript",
    "",
)


@dataclass
class Finding:
    label: str
    status: int | str
    detail: str
    reproduction: str


@dataclass
class FuzzResult:
    cases: int = 0
    coverage_cases: int = 0
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    server_errors: list[Finding] = field(default_factory=list)
    schema_findings: list[Finding] = field(default_factory=list)  # documented status, body off the schema
    undocumented: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    refusals: dict[str, Counter] = field(
        default_factory=lambda: defaultdict(Counter)
    )  # 4xx: status code reason
    not_status_messages: list[Finding] = field(default_factory=list)  # 4xx whose body is not a StatusMessage
    notes: list[str] = field(default_factory=list)


class KnownIds:
    """Ids that exist on the instance, read through the API (and grown by the fuzz's publications)."""

    def __init__(self, api_get, instance: Instance):
        self.instance = instance
        listing = api_get("/ebox/messages", {"pageSize": 100})
        self.messages = [item["messageId"] for item in listing.get("items", [])] or ["none"]
        self.attachments = [
            (item["messageId"], attachment["attachmentId"])
            for item in listing.get("items", [])
            for attachment in item.get("attachments", {}).get("items", [])
        ] or [("none", "none")]
        self.message_types = [
            item["messageTypeId"]
            for item in api_get("/referenceData/messageTypes", {"pageSize": 100}).get("items", [])
        ]
        self.organizations = [
            item["organizationId"]
            for item in api_get("/referenceData/senderOrganizations", {"pageSize": 100}).get("items", [])
        ]
        self.applications = [
            item["applicationId"]
            for item in api_get("/referenceData/senderApplications", {"pageSize": 100}).get("items", [])
        ]
        self.recipients = [
            instance.demo_enterprise,
            instance.institution,
            instance.other_institution,
            instance.newcomer,
        ]
        # (messageId, recipient CBE) of messages the demo enterprise published.
        self.publications: list[tuple[str, str]] = []

    def path_values(self, draw, names: list[str]) -> dict:
        values = {}
        if "attachmentId" in names:
            values["messageId"], values["attachmentId"] = draw(st.sampled_from(self.attachments))
        elif "messageId" in names:
            values["messageId"] = draw(st.sampled_from(self.messages))
        if "messageTypeId" in names:
            values["messageTypeId"] = draw(st.sampled_from(self.message_types))
        if "imageId" in names:
            logos = [
                ("senderOrganizationId", self.instance.organization_logo),
                ("senderApplicationId", self.instance.application_logo),
            ]
            key, (owner, image) = draw(st.sampled_from([logo for logo in logos if logo[0] in names]))
            values[key], values["imageId"] = owner, image
        if "senderOrganizationId" in names and "senderOrganizationId" not in values:
            values["senderOrganizationId"] = draw(st.sampled_from(self.organizations))
        if "senderApplicationId" in names and "senderApplicationId" not in values:
            values["senderApplicationId"] = draw(st.sampled_from(self.applications))
        return values


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode()


class Shaper:
    """Steers generated cases towards our code paths (see the module docstring)."""

    def __init__(self, known: KnownIds, contract: Contract, instance: Instance, description_strategy):
        self.known = known
        self.instance = instance
        self.accepted_types = contract.spec["definitions"]["Attachment"]["properties"]["mediaType"]["enum"]
        self.descriptions = description_strategy

    def shape(self, label: str, case, draw, date_parameters: list[str]) -> None:
        names = [name for name in case.path_parameters]
        if names and draw(st.booleans()):
            case.path_parameters = {**case.path_parameters, **self.known.path_values(draw, names)}
        extremes = [name for name in date_parameters if name in case.query and draw(st.integers(0, 7)) == 0]
        if extremes:
            case.query = {**case.query, **{name: draw(st.sampled_from(EXTREME_DATES)) for name in extremes}}
        if label == PUBLISH:
            self.publication(case, draw)
        elif isinstance(case.body, dict) and label == "PATCH /ebox/messages":
            items = case.body.get("items")
            if not isinstance(items, list) and draw(st.booleans()):
                items = [{"messageId": "", "visible": draw(st.booleans())}]
            if isinstance(items, list):
                for item in items:
                    if isinstance(item, dict) and draw(st.booleans()):
                        item["messageId"] = draw(st.sampled_from(self.known.messages))
                case.body = {**case.body, "items": items}
        elif isinstance(case.body, dict) and label == "POST /linkEboxMessage":
            if draw(st.booleans()) and self.known.publications:
                case.body = {**case.body, "messageId": draw(st.sampled_from(self.known.publications))[0]}
            recipients = case.body.get("recipients")
            if isinstance(recipients, list) and draw(st.booleans()):
                steered = [
                    {
                        **recipient,
                        "eboxType": draw(st.sampled_from(["enterprise", "enterprise", "citizen"])),
                        "eboxIdValue": draw(st.sampled_from(self.known.recipients)),
                    }
                    for recipient in recipients
                    if isinstance(recipient, dict)
                ]
                case.body = {**case.body, "recipients": steered}
        elif isinstance(case.body, list) and label == "POST /searchMessageStatus":
            body = list(case.body)
            for index, item in enumerate(body):
                if isinstance(item, dict) and self.known.publications and draw(st.booleans()):
                    message_id, cbe = draw(st.sampled_from(self.known.publications))
                    body[index] = {
                        **item,
                        "messageId": message_id,
                        "eboxId": {"eboxType": "enterprise", "eboxIdValue": cbe},
                    }
            case.body = body

    def publication(self, case, draw) -> None:
        if not isinstance(case.body, dict):
            return
        body = dict(case.body)
        parts = sorted(name for name, value in body.items() if isinstance(value, Binary))
        # Mostly media types the contract accepts (with the image deviation), sometimes one it does not.
        media_types = st.one_of(
            st.sampled_from(self.accepted_types),
            st.sampled_from(self.accepted_types),
            st.sampled_from(self.accepted_types),
            st.sampled_from(REFUSED_TYPES),
        )
        content_types = {part: draw(media_types) for part in parts}
        case.multipart_content_types = {part: kind for part, kind in content_types.items() if kind}
        style = draw(
            st.sampled_from(
                [
                    "as generated",
                    "from the definition",
                    "skeleton",
                    "skeleton and definition",
                    "skeleton and definition",
                ]
            )
        )
        if style == "from the definition":
            body["messageToPublish"] = json.dumps(draw(self.descriptions))
        elif style.startswith("skeleton"):
            description = self.skeleton(parts, body, draw)
            generated = draw(self.descriptions) if style != "skeleton" else {}
            if isinstance(generated, dict) and generated:
                keys = draw(st.lists(st.sampled_from(sorted(generated)), min_size=1, max_size=3, unique=True))
                description.update({key: generated[key] for key in keys})
            body["messageToPublish"] = json.dumps(description)
        if draw(st.booleans()) and "messageToPublish" in body:  # the JSON part last
            body = {name: value for name, value in body.items() if name != "messageToPublish"} | {
                "messageToPublish": body["messageToPublish"]
            }
        case.body = body

    def skeleton(self, parts: list[str], body: dict, draw) -> dict:
        """A description valid for the demo enterprise, for the file parts of ``body`` (at most two are
        kept, none left empty), with the extremes of the date formats now and then."""
        instance = self.instance
        for part in parts[2:]:
            del body[part]
        del parts[2:]
        for part in parts:
            if not body[part].data:
                body[part] = Binary(b"%PDF-1.4 fuzz\n%%EOF\n")
        main = draw(st.sampled_from(parts)) if parts else None
        attachments = []
        for part in parts:
            attachment = {"httpPartName": part, "mainContent": part == main}
            digest = draw(st.sampled_from(["right", "right", "right", "none", "none", "none", "wrong"]))
            if digest != "none":
                data = body[part].data if digest == "right" else b"something else"
                attachment["digest"] = {"digestMethod": "sha_256", "digestValue": _digest(data)}
            attachments.append(attachment)
        description = {
            "recipient": {
                "eboxType": "enterprise",
                "eboxIdValue": draw(st.sampled_from(self.known.recipients)),
            },
            "subject": {"fr": "Réponse", "nl": "Antwoord"},
            "messageTypeId": instance.reply_type,
            "senderOrganizationId": instance.demo_enterprise,
            "bodyMainContent": main is None,
            "replyAuthorized": draw(st.booleans()),
            "attachments": attachments,
        }
        if main is None:
            description["bodyContent"] = {"fr": "Réponse dans le corps du message."}
        if draw(st.integers(0, 5)) == 0:
            description["expirationDate"] = draw(
                st.sampled_from(("2099-12-31T23:59:59+01:00", *EXTREME_DATE_TIMES))
            )
        if draw(st.integers(0, 3)) == 0:
            description["paymentData"] = {
                "amount": 125.5,
                "vatAmount": 26.36,
                "currency": "EUR",
                "iban": "BE68539007547034",
                "dueDate": draw(st.sampled_from(("2030-01-31", *EXTREME_DATE_TIMES))),
                "reference": {"structured": "+++090/9337/55493+++"},
            }
        return description


def _description_strategy(contract: Contract):
    """MessageToPublish objects, generated by schemathesis from the contract's own definition."""
    helper = {
        "swagger": "2.0",
        "info": {"title": "MessageToPublish generator", "version": "1"},
        "paths": {
            "/generate": {
                "post": {
                    "consumes": ["application/json"],
                    "parameters": [
                        {
                            "in": "body",
                            "name": "body",
                            "required": True,
                            "schema": {"$ref": "#/definitions/MessageToPublish"},
                        }
                    ],
                    "responses": {"200": {"description": "unused"}},
                }
            }
        },
        "definitions": copy.deepcopy(contract.definitions),
    }
    operation = schemathesis.openapi.from_dict(helper)["/generate"]["POST"]
    return operation.as_strategy().map(lambda case: case.body)


def _redacted_curl(case, limit: int = 700) -> str:
    try:
        curl = case.as_curl_command(headers={"Authorization": "Bearer $TOKEN"})
    except Exception as exc:  # a reproduction is a help, never a reason to stop
        return f"(no curl reproduction: {type(exc).__name__})"
    return curl if len(curl) <= limit else curl[:limit] + " …"


def run(
    server: Server,
    instance: Instance,
    contract: Contract,
    report: Report,
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = DEFAULT_SEED,
) -> FuzzResult:
    report.section(
        f"Fuzz (schemathesis {schemathesis.__version__}: its coverage phase, then {examples} positive and "
        f"{examples} negative cases per operation, seed {seed})"
    )
    token = server.token(instance.conformance)
    headers = {"Authorization": f"Bearer {token}"}
    session = requests.Session()

    def api_get(path, params):
        response = session.get(instance.root + path, params=params, headers=headers, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    raw = copy.deepcopy(contract.spec)
    raw.update({"host": instance.base_url.removeprefix("http://"), "schemes": ["http"], "basePath": API_ROOT})
    schema = schemathesis.openapi.from_dict(raw)
    known = KnownIds(api_get, instance)
    shaper = Shaper(known, contract, instance, _description_strategy(contract))
    result = FuzzResult()
    operations = {result_.ok().label: result_.ok() for result_ in schema.get_all_operations()}
    order = [PUBLISH] + [label for label in operations if label != PUBLISH]

    def send(label: str, case) -> None:
        contract_operation = contract.operation(operation_of[label].method, operation_of[label].path)
        response = exchange(result, contract, contract_operation, label, case, instance.root, session, headers)
        if response is None:
            return
        if label == PUBLISH and response.status_code == 201 and isinstance(case.body, dict):
            description = _json_or_none(case.body.get("messageToPublish"))
            recipient = ((description or {}).get("recipient") or {}).get("eboxIdValue")
            if isinstance(recipient, str):
                known.publications.append(
                    (json.loads(response.content)["messageId"], recipient.rjust(10, "0"))
                )
        check_answer(result, contract, contract_operation, label, case, response)

    operation_of = {
        label: contract.operation(operation.method, operation.path) for label, operation in operations.items()
    }
    # 1. schemathesis' coverage phase: deterministic boundary cases (both modes), sent as generated.
    for label in order:
        operation = operations[label]
        generation = schema.config.generation_for(operation=operation, phase="coverage")
        for case in schema.iter_coverage_cases(
            operation, generation_modes=list(MODES), generation_config=generation
        ):
            send(label, case)
    result.coverage_cases = result.cases
    # 2. property-based fuzz: Hypothesis draws, steered by the Shaper, under a fixed seed.
    for label in order:
        operation = operations[label]
        date_parameters = [
            parameter["name"]
            for parameter in operation_of[label].definition.get("parameters", [])
            if parameter.get("in") == "query" and parameter.get("format") == "date"
        ]
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
                shaper.shape(label, case, data.draw, date_parameters)
                send(label, case)

            try:
                exercise()
            except Unsatisfiable:
                result.notes.append(f"{label}: no {mode.value} case can be generated (nothing to negate)")
    _print(result, contract, report)
    return result


def _status_message_problems(contract: Contract, content_type: str, content: bytes) -> list[str]:
    """NOTES.md: an error body is a StatusMessage, whatever the status (documented or not)."""
    if not content_type.split(";")[0].strip().lower() == "application/json":
        return [f"Content-Type {content_type or '(none)'}, not a JSON StatusMessage"]
    try:
        return contract.definition_errors("StatusMessage", json.loads(content))
    except ValueError:
        return ["the body is not JSON"]


def _reason(status: int, content: bytes) -> str:
    """``400 INVALID_INPUT The media type …``: what a refusal says, without its variable parts."""
    try:
        body = json.loads(content)
    except ValueError:
        return f"{status} (not JSON)"
    if not isinstance(body, dict):
        return f"{status} (not a StatusMessage)"
    message = str(body.get("message", ""))
    message = re.sub(r"'[^']*'|\"[^\"]*\"|[0-9a-f-]{36}|\d+", "…", message)
    return f"{status} {body.get('code')} {message[:70]}"


def _json_or_none(text):
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


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
        report.say(f"  {operation.label:<86} {shown or 'no case'}")
    for note in result.notes:
        report.say(f"  note: {note}")
    report.say("most frequent refusals of the operations that take a body (how far the cases got):")
    for label in (PUBLISH, "PATCH /ebox/messages", "POST /linkEboxMessage", "POST /searchMessageStatus"):
        for reason, count in result.refusals.get(label, Counter()).most_common(6):
            report.say(f"  {label}: {count} x {reason}")
    if result.undocumented:
        report.say(
            "answers the Swagger does not document, by method sent (not a failure; see docs/conformance.md):"
        )
        for label, counts in result.undocumented.items():
            report.say(
                f"  {label}: " + ", ".join(f"{status} x{count}" for status, count in sorted(counts.items()))
            )
    success = [f for f in result.schema_findings if isinstance(f.status, int) and f.status < 300]
    errors = [f for f in result.schema_findings if f not in success]
    for title, findings in (
        ("2xx responses off their Swagger schema", success),
        ("error responses off their Swagger schema", errors),
    ):
        report.say(f"{title}: {len(findings)}")
        for finding in _distinct(findings):
            report.say(f"  {finding.label} -> {finding.status}: {finding.detail}\n    {finding.reproduction}")
    per_operation = {operation.label for operation in contract.operations}
    fuzzed = {label for label, counts in result.statuses.items() if sum(counts.values())}
    report.check(
        "fuzz: every operation of the contract exercised",
        per_operation <= fuzzed,
        f"{len(fuzzed & per_operation)} of {len(per_operation)} operations, {result.cases} cases",
    )
    publish = result.statuses.get(PUBLISH, Counter())
    reached = publish.get(201, 0)
    report.check(
        "fuzz: multipart publishMessage cases reached a publication",
        reached > 0,
        f"{reached} of {sum(publish.values())} cases published (201)",
    )
    for label in ("PATCH /ebox/messages", "POST /linkEboxMessage", "POST /searchMessageStatus"):
        counts = result.statuses.get(label, Counter())
        passed = sum(count for status, count in counts.items() if isinstance(status, int) and status < 300)
        report.check(
            f"fuzz: {label} bodies reached the service",
            passed > 0,
            f"{passed} of {sum(counts.values())} cases answered 2xx",
        )
    report.check(
        "fuzz: 2xx responses match their Swagger schema",
        not success,
        f"{len(success)} finding(s)" if success else "all 2xx bodies valid",
    )
    report.check(
        "fuzz: every 4xx answer is a StatusMessage (NOTES.md error body)",
        not result.not_status_messages,
        f"{len(result.not_status_messages)} answer(s) are not" if result.not_status_messages else "all are",
    )
    for finding in _distinct(result.not_status_messages):
        report.say(f"  {finding.label} -> {finding.status}: {finding.detail}\n    {finding.reproduction}")
    report.check(
        "fuzz: no server error (5xx or no answer)",
        not result.server_errors,
        f"{len(result.server_errors)} server error(s)" if result.server_errors else "none",
    )
    for finding in _distinct(result.server_errors):
        report.say(f"  {finding.label} -> {finding.status}: {finding.detail}\n    {finding.reproduction}")


def _distinct(findings: list[Finding], limit: int = 10) -> list[Finding]:
    seen, kept = set(), []
    for finding in findings:
        key = (finding.label, finding.status, finding.detail[:120])
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept[:limit]


def exchange(result: FuzzResult, contract, contract_operation, label: str, case, root: str, session, headers):
    """Send one case and count its answer: refusals must be StatusMessages, 5xx and no answer are
    server errors. Returns the response, or None when there is nothing more to check."""
    result.cases += 1
    try:
        response = case.call(base_url=root, session=session, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        result.statuses[label]["no answer"] += 1
        result.server_errors.append(Finding(label, "no answer", type(exc).__name__, _redacted_curl(case)))
        return None
    status = response.status_code
    result.statuses[label][status] += 1
    content_type = (response.headers.get("content-type") or [""])[0]
    if 400 <= status < 500:
        result.refusals[label][_reason(status, response.content)] += 1
        problems = _status_message_problems(contract, content_type, response.content)
        if problems:
            result.not_status_messages.append(
                Finding(label, f"{case.method.upper()} {status}", "; ".join(problems[:2]), _redacted_curl(case))
            )
    if status >= 500:
        result.server_errors.append(Finding(label, status, response.text[:300], _redacted_curl(case)))
        return None
    return response


def check_answer(result: FuzzResult, contract, contract_operation, label: str, case, response) -> None:
    """An answer the contract documents must match its schema; others are counted as undocumented."""
    status = response.status_code
    content_type = (response.headers.get("content-type") or [""])[0]
    documented, _ = contract_operation.response_schema(status)
    if not documented or case.method.upper() != contract_operation.method:
        result.undocumented[label][f"{case.method.upper()} {status}"] += 1
        return
    problems = contract.check_response(contract_operation, status, content_type, response.content)
    if problems:
        result.schema_findings.append(Finding(label, status, "; ".join(problems[:3]), _redacted_curl(case)))
