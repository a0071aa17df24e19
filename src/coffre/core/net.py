"""Small facts about network addresses that several parts of Coffre check."""

import ipaddress


def is_loopback(host: str | None) -> bool:
    """``localhost`` or a loopback IP address (``[::1]`` brackets allowed): this machine only,
    where a plain connection (http, IMAP without TLS) is allowed."""
    host = (host or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
