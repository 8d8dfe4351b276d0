"""A node's UDP (RFC 768; RFC 1122 §4.1): ports, demultiplexing, errors, broadcast.

Each bound port has one owner per address (``0.0.0.0`` takes the port on every address); ports 0 ask
for an ephemeral port from 32768-60999, as Linux. An arriving datagram goes to the socket bound to its
exact destination address, else to the wildcard; if a socket is *connected*, only datagrams from its
peer reach it. With nobody listening the node answers ICMP port unreachable (the IP layer does that).

ICMP errors about a datagram a socket sent are reported to that socket if it is connected
(RFC 1122 §4.1.3.3; Linux reports port unreachable as ECONNREFUSED on the next call). Sending to a
broadcast address needs SO_BROADCAST, else EACCES — as Linux.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Final

from wirelab.stack.icmp import UNREACHABLE_ERRNO
from wirelab.stack.node import SendError
from wirelab.stack.ports import EphemeralPorts
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType
from wirelab.wire.ipaddr import LIMITED_BROADCAST, UNSPECIFIED
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.udp import UdpHeader

if TYPE_CHECKING:
    from wirelab.stack.node import IpNode

DEFAULT_RECEIVE_QUEUE: Final = 212_992  # octets, Linux's default rmem


@dataclass(frozen=True, slots=True)
class Datagram:
    source: tuple[IPv4Address, int]
    destination: tuple[IPv4Address, int]
    data: bytes


@dataclass(eq=False)
class UdpBinding:
    """One bound UDP socket's state in the stack."""

    address: IPv4Address
    port: int
    peer: tuple[IPv4Address, int] | None = None
    broadcast: bool = False
    queue: deque[Datagram] = field(default_factory=deque)
    queued_octets: int = 0
    limit: int = DEFAULT_RECEIVE_QUEUE
    dropped: int = 0
    pending_error: str | None = None
    on_ready: Callable[[UdpBinding], None] | None = None

    def take(self) -> Datagram | None:
        if not self.queue:
            return None
        datagram = self.queue.popleft()
        self.queued_octets -= len(datagram.data)
        return datagram


class UdpEndpoint:
    def __init__(self, node: IpNode, *, rng: random.Random | None = None) -> None:
        self.node = node
        self.rng = rng or random.Random(0)
        self.bindings: dict[tuple[IPv4Address, int], UdpBinding] = {}
        self._ephemeral = EphemeralPorts(self.rng)
        node.handlers.udp_fallback = self.datagram_arrives
        node.handlers.icmp.append(self.icmp_arrives)

    def _port_taken(self, address: IPv4Address, port: int) -> bool:
        return (
            any(
                bound_port == port and (bound == address or UNSPECIFIED in (bound, address))
                for bound, bound_port in self.bindings
            )
            or port in self.node.handlers.udp
        )

    def bind(self, address: IPv4Address, port: int, *, ephemeral: EphemeralPorts | None = None) -> UdpBinding:
        """Bind ``address``:``port``; port 0 takes the next free port of ``ephemeral`` (by default the
        endpoint's own allocator, which walks the range in turn)."""
        if address != UNSPECIFIED and not self.node.is_local(address):
            raise SendError("EADDRNOTAVAIL", "Cannot assign requested address")
        if port == 0:
            port = self._ephemeral_port(address, ephemeral or self._ephemeral)
        elif self._port_taken(address, port):
            raise SendError("EADDRINUSE", "Address already in use")
        binding = UdpBinding(address, port)
        self.bindings[(address, port)] = binding
        return binding

    def _ephemeral_port(self, address: IPv4Address, ephemeral: EphemeralPorts) -> int:
        port = ephemeral.take(lambda candidate: self._port_taken(address, candidate))
        if port is None:
            raise SendError("EADDRNOTAVAIL", "Cannot assign requested address")
        return port

    def unbind(self, binding: UdpBinding) -> None:
        if self.bindings.get((binding.address, binding.port)) is binding:
            del self.bindings[(binding.address, binding.port)]

    def send(self, binding: UdpBinding, data: bytes, destination: tuple[IPv4Address, int]) -> int:
        address, port = destination
        if not 0 < port <= 0xFFFF:
            raise SendError("EINVAL", "Invalid argument")
        if len(data) > 65507:
            raise SendError("EMSGSIZE", "Message too long")
        if self._is_broadcast(address) and not binding.broadcast:
            raise SendError("EACCES", "Permission denied")  # Linux: broadcast needs SO_BROADCAST
        source = binding.address
        if source == UNSPECIFIED:
            source = self.node.source_for(address)
        datagram = UdpHeader(binding.port, port).emit(data, source, address)
        self.node.counters["udp.tx"] += 1
        self.node.send_ip(address, IpProtocol.UDP, datagram, src=source)
        return len(data)

    def _is_broadcast(self, address: IPv4Address) -> bool:
        return address == LIMITED_BROADCAST or any(
            interface.broadcast == address for interface in self.node.interfaces if interface.address is not None
        )

    def datagram_arrives(self, header: Ipv4Header, udp: UdpHeader, data: bytes, now: int) -> bool:
        """Deliver to the most specific binding; False means nobody listens (port unreachable)."""
        binding = self.bindings.get((header.dst, udp.dst_port)) or self.bindings.get((UNSPECIFIED, udp.dst_port))
        if binding is None:
            return False
        if binding.peer is not None and binding.peer != (header.src, udp.src_port):
            self.node.counters["udp.drop.not-from-peer"] += 1
            return True
        if binding.queued_octets + len(data) > binding.limit:
            binding.dropped += 1
            self.node.counters["udp.drop.receive-queue-full"] += 1  # never silent: counted, like RcvbufErrors
            return True
        binding.queue.append(Datagram((header.src, udp.src_port), (header.dst, udp.dst_port), data))
        binding.queued_octets += len(data)
        self.node.counters["udp.rx"] += 1
        if binding.on_ready is not None:
            binding.on_ready(binding)
        return True

    def icmp_arrives(self, header: Ipv4Header, message: IcmpMessage, now: int) -> None:
        """An ICMP error about one of our datagrams: tell its socket if it is connected."""
        if message.type != IcmpType.DEST_UNREACHABLE or len(message.data) < 28:
            return
        quoted = message.data
        offset = (quoted[0] & 0x0F) * 4
        if quoted[9] != IpProtocol.UDP or len(quoted) < offset + 4:
            return
        source = IPv4Address(quoted[12:16])
        destination = IPv4Address(quoted[16:20])
        source_port = int.from_bytes(quoted[offset : offset + 2], "big")
        destination_port = int.from_bytes(quoted[offset + 2 : offset + 4], "big")
        binding = self.bindings.get((source, source_port)) or self.bindings.get((UNSPECIFIED, source_port))
        if binding is None or binding.peer != (destination, destination_port):
            return
        binding.pending_error = UNREACHABLE_ERRNO.get(message.code, "EHOSTUNREACH")
        self.node.counters["udp.error.reported"] += 1
        if binding.on_ready is not None:
            binding.on_ready(binding)
