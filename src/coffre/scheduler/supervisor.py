"""Start child processes, restart those that die, stop them all on SIGINT/SIGTERM.

Used by ``coffre run``. Each child gets its own process group, so that a Ctrl-C in the terminal
reaches the children once, through the supervisor, and on Linux the kernel sends it SIGTERM if
the supervisor itself dies (PR_SET_PDEATHSIG), so that no child outlives it. A child that exits
while the supervisor is not stopping is restarted after an exponential backoff (1 s, 2 s, 4 s ...
up to ``max_backoff``); a child that had run for ``stable_after`` seconds starts again from 1 s.

This module knows nothing of Django: it runs argv lists.
"""

import ctypes
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger("coffre.run")

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: list[str]


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    pids: list[int] = field(default_factory=list)


def _child_setup() -> Callable[[], None] | None:
    """Runs in the child between fork and exec: ask for SIGTERM when the supervisor dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: no dlopen in the child
    prctl = libc.prctl

    def setup() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return setup


class Supervisor:
    def __init__(
        self,
        specs: list[ChildSpec],
        *,
        env: dict[str, str] | None = None,
        initial_backoff: float = 1.0,
        max_backoff: float = 60.0,
        stable_after: float = 60.0,
        stop_timeout: float = 40.0,
        poll_interval: float = 0.2,
    ):
        self.children = [_Child(spec) for spec in specs]
        self.env = env
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self._stop_signal: int | None = None
        self._forced = False
        self._wake = threading.Event()
        self._setup = _child_setup()

    # signals -------------------------------------------------------------------------------
    def _on_signal(self, signum, frame) -> None:
        self.stop(signum)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Ask ``run`` to forward ``signum`` to the children and return; a second call kills them."""
        if self._stop_signal is None:
            self._stop_signal = signum
            logger.info("run: %s, stopping the children", signal.Signals(signum).name)
        else:
            self._forced = True
            logger.warning("run: %s again, killing the children", signal.Signals(signum).name)
        self._wake.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    # children ------------------------------------------------------------------------------
    def _start(self, child: _Child) -> None:
        child.process = subprocess.Popen(
            child.spec.argv, env=self.env, process_group=0, preexec_fn=self._setup, stdin=subprocess.DEVNULL
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        child.pids.append(child.process.pid)
        logger.info("run: %s started (pid %d)", child.spec.name, child.process.pid)

    def _reap(self, child: _Child, now: float) -> None:
        code = child.process.returncode
        ran_for = now - child.started_at
        child.failures = 1 if ran_for >= self.stable_after else child.failures + 1
        delay = min(self.max_backoff, self.initial_backoff * 2.0 ** (child.failures - 1))
        child.restart_at = now + delay
        reason = f"signal {signal.Signals(-code).name}" if code < 0 else f"status {code}"
        logger.warning(
            "run: %s (pid %d) exited unexpectedly with %s after %.1fs; restarting in %gs",
            child.spec.name,
            child.process.pid,
            reason,
            ran_for,
            delay,
        )
        child.process = None

    def run(self) -> int:
        """Supervise until a stop signal; return 0 when every child stopped in time, else 1."""
        for child in self.children:
            self._start(child)
        while self._stop_signal is None:
            now = time.monotonic()
            for child in self.children:
                if child.process is not None and child.process.poll() is not None:
                    self._reap(child, now)
                if child.process is None and child.restart_at is not None and child.restart_at <= now:
                    self._start(child)
            self._wake.wait(self.poll_interval)
        return self._stop_all(self._stop_signal)

    def _stop_all(self, signum: int) -> int:
        running = [
            child for child in self.children if child.process is not None and child.process.poll() is None
        ]
        for child in running:
            child.process.send_signal(signum)
        deadline = time.monotonic() + self.stop_timeout
        while any(child.process.poll() is None for child in running):
            if self._forced or time.monotonic() >= deadline:
                for child in running:
                    if child.process.poll() is None:
                        logger.warning(
                            "run: %s (pid %d) did not stop, killing it", child.spec.name, child.process.pid
                        )
                        child.process.kill()
                for child in running:
                    child.process.wait()
                return 1
            time.sleep(0.05)
        for child in running:
            logger.info("run: %s stopped (status %s)", child.spec.name, child.process.returncode)
        return 0
