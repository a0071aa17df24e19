"""The one way Coffre's tests (and ``scripts/screenshots.py``) drive a browser: Debian's
``chromium`` through Playwright for Python.

Playwright cannot download its own browsers here (``playwright install`` fails), so it starts
``/usr/bin/chromium`` (``make test`` installs Debian's package) with the flags of
``CHROMIUM_ARGS``: headless, no sandbox (containers), no GPU, and none of the background traffic
Chromium starts by itself (QUIC, component updates, sync, first-run pages), which the tests'
network guard would not see (Chromium is a subprocess) and which has nothing to do with the test.
``COFFRE_CHROMIUM`` names another Chromium binary.

Fixtures (a pytest plugin, registered by the repository's conftest.py):

``browser``
    A Chromium launched for the test and closed after it. Fails (never skips) with a clear
    message when Chromium is missing.
``open_page``
    ``open_page(base_url, locale="en-GB") -> BrowserPage``: a *fresh browser context* (its own
    cookies: one person) and a page in it. Call it once per person of the scenario. Every page
    records console errors, uncaught exceptions and Content-Security-Policy violations, and the
    test FAILS when any page recorded one, unless the test announced it (``go(path, status=403)``
    announces the browser's "Failed to load resource" line of that page).

Playwright's sync API runs an event loop in the test's thread, where Django refuses database calls
unless ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set: the ``browser`` fixture sets it for the test (the loop
only drives the browser; the test touches the database while the browser waits). The ORM calls
made meanwhile get connections of their own (asgiref's Local follows the loop's context): they are
closed after the test, or PostgreSQL would keep the test database busy.
"""

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Response, sync_playwright

CHROMIUM = os.environ.get("COFFRE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING_CHROMIUM = (
    f"Chromium is not installed at {CHROMIUM} (the browser tests drive Debian's chromium package): "
    "run make test, it installs Debian's chromium (scripts/ensure-debian-packages.sh chromium)."
)
WAIT_SECONDS = 30  # an upper bound for the browser to get somewhere, not a measured time
VIEWPORT = {"width": 1280, "height": 800}

# What Chromium logs for a page or resource answered with an error status.
_FAILED_LOAD = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})")
# Reports CSP violations to the test (Playwright injects it before any script of the page, and the
# page's CSP does not apply to it).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__coffreCspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline code"} in ${event.documentURI}`
  );
});
"""


class ChromiumMissing(RuntimeError):
    pass


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, as every browser test and the screenshot script start it."""
    if not Path(CHROMIUM).is_file():
        raise ChromiumMissing(MISSING_CHROMIUM)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


class BrowserPage:
    """A person's browser tab: the Playwright ``page`` and what it complained about.

    ``problems`` collects console errors, uncaught exceptions and CSP violations, with the URL of
    the page or resource concerned. ``go(path, status=...)`` opens a page of ``base_url`` and
    checks its status; an error status announced this way is expected, so the console line that
    Chromium writes for it is not a problem.
    """

    def __init__(self, context: BrowserContext, base_url: str, name: str):
        self.context = context
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.problems: list[str] = []
        self._expected_failures: set[tuple[str, int]] = set()
        context.expose_function("__coffreCspViolation", self._csp_violation)
        context.add_init_script(_CSP_LISTENER)
        self.page: Page = context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))

    # --- what the page says ----------------------------------------------------------------------

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        failed = _FAILED_LOAD.match(message.text)
        if failed and (url, int(failed.group(1))) in self._expected_failures:
            return
        self.problems.append(f"console error at {url or self.page.url}: {message.text}")

    def _csp_violation(self, text: str) -> None:
        self.problems.append(f"Content-Security-Policy violation: {text}")

    def expect_failure(self, path: str, status: int) -> None:
        """The test knows that ``path`` answers ``status`` (e.g. a 403 page it checks)."""
        self._expected_failures.add((self.url(path), status))

    # --- moving around ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else urljoin(self.base_url + "/", path)

    def go(self, path: str, *, status: int = 200) -> Response:
        """Open ``path`` (relative to ``base_url``, or a full URL) and check the answer's status."""
        url = self.url(path)
        if status >= 400:
            self.expect_failure(url, status)
        response = self.page.goto(url)
        assert response is not None, f"no response for {url}"
        assert response.status == status, f"{self.name}: {url} answered {response.status}, not {status}"
        return response

    def path(self) -> str:
        """The current URL without scheme and host."""
        current = self.page.url
        return current.removeprefix(self.base_url)

    def until(self, condition: Callable[[], bool], what: str) -> None:
        """Wait for ``condition`` while the browser goes on (``wait_for_timeout`` lets Playwright
        handle the browser's events; ``time.sleep`` would freeze them)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: still waiting for {what}")
            self.page.wait_for_timeout(100)

    def text(self) -> str:
        return self.page.locator("main").inner_text()

    def csrf_token(self) -> str:
        """The CSRF token of a form of the current page (for a request the UI would not make)."""
        return self.page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")

    def post(self, path: str, form: dict[str, str]):
        """POST a form with the person's cookies, as a forged request (the UI offers no such button)."""
        return self.context.request.post(
            self.url(path),
            form={"csrfmiddlewaretoken": self.csrf_token(), **form},
            headers={"Referer": self.page.url},
            max_redirects=0,
        )


class Pages:
    """The pages opened by one test (``open_page``); checked after the test, closed at teardown."""

    def __init__(self, browser: Browser):
        self.browser = browser
        self.opened: list[BrowserPage] = []

    def __call__(self, base_url: str, *, locale: str = "en-GB", name: str = "") -> BrowserPage:
        context = self.browser.new_context(locale=locale, viewport=VIEWPORT, accept_downloads=True)
        page = BrowserPage(context, base_url, name or f"page {len(self.opened) + 1}")
        self.opened.append(page)
        return page

    def problems(self) -> list[str]:
        return [f"{page.name}: {problem}" for page in self.opened for problem in page.problems]

    def close(self) -> None:
        for page in self.opened:
            page.context.close()


@pytest.fixture
def browser(monkeypatch) -> Iterator[Browser]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).is_file():
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
            # Inside the loop's context: the connections the test's ORM calls opened there.
            connections.close_all()


@pytest.fixture
def open_page(browser) -> Iterator[Pages]:
    pages = Pages(browser)
    try:
        yield pages
    finally:
        pages.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a browser test's own checks passed: fail it if a page logged an error or broke the CSP."""
    outcome = yield
    pages = getattr(item, "funcargs", {}).get("open_page")
    if isinstance(pages, Pages):
        problems = pages.problems()
        if problems:
            raise AssertionError(
                "the browser reported problems (console errors, exceptions, CSP violations):\n  "
                + "\n  ".join(problems)
            )
    return outcome
