"""What every phase of ``make bench`` shares: paths, the production HTTP server, the load
generator, percentiles, and Django set up on a phase's own var directory.

The server is the production one: gunicorn with ``coffre.gunicorn_conf`` when the project has
it, else gunicorn with the gthread worker and the workers/threads below (docs/benchmarks.md says
why). It runs with ``COFFRE_BENCH=1`` so that the bare upload endpoint (the publication limit) is
mounted beside the API, in the same processes.
"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
VAR_BENCH = ROOT / "var" / "bench"
API_ROOT = "/REST/ebox/enterprise/messageRegistry/v2/"
PYTHON = sys.executable

# Fallback server configuration (no coffre/gunicorn_conf.py): one worker process per core keeps
# both cores busy with Python; threads cover the time a request waits on the disk (fsync of a
# blob, SQLite's write lock) without a process switch.
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
# Settings of the production configuration a run may override (docs/benchmarks.md, the sweep).
_OVERRIDES = (
    ("BENCH_WORKERS", "COFFRE_WEB_WORKERS"),
    ("BENCH_THREADS", "COFFRE_WEB_THREADS"),
    ("BENCH_ACCESS_LOG", "COFFRE_WEB_ACCESS_LOG"),
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (0 < fraction <= 1)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(round(fraction * len(ordered) + 0.4999999)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_summary(seconds: list[float]) -> dict:
    return {
        "n": len(seconds),
        "p50_ms": percentile(seconds, 0.50) * 1000,
        "p99_ms": percentile(seconds, 0.99) * 1000,
        "mean_ms": (sum(seconds) / len(seconds) * 1000) if seconds else float("nan"),
    }


def closed_loop(workers: list, measure_from: float, stop_at: float, records: list) -> tuple[list, float, float]:
    """Run the load's ``workers`` (one thread each) to the end; ``records`` are the
    ``(sent, latency, outcome)`` they appended. Returns the records sent inside the measured window,
    the window (stretched to the last answer of a request still running at its end) and the CPU
    seconds this process used."""
    import threading

    threads = [threading.Thread(target=worker) for worker in workers]
    cpu_before = os.times()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu_after = os.times()
    measured = [record for record in records if record[0] >= measure_from]
    window = max(stop_at, max((sent + latency for sent, latency, _ in measured), default=stop_at)) - measure_from
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    return measured, window, cpu


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (every process, every core): the machine is
    shared, so each figure is reported with the CPU that other processes used meanwhile."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def phase_env(var_dir: Path, **extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COFFRE_")}
    env.update(
        {
            "COFFRE_VAR_DIR": str(var_dir),
            "COFFRE_BENCH": "1",
            "COFFRE_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "coffre.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
        }
    )
    env.update(extra)
    return env


def setup_django(var_dir: Path) -> None:
    """Point this process at ``var_dir`` (before Django reads its settings) and migrate."""
    os.environ.update({key: value for key, value in phase_env(var_dir).items() if key.startswith("COFFRE_")})
    os.environ["DJANGO_SETTINGS_MODULE"] = "coffre.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def has_gunicorn_conf() -> bool:
    return importlib.util.find_spec("coffre.gunicorn_conf") is not None


def server_description() -> str:
    if has_gunicorn_conf():
        overrides = " ".join(
            f"{setting}={os.environ[name]}"
            for name, setting in _OVERRIDES
            if name in os.environ
        )
        return "gunicorn -c python:coffre.gunicorn_conf (the production configuration" + (
            f", with {overrides})" if overrides else ", its defaults)"
        )
    return f"gunicorn coffre.wsgi:application --worker-class gthread --workers {WORKERS} --threads {THREADS}"


class Server:
    """The production HTTP server on a free loopback port, for one phase."""

    def __init__(self, var_dir: Path, log_path: Path):
        self.var_dir = var_dir
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        bind = f"127.0.0.1:{self.port}"
        if has_gunicorn_conf():
            # as `coffre run` starts it (coffre.scheduler's server_argv), on the bench's own port
            return [PYTHON, "-m", "gunicorn", "--config", "python:coffre.gunicorn_conf", "--bind", bind,
                    "coffre.wsgi:application"]
        return [
            PYTHON,
            "-m",
            "gunicorn",
            "coffre.wsgi:application",
            "--worker-class",
            "gthread",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--bind",
            bind,
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
            "--worker-tmp-dir",
            "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp",
        ]

    def __enter__(self) -> "Server":
        env = phase_env(self.var_dir, COFFRE_BIND=f"127.0.0.1:{self.port}")
        # With the production configuration, BENCH_WORKERS / BENCH_THREADS / BENCH_ACCESS_LOG (when
        # given) go to its own settings; without them it runs with its defaults.
        for name, setting in _OVERRIDES:
            if name in os.environ:
                env[setting] = os.environ[name]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command(), env=env, cwd=ROOT, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped at start-up; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/.well-known/oauth-authorization-server", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the server did not answer within 60 s; see {self.log_path}")

    def pids(self) -> list[int]:
        """The arbiter and its workers (for CPU accounting)."""
        return with_children(self.process.pid)

    def cpu_seconds(self) -> float:
        return sum(process_cpu_seconds(pid) for pid in self.pids())

    def __exit__(self, *exc) -> None:
        stop_process(self.process)
        self._log.close()


def with_children(pid: int) -> list[int]:
    """A process and its children (gunicorn's workers, the forked SMTP server processes)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(child) for child in children.read_text().split())] if children.exists() else [pid]


def process_cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process has used; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_process(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_loadgen(plan: dict, work_dir: Path) -> dict:
    """Run ``bench/loadgen.py`` in its own process (its own GIL, not the server's) on ``plan``."""
    plan_path = work_dir / "loadgen-plan.json"
    out_path = work_dir / "loadgen-result.json"
    plan_path.write_text(json.dumps(plan))
    subprocess.run([PYTHON, str(BENCH_DIR / "loadgen.py"), str(plan_path), str(out_path)], check=True)
    return json.loads(out_path.read_text())


def run_phase(name: str, var_dir: Path, args: list[str]) -> dict:
    """Run ``bench/run.py --phase name`` in a fresh process with Django pointed at ``var_dir``."""
    out_path = VAR_BENCH / f"phase-{name}.json"
    out_path.unlink(missing_ok=True)
    subprocess.run(
        [PYTHON, str(BENCH_DIR / "run.py"), "--phase", name, "--out", str(out_path), *args],
        env=phase_env(var_dir),
        cwd=ROOT,
        check=True,
    )
    return json.loads(out_path.read_text())
