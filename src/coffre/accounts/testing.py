"""Test helpers for people and roles (used by the tests of every app that needs actors).

``make_person`` makes a ready account, ``give_role`` a role, ``authenticator_for`` a confirmed
authenticator app, and ``sign_in`` signs a Django test client in, verified by the second factor
when a device is given (as after a real two-step login).
"""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from coffre.accounts.models import Enterprise, Membership, User
from coffre.accounts.services_two_factor import current_code

PASSWORD = "Correct-horse-battery-42"
# The named actors of the access tests (see accounts/tests/conftest.py).
ACTORS = ["alice", "bob", "charlie", "accountant", "anonymous"]


def make_person(
    email: str, *, password: str = PASSWORD, language: str = "en", verified: bool = True, full_name: str = ""
) -> User:
    from django.utils import timezone

    person = User.objects.create_user(
        email, password, language=language, full_name=full_name, is_active=verified
    )
    if verified:
        person.email_verified_at = timezone.now()
        person.save(update_fields=["email_verified_at"])
    return person


def give_role(enterprise: Enterprise, person: User, role: str) -> Membership:
    return Membership.objects.create(enterprise=enterprise, user=person, role=role)


def authenticator_for(person: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=person, name="authenticator", confirmed=True)


def code_of(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return current_code(device)


def sign_in(client, person: User, device: TOTPDevice | None = None):
    client.force_login(person)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def link_in(mail, marker: str) -> str:
    """The first URL of the e-mail's text that contains ``marker``, as a path with its query."""
    for word in mail.body.split():
        if marker in word and word.startswith("http"):
            return "/" + word.split("/", 3)[3]
    raise AssertionError(f"no link with {marker!r} in: {mail.body}")
