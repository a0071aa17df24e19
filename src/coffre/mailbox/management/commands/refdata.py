"""``coffre refdata``: set up sender organizations, applications, message types and logos.

Every subcommand is idempotent (it sets the object to exactly the given values), so that a
provisioning script can run it again; ``--json`` prints the result for scripts. ``load FILE``
applies a whole JSON document of reference data (same shape as the subcommands).
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from coffre.audit.services import Actor
from coffre.core.cbe import InvalidCBE
from coffre.core.commands import emit, translated_arg
from coffre.mailbox import reference
from coffre.mailbox.models import SenderApplication, SenderOrganization

VALIDITY_UNITS = {"d": "day", "m": "month", "y": "year"}


def _validity(text: str) -> tuple[int, str]:
    """``30d``, ``6m``, ``1y``."""
    try:
        number, unit = int(text[:-1]), VALIDITY_UNITS[text[-1].lower()]
    except (ValueError, KeyError, IndexError):
        raise CommandError(f"--validity takes a number and d, m or y (e.g. 1y, 6m, 30d), not {text!r}") from None
    if number < 1:
        raise CommandError("--validity must be positive")
    return number, unit


def _outcome(command, outcome, key: str, value: str, as_json: bool) -> None:
    verb = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
    emit(command, {key: value, "created": outcome.created, "changed": outcome.changed}, as_json, f"{verb}: {value}")


class Command(BaseCommand):
    help = "Set up reference data: sender organizations, applications, message types, logos."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        org = sub.add_parser("organization", help="create or update a sender organization")
        org.add_argument("organization_id", help="its CBE number")
        org.add_argument("--short-name", action="append", required=True, metavar="LANG=TEXT")
        org.add_argument("--long-name", action="append", metavar="LANG=TEXT")
        org.add_argument("--url", action="append", metavar="LANG=URL")
        org.add_argument("--contact-business", default="")
        org.add_argument("--contact-technical", default="")

        app = sub.add_parser("application", help="create or update a sender application")
        app.add_argument("application_id")
        app.add_argument("--name", action="append", required=True, metavar="LANG=TEXT")
        app.add_argument("--description", action="append", metavar="LANG=TEXT")
        app.add_argument("--url", action="append", metavar="LANG=URL")
        app.add_argument("--organization", action="append", default=[], help="CBE of an organization using it")
        app.add_argument("--contact-business", default="")
        app.add_argument("--contact-technical", default="")

        kind = sub.add_parser("message-type", help="create or update a message type")
        kind.add_argument("message_type_id")
        kind.add_argument("--name", action="append", required=True, metavar="LANG=TEXT")
        kind.add_argument("--description", action="append", metavar="LANG=TEXT")
        kind.add_argument("--validity", required=True, help="validity period: 30d, 6m, 1y")
        kind.add_argument("--organization", action="append", default=[], help="CBE of an organization allowed")
        kind.add_argument("--application", action="append", default=[], help="id of an application allowed")

        logo = sub.add_parser("logo", help="add a PNG/JPEG/GIF logo to an organization or application")
        owner = logo.add_mutually_exclusive_group(required=True)
        owner.add_argument("--organization")
        owner.add_argument("--application")
        logo.add_argument("file", type=Path)
        logo.add_argument("--language", default="", choices=["", "nl", "fr", "de"])

        load = sub.add_parser("load", help="apply a JSON file of reference data")
        load.add_argument("file", type=Path)

        for parser_ in (org, app, kind, logo, load):
            parser_.add_argument("--json", action="store_true")

    def handle(self, *args, action, **options):
        actor = Actor.cli(f"refdata {action}")
        try:
            getattr(self, "_" + action.replace("-", "_"))(actor, options)
        except (reference.ReferenceDataError, InvalidCBE) as exc:
            raise CommandError(str(exc)) from None

    def _organization(self, actor, options):
        outcome = reference.set_sender_organization(
            options["organization_id"], actor,
            short_name=translated_arg(options["short_name"], "--short-name"),
            long_name=translated_arg(options["long_name"], "--long-name"),
            url=translated_arg(options["url"], "--url"),
            contact_business=options["contact_business"], contact_technical=options["contact_technical"],
        )
        _outcome(self, outcome, "organizationId", outcome.object.organization_id, options["json"])

    def _application(self, actor, options):
        outcome = reference.set_sender_application(
            options["application_id"], actor,
            name=translated_arg(options["name"], "--name"),
            description=translated_arg(options["description"], "--description"),
            url=translated_arg(options["url"], "--url"),
            organizations=options["organization"],
            contact_business=options["contact_business"], contact_technical=options["contact_technical"],
        )
        _outcome(self, outcome, "applicationId", outcome.object.application_id, options["json"])

    def _message_type(self, actor, options):
        number, unit = _validity(options["validity"])
        outcome = reference.set_message_type(
            options["message_type_id"], actor,
            name=translated_arg(options["name"], "--name"),
            description=translated_arg(options["description"], "--description"),
            validity_number=number, validity_unit=unit,
            organizations=options["organization"], applications=options["application"],
        )
        _outcome(self, outcome, "messageTypeId", outcome.object.message_type_id, options["json"])

    def _logo(self, actor, options):
        try:
            content = options["file"].read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from None
        if options["organization"]:
            owner = SenderOrganization.objects.filter(organization_id=options["organization"]).first()
        else:
            owner = SenderApplication.objects.filter(application_id=options["application"]).first()
        if owner is None:
            raise CommandError("unknown organization or application")
        logo = reference.add_logo(owner, content, actor, language=options["language"])
        emit(self, {"imageId": logo.image_id, "mediaType": logo.media_type}, options["json"], f"logo {logo.image_id}")

    def _load(self, actor, options):
        try:
            document = json.loads(options["file"].read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from None
        try:
            with transaction.atomic():
                results = apply_document(document, actor)
        except KeyError as exc:
            raise CommandError(f"{options['file']}: a required property is missing: {exc}") from None
        emit(self, results, options["json"], f"{len(results)} reference data object(s) applied")


def apply_document(document: dict, actor: Actor) -> list[dict]:
    """Apply ``{"organizations": [...], "applications": [...], "messageTypes": [...]}`` in order."""
    results = []
    for item in document.get("organizations", []):
        outcome = reference.set_sender_organization(
            item["organizationId"], actor, short_name=item["shortName"], long_name=item.get("longName"),
            url=item.get("url"), contact_business=item.get("contactBusiness", ""),
            contact_technical=item.get("contactTechnical", ""),
        )
        results.append({"organizationId": outcome.object.organization_id, "changed": outcome.changed})
    for item in document.get("applications", []):
        outcome = reference.set_sender_application(
            item["applicationId"], actor, name=item["name"], description=item.get("description"),
            url=item.get("url"), organizations=item.get("organizations", []),
            contact_business=item.get("contactBusiness", ""), contact_technical=item.get("contactTechnical", ""),
        )
        results.append({"applicationId": outcome.object.application_id, "changed": outcome.changed})
    for item in document.get("messageTypes", []):
        number, unit = _validity(item["validity"])
        outcome = reference.set_message_type(
            item["messageTypeId"], actor, name=item["name"], description=item.get("description"),
            validity_number=number, validity_unit=unit, organizations=item.get("organizations", []),
            applications=item.get("applications", []),
        )
        results.append({"messageTypeId": outcome.object.message_type_id, "changed": outcome.changed})
    return results
