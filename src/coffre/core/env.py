"""Settings read from the environment.

Every helper refuses a bad value at start-up with a message that names the variable, and accepts
``NAME_FILE`` (a path whose content is the value) so that secrets can come from container secrets.
Values of secrets are never echoed in error messages.
"""

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_path}: {exc.strerror}") from None
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_size(name: str, default: int) -> int:
    """A size in bytes; accepts suffixes k, M, G (powers of 1024)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    factors = {"k": 1024, "m": 1024**2, "g": 1024**3}
    factor = factors.get(text[-1].lower(), 1)
    number = text[:-1] if text[-1].lower() in factors else text
    try:
        value = int(number) * factor
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a size such as 50M, got {raw!r}") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be positive, got {raw!r}")
    return value


def env_float(name: str, default: float, minimum: float | None = None) -> float:
    """A number such as 5 or 0.5 (e.g. seconds)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name} must be a finite number, got {raw!r}")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {raw!r}")
    return value


def parse_host_port(text: str, default_port: int) -> tuple[str, int]:
    """``ip``, ``ip:port``, ``[ipv6]:port`` or a bare IPv6 address -> (ip, port); ValueError if not.

    Only IP addresses: a host name would need a DNS lookup to be reached.
    """
    text = text.strip()
    port_text = None
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r} is not ip[:port]")
        port_text = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host = text  # IPv4 without port, or a bare IPv6 address
    address = ipaddress.ip_address(host)  # ValueError names the text
    port = default_port
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
        port = int(port_text)
    return str(address), port


def env_addresses(name: str, default_port: int) -> list[tuple[str, int]]:
    """A comma-separated list of ``ip[:port]`` (IPv6 as ``[::1]:53`` or bare ``::1``)."""
    addresses = []
    for item in env_list(name, []):
        try:
            addresses.append(parse_host_port(item, default_port))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be a comma-separated list of ip[:port] (IPv6 as [::1]:53), got {item!r}"
            ) from None
    return addresses
