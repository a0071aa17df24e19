"""coffre.scheduler.supervisor: children restarted with backoff, stopped by signal, never orphaned."""

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from coffre.scheduler.supervisor import ChildSpec, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def is_gone(pid: int) -> bool:
    """The process has exited (a zombie nobody reaped counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return re.search(r"^State:\s+Z", status, re.MULTILINE) is not None


def run_in_thread(supervisor: Supervisor) -> tuple[threading.Thread, list[int]]:
    results: list[int] = []
    thread = threading.Thread(target=lambda: results.append(supervisor.run()))
    thread.start()
    return thread, results


def test_a_dying_child_is_restarted_with_growing_backoff(caplog):
    caplog.set_level(logging.INFO, logger="coffre.run")
    crasher = ChildSpec("crasher", [sys.executable, "-c", "raise SystemExit(3)"])
    sleeper = ChildSpec("sleeper", SLEEPER)
    supervisor = Supervisor([crasher, sleeper], initial_backoff=0.05, max_backoff=0.2, poll_interval=0.01)
    thread, results = run_in_thread(supervisor)
    try:
        wait_until(lambda: len(supervisor.children[0].pids) >= 5)
    finally:
        supervisor.stop()
        thread.join()

    restarts = [
        record.getMessage() for record in caplog.records if "exited unexpectedly" in record.getMessage()
    ]
    assert all(message.startswith("run: crasher") and "with status 3" in message for message in restarts)
    delays = [re.search(r"restarting in (\S+)s$", message).group(1) for message in restarts]
    assert delays[:4] == ["0.05", "0.1", "0.2", "0.2"]
    assert len(supervisor.children[1].pids) == 1  # the healthy child was left alone
    assert results == [0]
    assert all(is_gone(pid) for child in supervisor.children for pid in child.pids)


def test_stop_forwards_the_signal_and_waits_for_the_children(tmp_path):
    script = (
        "import signal, sys, time, pathlib\n"
        "def stop(signum, frame):\n"
        f"    pathlib.Path({str(tmp_path)!r}, sys.argv[1]).write_text(signal.Signals(signum).name)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        f"pathlib.Path({str(tmp_path)!r}, sys.argv[1] + '.ready').touch()\n"
        "time.sleep(600)\n"
    )
    specs = [ChildSpec(name, [sys.executable, "-c", script, name]) for name in ("web", "worker")]
    supervisor = Supervisor(specs, poll_interval=0.01)
    thread, results = run_in_thread(supervisor)
    wait_until(lambda: (tmp_path / "web.ready").exists() and (tmp_path / "worker.ready").exists())
    supervisor.stop(signal.SIGINT)
    thread.join()

    assert results == [0]
    assert (tmp_path / "web").read_text() == "SIGINT"
    assert (tmp_path / "worker").read_text() == "SIGINT"
    assert [child.process.returncode for child in supervisor.children] == [0, 0]


def test_a_child_that_ignores_the_signal_is_killed_after_the_timeout(tmp_path):
    script = (
        "import signal, time, pathlib\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"pathlib.Path({str(tmp_path)!r}, 'ready').touch()\n"
        "time.sleep(600)\n"
    )
    supervisor = Supervisor(
        [ChildSpec("stubborn", [sys.executable, "-c", script])], stop_timeout=0.5, poll_interval=0.01
    )
    thread, results = run_in_thread(supervisor)
    wait_until(lambda: (tmp_path / "ready").exists())
    supervisor.stop(signal.SIGTERM)
    thread.join()

    assert results == [1]
    assert supervisor.children[0].process.returncode == -signal.SIGKILL


def test_children_do_not_outlive_a_killed_supervisor():
    program = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(message)s')\n"
        "from coffre.scheduler.supervisor import ChildSpec, Supervisor\n"
        f"supervisor = Supervisor([ChildSpec('sleeper', {SLEEPER!r})])\n"
        "supervisor.install_signal_handlers()\n"
        "sys.exit(supervisor.run())\n"
    )
    process = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        child_pid = int(re.search(r"sleeper started \(pid (\d+)\)", line).group(1))
        assert not is_gone(child_pid)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        wait_until(lambda: is_gone(child_pid))
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
