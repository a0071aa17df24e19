"""The one verifying TLS context of the agents' HTTP clients in this process.

httpx's default (the system's or certifi's CA bundle, hostname checked). Building a context loads
the whole bundle, about 20 ms of CPU, more than the rest of a small sync's HTTP: so it is built
once per process, not per sync (docs/benchmarks.md, agents).
"""

import functools
import ssl

import httpx


@functools.cache
def verifying_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
