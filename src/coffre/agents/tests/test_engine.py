"""The sync engine (coffre.agents.engine): what a sync brings, every status it ends in, what waits
for the person and what is retried, and that a re-run, a document listed again or a worker stopped
half way never stores a document twice nor loses one."""

import datetime as dt
from decimal import Decimal

import pytest

from coffre.agents import engine, filing, scheduling, services
from coffre.agents.models import Connection, RemoteItem, RunStatus, Status, SyncRun, Trigger
from coffre.agents.sdk import (
    LoginFailed,
    PaymentFacts,
    UnknownAgentError,
    UserAction,
    UserActionNeeded,
    VendorDown,
)
from coffre.agents.tests.conftest import add, credentials, web
from coffre.agents.tests.fakes import Crash, pdf
from coffre.audit.models import AuditRecord
from coffre.mailbox import store
from coffre.mailbox.models import Blob, Message, Origin
from coffre.mailbox.tests.spaces import file_document


def stored(connection: Connection) -> list[str]:
    """The subjects of the space's agent messages, oldest first."""
    return [
        next(iter(message.subject.values()))
        for message in Message.objects.filter(
            ebox=connection.box, folder=connection.folder, origin=Origin.AGENT
        ).order_by("id")
    ]


def fresh(connection: Connection) -> Connection:
    return Connection.objects.get(pk=connection.pk)


# --- a sync ---------------------------------------------------------------------------------------


def test_a_first_sync_brings_every_document_into_the_space_once(portal, shelf, clock):
    portal.a.language = "en"
    portal.a.save(update_fields=["language"])
    shelf.add(3)
    connection = add(portal, folder="purchases")
    assert connection.status == Status.PENDING and connection.next_run_at == clock.now()

    result = engine.sync(connection.pk)

    assert (result.status, result.found, result.new, result.duplicates) == (Status.OK, 3, 3, 0)
    assert stored(connection) == ["Bill 1", "Bill 2", "Bill 3"]
    message = Message.objects.filter(origin=Origin.AGENT).order_by("id").first()
    assert (message.folder, message.sender_name, message.sender_address) == ("purchases", "Shelf & Co", "")
    attachment = message.attachments.get()
    assert attachment.main_content and attachment.blob.scope_id == portal.a.pk
    assert b"".join(store.open_verified(attachment.blob)) == shelf.items[0].content
    connection = fresh(connection)
    assert (connection.status, connection.cursor, connection.documents, connection.failures) == (
        Status.OK,
        "3",
        3,
        0,
    )
    assert connection.claimed_by == "" and connection.claim_expires_at is None
    assert connection.last_success_at == clock.now()
    assert connection.next_run_at == scheduling.next_regular_run(
        connection.pk, dt.timedelta(days=3), clock.now()
    )
    run = SyncRun.objects.get(connection=connection)
    assert (run.trigger, run.status, run.found, run.new, run.error) == (Trigger.FIRST, RunStatus.OK, 3, 3, "")
    assert run.ended_at == clock.now()
    items = RemoteItem.objects.filter(connection=connection).order_by("id")
    assert [item.remote_id for item in items] == ["bill-1", "bill-2", "bill-3"]
    assert items[0].message == message and items[0].facts["title"] == "Bill 1"
    assert items[0].facts["listed"] == {"index": 0} and items[0].facts["details"] == {"page": 0}
    assert AuditRecord.objects.filter(action="agents.document.filed").count() == 3


def test_a_document_brings_its_further_files_its_payment_and_its_expiry(portal, shelf, clock):
    payment = PaymentFacts(
        amount=Decimal("99.90"),
        due_date=dt.date(2026, 2, 15),
        iban="BE71 0961 2345 6769",
        reference="+++090/9337/55493+++",
        direct_debit=True,
    )
    expiry = clock.now() + dt.timedelta(days=400)
    shelf.add(1, more=(("details.pdf", pdf("Details")),), payment=payment, expires_at=expiry)
    connection = add(portal)
    engine.sync(connection.pk)
    message = Message.objects.get(origin=Origin.AGENT)
    assert [(a.file_name, a.main_content) for a in message.attachments.all()] == [
        ("bill-1.pdf", True),
        ("details.pdf", False),
    ]
    assert message.expiration_date == expiry
    assert message.payment_data.amount == Decimal("99.90") and message.payment_data.iban == "BE71096123456769"
    assert message.payment_data.reference == "+++090/9337/55493+++"
    assert RemoteItem.objects.get().facts["direct_debit"] is True


def test_a_personal_box_gets_the_documents_of_its_owners_agent(portal, shelf):
    from coffre.mailbox.services_spaces import personal_box

    box = personal_box(portal.people["bob"])
    shelf.add(2)
    connection = add(portal, "bob", box=box)
    assert engine.sync(connection.pk).new == 2
    blob = Message.objects.filter(ebox=box).first().attachments.get().blob
    assert blob.owner_id == portal.people["bob"].pk and blob.scope_id is None


# --- every status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where, error, status, user_action",
    [
        ("login", LoginFailed("the portal refused the login"), Status.LOGIN_FAILED, ""),
        (
            "login",
            UserActionNeeded(UserAction.ACCEPT_TERMS, "terms page"),
            Status.USER_ACTION_NEEDED,
            UserAction.ACCEPT_TERMS,
        ),
        ("list", UserActionNeeded(UserAction.TWO_FACTOR), Status.USER_ACTION_NEEDED, UserAction.TWO_FACTOR),
        ("login", VendorDown("503 Service Unavailable"), Status.VENDOR_DOWN, ""),
        ("download", VendorDown("timeout"), Status.VENDOR_DOWN, ""),
        ("list", UnknownAgentError("the bills page has no table"), Status.UNKNOWN_ERROR, ""),
        ("download", ZeroDivisionError("division by zero"), Status.UNKNOWN_ERROR, ""),
    ],
)
def test_each_error_ends_in_its_status(portal, shelf, clock, where, error, status, user_action):
    shelf.add(2)
    if where == "login":
        shelf.login_error = error
    elif where == "list":
        shelf.list_error = error
    else:
        shelf.download_errors["bill-2"] = error
    connection = add(portal)
    result = engine.sync(connection.pk)
    connection = fresh(connection)
    assert (result.status, connection.status, connection.user_action) == (status, status, user_action)
    assert connection.status_changed_at == clock.now() and connection.failures == 1
    assert type(error).__name__ in connection.error_detail
    run = SyncRun.objects.get(connection=connection)
    assert (run.status, run.error) == (status, connection.error_detail)
    assert connection.claimed_by == ""
    if where == "download":  # the first document was committed before the error
        assert (run.found, run.new, stored(connection)) == (2, 1, ["Bill 1"])
    if status in (Status.LOGIN_FAILED, Status.USER_ACTION_NEEDED):
        assert connection.next_run_at is None
    else:
        assert connection.next_run_at > clock.now()


def test_a_bare_exception_is_an_unknown_error_with_its_type_message_and_place(portal, shelf):
    shelf.add(1)
    shelf.download_errors["bill-1"] = KeyError("invoice-table")
    connection = add(portal)
    engine.sync(connection.pk)
    detail = fresh(connection).error_detail
    assert detail.startswith("builtins.KeyError: 'invoice-table' (at fakes.py:")
    assert "in download" in detail


def test_a_wrong_password_is_a_login_failure(portal, shelf):
    connection = add(portal, password="not the password")
    assert engine.sync(connection.pk).status == Status.LOGIN_FAILED
    assert "wrong login or password" in fresh(connection).error_detail


def test_an_agent_no_longer_installed_is_an_unknown_error(portal, shelf):
    connection = add(portal)
    Connection.objects.filter(pk=connection.pk).update(agent_id="gone-agent")
    result = engine.sync(connection.pk)
    assert result.status == Status.UNKNOWN_ERROR and "'gone-agent' is not installed" in result.error


def test_credentials_that_no_longer_open_are_a_login_failure(portal, shelf):
    connection = add(portal)
    Connection.objects.filter(pk=connection.pk).update(credentials_sealed=b"CFE1" + b"\0" * 80)
    result = engine.sync(connection.pk)
    assert result.status == Status.LOGIN_FAILED and "cannot be opened" in result.error


def test_maintenance_shows_on_every_connection_of_the_agent_and_none_runs(portal, shelf, clock):
    from coffre.agents import selectors

    shelf.add(1)
    first, second = add(portal), add(portal, label="second")
    assert services.set_maintenance(shelf_agent_id(), True, actor=web("operator"), reason="portal redesign")
    assert {selectors.shown_status(item) for item in (fresh(first), fresh(second))} == {Status.MAINTENANCE}
    assert engine.sync(first.pk).status == "busy"
    assert scheduling.claim_due() == []
    assert shelf.logins == 0
    assert services.set_maintenance(shelf_agent_id(), False, actor=web("operator"))
    assert selectors.shown_status(fresh(first)) == Status.PENDING
    assert len(scheduling.claim_due()) == 2


def shelf_agent_id() -> str:
    from coffre.agents.tests.fakes import ShelfAgent

    return ShelfAgent.id


# --- what waits for the person, what is retried -----------------------------------------------------


def test_a_login_failure_is_never_retried_until_the_credentials_are_replaced(portal, shelf, clock):
    shelf.add(1)
    connection = add(portal, password="an old password")
    engine.sync(connection.pk)
    for days in (1, 10, 100):
        clock.shift(dt.timedelta(days=days))
        assert scheduling.claim_due() == [] and engine.sync(connection.pk).status == "busy"
    assert shelf.logins == 0 and SyncRun.objects.count() == 1
    services.replace_credentials(portal.people["alice"], connection.pk, credentials(), actor=web("alice"))
    connection = fresh(connection)
    assert (connection.status, connection.next_run_at, connection.failures) == (
        Status.PENDING,
        clock.now(),
        0,
    )
    assert engine.sync(connection.pk).status == Status.OK and stored(connection) == ["Bill 1"]


def test_an_action_on_the_providers_site_waits_until_the_person_says_it_is_done(portal, shelf, clock):
    shelf.add(1)
    shelf.login_error = UserActionNeeded(UserAction.CHANGE_PASSWORD)
    connection = add(portal)
    engine.sync(connection.pk)
    clock.shift(dt.timedelta(days=30))
    assert scheduling.claim_due() == []
    shelf.login_error = None
    services.user_action_done(portal.people["alice"], connection.pk, actor=web("alice"))
    assert fresh(connection).status == Status.PENDING
    assert engine.sync(connection.pk).status == Status.OK


@pytest.mark.parametrize("error", [VendorDown("503"), UnknownAgentError("odd page")])
def test_a_provider_down_or_an_unknown_error_is_retried_with_growing_waits(
    portal, shelf, clock, settings, error
):
    settings.COFFRE_AGENTS_RETRY_MIN = 15 * 60
    settings.COFFRE_AGENTS_RETRY_MAX = 24 * 3600
    shelf.login_error = error
    connection = add(portal)
    waits = []
    for _attempt in range(10):
        assert engine.sync(connection.pk).status == error.status
        connection = fresh(connection)
        waits.append((connection.next_run_at - clock.now()).total_seconds())
        clock.move_to(connection.next_run_at)
    assert connection.failures == 10
    for failures, wait in enumerate(waits, start=1):
        nominal = min(15 * 60 * 2 ** (failures - 1), 24 * 3600)  # the agent syncs every 3 days
        assert 0.75 * nominal <= wait <= nominal
    shelf.login_error = None
    assert engine.sync(connection.pk).status == Status.OK
    assert fresh(connection).failures == 0


def test_the_backoff_never_exceeds_the_agents_frequency():
    assert scheduling.retry_delay(40, dt.timedelta(hours=2)) <= dt.timedelta(hours=2)
    assert scheduling.retry_delay(1, dt.timedelta(days=30)) <= dt.timedelta(minutes=15)


# --- nothing twice, nothing lost ------------------------------------------------------------------------


def test_a_rerun_and_a_provider_that_lists_everything_again_store_nothing_twice(portal, shelf, clock):
    shelf.add(3)
    connection = add(portal)
    engine.sync(connection.pk)
    clock.move_to(fresh(connection).next_run_at)
    result = engine.sync(connection.pk)
    assert (result.found, result.new) == (0, 0)  # the cursor: nothing after the last one
    shelf.ignore_cursor = True
    shelf.add(1)
    clock.move_to(fresh(connection).next_run_at)
    result = engine.sync(connection.pk)
    assert (result.found, result.new) == (4, 1)
    assert shelf.downloads == ["bill-1", "bill-2", "bill-3", "bill-4"]  # none downloaded twice
    assert stored(connection) == ["Bill 1", "Bill 2", "Bill 3", "Bill 4"]
    assert fresh(connection).cursor == "4"


def test_the_same_content_under_another_id_or_already_in_the_space_is_stored_once(portal, shelf):
    first = shelf.add(1)[0]
    shelf.add(1)[0].content = first.content  # the provider serves one bill under two ids
    filed_by_mail = file_document(portal.ebox_a, pdf("Bill by mail"))
    shelf.add(1)[0].content = pdf("Bill by mail")
    connection = add(portal)
    result = engine.sync(connection.pk)
    assert (result.found, result.new, result.duplicates) == (3, 1, 2)
    items = {item.remote_id: item for item in RemoteItem.objects.select_related("message")}
    assert items["bill-2"].message == items["bill-1"].message and items["bill-2"].duplicate
    assert items["bill-3"].message.message_id == filed_by_mail.message_ids[0]
    assert Blob.objects.filter(sha256=items["bill-1"].sha256).count() == 1


@pytest.mark.parametrize(
    "crash", [Crash(2, "download"), Crash(2, "list")], ids=["in a download", "between two"]
)
def test_a_worker_stopped_half_way_resumes_after_its_last_document(portal, shelf, crash):
    shelf.add(5)
    shelf.crash = crash
    connection = add(portal)
    with pytest.raises(KeyboardInterrupt):
        engine.sync(connection.pk)
    connection = fresh(connection)
    assert stored(connection) == ["Bill 1", "Bill 2"] and connection.cursor == "2"
    assert connection.claimed_by == "" and connection.status == Status.PENDING  # still due, not an error
    assert SyncRun.objects.get().status == RunStatus.INTERRUPTED
    shelf.crash = None
    result = engine.sync(connection.pk)
    assert (result.status, result.found, result.new) == (Status.OK, 3, 3)
    assert stored(connection) == [f"Bill {number}" for number in range(1, 6)]
    assert RemoteItem.objects.count() == 5


def stored_files(root) -> int:
    return sum(1 for path in root.rglob("*") if path.is_file())


def test_a_stop_inside_a_documents_transaction_rolls_it_back_whole(
    portal, shelf, monkeypatch, isolated_blob_storage
):
    shelf.add(3)
    connection = add(portal)
    real = filing.facts_of

    def dying(remote, fetched):
        if remote.remote_id == "bill-2":
            raise KeyboardInterrupt()  # after the message and its blob were written, before the commit
        return real(remote, fetched)

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(filing, "facts_of", dying)
        engine.sync(connection.pk)
    assert stored(connection) == ["Bill 1"] and fresh(connection).cursor == "1"
    assert Blob.objects.count() == 1 and stored_files(isolated_blob_storage) == 1  # the staged file went too
    assert engine.sync(connection.pk).new == 2
    assert stored(connection) == ["Bill 1", "Bill 2", "Bill 3"]
    assert Blob.objects.count() == 3 and stored_files(isolated_blob_storage) == 3


def test_a_claim_held_by_another_worker_is_left_alone_until_it_lapses(portal, shelf, clock, settings):
    shelf.add(1)
    connection = add(portal)
    token = scheduling.claim_one(connection.pk)
    assert token and engine.sync(connection.pk).status == "busy"
    clock.shift(dt.timedelta(seconds=settings.COFFRE_AGENTS_LEASE + 1))  # the worker died
    assert engine.sync(connection.pk).status == Status.OK
    assert engine.run_claimed(connection.pk, token).status == "busy"  # the dead worker's token is void


def test_credentials_replaced_during_a_failing_run_are_tried_next(portal, shelf, clock):
    shelf.login_error = LoginFailed("refused")
    connection = add(portal)
    token = scheduling.claim_one(connection.pk)
    shelf.on_login = lambda: services.replace_credentials(
        portal.people["alice"], connection.pk, credentials(), actor=web("alice")
    )
    assert engine.run_claimed(connection.pk, token).status == Status.LOGIN_FAILED
    connection = fresh(connection)
    assert connection.status == Status.PENDING and connection.next_run_at == clock.now()


def test_programs_and_unsafe_files_of_a_provider_are_refused_as_for_a_mail(portal, shelf):
    program = b"MZ\x90\x00" + b"\x00" * 200
    shelf.add(1, more=(("setup.exe", program),))  # a bill with a program beside it
    [refused] = shelf.add(1)
    refused.content = program  # a "bill" that is a program
    shelf.add(1)
    connection = add(portal)
    engine.sync(connection.pk)
    assert stored(connection) == ["Bill 1", "Bill 3"]
    first = RemoteItem.objects.get(remote_id="bill-1").message
    assert [a.file_name for a in first.attachments.all()] == ["bill-1.pdf"]
    assert RemoteItem.objects.get(remote_id="bill-1").facts["details"]["refused"][0]["code"] == "executable"
    [audit] = AuditRecord.objects.filter(action="agents.document.refused")
    assert audit.details["remoteId"] == "bill-2" and audit.details["refused"][0]["code"] == "executable"
    assert fresh(connection).status == Status.OK
    engine.sync(connection.pk)  # the cursor is past it: not taken again, not refused again
    assert AuditRecord.objects.filter(action="agents.document.refused").count() == 1
