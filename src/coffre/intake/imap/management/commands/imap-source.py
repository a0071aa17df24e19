"""``coffre imap-source``: the mailboxes Coffre polls over IMAP for an intake address.

    coffre imap-source add --target documents-k7q2 --host imap.example.be --username factures@example.be \\
        --password-file /run/secrets/imap [--security tls|starttls|plain] [--port 993] [--folder INBOX] \\
        [--ca-file ca.pem] [--json]
    printf '%s' "$PASSWORD" | coffre imap-source add ... --password-stdin
    coffre imap-source list [--json]
    coffre imap-source remove ID
    coffre imap-source poll [ID] [--json]

``add`` is idempotent: the same host, port, username and folder is the same source, brought up to
date (target, security, password, CA). The password is read from a file or standard input, never
from an argument (arguments show in ``ps`` and shell histories), and is never printed. ``remove``
of a source that is not there says so and succeeds. ``poll`` polls one source, or every active
one, now (not waiting for a backoff).
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coffre.audit.services import Actor
from coffre.core.commands import emit
from coffre.intake.imap import poller, selectors, services
from coffre.intake.imap.models import ImapSource, Security


def source_as_dict(source: ImapSource) -> dict:
    return {
        **services.describe(source),
        "active": source.active,
        "uid_validity": source.uid_validity,
        "last_uid": source.last_uid,
        "delivered": source.delivered,
        "last_run_at": source.last_run_at.isoformat() if source.last_run_at else None,
        "last_success_at": source.last_success_at.isoformat() if source.last_success_at else None,
        "last_error": source.last_error,
        "failures": source.failures,
        "next_attempt_at": source.next_attempt_at.isoformat() if source.next_attempt_at else None,
    }


def _password(options) -> str:
    if options["password_file"] and options["password_stdin"]:
        raise CommandError("give the password with --password-file or --password-stdin, not both")
    try:
        if options["password_file"]:
            text = Path(options["password_file"]).read_text(encoding="utf-8")
        elif options["password_stdin"]:
            text = sys.stdin.read()
        else:
            raise CommandError("the password is needed: --password-file PATH or --password-stdin")
    except OSError as exc:
        raise CommandError(
            f"cannot read the password file {options['password_file']}: {exc.strerror}"
        ) from None
    return text.rstrip("\r\n")


class Command(BaseCommand):
    help = "Manage the mailboxes Coffre polls over IMAP (docs/intake-documents.md)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        add = sub.add_parser("add", help="poll a mailbox for an intake address (idempotent)")
        add.add_argument("--target", required=True, help="local part of the intake address to deliver to")
        add.add_argument("--host", required=True)
        add.add_argument("--port", type=int, help="default: 993 for tls, 143 for starttls and plain")
        add.add_argument(
            "--security",
            choices=Security.values,
            default=Security.TLS,
            help="tls (default), starttls, or plain (only to 127.0.0.1/::1/localhost)",
        )
        add.add_argument("--username", required=True)
        add.add_argument("--password-file", help="a file holding the password (one line)")
        add.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
        add.add_argument("--folder", default="INBOX")
        add.add_argument(
            "--ca-file", help="PEM certificate of a private CA the server's certificate comes from"
        )
        add.add_argument("--json", action="store_true", dest="as_json")

        listing = sub.add_parser("list", help="list the sources, their watermark and last error")
        listing.add_argument("--json", action="store_true", dest="as_json")

        remove = sub.add_parser("remove", help="stop polling a source")
        remove.add_argument("source_id", type=int)
        remove.add_argument("--json", action="store_true", dest="as_json")

        poll = sub.add_parser("poll", help="poll one source, or all active ones, now")
        poll.add_argument("source_id", type=int, nargs="?")
        poll.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, action, **options):
        getattr(self, "_" + action)(**options)

    def _add(self, target, host, port, security, username, folder, ca_file, as_json, **options):
        ca_certificate = ""
        if ca_file:
            try:
                ca_certificate = Path(ca_file).read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(
                    f"cannot read the CA file {ca_file}: {getattr(exc, 'strerror', exc)}"
                ) from None
        try:
            source, created = services.add_source(
                target=target,
                host=host,
                port=port,
                security=security,
                username=username,
                password=_password(options),
                folder=folder,
                ca_certificate=ca_certificate,
                actor=Actor.cli("imap-source add"),
            )
        except services.SourceError as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            emit(self, {**source_as_dict(source), "created": created}, True, "")
        else:
            self.stdout.write(str(source.pk))
            self.stderr.write(
                f"source {'added' if created else 'already there, brought up to date'}: {source}"
            )

    def _list(self, as_json, **_):
        sources = [source_as_dict(source) for source in selectors.list_sources()]
        lines = [
            f"{s['id']}  {s['username']}@{s['host']}:{s['port']}/{s['folder']} ({s['security']}) "
            f"-> {s['target']}  "
            f"{'active' if s['active'] else 'inactive'}  last UID {s['last_uid']}  delivered {s['delivered']}"
            + (f"  error ({s['failures']}x): {s['last_error']}" if s["last_error"] else "")
            for s in sources
        ]
        emit(self, sources, as_json, "\n".join(lines))

    def _remove(self, source_id, as_json, **_):
        removed = services.remove_source(source_id, Actor.cli("imap-source remove"))
        text = f"source {source_id} removed" if removed else f"no source {source_id}: nothing to remove"
        emit(self, {"id": source_id, "removed": removed}, as_json, text)

    def _poll(self, source_id, as_json, **_):
        if source_id is not None:
            if selectors.get_source(source_id) is None:
                raise CommandError(f"no source {source_id}")
            ids = [source_id]
        else:
            ids = [source.pk for source in selectors.list_sources() if source.active]
        results = [poller.poll(pk) for pk in ids]
        lines = [
            f"{r.source_id}: {r.status}, {r.delivered} delivered"
            + (f", {r.skipped} too large" if r.skipped else "")
            + (", more waiting" if r.more else "")
            + (", UIDVALIDITY changed: started again" if r.uid_validity_changed else "")
            + (f": {r.error}" if r.error else "")
            for r in results
        ]
        emit(self, [r.as_dict() for r in results], as_json, "\n".join(lines) or "no active source")
        if any(r.status == "error" for r in results):
            raise CommandError(
                "polling failed for " + ", ".join(str(r.source_id) for r in results if r.status == "error")
            )
