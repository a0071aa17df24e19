"""The security log page: an enterprise's events, newest first, in pages (keyset paging)."""

from datetime import timedelta

from coffre.accounts.models import SecurityEvent
from coffre.accounts.selectors import Cursor, security_log


def fill(enterprise, count, clock, kind="login_failed"):
    for number in range(count):
        SecurityEvent.objects.create(kind=kind, enterprise=enterprise, details={"attempt": number})
        if number % 3:  # several events share an instant: the id breaks the tie
            clock.shift(timedelta(seconds=1))


def test_pages_follow_each_other_without_gap_nor_overlap(login, world, clock):
    fill(world.a, 120, clock)
    fill(world.b, 5, clock)
    client = login("alice")
    seen, url = [], f"/accounts/e/{world.a.cbe}/security/"
    while url and len(seen) < 5:
        page = client.get(url)
        assert page.status_code == 200
        seen.append([row["event"].pk for row in page.context["events"]])
        url = page.context["next_url"]
    assert [len(ids) for ids in seen] == [50, 50, 20]
    flat = [pk for ids in seen for pk in ids]
    expected = list(
        SecurityEvent.objects.filter(enterprise=world.a)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )
    assert flat == expected


def test_the_log_shows_who_did_what(login, world):
    SecurityEvent.objects.create(
        kind="login_locked",
        enterprise=world.a,
        user=world.bob,
        ip_address="192.0.2.1",
        details={"scope": "address", "minutes": 15},
    )
    html = login("alice").get(f"/accounts/e/{world.a.cbe}/security/").content.decode()
    assert "Sign-in locked for 15 minutes after repeated wrong passwords." in html
    assert "bob@alpha.example" in html and "192.0.2.1" in html


def test_a_bad_cursor_gives_the_first_page(login, world, clock):
    fill(world.a, 3, clock)
    page = login("alice").get(f"/accounts/e/{world.a.cbe}/security/?before=garbage")
    assert page.status_code == 200 and len(page.context["events"]) == 3


def test_the_cursor_round_trips(world, clock):
    fill(world.a, 4, clock)
    first = security_log(world.a, size=2)
    again = security_log(world.a, Cursor.decode(first.next_cursor.encode()), size=2)
    assert [event.pk for event in first.events + again.events] == list(
        SecurityEvent.objects.filter(enterprise=world.a)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )
    assert again.next_cursor is None


def test_the_events_are_described_in_the_readers_language(login, world):
    SecurityEvent.objects.create(
        kind="account_link_removed",
        enterprise=world.a,
        user=world.bob,
        details={"link": 1, "client_number": "100200", "by": "removal link", "membership_removed": True},
    )
    SecurityEvent.objects.create(
        kind="suspicious_activity",
        enterprise=world.a,
        details={"client_number": "100200", "linked_person": "bob@alpha.example", "reported_by": "contact"},
    )
    SecurityEvent.objects.create(kind="login_locked", enterprise=world.a, details={"minutes": 1})
    client = login("alice")
    client.cookies["django_language"] = "fr"
    html = client.get(f"/accounts/e/{world.a.cbe}/security/").content.decode()
    assert (
        "Compte d’entreprise 100200 : supprimé via le lien envoyé par e-mail à ses personnes de contact. "
        "L’accès de membre que donnait ce lien a également été retiré." in html
    )
    assert (
        "Compte d’entreprise 100200, personne liée : bob@alpha.example. "
        "Signalé par une personne de contact du compte." in html
    )
    assert "Connexion bloquée pendant 1 minute après des mots de passe erronés répétés." in html
    assert "Activité suspecte signalée" in html and "Lien supprimé" in html  # the kinds
