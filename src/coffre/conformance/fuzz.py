"""Bounded property-based fuzz of every operation with schemathesis (v4 Python API).

The official Swagger (with the documented deviations, its base path replaced by our API root) is
loaded into schemathesis; each operation gets ``examples`` positive and ``examples`` negative
cases, drawn under a fixed Hypothesis seed, sent with the Authorization header of the all-scopes
token. The required check: no server error (5xx, or no answer) on any operation. Reported too:
the status distribution per operation, and every documented response that does not match its
Swagger schema (2xx apart from errors).

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
import random
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

DEFAULT_EXAMPLES = 30
DEFAULT_SEED = 20260301
TIMEOUT = 60
PUBLISH = "POST /publishMessage"
# Media types a file part is sent with: the contract's (with the image deviation) and some it refuses.
REFUSED_TYPES = ("application/octet-stream", "image/svg+xml", "application/x-msdownload", "text/javascript", "")


@dataclass
class Finding:
    label: str
    status: int | str
    detail: str
    reproduction: str


@dataclass
class FuzzResult:
    cases: int = 0
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    server_errors: list[Finding] = field(default_factory=list)
    schema_findings: list[Finding] = field(default_factory=list)  # documented status, body off the schema
    undocumented: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
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
        self.message_types = [item["messageTypeId"] for item in
                              api_get("/referenceData/messageTypes", {"pageSize": 100}).get("items", [])]
        self.organizations = [item["organizationId"] for item in
                              api_get("/referenceData/senderOrganizations", {"pageSize": 100}).get("items", [])]
        self.applications = [item["applicationId"] for item in
                             api_get("/referenceData/senderApplications", {"pageSize": 100}).get("items", [])]
        self.recipients = [instance.demo_enterprise, instance.institution, instance.other_institution,
                           instance.newcomer]
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
            logos = [("senderOrganizationId", self.instance.organization_logo),
                     ("senderApplicationId", self.instance.application_logo)]
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

    def shape(self, label: str, case, draw) -> None:
        names = [name for name in case.path_parameters]
        if names and draw(st.booleans()):
            case.path_parameters = {**case.path_parameters, **self.known.path_values(draw, names)}
        if label == PUBLISH:
            self.publication(case, draw)
        elif isinstance(case.body, dict) and label == "PATCH /ebox/messages":
            items = case.body.get("items")
            if isinstance(items, list):
                for item in items:
                    if isinstance(item, dict) and draw(st.booleans()):
                        item["messageId"] = draw(st.sampled_from(self.known.messages))
                case.body = dict(case.body)
        elif isinstance(case.body, dict) and label == "POST /linkEboxMessage":
            if draw(st.booleans()) and self.known.publications:
                case.body = {**case.body, "messageId": draw(st.sampled_from(self.known.publications))[0]}
            recipients = case.body.get("recipients")
            if isinstance(recipients, list):
                for recipient in recipients:
                    if isinstance(recipient, dict) and draw(st.booleans()):
                        recipient["eboxIdValue"] = draw(st.sampled_from(self.known.recipients))
                case.body = dict(case.body)
        elif isinstance(case.body, list) and label == "POST /searchMessageStatus":
            body = list(case.body)
            for index, item in enumerate(body):
                if isinstance(item, dict) and self.known.publications and draw(st.booleans()):
                    message_id, cbe = draw(st.sampled_from(self.known.publications))
                    body[index] = {**item, "messageId": message_id,
                                   "eboxId": {"eboxType": "enterprise", "eboxIdValue": cbe}}
            case.body = body

    def publication(self, case, draw) -> None:
        if not isinstance(case.body, dict):
            return
        body = dict(case.body)
        parts = sorted(name for name, value in body.items() if isinstance(value, Binary))
        content_types = {part: draw(st.sampled_from([*self.accepted_types, *REFUSED_TYPES])) for part in parts}
        case.multipart_content_types = {part: kind for part, kind in content_types.items() if kind}
        style = draw(st.sampled_from(["as generated", "from the definition", "valid skeleton", "valid skeleton"]))
        if style == "from the definition":
            body["messageToPublish"] = json.dumps(draw(self.descriptions))
        elif style == "valid skeleton":
            description = self.skeleton(parts, body, draw)
            generated = draw(self.descriptions)
            if isinstance(generated, dict):
                for key in draw(st.lists(st.sampled_from(sorted(generated) or ["recipient"]), max_size=3, unique=True)):
                    if key in generated:
                        description[key] = generated[key]
            body["messageToPublish"] = json.dumps(description)
        if draw(st.booleans()) and "messageToPublish" in body:  # the JSON part last
            body = {name: value for name, value in body.items() if name != "messageToPublish"} | {
                "messageToPublish": body["messageToPublish"]}
        case.body = body

    def skeleton(self, parts: list[str], body: dict, draw) -> dict:
        instance = self.instance
        main = draw(st.sampled_from(parts)) if parts else None
        attachments = []
        for part in parts:
            attachment = {"httpPartName": part, "mainContent": part == main}
            digest = draw(st.sampled_from(["right", "right", "wrong", "none"]))
            if digest != "none":
                data = body[part].data if digest == "right" else b"something else"
                attachment["digest"] = {"digestMethod": "sha_256", "digestValue": _digest(data)}
            attachments.append(attachment)
        description = {
            "recipient": {"eboxType": "enterprise", "eboxIdValue": draw(st.sampled_from(self.known.recipients))},
            "subject": {"fr": "Réponse", "nl": "Antwoord"},
            "messageTypeId": instance.reply_type,
            "senderOrganizationId": instance.demo_enterprise,
            "bodyMainContent": main is None,
            "replyAuthorized": draw(st.booleans()),
            "attachments": attachments,
        }
        if main is None:
            description["bodyContent"] = {"fr": "Réponse dans le corps du message."}
        return description


def _description_strategy(contract: Contract):
    """MessageToPublish objects, generated by schemathesis from the contract's own definition."""
    helper = {
        "swagger": "2.0",
        "info": {"title": "MessageToPublish generator", "version": "1"},
        "paths": {"/generate": {"post": {
            "consumes": ["application/json"],
            "parameters": [{"in": "body", "name": "body", "required": True,
                            "schema": {"$ref": "#/definitions/MessageToPublish"}}],
            "responses": {"200": {"description": "unused"}},
        }}},
        "definitions": copy.deepcopy(contract.definitions),
    }
    operation = schemathesis.openapi.from_dict(helper)["/generate"]["POST"]
    return operation.as_strategy().map(lambda case: case.body)


def _redacted_curl(case) -> str:
    try:
        return case.as_curl_command(headers={"Authorization": "Bearer $TOKEN"})
    except Exception as exc:  # a reproduction is a help, never a reason to stop
        return f"(no curl reproduction: {type(exc).__name__})"


def run(server: Server, instance: Instance, contract: Contract, report: Report, *, examples: int = DEFAULT_EXAMPLES,
        seed: int = DEFAULT_SEED) -> FuzzResult:
    report.section(f"Fuzz (schemathesis {schemathesis.__version__}, {examples} positive + {examples} negative "
                   f"cases per operation, seed {seed})")
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

    for label in order:
        operation = operations[label]
        contract_operation = contract.operation(operation.method, operation.path)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @hypothesis_seed(seed)
            @settings(max_examples=examples, database=None, deadline=None, derandomize=False, print_blob=False,
                      phases=[Phase.explicit, Phase.generate], verbosity=Verbosity.quiet,
                      suppress_health_check=list(HealthCheck))
            @given(data=st.data())
            def exercise(data):
                case = data.draw(strategy)
                shaper.shape(label, case, data.draw)
                result.cases += 1
                try:
                    response = case.call(base_url=instance.root, session=session, headers=headers, timeout=TIMEOUT)
                except requests.RequestException as exc:
                    result.statuses[label]["no answer"] += 1
                    result.server_errors.append(Finding(label, "no answer", type(exc).__name__, _redacted_curl(case)))
                    return
                status = response.status_code
                result.statuses[label][status] += 1
                if status >= 500:
                    result.server_errors.append(Finding(label, status, response.text[:300], _redacted_curl(case)))
                    return
                if label == PUBLISH and status == 201:
                    published = json.loads(response.content)
                    description = _json_or_none(case.body.get("messageToPublish"))
                    recipient = ((description or {}).get("recipient") or {}).get("eboxIdValue")
                    if isinstance(recipient, str):
                        known.publications.append((published["messageId"], recipient.rjust(10, "0")))
                documented, _ = contract_operation.response_schema(status)
                if not documented:
                    result.undocumented[label][status] += 1
                    return
                problems = contract.check_response(contract_operation, status,
                                                   response.headers.get("Content-Type", ""), response.content)
                if problems:
                    result.schema_findings.append(Finding(label, status, "; ".join(problems[:3]),
                                                          _redacted_curl(case)))

            try:
                exercise()
            except Unsatisfiable:
                result.notes.append(f"{label}: no {mode.value} case can be generated (nothing to negate)")
    _print(result, contract, report)
    return result


def _json_or_none(text):
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _print(result: FuzzResult, contract: Contract, report: Report) -> None:
    report.say("status distribution per operation (all cases, positive and negative):")
    for operation in contract.operations:
        counts = result.statuses.get(operation.label, Counter())
        shown = ", ".join(f"{status}: {count}" for status, count in sorted(counts.items(), key=lambda i: str(i[0])))
        report.say(f"  {operation.label:<86} {shown or 'no case'}")
    for note in result.notes:
        report.say(f"  note: {note}")
    if result.undocumented:
        report.say("statuses the Swagger does not document (not a failure; see docs/conformance.md):")
        for label, counts in result.undocumented.items():
            report.say(f"  {label}: " + ", ".join(f"{status} x{count}" for status, count in sorted(counts.items())))
    success = [f for f in result.schema_findings if isinstance(f.status, int) and f.status < 300]
    errors = [f for f in result.schema_findings if f not in success]
    for title, findings in (("2xx responses off their Swagger schema", success),
                            ("error responses off their Swagger schema", errors)):
        report.say(f"{title}: {len(findings)}")
        for finding in _distinct(findings):
            report.say(f"  {finding.label} -> {finding.status}: {finding.detail}\n    {finding.reproduction}")
    per_operation = {operation.label for operation in contract.operations}
    fuzzed = {label for label, counts in result.statuses.items() if sum(counts.values())}
    report.check("fuzz: every operation of the contract exercised", per_operation <= fuzzed,
                 f"{len(fuzzed & per_operation)} of {len(per_operation)} operations, {result.cases} cases")
    publish = result.statuses.get(PUBLISH, Counter())
    reached = publish.get(201, 0)
    report.check("fuzz: multipart publishMessage cases reached a publication", reached > 0,
                 f"{reached} of {sum(publish.values())} cases published (201)")
    for label in ("PATCH /ebox/messages", "POST /linkEboxMessage", "POST /searchMessageStatus"):
        counts = result.statuses.get(label, Counter())
        passed = sum(count for status, count in counts.items() if isinstance(status, int) and status < 300)
        report.check(f"fuzz: {label} bodies reached the service", passed > 0,
                     f"{passed} of {sum(counts.values())} cases answered 2xx")
    report.check("fuzz: 2xx responses match their Swagger schema", not success,
                 f"{len(success)} finding(s)" if success else "all 2xx bodies valid")
    report.check("fuzz: no server error (5xx or no answer)", not result.server_errors,
                 f"{len(result.server_errors)} server error(s)" if result.server_errors else "none")
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
