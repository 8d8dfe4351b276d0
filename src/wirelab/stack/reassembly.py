"""IPv4 reassembly (RFC 791 §3.2, RFC 815's hole idea), bounded and timed out.

Fragments are kept per datagram, identified by (source, destination, protocol, identification).
A datagram is complete when its last fragment (MF=0) has arrived and the pieces cover every octet
from 0 to its end. Bounds: at most ``max_datagrams`` in progress and ``max_octets`` buffered (the
oldest datagram is evicted first); each datagram has ``timeout`` (Linux: 30 s) to complete, after
which it is dropped — and if its first fragment had arrived, the caller owes the source an ICMP
"fragment reassembly time exceeded" (RFC 792, RFC 1122 §3.3.2).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Final

from wirelab.wire.ipv4 import MAX_PACKET_LEN, Ipv4Header

DEFAULT_TIMEOUT: Final = 30_000_000_000
DEFAULT_MAX_DATAGRAMS: Final = 64
DEFAULT_MAX_OCTETS: Final = 4 * 1024 * 1024

DatagramKey = tuple[IPv4Address, IPv4Address, int, int]


@dataclass(slots=True)
class _Partial:
    first_arrival: int
    deadline: int
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset -> data
    total: int | None = None  # payload length, known once the last fragment has arrived
    first_header: Ipv4Header | None = None
    first_packet: bytes = b""  # the first fragment as received, quoted by ICMP on timeout
    octets: int = 0


@dataclass(frozen=True, slots=True)
class Expired:
    key: DatagramKey
    first_packet: bytes  # empty if the first fragment never came: then no ICMP is sent


class Reassembler:
    def __init__(
        self,
        *,
        timeout: int = DEFAULT_TIMEOUT,
        max_datagrams: int = DEFAULT_MAX_DATAGRAMS,
        max_octets: int = DEFAULT_MAX_OCTETS,
    ) -> None:
        self.timeout = timeout
        self.max_datagrams = max_datagrams
        self.max_octets = max_octets
        self._partials: OrderedDict[DatagramKey, _Partial] = OrderedDict()
        self._octets = 0
        self.evicted = 0
        self.overlaps = 0

    def __len__(self) -> int:
        return len(self._partials)

    def add(self, header: Ipv4Header, payload: bytes, packet: bytes, now: int) -> tuple[Ipv4Header, bytes] | None:
        """Take one fragment; returns (header, payload) of the whole datagram once complete."""
        key = (header.src, header.dst, header.protocol, header.identification)
        partial = self._partials.get(key)
        if partial is None:
            while len(self._partials) >= self.max_datagrams or self._octets + len(payload) > self.max_octets:
                if not self._partials:
                    return None
                self._evict_oldest()
            partial = _Partial(now, now + self.timeout)
            self._partials[key] = partial
        elif self._octets + len(payload) > self.max_octets and header.fragment_offset not in partial.pieces:
            # The octet bound holds while a datagram grows, too (Linux checks it on every fragment):
            # older datagrams go first; if this one alone does not fit, it goes.
            while self._octets + len(payload) > self.max_octets:
                if next(iter(self._partials)) == key:
                    self._discard(key)
                    self.evicted += 1
                    return None
                self._evict_oldest()
        offset = header.fragment_offset
        end = offset + len(payload)
        if end > MAX_PACKET_LEN - header.header_len:
            self._discard(key)  # a datagram that would exceed 65535 octets: drop it whole
            return None
        if offset in partial.pieces:
            self.overlaps += 1  # a duplicate: keep the first copy
            return None
        partial.pieces[offset] = payload
        partial.octets += len(payload)
        self._octets += len(payload)
        if offset == 0:
            partial.first_header = header
            partial.first_packet = packet
        if not header.more_fragments:
            partial.total = end
        return self._complete(key, partial)

    def _complete(self, key: DatagramKey, partial: _Partial) -> tuple[Ipv4Header, bytes] | None:
        if partial.total is None or partial.first_header is None:
            return None
        if partial.first_header.header_len + partial.total > MAX_PACKET_LEN:
            # Each fragment fitted, but the whole (measured with the first fragment's header, options
            # included) would not: RFC 791's 65535 is the limit (the "ping of death").
            self._discard(key)
            return None
        position = 0
        chunks = []
        for offset in sorted(partial.pieces):
            data = partial.pieces[offset]
            if offset > position:
                return None  # a hole remains
            if offset + len(data) > position:
                chunks.append(data[position - offset :])
                position = offset + len(data)
        if position < partial.total:
            return None
        if position > partial.total:
            self.overlaps += 1
        self._discard(key)
        whole = b"".join(chunks)[: partial.total]
        header = partial.first_header._replace(more_fragments=False, fragment_offset=0)
        return header, whole

    def _discard(self, key: DatagramKey) -> None:
        partial = self._partials.pop(key, None)
        if partial is not None:
            self._octets -= partial.octets

    def _evict_oldest(self) -> None:
        key = next(iter(self._partials))
        self._discard(key)
        self.evicted += 1

    def poll_at(self) -> int | None:
        if not self._partials:
            return None
        return min(partial.deadline for partial in self._partials.values())

    def poll(self, now: int) -> list[Expired]:
        expired = [
            Expired(key, partial.first_packet) for key, partial in self._partials.items() if partial.deadline <= now
        ]
        for item in expired:
            self._discard(item.key)
        return expired
