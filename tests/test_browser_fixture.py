"""The browser fixture itself (coffre.testing.browser): what it records, what it lets through, and
that a browser test fails on what it recorded."""

import types

import pytest

from coffre.testing import browser as browser_module
from coffre.testing.browser import Pages

INLINE_SCRIPT_PAGE = "<!DOCTYPE html><title>t</title><script>document.title = 'ran';</script><p>page</p>"


def fake_site(tab, html: str, csp: str = "default-src 'self'; script-src 'self'") -> None:
    """Answer every request of the tab with ``html`` under ``csp`` (no server needed)."""
    tab.page.route(
        "http://coffre.test/**",
        lambda route: route.fulfill(
            status=200, body=html, headers={"Content-Type": "text/html", "Content-Security-Policy": csp}
        ),
    )


def test_a_csp_violation_is_recorded(open_page):
    tab = open_page("http://coffre.test", name="visitor")
    fake_site(tab, INLINE_SCRIPT_PAGE)
    tab.go("/")
    tab.until(lambda: tab.problems, "the violation to be reported")
    assert tab.page.title() == "t"  # the inline script did not run
    assert any("Content-Security-Policy violation: script-src" in problem for problem in tab.problems)
    assert any(
        "console error" in problem and "Content Security Policy" in problem for problem in tab.problems
    )
    tab.problems.clear()  # recorded as it should: this test passes


def test_console_errors_and_uncaught_exceptions_are_recorded(open_page):
    tab = open_page("http://coffre.test", name="visitor")
    fake_site(tab, "<!DOCTYPE html><title>t</title><p>page</p>")
    tab.go("/")
    tab.page.evaluate("console.error('something broke')")
    tab.page.evaluate("setTimeout(() => { throw new Error('boom'); }, 0)")
    tab.until(lambda: len(tab.problems) >= 2, "both problems")
    assert any("something broke" in problem for problem in tab.problems)
    assert any("uncaught exception" in problem and "boom" in problem for problem in tab.problems)
    tab.problems.clear()


def test_an_announced_error_status_is_not_a_problem_and_an_unannounced_one_is(open_page):
    tab = open_page("http://coffre.test", name="visitor")

    def answer(route):
        status = 403 if route.request.url.endswith("/forbidden/") else 404
        route.fulfill(
            status=status, body="<!DOCTYPE html><title>no</title><p>no</p>", content_type="text/html"
        )

    tab.page.route("http://coffre.test/**", answer)
    tab.go("/forbidden/", status=403)
    tab.page.goto("http://coffre.test/elsewhere/")
    tab.until(lambda: tab.problems, "the unexpected 404 to be reported")
    # Chromium reports in order: the 403's line, had it been kept, would be there before the 404's.
    assert len(tab.problems) == 1 and "status of 404" in tab.problems[0]
    assert "/elsewhere/" in tab.problems[0]
    tab.problems.clear()


def test_each_person_gets_a_context_of_their_own(open_page):
    one, two = open_page("http://coffre.test", name="one"), open_page("http://coffre.test", name="two")
    assert one.context is not two.context
    one.context.add_cookies([{"name": "sessionid", "value": "x", "url": "http://coffre.test"}])
    assert two.context.cookies() == []
    assert one.page.viewport_size == {"width": 1280, "height": 800}


def test_a_browser_test_fails_on_what_its_pages_recorded():
    pages = Pages(browser=None)
    pages.opened.append(types.SimpleNamespace(name="alice", problems=["console error at /: boom"]))
    item = types.SimpleNamespace(funcargs={"open_page": pages})
    check = browser_module.pytest_runtest_call(item)
    next(check)  # the test runs here
    with pytest.raises(AssertionError, match="alice: console error at /: boom"):
        check.send(None)


def test_a_clean_browser_test_passes():
    item = types.SimpleNamespace(funcargs={"open_page": Pages(browser=None)})
    check = browser_module.pytest_runtest_call(item)
    next(check)
    with pytest.raises(StopIteration):
        check.send("the test's outcome")


def test_without_chromium_the_message_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(browser_module, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(browser_module.ChromiumMissing):
        browser_module.launch_chromium(playwright=None)
    assert "run make test, it installs Debian's chromium" in browser_module.MISSING_CHROMIUM
