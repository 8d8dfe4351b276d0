"""``traceroute``: UDP probes with growing TTL; each router on the way answers "time exceeded".

As Linux's traceroute by default: UDP to port 33434 upwards (one port per probe), 3 probes per hop,
60-octet packets (32 octets of data), at most 30 hops; a probe unanswered within ``wait`` prints ``*``.
The destination answers "port unreachable", which ends the trace. Probes go one at a time, so the
output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from wirelab.sim.units import parse_time
from wirelab.stack.node import SendError
from wirelab.stack.ports import EPHEMERAL_HIGH, EPHEMERAL_LOW
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType, UnreachableCode
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.udp import UdpHeader

if TYPE_CHECKING:
    from wirelab.sim.engine import Timer
    from wirelab.sim.node import SimNode

BASE_PORT = 33434
DATA = bytes(range(0x40, 0x60))  # 32 octets: a 60-octet IP packet


@dataclass
class Hop:
    ttl: int
    responders: list[IPv4Address | None] = field(default_factory=list)
    rtts: list[int | None] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{self.ttl:2d} "]
        last: IPv4Address | None = None
        for responder, rtt in zip(self.responders, self.rtts, strict=True):
            if responder is None or rtt is None:
                parts.append(" *")
                continue
            if responder != last:
                parts.append(f" {responder}")
                last = responder
            parts.append(f"  {rtt / 1_000_000:.3f} ms")
        return "".join(parts)


class Traceroute:
    def __init__(
        self,
        node: SimNode,
        target: IPv4Address,
        *,
        max_hops: int = 30,
        probes: int = 3,
        wait: str | int = "5s",
        start: str | int = 0,
    ) -> None:
        self.node = node
        self.target = target
        self.max_hops = max_hops
        self.probes = probes
        self.wait = parse_time(wait, "traceroute wait") if isinstance(wait, str) else wait
        self.source_port = node.sim.random(f"{node.name} traceroute {target}").randrange(
            EPHEMERAL_LOW, EPHEMERAL_HIGH + 1
        )
        self.hops: list[Hop] = []
        self.reached = False
        self.done = False
        self._probe = 0
        self._sent_at = 0
        self._timer: Timer | None = None
        node.stack.handlers.icmp.append(self._on_icmp)
        delay = parse_time(start, "traceroute start") if isinstance(start, str) else start
        node.sim.call_later(delay, self._next)

    @property
    def _port(self) -> int:
        return BASE_PORT + self._probe

    def _next(self, _: object = None) -> None:
        ttl = self._probe // self.probes + 1
        if self._probe % self.probes == 0:
            if self.reached or ttl > self.max_hops:
                self._finish()
                return
            self.hops.append(Hop(ttl))
        sim = self.node.sim
        self._sent_at = sim.now
        try:
            source = self.node.stack.source_for(self.target)
            datagram = UdpHeader(self.source_port, self._port).emit(DATA, source, self.target)
            self.node.send_ip(self.target, IpProtocol.UDP, datagram, ttl=ttl)
        except SendError:
            self._record(None)
            return
        self._timer = sim.call_later(self.wait, self._timeout)

    def _timeout(self, _: object) -> None:
        self._record(None)

    def _record(self, responder: IPv4Address | None) -> None:
        hop = self.hops[-1]
        hop.responders.append(responder)
        hop.rtts.append(self.node.sim.now - self._sent_at if responder is not None else None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._probe += 1
        self.node.sim.call_later(0, self._next)

    def _on_icmp(self, header: Ipv4Header, message: IcmpMessage, now: int) -> None:
        if self.done or not message.is_error or len(message.data) < 28:
            return
        quoted = message.data
        offset = (quoted[0] & 0x0F) * 4
        if quoted[9] != IpProtocol.UDP or len(quoted) < offset + 4:
            return
        source_port = int.from_bytes(quoted[offset : offset + 2], "big")
        destination_port = int.from_bytes(quoted[offset + 2 : offset + 4], "big")
        if source_port != self.source_port or destination_port != self._port or self._timer is None:
            return
        if message.type == IcmpType.DEST_UNREACHABLE and message.code == UnreachableCode.PORT:
            self.reached = True
        self._record(header.src)

    def _finish(self) -> None:
        self.done = True
        self.node.stack.handlers.icmp.remove(self._on_icmp)

    def report(self) -> str:
        header = f"traceroute to {self.target} ({self.target}), {self.max_hops} hops max, 60 byte packets"
        return "\n".join([header, *(hop.line() for hop in self.hops)])
