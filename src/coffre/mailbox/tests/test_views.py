"""The message list (filters, search, pages) and hiding/showing messages (coffre.mailbox.views)."""

import datetime as dt
import html
import re

import pytest
from django.utils import timezone

from coffre.audit.models import AuditRecord
from coffre.mailbox import selectors_web
from coffre.mailbox.models import Message
from coffre.mailbox.tests.conftest import SPF, A, B, publish

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "message-region"}


def listed(response) -> list[str]:
    """The message ids of the list, in order."""
    return re.findall(rf'href="/e/{A}/m/([^/"]+)/"', response.content.decode())


def links(response, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def in_language(client, lang: str):
    client.cookies["django_language"] = lang
    return client


# --- who may see and do what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, status",
    [("alice", 200), ("bob", 200), ("ann", 200), ("carl", 200), ("charlie", 404), ("anonymous", 302)],
)
def test_the_list_is_for_the_enterprises_readers(portal, who, status):
    message = publish()
    response = portal.client(who).get(f"/e/{A}/")
    assert response.status_code == status
    if status == 200:
        assert listed(response) == [message.message_id]
    if who == "anonymous":
        assert response["Location"].startswith("/accounts/login/")


def test_an_unknown_or_closed_enterprise_is_not_found(portal):
    alice = portal.client("alice")
    assert alice.get("/e/0999999999/").status_code == 404
    portal.a.active = False
    portal.a.save()
    assert alice.get(f"/e/{A}/").status_code == 404


@pytest.mark.parametrize(
    "who, status",
    [("alice", 302), ("bob", 302), ("ann", 403), ("carl", 403), ("charlie", 404), ("anonymous", 302)],
)
def test_only_the_enterprises_insiders_hide_messages(portal, who, status):
    message = publish()
    response = portal.client(who).post(
        f"/e/{A}/visibility/", {"action": "hide", "message": message.message_id}
    )
    assert response.status_code == status
    message.refresh_from_db()
    assert message.visible is (status != 302 or who == "anonymous")


# --- what the list shows --------------------------------------------------------------------------


def test_rows_speak_the_readers_language(portal):
    publish(
        files=[
            ("a.pdf", b"%PDF-1.4 a", "application/pdf", True),
            ("b.pdf", b"%PDF-1.4 b", "application/pdf", False),
        ]
    )
    page = in_language(portal.client("bob"), "nl").get(f"/e/{A}/").content.decode()
    assert "Driemaandelijks attest" in page and "Attestation trimestrielle" not in page
    assert "<td>RSZ</td>" in page and "<td>Attest</td>" in page
    assert "<td>2</td>" in page  # attachments
    assert "Ongelezen" in page  # a word (in the reader's language), not only a colour


def test_hidden_messages_are_listed_only_on_request(portal):
    shown, hidden = publish(), publish()
    Message.objects.filter(pk=hidden.pk).update(visible=False)
    bob = portal.client("bob")
    assert listed(bob.get(f"/e/{A}/")) == [shown.message_id]
    response = bob.get(f"/e/{A}/", {"hidden": "on"})
    assert listed(response) == [hidden.message_id, shown.message_id]
    assert '<span class="badge">Hidden</span>' in response.content.decode()


def test_filters_apply_together(portal, clock):
    clock.move_to("2026-03-01T10:00:00+01:00")
    old = publish()
    clock.move_to("2026-03-20T10:00:00+01:00")
    reminder = publish(sender=SPF, message_type="REMINDER", subject={"fr": "Rappel"})
    read = publish()
    Message.objects.filter(pk=read.pk).update(read_at=timezone.now())
    bob = portal.client("bob")

    assert listed(bob.get(f"/e/{A}/", {"unread": "on"})) == [reminder.message_id, old.message_id]
    assert listed(bob.get(f"/e/{A}/", {"sender": SPF})) == [reminder.message_id]
    assert listed(bob.get(f"/e/{A}/", {"type": "ATTEST"})) == [read.message_id, old.message_id]
    assert listed(bob.get(f"/e/{A}/", {"expiring": "on"})) == [reminder.message_id]  # valid 30 days
    assert listed(bob.get(f"/e/{A}/", {"received_to": "2026-03-01"})) == [old.message_id]
    assert listed(bob.get(f"/e/{A}/", {"received_from": "2026-03-02"})) == [
        read.message_id,
        reminder.message_id,
    ]
    assert (
        listed(bob.get(f"/e/{A}/", {"received_from": "2026-03-02", "unread": "on", "type": "ATTEST"})) == []
    )
    assert "1 message matches the filters." in bob.get(f"/e/{A}/", {"sender": SPF}).content.decode()
    in_dutch = in_language(portal.client("bob"), "nl").get(f"/e/{A}/", {"type": "ATTEST"})
    assert "2 berichten komen overeen met de filters." in in_dutch.content.decode()


def test_a_wrong_filter_is_explained_next_to_its_field(portal):
    publish()
    response = in_language(portal.client("bob"), "en").get(
        f"/e/{A}/", {"received_from": "2026-05-02", "received_to": "2026-05-01", "sender": "nobody"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "This date is before the “received from” date." in html.unescape(page)
    assert "Select a valid choice" in page


def test_search_is_the_apis_in_the_readers_language(portal):
    helene = publish(
        subject={"fr": "Rappel: cotisation trimestrielle de Hélène", "nl": "Herinnering: bijdrage"}
    )
    publish(subject={"fr": "Autre chose", "nl": "Iets anders"})
    fr, nl = in_language(portal.client("bob"), "fr"), in_language(portal.client("alice"), "nl")

    for query in ("helene", "COTISATION TRI", "ène"):
        assert listed(fr.get(f"/e/{A}/", {"q": query})) == [helene.message_id], query
    assert listed(fr.get(f"/e/{A}/", {"q": "trimestrielle de Rappel"})) == []
    assert listed(fr.get(f"/e/{A}/", {"q": "cotisation  trimestrielle"})) == []
    assert listed(nl.get(f"/e/{A}/", {"q": "cotisation"})) == []
    assert listed(nl.get(f"/e/{A}/", {"q": "bijdrage"})) == [helene.message_id]


def test_the_count_is_capped(portal, monkeypatch):
    for _ in range(4):
        publish()
    bob = portal.client("bob")
    monkeypatch.setattr(selectors_web, "COUNT_CAP", 3)
    assert "4 messages" in bob.get(f"/e/{A}/").content.decode()  # one page holds them all: exact
    monkeypatch.setattr(selectors_web, "PAGE_SIZE", 2)
    assert "More than 3 messages" in bob.get(f"/e/{A}/").content.decode()
    monkeypatch.setattr(selectors_web, "COUNT_CAP", 4)
    assert "4 messages" in bob.get(f"/e/{A}/").content.decode()


def test_next_and_previous_pages_keep_the_filters(portal, monkeypatch, clock):
    monkeypatch.setattr(selectors_web, "PAGE_SIZE", 2)
    published = []
    for _ in range(5):
        published.append(publish())
        clock.shift(60)
    publish(sender=SPF, message_type="REMINDER")
    bob = portal.client("bob")
    expected = [m.message_id for m in reversed(published)]

    seen, response, pages = [], bob.get(f"/e/{A}/", {"type": "ATTEST"}), []
    while True:
        pages.append(response)
        seen.extend(listed(response))
        following = links(response, "next")
        if following is None:
            break
        assert "type=ATTEST" in following
        response = bob.get(following)
    assert seen == expected
    assert links(pages[0], "prev") is None
    back = bob.get(links(pages[-1], "prev"))
    assert listed(back) == listed(pages[-2])


def test_a_tampered_cursor_starts_over(portal):
    message = publish()
    assert listed(portal.client("bob").get(f"/e/{A}/", {"after": "nonsense"})) == [message.message_id]


def test_htmx_gets_the_list_region_only(portal):
    publish()
    response = portal.client("bob").get(f"/e/{A}/", **HTMX)
    page = response.content.decode()
    assert page.startswith('<section id="message-region"') and "<html" not in page
    assert "HX-Request" in response["Vary"]


# --- hiding and showing ---------------------------------------------------------------------------


def test_hiding_chosen_messages_keeps_the_list_where_it_was(portal):
    first, second, third = publish(), publish(), publish()
    response = portal.client("alice").post(
        f"/e/{A}/visibility/",
        {
            "action": "hide",
            "message": [first.message_id, third.message_id],
            "return_query": "unread=on&evil=1",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/e/{A}/?unread=on"
    visible = dict(Message.objects.values_list("message_id", "visible"))
    assert visible == {first.message_id: False, second.message_id: True, third.message_id: False}
    audit = AuditRecord.objects.filter(action="patchMessages").get()
    assert (audit.actor_kind, audit.actor, audit.method, audit.url) == (
        "web",
        "alice@example.be",
        "POST",
        f"/e/{A}/visibility/",
    )


def test_select_all_takes_every_message_of_the_page(portal):
    messages = [publish() for _ in range(3)]
    Message.objects.update(visible=False)
    bob = portal.client("bob")
    response = bob.post(
        f"/e/{A}/visibility/",
        {"action": "show", "select_all": "on", "on_page": [m.message_id for m in messages], "message": []},
    )
    assert response.status_code == 302
    assert set(Message.objects.values_list("visible", flat=True)) == {True}


def test_one_foreign_message_among_the_chosen_changes_nothing(portal):
    mine = publish()
    theirs = publish(B)
    response = portal.client("alice").post(
        f"/e/{A}/visibility/", {"action": "hide", "message": [mine.message_id, theirs.message_id]}
    )
    assert response.status_code == 404
    assert set(Message.objects.values_list("visible", flat=True)) == {True}
    assert not AuditRecord.objects.filter(action="patchMessages").exists()


def test_nothing_chosen_is_said_and_changes_nothing(portal):
    message = publish()
    response = portal.client("alice").post(f"/e/{A}/visibility/", {"action": "hide"}, follow=True)
    assert "Select at least one message." in response.content.decode()
    message.refresh_from_db()
    assert message.visible


def test_the_message_page_button_comes_back_to_the_message(portal):
    message = publish()
    response = portal.client("bob").post(
        f"/e/{A}/visibility/", {"action": "hide", "message": message.message_id, "return_to": "message"}
    )
    assert response["Location"] == f"/e/{A}/m/{message.message_id}/"


def test_htmx_bulk_action_answers_with_the_refreshed_region(portal):
    first, second = publish(), publish()
    response = portal.client("alice").post(
        f"/e/{A}/visibility/", {"action": "hide", "message": [first.message_id]}, **HTMX
    )
    page = response.content.decode()
    assert response.status_code == 200 and page.startswith('<section id="message-region"')
    assert "1 message is hidden." in page
    assert listed(response) == [second.message_id]


def test_a_get_does_not_change_visibility(portal):
    message = publish()
    assert (
        portal.client("alice")
        .get(f"/e/{A}/visibility/", {"action": "hide", "message": message.message_id})
        .status_code
        == 405
    )
    message.refresh_from_db()
    assert message.visible


def test_receipt_days_are_brussels_days(portal, clock):
    clock.move_to(dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC))  # 2 March 00:30 in Brussels
    message = publish()
    bob = portal.client("bob")
    assert listed(bob.get(f"/e/{A}/", {"received_from": "2026-03-02"})) == [message.message_id]
    assert listed(bob.get(f"/e/{A}/", {"received_to": "2026-03-01"})) == []
