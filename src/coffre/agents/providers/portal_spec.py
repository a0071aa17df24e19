"""The YAML description of a declarative portal agent, read and checked (docs/agents-portal.md).

``load_spec(path)`` reads ``portals/<id>.yaml`` with ``yaml.safe_load`` and checks it strictly:
every required key is there with the right type, every CSS selector parses, every regular
expression compiles, URLs are relative to the site's ``base_url`` (https, or http on the loopback
only), no key is unknown. A problem raises ``PortalSpecError`` naming the file and the key
("demo-energy.yaml: documents.date.format: ..."), at start-up, since the catalog loads every
portal when Coffre starts. This module only reads descriptions; running one is ``portal.py``'s.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from django.utils.translation import gettext_lazy
from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from coffre.agents.sdk import AGENT_ID, Category, CredentialField, FieldKind, UserAction
from coffre.core.net import is_loopback

# Media types a portal may serve documents as, with the bytes each file must start with.
MAGIC = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
_FREQUENCY = re.compile(r"^(\d+)\s*(h|hours?|d|days?|w|weeks?)$")
_FREQUENCY_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_FREQUENCY_WORDS = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1), "monthly": timedelta(days=30)}
_EMPTY_TREE = LexborHTMLParser("<html><body></body></html>")
# Labels descriptions commonly use, here so that makemessages extracts them: a credential's label
# is an English msgid, translated when shown if the catalogs have it.
COMMON_LABELS = (
    gettext_lazy("Login"),
    gettext_lazy("Password"),
    gettext_lazy("E-mail address"),
    gettext_lazy("Customer number"),
)
# The descriptions of the shipped portals (portals/*.yaml), here for the same reason: a
# description is an English msgid, shown translated in the catalog when the catalogs have it.
SHIPPED_DESCRIPTIONS = (
    gettext_lazy("The bills of the demo's fictional energy provider (a fake portal shipped with Coffre)."),
)


class PortalSpecError(ValueError):
    """A portal description that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class PageMatch:
    """How a page is recognised: every criterion given must hold (at least one is given)."""

    url: str = ""  # a URL relative to base_url; the page's path starts with its path
    selector: str = ""  # a CSS selector that finds something on the page
    text: str = ""  # words in the page's text (case ignored)


@dataclass(frozen=True)
class FieldSpec:
    """Where a value is in a row: the element ``selector`` finds in the row (the row itself when
    empty), its ``attribute`` or else its text, then the first group of ``pattern`` if given."""

    selector: str = ""
    attribute: str = ""
    pattern: re.Pattern | None = None
    required: bool = True
    format: str = ""  # dates: a strptime format
    decimal: str = "comma"  # amounts: "comma" (1.234,56) or "point" (1,234.56)


@dataclass(frozen=True)
class LoginSpec:
    url: str
    form: str
    fields: dict[str, str]  # the form's field name -> the credential that fills it
    hidden_fields: tuple[str, ...]
    extra_fields: dict[str, str]
    success: PageMatch
    failure: PageMatch


@dataclass(frozen=True)
class DocumentsSpec:
    url: str
    container: str
    row: str
    remote_id: FieldSpec
    date: FieldSpec
    link: FieldSpec
    amount: FieldSpec | None = None
    title: FieldSpec | None = None
    currency: str = "EUR"
    order: str = "newest-first"
    next_page: str = ""  # the selector of the link to the next page ("" = one page)
    max_pages: int = 10


@dataclass(frozen=True)
class PortalSpec:
    source: str  # the file's name, for messages
    id: str
    name: str
    provider: str
    category: Category
    logo: str
    description: str
    frequency: timedelta
    max_concurrent: int
    credential_fields: tuple[CredentialField, ...]
    base_url: str
    base_url_setting: str
    extra_hosts: tuple[str, ...]
    timeout_seconds: float
    login: LoginSpec
    documents: DocumentsSpec
    user_actions: dict[UserAction, PageMatch] = field(default_factory=dict)
    vendor_down: PageMatch | None = None
    media_type: str = "application/pdf"
    max_bytes: int = 20 * 1024 * 1024


class _Section:
    """One mapping of the YAML file, read key by key; ``done()`` refuses the keys nobody read."""

    def __init__(self, source: str, where: str, data):
        self.source, self.where = source, where
        if not isinstance(data, dict):
            self.fail("", f"must be a mapping, got {_kind(data)}")
        self.data = data
        self.read: set[str] = set()

    def fail(self, key: str, problem: str):
        place = ".".join(part for part in (self.where, key) if part) or "(top)"
        raise PortalSpecError(f"{self.source}: {place}: {problem}")

    def get(self, key: str, kinds: tuple[type, ...], required: bool, default=None):
        self.read.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                self.fail(key, "is required")
            return default
        value = self.data[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            expected = " or ".join(kind.__name__.replace("str", "string").replace("dict", "mapping")
                                   for kind in kinds)
            self.fail(key, f"must be a {expected}, got {_kind(value)}")
        return value

    def text(self, key: str, required: bool = True, default: str = "") -> str:
        value = self.get(key, (str,), required, default)
        if required and not value.strip():
            self.fail(key, "must not be empty")
        return value.strip()

    def number(self, key: str, default: int, low: int, high: int) -> int:
        value = self.get(key, (int,), False, default)
        if not low <= value <= high:
            self.fail(key, f"must be between {low} and {high}, got {value}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        return self.get(key, (bool,), False, default)

    def selector(self, key: str, required: bool = True) -> str:
        value = self.get(key, (str,), required, "")
        if required and not value.strip():
            self.fail(key, "must not be empty")
        if value:
            try:
                _EMPTY_TREE.css(value)
            except SelectolaxError:
                self.fail(key, f"{value!r} is not a valid CSS selector")
        return value.strip()

    def section(self, key: str, required: bool = True) -> "_Section | None":
        value = self.get(key, (dict,), required)
        return None if value is None else _Section(self.source, _join(self.where, key), value)

    def relative_url(self, key: str, required: bool = True) -> str:
        value = self.text(key, required)
        if value and (urlsplit(value).scheme or value.startswith("//")):
            self.fail(key, "must be relative to base_url (a path such as 'account/bills'), not a full URL")
        return value

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.read, key=str)
        if unknown:
            known = ", ".join(sorted(self.read))
            self.fail(str(unknown[0]), f"unknown key (known here: {known})")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "nothing"}.get(type(value), type(value).__name__)


def _page_match(parent: _Section, key: str, required: bool) -> PageMatch | None:
    section = parent.section(key, required)
    if section is None:
        return None
    match = PageMatch(
        url=section.relative_url("url", required=False),
        selector=section.selector("selector", required=False),
        text=section.text("text", required=False),
    )
    section.done()
    if not (match.url or match.selector or match.text):
        section.fail("", "needs at least one of url, selector, text")
    return match


def _field(parent: _Section, key: str, required: bool, *, kind: str = "") -> FieldSpec | None:
    raw = parent.get(key, (str, dict), required)
    if raw is None:
        return None
    if isinstance(raw, str):  # the short form: a selector whose text is the value
        if kind == "date":
            parent.fail(key, "a date needs a mapping with selector and format")
        return FieldSpec(selector=parent.selector(key))
    section = _Section(parent.source, _join(parent.where, key), raw)
    pattern_text = section.text("pattern", required=False)
    pattern = None
    if pattern_text:
        try:
            pattern = re.compile(pattern_text)
        except re.error as exc:
            section.fail("pattern", f"is not a valid regular expression ({exc})")
        if pattern.groups > 1:
            section.fail("pattern", "may have one group at most (the value)")
    spec = FieldSpec(
        selector=section.selector("selector", required=False),
        attribute=section.text("attribute", required=False),
        pattern=pattern,
        required=section.flag("required", True),
    )
    if kind == "date":
        spec = _with(spec, format=_date_format(section))
    if kind == "amount":
        decimal = section.text("decimal", required=False, default="comma")
        if decimal not in ("comma", "point"):
            section.fail("decimal", f"must be 'comma' (1.234,56) or 'point' (1,234.56), got {decimal!r}")
        spec = _with(spec, decimal=decimal)
    section.done()
    return spec


def _with(spec: FieldSpec, **changes) -> FieldSpec:
    return FieldSpec(**{**spec.__dict__, **changes})


def _date_format(section: _Section) -> str:
    value = section.text("format")
    sample = date(2024, 11, 28)
    try:
        round_trip = datetime.strptime(sample.strftime(value), value).date()
    except ValueError:
        round_trip = None
    if round_trip != sample:
        section.fail("format", f"{value!r} is not a date format with day, month and year (e.g. '%d/%m/%Y')")
    return value


def _frequency(top: _Section) -> timedelta:
    raw = top.get("frequency", (str,), False, "3 days").strip().lower()
    if raw in _FREQUENCY_WORDS:
        return _FREQUENCY_WORDS[raw]
    found = _FREQUENCY.match(raw)
    if not found:
        top.fail("frequency", f"{raw!r}: write e.g. '3 days', '12 hours', '1 week', 'daily', 'monthly'")
    value = int(found.group(1)) * _FREQUENCY_UNITS[found.group(2)[0]]
    if value < timedelta(hours=1):
        top.fail("frequency", "must be at least one hour")
    return value


def _credentials(top: _Section) -> tuple[CredentialField, ...]:
    items = top.get("credentials", (list,), True)
    if not items:
        top.fail("credentials", "must list at least one field")
    fields = []
    for index, item in enumerate(items):
        section = _Section(top.source, f"credentials[{index}]", item)
        name = section.text("name")
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
            section.fail("name", f"{name!r} must be lower-case letters, digits and _")
        kind = section.text("kind", required=False, default="text")
        if kind not in set(FieldKind):
            section.fail("kind", f"must be one of {', '.join(FieldKind)}, got {kind!r}")
        # Labels are English msgids: translated when shown if the catalog has them (docs).
        fields.append(
            CredentialField(
                name=name,
                label=gettext_lazy(section.text("label")),
                kind=FieldKind(kind),
                secret=section.flag("secret", kind == FieldKind.PASSWORD),
                required=section.flag("required", True),
                help_text=section.text("help_text", required=False),
            )
        )
        section.done()
    names = [item.name for item in fields]
    if len(names) != len(set(names)):
        top.fail("credentials", "two fields have the same name")
    return tuple(fields)


def _site(top: _Section) -> tuple[str, str, tuple[str, ...], float]:
    site = top.section("site")
    base_url = site.text("base_url")
    check_base_url(base_url, lambda problem: site.fail("base_url", problem))
    if not base_url.endswith("/"):
        base_url += "/"
    setting = site.text("base_url_setting", required=False)
    if setting and not re.fullmatch(r"[A-Z][A-Z0-9_]*", setting):
        site.fail("base_url_setting", "must name a setting in capitals (e.g. COFFRE_DEMO_PORTAL_URL)")
    hosts = site.get("extra_hosts", (list,), False, [])
    for host in hosts:
        if not isinstance(host, str) or not re.fullmatch(r"[a-z0-9.-]+", host):
            site.fail("extra_hosts", f"{host!r} is not a host name")
    timeout = site.number("timeout_seconds", 20, 1, 120)
    site.done()
    return base_url, setting, tuple(hosts), float(timeout)


def check_base_url(url: str, fail) -> None:
    """A portal's address: https, or http on this machine only (the demo, the tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"{url!r} must be an absolute http(s) URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        fail("must hold no user, password, query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        fail("must use https (http is allowed on 127.0.0.1 and localhost only)")


def _login(top: _Section, credential_names: set[str]) -> LoginSpec:
    section = top.section("login")
    fields = section.get("fields", (dict,), True)
    for form_field, credential in fields.items():
        if not isinstance(form_field, str) or not isinstance(credential, str):
            section.fail("fields", "maps form field names to credential names (strings)")
        if credential not in credential_names:
            section.fail(f"fields.{form_field}", f"{credential!r} is not one of the credentials")
    hidden = section.get("hidden_fields", (list,), False, [])
    extra = section.get("extra_fields", (dict,), False, {})
    if not all(isinstance(name, str) for name in hidden):
        section.fail("hidden_fields", "must list field names (strings)")
    if not all(isinstance(name, str) and isinstance(value, str) for name, value in extra.items()):
        section.fail("extra_fields", "maps field names to values (strings)")
    spec = LoginSpec(
        url=section.relative_url("url"),
        form=section.selector("form", required=False) or "form",
        fields=dict(fields),
        hidden_fields=tuple(hidden),
        extra_fields=dict(extra),
        success=_page_match(section, "success", True),
        failure=_page_match(section, "failure", True),
    )
    section.done()
    return spec


def _user_actions(top: _Section) -> dict[UserAction, PageMatch]:
    section = top.section("user_actions", required=False)
    if section is None:
        return {}
    actions = {}
    for key in list(section.data):
        if key not in set(UserAction):
            section.fail(str(key), f"unknown action (known: {', '.join(UserAction)})")
        actions[UserAction(key)] = _page_match(section, key, True)
    section.done()
    return actions


def _documents(top: _Section) -> DocumentsSpec:
    section = top.section("documents")
    order = section.text("order", required=False, default="newest-first")
    if order not in ("newest-first", "oldest-first"):
        section.fail("order", f"must be 'newest-first' or 'oldest-first', got {order!r}")
    currency = section.text("currency", required=False, default="EUR")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        section.fail("currency", f"must be an ISO 4217 code such as EUR, got {currency!r}")
    link = _field(section, "link", True)
    if not link.attribute:
        link = _with(link, attribute="href")
    pagination = section.section("pagination", required=False)
    next_page, max_pages = "", 1
    if pagination is not None:
        next_page = pagination.selector("next")
        max_pages = pagination.number("max_pages", 10, 1, 500)
        pagination.done()
    spec = DocumentsSpec(
        url=section.relative_url("url"),
        container=section.selector("container"),
        row=section.selector("row"),
        remote_id=_field(section, "remote_id", True),
        date=_field(section, "date", True, kind="date"),
        link=link,
        amount=_field(section, "amount", False, kind="amount"),
        title=_field(section, "title", False),
        currency=currency,
        order=order,
        next_page=next_page,
        max_pages=max_pages,
    )
    section.done()
    return spec


def load_spec(path: Path) -> PortalSpec:
    """The checked description in ``path``; ``PortalSpecError`` names the file and key at fault."""
    path = Path(path)
    source = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PortalSpecError(f"{source}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise PortalSpecError(f"{source}: is not valid YAML{line}") from None
    top = _Section(source, "", data)
    agent_id = top.text("id")
    if not AGENT_ID.match(agent_id):
        top.fail("id", f"{agent_id!r} must match {AGENT_ID.pattern}")
    if agent_id != path.stem:
        top.fail("id", f"must be the file's name without .yaml ({path.stem!r})")
    category = top.text("category")
    if category not in set(Category):
        top.fail("category", f"must be one of {', '.join(Category)}, got {category!r}")
    logo = top.text("logo", required=False, default="coffre/agents/generic.svg")
    if logo.startswith("/") or ".." in logo.split("/"):
        top.fail("logo", "must be a static file path such as 'coffre/agents/name.svg'")
    credential_fields = _credentials(top)
    base_url, setting, extra_hosts, timeout = _site(top)
    download = top.section("download", required=False)
    media_type, max_bytes = "application/pdf", 20 * 1024 * 1024
    if download is not None:
        media_type = download.text("media_type", required=False, default=media_type)
        if media_type not in MAGIC:
            download.fail("media_type", f"must be one of {', '.join(MAGIC)}, got {media_type!r}")
        max_bytes = download.number("max_bytes", max_bytes, 1024, 200 * 1024 * 1024)
        download.done()
    spec = PortalSpec(
        source=source,
        id=agent_id,
        name=top.text("name"),
        provider=top.text("provider"),
        category=Category(category),
        logo=logo,
        description=top.text("description", required=False),
        frequency=_frequency(top),
        max_concurrent=top.number("max_concurrent", 4, 1, 1000),
        credential_fields=credential_fields,
        base_url=base_url,
        base_url_setting=setting,
        extra_hosts=extra_hosts,
        timeout_seconds=timeout,
        login=_login(top, {item.name for item in credential_fields}),
        documents=_documents(top),
        user_actions=_user_actions(top),
        vendor_down=_page_match(top, "vendor_down", False),
        media_type=media_type,
        max_bytes=max_bytes,
    )
    top.done()
    return spec
