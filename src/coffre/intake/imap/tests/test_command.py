"""``coffre imap-source``: add (password from a file or stdin), list, remove, poll."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from coffre.intake.imap.models import ImapSource
from coffre.intake.imap.tests.conftest import mail

DELIVERED: list[bytes] = []


def sink(raw, envelope):
    DELIVERED.append(raw)


def run(*args, stdin: str | None = None, monkeypatch=None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("imap-source", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def password_file(tmp_path, mailbox):
    path = tmp_path / "imap-password"
    path.write_text(mailbox.password + "\n")
    return path


def add_args(mailbox, dovecot, *extra):
    return (
        "add",
        "--target",
        "documents-k7q2",
        "--host",
        "127.0.0.1",
        "--port",
        str(dovecot.imap_port),
        "--security",
        "plain",
        "--username",
        mailbox.user,
        *extra,
    )


@pytest.mark.django_db
def test_add_is_idempotent_and_never_prints_the_password(mailbox, dovecot, password_file):
    out, err = run(*add_args(mailbox, dovecot, "--password-file", str(password_file), "--json"))
    again, err_again = run(*add_args(mailbox, dovecot, "--password-file", str(password_file)))

    added = json.loads(out)
    assert added["created"] is True and again.strip() == str(added["id"])
    assert "already there" in err_again
    assert ImapSource.objects.count() == 1
    for text in (out, err, again, err_again):
        assert mailbox.password not in text


@pytest.mark.django_db
def test_the_password_can_come_from_stdin(mailbox, dovecot, monkeypatch):
    out, _ = run(
        *add_args(mailbox, dovecot, "--password-stdin"),
        stdin=mailbox.password + "\n",
        monkeypatch=monkeypatch,
    )

    from coffre.intake.imap import credentials

    assert credentials.unseal(ImapSource.objects.get(pk=int(out)).password_sealed) == mailbox.password


@pytest.mark.django_db
def test_add_without_password_or_with_a_bad_value_fails_clearly(mailbox, dovecot):
    with pytest.raises(CommandError, match="--password-file PATH or --password-stdin"):
        run(*add_args(mailbox, dovecot))
    with pytest.raises(CommandError, match="cannot read the password file"):
        run(*add_args(mailbox, dovecot, "--password-file", "/nonexistent/file"))
    with pytest.raises(CommandError, match="only allowed to this machine"):
        run(
            "add",
            "--target",
            "t",
            "--host",
            "imap.example.be",
            "--security",
            "plain",
            "--username",
            "u",
            "--password-file",
            __file__,
        )


@pytest.mark.django_db
def test_list_poll_and_remove(mailbox, dovecot, password_file, settings):
    settings.COFFRE_IMAP_DELIVER = f"{__name__}.sink"
    DELIVERED.clear()
    mailbox.append(mail(1), mail(2))
    source_id = int(run(*add_args(mailbox, dovecot, "--password-file", str(password_file)))[0])

    polled, _ = run("poll", str(source_id), "--json")
    listed, _ = run("list", "--json")
    text, _ = run("list")
    removed, _ = run("remove", str(source_id))
    removed_again, _ = run("remove", str(source_id), "--json")

    assert json.loads(polled)[0] | {"source_id": source_id} == {
        "source_id": source_id,
        "status": "ok",
        "delivered": 2,
        "skipped": 0,
        "more": False,
        "uid_validity_changed": False,
        "error": "",
    }
    assert len(DELIVERED) == 2
    [entry] = json.loads(listed)
    assert (entry["last_uid"], entry["delivered"], entry["last_error"]) == (2, 2, "")
    assert f"{mailbox.user}@127.0.0.1:{dovecot.imap_port}/INBOX (plain) -> documents-k7q2" in text
    assert removed.strip() == f"source {source_id} removed"
    assert json.loads(removed_again) == {"id": source_id, "removed": False}
    assert mailbox.password not in listed + text


@pytest.mark.django_db
def test_a_failing_poll_exits_non_zero_with_the_reason(mailbox, dovecot, tmp_path):
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password")
    source_id = int(run(*add_args(mailbox, dovecot, "--password-file", str(wrong)))[0])

    out = io.StringIO()
    with pytest.raises(CommandError, match=f"polling failed for {source_id}"):
        call_command("imap-source", "poll", stdout=out)
    assert "refused the login" in out.getvalue() and "not-the-password" not in out.getvalue()
    with pytest.raises(CommandError, match="no source 999"):
        run("poll", "999")
