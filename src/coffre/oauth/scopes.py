"""The five OAuth2 scopes of the e-Box Enterprise REST API, and parsing them.

Scopes are always stored and handed out as the full strings of the contract. Operators may type
the short suffix (``messagesfull``) on the command line; the token endpoint takes full strings
only, as any OAuth2 client sends them.
"""

from collections.abc import Iterable

from coffre.oauth.errors import ScopeNotAllowed

_PREFIX = "scope:document:management:consult:ws-eboxrestentreprise:"

#: ``GET /ebox`` of the caller's own e-Box.
SUMMARY_OWN = _PREFIX + "summaryownebox"
#: ``GET /ebox`` of any e-Box.
SUMMARY_ALL = _PREFIX + "summaryallebox"
#: ``/ebox/messages/**`` of the caller's own e-Box.
MESSAGES_FULL = _PREFIX + "messagesfull"
#: ``/referenceData/**``.
REFERENCE_DATA = _PREFIX + "referencedata"
#: ``/publishMessage``.
PUBLICATION_SENDER = _PREFIX + "publicationsender"

#: Every scope, in the canonical order used wherever a list of scopes is shown.
ALL_SCOPES: tuple[str, ...] = (SUMMARY_OWN, SUMMARY_ALL, MESSAGES_FULL, REFERENCE_DATA, PUBLICATION_SENDER)

_BY_SHORT_NAME = {scope.removeprefix(_PREFIX): scope for scope in ALL_SCOPES}
_ORDER = {scope: index for index, scope in enumerate(ALL_SCOPES)}


class UnknownScope(ValueError):
    """A scope that is not one of the five e-Box scopes."""

    def __init__(self, value: str, *, allow_short: bool):
        self.value = value
        names = ", ".join(_BY_SHORT_NAME) if allow_short else " ".join(ALL_SCOPES)
        super().__init__(f"unknown scope {value!r}; known scopes: {names}")


def short_name(scope: str) -> str:
    """``messagesfull`` for the full ``...:messagesfull`` string (display in lists)."""
    return scope.removeprefix(_PREFIX)


def canonical(scopes: Iterable[str]) -> list[str]:
    """Known scopes without duplicates, in the canonical order."""
    return sorted(set(scopes), key=_ORDER.__getitem__)


def parse_scopes(values: str | Iterable[str], *, allow_short: bool = True) -> list[str]:
    """Turn a space-separated string or a list of scope names into full scope strings.

    Returns them deduplicated in the canonical order; raises ``UnknownScope`` at the first
    name that is not an e-Box scope. With ``allow_short`` the suffix alone is accepted too.
    """
    items = (
        values.split() if isinstance(values, str) else [part for value in values for part in value.split()]
    )
    found = []
    for item in items:
        if item in _ORDER:
            found.append(item)
        elif allow_short and item in _BY_SHORT_NAME:
            found.append(_BY_SHORT_NAME[item])
        else:
            raise UnknownScope(item, allow_short=allow_short)
    return canonical(found)


def granted_scopes(client_scopes: Iterable[str], requested: str | None) -> list[str]:
    """The scopes a token request gets: all the client's when ``requested`` is absent or blank,
    else exactly the requested ones, which must be full scope strings the client holds.

    Raises ``ScopeNotAllowed`` (answered ``invalid_scope``) otherwise.
    """
    allowed = canonical(client_scopes)
    if requested is None or not requested.strip():
        return allowed
    try:
        wanted = parse_scopes(requested, allow_short=False)
    except UnknownScope as exc:
        raise ScopeNotAllowed(f"The scope {exc.value} is not an e-Box scope.") from None
    missing = [scope for scope in wanted if scope not in allowed]
    if missing:
        raise ScopeNotAllowed(f"The scope {' '.join(missing)} is not granted to this client.")
    return wanted
