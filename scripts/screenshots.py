#!/usr/bin/env python3
"""Regenerate the portal's screenshots (docs/screenshots/*.png, 1280x800) with the demo data.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Everything happens in a temporary var dir (./var is never touched): ``coffre migrate``,
``collectstatic`` and ``demo``, then the production server (gunicorn) on a free port of 127.0.0.1.
Headless Chromium (Debian's, as the browser tests drive it: coffre.testing.browser) signs in as the
demo's principal access manager with the code her authenticator app would show, switches the
portal to English, sets an anti-phishing phrase and asks for a new notification address through
the e-Box management page (so that it shows its states), reads a message with payment data, and
captures:

- ``mailbox-list.png``: the bakery's messages (read and unread);
- ``mailbox-message.png``: a message with its details and payment data, and
  ``mailbox-preview.png``: its documents and the inline preview of its PDF;
- ``ebox-management.png``: the e-Box management page (verified address, a change waiting for
  confirmation, the anti-phishing phrase);
- ``people.png``: people and roles, with the invitation form;
- ``person-menu.png``: the person's menu, open, over their settings.

The script fails when a page logs an error or breaks the Content-Security-Policy.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from django_otp.oath import totp
from playwright.sync_api import sync_playwright

from coffre.testing.browser import Pages, launch_chromium
from coffre.testing.live import free_port, stop_process, wait_for_http

BAKERY = "0456789034"
PAYMENT_NOTICE = "Avis de paiement des cotisations trimestrielles"


def coffre(env: dict, *args: str) -> str:
    command = [str(Path(sys.executable).parent / "coffre"), *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def code_of(key_hex: str) -> str:
    return str(totp(bytes.fromhex(key_hex), step=30, t0=0, digits=6)).zfill(6)


def capture(base_url: str, var_dir: Path, out: Path) -> None:
    summary = json.loads((var_dir / "demo" / "credentials.json").read_text())
    principal = next(person for person in summary["people"] if person["role"] == "principal")
    key = json.loads((var_dir / "demo" / "people.json").read_text())[principal["email"]]["totp_key"]
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        pages = Pages(browser)
        tab = pages(base_url, name="Marie Dupont")
        page = tab.page
        try:
            tab.go("/accounts/login/")
            page.locator("main").get_by_label("E-mail address").fill(principal["email"])
            page.locator("main").get_by_label("Password").fill(principal["password"])
            page.locator("main").get_by_role("button").first.click()
            page.locator("main").get_by_label("Code").fill(code_of(key))
            page.locator("main").get_by_role("button").first.click()
            page.wait_for_url(f"**/e/{BAKERY}/")
            page.locator("#language-select").select_option("en")
            page.locator("form.language-switch button").click()
            page.wait_for_load_state()

            tab.go(f"/e/{BAKERY}/management/")
            page.get_by_role("textbox", name="Anti-phishing phrase").fill("Croissant au beurre")
            page.get_by_role("button", name="Save the phrase").click()
            page.wait_for_load_state()
            page.get_by_label("New notification e-mail address").fill("compta@boulangerie-dupont.example")
            page.get_by_role("button", name="Send a confirmation link").click()
            page.wait_for_load_state()
            tab.go(f"/e/{BAKERY}/management/")
            page.screenshot(path=out / "ebox-management.png")

            tab.go(f"/e/{BAKERY}/")
            page.get_by_role("link", name=PAYMENT_NOTICE).click()
            page.wait_for_load_state()
            tab.until(
                lambda: any(f.url.startswith("chrome-extension://") for f in page.frames), "the PDF viewer"
            )
            page.reload()  # now read
            tab.until(
                lambda: any(f.url.startswith("chrome-extension://") for f in page.frames), "the PDF viewer"
            )
            page.wait_for_timeout(500)  # let the viewer paint its first page
            page.screenshot(path=out / "mailbox-message.png")
            page.locator("#attachments-heading").evaluate("heading => heading.scrollIntoView()")
            page.screenshot(path=out / "mailbox-preview.png")

            tab.go(f"/e/{BAKERY}/")
            page.screenshot(path=out / "mailbox-list.png")

            tab.go(f"/accounts/e/{BAKERY}/people/")
            page.screenshot(path=out / "people.png")

            tab.go("/accounts/settings/")
            page.get_by_role("navigation", name="Your account").locator("summary").click()
            page.screenshot(path=out / "person-menu.png")
        finally:
            pages.close()
            browser.close()
    if tab.problems:
        raise SystemExit("the browser reported problems:\n  " + "\n  ".join(tab.problems))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    var_dir = Path(tempfile.mkdtemp(prefix="coffre-screenshots-"))
    port = free_port()
    env = {
        **os.environ,
        "COFFRE_VAR_DIR": str(var_dir),
        "COFFRE_BIND": f"127.0.0.1:{port}",
        "COFFRE_WEB_WORKERS": "1",
        "DJANGO_SETTINGS_MODULE": "coffre.settings",
    }
    for name in ("DATABASE_URL", "COFFRE_BASE_URL", "COFFRE_SMTP_HOST"):
        env.pop(name, None)
    server = None
    try:
        coffre(env, "migrate", "--noinput")
        coffre(env, "collectstatic", "--noinput")
        coffre(env, "demo")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "python:coffre.gunicorn_conf",
                "coffre.wsgi:application",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_http("127.0.0.1", port, process=server)
        capture(f"http://127.0.0.1:{port}", var_dir, args.out)
    finally:
        if server is not None:
            stop_process(server)
        shutil.rmtree(var_dir, ignore_errors=True)
    for name in (
        "mailbox-list",
        "mailbox-message",
        "mailbox-preview",
        "ebox-management",
        "people",
        "person-menu",
    ):
        print(args.out / f"{name}.png")


if __name__ == "__main__":
    main()
