"""Calls to the live API, each validated against the contract, and the coverage they add up to.

``Api.call`` sends one request to an operation of the contract (named by method and path
template), validates the response (documented status, JSON content type, body against the
Swagger schema of that status) and remembers which statuses each operation answered, so that
the scenario can show that every operation and every documented status was exercised.
"""

import base64
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote

import requests

from coffre.conformance.spec import Contract, Operation

TIMEOUT = 60
#: An id that names nothing on the instance (404 cases).
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def b64url_sha256(content: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode("ascii")


@dataclass
class Call:
    operation: Operation
    response: requests.Response
    problems: list[str]

    @property
    def status(self) -> int:
        return self.response.status_code

    def json(self):
        try:
            return self.response.json()
        except ValueError:
            return None

    @property
    def code(self) -> str | None:
        body = self.json()
        return body.get("code") if isinstance(body, dict) else None

    def summary(self) -> str:
        text = f"{self.operation.label} -> {self.status}"
        if self.code:
            text += f" {self.code}"
        body = self.json()
        if self.status >= 400 and isinstance(body, dict) and isinstance(body.get("message"), str):
            text += f" ({body['message'][:160]})"
        if self.problems:
            text += "; contract: " + "; ".join(self.problems[:4])
            if len(self.problems) > 4:
                text += f" (+{len(self.problems) - 4} more)"
        return text


@dataclass
class Coverage:
    """Statuses answered per operation, and whether each answer matched the contract."""

    seen: dict[str, dict[int, bool]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, call: Call) -> None:
        statuses = self.seen[call.operation.label]
        statuses[call.status] = statuses.get(call.status, True) and not call.problems


class Api:
    def __init__(self, root: str, contract: Contract):
        self.root = root.rstrip("/")
        self.contract = contract
        self.session = requests.Session()
        self.coverage = Coverage()

    def url(self, template: str, path: dict | None = None) -> str:
        values = {name: quote(str(value), safe="") for name, value in (path or {}).items()}
        return self.root + template.format(**values)

    def call(
        self,
        method: str,
        template: str,
        token: str | None = None,
        *,
        path: dict | None = None,
        params=None,
        json_body=None,
        content_type: str | None = None,
        files=None,
        raw: bytes | None = None,
        headers: dict | None = None,
    ) -> Call:
        operation = self.contract.operation(method, template)
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = raw
        if json_body is not None:
            data = json.dumps(json_body).encode()
            sent["Content-Type"] = content_type or "application/json"
        elif content_type:
            sent["Content-Type"] = content_type
        response = self.session.request(
            method,
            self.url(template, path),
            params=params,
            data=data,
            files=files,
            headers=sent,
            timeout=TIMEOUT,
        )
        problems = self.contract.check_response(
            operation, response.status_code, response.headers.get("Content-Type", ""), response.content
        )
        call = Call(operation, response, problems)
        self.coverage.add(call)
        return call
