"""``make bench``: Coffre's benchmarks, each figure beside a limit measured in the same run.

Run from the repository root with the project's virtualenv: ``.venv/bin/python bench/run.py``.
Phases run in processes of their own, each with Django pointed at its own var directory:

- publication: a fresh database; publication throughput against the bare upload endpoint;
- consultation: the cached 1M-message database (generated on first use, ``dataset.py``);
  message list and text search latency against the raw SQL of the same queries;
- nightly: the cached 1M-enterprise, 5M-event database (``nightly.py``), copied; the night's
  follow-up events and digests against a raw SQL pass over the same events.
  ``BENCH_NIGHTLY_SCALE=0.01`` (or the ``--nightly-*`` options) makes it smaller for a quick run.
- intake: mails with a 100 kB PDF over real SMTP to a space's address through Coffre's SMTP
  server and its real routes (``intake.py``), against the same server discarding the same mails.
- agents: 10,000 connections of the declarative portal agent against the fake provider portal
  (``agents.py``): the scheduler's claims against raw SQL claims, with 1% due and with 90,000 more
  connections not due; documents stored per second by the real task workers against the agent
  alone (the same listing and downloads, nothing stored).

The table goes to stdout; the figures also to var/bench/latest.json. docs/benchmarks.md explains
the method and what each limit means.
"""

import argparse
import json
import os
import platform
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import common
from common import VAR_BENCH, log


def _phase(args) -> None:
    var_dir = Path(__import__("os").environ["COFFRE_VAR_DIR"])
    common.setup_django(var_dir)
    if args.phase == "publication":
        import publication

        result = publication.run(var_dir, args.connections, args.warmup, args.duration)
    elif args.phase == "dataset":
        import dataset

        result = dataset.generate(
            var_dir / "coffre.sqlite3", args.messages, args.eboxes, args.big, args.sample
        )
    elif args.phase == "consultation":
        import consultation

        result = consultation.run(var_dir, args)
    elif args.phase == "nightly-dataset":
        import nightly

        result = nightly.generate(
            var_dir / "coffre.sqlite3", args.nightly_enterprises, args.nightly_events, args.nightly_days
        )
    elif args.phase == "nightly":
        import nightly

        result = nightly.run(var_dir, Path(args.dataset_dir))
    elif args.phase == "intake":
        import intake

        result = intake.run(var_dir, args.intake_connections, args.warmup, args.duration)
    elif args.phase == "agents":
        import agents

        result = agents.run(var_dir, args)
    else:
        raise SystemExit(f"unknown phase {args.phase}")
    Path(args.out).write_text(json.dumps(result, indent=2))


def _ms(summary: dict) -> str:
    return f"{summary['p50_ms']:.1f} / {summary['p99_ms']:.1f} ms"


def _aim(ok: bool, text: str) -> str:
    return f"{text} {'(met)' if ok else '(**not met**)'}"


def render(results: dict) -> str:
    """The table of a run, in Markdown (stdout, var/bench/latest.md, docs/benchmarks.md)."""
    lines = [
        f"Coffre benchmarks, {results['started_at']}: {results['machine']}, {results['cores']} cores, "
        f"load average {results['load_at_start']} at start; SQLite {results['sqlite']}; {results['server']}.",
        "",
        "| Measure | Coffre | Limit, same run | Coffre / limit | Aim |",
        "|---|---|---|---|---|",
    ]
    publication = results.get("publication")
    if publication:
        bare, publish = publication["bare"], publication["publish"]
        ratio = publish["throughput"] / bare["throughput"]
        lines += [
            f"| Publication throughput (one {publication['pdf_bytes'] / 1024:.0f} kB PDF with digest, "
            f"{publication['connections']} connections, {publish['window_s']:.0f} s) | "
            f"{publish['throughput']:.0f} msg/s | bare upload endpoint: {bare['throughput']:.0f} msg/s | "
            f"{ratio:.0%} | {_aim(publish['throughput'] >= 400 and ratio >= 0.5, '>= 400 msg/s and >= 50%')} |",
            f"| Publication latency p50 / p99 | {_ms(publish)} | {_ms(bare)} | | |",
            f"| Server CPU per request (other processes meanwhile) | {publish['server_cpu_ms']:.1f} ms "
            f"({publish['other_processes_cores']:.2f} cores) | {bare['server_cpu_ms']:.1f} ms "
            f"({bare['other_processes_cores']:.2f} cores) | | |",
        ]
    consultation = results.get("consultation")
    if consultation:
        dataset = results["dataset"]
        scale = f"{dataset['messages'] / 1e6:g}M messages over {dataset['eboxes'] / 1000:g}k e-Boxes"
        rows = [
            (
                "list",
                f"Message list p50 / p99 ({scale}, page 1 of {consultation['page_size']}, random e-Box)",
                10,
                "p99 <= 10 ms",
            ),
            ("search", f"Text search p50 / p99 (q + qlang, {scale}, random e-Box)", 50, "p99 <= 50 ms"),
            (
                "big_page1",
                f"e-Box of {dataset['big'] / 1000:g}k messages ({consultation['big_available']} "
                "not expired): page 1 p50 / p99",
                None,
                "",
            ),
            ("big_deep", f"same e-Box, last page ({consultation['deep_page']}) p50 / p99", None, ""),
            ("big_search", "same e-Box, text search p50 / p99", None, ""),
        ]
        for key, label, limit_ms, aim in rows:
            api, raw = consultation[key]["api"], consultation[key]["raw"]
            verdict = _aim(api["p99_ms"] <= limit_ms, aim) if limit_ms else ""
            lines.append(
                f"| {label} | {_ms(api)} | raw SQL: {_ms(raw)} | {api['p50_ms'] / raw['p50_ms']:.0f}x (p50) "
                f"| {verdict} |"
            )
        cpu = " / ".join(f"{consultation[key]['api']['server_cpu_ms']:.1f} ms" for key in ("list", "search"))
        others = max(consultation[key]["other_processes_cores"] for key, *_ in rows)
        lines.append(
            f"| Server CPU per list / search request (other processes meanwhile: up to "
            f"{others:.2f} cores) | {cpu} | | | |"
        )
    nightly = results.get("nightly")
    if nightly:
        data, coffre, limit = results["nightly_dataset"], nightly["coffre"], nightly["limit"]
        scale = f"{data['enterprises'] / 1e6:g}M enterprises, {data['events'] / 1e6:.3g}M events"
        lines += [
            f"| Nightly notifications ({scale}; the night: {coffre['window_events']} events after the last "
            f"run, {limit['due_rows']} follow-ups due; {coffre['reminders']} reminders and {coffre['alerts']} "
            f"expiry alerts emitted, {coffre['digests']} digests queued) | {coffre['seconds']:.1f} s "
            f"(follow-ups {coffre['follow_ups_seconds']:.1f} s; CPU {coffre['cpu_seconds']:.1f} s) | "
            f"raw SQL: reading the same events {limit['read_seconds']:.2f} s + writing the same "
            f"{limit['rows_written']} rows {limit['write_seconds']:.2f} s = {limit['seconds']:.2f} s | "
            f"{coffre['seconds'] / limit['seconds']:.0f}x | {_aim(coffre['seconds'] <= 300, '<= 5 min')} |",
            f"| Nightly notifications: memory (peak heap, i.e. Python and SQLite's page cache / peak RSS "
            f"with the mapped database) | {coffre['peak_heap_mb']:.0f} MB ({coffre['heap_at_start_mb']:.0f} MB "
            f"at start) / {coffre['peak_rss_mb']:.0f} MB | | | constant: batches |",
            f"| Nightly notifications, per digest queued | "
            f"{coffre['seconds'] / max(coffre['digests'], 1) * 1000:.2f} ms | | | |",
        ]
    intake = results.get("intake")
    if intake:
        coffre, discard = intake["intake"], intake["discard"]
        ratio = coffre["throughput"] / discard["throughput"]
        aim = _aim(coffre["throughput"] >= 100, ">= 100 mails/s")
        lines += [
            f"| Intake throughput (mails of {intake['mail_bytes'] / 1024:.0f} kB with one "
            f"{intake['pdf_bytes'] / 1024:.0f} kB PDF over SMTP to a space's address, from an authorized "
            f"supplier: SPF + DMARC looked up, rules, extraction, encrypted store, transaction; "
            f"{intake['connections']} connections, {coffre['window_s']:.0f} s) | {coffre['throughput']:.0f} "
            f"mails/s | same SMTP server discarding the mails: {discard['throughput']:.0f} mails/s | "
            f"{ratio:.0%} | {aim} |",
            f"| Intake latency p50 / p99 (MAIL FROM to 250) | {_ms(coffre)} | {_ms(discard)} | | |",
            f"| SMTP server CPU per mail (other processes meanwhile) | {coffre['server_cpu_ms']:.1f} ms "
            f"({coffre['other_processes_cores']:.2f} cores) | {discard['server_cpu_ms']:.1f} ms "
            f"({discard['other_processes_cores']:.2f} cores) | | |",
        ]
    agents = results.get("agents")
    if agents:
        lines += _agents_rows(agents)
    lines += [
        "",
        f"Run time {results['elapsed_s'] / 60:.1f} min"
        + (
            f" (data set generated in {results['dataset']['generated_s'] / 60:.1f} min)"
            if results.get("dataset", {}).get("generated_now")
            else ""
        )
        + (
            f" (nightly data set generated in {results['nightly_dataset']['generated_s'] / 60:.1f} min)"
            if results.get("nightly_dataset", {}).get("generated_now")
            else ""
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def _agents_rows(agents: dict) -> list[str]:
    coffre, alone, inproc = agents["coffre"], agents["alone"], agents["in_process"]
    scheduling = agents["scheduling"]
    base, more = scheduling["base"], scheduling.get("more")
    span = f"{coffre['window_s']:.0f} s" if agents.get("duration") else "every connection"
    first_hour = agents["connections"] / 3600
    ratio = coffre["documents_per_s"] / alone["documents_per_s"] if alone["documents_per_s"] else float("nan")
    rows = [
        f"| Agents: documents stored per second ({agents['connections']:,} connections of demo-energy due, "
        f"{agents['bills']} bills of {agents['pdf_bytes'] / 1024:.0f} kB each on the fake portal; "
        f"{agents['workers']} task workers (`db_worker`), max_concurrent {agents['max_concurrent']}; {span}) | "
        f"{coffre['documents_per_s']:.1f} docs/s ({coffre['syncs_per_s']:.1f} syncs/s) | the agent alone (the same "
        f"logins, listings and downloads, nothing stored; {agents['workers']} processes): "
        f"{alone['documents_per_s']:.1f} docs/s ({alone['syncs_per_s']:.1f} syncs/s) | {ratio:.0%} | "
        + _aim(coffre["syncs_per_s"] >= first_hour, f"first syncs of all {agents['connections']:,} within an hour "
               f"(>= {first_hour:.1f} syncs/s)") + " |",
        f"| Agents: CPU per sync, task workers / portal (other processes meanwhile) | "
        f"{coffre['workers_cpu_ms_per_sync']:.1f} / {coffre['portal_cpu_ms_per_sync']:.1f} ms "
        f"({coffre['other_processes_cores']:.2f} cores) | {alone['workers_cpu_ms_per_sync']:.1f} / "
        f"{alone['portal_cpu_ms_per_sync']:.1f} ms ({alone['other_processes_cores']:.2f} cores) | | |",
        f"| Agents: one sync in-process ({inproc['documents_per_sync']:.0f} documents): CPU; statements | "
        f"{inproc['cpu_ms_per_sync']:.1f} ms; {inproc['statements_per_sync']:.0f} "
        f"({inproc['statements_per_document']:.0f} per document) | store alone (seal + fsync, no database): "
        f"{inproc['store_ms_per_document']:.1f} ms per document | | |",
    ]
    due = f"{scheduling['connections']:,} connections, {scheduling['due']} due"
    for label, key, raw_key, raw_label in (
        (f"round (`sync_due_connections` with its task queue; {scheduling['max_concurrent']} a round)",
         "round", "raw_round", f"LIMIT {scheduling['max_concurrent']}"),
        ("hand-on of a sync that ends (`claim_next` + its `sync_claimed`)", "hand_on", "raw_one", "LIMIT 1"),
    ):
        item, raw = base[key], base[raw_key]
        statements = (
            f"{item['statements_per_round']} statements a round" if "statements_per_round" in item
            else f"{item['statements_per_connection']} statements"
        )
        rows.append(
            f"| Agents scheduling, per connection claimed ({due}): {label} | {item['ms_per_connection']:.2f} ms "
            f"({statements}) | raw SQL, one `UPDATE ... {raw_label} RETURNING`: "
            f"{raw['ms_per_connection']:.3f} ms | {item['ms_per_connection'] / raw['ms_per_connection']:.0f}x | |"
        )
    if more:
        growth = max(more[key]["ms_per_connection"] / base[key]["ms_per_connection"] for key in ("round", "hand_on"))
        rows.append(
            f"| same, with {scheduling['added']:,} more connections not due: round / hand-on | "
            f"{more['round']['ms_per_connection']:.2f} / {more['hand_on']['ms_per_connection']:.2f} ms | raw SQL: "
            f"{more['raw_round']['ms_per_connection']:.3f} / {more['raw_one']['ms_per_connection']:.3f} ms | "
            f"{growth:.2f}x the cost without them | "
            + _aim(growth <= 1.5, "does not grow with the connections not due (<= 1.5x)") + " |"
        )
    plans_ok = scheduling["plans_use_due_index"] and not scheduling["plans_scan"]
    rows.append(
        "| Agents scheduling: query plans of a round (EXPLAIN QUERY PLAN) | every read of due connections "
        "searches `agents_due` (agent, next run); " + (
            "no statement scans the connections" if not scheduling["plans_scan"]
            else f"{len(scheduling['plans_scan'])} statements scan the connections"
        ) + " | | | " + _aim(plans_ok, "the due index, no scan") + " |"
    )
    return rows


def ensure_dataset(args) -> dict:
    """The cached data set's directory and description, generated first if missing."""
    import dataset

    key = f"v{dataset.VERSION}-{args.messages}m-{args.eboxes}e-{args.big}b-{args.sample}s"
    final = VAR_BENCH / f"dataset-{key}"
    described = final / "dataset.json"
    if not described.exists():
        partial = VAR_BENCH / f"dataset-{key}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        log(f"generating the data set {key} (cached in {final.relative_to(common.ROOT)})")
        description = common.run_phase(
            "dataset",
            partial,
            [
                "--messages",
                str(args.messages),
                "--eboxes",
                str(args.eboxes),
                "--big",
                str(args.big),
                "--sample",
                str(args.sample),
            ],
        )
        (partial / "dataset.json").write_text(json.dumps(description))
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
        generated_now = True
    else:
        log(f"reusing the data set {key}")
        generated_now = False
    return {
        "dir": str(final),
        "key": key,
        "generated_now": generated_now,
        **json.loads(described.read_text()),
    }


def ensure_nightly_dataset(args) -> dict:
    """The cached data set of the nightly bench, generated first if missing."""
    import nightly

    key = f"v{nightly.VERSION}-{args.nightly_enterprises}e-{args.nightly_events}ev-{args.nightly_days}d"
    final = VAR_BENCH / f"nightly-{key}"
    described = final / "dataset.json"
    generated_now = False
    if not described.exists():
        partial = VAR_BENCH / f"nightly-{key}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        log(f"generating the nightly data set {key} (cached in {final.relative_to(common.ROOT)})")
        description = common.run_phase(
            "nightly-dataset",
            partial,
            ["--nightly-enterprises", str(args.nightly_enterprises), "--nightly-events", str(args.nightly_events),
             "--nightly-days", str(args.nightly_days)],
        )
        (partial / "dataset.json").write_text(json.dumps(description))
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
        generated_now = True
    else:
        log(f"reusing the nightly data set {key}")
    return {"dir": str(final), "key": key, "generated_now": generated_now, **json.loads(described.read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument(
        "--only", choices=["publication", "consultation", "nightly", "intake", "agents"], help="run one phase only"
    )
    parser.add_argument("--connections", type=int, default=8, help="publication: concurrent connections")
    parser.add_argument("--warmup", type=float, default=3.0, help="publication, intake: warm-up seconds")
    parser.add_argument("--duration", type=float, default=15.0, help="publication, intake: measured seconds")
    parser.add_argument("--intake-connections", type=int, default=4, help="intake: concurrent SMTP sessions")
    parser.add_argument(
        "--messages", type=int, default=1_000_000, help="consultation: messages over the e-Boxes"
    )
    parser.add_argument("--eboxes", type=int, default=10_000, help="consultation: e-Boxes")
    parser.add_argument(
        "--big", type=int, default=100_000, help="consultation: messages of the one big e-Box"
    )
    parser.add_argument(
        "--sample", type=int, default=1000, help="consultation: e-Boxes with a client and token"
    )
    parser.add_argument("--list-requests", type=int, default=2000, help="consultation: requests per group")
    parser.add_argument(
        "--big-requests", type=int, default=300, help="consultation: requests per big e-Box group"
    )
    parser.add_argument(
        "--warmup-requests", type=int, default=50, help="consultation: unrecorded first requests"
    )
    scale = float(os.environ.get("BENCH_NIGHTLY_SCALE", "1"))
    parser.add_argument(
        "--nightly-enterprises", type=int, default=max(100, round(1_000_000 * scale)),
        help="nightly: enterprises (default 1M x BENCH_NIGHTLY_SCALE)",
    )
    parser.add_argument(
        "--nightly-events", type=int, default=max(1000, round(5_000_000 * scale)),
        help="nightly: events of the history (default 5M x BENCH_NIGHTLY_SCALE)",
    )
    parser.add_argument("--nightly-days", type=int, default=30, help="nightly: days of history")
    parser.add_argument("--dataset-dir", help=argparse.SUPPRESS)
    parser.add_argument("--agents-connections", type=int, default=10_000, help="agents: connections (and portal accounts)")
    parser.add_argument("--agents-bills", type=int, default=3, help="agents: bills per portal account")
    parser.add_argument("--agents-pdf-kb", type=int, default=100, help="agents: size of a bill (0: the portal's own small PDF)")
    parser.add_argument(
        "--agents-workers", type=int, default=4,
        help="agents: task workers (and processes of the agent alone); the agent's max_concurrent is 4",
    )
    parser.add_argument(
        "--agents-duration", type=float, default=60.0,
        help="agents: measured seconds of each throughput pass; 0 syncs every connection (the full run)",
    )
    parser.add_argument("--agents-warmup", type=float, default=10.0, help="agents: warm-up seconds of each pass")
    parser.add_argument("--agents-due", type=float, default=0.01, help="agents: fraction due for the claim costs")
    parser.add_argument(
        "--agents-more", type=int, default=90_000, help="agents: connections not due added for the second claim costs"
    )
    args = parser.parse_args()
    if args.phase:
        _phase(args)
        return
    VAR_BENCH.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = {
        "server": common.server_description(),
        "machine": platform.platform(terse=True),
        "cores": os.cpu_count(),
        "load_at_start": " ".join(f"{load:.2f}" for load in os.getloadavg()),
        "sqlite": sqlite3.sqlite_version,
        "started_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if args.only in (None, "publication"):
        var_dir = VAR_BENCH / "publication"
        shutil.rmtree(var_dir, ignore_errors=True)
        var_dir.mkdir(parents=True)
        log("publication phase")
        results["publication"] = common.run_phase(
            "publication",
            var_dir,
            [
                "--connections",
                str(args.connections),
                "--warmup",
                str(args.warmup),
                "--duration",
                str(args.duration),
            ],
        )
    if args.only in (None, "consultation"):
        results["dataset"] = ensure_dataset(args)
        log("consultation phase")
        results["consultation"] = common.run_phase(
            "consultation",
            Path(results["dataset"]["dir"]),
            [
                "--list-requests",
                str(args.list_requests),
                "--big-requests",
                str(args.big_requests),
                "--warmup-requests",
                str(args.warmup_requests),
            ],
        )
    if args.only in (None, "nightly"):
        import nightly

        results["nightly_dataset"] = ensure_nightly_dataset(args)
        run_dir = VAR_BENCH / "nightly-run"
        log("nightly phase: copying the data set")
        nightly.copy_dataset(Path(results["nightly_dataset"]["dir"]), run_dir)
        log("nightly phase")
        results["nightly"] = common.run_phase(
            "nightly", run_dir, ["--dataset-dir", results["nightly_dataset"]["dir"]]
        )
    if args.only in (None, "intake"):
        var_dir = VAR_BENCH / "intake"
        shutil.rmtree(var_dir, ignore_errors=True)
        var_dir.mkdir(parents=True)
        log("intake phase")
        results["intake"] = common.run_phase(
            "intake",
            var_dir,
            [
                "--intake-connections",
                str(args.intake_connections),
                "--warmup",
                str(args.warmup),
                "--duration",
                str(args.duration),
            ],
        )
    if args.only in (None, "agents"):
        var_dir = VAR_BENCH / "agents"
        shutil.rmtree(var_dir, ignore_errors=True)
        var_dir.mkdir(parents=True)
        log("agents phase")
        results["agents"] = common.run_phase(
            "agents",
            var_dir,
            [
                "--agents-connections", str(args.agents_connections),
                "--agents-bills", str(args.agents_bills),
                "--agents-pdf-kb", str(args.agents_pdf_kb),
                "--agents-workers", str(args.agents_workers),
                "--agents-duration", str(args.agents_duration),
                "--agents-warmup", str(args.agents_warmup),
                "--agents-due", str(args.agents_due),
                "--agents-more", str(args.agents_more),
            ],
        )
    results["elapsed_s"] = time.monotonic() - started
    (VAR_BENCH / "latest.json").write_text(json.dumps(results, indent=2))
    table = render(results)
    (VAR_BENCH / "latest.md").write_text(table)
    print(table)


if __name__ == "__main__":
    sys.exit(main())
