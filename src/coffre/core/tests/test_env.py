"""Settings helpers of coffre.core.env: refuse a bad value at start-up, naming the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from coffre.core.env import env_addresses, env_float


def test_env_addresses(monkeypatch):
    monkeypatch.setenv("COFFRE_DNS_NAMESERVERS", " 127.0.0.1:5353, ::1 ,[2001:db8::53]:53,192.0.2.53, ")

    assert env_addresses("COFFRE_DNS_NAMESERVERS", default_port=53) == [
        ("127.0.0.1", 5353), ("::1", 53), ("2001:db8::53", 53), ("192.0.2.53", 53)]


def test_env_addresses_unset_or_empty(monkeypatch):
    monkeypatch.delenv("COFFRE_DNS_NAMESERVERS", raising=False)
    assert env_addresses("COFFRE_DNS_NAMESERVERS", default_port=53) == []
    monkeypatch.setenv("COFFRE_DNS_NAMESERVERS", "")
    assert env_addresses("COFFRE_DNS_NAMESERVERS", default_port=53) == []


@pytest.mark.parametrize("value", ["dns.example.be", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x",
                                   "[::1", "[::1]x", "300.1.1.1"])
def test_env_addresses_refuses(monkeypatch, value):
    monkeypatch.setenv("COFFRE_DNS_NAMESERVERS", value)

    with pytest.raises(ImproperlyConfigured, match="COFFRE_DNS_NAMESERVERS must be"):
        env_addresses("COFFRE_DNS_NAMESERVERS", default_port=53)


def test_env_float(monkeypatch):
    monkeypatch.delenv("COFFRE_DNS_TIMEOUT", raising=False)
    assert env_float("COFFRE_DNS_TIMEOUT", 5.0, minimum=0.1) == 5.0
    monkeypatch.setenv("COFFRE_DNS_TIMEOUT", "0.5")
    assert env_float("COFFRE_DNS_TIMEOUT", 5.0, minimum=0.1) == 0.5
    for bad in ("fast", "nan", "inf", "0.01"):
        monkeypatch.setenv("COFFRE_DNS_TIMEOUT", bad)
        with pytest.raises(ImproperlyConfigured, match="COFFRE_DNS_TIMEOUT must be"):
            env_float("COFFRE_DNS_TIMEOUT", 5.0, minimum=0.1)
