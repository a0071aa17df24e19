"""Two-factor authentication: setup with a QR code, confirmation, recovery codes, the second
step of signing in, enforcement for access managers, turning it off."""

import base64
import re
from datetime import timedelta

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from coffre.accounts.models import Role, SecurityEvent
from coffre.accounts.testing import PASSWORD, authenticator_for, code_of, give_role, make_person, sign_in
from coffre.audit.models import AuditRecord

STEP = timedelta(seconds=30)


def code_for_key(key_hex: str) -> str:
    """What an authenticator app shows for this secret now (computed independently of the app)."""
    return str(totp(bytes.fromhex(key_hex))).zfill(6)


def set_up(client):
    """Open the setup page and confirm with the app's code; the response shows the recovery codes."""
    page = client.get("/accounts/two-factor/setup/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user_id=client.session["_auth_user_id"], confirmed=False)
    return device, client.post("/accounts/two-factor/setup/", {"code": code_for_key(device.key)})


def recovery_codes_in(response) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())


def test_the_setup_page_shows_a_qr_code_and_the_secret_without_inline_style(login, world):
    client = login("bob")
    page = client.get("/accounts/two-factor/setup/")
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=world.bob, confirmed=False)
    secret = base64.b32encode(device.bin_key).decode()
    assert re.search(r'<img class="qr" src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="[^"]+"', html)
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    assert "style=" not in html and "<script>" not in html
    assert page["Cache-Control"].startswith("max-age=0") and "no-store" in page["Cache-Control"]
    assert "img-src 'self' data:" in page["Content-Security-Policy"]
    # The same secret until confirmed (reloading the page does not change the app's entry).
    client.get("/accounts/two-factor/setup/")
    assert TOTPDevice.objects.filter(user=world.bob).count() == 1


def test_a_wrong_confirmation_code_is_refused_and_slows_down_the_next_try(login, world):
    client = login("bob")
    client.get("/accounts/two-factor/setup/")
    wrong = client.post("/accounts/two-factor/setup/", {"code": "000000"})
    assert wrong.status_code == 200 and wrong.context["form"].errors["code"]
    assert not TOTPDevice.objects.filter(user=world.bob, confirmed=True).exists()

    device = TOTPDevice.objects.get(user=world.bob)
    response = client.post("/accounts/two-factor/setup/", {"code": code_for_key(device.key)})
    # django-otp slows down after a wrong code: 1 s must pass first.
    assert "Wait" in response.context["form"].errors["code"][0]


def test_confirming_with_a_code_turns_it_on_and_shows_ten_recovery_codes_once(login, world):
    client = login("bob")
    device, response = set_up(client)
    assert response.status_code == 200
    codes = recovery_codes_in(response)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "no-store" in response["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed
    assert client.session["otp_device_id"] == device.persistent_id
    assert sorted(
        StaticToken.objects.filter(device__user=world.bob).values_list("token", flat=True)
    ) == sorted(codes)
    settings_page = client.get("/accounts/settings/").content.decode()
    assert not any(code in settings_page for code in codes)
    assert "10 recovery codes left." in settings_page
    event = SecurityEvent.objects.get(kind="two_factor_changed")
    assert event.enterprise == world.a and event.details == {"change": "enabled"}
    assert AuditRecord.objects.filter(action="person.two_factor_enabled", actor=world.bob.email).exists()


def login_with_password(client, person):
    return client.post("/accounts/login/", {"username": person.email, "password": PASSWORD})


def test_signing_in_asks_the_code_when_the_person_has_an_authenticator(client, world, clock):
    device = world.devices["alice"]
    response = login_with_password(client, world.alice)
    assert response["Location"] == "/accounts/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/settings/")["Location"].startswith("/accounts/login/")

    refused = client.post("/accounts/login/code/", {"code": "123456"})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    clock.shift(STEP)
    response = client.post("/accounts/login/code/", {"code": code_of(device)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(world.alice.pk)
    assert client.session["otp_device_id"] == device.persistent_id
    assert client.get(f"/accounts/e/{world.a.cbe}/people/").status_code == 200


def test_a_code_is_accepted_once(client, world, clock):
    device = world.devices["alice"]
    code = code_of(device)
    login_with_password(client, world.alice)
    client.post("/accounts/login/code/", {"code": code})
    client.post("/accounts/logout/")
    login_with_password(client, world.alice)
    replayed = client.post("/accounts/login/code/", {"code": code})
    assert replayed.status_code == 200 and "_auth_user_id" not in client.session


def test_the_second_step_must_follow_the_first_within_five_minutes(client, world, clock):
    login_with_password(client, world.alice)
    clock.shift(timedelta(minutes=5, seconds=1))
    response = client.post("/accounts/login/code/", {"code": code_of(world.devices["alice"])})
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_signs_in_once(client, login, world, clock):
    bob = login("bob")
    _, response = set_up(bob)
    code = recovery_codes_in(response)[0]
    bob.post("/accounts/logout/")

    login_with_password(client, world.bob)
    assert client.post("/accounts/login/code/", {"code": code.upper()}).status_code == 302
    event = SecurityEvent.objects.get(kind="two_factor_changed", details__change="recovery_code_used")
    assert event.details["recovery_codes_left"] == 9
    client.post("/accounts/logout/")
    clock.shift(STEP)
    login_with_password(client, world.bob)
    assert client.post("/accounts/login/code/", {"code": code}).status_code == 200
    assert "_auth_user_id" not in client.session


def test_ten_wrong_codes_in_fifteen_minutes_lock_the_second_step(client, world, clock):
    """Someone who knows the password tries codes (waiting out django-otp's growing delays)."""
    for attempt in range(10):
        login_with_password(client, world.alice)
        response = client.post("/accounts/login/code/", {"code": f"00000{attempt}"})
        if attempt < 9:
            clock.shift(2**attempt)  # django-otp wants 1, 2, 4 ... seconds after each wrong code
        else:
            assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    login_with_password(client, world.alice)
    clock.shift(STEP)
    # Locked for the rest of the window, even with the right code.
    assert client.post("/accounts/login/code/", {"code": code_of(world.devices["alice"])})["Location"] == (
        "/accounts/login/"
    )
    clock.shift(timedelta(minutes=15))
    login_with_password(client, world.alice)
    assert client.post("/accounts/login/code/", {"code": code_of(world.devices["alice"])}).status_code == 302
    assert client.session["_auth_user_id"] == str(world.alice.pk)


# --- compulsory for access managers -----------------------------------------------------------------


@pytest.fixture
def new_manager(world):
    """Eve, co-access manager of A, who has no authenticator yet."""
    eve = make_person("eve@alpha.example")
    give_role(world.a, eve, Role.CO_MANAGER)
    return eve


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/accounts/settings/",
        "/e/{a}/",
        "/accounts/e/{a}/people/",
        "/accounts/register/",
        "/accounts/password/change/",
        "/accounts/two-factor/verify/",
    ],
)
def test_an_access_manager_without_an_authenticator_is_sent_to_the_setup_page(
    client, world, new_manager, path
):
    sign_in(client, new_manager)
    path = path.format(a=world.a.cbe)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/setup/")
    if path != "/accounts/two-factor/verify/":
        assert response["Location"] == "/accounts/two-factor/setup/?next=" + path.replace("/", "%2F")


def test_the_setup_page_logging_out_and_the_api_stay_reachable(client, world, new_manager):
    sign_in(client, new_manager)
    assert client.get("/accounts/two-factor/setup/").status_code == 200
    api = client.get("/REST/ebox/enterprise/messageRegistry/v2/ebox")
    assert api.status_code == 401 and api["Content-Type"].startswith("application/json")
    assert client.get("/api/docs").status_code != 302
    assert client.post("/accounts/logout/").status_code == 302


def test_once_set_up_the_manager_goes_on_to_the_page_asked(client, world, new_manager):
    sign_in(client, new_manager)
    client.get(f"/accounts/two-factor/setup/?next=/accounts/e/{world.a.cbe}/people/")
    device = TOTPDevice.objects.get(user=new_manager)
    response = client.post(
        "/accounts/two-factor/setup/",
        {"code": code_for_key(device.key), "next": f"/accounts/e/{world.a.cbe}/people/"},
    )
    assert f'href="/accounts/e/{world.a.cbe}/people/"' in response.content.decode()
    assert client.get(f"/accounts/e/{world.a.cbe}/people/").status_code == 200


def test_htmx_requests_are_redirected_by_header(client, world, new_manager):
    sign_in(client, new_manager)
    response = client.get("/accounts/settings/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/accounts/two-factor/setup/")


def test_a_member_needs_no_authenticator(login):
    assert login("bob").get("/accounts/settings/").status_code == 200


def test_a_person_with_an_authenticator_whose_session_is_not_verified_is_asked_a_code(client, world, clock):
    sign_in(client, world.alice)  # signed in, but not through the second factor
    response = client.get(f"/accounts/e/{world.a.cbe}/people/")
    assert (
        response["Location"]
        == "/accounts/two-factor/verify/?next=%2Faccounts%2Fe%2F" + world.a.cbe + "%2Fpeople%2F"
    )
    assert client.get("/accounts/two-factor/setup/")["Location"].startswith("/accounts/two-factor/verify/")
    clock.shift(STEP)
    verified = client.post(
        "/accounts/two-factor/verify/",
        {"code": code_of(world.devices["alice"]), "next": f"/accounts/e/{world.a.cbe}/people/"},
    )
    assert verified["Location"] == f"/accounts/e/{world.a.cbe}/people/"
    assert client.get(verified["Location"]).status_code == 200


def test_a_member_who_becomes_manager_is_sent_to_the_setup_page(login, world):
    client = login("bob")
    assert client.get("/accounts/settings/").status_code == 200
    world.bob.memberships.filter(enterprise=world.a).update(role=Role.MANAGER)
    assert client.get("/accounts/settings/")["Location"].startswith("/accounts/two-factor/setup/")


# --- recovery codes and turning it off --------------------------------------------------------------------


def test_new_recovery_codes_replace_the_former_ones(login, world, clock):
    client = login("alice")
    clock.shift(STEP)
    response = client.post("/accounts/two-factor/recovery-codes/", {"code": code_of(world.devices["alice"])})
    codes = recovery_codes_in(response)
    assert len(codes) == 10
    clock.shift(STEP)
    again = client.post("/accounts/two-factor/recovery-codes/", {"code": code_of(world.devices["alice"])})
    assert not set(codes) & set(recovery_codes_in(again))
    assert StaticToken.objects.filter(device__user=world.alice).count() == 10


def test_turning_it_off_needs_the_password_and_a_code(login, world, clock):
    client = login("bob")
    device, _ = set_up(client)
    clock.shift(STEP)
    wrong_password = client.post(
        "/accounts/two-factor/disable/", {"password": "nope", "code": code_of(device)}
    )
    assert wrong_password.context["form"].errors["password"]
    wrong_code = client.post("/accounts/two-factor/disable/", {"password": PASSWORD, "code": "111111"})
    assert wrong_code.context["form"].errors["code"]
    assert TOTPDevice.objects.filter(user=world.bob).exists()
    clock.shift(STEP)
    response = client.post("/accounts/two-factor/disable/", {"password": PASSWORD, "code": code_of(device)})
    assert response["Location"] == "/accounts/settings/"
    assert not TOTPDevice.objects.filter(user=world.bob).exists()
    assert not StaticToken.objects.filter(device__user=world.bob).exists()
    assert SecurityEvent.objects.filter(kind="two_factor_changed", details__change="disabled").exists()
    assert client.get("/accounts/settings/").status_code == 200


def test_an_access_manager_who_turns_it_off_must_set_up_a_new_device(login, world, clock):
    client = login("alice")
    clock.shift(STEP)
    response = client.post(
        "/accounts/two-factor/disable/", {"password": PASSWORD, "code": code_of(world.devices["alice"])}
    )
    assert response["Location"] == "/accounts/two-factor/setup/"
    assert client.get(f"/accounts/e/{world.a.cbe}/people/")["Location"].startswith(
        "/accounts/two-factor/setup/"
    )


def test_setting_up_another_app_replaces_the_former_one(login, world, clock):
    client = login("alice")
    former = world.devices["alice"]
    clock.shift(STEP)
    new, response = set_up(client)
    assert len(recovery_codes_in(response)) == 10
    assert list(TOTPDevice.objects.filter(user=world.alice).values_list("pk", flat=True)) == [new.pk]
    assert not TOTPDevice.objects.filter(pk=former.pk).exists()
    assert SecurityEvent.objects.filter(kind="two_factor_changed", details__change="replaced").exists()


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    for path in (
        "/accounts/two-factor/setup/",
        "/accounts/two-factor/verify/",
        "/accounts/two-factor/recovery-codes/",
        "/accounts/two-factor/disable/",
    ):
        assert client.get(path)["Location"].startswith("/accounts/login/?next=")


def test_demo_style_authenticator_codes_match_the_app(db):
    person = make_person("zed@example.be")
    device = authenticator_for(person)
    assert code_of(device) == code_for_key(device.key)
