"""Access on every operation (401 without or with an invalid token, 403 without the scope) and the
coverage table: which statuses each operation of the contract answered during the live checks.
"""

import json
import re

from coffre.conformance.calls import UNKNOWN_ID


def requests_for_every_operation(scenario):
    """A valid request for each operation: (operation, keyword arguments of Api.call)."""
    instance, main = scenario.instance, scenario.ids.get("main", UNKNOWN_ID)
    description, files = scenario.pdf_message(instance.demo_enterprise)
    ids = {
        "messageId": main,
        "attachmentId": getattr(scenario, "attachments", {}).get("avis.pdf", UNKNOWN_ID),
        "messageTypeId": "ATTEST",
        "senderOrganizationId": instance.organization_logo[0],
        "senderApplicationId": instance.application_logo[0],
    }
    bodies = {
        "PATCH /ebox/messages": {
            "json_body": {"items": [{"messageId": main, "visible": True}]},
            "content_type": "application/merge-patch+json",
        },
        "POST /linkEboxMessage": {
            "json_body": {
                "messageId": main,
                "recipients": [{"eboxType": "enterprise", "eboxIdValue": instance.newcomer}],
            }
        },
        "POST /searchMessageStatus": {
            "json_body": [
                {
                    "messageId": main,
                    "eboxId": {"eboxType": "enterprise", "eboxIdValue": instance.demo_enterprise},
                }
            ]
        },
        "POST /publishMessage": {
            "files": [
                ("messageToPublish", (None, json.dumps(description), "application/json")),
                *[(part, (name, data, kind)) for part, name, data, kind in files],
            ]
        },
    }
    for operation in scenario.contract.operations:
        path = {name: ids[name] for name in re.findall(r"{(\w+)}", operation.path) if name != "imageId"}
        if "imageId" in operation.path:
            path["imageId"] = (
                instance.organization_logo
                if "senderOrganizations" in operation.path
                else instance.application_logo
            )[1]
        yield operation, {"path": path, **bodies.get(operation.label, {})}


def check_access(scenario) -> None:
    """No token or an invalid one: 401; a token without the operation's scope: 403 (NOTES.md)."""
    for operation, arguments in requests_for_every_operation(scenario):
        scenario.expect(
            f"no token: {operation.label} -> 401",
            scenario.api.call(operation.method, operation.path, None, **arguments),
            401,
        )
    for operation, arguments in list(requests_for_every_operation(scenario))[:3]:
        scenario.expect(
            f"invalid token: {operation.label} -> 401",
            scenario.api.call(operation.method, operation.path, "not-a-token", **arguments),
            401,
        )
    for operation, arguments in requests_for_every_operation(scenario):
        reference = operation.path.startswith("/referenceData/")
        token = scenario.reader_publication_only if reference else scenario.reader_refdata_only
        lacking = "referencedata" if reference else "the scope of this operation"
        scenario.expect(
            f"token without {lacking}: {operation.label} -> 403",
            scenario.api.call(operation.method, operation.path, token, **arguments),
            403,
        )


def check_coverage(scenario) -> None:
    """Every operation answered 2xx, 401 and 403 conforming to the contract, and each documented
    error status was provoked unless no request can provoke it (the reason is printed)."""
    answered = 0
    for operation in scenario.contract.operations:
        seen = scenario.api.coverage.seen.get(operation.label, {})
        success = [status for status in seen if 200 <= status < 300]
        answered += bool(success)
        missing, explained = [], []
        for status in [*operation.documented_statuses(), 403]:
            if status in seen or 200 <= status < 300:
                continue
            reason = unprovokable(operation, status)
            (explained if reason else missing).append(f"{status} ({reason})" if reason else str(status))
        conforming = all(seen.values())
        passed = bool(success) and not missing and conforming
        detail = "answered " + " ".join(f"{status}{'' if ok else '!'}" for status, ok in sorted(seen.items()))
        if missing:
            detail += "; never provoked: " + ", ".join(missing)
        if explained:
            detail += "; not provokable: " + ", ".join(explained)
        if not conforming:
            detail += "; ! = a response that did not match the contract"
        scenario.report.check(f"coverage {operation.label}", passed, detail)
    scenario.report.check(
        "every operation of the contract answered a valid request",
        answered == len(scenario.contract.operations),
        f"{answered} of {len(scenario.contract.operations)} operations",
    )


def unprovokable(operation, status: int) -> str:
    """Why no request can provoke a documented status of an operation ('' when one can)."""
    parameters = operation.definition.get("parameters", [])
    if status == 400 and operation.method == "GET" and all(p.get("in") == "path" for p in parameters):
        return "no input but opaque ids in the path: an unknown id is 404"
    if (
        status == 404
        and operation.method == "GET"
        and not any(p.get("in") == "path" for p in parameters)
        and operation.path != "/ebox"
    ):
        return "NOTES.md: criteria matching nothing give 200 with an empty list"
    return ""
