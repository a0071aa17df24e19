"""``coffre client``: create (idempotent, --json), list, show, revoke, assertion."""

import io
import json
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.core.management.base import CommandError
from joserfc import jwt

from coffre.oauth import scopes
from coffre.oauth.certificates import verification_key
from coffre.oauth.management.commands.client import Command
from coffre.oauth.models import WebserviceClient
from coffre.oauth.testing import TOKEN_URL, certificate_pem, private_key_pem, request_token

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("client", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def cert_file(tmp_path, rsa_keys):
    path = tmp_path / "cert.pem"
    path.write_text(certificate_pem(rsa_keys[0], common_name="Compta SA"))
    return path


@pytest.fixture
def key_file(tmp_path, rsa_keys):
    path = tmp_path / "private.pem"
    path.write_bytes(private_key_pem(rsa_keys[0]))
    return path


def create(enterprise, cert_file, *extra):
    return run("create", "--enterprise", enterprise.cbe, "--certificate", str(cert_file), *extra)


def test_create_prints_only_the_client_id(enterprise_a, cert_file):
    out, err = create(enterprise_a, cert_file, "--scope", "messagesfull", "--scope", scopes.REFERENCE_DATA)
    client_id = out.strip()
    assert re.fullmatch(r"coffre-[a-z2-7]{20}", client_id)
    assert "created" in err
    client = WebserviceClient.objects.get(client_id=client_id)
    assert client.enterprise == enterprise_a
    assert client.scopes == [scopes.MESSAGES_FULL, scopes.REFERENCE_DATA]


def test_create_is_idempotent_and_says_so_in_json(enterprise_a, cert_file):
    first = json.loads(create(enterprise_a, cert_file, "--scope", "messagesfull", "--json")[0])
    again = json.loads(create(enterprise_a, cert_file, "--scope", "messagesfull", "--json")[0])
    assert first["created"] is True and again["created"] is False
    assert again["client_id"] == first["client_id"]
    assert WebserviceClient.objects.count() == 1
    assert {"client_id", "enterprise", "scopes", "certificate_sha256", "created"} <= set(first)
    assert first["enterprise"] == enterprise_a.cbe
    assert first["scopes"] == [scopes.MESSAGES_FULL]
    assert first["certificate_sha256"] == WebserviceClient.objects.get().certificate_sha256
    assert first["certificate_subject"] == "CN=Compta SA"


def test_create_accepts_the_printed_cbe_form(enterprise_a, cert_file):
    cbe = enterprise_a.cbe
    out, _ = run(
        "create",
        "--enterprise",
        f"BE {cbe[:4]}.{cbe[4:7]}.{cbe[7:]}",
        "--certificate",
        str(cert_file),
        "--scope",
        "messagesfull",
    )
    assert WebserviceClient.objects.get().client_id == out.strip()


def test_list_and_show(enterprise_a, enterprise_b, cert_file, tmp_path, rsa_keys):
    alice_id = create(enterprise_a, cert_file, "--scope", "messagesfull", "--name", "Compta")[0].strip()
    other_cert = tmp_path / "other.pem"
    other_cert.write_text(certificate_pem(rsa_keys[1]))
    charlie_id = create(enterprise_b, other_cert, "--scope", "summaryownebox")[0].strip()

    listing = json.loads(run("list", "--json")[0])
    assert [row["client_id"] for row in listing] == [alice_id, charlie_id]
    only_b = json.loads(run("list", "--enterprise", enterprise_b.cbe, "--json")[0])
    assert [row["client_id"] for row in only_b] == [charlie_id]
    plain = run("list")[0]
    assert f"{alice_id}  {enterprise_a.cbe}  active  messagesfull  Compta" in plain

    shown = json.loads(run("show", alice_id, "--json")[0])
    assert shown["name"] == "Compta" and shown["active"] is True
    assert "token" not in json.dumps(shown)
    assert f"client_id: {alice_id}" in run("show", alice_id)[0]


def test_revoke(enterprise_a, cert_file):
    client_id = create(enterprise_a, cert_file, "--scope", "messagesfull")[0].strip()
    assert run("revoke", client_id)[0].strip() == f"{client_id} revoked"
    assert json.loads(run("show", client_id, "--json")[0])["active"] is False
    assert "revoked" in run("list")[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["show", "coffre-nope"], "no webservice client 'coffre-nope'"),
        (["revoke", "coffre-nope"], "no webservice client 'coffre-nope'"),
        (
            ["create", "--enterprise", "0999999922", "--certificate", "CERT", "--scope", "messagesfull"],
            "no enterprise with CBE number 0999999922",
        ),
        (
            ["create", "--enterprise", "ENTERPRISE", "--certificate", "CERT", "--scope", "everything"],
            "unknown scope 'everything'",
        ),
        (
            [
                "create",
                "--enterprise",
                "ENTERPRISE",
                "--certificate",
                "/no/such/file.pem",
                "--scope",
                "messagesfull",
            ],
            "cannot read the certificate /no/such/file.pem",
        ),
        (
            ["create", "--enterprise", "ENTERPRISE", "--certificate", "KEY", "--scope", "messagesfull"],
            "private key",
        ),
    ],
)
def test_errors_are_clear_messages(enterprise_a, cert_file, key_file, args, message):
    args = [
        {"CERT": str(cert_file), "KEY": str(key_file), "ENTERPRISE": enterprise_a.cbe}.get(a, a) for a in args
    ]
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)


def test_errors_exit_non_zero_without_a_traceback(capsys, db):
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["coffre", "client", "revoke", "coffre-nope"])
    assert exited.value.code != 0
    err = capsys.readouterr().err
    assert "no webservice client 'coffre-nope'" in err
    assert "Traceback" not in err


def test_assertion_is_a_fresh_rs256_jwt_the_token_endpoint_accepts(client, make_client, key_file):
    alice = make_client()
    first = run("assertion", "--client-id", alice.client_id, "--key", str(key_file), "--audience", TOKEN_URL)[
        0
    ]
    second = run(
        "assertion", "--client-id", alice.client_id, "--key", str(key_file), "--audience", TOKEN_URL
    )[0]
    _, public_key = verification_key(alice.certificate_pem)
    token = jwt.decode(first.strip(), public_key, algorithms=["RS256"])
    assert token.header["alg"] == "RS256"
    claims = token.claims
    assert claims["iss"] == claims["sub"] == alice.client_id
    assert claims["aud"] == TOKEN_URL
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"] != jwt.decode(second.strip(), public_key).claims["jti"]
    assert request_token(client, first.strip()).status_code == 200


def test_assertion_defaults_and_lifetime(key_file, settings):
    settings.COFFRE_BASE_URL = ""
    out = run("assertion", "--client-id", "coffre-x", "--key", str(key_file), "--lifetime", "60")[0]
    claims = jwt.decode(out.strip(), verification_key(certificate_pem_for(key_file))[1]).claims
    assert claims["aud"] == "http://127.0.0.1:8000/oauth2/token"
    assert claims["exp"] - claims["iat"] == 60
    settings.COFFRE_BASE_URL = "https://coffre.example.be"
    out = run("assertion", "--client-id", "coffre-x", "--key", str(key_file))[0]
    assert jwt.decode(out.strip(), verification_key(certificate_pem_for(key_file))[1]).claims["aud"] == (
        "https://coffre.example.be/oauth2/token"
    )


def certificate_pem_for(key_file):
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    return certificate_pem(key)


def test_assertion_refuses_bad_keys_and_lifetimes(tmp_path, key_file, settings):
    settings.COFFRE_ASSERTION_MAX_LIFETIME = 600
    with pytest.raises(CommandError, match="between 1 and 600"):
        run("assertion", "--client-id", "c", "--key", str(key_file), "--lifetime", "601")
    encrypted = tmp_path / "encrypted.pem"
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    with pytest.raises(CommandError, match="encrypted"):
        run("assertion", "--client-id", "c", "--key", str(encrypted))
    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(private_key_pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(CommandError, match="not an RSA key"):
        run("assertion", "--client-id", "c", "--key", str(ec_key))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    with pytest.raises(CommandError, match="cannot be read"):
        run("assertion", "--client-id", "c", "--key", str(garbage))
