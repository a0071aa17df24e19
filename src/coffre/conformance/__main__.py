"""``python -m coffre.conformance --spec-dir DIR``: the contract checks (``make conformance``).

Exit status 0 only when every live check passed and the fuzz found no server error.
"""

import argparse
import signal
import sys
import time
from pathlib import Path

from coffre.conformance import fuzz, live
from coffre.conformance.report import Report
from coffre.conformance.server import Server, SetupError
from coffre.conformance.spec import Contract, SpecError


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
    except SpecError as exc:
        report.say(f"conformance: cannot load the contract: {exc}")
        return 2
    report.say(
        f"Contract: {contract.path.name} ({contract.spec['info'].get('title')} "
        f"{contract.spec['info'].get('version')}), {len(contract.operations)} operations"
    )
    for path, title in others:
        report.say(f"  not checked: {path.name} ({title}): not a Message Registry contract")
    report.say("Documented deviations, applied to an in-memory copy of the contract:")
    for number, (deviation, where) in enumerate(contract.deviations, 1):
        report.say(f"  {number}. [{deviation.kind}] {deviation.name}")
        report.say(f"     why: {deviation.reason}\n     where: {where}")

    fuzz_result = None
    server = Server(keep=options.keep, say=report.say, database_url=options.database_url)
    try:
        report.section("Set-up")
        instance = server.provision()
        report.say(
            f"server: gunicorn (gthread) at {instance.base_url}, data in a throw-away directory; "
            f"conformance client {instance.conformance.client_id} of {instance.demo_enterprise}"
        )
        live.run(server, instance, contract, report)
        if not options.no_fuzz:
            fuzz_result = fuzz.run(
                server, instance, contract, report, examples=options.examples, seed=options.seed
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
    fuzz_cases = fuzz_result.cases if fuzz_result else 0
    fuzz_errors = len(fuzz_result.server_errors) if fuzz_result else 0
    report.say("")
    if failures:
        report.say(f"{len(failures)} failed check(s):")
        for failure in failures:
            report.say(f"  FAIL [{failure.section}] {failure.name} — {failure.detail}")
    fuzz_ok = options.no_fuzz or (fuzz_result is not None and fuzz_errors == 0)
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
