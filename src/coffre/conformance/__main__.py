"""``python -m coffre.conformance --spec-dir DIR``: the contract checks (``make conformance``) of the
Message Registry and of the event API.

Exit status 0 only when every live check passed and the fuzz found no server error.
"""

import argparse
import signal
import sys
import time
from pathlib import Path

from coffre.conformance import fuzz, fuzz_events, live, live_events
from coffre.conformance.report import Report
from coffre.conformance.server import Server, SetupError
from coffre.conformance.spec import EVENT_MARKERS, Contract, SpecError, event_deviations, find_event_contract


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m coffre.conformance", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--spec-dir",
        required=True,
        type=Path,
        help="directory of the official Swagger 2.0 files (e.g. ../shared/reference/ebox)",
    )
    parser.add_argument(
        "--examples",
        type=int,
        default=fuzz.DEFAULT_EXAMPLES,
        help=f"fuzz: generated cases per operation and mode (default {fuzz.DEFAULT_EXAMPLES})",
    )
    parser.add_argument("--seed", type=int, default=fuzz.DEFAULT_SEED, help="fuzz: Hypothesis seed")
    parser.add_argument("--no-fuzz", action="store_true", help="run the live checks only")
    parser.add_argument(
        "--database-url", help="run the instance on this empty database (default: a fresh SQLite file)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the throw-away instance's directory")
    return parser.parse_args(argv)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv=None) -> int:
    options = _arguments(argv)
    # A CI timeout sends SIGTERM: stop like Ctrl-C, so that the server and its directory go too.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    started = time.monotonic()
    report = Report()
    try:
        contract, others = Contract.from_dir(options.spec_dir)
        found = find_event_contract(options.spec_dir)
    except SpecError as exc:
        report.say(f"conformance: cannot load the contract: {exc}")
        return 2
    if found is None:
        report.say(f"conformance: no event API contract (path {EVENT_MARKERS[0]}) in {options.spec_dir}")
        return 2
    event_contract = Contract(found[0], found[1], event_deviations(contract.original))
    for checked in (contract, event_contract):
        report.say(
            f"Contract: {checked.path.name} ({checked.spec['info'].get('title')} "
            f"{checked.spec['info'].get('version')}), {len(checked.operations)} operations"
        )
    for path, title in others:
        report.say(f"  not checked: {path.name} ({title}): neither the Message Registry nor the event API")
    for checked in (contract, event_contract):
        report.say(f"Documented deviations of {checked.path.name}, applied to an in-memory copy:")
        for number, (deviation, where) in enumerate(checked.deviations, 1):
            report.say(f"  {number}. [{deviation.kind}] {deviation.name}")
            report.say(f"     why: {deviation.reason}\n     where: {where}")

    fuzz_results = []
    server = Server(keep=options.keep, say=report.say, database_url=options.database_url)
    try:
        report.section("Set-up")
        instance = server.provision()
        report.say(
            f"server: gunicorn (gthread) at {instance.base_url}, data in a throw-away directory; "
            f"conformance client {instance.conformance.client_id} of {instance.demo_enterprise}"
        )
        registry = live.run(server, instance, contract, report)
        live_events.run(server, instance, event_contract, report, registry)
        if not options.no_fuzz:
            fuzz_results.append(
                fuzz.run(server, instance, contract, report, examples=options.examples, seed=options.seed)
            )
            fuzz_results.append(
                fuzz_events.run(
                    server, instance, event_contract, report, examples=options.examples, seed=options.seed
                )
            )
    except SetupError as exc:
        report.check("set-up", False, str(exc))
    except KeyboardInterrupt as exc:
        report.check("run", False, f"interrupted ({exc or 'SIGINT'})")
    finally:
        logged = server.log_errors()
        if logged:
            report.say("\nErrors in the server's log:\n" + "\n".join(logged))
        server.close()

    elapsed = time.monotonic() - started
    failures = report.failures
    fuzz_cases = sum(result.cases for result in fuzz_results)
    fuzz_errors = sum(len(result.server_errors) for result in fuzz_results)
    report.say("")
    if failures:
        report.say(f"{len(failures)} failed check(s):")
        for failure in failures:
            report.say(f"  FAIL [{failure.section}] {failure.name} — {failure.detail}")
    fuzz_ok = options.no_fuzz or (len(fuzz_results) == 2 and fuzz_errors == 0)
    if not failures and fuzz_ok:
        summary = f"{report.passed} checks passed, {fuzz_cases} fuzz cases, {fuzz_errors} server errors"
        report.say(f"conformance: {summary}")
    else:
        report.say(
            f"conformance FAILED: {report.passed} checks passed, {len(failures)} failed, {fuzz_cases} fuzz "
            f"cases, {fuzz_errors} server errors"
        )
    report.say(f"total run time: {elapsed:.1f} s")
    return 0 if not failures and fuzz_ok else 1


if __name__ == "__main__":
    sys.exit(main())
