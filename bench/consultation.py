"""Phase "consultation": message list and text search latency beside the raw SQL of the same lists.

On the cached data set (``dataset.py``): a fresh access token for each sampled e-Box's client
(through ``save_access_token``, as the token endpoint stores them), the database file read once
so that both sides start from the same warm page cache, then for every request of each group:

- the limit: the queries Django issues for that page (count, page, attachments, and the ids first
  for a deep page; captured from
  ``selectors.page_of_messages`` with the same filters, parameters included) replayed with the
  ``sqlite3`` module on its own connection with the app's pragmas, fetching every row;
- the figure: the same ``GET ebox/messages`` over HTTP against the production server, one
  request at a time on one keep-alive connection, the full answer read.

The two are measured in pairs, request after request, so that both meet the same machine (this
one is shared: the CPU that other processes used meanwhile is reported beside each group).

Groups: page 1 of random e-Boxes among the sampled ones; a text search (``q`` + ``qlang``) in
random e-Boxes; page 1, a deep page and a search in the one e-Box of 100k messages.
"""

import datetime as dt
import http.client
import random
import secrets
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlencode

from common import API_ROOT, Server, busy_cpu_seconds, latency_summary, log

PAGE_SIZE = 25  # the API's default pageSize
SEARCHES = [
    ("cotisations", "fr"),
    ("attestation", "fr"),
    ("rappel", "fr"),
    ("tva", "fr"),
    ("avertissement-extrait", "fr"),
    ("déclaration", "fr"),
    ("précompte", "fr"),
    ("dossier", "fr"),
    ("trimestre 2025", "fr"),
    ("onss", "fr"),
    ("comptabilité", "fr"),
    ("ref-2025", "fr"),
    ("bijdragen", "nl"),
    ("aanslagbiljet", "nl"),
    ("herinnering", "nl"),
    ("btw", "nl"),
    ("kwartaal", "nl"),
    ("verkeersbelasting", "nl"),
    ("rsz", "nl"),
    ("boekhouding", "nl"),
    ("inspectie", "nl"),
    ("2026", "nl"),
    ("inexistant", "fr"),
]
SEED = 7


def _tokens(client_ids: list[str]) -> dict[str, dict]:
    """A new access token for each client, stored by the service that the token endpoint uses."""
    from coffre.mailbox.models import Ebox
    from coffre.oauth import services
    from coffre.oauth.models import WebserviceClient

    clients = {
        client.client_id: client
        for client in WebserviceClient.objects.select_related("enterprise").filter(client_id__in=client_ids)
    }
    boxes = dict(
        Ebox.objects.filter(enterprise__in=[c.enterprise for c in clients.values()]).values_list(
            "enterprise_id", "pk"
        )
    )
    tokens = {}
    for client_id in client_ids:
        client = clients[client_id]
        token = secrets.token_urlsafe(32)
        services.save_access_token(client, token, client.scopes, 4 * 3600)
        tokens[client_id] = {"token": token, "ebox_id": boxes[client.enterprise_id]}
    return tokens


def _warm(path: Path) -> None:
    with open(path, "rb") as handle:
        while handle.read(16 * 1024 * 1024):
            pass


def _request(label: str, caller: dict, page: int = 1, q: str | None = None, qlang: str | None = None) -> dict:
    params = {}
    if page != 1:
        params["page"] = page
    if q is not None:
        params.update({"q": q, "qlang": qlang})
    path = API_ROOT + "ebox/messages" + (("?" + urlencode(params)) if params else "")
    return {
        "label": label,
        "path": path,
        "token": caller["token"],
        "ebox_id": caller["ebox_id"],
        "page": page,
        "q": q,
        "qlang": qlang,
    }


def _captured_sql(request: dict) -> list[tuple[str, tuple]]:
    """The list queries Django issues for this request's page (not the reference-data look-ups)."""
    from django.db import connection

    from coffre.mailbox import selectors
    from coffre.mailbox.models import Ebox

    captured = []

    def capture(execute, sql, params, many, context):
        if 'FROM "mailbox_message"' in sql or 'FROM "mailbox_attachment"' in sql:
            captured.append((sql.replace("%s", "?").replace("%%", "%"), tuple(params or ())))
        return execute(sql, params, many, context)

    ebox = Ebox.objects.get(pk=request["ebox_id"])
    filters = selectors.MessageFilters(q=request["q"], qlang=request["qlang"])
    with connection.execute_wrapper(capture):
        items, _ = selectors.page_of_messages(ebox, filters, request["page"], PAGE_SIZE)
    # count, (ids of a deep page,) page, attachments; or the count alone past the last page
    if len(captured) not in ((3, 4) if items else (1,)):
        raise SystemExit(f"consultation bench: expected count, page and attachments queries, got {captured}")
    return captured


class _RawSQL:
    """A ``sqlite3`` connection of its own, with the app's pragmas, replaying captured queries."""

    def __init__(self, database: Path):
        from django.conf import settings

        self.connection = sqlite3.connect(database, isolation_level=None)
        for pragma in settings.DATABASES["default"]["OPTIONS"]["init_command"].split(";"):
            if pragma.strip():
                self.connection.execute(pragma)

    def time(self, plan: list[tuple[str, tuple]]) -> float:
        started = time.perf_counter()
        for sql, params in plan:
            self.connection.execute(sql, params).fetchall()
        return time.perf_counter() - started


class _Api:
    """One keep-alive HTTP connection, one request at a time, the whole answer read."""

    def __init__(self, base: str):
        parts = base.split("//", 1)[1].split(":")
        self.connection = http.client.HTTPConnection(parts[0], int(parts[1]), timeout=60)

    def time(self, request: dict) -> float:
        started = time.perf_counter()
        self.connection.request(
            "GET", request["path"], headers={"Authorization": f"Bearer {request['token']}"}
        )
        answer = self.connection.getresponse()
        body = answer.read()
        elapsed = time.perf_counter() - started
        if answer.status != 200:
            raise SystemExit(f"consultation bench: {answer.status} for {request['path']}: {body[:300]!r}")
        return elapsed


def run(var_dir: Path, args) -> dict:
    import json

    from django.db import connection

    from coffre.mailbox import selectors
    from coffre.mailbox.models import Ebox

    described = json.loads((var_dir / "dataset.json").read_text())
    database = var_dir / "coffre.sqlite3"
    log("consultation: tokens for the sampled e-Boxes")
    tokens = _tokens(described["clients"])
    big = tokens[described["big_client"]]
    regular = [tokens[client_id] for client_id in described["clients"][:-1]]
    available = selectors.available_messages(Ebox.objects.get(pk=big["ebox_id"])).count()
    deep_page = max(1, (available - 1) // PAGE_SIZE + 1)  # the last page
    rng = random.Random(SEED)
    groups = {
        "list": [_request("list", rng.choice(regular)) for _ in range(args.list_requests)],
        "search": [
            _request("search", rng.choice(regular), q=q, qlang=lang)
            for q, lang in (rng.choice(SEARCHES) for _ in range(args.list_requests))
        ],
        "big_page1": [_request("big_page1", big) for _ in range(args.big_requests)],
        "big_deep": [_request("big_deep", big, page=deep_page) for _ in range(args.big_requests)],
        "big_search": [
            _request("big_search", big, q=q, qlang=lang)
            for q, lang in (rng.choice(SEARCHES) for _ in range(args.big_requests))
        ],
    }
    log("consultation: capturing the SQL of every page")
    plans = {name: [_captured_sql(request) for request in requests] for name, requests in groups.items()}
    connection.close()
    log(f"consultation: reading {database.stat().st_size / 2**30:.1f} GiB once (warm page cache)")
    _warm(database)
    results: dict[str, dict] = {"big_available": available, "deep_page": deep_page, "page_size": PAGE_SIZE}
    raw = _RawSQL(database)
    with Server(var_dir, var_dir / "server.log") as server:
        api = _Api(server.base)
        for name, requests in groups.items():
            log(f"consultation: {len(requests)} '{name}' pages, raw SQL then HTTP, one after the other")
            for request, plan in zip(requests[: args.warmup_requests], plans[name]):  # warm-up
                raw.time(plan), api.time(request)
            raw_times, api_times = [], []
            cpu_before, busy_before, wall_before = server.cpu_seconds(), busy_cpu_seconds(), time.monotonic()
            own_before = time.process_time()
            for request, plan in zip(requests, plans[name]):
                raw_times.append(raw.time(plan))
                api_times.append(api.time(request))
            server_cpu = server.cpu_seconds() - cpu_before
            wall = time.monotonic() - wall_before
            others = busy_cpu_seconds() - busy_before - server_cpu - (time.process_time() - own_before)
            results[name] = {
                "raw": latency_summary(raw_times),
                "api": {**latency_summary(api_times), "server_cpu_ms": server_cpu / len(requests) * 1000},
                "other_processes_cores": max(0.0, others / wall),
            }
    results["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return results
