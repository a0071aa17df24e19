"""A real DNS server for the tests: authoritative for the records a test gives it, on 127.0.0.1.

``DnsServer`` answers over UDP and TCP on one free port of 127.0.0.1 (threads of the test process),
from the records added with ``add`` / ``txt`` (names are case-insensitive, TXT strings longer
than 255 bytes are split as DNS wants). A name it does not know gets NXDOMAIN, a known name
without the asked type an empty NOERROR answer (both with the SOA of the closest zone that has
one added, in the authority section); an answer too large for the client's UDP size is
sent truncated, so that the client asks again over TCP. ``drop(name)`` makes it never answer
questions about a name (a timeout), ``fail(name, "SERVFAIL")`` answer them with that error.
``queries`` lists every question received, as ``(name, type, "udp" | "tcp")``.

``SilentNameserver`` is a UDP and TCP port of 127.0.0.1 that never answers anything.

Fixtures (a pytest plugin, registered by the repository's conftest.py):

``dns_server``
    A started ``DnsServer``, stopped after the test. The settings point Coffre's resolver at it
    (``COFFRE_DNS_NAMESERVERS``, a short ``COFFRE_DNS_TIMEOUT``, no cache: a test changes its
    records at once, as no real zone does) and turn sender authentication on, so that code under test that builds its resolver from the settings asks this server::

        def test_spf(dns_server):
            dns_server.txt("example.be", "v=spf1 ip4:192.0.2.10 -all")
            ...
            assert ("example.be", "TXT", "udp") in dns_server.queries

``silent_nameserver``
    A ``SilentNameserver``; ``.nameserver`` is its ``(host, port)``.

Never used by the running application.
"""

import socket
import socketserver
import threading
from collections.abc import Iterator

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset
import pytest

TEST_DNS_TIMEOUT = 1.0  # seconds; the fixtures' COFFRE_DNS_TIMEOUT (the local server answers at once)
_UDP_DEFAULT_SIZE = 512  # RFC 1035, for a question without EDNS


def _name(name: str) -> dns.name.Name:
    return dns.name.from_text(name.rstrip(".") + ".")


def _free_udp_and_tcp_sockets(host: str = "127.0.0.1") -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket bound to the same free port of ``host``."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((host, 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((host, port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)
        return udp, tcp
    raise RuntimeError("no free port for a test DNS server on 127.0.0.1")


class _UdpServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, sock: socket.socket, dns_server: "DnsServer"):
        super().__init__(sock.getsockname(), _UdpHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.dns_server = dns_server


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True

    def __init__(self, sock: socket.socket, dns_server: "DnsServer"):
        super().__init__(sock.getsockname(), _TcpHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.dns_server = dns_server


class _UdpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        answer = self.server.dns_server.answer(data, "udp")
        if answer is not None:
            sock.sendto(answer, self.client_address)


class _TcpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        connection = self.request
        connection.settimeout(10)
        while True:
            try:
                length = _read_exactly(connection, 2)
                data = _read_exactly(connection, int.from_bytes(length, "big"))
            except (OSError, EOFError):
                return
            answer = self.server.dns_server.answer(data, "tcp")
            if answer is None:
                return
            connection.sendall(len(answer).to_bytes(2, "big") + answer)


def _read_exactly(connection: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


class DnsServer:
    """An authoritative DNS server on 127.0.0.1 for the records of a test (see the module's doc)."""

    def __init__(self):
        self._records: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        self._dropped: set[dns.name.Name] = set()
        self._failing: dict[dns.name.Name, int] = {}
        self._lock = threading.Lock()
        self.queries: list[tuple[str, str, str]] = []
        self.host = "127.0.0.1"
        self.port = 0
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []

    # --- the zone ---------------------------------------------------------------------------------

    def add(self, name: str, rdtype: str, *values: str, ttl: int = 60) -> "DnsServer":
        """Records in DNS text form, e.g. ``add("example.be", "MX", "10 mx.example.be.")``."""
        qname, type_ = _name(name), dns.rdatatype.from_text(rdtype)
        with self._lock:
            rrset = self._records.setdefault((qname, type_), dns.rrset.RRset(qname, dns.rdataclass.IN, type_))
            for value in values:
                if type_ == dns.rdatatype.TXT:
                    rdata = _txt_rdata(value)
                else:
                    rdata = dns.rdata.from_text(dns.rdataclass.IN, type_, value)
                rrset.add(rdata, ttl)
        return self

    def txt(self, name: str, *texts: str | bytes, ttl: int = 60) -> "DnsServer":
        """TXT records, one per text (each split into strings of at most 255 bytes)."""
        qname = _name(name)
        with self._lock:
            rrset = self._records.setdefault(
                (qname, dns.rdatatype.TXT), dns.rrset.RRset(qname, dns.rdataclass.IN, dns.rdatatype.TXT)
            )
            for text in texts:
                rrset.add(_txt_rdata(text), ttl)
        return self

    def remove(self, name: str, rdtype: str | None = None) -> None:
        qname = _name(name)
        with self._lock:
            for key in [key for key in self._records if key[0] == qname]:
                if rdtype is None or key[1] == dns.rdatatype.from_text(rdtype):
                    del self._records[key]

    def drop(self, name: str) -> None:
        """Never answer questions about ``name`` (the client times out)."""
        with self._lock:
            self._dropped.add(_name(name))

    def fail(self, name: str, rcode: str = "SERVFAIL") -> None:
        """Answer questions about ``name`` with the error ``rcode`` (SERVFAIL, REFUSED...)."""
        with self._lock:
            self._failing[_name(name)] = dns.rcode.from_text(rcode)

    def asked(self, name: str, rdtype: str | None = None) -> bool:
        """Whether a question about ``name`` (of type ``rdtype``) reached the server."""
        wanted = name.rstrip(".").lower()
        return any(q[0] == wanted and (rdtype is None or q[1] == rdtype) for q in self.queries)

    # --- answering --------------------------------------------------------------------------------

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if len(query.question) != 1:
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        qname, rdtype = question.name, question.rdtype
        with self._lock:
            self.queries.append((qname.to_text(omit_final_dot=True).lower(), dns.rdatatype.to_text(rdtype),
                                 transport))
            if qname in self._dropped:
                return None
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if qname in self._failing:
                response.set_rcode(self._failing[qname])
                return response.to_wire()
            rrset = self._records.get((qname, rdtype))
            if rrset is None:
                cname = self._records.get((qname, dns.rdatatype.CNAME))
                if cname is not None and rdtype != dns.rdatatype.CNAME:
                    response.answer.append(cname)
                    target = self._records.get((cname[0].target, rdtype))
                    if target is not None:
                        response.answer.append(target)
                elif not self._exists(qname):
                    response.set_rcode(dns.rcode.NXDOMAIN)
                if not response.answer:
                    response.authority.extend(self._soa_of(qname))
            else:
                response.answer.append(rrset)
        if transport == "tcp":
            return response.to_wire(max_size=65535)
        size = max(query.payload, _UDP_DEFAULT_SIZE) if query.edns >= 0 else _UDP_DEFAULT_SIZE
        try:
            return response.to_wire(max_size=size)
        except dns.exception.TooBig:
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.AA | dns.flags.TC
            return truncated.to_wire()

    def _soa_of(self, qname: dns.name.Name) -> list[dns.rrset.RRset]:
        """The SOA of the closest zone holding ``qname`` that has one (for negative answers)."""
        name = qname
        while True:
            soa = self._records.get((name, dns.rdatatype.SOA))
            if soa is not None:
                return [soa]
            if name == dns.name.root:
                return []
            name = name.parent()

    def _exists(self, qname: dns.name.Name) -> bool:
        """The name has records, or names below it do (an empty non-terminal: NOERROR, no data)."""
        return any(name == qname or name.is_subdomain(qname) for name, _ in self._records)

    # --- running ----------------------------------------------------------------------------------

    @property
    def nameserver(self) -> tuple[str, int]:
        return (self.host, self.port)

    def start(self) -> "DnsServer":
        udp, tcp = _free_udp_and_tcp_sockets(self.host)
        self.port = udp.getsockname()[1]
        self._servers = [_UdpServer(udp, self), _TcpServer(tcp, self)]
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                name=f"test-dns-{self.port}",
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> "DnsServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _txt_rdata(text: str | bytes) -> dns.rdtypes.ANY.TXT.TXT:
    data = text.encode("utf-8") if isinstance(text, str) else text
    strings = [data[index:index + 255] for index in range(0, len(data), 255)] or [b""]
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings)


class SilentNameserver:
    """A UDP and TCP port of 127.0.0.1 that receives questions and never answers them."""

    def __init__(self):
        self._udp, self._tcp = _free_udp_and_tcp_sockets()
        self.nameserver = self._udp.getsockname()

    def close(self) -> None:
        self._udp.close()
        self._tcp.close()

    def __enter__(self) -> "SilentNameserver":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


@pytest.fixture
def dns_server(settings) -> Iterator[DnsServer]:
    with DnsServer() as server:
        settings.COFFRE_DNS_NAMESERVERS = [server.nameserver]
        settings.COFFRE_DNS_TIMEOUT = TEST_DNS_TIMEOUT
        settings.COFFRE_DNS_CACHE_SECONDS = 0
        settings.COFFRE_SENDER_AUTH = True
        yield server


@pytest.fixture
def silent_nameserver() -> Iterator[SilentNameserver]:
    with SilentNameserver() as nameserver:
        yield nameserver
