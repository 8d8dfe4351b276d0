"""The stub resolver of a simulated host: glibc's ``files dns``, its /etc/resolv.conf, real DNS messages.

A name a program asks for (``gethostbyname``, ``getaddrinfo``, ``connect(("server.lab", 80))``) is
looked up as glibc's nsswitch ``hosts: files dns`` says: first the host's own table (its /etc/hosts,
:attr:`HostSockets.names`), then DNS — a query (type A: the simulated hosts speak IPv4 only, as
``getaddrinfo(AF_INET)``) sent over UDP to port 53 of each nameserver of the host's resolv.conf
(:class:`~wirelab.sockets.names.ResolvConf`),
in turn, as glibc's ``res_send`` does:

- one query message, its ID drawn from the host's seeded random stream, resent unchanged on every
  try; one connected UDP socket per nameserver, on an ephemeral port from a random point of the range
  (Linux's UDP autobind);
- the answer must come from the nameserver's address and port 53 (the connected socket), carry the
  query's ID, be a response, and repeat its question; anything else is ignored and the wait goes on
  (RFC 5452 §4.3: what makes blind spoofing hard);
- no answer within ``timeout`` seconds (5; nameserver ``i > 0`` of ``n`` waits ``(timeout << i) / n``,
  glibc's ``send_dg``) or ICMP port/host unreachable (ECONNREFUSED on the connected socket): the
  next nameserver; the whole round is tried ``attempts`` times (2) — resolv.conf(5);
- NXDOMAIN ends the lookup (an authoritative "no"); SERVFAIL or REFUSED moves on to the next server;
- a name with fewer than ``ndots`` dots is tried with each ``search`` domain first.

Failures are glibc's ``getaddrinfo`` errors: NXDOMAIN → ``gaierror(-2, 'Name or service not known')``,
a name that exists without an address → ``gaierror(-5, 'No address associated with hostname')``, no
answer or only SERVFAIL/REFUSED → ``gaierror(-3, 'Temporary failure in name resolution')``. A host
without nameservers uses its table only (glibc would try 127.0.0.1; here that would only add waits).

The calling process blocks on virtual time while a query is out, as ``recv`` on a socket does.
Nothing is cached: glibc keeps no cache either (nscd or systemd-resolved would).

This module (and dnspython, which brings the ``email`` package along) is loaded only for a host given
a nameserver (:attr:`HostSockets.resolv_conf`), outside any process: a lab without DNS does not pay
for the modules a process switch must hide and restore.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Final

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.rrset

from wirelab.sockets.channel import Channel
from wirelab.sockets.errors import EAI_AGAIN, EAI_NODATA, EAI_NONAME, address_error
from wirelab.stack.node import SendError
from wirelab.stack.ports import EphemeralPorts
from wirelab.stack.udp import UdpBinding
from wirelab.trace import Layer
from wirelab.wire.ipaddr import UNSPECIFIED

if TYPE_CHECKING:
    from wirelab.sockets.files import System
    from wirelab.sockets.host import HostSockets

DNS_PORT: Final = 53
SECOND: Final = 1_000_000_000


class Outcome(enum.Enum):
    FOUND = "found"
    NXDOMAIN = "NXDOMAIN"  # h_errno HOST_NOT_FOUND
    NODATA = "NODATA"  # the name exists, without records of the type asked (NO_DATA)
    SERVFAIL = "SERVFAIL"  # every server said SERVFAIL or REFUSED (TRY_AGAIN)
    TIMEOUT = "timeout"  # nobody answered (TRY_AGAIN)


@dataclass(slots=True)
class _Server:
    """One nameserver during one lookup: its connected socket (opened on first use)."""

    address: IPv4Address
    index: int
    binding: UdpBinding | None = None
    channel: Channel = field(default_factory=Channel)


class Resolver:
    """The resolver of one host (glibc's ``res_*`` state): a seeded random stream for query IDs."""

    def __init__(self, host: HostSockets) -> None:
        self.host = host
        self._rng: random.Random | None = None

    @property
    def rng(self) -> random.Random:
        if self._rng is None:
            self._rng = self.host.sim.random(f"{self.host.node.name} resolver")
        return self._rng

    # -- what the socket module asks --------------------------------------------------------------
    def addresses(self, system: System, name: str) -> list[IPv4Address]:
        """The addresses of ``name`` by DNS (the table was asked already), or glibc's gaierror."""
        outcomes: list[Outcome] = []
        for candidate in self._candidates(name):
            outcome, records = self._query(system, candidate, dns.rdatatype.A)
            if outcome is Outcome.FOUND:
                return [IPv4Address(record) for record in records]
            outcomes.append(outcome)
            if outcome is Outcome.TIMEOUT:
                break  # glibc's res_nsearch stops the search list when a server does not answer
        # res_nsearch's verdict: a name that exists somewhere wins, then "try again", then "no such name".
        code = (
            EAI_NODATA if Outcome.NODATA in outcomes
            else EAI_AGAIN if Outcome.SERVFAIL in outcomes or Outcome.TIMEOUT in outcomes
            else EAI_NONAME
        )  # fmt: skip
        error = address_error(code)
        self._event("dns.failed", name=name, code=code, message=error.strerror)
        raise error

    def pointer(self, system: System, address: IPv4Address) -> str | None:
        """The name of ``address`` by a PTR query (``gethostbyaddr``), or None."""
        reverse = dns.reversename.from_address(str(address))  # 20.0.0.10.in-addr.arpa. (RFC 1035 §3.5)
        outcome, records = self._query(system, str(reverse), dns.rdatatype.PTR)
        return records[0].rstrip(".") if outcome is Outcome.FOUND else None

    def _candidates(self, name: str) -> list[str]:
        """The names to ask, in order (res_nsearch): the search domains first for a short name."""
        if name.endswith("."):
            return [name]
        conf = self.host.resolv_conf
        with_search = [f"{name}.{domain.strip('.')}." for domain in conf.search]
        if name.count(".") >= conf.ndots:
            return [f"{name}.", *with_search]
        return [*with_search, f"{name}."]

    # -- one query, over every server and attempt (res_send) --------------------------------------
    def _query(self, system: System, qname: str, rdtype: dns.rdatatype.RdataType) -> tuple[Outcome, list[str]]:
        conf = self.host.resolv_conf
        try:
            query = dns.message.make_query(qname, rdtype, use_edns=False, id=self.rng.randrange(1 << 16))
        except dns.exception.DNSException:
            return Outcome.NXDOMAIN, []  # not a name DNS can carry (an empty label): glibc says "not known"
        wire = query.to_wire(want_shuffle=False)
        question = query.question[0]
        kind = dns.rdatatype.to_text(rdtype)
        servers = [_Server(address, index) for index, address in enumerate(conf.nameservers)]
        failed = Outcome.TIMEOUT
        try:
            for attempt in range(1, conf.attempts + 1):
                for server in servers:
                    seconds = conf.timeout << server.index
                    if server.index > 0:
                        seconds //= len(servers)
                    seconds = max(seconds, 1)
                    outcome, records = self._exchange(system, server, wire, query.id, question, kind, seconds, attempt)
                    if outcome in (Outcome.FOUND, Outcome.NXDOMAIN, Outcome.NODATA):
                        return outcome, records
                    if outcome is Outcome.SERVFAIL:
                        failed = Outcome.SERVFAIL
        finally:
            for server in servers:
                self._close(server)
        return failed, []

    def _exchange(
        self, system: System, server: _Server, wire: bytes, identifier: int, question: dns.rrset.RRset, kind: str,
        seconds: int, attempt: int,
    ) -> tuple[Outcome, list[str]]:  # fmt: skip
        """Send the query to one server and wait for its answer (send_dg)."""
        host = self.host
        name = str(question.name)
        binding = self._open(server)
        if binding is None:
            return Outcome.TIMEOUT, []
        host.begin()
        try:
            host.udp.send(binding, wire, (server.address, DNS_PORT))
        except SendError as error:
            self._event("dns.send-failed", name=name, server=server.address, errno=error.errno_name)
            self._close(server)
            return Outcome.TIMEOUT, []
        finally:
            host.flush()
        host.node.counters["dns.query.tx"] += 1
        self._event(
            "dns.query.sent", name=name, type=kind, server=server.address, port=binding.port, id=identifier,
            attempt=attempt, attempts=self.host.resolv_conf.attempts,
        )  # fmt: skip
        deadline = system.now() + seconds * SECOND
        while True:
            if binding.pending_error is not None:  # ICMP unreachable on the connected socket
                reported, binding.pending_error = binding.pending_error, None
                self._event("dns.unreachable", name=name, server=server.address, errno=reported)
                self._close(server)
                return Outcome.TIMEOUT, []
            datagram = binding.take()
            if datagram is None:
                if not system.wait((server.channel,), deadline):
                    host.node.counters["dns.timeout"] += 1
                    self._event(
                        "dns.timeout", name=name, server=server.address, seconds=seconds, attempt=attempt,
                        attempts=self.host.resolv_conf.attempts,
                    )  # fmt: skip
                    return Outcome.TIMEOUT, []
                continue
            response = self._matching(datagram.data, identifier, question)
            if response is None or datagram.source != (server.address, DNS_PORT):
                host.node.counters["dns.answer.ignored"] += 1
                self._event("dns.answer.ignored", name=name, server=datagram.source[0], id=identifier)
                continue
            return self._read(response, server, name, kind, identifier)

    def _read(
        self, response: dns.message.Message, server: _Server, name: str, kind: str, identifier: int
    ) -> tuple[Outcome, list[str]]:
        self.host.node.counters["dns.answer.rx"] += 1
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            self._event("dns.answer.nxdomain", name=name, server=server.address, id=identifier)
            return Outcome.NXDOMAIN, []
        if rcode != dns.rcode.NOERROR:
            self._event("dns.answer.error", name=name, server=server.address, rcode=dns.rcode.to_text(rcode))
            return Outcome.SERVFAIL, []
        wanted = dns.rdatatype.from_text(kind)
        records = [str(rdata) for rrset in response.answer if rrset.rdtype == wanted for rdata in rrset]
        if not records:
            self._event("dns.answer.no-data", name=name, type=kind, server=server.address, id=identifier)
            return Outcome.NODATA, []
        self._event(
            "dns.answer.received", name=name, type=kind, records=", ".join(records), server=server.address,
            id=identifier,
        )  # fmt: skip
        return Outcome.FOUND, records

    @staticmethod
    def _matching(data: bytes, identifier: int, question: dns.rrset.RRset) -> dns.message.Message | None:
        """The response if it answers our query (ID, QR, the same question), else None."""
        try:
            response = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return None
        if response.id != identifier or not response.flags & dns.flags.QR or response.question != [question]:
            return None
        return response

    # -- the per-server socket --------------------------------------------------------------------
    def _open(self, server: _Server) -> UdpBinding | None:
        if server.binding is not None:
            return server.binding
        host = self.host
        # An ephemeral port from a random start of the range, drawn from the resolver's seeded stream, for
        # every socket — as Linux's udp_lib_get_port does: the source port is the 16 bits of randomness a
        # blind spoofer must guess besides the ID (RFC 5452 §10).
        try:
            binding = host.udp.bind(UNSPECIFIED, 0, ephemeral=EphemeralPorts(self.rng))
        except SendError:
            return None
        binding.peer = (server.address, DNS_PORT)  # connect(): only its answers, and its ICMP errors
        binding.on_ready = lambda _binding: server.channel.notify()
        server.binding = binding
        return binding

    def _close(self, server: _Server) -> None:
        if server.binding is not None:
            server.binding.on_ready = None
            self.host.udp.unbind(server.binding)
            server.binding = None

    def _event(self, kind: str, **fields: object) -> None:
        node = self.host.node
        if node.trace.enabled:
            node.trace.emit(self.host.sim.now, node.name, Layer.APPLICATION, kind, **fields)


def _warm_up() -> None:
    """Load the record types' modules now, in the real interpreter: dnspython imports them on first
    use, and a first use inside a simulated process would import them into that process's view."""
    query = dns.message.make_query("a.lab.", dns.rdatatype.A, use_edns=False, id=1)
    response = dns.message.make_response(query)
    for kind, text in (("A", "10.0.0.1"), ("PTR", "a.lab."), ("SOA", "ns.lab. h.lab. 1 2 3 4 5"), ("NS", "ns.lab.")):
        response.answer.append(dns.rrset.from_text("a.lab.", 1, "IN", kind, text))
    dns.message.from_wire(response.to_wire(want_shuffle=False))
    dns.rdataclass.to_text(dns.rdataclass.IN)


_warm_up()
