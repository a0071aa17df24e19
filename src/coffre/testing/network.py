"""Block outbound network traffic from the test process.

Every ``connect``/``connect_ex``/``sendto``/``sendmsg`` of a Python socket to an address outside
the loopback range (127.0.0.0/8, ::1) raises ``NetworkBlocked``. Resolving a host name other than
localhost (a DNS query would leave the machine) fails as on a machine without network: with
``socket.gaierror`` (an OSError, which code such as ``socket.getfqdn`` is built to survive),
whose message says that the tests block it. Unix sockets and loopback connections (the test
database, servers started by the tests) are allowed. Subprocesses are not guarded: they must be
pointed at loopback by the test that starts them.
"""

import ipaddress
import socket

_ALLOWED_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_originals: dict[str, object] = {}


class NetworkBlocked(RuntimeError):
    """A test tried to reach the network outside this machine."""


def _is_loopback_host(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").split("%", 1)[0]
    if host.lower() in _ALLOWED_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _check_address(family, address) -> None:
    if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        if not _is_loopback_host(address[0]):
            raise NetworkBlocked(
                f"network access is blocked in tests: connection to {address[0]!r} refused "
                "(only loopback addresses and unix sockets are allowed)"
            )


def _guard_connect(self, address):
    _check_address(self.family, address)
    return _originals["connect"](self, address)


def _guard_connect_ex(self, address):
    _check_address(self.family, address)
    return _originals["connect_ex"](self, address)


def _guard_sendto(self, data, *args):
    _check_address(self.family, args[-1])
    return _originals["sendto"](self, data, *args)


def _guard_sendmsg(self, buffers, ancdata=(), flags=0, address=None):
    if address is not None:
        _check_address(self.family, address)
        return _originals["sendmsg"](self, buffers, ancdata, flags, address)
    return _originals["sendmsg"](self, buffers, ancdata, flags)


def _refuse_lookup(host) -> None:
    if host is not None and not _is_loopback_host(host):
        raise socket.gaierror(
            socket.EAI_NONAME,
            f"network access is blocked in tests: resolving {host!r} refused (use 127.0.0.1 or localhost)",
        )


def _guard_getaddrinfo(host, *args, **kwargs):
    _refuse_lookup(host)
    return _originals["getaddrinfo"](host, *args, **kwargs)


def _guarded_lookup(name: str):
    def lookup(host, *args, **kwargs):
        _refuse_lookup(host)
        return _originals[name](host, *args, **kwargs)

    lookup.__name__ = name
    return lookup


_LOOKUPS = ("gethostbyname", "gethostbyname_ex", "gethostbyaddr")


def block_outbound_network() -> None:
    if _originals:
        return
    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        _originals[name] = getattr(socket.socket, name)
    _originals["getaddrinfo"] = socket.getaddrinfo
    for name in _LOOKUPS:
        _originals[name] = getattr(socket, name)
        setattr(socket, name, _guarded_lookup(name))
    socket.socket.connect = _guard_connect
    socket.socket.connect_ex = _guard_connect_ex
    socket.socket.sendto = _guard_sendto
    socket.socket.sendmsg = _guard_sendmsg
    socket.getaddrinfo = _guard_getaddrinfo


def allow_network() -> None:
    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        if name in _originals:
            setattr(socket.socket, name, _originals.pop(name))
    for name in ("getaddrinfo", *_LOOKUPS):
        if name in _originals:
            setattr(socket, name, _originals.pop(name))
