"""The SMTP load generator of the intake phase: ``smtpload.py PLAN.json RESULT.json``.

A process of its own (its own GIL), one thread per connection; each thread keeps one SMTP session
(``smtplib``) and sends its next mail as soon as the previous one is accepted (a closed loop).
Every mail carries a 100 kB PDF made unique by a counter written over ``marker`` (base64, as mail
clients send attachments). Latency runs from MAIL FROM to the 250 that accepts the data.
"""

import base64
import json
import smtplib
import sys
import threading
import time

from common import closed_loop

HEAD = (
    "From: Fournisseur <factures@fournisseur.example>\r\n"
    "To: {to}\r\n"
    "Subject: Facture {number}\r\n"
    "Date: Tue, 05 Nov 2024 10:00:00 +0100\r\n"
    "Message-ID: <bench-{number}@fournisseur.example>\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="bench-boundary"\r\n\r\n'
    "--bench-boundary\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Bonjour, voici la facture {number}.\r\n\r\n"
    "--bench-boundary\r\n"
    'Content-Type: application/pdf; name="facture-{number}.pdf"\r\n'
    'Content-Disposition: attachment; filename="facture-{number}.pdf"\r\n'
    "Content-Transfer-Encoding: base64\r\n\r\n"
)


def mail(prefix: bytes, suffix: bytes, width: int, number: int, to: str) -> bytes:
    pdf = prefix + str(number).zfill(width).encode()[-width:] + suffix
    encoded = base64.encodebytes(pdf).replace(b"\n", b"\r\n")
    return HEAD.format(to=to, number=number).encode() + encoded + b"\r\n--bench-boundary--\r\n"


def run(plan: dict) -> dict:
    template = open(plan["pdf_path"], "rb").read()
    marker = plan["marker"].encode()
    at = template.index(marker)
    prefix, suffix, width = template[:at], template[at + len(marker) :], len(marker)
    counter = iter(range(plan.get("first_number", 0), 10**12))
    lock = threading.Lock()
    start = time.monotonic()
    measure_from = start + plan["warmup_s"]
    stop_at = measure_from + plan["duration_s"]
    records: list[tuple[float, float, bool]] = []
    errors: list[str] = []
    sizes: list[int] = []

    def worker() -> None:
        session = smtplib.SMTP("127.0.0.1", plan["port"], timeout=120)
        session.ehlo("bench.fournisseur.example")
        try:
            while True:
                with lock:
                    number = next(counter)
                data = mail(prefix, suffix, width, number, plan["recipient"])
                if not sizes:
                    sizes.append(len(data))
                sent = time.monotonic()
                if sent >= stop_at:
                    return
                try:
                    session.sendmail("bounces@fournisseur.example", [plan["recipient"]], data)
                    ok = True
                except smtplib.SMTPException as exc:
                    ok = False
                    with lock:
                        if len(errors) < 5:
                            errors.append(repr(exc)[:300])
                done = time.monotonic()
                with lock:
                    records.append((sent, done - sent, ok))
        finally:
            try:
                session.quit()
            except smtplib.SMTPException:
                session.close()

    measured, window, client_cpu_s = closed_loop([worker] * plan["connections"], measure_from, stop_at, records)
    accepted = [latency for _, latency, ok in measured if ok]
    return {
        "accepted": len(accepted),
        "refused": len(measured) - len(accepted),
        "mails_total": len(records),
        "accepted_total": sum(1 for _, _, ok in records if ok),
        "window_s": window,
        "throughput": len(accepted) / window if window else 0.0,
        "latencies": accepted,
        "errors": errors,
        "mail_bytes": sizes[0] if sizes else 0,
        "client_cpu_s": client_cpu_s,
    }


def main() -> None:
    plan_path, out_path = sys.argv[1], sys.argv[2]
    with open(plan_path) as handle:
        plan = json.load(handle)
    with open(out_path, "w") as handle:
        json.dump(run(plan), handle)


if __name__ == "__main__":
    main()
