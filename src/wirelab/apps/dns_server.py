"""A DNS server on a simulated node: authoritative for its zones, over UDP port 53 (RFC 1034/1035).

Two levels, as every protocol here. :class:`DnsServer` is the sans-IO core: query bytes in, response
bytes out (``respond``), with a :class:`Zone` of names and addresses; it reads no clock and sends
nothing. :class:`DnsService` is its runtime on a node: it takes UDP port 53 on the node's stack (as
the ICMP echo responder, a service of the node rather than a process — it answers at the instant the
query arrives, on a router as on a host, and its own socket calls would only add noise to the socket
trace a learner reads; the port is still taken, so a script binding 53 there gets EADDRINUSE), and
answers from the address the query was sent to (as a server using IP_PKTINFO does; a stub resolver
drops answers from any other address).

The messages are real DNS messages, made and parsed by dnspython's codec (``dns.message``); no
dnspython networking is used. What the server answers, as an authoritative-only server (BIND with
``recursion no``) does:

- a name in one of its zones with records of the asked type: those records, AA set (RFC 1035 §4.1.1);
- a name in a zone without records of that type: NOERROR with no answer, the zone's SOA in the
  authority section ("NODATA", RFC 2308 §2.2);
- a name in a zone that does not exist: NXDOMAIN, with the SOA (RFC 2308 §2.1);
- a name in no zone of its own: REFUSED (it does not recurse, RFC 1035 §4.1.1);
- an opcode other than QUERY: NOTIMP; not exactly one question, or an unreadable one: FORMERR;
  a message that is itself a response, or too short to have a header: dropped, counted.

PTR records for every A record (``20.0.0.10.in-addr.arpa``, RFC 1035 §3.5) are made by the zone, so
``gethostbyaddr`` works over the wire too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Final

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.rrset

from wirelab.stack.node import SendError
from wirelab.trace import Layer
from wirelab.wire.ipv4 import IpProtocol
from wirelab.wire.udp import UdpHeader

if TYPE_CHECKING:
    from wirelab.sim.node import SimNode

DNS_PORT: Final = 53
DEFAULT_TTL: Final = 300
NEGATIVE_TTL: Final = 60  # the SOA MINIMUM: how long a resolver may remember "no such name" (RFC 2308 §4)
REVERSE: Final = dns.reversename.ipv4_reverse_domain  # in-addr.arpa. (RFC 1035 §3.5)


def absolute(name: str | dns.name.Name, origin: dns.name.Name | None = None) -> dns.name.Name:
    """``server`` (relative to ``origin``) or ``server.lab.`` as an absolute name."""
    if isinstance(name, dns.name.Name):
        return name
    if name.endswith("."):
        return dns.name.from_text(name)
    return dns.name.from_text(name, origin=origin or dns.name.root)


class Zone:
    """One zone's names and addresses (``lab.``: ``server.lab. A 10.0.0.20``…), with its SOA and NS.

    Names are case-insensitive, as in DNS. A name may have several addresses (a router: one per
    interface); the first given is listed first.
    """

    def __init__(self, origin: str, *, ttl: int = DEFAULT_TTL, nameserver: str = "ns") -> None:
        try:
            self.origin = absolute(origin if origin.endswith(".") else origin + ".")
        except dns.exception.DNSException as error:
            raise ValueError(f"{origin!r} is not a domain name ({error})") from None
        self.ttl = ttl
        self.addresses: dict[dns.name.Name, list[IPv4Address]] = {}
        self.nameserver = absolute(nameserver, self.origin)
        # The SOA that negative answers carry (RFC 2308 §3): serial 1, refresh/retry/expire, minimum.
        self.soa = dns.rrset.from_text(
            self.origin,
            ttl,
            "IN",
            "SOA",
            f"{self.nameserver} hostmaster.{self.origin} 1 3600 600 86400 {NEGATIVE_TTL}",
        )

    def add(self, name: str, address: IPv4Address | str) -> None:
        """An A record (and its PTR): ``name`` relative to the zone, or absolute inside it."""
        try:
            owner = absolute(name, self.origin)
        except dns.exception.DNSException as error:
            raise ValueError(f"{name!r} is not a domain name ({error})") from None
        if not owner.is_subdomain(self.origin):
            raise ValueError(f"{owner} is not in the zone {self.origin}")
        found = self.addresses.setdefault(owner, [])
        address = IPv4Address(address)
        if address not in found:
            found.append(address)

    def names(self) -> dict[str, list[str]]:
        """Every name and its addresses, as text (for reports)."""
        return {str(name): [str(address) for address in found] for name, found in self.addresses.items()}

    def __contains__(self, name: dns.name.Name) -> bool:
        return name.is_subdomain(self.origin)

    def lookup(self, name: dns.name.Name, rdtype: int) -> dns.rrset.RRset | bool | None:
        """The records of ``name`` of type ``rdtype``; None: the name has none of that type (NODATA);
        False: the name does not exist (NXDOMAIN)."""
        if name == self.origin:
            if rdtype == dns.rdatatype.SOA:
                return self.soa
            if rdtype == dns.rdatatype.NS:
                return dns.rrset.from_text(self.origin, self.ttl, "IN", "NS", str(self.nameserver))
        found = self.addresses.get(name)
        if found is None:
            # A name with names below it exists, without records of its own (RFC 8020 "empty non-terminal").
            if name == self.origin or any(known.is_subdomain(name) for known in self.addresses):
                return None
            return False
        if rdtype not in (dns.rdatatype.A, dns.rdatatype.ANY):
            return None
        return dns.rrset.from_text_list(name, self.ttl, "IN", "A", [str(address) for address in found])


def _wire(message: dns.message.Message) -> bytes:
    """The message's bytes, records in the zone's order: dnspython shuffles an RRset's records with the
    global ``random`` by default (round robin), which would make two runs of one seed differ."""
    return message.to_wire(want_shuffle=False)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the core decided about one query: the response to send (None: drop) and why."""

    response: bytes | None
    rcode: str  # "NOERROR", "NXDOMAIN", "REFUSED", "FORMERR", "NOTIMP"; "dropped" when nothing is sent
    name: str = ""
    rdtype: str = ""
    records: tuple[str, ...] = ()  # the answer's data: addresses, or the PTR name
    identifier: int = 0


class DnsServer:
    """The sans-IO core: ``respond(query bytes)`` → an :class:`Answer` with the response bytes."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self.zones = list(zones)

    def zone_for(self, name: dns.name.Name) -> Zone | None:
        best: Zone | None = None
        for zone in self.zones:  # the most specific zone that holds the name
            if name in zone and (best is None or len(zone.origin) > len(best.origin)):
                best = zone
        return best

    def _reverse(self, name: dns.name.Name) -> dns.rrset.RRset | None:
        """The PTR of ``20.0.0.10.in-addr.arpa.``: the first name with the address 10.0.0.20."""
        try:
            address = IPv4Address(dns.reversename.to_address(name))
        except (dns.exception.DNSException, ValueError):
            return None  # not four labels of an address
        for zone in self.zones:
            for owner, found in zone.addresses.items():
                if address in found:
                    return dns.rrset.from_text(name, zone.ttl, "IN", "PTR", str(owner))
        return None

    def respond(self, query: bytes) -> Answer:
        try:
            message = dns.message.from_wire(query)
        except dns.message.ShortHeader:
            return Answer(None, "dropped")  # no ID to answer to
        except dns.exception.DNSException:
            return self._format_error(query)
        if message.flags & dns.flags.QR:
            return Answer(None, "dropped", identifier=message.id)  # a response is never answered (loops)
        response = dns.message.make_response(message)
        if message.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return Answer(_wire(response), "NOTIMP", identifier=message.id)
        if len(message.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return Answer(_wire(response), "FORMERR", identifier=message.id)
        question = message.question[0]
        name, rdtype = question.name, question.rdtype
        shown = (str(name), dns.rdatatype.to_text(rdtype))
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return Answer(_wire(response), "REFUSED", *shown, identifier=message.id)
        if name.is_subdomain(REVERSE) and rdtype in (dns.rdatatype.PTR, dns.rdatatype.ANY):
            pointer = self._reverse(name)
            if pointer is not None:
                response.flags |= dns.flags.AA
                response.answer.append(pointer)
                records = tuple(str(rdata) for rdata in pointer)
                return Answer(_wire(response), "NOERROR", *shown, records, message.id)
        zone = self.zone_for(name)
        if zone is None:
            response.set_rcode(dns.rcode.REFUSED)  # not ours, and we do not recurse
            return Answer(_wire(response), "REFUSED", *shown, identifier=message.id)
        response.flags |= dns.flags.AA
        found = zone.lookup(name, rdtype)
        if found is False:
            response.set_rcode(dns.rcode.NXDOMAIN)
            response.authority.append(zone.soa)
            return Answer(_wire(response), "NXDOMAIN", *shown, identifier=message.id)
        if found is None or found is True:
            response.authority.append(zone.soa)
            return Answer(_wire(response), "NOERROR", *shown, identifier=message.id)
        response.answer.append(found)
        return Answer(_wire(response), "NOERROR", *shown, tuple(str(rdata) for rdata in found), message.id)

    @staticmethod
    def _format_error(query: bytes) -> Answer:
        """FORMERR with the query's ID and opcode, no question (RFC 1035 §4.1.1)."""
        identifier = int.from_bytes(query[0:2], "big")
        if query[2] & 0x80:
            return Answer(None, "dropped", identifier=identifier)
        flags = 0x8000 | (query[2] & 0x79) << 8 | dns.rcode.FORMERR  # QR, the opcode and RD kept
        header = identifier.to_bytes(2, "big") + flags.to_bytes(2, "big") + bytes(8)
        return Answer(header, "FORMERR", identifier=identifier)


class DnsService:
    """A :class:`DnsServer` answering on UDP port 53 of a simulated node."""

    def __init__(self, node: SimNode, zones: Iterable[Zone]) -> None:
        self.node = node
        self.server = DnsServer(zones)
        self.running = False
        self.start()

    @property
    def zones(self) -> list[Zone]:
        return self.server.zones

    def start(self) -> None:
        """Take UDP port 53 (EADDRINUSE, as a SendError, if a socket of the node holds it already)."""
        if not self.running:
            sockets = getattr(self.node, "udp", None)  # the node's UDP endpoint, if its sockets made one
            if sockets is not None and any(port == DNS_PORT for _, port in sockets.bindings):
                raise SendError("EADDRINUSE", "Address already in use")
            self.node.stack.bind_udp(DNS_PORT, self._query_arrives)
            self.running = True

    def stop(self) -> None:
        """The server stops: port 53 is closed (queries get ICMP port unreachable)."""
        if self.running:
            self.node.stack.unbind_udp(DNS_PORT)
            self.running = False

    def _query_arrives(
        self, source: IPv4Address, source_port: int, destination: IPv4Address, _port: int, data: bytes, now: int
    ) -> None:
        node = self.node
        counters = node.counters
        counters["dns.server.rx"] += 1
        answer = self.server.respond(data)
        if answer.response is None:
            counters["dns.server.drop.not-a-query"] += 1
            return
        counters[f"dns.server.{answer.rcode.lower()}"] += 1
        stack = node.stack
        if node.trace.enabled:
            kind = {"NOERROR": "dns.server.answered", "NXDOMAIN": "dns.server.nxdomain"}.get(
                answer.rcode, "dns.server.refused" if answer.rcode == "REFUSED" else "dns.server.error"
            )
            if kind == "dns.server.answered" and not answer.records:
                kind = "dns.server.no-data"
            node.trace.emit(
                now, node.name, Layer.APPLICATION, kind,
                client=f"{source}:{source_port}", name=answer.name, type=answer.rdtype,
                records=", ".join(answer.records), rcode=answer.rcode, id=answer.identifier,
            )  # fmt: skip
        # The answer leaves from the address the query came to (IP_PKTINFO), to the asker's port.
        reply_from = destination if stack.is_local(destination) and not destination.is_multicast else None
        try:
            reply_from = reply_from or stack.source_for(source)
            datagram = UdpHeader(DNS_PORT, source_port).emit(answer.response, reply_from, source)
            counters["udp.tx"] += 1
            stack.send_ip(source, IpProtocol.UDP, datagram, src=reply_from)
        except SendError:
            counters["dns.server.unroutable"] += 1


def host_records(nodes: Mapping[str, SimNode]) -> dict[str, list[IPv4Address]]:
    """Every node's name and its addresses, interface by interface (a router has one per LAN)."""
    records: dict[str, list[IPv4Address]] = {}
    for name, node in nodes.items():
        addresses = [interface.ip for interface in node.interfaces if interface.ip is not None]
        if addresses:
            records[name] = addresses
    return records
