"""IPv4 reassembly (RFC 791 §3.2, RFC 815's hole idea), bounded and timed out.

Fragments are kept per datagram, identified by (source, destination, protocol, identification).
A datagram is complete when its last fragment (MF=0) has arrived and the pieces cover every octet
from 0 to its end.

Overlaps are refused as Linux refuses them since 2018 (``inet_frag_queue_insert``, CVE-2018-5391
"FragmentSmack"; RFC 5722 says the same for IPv6): a fragment that lies wholly inside one already held
is a duplicate and is ignored (the datagram goes on); one that overlaps a held fragment only in part
discards the whole datagram — overlapping pieces are how the teardrop attack and IDS evasion work, and no
honest sender makes them. So do fragments that contradict the datagram's end (a second last fragment with
another total, data beyond a known end, a last fragment ending before data already held: Linux's
``discard_qp``), an empty fragment, and a datagram that would exceed 65535 octets. Every drop is counted in
:attr:`Reassembler.counters` under ``ip.reassembly.*`` and traced, with the node's name, when a trace is given.

Bounds: once more than ``max_octets`` are held (Linux's ``ipfrag_high_thresh``, 4 MB), every fragment is
refused — those of datagrams in progress too — until completions and timeouts free memory; nothing is
evicted. That is Linux since the 2018 rework (``inet_frag_find`` returns nothing above the threshold;
checked on 6.18 in a network namespace: with the threshold reached, the fragments that would have completed
the first datagram were refused too, ``ReasmFails``); the older evictor that dropped the oldest datagram let
a flood of fragments push out every honest reassembly. ``max_datagrams`` (wirelab's own bound; Linux has
only the octets) refuses a new datagram when that many are in progress. Each datagram has ``timeout``
(Linux's ``ipfrag_time``, 30 s; RFC 791 suggests 15) to complete, after which it is dropped — and if
its first fragment had arrived, the caller owes the source an ICMP "fragment reassembly time exceeded"
(RFC 792, RFC 1122 §3.3.2).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Final

from wirelab.trace import Counters, Layer, Trace
from wirelab.wire.ipv4 import MAX_PACKET_LEN, Ipv4Header

DEFAULT_TIMEOUT: Final = 30_000_000_000
DEFAULT_MAX_DATAGRAMS: Final = 64
DEFAULT_MAX_OCTETS: Final = 4 * 1024 * 1024

DatagramKey = tuple[IPv4Address, IPv4Address, int, int]


@dataclass(slots=True)
class _Partial:
    first_arrival: int
    deadline: int
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset -> data; never overlapping
    starts: list[int] = field(default_factory=list)  # the pieces' offsets, sorted
    end: int = 0  # the end of the furthest piece held
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
        counters: Counters | None = None,
        trace: Trace | None = None,
        node: str = "",
    ) -> None:
        self.timeout = timeout
        self.max_datagrams = max_datagrams
        self.max_octets = max_octets
        self._partials: OrderedDict[DatagramKey, _Partial] = OrderedDict()
        self._octets = 0
        # The node's counters and trace (a reassembler of its own counts for itself and traces nothing).
        self.counters = counters if counters is not None else Counters()
        self.trace = trace
        self.node = node

    @property
    def refused(self) -> int:
        return self.counters["ip.reassembly.full"]

    @property
    def duplicates(self) -> int:
        return self.counters["ip.reassembly.duplicate"]

    @property
    def overlaps(self) -> int:
        return self.counters["ip.reassembly.overlap"]

    def __len__(self) -> int:
        return len(self._partials)

    def add(self, header: Ipv4Header, payload: bytes, packet: bytes, now: int) -> tuple[Ipv4Header, bytes] | None:
        """Take one fragment; returns (header, payload) of the whole datagram once complete."""
        key = (header.src, header.dst, header.protocol, header.identification)
        offset = header.fragment_offset
        if header.more_fragments and len(payload) & 7:
            # RFC 791: every fragment but the last carries a multiple of 8 octets (the next offset is in
            # 8-octet units). Linux trims the odd tail (ip_frag_queue: end &= ~7) rather than refusing it.
            payload = payload[: len(payload) & ~7]
        end = offset + len(payload)
        if end > MAX_PACKET_LEN - header.header_len:
            # A datagram that would exceed 65535 octets (RFC 791; the "ping of death"): drop it whole.
            self._drop(key, "too-big", now, end=header.header_len + end)
            return None
        if end == offset:
            self._drop(key, "empty", now, offset=offset)  # Linux: discard_qp
            return None
        partial = self._partials.get(key)
        if self._octets > self.max_octets or (partial is None and len(self._partials) >= self.max_datagrams):
            # Full: refuse the fragment, whatever datagram it belongs to (Linux: inet_frag_find above
            # ipfrag_high_thresh, counted in ReasmFails); memory frees as datagrams complete or time out.
            self.counters["ip.reassembly.full"] += 1
            if self.trace is not None and self.trace.enabled:
                self.trace.emit(
                    now,
                    self.node,
                    Layer.NETWORK,
                    "ip.reassembly.full",
                    src=key[0],
                    identification=key[3],
                    datagrams=len(self._partials),
                    octets=self._octets,
                )
            return None
        if partial is None:
            partial = _Partial(now, now + self.timeout)
            self._partials[key] = partial
        if not header.more_fragments:
            if partial.total is not None and end != partial.total:
                # RFC 791: one datagram has one end; a second last fragment that says otherwise is forged
                # or corrupt (Linux: discard_qp).
                self._drop(key, "bad-end", now, offset=offset, end=end, total=partial.total)
                return None
            if end < partial.end:
                self._drop(key, "bad-end", now, offset=offset, end=end, total=partial.end)
                return None
        elif partial.total is not None and end > partial.total:
            self._drop(key, "bad-end", now, offset=offset, end=end, total=partial.total)
            return None
        # Where it goes among the pieces held: only the piece starting at or before it and the next one
        # can touch it, since the pieces held never overlap.
        starts = partial.starts
        index = bisect_right(starts, offset)
        if index:
            before = starts[index - 1]
            before_end = before + len(partial.pieces[before])
            if before_end > offset:
                if end <= before_end:
                    # Inside a piece already held: a duplicate (a retransmission, a looped copy). Linux's
                    # IPFRAG_DUP: the fragment is dropped, the datagram goes on.
                    self.counters["ip.reassembly.duplicate"] += 1
                    return None
                self._drop(key, "overlap", now, offset=offset, end=end, held=before, held_end=before_end)
                return None
        if index < len(starts) and starts[index] < end:
            after = starts[index]
            after_end = after + len(partial.pieces[after])
            self._drop(key, "overlap", now, offset=offset, end=end, held=after, held_end=after_end)
            return None
        partial.pieces[offset] = payload
        starts.insert(index, offset)
        partial.octets += len(payload)
        self._octets += len(payload)
        partial.end = max(partial.end, end)
        if offset == 0:
            partial.first_header = header
            partial.first_packet = packet
        if not header.more_fragments:
            partial.total = end
        return self._complete(key, partial, now)

    def _complete(self, key: DatagramKey, partial: _Partial, now: int) -> tuple[Ipv4Header, bytes] | None:
        # No overlaps and nothing beyond the end: the datagram is whole when its octets add up.
        total = partial.total
        if total is None or partial.first_header is None or partial.octets != total:
            return None
        if partial.first_header.header_len + total > MAX_PACKET_LEN:
            # Each fragment fitted, but the whole (measured with the first fragment's header, options
            # included) would not: RFC 791's 65535 is the limit (the "ping of death").
            self._drop(key, "too-big", now, end=partial.first_header.header_len + total)
            return None
        self._discard(key)
        whole = b"".join([partial.pieces[offset] for offset in partial.starts])
        header = partial.first_header._replace(more_fragments=False, fragment_offset=0)
        return header, whole

    def _drop(self, key: DatagramKey, reason: str, now: int, **fields: int) -> None:
        """Discard the whole datagram: counted as ``ip.reassembly.<reason>`` and traced."""
        self._discard(key)
        kind = f"ip.reassembly.{reason}"
        self.counters[kind] += 1
        if self.trace is not None and self.trace.enabled:
            self.trace.emit(now, self.node, Layer.NETWORK, kind, src=key[0], identification=key[3], **fields)

    def _discard(self, key: DatagramKey) -> None:
        partial = self._partials.pop(key, None)
        if partial is not None:
            self._octets -= partial.octets

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
