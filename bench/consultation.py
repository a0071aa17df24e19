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

Groups: page 1 of random e-Boxes among the sampled ones; a text search (``q`` + ``qlang``) in
random e-Boxes; page 1, a deep page and a search in the one e-Box of 100k messages.
"""

import datetime as dt
import random
import secrets
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlencode

from common import API_ROOT, Server, latency_summary, log, run_loadgen

PAGE_SIZE = 25  # the API's default pageSize
SEARCHES = [
    ("cotisations", "fr"), ("attestation", "fr"), ("rappel", "fr"), ("tva", "fr"), ("avertissement-extrait", "fr"),
    ("déclaration", "fr"), ("précompte", "fr"), ("dossier", "fr"), ("trimestre 2025", "fr"), ("onss", "fr"),
    ("comptabilité", "fr"), ("ref-2025", "fr"), ("bijdragen", "nl"), ("aanslagbiljet", "nl"), ("herinnering", "nl"),
    ("btw", "nl"), ("kwartaal", "nl"), ("verkeersbelasting", "nl"), ("rsz", "nl"), ("boekhouding", "nl"),
    ("inspectie", "nl"), ("2026", "nl"), ("inexistant", "fr"),
]
SEED = 7


def _tokens(client_ids: list[str]) -> dict[str, dict]:
    """A new access token for each client, stored by the service that the token endpoint uses."""
    from coffre.mailbox.models import Ebox
    from coffre.oauth import services
    from coffre.oauth.models import WebserviceClient

    clients = {client.client_id: client for client in
               WebserviceClient.objects.select_related("enterprise").filter(client_id__in=client_ids)}
    boxes = dict(Ebox.objects.filter(enterprise__in=[c.enterprise for c in clients.values()])
                 .values_list("enterprise_id", "pk"))
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
    return {"label": label, "path": path, "token": caller["token"], "ebox_id": caller["ebox_id"],
            "page": page, "q": q, "qlang": qlang}


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


def _raw_latencies(database: Path, requests: list[dict]) -> list[float]:
    from django.conf import settings

    raw = sqlite3.connect(database, isolation_level=None)
    for pragma in settings.DATABASES["default"]["OPTIONS"]["init_command"].split(";"):
        if pragma.strip():
            raw.execute(pragma)
    plans = [_captured_sql(request) for request in requests]
    latencies = []
    for plan in plans:
        started = time.perf_counter()
        for sql, params in plan:
            raw.execute(sql, params).fetchall()
        latencies.append(time.perf_counter() - started)
    raw.close()
    return latencies


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
        "search": [_request("search", rng.choice(regular), q=q, qlang=lang)
                   for q, lang in (rng.choice(SEARCHES) for _ in range(args.list_requests))],
        "big_page1": [_request("big_page1", big) for _ in range(args.big_requests)],
        "big_deep": [_request("big_deep", big, page=deep_page) for _ in range(args.big_requests)],
        "big_search": [_request("big_search", big, q=q, qlang=lang)
                       for q, lang in (rng.choice(SEARCHES) for _ in range(args.big_requests))],
    }
    connection.close()
    log(f"consultation: reading {database.stat().st_size / 2**30:.1f} GiB once (warm page cache)")
    _warm(database)
    results: dict[str, dict] = {"big_available": available, "deep_page": deep_page, "page_size": PAGE_SIZE}
    for name, requests in groups.items():
        log(f"consultation: raw SQL of {len(requests)} '{name}' pages")
        results[name] = {"raw": latency_summary(_raw_latencies(database, requests))}
    with Server(var_dir, var_dir / "server.log") as server:
        for name, requests in groups.items():
            log(f"consultation: {len(requests)} '{name}' requests over HTTP")
            warmup = requests[: args.warmup_requests]
            plan = {"mode": "requests", "base": server.base, "connections": 1, "warmup": len(warmup),
                    "requests": [{k: r[k] for k in ("label", "path", "token")} for r in warmup + requests]}
            cpu_before = server.cpu_seconds()
            answer = run_loadgen(plan, var_dir)
            cpu = server.cpu_seconds() - cpu_before
            if answer["errors"]:
                raise SystemExit(f"consultation bench: unexpected answers: {answer['errors']}")
            latencies = [item["latency"] for item in answer["results"]]
            results[name]["api"] = latency_summary(latencies)
            results[name]["api"]["server_cpu_ms"] = cpu / len(plan["requests"]) * 1000
            results[name]["api"]["answer_bytes"] = sum(i["bytes"] for i in answer["results"]) / len(latencies)
    results["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return results
