"""The official contract: find the Message Registry Swagger 2.0 file, apply the documented
deviations to an in-memory copy, and validate responses against its definitions.

Swagger 2.0 schemas are a subset of JSON Schema draft 4 (siblings of ``$ref`` ignored, no
``nullable``: a null is only valid where the type allows it, ``x-`` keys and ``example`` are
annotations). Its formats (``date-time``, ``date``, ``uuid``, ``uri``, ``int32``, ``double``) are
checked here by our own functions, so that no check silently depends on an optional package.

A deviation never loosens the contract to hide a bug of ours: each one is named, with its reason
from NOTES.md, and printed at the start of every run.
"""

import copy
import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft4Validator, FormatChecker

#: Paths that only the Message Registry contract has.
REGISTRY_MARKERS = ("/publishMessage", "/ebox/messages")
#: The path of the event API contract (``ebox-enterprise-event-api-*.yaml``), checked beside it; the
#: federation directory's file is listed and left out.
EVENT_MARKERS = ("/ebox/enterprise/document/events",)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/tiff")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class SpecError(Exception):
    """The spec directory does not hold a usable Message Registry contract."""


# --- Swagger 2.0 formats ---------------------------------------------------------------------------

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_date_time(value) -> bool:
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@FORMATS.checks("date")
def _is_date(value) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


@FORMATS.checks("uuid")
def _is_uuid(value) -> bool:
    if not isinstance(value, str) or not _UUID.fullmatch(value.lower()):
        return False
    uuid.UUID(value)
    return True


@FORMATS.checks("uri")
def _is_uri(value) -> bool:
    if not isinstance(value, str) or any(char.isspace() for char in value):
        return False
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@FORMATS.checks("int32")
def _is_int32(value) -> bool:
    return not isinstance(value, int) or isinstance(value, bool) or -(2**31) <= value < 2**31


@FORMATS.checks("int64")
def _is_int64(value) -> bool:
    return not isinstance(value, int) or isinstance(value, bool) or -(2**63) <= value < 2**63


@FORMATS.checks("double")
def _is_double(value) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


# --- deviations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deviation:
    """A documented difference between the official Swagger and what we check against."""

    name: str
    kind: str  # "extension": NOTES.md contradicts the Swagger; "addition"/"tightening": NOTES.md adds a rule
    reason: str
    apply: Callable[[dict], str] = field(repr=False)  # changes the spec, says where


def _add_image_types(spec: dict) -> str:
    enum = spec["definitions"]["Attachment"]["properties"]["mediaType"]["enum"]
    added = [media_type for media_type in IMAGE_TYPES if media_type not in enum]
    enum.extend(added)
    return f"definitions.Attachment.properties.mediaType.enum += {', '.join(added) or 'nothing'}"


def _add_forbidden(spec: dict) -> str:
    count = 0
    for _, _, operation in iter_operations(spec):
        if "403" not in operation["responses"]:
            operation["responses"]["403"] = {
                "description": "Valid token, scope missing (NOTES.md)",
                "schema": {"$ref": "#/definitions/StatusMessage"},
            }
            count += 1
    return f"responses.403 added to {count} operations"


def _require_items_and_total(spec: dict) -> str:
    names = paged_output_lists(spec)
    for name in names:
        definition = spec["definitions"][name]
        definition["required"] = sorted(set(definition.get("required", [])) | {"items", "totalItems"})
    return f"required += items, totalItems in {', '.join(names)}"


def _event_unauthorized(spec: dict) -> str:
    count = 0
    for _, _, operation in iter_operations(spec):
        if "401" not in operation["responses"]:
            operation["responses"]["401"] = {"description": "Token missing, invalid or expired (NOTES.md)"}
            count += 1
    return f"responses.401 added to {count} operations"


def _event_status_messages(registry: dict) -> Callable[[dict], str]:
    def apply(spec: dict) -> str:
        spec.setdefault("definitions", {})["StatusMessage"] = copy.deepcopy(
            registry["definitions"]["StatusMessage"]
        )
        changed = []
        for _, method, operation in iter_operations(spec):
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and "schema" not in response:
                    response["schema"] = {"$ref": "#/definitions/StatusMessage"}
                    changed.append(f"{method.upper()} {status}")
        return f"definitions.StatusMessage copied from the Message Registry; schema of {', '.join(changed)}"

    return apply


def _event_page_required(spec: dict) -> str:
    definition = spec["definitions"]["EboxEnterpriseDocumentEventPage"]
    definition["required"] = sorted(
        set(definition.get("required", [])) | {"EboxEnterpriseDocumentEvents", "pageInfo"}
    )
    return "EboxEnterpriseDocumentEventPage.required += EboxEnterpriseDocumentEvents, pageInfo"


def event_deviations(registry: dict) -> tuple[Deviation, ...]:
    """The deviations of the event API contract; its error bodies are the registry's StatusMessage."""
    return (
        Deviation(
            "401 added to both operations",
            "addition",
            "NOTES.md (identity and OAuth2): 401 = token missing, invalid or expired; the event contract "
            "documents 400 and 403 only.",
            _event_unauthorized,
        ),
        Deviation(
            "error responses (400, 401, 403, 409) carry the Message Registry's StatusMessage",
            "tightening",
            "NOTES.md (publication rules): the error body is a StatusMessage; the event contract gives its "
            "errors no schema, so that any body would pass.",
            _event_status_messages(registry),
        ),
        Deviation(
            "EboxEnterpriseDocumentEvents and pageInfo required in EboxEnterpriseDocumentEventPage",
            "tightening",
            "NOTES.md (consultation rules): lists are always present, [] when empty; readers page with "
            "pageInfo.lastSequenceNbr, so a page without it could not be followed.",
            _event_page_required,
        ),
    )


DEVIATIONS = (
    Deviation(
        "Attachment.mediaType accepts image/jpeg, image/png, image/gif, image/tiff",
        "extension",
        "NOTES.md (publication rules): the official publication examples send JPEG and PNG files (one as "
        "main content) although the enumeration lists document types only; accept the enumeration plus "
        "common image types.",
        _add_image_types,
    ),
    Deviation(
        "403 with a StatusMessage body added to every operation",
        "addition",
        "NOTES.md (identity and OAuth2): 403 = valid token, scope missing; the Swagger documents only "
        "400/401/404, yet every error body is a StatusMessage.",
        _add_forbidden,
    ),
    Deviation(
        "items and totalItems required in every paged list of a response",
        "tightening",
        "NOTES.md (consultation rules): items and totalItems are always present in paged lists; an "
        "empty list is [], never null. The Swagger leaves both optional.",
        _require_items_and_total,
    ),
)


# --- reading the contract ------------------------------------------------------------------------------


def iter_operations(spec: dict):
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def _refs(node) -> set[str]:
    found = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref.removeprefix("#/definitions/"))
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def output_definitions(spec: dict) -> set[str]:
    """Definitions reachable from a response schema."""
    pending = set()
    for _, _, operation in iter_operations(spec):
        pending |= _refs(operation.get("responses", {}))
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen or name not in spec["definitions"]:
            continue
        seen.add(name)
        pending |= _refs(spec["definitions"][name])
    return seen


def paged_output_lists(spec: dict) -> list[str]:
    """Output definitions shaped as a paged list: ``items`` (an array) and ``totalItems``."""
    names = []
    for name in sorted(output_definitions(spec)):
        properties = spec["definitions"][name].get("properties", {})
        if properties.get("items", {}).get("type") == "array" and "totalItems" in properties:
            names.append(name)
    return names


def _load_documents(path: Path) -> list:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return [json.loads(text)]
    # Some published files carry a front-matter block before the Swagger document.
    return [document for document in yaml.safe_load_all(text) if document is not None]


def _swagger_documents(spec_dir: Path):
    """(path, document) of every Swagger 2.0 document of ``spec_dir`` (front matter skipped)."""
    if not spec_dir.is_dir():
        raise SpecError(f"{spec_dir} is not a directory")
    for path in sorted(spec_dir.iterdir()):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        try:
            documents = _load_documents(path)
        except (ValueError, yaml.YAMLError) as exc:
            raise SpecError(f"{path.name} cannot be read: {exc}") from None
        for document in documents:
            if isinstance(document, dict) and str(document.get("swagger")) == "2.0":
                yield path, document


def _is_event_contract(document: dict) -> bool:
    return all(marker in document.get("paths", {}) for marker in EVENT_MARKERS)


def find_event_contract(spec_dir: Path) -> tuple[Path, dict] | None:
    """The event API Swagger of ``spec_dir`` (None when there is none; SpecError when several)."""
    found = [
        (path, document) for path, document in _swagger_documents(spec_dir) if _is_event_contract(document)
    ]
    if len(found) > 1:
        raise SpecError(f"expected at most one event API contract in {spec_dir}, found {len(found)}")
    return found[0] if found else None


def find_contract(spec_dir: Path) -> tuple[Path, dict, list[tuple[Path, str]]]:
    """The Message Registry Swagger of ``spec_dir``, and the other Swagger files found (path, title),
    the event API contract left out (``find_event_contract``)."""
    registry, others = [], []
    for path, document in _swagger_documents(spec_dir):
        if all(marker in document.get("paths", {}) for marker in REGISTRY_MARKERS):
            registry.append((path, document))
        elif not _is_event_contract(document):
            others.append((path, str(document.get("info", {}).get("title", ""))))
    if len(registry) != 1:
        raise SpecError(
            f"expected one Swagger 2.0 file of the Message Registry (paths {', '.join(REGISTRY_MARKERS)}) "
            f"in {spec_dir}, found {len(registry)}"
        )
    return registry[0][0], registry[0][1], others


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # template, relative to the API root, e.g. /ebox/messages/{messageId}
    operation_id: str
    definition: dict = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def documented_statuses(self) -> list[int]:
        return sorted(int(code) for code in self.definition.get("responses", {}) if str(code).isdigit())

    def response_schema(self, status: int) -> tuple[bool, dict | None]:
        """(documented, schema) of a status code; schema None when the Swagger gives none."""
        entry = self.definition.get("responses", {}).get(str(status))
        if entry is None:
            return False, None
        return True, entry.get("schema")


class Contract:
    """The official contract with the deviations applied, and validators of its definitions."""

    def __init__(self, path: Path, original: dict, deviations=DEVIATIONS):
        self.path = path
        self.original = original
        self.spec = copy.deepcopy(original)
        for _, _, operation in iter_operations(self.spec):
            # YAML reads `200:` as an integer; JSON (and schemathesis) expect string keys.
            operation["responses"] = {
                str(code): value for code, value in operation.get("responses", {}).items()
            }
        self.deviations = [(deviation, deviation.apply(self.spec)) for deviation in deviations]
        self.definitions = self.spec.get("definitions", {})
        self.operations = [
            Operation(method.upper(), path_, operation.get("operationId", ""), operation)
            for path_, method, operation in iter_operations(self.spec)
        ]
        self._validators: dict[str, Draft4Validator] = {}

    @classmethod
    def from_dir(cls, spec_dir: Path) -> tuple["Contract", list[tuple[Path, str]]]:
        path, document, others = find_contract(spec_dir)
        return cls(path, document), others

    def operation(self, method: str, path: str) -> Operation:
        for operation in self.operations:
            if operation.method == method.upper() and operation.path == path:
                return operation
        raise KeyError(f"{method.upper()} {path} is not an operation of the contract")

    def validator(self, schema: dict) -> Draft4Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            root = {"definitions": self.definitions, "allOf": [schema]}
            Draft4Validator.check_schema(root)
            self._validators[key] = Draft4Validator(root, format_checker=FORMATS)
        return self._validators[key]

    def errors(self, schema: dict, instance) -> list[str]:
        """Every violation of ``schema`` by ``instance``, as ``where: what`` lines."""
        problems = []
        for error in sorted(
            self.validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path)
        ):
            where = "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
            )
            problems.append(f"body{where}: {_short(error.message)}")
        return problems

    def definition_errors(self, name: str, instance) -> list[str]:
        return self.errors({"$ref": f"#/definitions/{name}"}, instance)

    def check_response(self, operation: Operation, status: int, content_type: str, body: bytes) -> list[str]:
        """What is wrong with a response of ``operation`` compared with the contract ([] = nothing)."""
        documented, schema = operation.response_schema(status)
        if not documented:
            return [
                f"status {status} is not documented for {operation.label} "
                f"(documented: {', '.join(map(str, operation.documented_statuses()))})"
            ]
        if schema is None:
            return []
        if schema.get("type") in ("string", "file") and "$ref" not in schema:
            return []  # binary content (application/octet-stream)
        media_type = content_type.split(";")[0].strip().lower()
        if media_type != "application/json":
            return [f"Content-Type is {content_type or 'missing'}, expected application/json"]
        try:
            instance = json.loads(body)
        except ValueError as exc:
            return [f"the body is not JSON: {exc}"]
        return self.errors(schema, instance)


def _short(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
