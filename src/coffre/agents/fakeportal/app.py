"""The fake provider portal's pages: "Énergie Demo", a customer area with a login and paginated bills.

A plain WSGI application (``FakePortal(state)`` is callable as one), with no Django in it, so that
tests serve it from a thread (``coffre.agents.fakeportal.server``) and the demo mounts it in
Coffre (``coffre.agents.fakeportal.views``, under /demo-portal/). Its pages are what a simple real
portal has: a login form with a hidden anti-forgery token and a session cookie, the pages that
stop a login (expired password, new terms, two-factor code), a "maintenance" 503, and the bills,
10 a page, newest first, amounts in the Belgian format ("1.234,56 €"), each a real small PDF.

Sessions are signed cookies (HMAC with the state's secret), so that the portal keeps nothing per
visitor and any number of web workers can serve it. It must never serve anything but its own
fake data; it is the demo's and the tests', never a production page.
"""

import base64
import hashlib
import hmac
import html
import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from coffre.agents.fakeportal.state import DEMO_ACCOUNTS, DEMO_PASSWORD, Account, Bill, PortalState
from coffre.demo.pdf import simple_pdf

PAGE_SIZE = 10
MAX_FORM_BYTES = 64 * 1024
SESSION_COOKIE = "fp_session"
FORM_COOKIE = "fp_form"
# Where a login in each mode leads (the session's stage), and the page of each stage.
STAGE_OF_MODE = {"expired-password": "expired-password", "terms": "terms", "two-factor": "two-factor"}
STAGE_PAGES = {
    "expired-password": "/account/password-expired",
    "terms": "/account/terms",
    "two-factor": "/login/two-factor",
}
TWO_FACTOR_CODE = "000000"  # the code the demo's two-factor page accepts (a person types it)
REASONS = {200: "OK", 303: "See Other", 302: "Found", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 413: "Payload Too Large", 503: "Service Unavailable"}


@dataclass
class PortalRequest:
    method: str
    path: str  # inside the portal, starting with "/"
    root: str = ""  # where the portal is mounted ("" or "/demo-portal"), no trailing slash
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str
    path: str
    max_age: int | None = None  # 0 removes it

    def header(self) -> str:
        expiry = f"; Max-Age={self.max_age}" if self.max_age is not None else ""
        return f"{self.name}={self.value}; Path={self.path}{expiry}; HttpOnly; SameSite=Lax"


@dataclass
class PortalResponse:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    cookies: list[Cookie] = field(default_factory=list)


def belgian_amount(amount: Decimal) -> str:
    """1234.56 -> "1.234,56 €" (a no-break space before the euro sign, as Belgian sites write it)."""
    text = f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{text}\u00a0€"


def bill_pdf(account: Account, bill: Bill) -> bytes:
    return simple_pdf(
        [
            "Energie Demo SA - Rue de la Demo 1, 1000 Bruxelles",
            f"{bill.title} - {bill.id}",
            f"Date : {bill.date.strftime('%d/%m/%Y')}",
            f"Montant : {belgian_amount(Decimal(bill.amount)).replace(chr(0xa0) + '€', ' EUR')}",
            f"Client : {account.login}",
        ]
    )


class FakePortal:
    """The portal: ``handle(PortalRequest) -> PortalResponse``, and a WSGI application."""

    def __init__(self, state: PortalState):
        self.state = state
        # What was asked, e.g. "GET /account/bills?page=2" (paths and page numbers only): the tests
        # read it to see how far an agent walked.
        self.requests: deque[str] = deque(maxlen=10000)

    # --- WSGI ---

    def __call__(self, environ, start_response):
        response = self.handle(request_from_environ(environ))
        reason = REASONS.get(response.status, "OK")
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(response.body)))]
        cookies = [("Set-Cookie", item.header()) for item in response.cookies]
        start_response(f"{response.status} {reason}", headers + response.headers + cookies)
        return [response.body]

    # --- routing ---

    def handle(self, request: PortalRequest) -> PortalResponse:
        page = f"?page={request.query['page']}" if "page" in request.query else ""
        self.requests.append(f"{request.method} {request.path}{page}")
        if self.state.is_in_maintenance():
            return self._maintenance()
        path = request.path.rstrip("/") or "/"
        if path == "/":
            return self._home(request)
        if path == "/login":
            return self._login(request)
        if path == "/logout":
            return self._redirect(request, "/login", cookies=[_expired_cookie(request, SESSION_COOKIE)])
        account, stage = self._session(request)
        if account is None:
            return self._redirect(request, "/login")
        if account.mode == "maintenance":
            return self._maintenance()
        if path == "/login/two-factor":
            return self._two_factor(request, account, stage)
        if stage != "in":
            if path == STAGE_PAGES[stage]:
                return self._stage_page(request, account, stage)
            return self._redirect(request, STAGE_PAGES[stage])
        if path == "/account/bills":
            return self._bills(request, account)
        if path == "/account/bills/new" and request.method == "POST":
            return self._new_bill(request, account)
        if path.startswith("/account/bills/") and path.endswith(".pdf"):
            return self._bill_pdf(account, path.removeprefix("/account/bills/").removesuffix(".pdf"))
        if path in STAGE_PAGES.values():
            return self._redirect(request, "/account/bills")
        return self._page(request, "Page introuvable", "<p>Cette page n'existe pas.</p>", status=404)

    # --- sessions and tokens ---

    def _sign(self, text: str) -> str:
        return hmac.new(self.state.secret, text.encode(), hashlib.sha256).hexdigest()[:32]

    def _session_cookie(self, request: PortalRequest, login: str, stage: str) -> Cookie:
        payload = base64.urlsafe_b64encode(json.dumps({"l": login, "s": stage}).encode()).decode()
        value = f"{payload}.{self._sign('session:' + payload)}"
        return _cookie(request, SESSION_COOKIE, value)

    def _session(self, request: PortalRequest) -> tuple[Account | None, str]:
        payload, _, signature = request.cookies.get(SESSION_COOKIE, "").partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign("session:" + payload)):
            return None, ""
        try:
            data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        except ValueError:
            return None, ""
        account = self.state.account(data.get("l", ""))
        stage = data.get("s", "")
        if account is None or stage not in ("in", *STAGE_PAGES):
            return None, ""
        return account, stage

    def _form_token(self, seed: str) -> str:
        return self._sign("form:" + seed)

    def _token_ok(self, request: PortalRequest, seed: str) -> bool:
        return bool(seed) and hmac.compare_digest(request.form.get("csrf_token", ""), self._form_token(seed))

    # --- pages ---

    def _home(self, request: PortalRequest) -> PortalResponse:
        body = (
            "<p>Bienvenue dans l'espace client d'Énergie Demo, un fournisseur fictif : "
            "ce portail sert la démonstration et les tests des agents de Coffre.</p>"
            f'<p><a href="{_url(request, "/login")}">Se connecter</a></p>'
        )
        if self.state.show_demo_accounts:
            rows = "".join(
                f"<tr><td>{html.escape(login)}</td><td>{html.escape(mode)}</td><td>{count}</td></tr>"
                for login, mode, count in DEMO_ACCOUNTS
            )
            body += (
                f"<h2>Comptes de démonstration (mot de passe « {DEMO_PASSWORD} »)</h2>"
                '<table id="demo-accounts"><thead><tr><th scope="col">Identifiant</th>'
                '<th scope="col">Comportement</th><th scope="col">Factures</th></tr></thead>'
                f"<tbody>{rows}</tbody></table>"
            )
        return self._page(request, "Énergie Demo", body)

    def _login_form(self, request: PortalRequest, error: str = "", status: int = 200,
                    kind: str = "login-error") -> PortalResponse:
        nonce = secrets.token_urlsafe(16)
        alert = f'<p class="{kind}" role="alert">{html.escape(error)}</p>' if error else ""
        body = (
            f"{alert}"
            f'<form id="login" method="post" action="{_url(request, "/login")}">'
            f'<input type="hidden" name="csrf_token" value="{self._form_token(nonce)}">'
            '<p><label for="username">Identifiant</label> '
            '<input id="username" name="username" type="text" autocomplete="username" required></p>'
            '<p><label for="password">Mot de passe</label> '
            '<input id="password" name="password" type="password" autocomplete="current-password" '
            "required></p>"
            '<p><button type="submit">Se connecter</button></p></form>'
        )
        return self._page(request, "Connexion", body, status=status,
                          cookies=[_cookie(request, FORM_COOKIE, nonce)])

    def _login(self, request: PortalRequest) -> PortalResponse:
        if request.method != "POST":
            return self._login_form(request)
        if not self._token_ok(request, request.cookies.get(FORM_COOKIE, "")):
            return self._login_form(request, "Le formulaire a expiré, veuillez réessayer.", status=403,
                                    kind="form-error")
        account = self.state.account(request.form.get("username", ""))
        if account is not None and account.mode == "maintenance":
            return self._maintenance()
        password = request.form.get("password", "")
        if (
            account is None
            or account.mode == "wrong-password"
            or not hmac.compare_digest(password.encode(), account.password.encode())
        ):
            return self._login_form(request, "Identifiant ou mot de passe incorrect.")
        stage = STAGE_OF_MODE.get(account.mode, "in")
        target = STAGE_PAGES.get(stage, "/account/bills")
        cookies = [self._session_cookie(request, account.login, stage), _expired_cookie(request, FORM_COOKIE)]
        return self._redirect(request, target, cookies=cookies)

    def _two_factor(self, request: PortalRequest, account: Account, stage: str) -> PortalResponse:
        if stage != "two-factor":
            return self._redirect(request, "/account/bills")
        seed = request.cookies.get(SESSION_COOKIE, "")
        posted = request.method == "POST" and self._token_ok(request, seed)
        if posted and request.form.get("code") == TWO_FACTOR_CODE:
            return self._redirect(request, "/account/bills",
                                  cookies=[self._session_cookie(request, account.login, "in")])
        return self._stage_page(request, account, stage)

    def _stage_page(self, request: PortalRequest, account: Account, stage: str) -> PortalResponse:
        seed = request.cookies.get(SESSION_COOKIE, "")
        if request.method == "POST" and stage != "two-factor" and self._token_ok(request, seed):
            if stage == "terms":
                self.state.set_mode(account.login, "ok")
            elif stage == "expired-password" and request.form.get("new_password"):
                self.state.set_password(account.login, request.form["new_password"])
                self.state.set_mode(account.login, "ok")
            return self._redirect(request, "/account/bills",
                                  cookies=[self._session_cookie(request, account.login, "in")])
        token = f'<input type="hidden" name="csrf_token" value="{self._form_token(seed)}">'
        action = _url(request, STAGE_PAGES[stage])
        if stage == "terms":
            title = "Nouvelles conditions générales"
            form = (f'<form id="accept-terms" method="post" action="{action}">{token}'
                    '<p>Nos conditions générales ont changé. Veuillez les lire et les accepter.</p>'
                    '<p><button type="submit">J\'accepte</button></p></form>')
        elif stage == "expired-password":
            title = "Mot de passe expiré"
            form = (f'<form id="change-password" method="post" action="{action}">{token}'
                    "<p>Votre mot de passe a expiré. Choisissez-en un nouveau.</p>"
                    '<p><label for="new_password">Nouveau mot de passe</label> '
                    '<input id="new_password" name="new_password" type="password" required></p>'
                    '<p><button type="submit">Changer</button></p></form>')
        else:
            title = "Vérification en deux étapes"
            form = (f'<form id="two-factor" method="post" action="{action}">{token}'
                    "<p>Saisissez le code reçu par SMS (démo : 000000).</p>"
                    '<p><label for="code">Code</label> '
                    '<input id="code" name="code" inputmode="numeric" required></p>'
                    '<p><button type="submit">Vérifier</button></p></form>')
        return self._page(request, title, form)

    def _bills(self, request: PortalRequest, account: Account) -> PortalResponse:
        bills = sorted(account.bills, key=lambda item: (item.issued_on, item.id), reverse=True)
        pages = max(1, -(-len(bills) // PAGE_SIZE))
        try:
            number = max(1, int(request.query.get("page", "1")))
        except ValueError:
            number = 1
        shown = bills[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        if account.mode == "changed-layout":
            listing = self._bills_as_cards(request, shown)
        else:
            listing = self._bills_as_table(request, shown)
        links = []
        if number > 1:
            links.append(f'<a rel="prev" href="{_url(request, "/account/bills")}?page={number - 1}">Précédent</a>')
        links.append(f"<span>Page {number} / {pages}</span>")
        if number < pages:
            links.append(f'<a rel="next" href="{_url(request, "/account/bills")}?page={number + 1}">Suivant</a>')
        seed = request.cookies.get(SESSION_COOKIE, "")
        body = (
            f'{listing}<nav class="pagination" aria-label="Pages">{" ".join(links)}</nav>'
            f'<form id="new-bill" method="post" action="{_url(request, "/account/bills/new")}">'
            f'<input type="hidden" name="csrf_token" value="{self._form_token(seed)}">'
            '<p><button type="submit">Publier une nouvelle facture (démonstration)</button></p></form>'
        )
        return self._page(request, "Mes factures", body, account=account)

    @staticmethod
    def _bills_as_table(request: PortalRequest, bills: list[Bill]) -> str:
        rows = "".join(
            f'<tr class="bill" data-id="{html.escape(bill.id)}">'
            f'<td class="date">{bill.date.strftime("%d/%m/%Y")}</td>'
            f'<td class="title">{html.escape(bill.title)}</td>'
            f'<td class="amount">{belgian_amount(Decimal(bill.amount))}</td>'
            f'<td><a class="download" href="{_url(request, "/account/bills/" + bill.id + ".pdf")}">'
            "Télécharger</a></td></tr>"
            for bill in bills
        )
        return (
            '<table id="bills"><thead><tr><th scope="col">Date</th><th scope="col">Facture</th>'
            '<th scope="col">Montant</th><th scope="col">Document</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )

    @staticmethod
    def _bills_as_cards(request: PortalRequest, bills: list[Bill]) -> str:
        # The "new site" of a provider: the same facts, another markup.
        cards = "".join(
            f'<article class="invoice"><h2>{html.escape(bill.title)}</h2>'
            f"<p>{bill.date.isoformat()} · {belgian_amount(Decimal(bill.amount))}</p>"
            f'<a href="{_url(request, "/account/bills/" + bill.id + ".pdf")}">PDF</a></article>'
            for bill in bills
        )
        return f'<div class="invoice-list">{cards}</div>'

    def _new_bill(self, request: PortalRequest, account: Account) -> PortalResponse:
        if self._token_ok(request, request.cookies.get(SESSION_COOKIE, "")):
            self.state.add_bill(account.login, issued_on=max(date.today(), *(b.date for b in account.bills)))
        return self._redirect(request, "/account/bills")

    def _bill_pdf(self, account: Account, bill_id: str) -> PortalResponse:
        bill = account.bill(bill_id)
        if bill is None:
            return PortalResponse(404, b"Not found", "text/plain; charset=utf-8")
        headers = [("Content-Disposition", f'attachment; filename="facture-{bill.id}.pdf"')]
        return PortalResponse(200, bill_pdf(account, bill), "application/pdf", headers)

    # --- responses ---

    @staticmethod
    def _maintenance() -> PortalResponse:
        body = ("<!doctype html><html lang=\"fr\"><head><title>Maintenance</title></head><body>"
                "<h1>Maintenance en cours</h1><p>Notre espace client revient bientôt.</p></body></html>")
        return PortalResponse(503, body.encode(), headers=[("Retry-After", "3600")])

    @staticmethod
    def _redirect(request: PortalRequest, path: str, cookies: list[Cookie] = ()) -> PortalResponse:
        headers = [("Location", _url(request, path))]
        return PortalResponse(303 if request.method == "POST" else 302, b"", headers=headers, cookies=list(cookies))

    @staticmethod
    def _page(request: PortalRequest, title: str, body: str, *, status: int = 200,
              account: Account | None = None, cookies: list[Cookie] = ()) -> PortalResponse:
        user = ""
        if account is not None:
            user = (f'<form id="logout" method="post" action="{_url(request, "/logout")}">'
                    '<button type="submit">Se déconnecter</button></form>')
        page = (
            '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)} – Énergie Demo</title></head><body>"
            f'<header><p><a href="{_url(request, "/")}">Énergie Demo</a> — espace client</p>{user}</header>'
            f"<main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
        )
        return PortalResponse(status, page.encode(), cookies=list(cookies))


def _url(request: PortalRequest, path: str) -> str:
    return f"{request.root}{path}"


def _cookie(request: PortalRequest, name: str, value: str) -> Cookie:
    return Cookie(name, value, f"{request.root}/")


def _expired_cookie(request: PortalRequest, name: str) -> Cookie:
    return Cookie(name, "", f"{request.root}/", max_age=0)


def request_from_environ(environ) -> PortalRequest:
    """A WSGI environ as a PortalRequest (forms over 64 KiB are read no further)."""
    query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    form = {}
    if environ.get("REQUEST_METHOD") == "POST":
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_FORM_BYTES)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else ""
        form = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
    cookies = {}
    jar = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except CookieError:  # a malformed Cookie header is ignored
        jar = SimpleCookie()
    for name, morsel in jar.items():
        cookies[name] = morsel.value
    return PortalRequest(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=environ.get("PATH_INFO", "/") or "/",
        root=environ.get("SCRIPT_NAME", "").rstrip("/"),
        query=query,
        form=form,
        cookies=cookies,
    )
