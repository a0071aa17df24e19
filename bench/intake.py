"""Phase "intake": mails with a 100 kB PDF each, sent over real SMTP to Coffre's SMTP server.

The server (``bench/intake_server.py``, Coffre's aiosmtpd server in a process of its own) runs
twice on the same machine with the same load (``bench/smtpload.py``, another process):

- ``discard`` route: the mails are received and dropped: the limit, what SMTP reception alone
  costs this server;
- ``intake``: Coffre's real routes, to the address of an enterprise's Documents space, from a
  supplier address it authorized: sender authentication, rules, extraction, encrypted store and
  the transaction, for every mail. The supplier's domain publishes SPF (127.0.0.1) and DMARC in
  a DNS server this process runs (``coffre.testing.dns``), so no lookup leaves the machine.

Every mail must be accepted with "stored" (250 2.0.0 ... stored); the bench stops on any other
answer, and checks at the end that every accepted mail is a document of the space.
"""

import subprocess
import time
from pathlib import Path

from coffre.testing.dns import DnsServer
from common import (
    BENCH_DIR,
    PYTHON,
    ROOT,
    busy_cpu_seconds,
    free_port,
    latency_summary,
    log,
    phase_env,
    process_cpu_seconds,
    stop_process,
    with_children,
)

SENDER_DOMAIN = "fournisseur.example"


class SmtpServer:
    def __init__(self, var_dir: Path, mode: str, nameserver: str):
        self.var_dir, self.mode, self.nameserver = var_dir, mode, nameserver
        self.port = free_port()
        self.log_path = var_dir / f"smtp-{mode}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "SmtpServer":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [PYTHON, str(BENCH_DIR / "intake_server.py"), "--mode", self.mode, "--port", str(self.port)],
            env=phase_env(self.var_dir, COFFRE_DNS_NAMESERVERS=self.nameserver, COFFRE_SENDER_AUTH="1"),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        ready, _, recipient = self.process.stdout.readline().decode().strip().partition(" ")
        if ready != "ready":
            self.__exit__()
            raise SystemExit(f"intake bench: the SMTP server did not start; see {self.log_path}")
        self.recipient = recipient
        return self

    def cpu_seconds(self) -> float:
        """The server's processes: the first and those it forked."""
        return sum(process_cpu_seconds(pid) for pid in with_children(self.process.pid))

    def __exit__(self, *exc) -> None:
        stop_process(self.process)
        self._log.close()


def _load(server: SmtpServer, plan: dict, var_dir: Path) -> dict:
    import json

    plan_path, out_path = var_dir / "smtpload-plan.json", var_dir / "smtpload-result.json"
    plan_path.write_text(json.dumps({**plan, "port": server.port, "recipient": server.recipient}))
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
    }
    results = {}
    with DnsServer() as dns:
        dns.txt(SENDER_DOMAIN, "v=spf1 ip4:127.0.0.1 -all")
        dns.txt(f"_dmarc.{SENDER_DOMAIN}", "v=DMARC1; p=reject")
        nameserver = "%s:%d" % dns.nameserver
        for number, mode in enumerate(("discard", "intake")):
            log(f"intake: SMTP, {mode} route, {connections} connections, {warmup_s:g}+{duration_s:g} s")
            with SmtpServer(var_dir, mode, nameserver) as server:
                results[mode] = _load(server, {**plan, "first_number": number * 10**9}, var_dir)
    results["intake"]["documents"] = _documents_stored(var_dir)
    if results["intake"]["documents"] != results["intake"]["accepted_total"]:
        raise SystemExit(
            f"intake bench: {results['intake']['accepted_total']} mails accepted but "
            f"{results['intake']['documents']} documents stored"
        )
    spool = Path(var_dir / "tmp")
    leftovers = [path.name for path in spool.glob("spool-*")] if spool.exists() else []
    if leftovers:
        raise SystemExit(f"intake bench: {len(leftovers)} spool files left behind")
    return {
        "connections": connections,
        "pdf_bytes": pdf_path.stat().st_size,
        "mail_bytes": results["intake"]["mail_bytes"],
        **results,
    }


def _documents_stored(var_dir: Path) -> int:
    import sqlite3

    with sqlite3.connect(var_dir / "coffre.sqlite3") as connection:
        [(count,)] = connection.execute("SELECT count(*) FROM mailbox_message WHERE origin = 'email'")
    return count
