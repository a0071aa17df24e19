"""The SMTP server of the intake phase: Coffre's own (``coffre.smtpd.server``) with a bench route.

``intake_server.py --mode extract|discard --port PORT`` (run by ``bench/intake.py`` in a process
of its own, with Django pointed at the phase's var directory) serves until SIGTERM. Every
recipient is taken by the one route of the mode:

- ``discard``: accepts the mail and does nothing with it: the limit (what receiving the same
  mails over SMTP costs this server, before any intake work);
- ``extract``: what the intake does with the content of a mail before its database transaction:
  ``coffre.intake.mime.extract`` (parse, decode, check the type by content, safe names) and
  ``coffre.mailbox.store.write_content`` of each document (SHA-256, envelope encryption, fsync);
  the sealed spool file is then removed (no blob is adopted: no space, no database row).

The document intake's own route (sender authentication, approval rules, the transaction) is not
on this branch; docs/benchmarks.md says how to bench it once it is.
"""

import argparse
import asyncio
import os
import signal
from pathlib import Path

import common


class DiscardRoute:
    name = "bench-discard"

    def accepts(self, recipient: str) -> bool:
        return True

    def handle(self, delivery) -> None:
        return None


class ExtractRoute:
    name = "bench-extract"

    def __init__(self):
        from coffre.intake.mime import Limits

        self.limits = Limits.from_settings()

    def accepts(self, recipient: str) -> bool:
        return True

    def handle(self, delivery) -> None:
        from coffre.intake.mime import extract
        from coffre.mailbox.store import write_content

        extraction = extract(delivery.data, self.limits)
        if len(extraction.documents) != 1 or extraction.documents[0].media_type != "application/pdf":
            raise RuntimeError(f"bench mail not read as one PDF: {extraction.as_dict()['problems']}")
        for document in extraction.documents:
            write_content(document.chunks()).discard()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["extract", "discard"], required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    common.setup_django(Path(os.environ["COFFRE_VAR_DIR"]))
    from coffre.smtpd.server import Handler, start_server

    route = ExtractRoute() if args.mode == "extract" else DiscardRoute()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        server = await start_server(
            Handler(routes=[route], max_recipients=5), host="127.0.0.1", port=args.port
        )
        print("ready", flush=True)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
