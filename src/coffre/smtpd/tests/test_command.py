"""``coffre smtpd`` in a process of its own: listens, takes a bounce, stops on SIGTERM."""

import os
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from coffre.mailbox.models import Ebox
from coffre.outbox import services as outbox
from coffre.outbox.models import MailStatus
from coffre.outbox.testing import dsn
from coffre.outbox.tests.conftest import NOTIFIED, queue
from coffre.testing.live import child_environment, free_port, stop_process

BOUNCE_DOMAIN = "bounces.coffre.test"


def wait_for_smtp(port: int, process: subprocess.Popen, log_path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"coffre smtpd exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
                client.noop()
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"coffre smtpd did not answer on port {port}:\n{log_path.read_text()}")


def children_of(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("processes", [1, 3])
def test_coffre_smtpd_takes_bounces_and_stops_on_sigterm(
    transactional_db, settings, ebox, mailoutbox, tmp_path, processes
):
    settings.COFFRE_BOUNCE_DOMAIN = BOUNCE_DOMAIN
    mail = queue(to=NOTIFIED, ebox=ebox)
    assert outbox.deliver(mail.pk) == MailStatus.SENT
    port = free_port()
    log_path = tmp_path / "smtpd.log"
    env = child_environment(
        COFFRE_SMTP_LISTEN=f"127.0.0.1:{port}",
        COFFRE_BOUNCE_DOMAIN=BOUNCE_DOMAIN,
        COFFRE_SMTPD_PROCESSES=str(processes),
    )
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "coffre.cli", "smtpd"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        wait_for_smtp(port, process, log_path)
        children = children_of(process.pid)
        assert len(children) == processes - 1  # the others, forked, share the listening socket
        address = f"bounces+{mail.bounce_token}@{BOUNCE_DOMAIN}"
        for _ in range(2 * processes):  # whichever process takes it, each is answered
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                assert client.sendmail("", [address], dsn(to=address)) == {}
        assert stop_process(process, signal.SIGTERM, timeout=30) == 0
        assert not any(alive(child) for child in children)
    finally:
        stop_process(process, signal.SIGKILL)
    log = log_path.read_text()
    assert f"Coffre SMTP server listening on 127.0.0.1:{port}" in log
    assert "Coffre SMTP server stopped" in log
    assert mail.bounce_token not in log
    mail.refresh_from_db()
    assert mail.status == MailStatus.FAILED
    assert Ebox.objects.get(pk=ebox.pk).notification_status == "failing"


def test_a_bad_listen_address_is_refused():
    with pytest.raises(CommandError, match="--listen must be host:port"):
        call_command("smtpd", "--listen", "127.0.0.1:port")


def test_when_a_server_process_dies_the_whole_server_stops(transactional_db, tmp_path):
    port = free_port()
    log_path = tmp_path / "smtpd.log"
    env = child_environment(COFFRE_SMTP_LISTEN=f"127.0.0.1:{port}", COFFRE_SMTPD_PROCESSES="2")
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "coffre.cli", "smtpd"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        wait_for_smtp(port, process, log_path)
        [child] = children_of(process.pid)
        os.kill(child, signal.SIGKILL)
        assert process.wait(timeout=30) == 1  # stopped, for its supervisor to start it again
    finally:
        stop_process(process, signal.SIGKILL)
    log = log_path.read_text()
    assert "exited (status" in log and "a server process died" in log
