"""A connection's way out: its segments become frames in one step when nothing unusual is in the way.

The layered path — :meth:`TcpHeader.emit`, then :meth:`IpNode.send_ip` (routing, identification, the
IPv4 header), then ARP and the Ethernet header — is general and slow. For the segments of an
established flow the outcome is known in advance: the same route, the same next hop's MAC, the same
header layout. :class:`TcpOutput` remembers them in a :class:`~wirelab.wire.tcp_frame.TcpFrameTemplate`
and checks that they still hold (the route, the ARP entry, the MACs and the TTL for each batch of
segments; the MTU and the header's shape for each segment) before packing a frame at once. Whenever
one does not hold — no route, a local or broadcast destination, an ARP entry that is not usable as it
is, a segment to fragment, options that cannot be encoded, tracing on — the segment takes the layered
path, so every frame, counter and side effect is the one the layered path would have produced (the
golden captures and the counter comparison in ``tests/sim/test_tcp_capture_golden.py`` hold both to it).

Segmentation offload (TSO): when the route's interface has ``gso_max`` (a TAP with virtio-net headers),
:meth:`TcpOutput._prepare` tells the connection (its ``gso_max_size``, as Linux's ``sk_setup_caps``), which
may then hand over one segment of several MSS of new data. It leaves as one :class:`GsoFrame` made once,
which the device cuts into the segments the connection would otherwise have sent one by one
(:func:`cut_at_mss` says which). ``tcp.tx`` counts those segments (Linux's OutSegs counts ``tso_segs``
too); ``ip.tx`` counts the one packet. A large segment that cannot take the fused path (tracing on, an
ARP entry to refresh) is cut here and each piece takes the layered path: nothing is ever IP-fragmented.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from wirelab.stack.arp import ArpState
from wirelab.stack.node import SendError
from wirelab.stack.routing import Route
from wirelab.wire.ipaddr import address_value
from wirelab.wire.ipv4 import IpProtocol
from wirelab.wire.mac import MacAddress
from wirelab.wire.tcp import NOP, TcpFlags, TcpHeader, Timestamps, emit_options
from wirelab.wire.tcp_frame import GsoFrame, TcpFrameTemplate

if TYPE_CHECKING:
    from wirelab.stack.node import Interface, IpNode
    from wirelab.stack.tcp.connection import TcpConnection

_IPV4_HEADER_LEN = 20
_TCP_HEADER_LEN = 20
_TIMESTAMPS_LEN = 12  # NOP, NOP, timestamps
_MAX_OPTIONS_LEN = 40
_INCOMPLETE = ArpState.INCOMPLETE
_STALE = ArpState.STALE
_LAST_SEGMENT_ONLY = int(TcpFlags.PSH | TcpFlags.FIN)
_FIRST_SEGMENT_ONLY = int(TcpFlags.CWR)
_MASK = 0xFFFFFFFF


def cut_at_mss(header: TcpHeader, payload: bytes, mss: int) -> list[tuple[TcpHeader, bytes]]:
    """The segments a TSO device makes of one large segment (Linux's ``tcp_gso_segment``): ``mss`` octets
    each (the last may be shorter), consecutive sequence numbers, the same ACK, window and options; PSH and
    FIN on the last segment only, CWR on the first only."""
    if len(payload) <= mss:
        return [(header, payload)]
    seq, flags = header.seq, int(header.flags)
    pieces = []
    for offset in range(0, len(payload), mss):
        piece_flags = flags if offset + mss >= len(payload) else flags & ~_LAST_SEGMENT_ONLY
        if offset:
            piece_flags &= ~_FIRST_SEGMENT_ONLY
        pieces.append((header._replace(seq=(seq + offset) & _MASK, flags=piece_flags), payload[offset : offset + mss]))
    return pieces


class TcpOutput:
    """Sends one connection's segments (its addresses are fixed; the ports come with each header)."""

    __slots__ = (
        "_interface",
        "_mac",
        "_next_hop",
        "_route",
        "_template",
        "connection",
        "local",
        "node",
        "remote",
        "remote_value",
    )

    def __init__(self, node: IpNode, connection: TcpConnection) -> None:
        self.node = node
        self.connection = connection
        self.local: IPv4Address = connection.local[0]
        self.remote: IPv4Address = connection.remote[0]
        self.remote_value = address_value(self.remote)
        self._route: Route | None = None  # the route the template was made for
        self._interface: Interface | None = None  # None: this destination always takes the layered path
        self._next_hop = 0
        self._mac: MacAddress | None = None
        self._template: TcpFrameTemplate | None = None

    def send_all(self, segments: list[tuple[TcpHeader, bytes]], unroutable: Callable[[SendError], None]) -> None:
        """Send a connection's outbox in order, counting ``tcp.tx`` for each; ``unroutable`` hears the
        :class:`~wirelab.stack.node.SendError` of a segment that could not leave. The fused path's
        conditions are checked once for the lot, and again after any segment that took the layered path
        (which may have changed them: an ARP refresh, say)."""
        counters = self.node.counters
        template = self._ready()
        mss = self.connection.send_mss
        for header, payload in segments:
            if len(payload) > mss:  # several segments at once (TSO): see the module's docstring
                pieces = cut_at_mss(header, payload, mss)
                counters["tcp.tx"] += len(pieces)
                if template is not None and self._emit(template, header, payload, mss):
                    continue
            else:
                counters["tcp.tx"] += 1
                if template is not None and self._emit(template, header, payload):
                    continue
                pieces = [(header, payload)]
            for piece_header, piece in pieces:
                try:
                    self._send_layered(piece_header, piece)
                except SendError as error:
                    unroutable(error)
            template = self._ready()

    def _send_layered(self, header: TcpHeader, payload: bytes) -> None:
        self.node.send_ip(self.remote, IpProtocol.TCP, header.emit(payload, self.local, self.remote), src=self.local)

    def _ready(self) -> TcpFrameTemplate | None:
        """The template, if segments may take the fused path now (route, ARP entry, MACs and TTL as made)."""
        node = self.node
        if node.trace.enabled:
            return None  # the layered path narrates every step
        route = node.routes.lookup(self.remote)
        if route is not self._route:
            self._prepare(route)
        interface = self._interface
        if interface is None or self.remote_value in node._local:
            return None
        # What ArpCache.resolve would do without side effects: a known MAC, not a STALE entry's first use.
        entry = interface.arp.entries.get(self._next_hop)
        if entry is None or entry.mac is None or entry.state is _INCOMPLETE:
            return None
        if entry.state is _STALE and entry.tries == 0:
            return None
        template = self._template
        if (
            template is None
            or entry.mac is not self._mac
            or template.src_mac is not interface.mac_packed
            or template.ttl != node.default_ttl
        ):
            self._mac = entry.mac
            template = self._template = TcpFrameTemplate(
                entry.mac.packed,
                interface.mac_packed,
                address_value(self.local),
                self.remote_value,
                self.connection.local[1],
                self.connection.remote[1],
                ttl=node.default_ttl,
            )
        return template

    def _emit(self, template: TcpFrameTemplate, header: TcpHeader, payload: bytes, segment_size: int = 0) -> bool:
        """Put the segment out as one frame, if its header fits the template; False: nothing was done.
        With ``segment_size``, the segment is larger than that and leaves as one :class:`GsoFrame`, if the
        interface takes it (then its segments of ``segment_size`` must each fit the MTU)."""
        src_port, dst_port, seq, ack, flags, window, urgent, options, reserved = header  # one unpack, no lookups
        if not options:
            size = _IPV4_HEADER_LEN + _TCP_HEADER_LEN
            timestamps = None
            encoded = b""
        elif len(options) == 3 and options[0] is NOP and options[1] is NOP and type(options[2]) is Timestamps:
            size = _IPV4_HEADER_LEN + _TCP_HEADER_LEN + _TIMESTAMPS_LEN
            timestamps = options[2]
            encoded = b""
        else:
            try:
                encoded = emit_options(options)
            except (ValueError, TypeError):
                return False  # the layered path raises it
            if len(encoded) > _MAX_OPTIONS_LEN:
                return False
            size = _IPV4_HEADER_LEN + _TCP_HEADER_LEN + len(encoded)
            timestamps = None
        interface = self._interface
        assert interface is not None  # a template exists only with its interface
        if urgent or reserved or src_port != template.src_port or dst_port != template.dst_port:
            return False
        if segment_size:
            if size + segment_size > interface.mtu or size + len(payload) > interface.gso_max:
                return False
        elif size + len(payload) > interface.mtu:
            return False
        node = self.node
        identification = node.next_identification()
        if timestamps is not None:
            tsval, tsecr, _kind = timestamps
            frame = template.emit_timestamped(identification, seq, ack, flags, window, tsval, tsecr, payload)
        else:
            frame = template.emit(identification, seq, ack, flags, window, encoded, payload)
        if segment_size:
            frame = GsoFrame(frame)
            frame.segment_size = segment_size
        node.counters["ip.tx"] += 1
        node._outbox.append((interface.index, frame))
        return True

    def _prepare(self, route: Route | None) -> None:
        """Decide, for a (new) route, whether segments may take the fused path, and through what; tell the
        connection whether the route's device offers segmentation offload."""
        self._route = route
        self._interface = None
        self._template = None
        self.connection.gso_max_size = 0
        value = self.remote_value
        if route is None or value >> 24 == 127 or value == 0xFFFFFFFF:
            return
        interface = self.node.interfaces[route.interface]
        if interface.address is None:
            return
        next_hop = address_value(route.gateway) if route.gateway is not None else value
        if next_hop in (0xFFFFFFFF, interface.broadcast_value):
            return
        self._interface = interface
        self._next_hop = next_hop
        self.connection.gso_max_size = interface.gso_max
