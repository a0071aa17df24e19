"""Phase "intake": mails with a 100 kB PDF each, sent over real SMTP to Coffre's SMTP server.

The server (``bench/intake_server.py``, Coffre's aiosmtpd server in a process of its own) runs
twice on the same machine with the same load (``bench/smtpload.py``, another process):

- ``discard`` route: the mails are received and dropped: the limit, what SMTP reception alone
  costs this server;
- ``extract`` route: each mail goes through ``coffre.intake.mime.extract`` and its PDF through
  ``coffre.mailbox.store.write_content`` (hash, envelope encryption, fsync): the extraction and
  store part of the intake. The document intake's route itself (sender authentication, approval
  rules, the database transaction) is on another branch: docs/benchmarks.md.

Every mail must be accepted (250): the extract route refuses (451) a mail it does not read as
one PDF, and the bench stops on any refusal.
"""

import os
import subprocess
import time
from pathlib import Path

from common import BENCH_DIR, PYTHON, ROOT, busy_cpu_seconds, free_port, latency_summary, log, phase_env

RECIPIENT = "documents-bench@intake.coffre.example"


class SmtpServer:
    def __init__(self, var_dir: Path, mode: str):
        self.var_dir, self.mode = var_dir, mode
        self.port = free_port()
        self.log_path = var_dir / f"smtp-{mode}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "SmtpServer":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [PYTHON, str(BENCH_DIR / "intake_server.py"), "--mode", self.mode, "--port", str(self.port)],
            env=phase_env(self.var_dir),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        line = self.process.stdout.readline()
        if line.strip() != b"ready":
            self.__exit__()
            raise SystemExit(f"intake bench: the SMTP server did not start; see {self.log_path}")
        return self

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _load(server: SmtpServer, plan: dict, var_dir: Path) -> dict:
    import json

    plan_path, out_path = var_dir / "smtpload-plan.json", var_dir / "smtpload-result.json"
    plan_path.write_text(json.dumps({**plan, "port": server.port}))
    cpu_before, busy_before, wall_before = server.cpu_seconds(), busy_cpu_seconds(), time.monotonic()
    subprocess.run([PYTHON, str(BENCH_DIR / "smtpload.py"), str(plan_path), str(out_path)], check=True)
    result = json.loads(out_path.read_text())
    result["server_cpu_s"] = server.cpu_seconds() - cpu_before
    others = busy_cpu_seconds() - busy_before - result["server_cpu_s"] - result["client_cpu_s"]
    result["other_processes_cores"] = max(0.0, others / (time.monotonic() - wall_before))
    result["server_cpu_ms"] = result["server_cpu_s"] / max(1, result["accepted_total"]) * 1000
    result["client_cpu_ms"] = result["client_cpu_s"] / max(1, result["mails_total"]) * 1000
    if result["errors"] or result["refused"]:
        lines = server.log_path.read_text(errors="replace").splitlines()
        raise SystemExit(
            f"intake bench ({server.mode}): mails refused: {result['errors']}\n" + "\n".join(lines[-60:])
        )
    result.update(latency_summary(result.pop("latencies")))
    return result


def run(var_dir: Path, connections: int, warmup_s: float, duration_s: float) -> dict:
    from publication import MARKER, _pdf_template

    pdf_path = var_dir / "bench-invoice.pdf"
    _pdf_template(pdf_path)
    plan = {
        "connections": connections,
        "warmup_s": warmup_s,
        "duration_s": duration_s,
        "pdf_path": str(pdf_path),
        "marker": MARKER,
        "recipient": RECIPIENT,
    }
    results = {}
    for number, mode in enumerate(("discard", "extract")):
        log(f"intake: SMTP, {mode} route, {connections} connections, {warmup_s:g}+{duration_s:g} s")
        with SmtpServer(var_dir, mode) as server:
            results[mode] = _load(server, {**plan, "first_number": number * 10**9}, var_dir)
    spool = Path(var_dir / "tmp")
    leftovers = [path.name for path in spool.glob("spool-*")] if spool.exists() else []
    if leftovers:
        raise SystemExit(f"intake bench: {len(leftovers)} spool files left behind")
    return {
        "connections": connections,
        "pdf_bytes": pdf_path.stat().st_size,
        "mail_bytes": results["extract"]["mail_bytes"],
        **results,
    }
