"""The environment variables of sender authentication, read by settings.py at start-up."""

import os
import subprocess
import sys

PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings; "
    "from coffre.intake.resolver import resolver_from_settings; "
    "print(settings.COFFRE_SENDER_AUTH, settings.COFFRE_DNS_NAMESERVERS, settings.COFFRE_DNS_TIMEOUT); "
    "print(resolver_from_settings())"
)


def start_coffre(**variables) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "coffre.settings", **variables}
    return subprocess.run([sys.executable, "-c", PRINT_SETTINGS], env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_variables_reach_the_resolver():
    started = start_coffre(COFFRE_SENDER_AUTH="off", COFFRE_DNS_NAMESERVERS="127.0.0.1:5353,[::1]:53",
                           COFFRE_DNS_TIMEOUT="2.5")

    assert started.returncode == 0, started.stderr
    assert started.stdout.splitlines() == [
        "False [('127.0.0.1', 5353), ('::1', 53)] 2.5",
        "<Resolver nameservers=127.0.0.1:5353, [::1]:53 timeout=2.5s>",
    ]


def test_the_defaults():
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("COFFRE_SENDER_AUTH", "COFFRE_DNS_NAMESERVERS", "COFFRE_DNS_TIMEOUT")}
    started = subprocess.run([sys.executable, "-c", PRINT_SETTINGS.split("; print(resolver")[0]],
                             env={**environment, "DJANGO_SETTINGS_MODULE": "coffre.settings"},
                             capture_output=True, text=True, timeout=60)

    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "True [] 5.0"


def test_a_host_name_as_nameserver_stops_coffre_at_start_up():
    started = start_coffre(COFFRE_DNS_NAMESERVERS="dns.fidu-lebrun.be")

    assert started.returncode != 0
    assert "COFFRE_DNS_NAMESERVERS must be a comma-separated list of ip[:port]" in started.stderr
