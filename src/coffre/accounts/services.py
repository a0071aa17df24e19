"""Registering and updating enterprises. An enterprise's e-Box exists from its registration."""

from dataclasses import dataclass

from django.db import transaction

from coffre.accounts.models import Enterprise
from coffre.audit.services import Actor, record
from coffre.core.cbe import normalize_cbe


@dataclass(frozen=True)
class Registration:
    enterprise: Enterprise
    created: bool
    changed: bool


def register_enterprise(
    cbe: str, name: str, actor: Actor, *, language: str | None = None, active: bool | None = None
) -> Registration:
    """Create the enterprise and its e-Box, or update the given fields (idempotent)."""
    from coffre.mailbox.services import create_ebox  # the e-Box is the mailbox app's

    cbe = normalize_cbe(cbe, lenient=True)
    name = name.strip()
    if not name:
        raise ValueError("an enterprise needs a name")
    if language is not None and language not in dict(Enterprise._meta.get_field("language").choices):
        raise ValueError(f"language must be one of fr, nl, de, en, not {language!r}")
    with transaction.atomic():
        enterprise = Enterprise.objects.select_for_update().filter(cbe=cbe).first()
        if enterprise is None:
            enterprise = Enterprise.objects.create(
                cbe=cbe, name=name, language=language or "fr", active=True if active is None else active
            )
            create_ebox(enterprise)
            record(actor, "enterprise.register", details={"cbe": cbe, "name": name})
            return Registration(enterprise, created=True, changed=True)
        changes = {"name": name}
        if language is not None:
            changes["language"] = language
        if active is not None:
            changes["active"] = active
        changed = {key: value for key, value in changes.items() if getattr(enterprise, key) != value}
        if changed:
            for key, value in changed.items():
                setattr(enterprise, key, value)
            enterprise.save(update_fields=list(changed))
            record(actor, "enterprise.update", details={"cbe": cbe, **changed})
        return Registration(enterprise, created=False, changed=bool(changed))
