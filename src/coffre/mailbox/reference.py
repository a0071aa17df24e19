"""Reference data: sender organizations, sender applications, message types and their logos.

Operators set them up (CLI, admin, demo data); every ``set_*`` service is idempotent (create or
update to exactly the given values), atomic and audited. Reads are public to any client with the
``referencedata`` scope.
"""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from coffre.audit.services import Actor, record
from coffre.core.cbe import normalize_cbe
from coffre.mailbox.models import Logo, MessageType, SenderApplication, SenderOrganization
from coffre.mailbox.translations import LANGUAGES

MAX_LOGO_BYTES = 512 * 1024


class ReferenceDataError(ValueError):
    pass


@dataclass(frozen=True)
class Outcome:
    object: object
    created: bool
    changed: bool


def _translated(value: dict | None, what: str, required: bool = False) -> dict:
    value = {lang: text.strip() for lang, text in (value or {}).items() if text and text.strip()}
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise ReferenceDataError(f"{what}: unknown language(s) {', '.join(sorted(unknown))}")
    if required and not value:
        raise ReferenceDataError(f"{what} is required in at least one language")
    return value


def _apply(model, lookup: dict, values: dict, m2m: dict, actor: Actor, action: str) -> Outcome:
    with transaction.atomic():
        instance = model.objects.select_for_update().filter(**lookup).first()
        created = instance is None
        if created:
            instance = model(**lookup)
        changed_fields = [name for name, value in values.items() if getattr(instance, name, None) != value]
        for name, value in values.items():
            setattr(instance, name, value)
        changed_m2m = []
        if not created:
            for name, targets in m2m.items():
                if set(getattr(instance, name).values_list("pk", flat=True)) != {t.pk for t in targets}:
                    changed_m2m.append(name)
        else:
            changed_m2m = [name for name, targets in m2m.items() if targets]
        changed = created or bool(changed_fields) or bool(changed_m2m)
        if changed:
            instance.updated_at = timezone.now()
            instance.save()
            for name, targets in m2m.items():
                getattr(instance, name).set(targets)
            record(
                actor,
                action,
                details={**lookup, "created": created, "changed": sorted(changed_fields + changed_m2m)},
            )
        return Outcome(instance, created, changed)


def _organizations(ids: list[str]) -> list[SenderOrganization]:
    normalized = [normalize_cbe(value, lenient=True) for value in ids]
    found = list(SenderOrganization.objects.filter(organization_id__in=normalized))
    missing = set(normalized) - {org.organization_id for org in found}
    if missing:
        raise ReferenceDataError(f"unknown sender organization(s): {', '.join(sorted(missing))}")
    return found


def _applications(ids: list[str]) -> list[SenderApplication]:
    found = list(SenderApplication.objects.filter(application_id__in=ids))
    missing = set(ids) - {app.application_id for app in found}
    if missing:
        raise ReferenceDataError(f"unknown sender application(s): {', '.join(sorted(missing))}")
    return found


def set_sender_organization(
    organization_id: str,
    actor: Actor,
    *,
    short_name: dict,
    long_name: dict | None = None,
    url: dict | None = None,
    contact_business: str = "",
    contact_technical: str = "",
) -> Outcome:
    values = {
        "short_name": _translated(short_name, "short name", required=True),
        "long_name": _translated(long_name, "long name"),
        "url": _translated(url, "url"),
        "contact_business": contact_business,
        "contact_technical": contact_technical,
    }
    lookup = {"organization_id": normalize_cbe(organization_id, lenient=True)}
    return _apply(SenderOrganization, lookup, values, {}, actor, "referenceData.senderOrganization")


def set_sender_application(
    application_id: str,
    actor: Actor,
    *,
    name: dict,
    organizations: list[str],
    description: dict | None = None,
    url: dict | None = None,
    contact_business: str = "",
    contact_technical: str = "",
) -> Outcome:
    if not application_id or len(application_id) > 100:
        raise ReferenceDataError("an application id has 1 to 100 characters")
    values = {
        "name": _translated(name, "name", required=True),
        "description": _translated(description, "description"),
        "url": _translated(url, "url"),
        "contact_business": contact_business,
        "contact_technical": contact_technical,
    }
    m2m = {"organizations": _organizations(organizations)}
    lookup = {"application_id": application_id}
    return _apply(SenderApplication, lookup, values, m2m, actor, "referenceData.senderApplication")


def set_message_type(
    message_type_id: str,
    actor: Actor,
    *,
    name: dict,
    validity_number: int,
    validity_unit: str,
    organizations: list[str],
    applications: list[str] = (),
    description: dict | None = None,
) -> Outcome:
    if not message_type_id or len(message_type_id) > 100:
        raise ReferenceDataError("a message type id has 1 to 100 characters")
    if validity_unit not in {"day", "month", "year"} or validity_number < 1:
        raise ReferenceDataError("the validity period is a positive number of day, month or year")
    values = {
        "name": _translated(name, "name", required=True),
        "description": _translated(description, "description"),
        "validity_number": validity_number,
        "validity_unit": validity_unit,
    }
    m2m = {"organizations": _organizations(organizations), "applications": _applications(list(applications))}
    lookup = {"message_type_id": message_type_id}
    return _apply(MessageType, lookup, values, m2m, actor, "referenceData.messageType")


def _sniff_image(content: bytes) -> str | None:
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def add_logo(owner: SenderOrganization | SenderApplication, content: bytes, actor: Actor, language: str = "") -> Logo:
    """Attach a PNG, JPEG or GIF logo (SVG is refused: it can carry scripts)."""
    media_type = _sniff_image(content)
    if media_type is None:
        raise ReferenceDataError("a logo must be a PNG, JPEG or GIF image")
    if len(content) > MAX_LOGO_BYTES:
        raise ReferenceDataError(f"a logo is at most {MAX_LOGO_BYTES // 1024} kB")
    if language not in ("", "nl", "fr", "de"):
        raise ReferenceDataError("a logo's language is nl, fr or de")
    owner_field = "organization" if isinstance(owner, SenderOrganization) else "application"
    with transaction.atomic():
        existing = Logo.objects.filter(**{owner_field: owner}, language=language, content=content).first()
        if existing:
            return existing
        logo = Logo.objects.create(
            image_id=str(uuid.uuid4()), media_type=media_type, language=language, content=content,
            size=len(content), **{owner_field: owner},
        )
        type(owner).objects.filter(pk=owner.pk).update(updated_at=timezone.now())
        record(actor, "referenceData.logo", details={"imageId": logo.image_id, owner_field: str(owner)})
    return logo


# --- reads ----------------------------------------------------------------------------------------


def page(queryset, page_number: int, page_size: int):
    total = queryset.count()
    offset = (page_number - 1) * page_size
    return list(queryset[offset : offset + page_size]) if offset < total else [], total


def organizations():
    return SenderOrganization.objects.prefetch_related("applications", "message_types", "logos").order_by(
        "organization_id"
    )


def applications():
    return SenderApplication.objects.prefetch_related("organizations", "message_types", "logos").order_by(
        "application_id"
    )


def message_types():
    return MessageType.objects.prefetch_related("organizations", "applications").order_by("message_type_id")


def logo_of(owner_field: str, owner_id: str, image_id: str) -> Logo | None:
    lookup = {"organization__organization_id" if owner_field == "organization" else "application__application_id": owner_id}
    return Logo.objects.filter(image_id=image_id, **lookup).first()
