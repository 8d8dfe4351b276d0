"""When a node may send an ICMP error, and how often (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7-8).

An ICMP error message MUST NOT be sent about:
- another ICMP error message (errors about errors would loop);
- a datagram sent to an IP broadcast or multicast address, or as a link-layer broadcast;
- a non-initial fragment;
- a datagram whose source does not name one host (0.0.0.0, loopback, broadcast, multicast, class E).

And errors are rate-limited (RFC 1812 §4.3.2.8): a token bucket per node, like Linux's
``icmp_ratelimit`` / ``icmp_msgs_burst``.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Final

from wirelab.wire.icmpv4 import ERROR_TYPES, UnreachableCode
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header

# What a socket hears for each "destination unreachable" code (Linux's icmp_err_convert).
UNREACHABLE_ERRNO: Final[dict[int, str]] = {
    UnreachableCode.NET: "ENETUNREACH",
    UnreachableCode.HOST: "EHOSTUNREACH",
    UnreachableCode.PROTOCOL: "ENOPROTOOPT",
    UnreachableCode.PORT: "ECONNREFUSED",
    UnreachableCode.FRAGMENTATION_NEEDED: "EMSGSIZE",
}

DEFAULT_RATE_PER_SECOND: Final = 1000  # Linux icmp_msgs_per_sec
DEFAULT_BURST: Final = 50  # Linux icmp_msgs_burst


def error_forbidden(
    header: Ipv4Header, payload: bytes, *, link_broadcast: bool, local_broadcasts: set[IPv4Address]
) -> str | None:
    """Why no ICMP error may be sent about this datagram, or None if one may."""
    if header.protocol == IpProtocol.ICMP and payload and payload[0] in ERROR_TYPES:
        return "about-icmp-error"
    if header.fragment_offset:
        return "non-first-fragment"
    if link_broadcast:
        return "link-broadcast"
    dst = header.dst
    if dst.is_multicast or dst in local_broadcasts or dst == IPv4Address("255.255.255.255"):
        return "ip-broadcast"
    src = header.src
    # A loopback source to a loopback destination was looped back inside this host (the input drops 127/8
    # sources off the wire): one host, and Linux answers it (a UDP socket connected to a closed port of
    # 127.0.0.1 hears ECONNREFUSED).
    looped = src.is_loopback and dst.is_loopback
    if src.is_unspecified or (src.is_loopback and not looped) or src.is_multicast or src.is_reserved:
        return "bad-source"  # is_reserved: class E, 240.0.0.0/4, which holds 255.255.255.255 too
    if src in local_broadcasts:
        return "bad-source"
    return None


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved; each error spends one."""

    def __init__(self, rate: int = DEFAULT_RATE_PER_SECOND, burst: int = DEFAULT_BURST) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = 0

    def allow(self, now: int) -> bool:
        elapsed = now - self._last
        self._last = now
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate / 1_000_000_000)
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
