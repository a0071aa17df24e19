"""Declarative portal agents: a provider's customer portal described in YAML, run with httpx.

Each ``portals/<id>.yaml`` (read and checked by ``portal_spec``) becomes one ``PortalAgent``,
registered in ``coffre.agents.catalog`` with ``portal_agent("<id>")``. One sync is one httpx
``Client`` (cookies, timeouts, redirects followed, TLS verified, a User-Agent naming Coffre) that
logs in through the portal's form, walks its documents pages (selectolax reads the HTML) and
downloads each document with a size limit and a check of its first bytes.

What the portal shows becomes the SDK's typed errors: the refusal of the login -> LoginFailed; a
page asking a person to act (terms, expired password, two-factor) -> UserActionNeeded; 5xx, 429,
a maintenance page, a connection that fails or times out -> VendorDown; a page it does not
recognise or a selector that finds nothing -> UnknownAgentError. Their messages name the URL's
path and what was missing; never a credential, a query string or the page's content. Requests
go only to the portal's own site (and its ``extra_hosts``), redirects included.
"""

import codecs
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpx
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy
from selectolax.lexbor import LexborHTMLParser, LexborNode

from coffre.agents.providers.portal_spec import MAGIC, FieldSpec, PageMatch, PortalSpec, load_spec
from coffre.agents.providers.tls import verifying_context
from coffre.agents.sdk import (
    Agent,
    FetchedDocument,
    LoginFailed,
    RemoteDocument,
    RemoteFile,
    Session,
    UnknownAgentError,
    UserActionNeeded,
    VendorDown,
)

logger = logging.getLogger("coffre.agents.portal")

PORTALS_DIR = Path(__file__).resolve().parent / "portals"
MAX_PAGE_BYTES = 5 * 1024 * 1024
_AMOUNT = re.compile(r"^-?\d+(\.\d{1,4})?$")


def parse_amount(text: str, decimal: str = "comma") -> Decimal:
    """ "1.234,56 €" (decimal comma) or "1,234.50" (decimal point) -> Decimal; ValueError else."""
    cleaned = re.sub(r"[^\d,.\-]", "", text)
    if decimal == "comma":
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    if not _AMOUNT.match(cleaned):
        raise ValueError("not an amount")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("not an amount") from None


@dataclass(frozen=True)
class Cursor:
    """Where a listing resumes: the newest date seen and the documents of that date already seen."""

    day: date | None = None
    ids: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(date.fromisoformat(data["date"]), tuple(str(item) for item in data["ids"]))
        except (ValueError, KeyError, TypeError):
            # Not one of ours (the description changed kind?): list everything; the engine dedupes.
            logger.warning("portal agent: a cursor that is not a portal cursor was ignored")
            return cls()

    def encode(self) -> str:
        return json.dumps({"date": self.day.isoformat(), "ids": list(self.ids)}, separators=(",", ":"))

    def is_new(self, day: date, remote_id: str) -> bool:
        return self.day is None or day > self.day or (day == self.day and remote_id not in self.ids)

    def after(self, day: date, remote_id: str) -> "Cursor":
        if self.day == day:
            return Cursor(day, (*self.ids, remote_id))
        return Cursor(day, (remote_id,))


class _OffSite(Exception):
    """A request (or a redirect) to a host the description does not name."""


@dataclass
class Page:
    url: httpx.URL
    status: int
    tree: LexborHTMLParser

    @property
    def path(self) -> str:
        return self.url.path

    def find(self, selector: str) -> LexborNode | None:
        return self.tree.css_first(selector)

    def text(self) -> str:
        body = self.tree.body
        return " ".join((body.text(separator=" ") if body else "").split()).casefold()


def _user_agent() -> str:
    try:
        version = metadata.version("coffre")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"Coffre/{version} (document agent; self-hosted)"


class _Browser:
    """The HTTP side of one sync: fetches pages, maps transport failures to the SDK's errors."""

    def __init__(self, spec: PortalSpec, base_url: str):
        self.spec = spec
        self.base_url = base_url
        base = urlsplit(base_url)
        self.allowed = {(base.scheme, base.hostname, base.port or _default_port(base.scheme))}
        self.allowed |= {("https", host, 443) for host in spec.extra_hosts}
        self.client = httpx.Client(
            timeout=httpx.Timeout(spec.timeout_seconds),
            follow_redirects=True,
            max_redirects=10,
            verify=verifying_context(),
            headers={"User-Agent": _user_agent(), "Accept-Language": "fr-BE, nl-BE;q=0.9, en;q=0.8"},
            event_hooks={"request": [self._check_host]},
        )

    def _check_host(self, request: httpx.Request) -> None:
        url = request.url
        if (url.scheme, url.host, url.port or _default_port(url.scheme)) not in self.allowed:
            raise _OffSite(url.host)

    def close(self) -> None:
        self.client.close()

    def resolve(self, url: str, against: str | httpx.URL | None = None) -> str:
        return urljoin(str(against or self.base_url), url)

    @contextmanager
    def request(self, method: str, url: str, data: dict | None = None) -> Iterator[httpx.Response]:
        """A streamed response; transport failures, 5xx and 429 raise the SDK's errors."""
        where = f"{method} {urlsplit(url).path}"
        try:
            with self.client.stream(method, url, data=data) as response:
                if response.status_code >= 500 or response.status_code == 429:
                    raise VendorDown(f"{where}: HTTP {response.status_code} ({response.url.path})")
                yield response
        except httpx.TimeoutException as exc:
            raise VendorDown(f"{where}: the provider did not answer in time ({type(exc).__name__})") from None
        except _OffSite as exc:
            raise UnknownAgentError(f"{where}: the provider sent to another site ({exc.args[0]})") from None
        except httpx.TooManyRedirects:
            raise UnknownAgentError(f"{where}: too many redirects") from None
        except httpx.TransportError as exc:
            raise VendorDown(f"{where}: cannot reach the provider ({type(exc).__name__})") from None

    def page(self, method: str, url: str, data: dict | None = None) -> Page:
        with self.request(method, url, data) as response:
            body = read_limited(response, MAX_PAGE_BYTES, "page")
            kind, encoding = _media_type(response), _encoding(response, body)
            status, final = response.status_code, response.url
        if kind not in ("text/html", "application/xhtml+xml", ""):
            raise UnknownAgentError(f"{method} {final.path}: a {kind} came instead of a web page")
        logger.debug("portal agent %s: %s %s -> %s", self.spec.id, method, final.path, status)
        page = Page(final, status, LexborHTMLParser(body.decode(encoding, "replace")))
        if self.spec.vendor_down is not None and self.matches(page, self.spec.vendor_down):
            raise VendorDown(f"{page.path}: the provider's maintenance page")
        return page

    def matches(self, page: Page, match: PageMatch) -> bool:
        if match.url and not page.path.startswith(urlsplit(self.resolve(match.url)).path):
            return False
        if match.selector and page.find(match.selector) is None:
            return False
        return not match.text or match.text.casefold() in page.text()


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _encoding(response: httpx.Response, body: bytes) -> str:
    """The page's charset: the Content-Type's, else its <meta charset>, else UTF-8."""
    declared = response.charset_encoding
    if not declared:
        found = re.search(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", body[:4096], re.IGNORECASE)
        declared = found.group(1).decode("ascii") if found else ""
    try:
        return codecs.lookup(declared).name if declared else "utf-8"
    except LookupError:
        return "utf-8"


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def read_limited(response: httpx.Response, limit: int, what: str) -> bytes:
    """The body, refused (UnknownAgentError) past ``limit`` bytes, read no further than that."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UnknownAgentError(f"{response.url.path}: the {what} is larger than {limit} bytes")
    chunks, size = [], 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise UnknownAgentError(f"{response.url.path}: the {what} is larger than {limit} bytes")
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise VendorDown(f"{response.url.path}: the provider stopped answering") from None
    except httpx.TransportError as exc:
        raise VendorDown(f"{response.url.path}: the transfer failed ({type(exc).__name__})") from None
    return b"".join(chunks)


@dataclass(frozen=True)
class _Row:
    remote_id: str
    day: date
    link: str
    amount: Decimal | None
    title: str


class PortalAgent(Agent):
    """An agent whose provider is a ``PortalSpec`` (one YAML file): no code per provider."""

    def __init__(self, spec: PortalSpec):
        self.spec = spec
        self.id = spec.id
        self.name = spec.name
        self.provider = spec.provider
        self.logo = spec.logo
        self.category = spec.category
        self.credential_fields = spec.credential_fields
        self.frequency = spec.frequency
        self.max_concurrent = spec.max_concurrent
        # An English msgid, translated when shown if the catalogs have it (portal_spec.SHIPPED_DESCRIPTIONS).
        self.description = gettext_lazy(spec.description) if spec.description else ""

    @classmethod
    def from_file(cls, path: Path) -> "PortalAgent":
        return cls(load_spec(path))

    def base_url(self) -> str:
        """The site's address: the setting the description names when it is set, else base_url."""
        if self.spec.base_url_setting:
            configured = getattr(settings, self.spec.base_url_setting, "") or ""
            if configured:
                return configured if configured.endswith("/") else configured + "/"
        return self.spec.base_url

    # --- one sync ---

    @contextmanager
    def open_session(self, credentials: dict) -> Iterator[Session]:
        browser = _Browser(self.spec, self.base_url())
        try:
            self._log_in(browser, credentials)
            logger.info("portal agent %s: logged in", self.id)
            yield Session(credentials=dict(credentials), state={"browser": browser})
        finally:
            browser.close()

    def _log_in(self, browser: _Browser, credentials: dict) -> None:
        login = self.spec.login
        missing = [name for name in login.fields.values() if not credentials.get(name)]
        if missing:
            raise LoginFailed(f"the credential {missing[0]!r} is missing")
        page = browser.page("GET", browser.resolve(login.url))
        self._stop_if_asked(browser, page)
        form = page.find(login.form)
        if form is None:
            raise UnknownAgentError(f"login page {page.path}: no form matches {login.form!r}")
        data = {}
        for item in form.css("input[type=hidden]"):
            if item.attributes.get("name"):
                data[item.attributes["name"]] = item.attributes.get("value") or ""
        for name in login.hidden_fields:
            if name not in data:
                raise UnknownAgentError(f"login page {page.path}: the hidden field {name!r} is missing")
        for name in login.fields:
            if form.css_first(f'[name="{_css_string(name)}"]') is None:
                raise UnknownAgentError(f"login page {page.path}: the form has no field {name!r}")
        data.update(login.extra_fields)
        data.update({name: str(credentials[credential]) for name, credential in login.fields.items()})
        action = browser.resolve(form.attributes.get("action") or "", page.url)
        method = (form.attributes.get("method") or "post").upper()
        if method not in ("GET", "POST"):
            raise UnknownAgentError(f"login page {page.path}: the form's method {method!r} is not GET or POST")
        if method == "GET":
            raise UnknownAgentError(f"login page {page.path}: the form sends the credentials in the URL")
        result = browser.page(method, action, data=data)
        if browser.matches(result, login.failure):
            raise LoginFailed(f"the provider refused the login ({result.path})")
        self._stop_if_asked(browser, result)
        if not browser.matches(result, login.success):
            raise UnknownAgentError(
                f"after the login, {result.path} (HTTP {result.status}) is neither the success page "
                "nor a page the description knows"
            )

    def _stop_if_asked(self, browser: _Browser, page: Page) -> None:
        for action, match in self.spec.user_actions.items():
            if browser.matches(page, match):
                raise UserActionNeeded(action, f"the provider shows its {action} page ({page.path})")

    def _checked_page(self, browser: _Browser, url: str) -> Page:
        page = browser.page("GET", url)
        self._stop_if_asked(browser, page)
        login = self.spec.login
        if browser.matches(page, login.failure) or (
            page.find(login.form) is not None
            and any(page.find(f'[name="{_css_string(name)}"]') for name in login.fields)
        ):
            raise UnknownAgentError(f"{page.path}: the provider asked to log in again")
        if page.status >= 400:
            raise UnknownAgentError(f"{page.path}: HTTP {page.status}")
        return page

    def list_documents(self, session: Session, cursor: str) -> Iterator[RemoteDocument]:
        browser: _Browser = session.state["browser"]
        documents = self.spec.documents
        resume = Cursor.parse(cursor)
        found: dict[str, _Row] = {}
        url, visited = browser.resolve(documents.url), set()
        while url and len(visited) < documents.max_pages:
            visited.add(url)
            page = self._checked_page(browser, url)
            container = page.find(documents.container)
            if container is None:
                raise UnknownAgentError(f"documents page {page.path}: {documents.container!r} found nothing")
            rows = [self._row(page, node, index) for index, node in enumerate(container.css(documents.row), 1)]
            for row in rows:
                found.setdefault(row.remote_id, row)
            if documents.order == "newest-first" and rows and not resume.is_new(*min((r.day, r.remote_id) for r in rows)):
                break  # this page reaches what the previous sync saw: older pages hold nothing new
            url = ""
            if documents.next_page:
                link = page.find(documents.next_page)
                href = link.attributes.get("href") if link is not None else ""
                if href and browser.resolve(href, page.url) not in visited:
                    url = browser.resolve(href, page.url)
        position = resume
        for row in sorted(found.values(), key=lambda item: (item.day, item.remote_id)):
            if not resume.is_new(row.day, row.remote_id):
                continue
            position = position.after(row.day, row.remote_id)
            yield RemoteDocument(
                remote_id=row.remote_id,
                cursor=position.encode(),
                title=row.title or f"{self.name} {row.day.isoformat()}",
                issued_on=row.day,
                amount=row.amount,
                currency=documents.currency if row.amount is not None else "",
                details={"url": row.link},
            )

    def _row(self, page: Page, node: LexborNode, index: int) -> _Row:
        documents = self.spec.documents
        where = f"documents page {page.path}, row {index}"

        def value(name: str, spec: FieldSpec | None) -> str:
            if spec is None:
                return ""
            found = _extract(node, spec)
            if not found and spec.required:
                what = spec.selector or "the row"
                detail = f"attribute {spec.attribute!r} of " if spec.attribute else ""
                raise UnknownAgentError(f"{where}: {name} ({detail}{what!r}) found nothing")
            return found

        remote_id = value("remote_id", documents.remote_id)
        day_text = value("date", documents.date)
        try:
            day = datetime.strptime(day_text, documents.date.format).date()
        except ValueError:
            raise UnknownAgentError(f"{where}: the date does not read as {documents.date.format!r}") from None
        amount = None
        amount_text = value("amount", documents.amount)
        if amount_text:
            try:
                amount = parse_amount(amount_text, documents.amount.decimal)
            except ValueError:
                raise UnknownAgentError(f"{where}: the amount does not read as a number "
                                        f"(decimal {documents.amount.decimal})") from None
        link = value("link", documents.link)
        return _Row(remote_id, day, urljoin(str(page.url), link), amount, value("title", documents.title))

    def download(self, session: Session, document: RemoteDocument) -> FetchedDocument:
        browser: _Browser = session.state["browser"]
        url = document.details.get("url", "")
        if not url:
            raise UnknownAgentError(f"document {document.remote_id}: the listing gave no download link")
        expected = self.spec.media_type
        with browser.request("GET", url) as response:
            path, status, kind = response.url.path, response.status_code, _media_type(response)
            if kind in ("text/html", "application/xhtml+xml"):
                html = read_limited(response, MAX_PAGE_BYTES, "page")
                page = Page(response.url, status, LexborHTMLParser(html.decode("utf-8", "replace")))
                self._stop_if_asked(browser, page)
                raise UnknownAgentError(f"download {path}: a web page (HTTP {status}) came instead of {expected}")
            if status >= 400:
                raise UnknownAgentError(f"download {path}: HTTP {status}")
            content = read_limited(response, self.spec.max_bytes, "document")
            file_name = _file_name(response, document.remote_id, expected)
        if not content.startswith(MAGIC[expected]):
            raise UnknownAgentError(f"download {path}: the file is not a {expected} (its first bytes)")
        issued_at = None
        if document.issued_on is not None:
            issued_at = datetime.combine(document.issued_on, time(12), tzinfo=timezone.get_default_timezone())
        details = {"remote_id": document.remote_id}
        if document.amount is not None:
            details.update(amount=str(document.amount), currency=document.currency)
        return FetchedDocument(
            files=(RemoteFile(file_name, expected, content),),
            subject=document.title,
            sender_name=self.provider,
            issued_at=issued_at,
            details=details,
        )


def _extract(node: LexborNode, spec: FieldSpec) -> str:
    target = node.css_first(spec.selector) if spec.selector else node
    if target is None:
        return ""
    if spec.attribute:
        raw = target.attributes.get(spec.attribute) or ""
    else:
        raw = target.text(separator=" ")
    raw = " ".join(raw.split())
    if spec.pattern is not None:
        found = spec.pattern.search(raw)
        if found is None:
            return ""
        raw = found.group(1) if spec.pattern.groups else found.group(0)
    return raw.strip()


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


def _file_name(response: httpx.Response, remote_id: str, media_type: str) -> str:
    """The name the provider gives (Content-Disposition, else the URL's last segment), made safe."""
    disposition = response.headers.get("content-disposition", "")
    found = re.search(r"filename\*\s*=\s*UTF-8''([^;]+)", disposition, re.IGNORECASE) or re.search(
        r'filename\s*=\s*"?([^";]+)"?', disposition, re.IGNORECASE
    )
    name = unquote(found.group(1)) if found else unquote(response.url.path.rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "_", name.rsplit("/", 1)[-1]).strip(" ._")[:120]
    extension = _EXTENSIONS[media_type]
    if not name:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", remote_id)[:100] or "document"
    if not name.lower().endswith(extension):
        name += extension
    return name


def portal_agent(agent_id: str) -> PortalAgent:
    """The agent described by ``portals/<agent_id>.yaml`` (for the catalog)."""
    return PortalAgent.from_file(PORTALS_DIR / f"{agent_id}.yaml")
