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
