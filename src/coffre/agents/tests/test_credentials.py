"""Credentials (coffre.agents.credentials): sealed at rest under a purpose of their own, never in
the database in clear, never in a log, an error detail, the audit trail or a support report."""

import io
import logging

import pytest
from django.utils import translation

from coffre.agents import credentials, engine, services
from coffre.agents.models import Connection, SyncRun
from coffre.agents.tests.conftest import add, web
from coffre.agents.tests.fakes import LOGIN, PASSWORD, ShelfAgent
from coffre.audit.models import AuditRecord
from coffre.core.crypto import EncryptingWriter
from coffre.core.keys import keyring
from coffre.intake.imap import credentials as imap_credentials


def test_sealed_credentials_open_again_and_only_under_their_purpose():
    values = {"login": LOGIN, "password": PASSWORD}
    sealed = credentials.seal(values)
    assert credentials.unseal(sealed) == values
    assert PASSWORD.encode() not in sealed and LOGIN.encode() not in sealed
    assert credentials.seal(values) != sealed  # a fresh data key each time
    with pytest.raises(imap_credentials.CredentialError):
        imap_credentials.unseal(sealed)  # the IMAP purpose's key does not open them
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, keyring(), b"documents/v1")
    writer.write(b'{"password": "x"}')
    writer.close()
    with pytest.raises(credentials.CredentialError) as refused:
        credentials.unseal(sink.getvalue())  # nor the documents' key theirs
    assert "x" not in str(refused.value).replace("configured", "")


def test_the_database_never_holds_the_password_in_clear(portal, shelf):
    connection = add(portal)
    raw = bytes(Connection.objects.values_list("credentials_sealed", flat=True).get(pk=connection.pk))
    assert PASSWORD.encode() not in raw
    row = Connection.objects.filter(pk=connection.pk).values().get()
    assert PASSWORD not in repr(row)
    assert row["shown_credentials"] == {"login": LOGIN}
    assert credentials.unseal(raw)["password"] == PASSWORD
    for record in AuditRecord.objects.all():
        assert PASSWORD not in repr(record.details)


def test_a_secret_in_an_agents_error_never_reaches_the_logs_the_run_or_the_support_report(
    portal, shelf, caplog
):
    shelf.add(1)
    # A careless agent puts the password and the login in its exception's message.
    shelf.download_errors["bill-1"] = RuntimeError(f"POST /login user={LOGIN} pass={PASSWORD} -> 500")
    connection = add(portal)
    with caplog.at_level(logging.DEBUG):
        engine.sync(connection.pk)
    connection = Connection.objects.get(pk=connection.pk)
    assert "pass=*** -> 500" in connection.error_detail
    assert PASSWORD not in caplog.text and "pass=***" in caplog.text
    assert PASSWORD not in SyncRun.objects.get().error
    report = services.report_to_support(portal.people["alice"], connection.pk, actor=web("alice"))
    text = repr(report.details)
    assert PASSWORD not in text and LOGIN not in text  # support gets no credential value at all
    assert "RuntimeError" in text


def test_a_password_is_taken_out_of_a_login_error_too(portal, shelf, caplog):
    from coffre.agents.sdk import LoginFailed

    shelf.login_error = LoginFailed(f"the portal echoed the password {PASSWORD}")
    connection = add(portal)
    with caplog.at_level(logging.DEBUG):
        engine.sync(connection.pk)
    assert PASSWORD not in Connection.objects.get(pk=connection.pk).error_detail
    assert PASSWORD not in caplog.text


def test_only_the_fields_that_are_not_secret_are_shown_again():
    agent = ShelfAgent()
    values = credentials.validated(
        agent, {"login": f"  {LOGIN} ", "password": f" {PASSWORD} ", "contract": "42"}
    )
    assert values == {"login": LOGIN, "password": f" {PASSWORD} ", "contract": "42"}  # a password as typed
    assert credentials.shown(agent, values) == {"login": LOGIN, "contract": "42"}
    assert credentials.secret_values(agent, values) == [f" {PASSWORD} "]
    with translation.override("en"), pytest.raises(credentials.CredentialsInvalid) as refused:
        credentials.validated(agent, {"login": LOGIN, "password": ""})
    assert refused.value.errors == {"password": "This field is required."}


def test_a_pem_key_is_taken_on_several_lines_and_only_in_a_multiline_field():
    from coffre.agents.providers.docconsumer import DocConsumerAgent
    from coffre.agents.providers.docconsumer_setup import new_key_and_certificate

    agent = DocConsumerAgent()
    key, _certificate = new_key_and_certificate("Coffre test")
    values = {
        "client_id": "client-1",
        "enterprise": "0403170701",
        "private_key": key,
        **{item.name: "" for item in agent.credential_fields if not item.required},
    }
    assert credentials.validated(agent, values)["private_key"] == key  # kept exactly, lines and all
    with pytest.raises(credentials.CredentialsInvalid) as refused:
        credentials.validated(agent, {**values, "private_key": key + "\x00"})
    assert set(refused.value.errors) == {"private_key"}
    with pytest.raises(credentials.CredentialsInvalid) as refused:
        credentials.validated(agent, {**values, "client_id": "client\n-1"})  # one line only
    assert set(refused.value.errors) == {"client_id"}


def test_the_http_clients_do_not_log_the_urls_they_ask():
    """httpx logs each request's URL at INFO; a provider's URL may carry a session id or a token."""
    for name in ("httpx", "httpcore"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
