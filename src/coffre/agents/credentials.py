"""The credentials of a connection: checked against the agent's description, sealed at rest.

The whole credentials dict is sealed as JSON by ``coffre.core.crypto`` under the master keyring with
a purpose of its own (``agents/credentials/v1``): a key derived for documents or for the IMAP
passwords never opens credentials, and the other way round. What a person may see again is
``shown``: the values of the fields the agent does not mark secret (a login name, a host).

This module never logs a credential and never puts one in an exception message: an error names
the field, never its value.
"""

import io
import json

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext_lazy as _

from coffre.agents.sdk import Agent, FieldKind
from coffre.core.crypto import DecryptionError, EncryptingWriter, decrypt_stream
from coffre.core.keys import keyring

PURPOSE = b"agents/credentials/v1"
MAX_LENGTH = 2048
MAX_MULTILINE_LENGTH = 16384  # a PEM key of 4096 bits with its certificate chain
_CONTROL = {chr(code) for code in range(32)} | {"\x7f"}
_url = URLValidator(schemes=["http", "https"])


class CredentialError(Exception):
    """Sealed credentials do not open (changed, or sealed under a key that is not configured)."""


class CredentialsInvalid(ValueError):
    """What the person typed does not fit the agent's fields: ``errors`` maps a field's name
    (or "" for the whole form) to a translated message. Never holds a value."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("the credentials do not fit the agent's fields: " + ", ".join(sorted(errors)))
        self.errors = errors


def seal(values: dict) -> bytes:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, keyring(), PURPOSE)
    writer.write(json.dumps(values, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    writer.close()
    return sink.getvalue()


def unseal(sealed: bytes) -> dict:
    try:
        plain = b"".join(decrypt_stream(io.BytesIO(bytes(sealed)), keyring(), PURPOSE))
        values = json.loads(plain.decode("utf-8"))
    except (DecryptionError, UnicodeDecodeError, ValueError):
        raise CredentialError(
            "the stored credentials cannot be opened with the configured master keys"
        ) from None
    if not isinstance(values, dict):
        raise CredentialError("the stored credentials are not a set of fields")
    return values


def _checked(kind: FieldKind, value: str) -> str | None:
    """The translated reason a value does not fit its kind, or None."""
    if kind == FieldKind.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            return str(_("Enter a valid e-mail address."))
    elif kind == FieldKind.URL:
        try:
            _url(value)
        except ValidationError:
            return str(_("Enter a valid web address (http or https)."))
    elif kind == FieldKind.NUMBER and not value.isdigit():
        return str(_("Enter digits only."))
    return None


def validated(agent: Agent, values: dict) -> dict:
    """The credentials for ``agent``: every field it describes, none other; text fields trimmed
    (secret ones kept exactly as typed). Raises ``CredentialsInvalid``."""
    if not isinstance(values, dict):
        raise CredentialsInvalid({"": str(_("The credentials are missing."))})
    known = {item.name for item in agent.credential_fields}
    errors: dict[str, str] = {}
    unknown = sorted(str(name) for name in values if name not in known)
    if unknown:
        errors[""] = str(_("Unexpected fields: %(names)s.") % {"names": ", ".join(unknown)})
    clean: dict[str, str] = {}
    for item in agent.credential_fields:
        raw = values.get(item.name, "")
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            errors[item.name] = str(_("Enter text."))
            continue
        value = raw if item.secret or item.kind == FieldKind.PASSWORD else raw.strip()
        if not value:
            if item.required:
                errors[item.name] = str(_("This field is required."))
            continue
        multiline = item.kind == FieldKind.MULTILINE
        limit = MAX_MULTILINE_LENGTH if multiline else MAX_LENGTH
        if len(value) > limit:
            errors[item.name] = str(_("At most %(count)d characters.") % {"count": limit})
        elif multiline and (_CONTROL - {"\n", "\r"}) & set(value):
            errors[item.name] = str(_("Text lines only, without control characters."))
        elif not multiline and _CONTROL & set(value):
            errors[item.name] = str(_("One line, without control characters."))
        elif problem := _checked(item.kind, value):
            errors[item.name] = problem
        else:
            clean[item.name] = value
    if errors:
        raise CredentialsInvalid(errors)
    return clean


def shown(agent: Agent, values: dict) -> dict:
    """The values a person may see again: the fields that are neither secret nor passwords."""
    return {
        item.name: values[item.name]
        for item in agent.credential_fields
        if item.name in values and not item.secret and item.kind != FieldKind.PASSWORD
    }


def secret_values(agent: Agent | None, values: dict) -> list[str]:
    """The values to take out of any text the engine keeps (error details, logs): the secret
    fields' and the passwords'; every value when the agent is unknown. Longest first."""
    if agent is None:
        found = [str(value) for value in values.values()]
    else:
        hidden = {
            item.name for item in agent.credential_fields if item.secret or item.kind == FieldKind.PASSWORD
        }
        found = [str(values[name]) for name in hidden if values.get(name)]
    return sorted({value for value in found if value}, key=len, reverse=True)


def scrubbed(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, "***")
    return text
