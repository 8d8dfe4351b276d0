"""``ping``: ICMP echo requests, once a second, with Linux iputils' output and summary.

Like iputils ping: 56 octets of data (the first 16 are the send time, then 0x10, 0x11, …), so
84-octet IP packets; the identifier is the "process id" (from the node's random stream); replies
are matched by identifier and sequence; errors quoting our requests are printed as
"From 192.168.1.10 icmp_seq=1 Destination Host Unreachable".
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from wirelab.sim.units import parse_time
from wirelab.stack.node import SendError
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType, TimeExceededCode, UnreachableCode
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header

if TYPE_CHECKING:
    from wirelab.sim.node import SimNode

_TIMESTAMP = struct.Struct("!QQ")  # seconds, nanoseconds of the send time (iputils: a timeval)

_UNREACHABLE_TEXT: dict[int, str] = {
    UnreachableCode.NET: "Destination Net Unreachable",
    UnreachableCode.HOST: "Destination Host Unreachable",
    UnreachableCode.PROTOCOL: "Destination Protocol Unreachable",
    UnreachableCode.PORT: "Destination Port Unreachable",
    UnreachableCode.FRAGMENTATION_NEEDED: "Frag needed",
}


@dataclass(frozen=True, slots=True)
class PingStatistics:
    transmitted: int
    received: int
    errors: int
    rtts_ns: tuple[int, ...]
    elapsed_ns: int

    @property
    def loss_percent(self) -> float:
        if not self.transmitted:
            return 0.0
        return 100.0 * (self.transmitted - self.received) / self.transmitted

    def rtt_ms(self) -> tuple[float, float, float, float] | None:
        """min, avg, max, mdev in milliseconds (iputils: mdev = sqrt(mean(t²) - mean(t)²))."""
        if not self.rtts_ns:
            return None
        values = [rtt / 1_000_000 for rtt in self.rtts_ns]
        mean = sum(values) / len(values)
        mean_square = sum(value * value for value in values) / len(values)
        return min(values), mean, max(values), math.sqrt(max(mean_square - mean * mean, 0.0))


class Ping:
    def __init__(
        self,
        node: SimNode,
        target: IPv4Address,
        *,
        count: int = 4,
        interval: str | int = "1s",
        size: int = 56,
        ttl: int | None = None,
        wait: str | int | None = None,
        start: str | int = 0,
    ) -> None:
        if count < 1 or size < _TIMESTAMP.size:
            raise ValueError(f"ping: count must be >= 1 and size >= {_TIMESTAMP.size}")
        self.node = node
        self.target = target
        self.count = count
        self.interval = parse_time(interval, "ping interval") if isinstance(interval, str) else interval
        # iputils: after the last request, linger 2 x the longest RTT seen, or 10 s if none came back.
        self.wait = parse_time(wait, "ping wait") if isinstance(wait, str) else wait
        self.size = size
        self.ttl = ttl
        self.identifier = node.sim.random(f"{node.name} ping {target}").randrange(1, 1 << 16)
        self.lines = [f"PING {target} ({target}) {size}({size + 28}) bytes of data."]
        self.transmitted = 0
        self.received = 0
        self.errors = 0
        self.rtts: list[int] = []
        self._sent_at: dict[int, int] = {}
        self._first_send: int | None = None
        self._last_send = 0
        self.done = False
        node.stack.handlers.icmp.append(self._on_icmp)
        delay = parse_time(start, "ping start") if isinstance(start, str) else start
        node.sim.call_later(delay, self._send, 1)

    def _payload(self, now: int) -> bytes:
        stamp = _TIMESTAMP.pack(now // 1_000_000_000, now % 1_000_000_000)
        return stamp + bytes((0x10 + index) & 0xFF for index in range(self.size - len(stamp)))

    def _send(self, sequence: object) -> None:
        assert isinstance(sequence, int)
        sim = self.node.sim
        now = sim.now
        message = IcmpMessage.echo_request(self.identifier, sequence, self._payload(now))
        self.transmitted += 1
        self._sent_at[sequence] = now
        if self._first_send is None:
            self._first_send = now
        self._last_send = now
        try:
            self.node.send_ip(self.target, IpProtocol.ICMP, message.emit(), ttl=self.ttl)
        except SendError as error:
            self.errors += 1
            self.lines.append(f"ping: sendmsg: {error}")
        if sequence < self.count:
            sim.call_later(self.interval, self._send, sequence + 1)
        elif self.wait is not None:
            sim.call_later(self.wait, self._finish)
        else:
            sim.call_later(2 * max(self.rtts) if self.rtts else 10 * 1_000_000_000, self._finish)

    def _on_icmp(self, header: Ipv4Header, message: IcmpMessage, now: int) -> None:
        if self.done:
            return
        if message.type == IcmpType.ECHO_REPLY and message.identifier == self.identifier:
            sent = self._sent_at.pop(message.sequence, None)
            if sent is None:
                return  # a duplicate (iputils prints "(DUP!)"); counted once
            rtt = now - sent
            self.received += 1
            self.rtts.append(rtt)
            self.lines.append(
                f"{8 + len(message.data)} bytes from {header.src}: icmp_seq={message.sequence} "
                f"ttl={header.ttl} time={_ms(rtt)} ms"
            )
            return
        if not message.is_error or len(message.data) < 28:
            return
        quoted = message.data
        offset = (quoted[0] & 0x0F) * 4
        if quoted[9] != IpProtocol.ICMP or len(quoted) < offset + 8:
            return
        echo_type, _code, _checksum, identifier, sequence = struct.unpack_from("!BBHHH", quoted, offset)
        if echo_type != IcmpType.ECHO_REQUEST or identifier != self.identifier:
            return
        self.errors += 1
        if message.type == IcmpType.TIME_EXCEEDED:
            text = (
                "Time to live exceeded"
                if message.code == TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT
                else "Frag reassembly time exceeded"
            )
        else:
            text = _UNREACHABLE_TEXT.get(message.code, f"Dest Unreachable, Bad Code: {message.code}")
        self.lines.append(f"From {header.src} icmp_seq={sequence} {text}")

    def _finish(self, _: object = None) -> None:
        self.done = True
        self.node.stack.handlers.icmp.remove(self._on_icmp)

    @property
    def statistics(self) -> PingStatistics:
        elapsed = self._last_send - self._first_send if self._first_send is not None else 0
        return PingStatistics(self.transmitted, self.received, self.errors, tuple(self.rtts), elapsed)

    def report(self) -> str:
        """Everything iputils ping prints: the replies, then the statistics."""
        stats = self.statistics
        errors = f", +{stats.errors} errors" if stats.errors else ""
        lines = [
            *self.lines,
            "",
            f"--- {self.target} ping statistics ---",
            f"{stats.transmitted} packets transmitted, {stats.received} received{errors}, "
            f"{stats.loss_percent:g}% packet loss, time {stats.elapsed_ns // 1_000_000}ms",
        ]
        rtt = stats.rtt_ms()
        if rtt is not None:
            lines.append("rtt min/avg/max/mdev = " + "/".join(f"{value:.3f}" for value in rtt) + " ms")
        return "\n".join(lines)


def _ms(nanoseconds: int) -> str:
    """iputils' precision: 3 decimals below 10 ms... fewer above."""
    value = nanoseconds / 1_000_000
    if value < 10:
        return f"{value:.3f}"
    if value < 100:
        return f"{value:.2f}"
    return f"{value:.1f}"
