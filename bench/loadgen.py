"""The load generator of ``make bench``: ``loadgen.py PLAN.json RESULT.json``.

A process of its own (its own GIL, so that it never competes with a server worker for one),
with one thread per connection; each thread keeps one HTTP/1.1 keep-alive connection
(``http.client``) and sends its next request as soon as the previous answer is read (a closed
loop). Latency is measured from the first byte sent to the last byte of the answer read.

Modes:
- ``publish``: ``POST publishMessage`` (or the bare endpoint) for ``duration_s`` after
  ``warmup_s``; every message carries a PDF made unique by a counter written over ``marker``
  (so the document store never deduplicates it) and the base64url SHA-256 digest of it.
- ``requests``: the listed requests, in order, spread over the connections; the first
  ``warmup`` ones are sent but not recorded.

Python and the standard library only: a request costs this process about 0.1 ms of CPU, which the
result reports (``client_cpu_s``), so a reader can see that the server was not starved.
"""

import base64
import functools
import hashlib
import http.client
import json
import os
import random
import sys
import threading
import time
from urllib.parse import urlsplit

from common import closed_loop

BOUNDARY = "----coffre-bench-7d3f9a1c"


class Connection:
    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.http = None

    def send(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.http is None:
                self.http = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.http.request(method, path, body=body, headers=headers)
                response = self.http.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.http.close()
                self.http = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def multipart(description: bytes, file_name: str, content: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="messageToPublish"\r\n'
        "Content-Type: application/json\r\n\r\n"
    ).encode()
    file_head = (
        f"\r\n--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="upfile1"; filename="{file_name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    return b"".join([head, description, file_head, content, f"\r\n--{BOUNDARY}--\r\n".encode()])


def publish(plan: dict) -> dict:
    template = open(plan["pdf_path"], "rb").read()
    marker = plan["marker"].encode()
    at = template.index(marker)
    prefix, suffix = template[:at], template[at + len(marker) :]
    width = len(marker)
    description = plan["description"]
    recipients = plan["recipients"]
    headers = {
        "Authorization": f"Bearer {plan['token']}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }
    counter = iter(range(plan.get("first_number", 0), 10**12))
    lock = threading.Lock()
    start = time.monotonic()
    measure_from = start + plan["warmup_s"]
    stop_at = measure_from + plan["duration_s"]
    records: list[tuple[float, float, int]] = []
    errors: list[str] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        connection = Connection(plan["base"])
        while True:
            with lock:
                number = next(counter)
            content = prefix + str(number).zfill(width).encode()[-width:] + suffix
            digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode()
            body_json = dict(description)
            body_json["recipient"] = {"eboxType": "enterprise", "eboxIdValue": rng.choice(recipients)}
            body_json["attachments"] = [
                {
                    "httpPartName": "upfile1",
                    "mainContent": True,
                    "digest": {"digestMethod": "sha_256", "digestValue": digest},
                }
            ]
            body = multipart(json.dumps(body_json).encode(), f"document-{number}.pdf", content)
            sent = time.monotonic()
            if sent >= stop_at:
                return
            status, answer = connection.send("POST", plan["path"], body, headers)
            done = time.monotonic()
            with lock:
                records.append((sent, done - sent, status))
                if status != 201 and len(errors) < 5:
                    errors.append(f"{status} {answer[:300]!r}")

    workers = [functools.partial(worker, seed) for seed in range(plan["connections"])]
    measured, window, client_cpu_s = closed_loop(workers, measure_from, stop_at, records)
    statuses: dict[str, int] = {}
    for _, _, status in measured:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    ok = [latency for _, latency, status in measured if status == 201]
    return {
        "completed": len(ok),
        "requests_total": len(records),  # warm-up included, for CPU per request
        "window_s": window,
        "throughput": len(ok) / window if window else 0.0,
        "latencies": ok,
        "statuses": statuses,
        "errors": errors,
        "client_cpu_s": client_cpu_s,
        "body_bytes": len(template),
    }


def requests(plan: dict) -> dict:
    items = plan["requests"]
    warmup = plan.get("warmup", 0)
    connections = plan.get("connections", 1)
    results: list[dict | None] = [None] * len(items)
    errors: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        connection = Connection(plan["base"])
        for position in range(index, len(items), connections):
            item = items[position]
            headers = {"Authorization": f"Bearer {item['token']}"}
            sent = time.monotonic()
            status, answer = connection.send("GET", item["path"], None, headers)
            latency = time.monotonic() - sent
            if status != 200 and len(errors) < 5:
                with lock:
                    errors.append(f"{status} {item['path']} {answer[:300]!r}")
            results[position] = {
                "label": item["label"],
                "status": status,
                "latency": latency,
                "bytes": len(answer),
            }

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(connections)]
    cpu_before = os.times()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu_after = os.times()
    return {
        "results": results[warmup:],
        "errors": errors,
        "client_cpu_s": (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system),
    }


def main() -> None:
    plan_path, out_path = sys.argv[1], sys.argv[2]
    with open(plan_path) as handle:
        plan = json.load(handle)
    result = publish(plan) if plan["mode"] == "publish" else requests(plan)
    with open(out_path, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
