"""IpNode: one host's or router's network stack, sans-IO (interfaces, ARP, IPv4, ICMP, UDP).

A host and a router are the same stack; a router has ``forwarding`` on (Linux's ``ip_forward``).

The course's decision for every outgoing packet, traced literally (``ip.route``): take the target
address AND my mask, and my address AND my mask — equal means the same LAN, so ARP for the target
itself; different means another network, so send to the gateway and ARP for the *gateway*. With no
route at all: "network unreachable".

The runtime calls :meth:`IpNode.receive` with each frame and :meth:`IpNode.poll` at
:meth:`IpNode.poll_at`, and sends what :meth:`IpNode.take_outbox` returns: ``(interface index,
frame)``, where index :data:`LOOPBACK` carries an IP packet the node sent to itself.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Final, Protocol

from wirelab.stack.arp import ArpAction, ArpCache
from wirelab.stack.icmp import TokenBucket, error_forbidden
from wirelab.stack.reassembly import Reassembler
from wirelab.stack.routing import Route, RoutingTable, explain_and
from wirelab.trace import Counters, Layer, Trace
from wirelab.wire.arp import ArpOperation, ArpPacket
from wirelab.wire.dissect import summary
from wirelab.wire.errors import MalformedPacket
from wirelab.wire.ethernet import EthernetHeader, EtherType, untagged_frame
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType, TimeExceededCode, UnreachableCode
from wirelab.wire.ipaddr import LIMITED_BROADCAST, UNSPECIFIED, address_value, ipv4_from_packed
from wirelab.wire.ipv4 import DEFAULT_TTL, MIN_HEADER_LEN, IpProtocol, Ipv4Header, Ipv4Packet, fragment
from wirelab.wire.mac import BROADCAST, MacAddress
from wirelab.wire.tcp import TcpFlags, TcpHeader
from wirelab.wire.tcp_frame import TemplateFrame
from wirelab.wire.udp import UdpHeader

LOOPBACK: Final = -1
LOOPBACK_NETWORK: Final = IPv4Network("127.0.0.0/8")
_BROADCAST_PACKED: Final = b"\xff\xff\xff\xff\xff\xff"
_ETHERTYPE_ARP: Final = b"\x08\x06"
_ETHERTYPE_IPV4: Final = b"\x08\x00"
# An IPv4 header's fields that the TCP flow path checks: version/IHL, total length, flags/fragment offset,
# protocol, source and destination (the rest skipped; the checksum is verified over the whole header).
_IPV4_FLOW_FIELDS: Final = struct.Struct("!BxHxxHxBxxII")
_TCP: Final = int(IpProtocol.TCP)

# Application hooks: what arrives for a UDP port, and ICMP messages for the node's applications.
UdpHandler = Callable[[IPv4Address, int, IPv4Address, int, bytes, int], None]  # src, sport, dst, dport, data, now
IcmpHandler = Callable[[Ipv4Header, IcmpMessage, int], None]  # header, message, now
TcpHandler = Callable[[Ipv4Header, TcpHeader, bytes, int], bool]  # True if a connection took it
# The same for a segment of a synchronized connection, by addresses as ints (src, dst): False, untouched,
# when the handler would rather see the IPv4 header (no such connection, TIME-WAIT, a listener's SYN...).
TcpFlowHandler = Callable[[int, int, TcpHeader, bytes, int], bool]
UdpEndpointHandler = Callable[[Ipv4Header, UdpHeader, bytes, int], bool]  # True if a socket took it


class TimerClient(Protocol):
    def poll_at(self) -> int | None: ...

    def poll(self, now: int) -> None: ...


@dataclass(slots=True)
class Interface:
    index: int
    name: str
    mac: MacAddress
    address: IPv4Interface | None
    mtu: int
    arp: ArpCache
    up: bool = True
    mac_packed: bytes = b""
    ip_packed: bytes = b""
    broadcast_value: int = -1  # the directed broadcast address as an int (-1: none)
    # Segmentation offload (TSO): the largest IPv4 packet carrying TCP that the device takes whole and cuts
    # into MTU-sized segments itself (Linux's gso_max_size); 0: none — every frame is at most ``mtu``.
    gso_max: int = 0

    def __post_init__(self) -> None:
        self.mac_packed = self.mac.packed
        self.ip_packed = self.address.ip.packed if self.address is not None else b""
        if self.address is not None:
            self.broadcast_value = address_value(self.address.network.broadcast_address)

    @property
    def ip(self) -> IPv4Address | None:
        return self.address.ip if self.address is not None else None

    @property
    def broadcast(self) -> IPv4Address | None:
        return self.address.network.broadcast_address if self.address is not None else None


class SendError(Exception):
    """A local error sending a packet; ``errno_name`` is what a socket would raise."""

    def __init__(self, errno_name: str, message: str) -> None:
        super().__init__(message)
        self.errno_name = errno_name


@dataclass(slots=True)
class _Handlers:
    udp: dict[int, UdpHandler] = field(default_factory=dict)
    icmp: list[IcmpHandler] = field(default_factory=list)
    tcp: TcpHandler | None = None
    tcp_flow: TcpFlowHandler | None = None  # the established connections' way in, before the IPv4 header is built
    udp_fallback: UdpEndpointHandler | None = None  # the UDP endpoint (sockets), after the port handlers


class IpNode:
    """The stack of one node."""

    def __init__(
        self,
        name: str,
        *,
        forwarding: bool = False,
        trace: Trace | None = None,
        counters: Counters | None = None,
        rng: random.Random | None = None,
        default_ttl: int = DEFAULT_TTL,
        echo_ignore_broadcasts: bool = True,
    ) -> None:
        self.name = name
        self.forwarding = forwarding
        self.trace = trace if trace is not None else Trace(enabled=False)
        self.counters = counters if counters is not None else Counters()
        # The random stream only seeds the first IP identification: it is not kept (a Random holds
        # ~2.5 KB, and a 5,000-host network would keep 5,000 of them for nothing).
        self.default_ttl = default_ttl
        self.echo_ignore_broadcasts = echo_ignore_broadcasts
        self.interfaces: list[Interface] = []
        self.routes = RoutingTable()
        # Reassembly drops (ip.reassembly.*: overlaps, contradicting ends, 65535, full) are the node's.
        self.reassembler = Reassembler(counters=self.counters, trace=self.trace, node=name)
        self.icmp_limiter = TokenBucket()
        self.handlers = _Handlers()
        self._outbox: list[tuple[int, bytes]] = []
        self._identification = (rng or random.Random(0)).randrange(1 << 16)
        self._local: dict[int, Interface | None] = {}  # my addresses (as ints) -> interface
        self._broadcasts: set[IPv4Address] = {LIMITED_BROADCAST}
        self._broadcast_values: set[int] = {address_value(LIMITED_BROADCAST)}  # the same, hashed cheaply
        self.now = 0
        # Transports with timers of their own (TCP): asked for poll_at() and polled with the node.
        self.timer_clients: list[TimerClient] = []
        # Set whenever a deadline may have moved, so a runtime re-asks poll_at() only then.
        self.timers_changed = False

    # -- configuration ----------------------------------------------------------------------------
    def add_interface(
        self, mac: MacAddress, address: IPv4Interface | str | None = None, *, mtu: int = 1500, name: str | None = None
    ) -> Interface:
        if isinstance(address, str):
            address = IPv4Interface(address)
        interface = Interface(len(self.interfaces), name or f"eth{len(self.interfaces)}", mac, address, mtu, ArpCache())
        self.interfaces.append(interface)
        if address is not None:
            if (
                address.network.prefixlen < 32
                and address.ip
                in (
                    address.network.network_address,
                    address.network.broadcast_address,
                )
                and address.network.prefixlen < 31
            ):
                raise ValueError(f"{self.name}: {address} is the network's own or broadcast address")
            self._local[address_value(address.ip)] = interface
            self._broadcasts.add(address.network.broadcast_address)
            self._broadcast_values.add(address_value(address.network.broadcast_address))
            self.routes.add(Route(address.network, interface.index, None, "connected"))
        return interface

    def set_gateway(self, gateway: IPv4Address | str) -> Route:
        """The default route: everything not on one of my LANs goes to ``gateway``."""
        return self.add_route("0.0.0.0/0", gateway)

    def add_route(self, network: IPv4Network | str, gateway: IPv4Address | str) -> Route:
        network = IPv4Network(network)
        gateway = IPv4Address(gateway)
        connected = self.routes.lookup(gateway)
        if connected is None or connected.gateway is not None:
            raise ValueError(f"{self.name}: gateway {gateway} is not on a directly connected network")
        route = Route(network, connected.interface, gateway, "static")
        self.routes.add(route)
        return route

    def announce(self, index: int = 0) -> None:
        """Send a gratuitous ARP for the interface's address (RFC 5227 announcement).

        Linux sends none when an interface comes up (``arp_notify`` is 0 by default); ask for one
        here, e.g. after changing a MAC, so that neighbours update their caches.
        """
        interface = self.interfaces[index]
        if interface.address is None:
            raise ValueError(f"{self.name}: {interface.name} has no IPv4 address to announce")
        announcement = ArpPacket.gratuitous(interface.mac, interface.address.ip)
        self._send_frame(interface, BROADCAST, EtherType.ARP, announcement.emit())
        self.counters["arp.tx.gratuitous"] += 1
        self._event(Layer.LINK, "arp.gratuitous.sent", ip=interface.address.ip, mac=interface.mac)

    def add_static_arp(self, address: IPv4Address | str, mac: MacAddress | str, index: int | None = None) -> None:
        """``arp -s``: a PERMANENT entry, never aged and never overwritten by the network."""
        address = IPv4Address(address)
        if index is None:
            found = self.routes.lookup(address)
            if found is None or found.gateway is not None:
                raise ValueError(f"{self.name}: {address} is not on a directly connected network")
            index = found.interface
        interface = self.interfaces[index]
        known = MacAddress(mac)
        # What waited for this address goes now (Linux's neigh_update flushes the entry's arp_queue).
        self._send_waiting(interface, known, interface.arp.add_static(address, known, self.now))

    def is_local(self, address: IPv4Address) -> bool:
        return address_value(address) in self._local or address in LOOPBACK_NETWORK

    # -- runtime interface ------------------------------------------------------------------------
    @property
    def has_output(self) -> bool:
        return bool(self._outbox)

    def take_outbox(self) -> list[tuple[int, bytes]]:
        outbox, self._outbox = self._outbox, []
        return outbox

    def poll_at(self) -> int | None:
        """The earliest deadline of the ARP caches, the reassembler and the transports (None: none)."""
        best: int | None = None
        for interface in self.interfaces:
            when = interface.arp.poll_at()
            if when is not None and (best is None or when < best):
                best = when
        when = self.reassembler.poll_at()
        if when is not None and (best is None or when < best):
            best = when
        for client in self.timer_clients:
            when = client.poll_at()
            if when is not None and (best is None or when < best):
                best = when
        return best

    def poll(self, now: int) -> None:
        self.now = now
        self.timers_changed = True
        for interface in self.interfaces:
            for action in interface.arp.poll(now):
                self._arp_action(interface, action, now)
        for client in self.timer_clients:
            client.poll(now)
        for expired in self.reassembler.poll(now):
            self.counters["ip.reassembly.timeout"] += 1
            self._event(Layer.NETWORK, "ip.reassembly.timeout", src=expired.key[0], identification=expired.key[3])
            if expired.first_packet:
                # RFC 792 / RFC 1122 §3.3.2: time exceeded, code 1, if fragment zero had arrived.
                header, payload = Ipv4Header.parse(expired.first_packet, verify_checksum=False)
                self._icmp_error(
                    header,
                    payload,
                    expired.first_packet,
                    IcmpMessage.time_exceeded(TimeExceededCode.FRAGMENT_REASSEMBLY_TIME_EXCEEDED, expired.first_packet),
                    link_broadcast=False,
                )

    # -- receiving --------------------------------------------------------------------------------
    def receive(self, index: int, frame: bytes, now: int) -> None:
        """A frame from the wire on interface ``index``. Every drop is counted with its reason."""
        self.now = now
        counters = self.counters
        if index == LOOPBACK:
            self._ip_input(None, frame, False, now)
            return
        interface = self.interfaces[index]
        if not interface.up:
            counters["eth.drop.interface-down"] += 1
            return
        if len(frame) < 14:
            counters["ethernet.drop.truncated"] += 1
            self._event(
                Layer.LINK, "drop.malformed", protocol="ethernet", reason="truncated", detail=f"{len(frame)} octets"
            )
            return
        destination = frame[0:6]
        link_broadcast = destination == _BROADCAST_PACKED
        if destination != interface.mac_packed and not link_broadcast:
            # The NIC's filter: not my MAC, not broadcast (a switch flooding unknown unicast).
            counters["eth.drop.not-for-me"] += 1
            if self.trace.enabled:
                self._event(Layer.LINK, "eth.drop.not-for-me", mac=MacAddress(destination))
            return
        if self.trace.enabled:
            self._event(Layer.LINK, "eth.received", interface=interface.name, summary=summary(frame))
        ethertype = frame[12:14]
        try:
            if ethertype == _ETHERTYPE_ARP:
                mine = interface.ip_packed
                sender = frame[28:32]
                if (
                    len(frame) >= 42
                    and frame[38:42] != mine
                    and sender != mine  # a sender claiming my address: a conflict (RFC 5227)
                    and int.from_bytes(sender, "big") not in interface.arp.entries  # (ArpCache.knows_packed)
                ):
                    # RFC 826: neither the target nor a known sender: nothing to merge, nothing to answer.
                    counters["arp.ignored.not-for-me"] += 1
                    if self.trace.enabled:
                        self._event(Layer.LINK, "arp.ignored", target=ipv4_from_packed(frame[38:42]))
                    return
                ethernet, payload = EthernetHeader.parse(frame)
                self._arp_input(interface, ethernet, ArpPacket.parse(payload), now)
            elif ethertype == _ETHERTYPE_IPV4:
                if link_broadcast or not self._tcp_flow_input(frame, now):
                    counters["eth.rx.ipv4"] += 1
                    self._ip_input(interface, frame[14:], link_broadcast, now)
            else:
                counters["eth.drop.unknown-ethertype"] += 1
                self._event(Layer.LINK, "eth.drop.unknown-ethertype", ethertype=int.from_bytes(ethertype, "big"))
        except MalformedPacket as error:
            counters[f"{error.protocol}.drop.{error.reason.value}"] += 1
            self._event(
                Layer.NETWORK, "drop.malformed", protocol=error.protocol, reason=error.reason.value, detail=str(error)
            )

    def _arp_input(self, interface: Interface, ethernet: EthernetHeader, arp: ArpPacket, now: int) -> None:
        counters = self.counters
        counters[f"arp.rx.{arp.operation.name.lower()}"] += 1
        mine = interface.ip
        if arp.sender_ip == mine and arp.sender_mac != interface.mac:
            counters["arp.conflict"] += 1
            self._event(Layer.LINK, "arp.conflict", ip=arp.sender_ip, mac=arp.sender_mac)
            return
        # RFC 826, "Packet Reception": merge first (update the sender if already known) ...
        merged = False
        if arp.sender_ip != UNSPECIFIED:  # an RFC 5227 probe teaches nothing
            merged, waiting = interface.arp.update(arp.sender_ip, arp.sender_mac, now, create=False)
            self.timers_changed = True
            if merged:
                self._event(Layer.LINK, "arp.cache.updated", ip=arp.sender_ip, mac=arp.sender_mac)
                self._send_waiting(interface, arp.sender_mac, waiting)
        if mine is None or arp.target_ip != mine:
            return
        # ... then, am I the target? If the sender was not merged, add it (the target learns the requester).
        if not merged and arp.sender_ip != UNSPECIFIED:
            interface.arp.update(arp.sender_ip, arp.sender_mac, now, create=True)
            self.timers_changed = True
            self._event(Layer.LINK, "arp.cache.learned", ip=arp.sender_ip, mac=arp.sender_mac)
        if arp.operation == ArpOperation.REQUEST:
            reply = ArpPacket.reply_to(arp, interface.mac)
            if arp.sender_ip == UNSPECIFIED:  # RFC 5227: answer a probe so the prober sees the conflict
                reply = reply._replace(target_ip=arp.target_ip)
            self._send_frame(interface, arp.sender_mac, EtherType.ARP, reply.emit())
            counters["arp.tx.reply"] += 1
            self._event(
                Layer.LINK, "arp.reply.sent", ip=mine, mac=interface.mac, to_ip=arp.sender_ip, to_mac=arp.sender_mac
            )

    def _ip_input(self, interface: Interface | None, packet: bytes, link_broadcast: bool, now: int) -> None:
        counters = self.counters
        header, payload = Ipv4Header.parse(packet)
        if interface is not None and _not_one_host(address_value(header.src), self._broadcast_values):
            # RFC 1122 §3.2.1.3: a source that names no single host (0/8, 127/8 off the wire, multicast,
            # class E, a broadcast) is invalid; answering it would reflect, so discard silently, counted.
            counters["ip.drop.bad-source"] += 1
            self._event(Layer.NETWORK, "ip.drop.bad-source", src=header.src, dst=header.dst)
            return
        destination = header.dst
        value = address_value(destination)
        if (
            value in self._local
            or value in self._broadcast_values
            or (interface is None and destination in LOOPBACK_NETWORK)
        ):
            counters["ip.rx.local"] += 1
            if header.more_fragments or header.fragment_offset:  # header.is_fragment
                counters["ip.fragments.received"] += 1
                whole = self.reassembler.add(header, payload, packet, now)
                self.timers_changed = True
                if whole is None:
                    return
                counters["ip.reassembled"] += 1
                header, payload = whole
                packet = header.emit(payload)  # what an ICMP error must quote: the datagram's own head
                self._event(
                    Layer.NETWORK,
                    "ip.reassembled",
                    src=header.src,
                    identification=header.identification,
                    size=len(payload),
                )
            if header.protocol == IpProtocol.TCP:
                self._tcp_input(header, payload, now)  # what _local_deliver does for TCP, one call sooner
            else:
                self._local_deliver(interface, header, payload, packet, link_broadcast, now)
            return
        if not self.forwarding:
            counters["ip.drop.not-for-me"] += 1
            self._event(Layer.NETWORK, "ip.drop.not-for-me", dst=destination)
            return
        self._forward(interface, header, payload, packet, link_broadcast, now)

    # -- local delivery ---------------------------------------------------------------------------
    def _local_deliver(
        self,
        interface: Interface | None,
        header: Ipv4Header,
        payload: bytes,
        packet: bytes,
        link_broadcast: bool,
        now: int,
    ) -> None:
        protocol = header.protocol
        if protocol == IpProtocol.ICMP:
            self._icmp_input(header, payload, packet, link_broadcast, now)
        elif protocol == IpProtocol.UDP:
            self._udp_input(header, payload, packet, link_broadcast, now)
        elif protocol == IpProtocol.TCP:
            self._tcp_input(header, payload, now)
        else:
            self.counters["ip.drop.unknown-protocol"] += 1
            self._icmp_error(
                header,
                payload,
                packet,
                IcmpMessage.destination_unreachable(UnreachableCode.PROTOCOL, packet),
                link_broadcast=link_broadcast,
            )

    def _icmp_input(self, header: Ipv4Header, payload: bytes, packet: bytes, link_broadcast: bool, now: int) -> None:
        counters = self.counters
        message = IcmpMessage.parse(payload)
        counters["icmp.rx"] += 1
        if message.type == IcmpType.ECHO_REQUEST:
            if (link_broadcast or header.dst in self._broadcasts) and self.echo_ignore_broadcasts:
                counters["icmp.echo.ignored-broadcast"] += 1
                return
            counters["icmp.echo.answered"] += 1
            self._event(
                Layer.NETWORK,
                "icmp.echo.request",
                src=header.src,
                identifier=message.identifier,
                sequence=message.sequence,
            )
            try:
                self.send_ip(
                    header.src,
                    IpProtocol.ICMP,
                    message.reply().emit(),
                    src=header.dst if header.dst not in self._broadcasts else None,
                )
            except SendError:
                counters["icmp.echo.unroutable"] += 1  # no route back to the asker: drop, counted
            return
        for handler in self.handlers.icmp:
            handler(header, message, now)
        if message.type == IcmpType.ECHO_REPLY:
            counters["icmp.echo.reply-received"] += 1
        elif message.is_error:
            counters[f"icmp.error.received.{message.type}.{message.code}"] += 1

    def _udp_input(self, header: Ipv4Header, payload: bytes, packet: bytes, link_broadcast: bool, now: int) -> None:
        udp, data = UdpHeader.parse(payload, header.src, header.dst)
        handler = self.handlers.udp.get(udp.dst_port)
        fallback = self.handlers.udp_fallback
        if handler is None and fallback is not None and fallback(header, udp, data, now):
            return
        if handler is None:
            self.counters["udp.drop.no-port"] += 1
            self._event(Layer.TRANSPORT, "udp.port-unreachable", src=header.src, port=udp.dst_port)
            self._icmp_error(
                header,
                payload,
                packet,
                IcmpMessage.destination_unreachable(UnreachableCode.PORT, packet),
                link_broadcast=link_broadcast,
            )
            return
        self.counters["udp.rx"] += 1
        handler(header.src, udp.src_port, header.dst, udp.dst_port, data, now)

    def _tcp_flow_input(self, frame: bytes, now: int) -> bool:
        """The common case of an arriving frame, in one step: a TCP segment for one of my addresses, in an
        IPv4 header without options that is no fragment and whose checksum holds, from a source that names
        one host — what :meth:`_ip_input` would hand to :meth:`_tcp_input`, with the same counters in the
        same order. Anything else returns False before any side effect, and the layered path takes it."""
        flow = self.handlers.tcp_flow
        if flow is None or len(frame) < 54:
            return False
        version_ihl, total, flags_fragment, protocol, source, destination = _IPV4_FLOW_FIELDS.unpack_from(frame, 14)
        if (
            version_ihl != 0x45  # version 4, no options
            or protocol != _TCP
            or total < 40
            or total > len(frame) - 14
            or flags_fragment & 0x3FFF  # MF or an offset: a fragment
        ):
            return False
        # A frame a TCP template built, reaching us as that very object, carries right checksums: the sums
        # would say so again (wire.tcp_frame.TemplateFrame; a frame changed on the way is a new bytes).
        intact = type(frame) is TemplateFrame
        if not intact:
            header_sum = int.from_bytes(frame[14:34], "big")
            if header_sum % 0xFFFF or not header_sum:
                return False  # the layered path counts the bad checksum
        first = source >> 24  # _not_one_host(source), inlined
        if destination not in self._local or first in (0, 127) or first >= 224 or source in self._broadcast_values:
            return False
        counters = self.counters
        counters["eth.rx.ipv4"] += 1
        counters["ip.rx.local"] += 1
        tcp, data = TcpHeader.parse_between(frame[34 : 14 + total], source + destination, not intact)
        if not flow(source, destination, tcp, data, now):
            header, _payload = Ipv4Header.parse(frame[14:])
            self._tcp_deliver(header, tcp, data, now)
        return True

    def _tcp_input(self, header: Ipv4Header, payload: bytes, now: int) -> None:
        tcp, data = TcpHeader.parse(payload, header.src, header.dst)
        self._tcp_deliver(header, tcp, data, now)

    def _tcp_deliver(self, header: Ipv4Header, tcp: TcpHeader, data: bytes, now: int) -> None:
        if self.handlers.tcp is not None and self.handlers.tcp(header, tcp, data, now):
            return  # the handler flags timers_changed when its connections' deadlines may have moved
        # No connection: RFC 9293 §3.10.7.1 (CLOSED) — answer anything but a RST with a RST.
        self.counters["tcp.rx.no-connection"] += 1
        if tcp.flags & TcpFlags.RST:
            return
        if tcp.flags & TcpFlags.ACK:
            reset = TcpHeader(tcp.dst_port, tcp.src_port, tcp.ack, 0, TcpFlags.RST)
        else:
            length = len(data) + tcp.segment_length
            reset = TcpHeader(
                tcp.dst_port, tcp.src_port, 0, (tcp.seq + length) & 0xFFFFFFFF, TcpFlags.RST | TcpFlags.ACK
            )
        self.counters["tcp.tx.reset"] += 1
        self._event(Layer.TRANSPORT, "tcp.reset.sent", src=header.src, port=tcp.dst_port)
        try:
            self.send_ip(header.src, IpProtocol.TCP, reset.emit(b"", header.dst, header.src), src=header.dst)
        except SendError:
            self.counters["tcp.tx.reset.unroutable"] += 1

    # -- forwarding (routers) ---------------------------------------------------------------------
    def _forward(
        self,
        interface: Interface | None,
        header: Ipv4Header,
        payload: bytes,
        packet: bytes,
        link_broadcast: bool,
        now: int,
    ) -> None:
        counters = self.counters
        if link_broadcast:
            counters["ip.forward.drop.link-broadcast"] += 1  # RFC 1812 §5.3.4: never forward these
            return
        if _martian_destination(header.dst):
            # RFC 1812 §5.3.7: never forward to 0/8, 127/8 or class E (the source was checked on input).
            counters["ip.forward.drop.martian"] += 1
            self._event(Layer.NETWORK, "ip.martian", src=header.src, dst=header.dst)
            return
        if header.ttl <= 1:
            # RFC 1812 §5.3.1: TTL would reach 0 here: drop and say "time exceeded in transit".
            counters["ip.forward.drop.ttl-expired"] += 1
            self._event(Layer.NETWORK, "ip.ttl-expired", src=header.src, dst=header.dst)
            self._icmp_error(
                header,
                payload,
                packet,
                IcmpMessage.time_exceeded(TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT, packet),
                link_broadcast=False,
            )
            return
        route = self.routes.lookup(header.dst)
        if route is None:
            counters["ip.forward.drop.no-route"] += 1
            self._event(Layer.NETWORK, "ip.no-route", dst=header.dst)
            self._icmp_error(
                header,
                payload,
                packet,
                IcmpMessage.destination_unreachable(UnreachableCode.NET, packet),
                link_broadcast=False,
            )
            return
        egress = self.interfaces[route.interface]
        mutable = bytearray(packet[: header.header_len + len(payload)])
        ttl = Ipv4Packet(mutable).decrement_ttl()  # RFC 1624 incremental checksum update
        next_hop = route.gateway or header.dst
        self._event(
            Layer.NETWORK,
            "ip.forward",
            src=header.src,
            dst=header.dst,
            next_hop=next_hop,
            interface=egress.name,
            ttl=ttl,
        )
        if len(mutable) > egress.mtu:
            if header.dont_fragment:
                counters["ip.forward.drop.needs-fragmentation"] += 1
                self._icmp_error(
                    header,
                    payload,
                    packet,
                    IcmpMessage.destination_unreachable(UnreachableCode.FRAGMENTATION_NEEDED, packet, egress.mtu),
                    link_broadcast=False,
                )
                return
            counters["ip.forward.fragmented"] += 1
            for piece_header, piece in fragment(header._replace(ttl=ttl), payload, egress.mtu):
                self._output(egress, next_hop, piece_header.emit(piece), now)
            return
        counters["ip.forwarded"] += 1
        self._output(egress, next_hop, bytes(mutable), now)

    # -- sending ----------------------------------------------------------------------------------
    def next_identification(self) -> int:
        self._identification = (self._identification + 1) & 0xFFFF
        return self._identification

    def route_for(self, destination: IPv4Address) -> tuple[Interface, Route] | None:
        route = self.routes.lookup(destination)
        if route is None:
            return None
        return self.interfaces[route.interface], route

    def send_ip(
        self,
        destination: IPv4Address,
        protocol: int,
        payload: bytes,
        *,
        src: IPv4Address | None = None,
        ttl: int | None = None,
        dont_fragment: bool = False,
        dscp: int = 0,
    ) -> IPv4Address:
        """Send a datagram from this node; returns the source address used.

        Raises :class:`SendError` with ``ENETUNREACH`` (no route) or ``EMSGSIZE`` (DF and too big).
        """
        now = self.now
        ttl = self.default_ttl if ttl is None else ttl
        value = address_value(destination)
        if value in self._local or value >> 24 == 127:  # mine, or 127.0.0.0/8: loopback, no wire
            source = src or (destination if destination not in LOOPBACK_NETWORK else IPv4Address("127.0.0.1"))
            header = Ipv4Header(
                source, destination, protocol, ttl, self.next_identification(), dont_fragment, dscp=dscp
            )
            self._outbox.append((LOOPBACK, header.emit(payload)))
            self.counters["ip.tx.loopback"] += 1
            return source
        if value == 0xFFFFFFFF:  # 255.255.255.255
            interface = next((i for i in self.interfaces if i.address is not None), None)
            if interface is None or interface.address is None:
                raise SendError("ENETUNREACH", "Network is unreachable")
            header = Ipv4Header(
                src or interface.address.ip, destination, protocol, ttl, self.next_identification(), dont_fragment
            )
            self._send_frame(interface, BROADCAST, EtherType.IPV4, header.emit(payload))
            return header.src
        found = self.route_for(destination)
        if found is None:
            self.counters["ip.tx.no-route"] += 1
            self._event(Layer.NETWORK, "ip.route.none", dst=destination)
            raise SendError("ENETUNREACH", "Network is unreachable")
        interface, route = found
        if interface.address is None:
            raise SendError("ENETUNREACH", "Network is unreachable")
        next_hop = route.gateway or destination
        if self.trace.enabled:
            self._trace_route(interface, destination, route)
        source = src or interface.address.ip
        header = Ipv4Header(
            source, destination, protocol, ttl, self.next_identification(), dont_fragment, False, 0, dscp
        )
        if MIN_HEADER_LEN + len(payload) > interface.mtu:  # the header has no options
            if dont_fragment:
                raise SendError("EMSGSIZE", "Message too long")
            self.counters["ip.tx.fragmented"] += 1
            for piece_header, piece in fragment(header, payload, interface.mtu):
                self._output(interface, next_hop, piece_header.emit(piece), now)
            return source
        self.counters["ip.tx"] += 1
        self._output(interface, next_hop, header.emit(payload), now)
        return source

    def _trace_route(self, interface: Interface, destination: IPv4Address, route: Route) -> None:
        assert interface.address is not None
        arithmetic = explain_and(interface.address, destination)
        self._event(
            Layer.NETWORK,
            "ip.route.same-lan" if route.gateway is None else "ip.route.via-gateway",
            dst=destination,
            mine=arithmetic.mine,
            mask=arithmetic.mask,
            my_network=arithmetic.my_network,
            dst_network=arithmetic.target_network,
            gateway=route.gateway,
            interface=interface.name,
        )

    def _output(self, interface: Interface, next_hop: IPv4Address, packet: bytes, now: int) -> None:
        """Resolve the next hop's MAC (ARP) and put the frame out; the packet waits if needed."""
        hop = address_value(next_hop)
        if hop in (0xFFFFFFFF, interface.broadcast_value):
            self._send_frame(interface, BROADCAST, EtherType.IPV4, packet)
            return
        arp = interface.arp
        drops = arp.queue_drops
        mac, action = arp.resolve(next_hop, packet, now)
        if action is not None or mac is None:
            self.timers_changed = True  # a new entry or a refresh: the ARP deadlines moved
        if action is not None:
            self._arp_action(interface, action, now)
        if mac is not None:
            self._send_frame(interface, mac, EtherType.IPV4, packet)
        else:
            self.counters["ip.tx.waiting-for-arp"] += 1
            if arp.queue_drops != drops:  # the queue was full: its oldest packet made room (as Linux)
                self.counters["arp.queue.dropped"] += arp.queue_drops - drops

    def _send_waiting(self, interface: Interface, mac: MacAddress, packets: list[bytes]) -> None:
        for packet in packets:
            self._send_frame(interface, mac, EtherType.IPV4, packet)
            self.counters["arp.queue.released"] += 1

    def _arp_action(self, interface: Interface, action: ArpAction, now: int) -> None:
        if action.kind == "request":
            if interface.address is None:
                return
            request = ArpPacket.request(interface.mac, interface.address.ip, action.ip)
            target = action.unicast_to or BROADCAST
            self._send_frame(interface, target, EtherType.ARP, request.emit())
            self.counters["arp.tx.request"] += 1
            self._event(
                Layer.LINK,
                "arp.request.sent",
                ip=action.ip,
                mine=interface.address.ip,
                unicast=action.unicast_to is not None,
            )
            return
        # Resolution failed: every waiting packet's sender hears "host unreachable".
        self.counters["arp.resolution.failed"] += 1
        self._event(Layer.LINK, "arp.failed", ip=action.ip, waiting=len(action.packets))
        for packet in action.packets:
            self.counters["ip.drop.host-unreachable"] += 1
            try:
                header, payload = Ipv4Header.parse(packet, verify_checksum=False)
            except MalformedPacket:
                continue
            message = IcmpMessage.destination_unreachable(UnreachableCode.HOST, packet)
            if address_value(header.src) in self._local:
                # Our own packet: report to our applications, as Linux does with EHOSTUNREACH.
                report = Ipv4Header(header.src, header.src, IpProtocol.ICMP)
                for handler in self.handlers.icmp:
                    handler(report, message, now)
            else:
                self._icmp_error(header, payload, packet, message, link_broadcast=False)

    def _send_frame(self, interface: Interface, destination: MacAddress, ethertype: int, payload: bytes) -> None:
        frame = untagged_frame(destination.packed, interface.mac_packed, ethertype.to_bytes(2, "big"), payload)
        self._outbox.append((interface.index, frame))
        if self.trace.enabled:
            self._event(Layer.LINK, "eth.sent", interface=interface.name, summary=summary(frame))

    def _icmp_error(
        self, header: Ipv4Header, payload: bytes, packet: bytes, message: IcmpMessage, *, link_broadcast: bool
    ) -> None:
        reason = error_forbidden(header, payload, link_broadcast=link_broadcast, local_broadcasts=self._broadcasts)
        if reason is not None:
            self.counters[f"icmp.error.suppressed.{reason}"] += 1
            return
        if not self.icmp_limiter.allow(self.now):
            self.counters["icmp.error.rate-limited"] += 1
            return
        self.counters[f"icmp.error.sent.{message.type}.{message.code}"] += 1
        self._event(Layer.NETWORK, "icmp.error.sent", to=header.src, type=message.type, code=message.code)
        found = self.route_for(header.src)
        source = found[0].ip if found is not None else None
        try:
            self.send_ip(header.src, IpProtocol.ICMP, message.emit(), src=source)
        except SendError:
            self.counters["icmp.error.unroutable"] += 1

    # -- applications' hooks ----------------------------------------------------------------------
    def bind_udp(self, port: int, handler: UdpHandler) -> None:
        if port in self.handlers.udp:
            raise SendError("EADDRINUSE", "Address already in use")
        self.handlers.udp[port] = handler

    def unbind_udp(self, port: int) -> None:
        self.handlers.udp.pop(port, None)

    def source_for(self, destination: IPv4Address) -> IPv4Address:
        """The source address a datagram to ``destination`` leaves with (what a socket bound to 0.0.0.0
        gets): the destination itself (or 127.0.0.1) when local, the first addressed interface for
        255.255.255.255, else the address of the interface the route goes out of. No route: ENETUNREACH.
        Transports need it before the IP layer runs, for their pseudo-header checksums."""
        if self.is_local(destination):
            return destination if destination not in LOOPBACK_NETWORK else IPv4Address("127.0.0.1")
        if destination == LIMITED_BROADCAST:
            interface = next((i for i in self.interfaces if i.ip is not None), None)
        else:
            found = self.route_for(destination)
            interface = found[0] if found is not None else None
        if interface is None or interface.ip is None:
            raise SendError("ENETUNREACH", "Network is unreachable")
        return interface.ip

    def send_udp(
        self, destination: IPv4Address, source_port: int, destination_port: int, data: bytes, **ip: object
    ) -> None:
        source = self.source_for(destination)
        datagram = UdpHeader(source_port, destination_port).emit(data, source, destination)
        self.send_ip(destination, IpProtocol.UDP, datagram, src=source, **ip)  # type: ignore[arg-type]

    # -- inspection -------------------------------------------------------------------------------
    def arp_table(self) -> str:
        """Like ``arp -a``: ``? (192.168.1.11) at 02:00:00:00:00:02 [ether] on eth0``."""
        lines = []
        for interface in self.interfaces:
            for entry in interface.arp:
                mac = str(entry.mac) if entry.mac is not None else "<incomplete>"
                lines.append(f"? ({entry.ip}) at {mac} [ether] {entry.state.value} on {interface.name}")
        return "\n".join(lines)

    def _event(self, layer: Layer, kind: str, **fields: object) -> None:
        if self.trace.enabled:
            self.trace.emit(self.now, self.name, layer, kind, **fields)


def _not_one_host(source: int, broadcasts: set[int]) -> bool:
    """RFC 1122 §3.2.1.3 and RFC 1812 §5.3.7: sources that cannot name a single host."""
    first = source >> 24
    return first in (0, 127) or first >= 224 or source in broadcasts


def _martian_destination(destination: IPv4Address) -> bool:
    first = address_value(destination) >> 24
    return first in (0, 127) or first >= 240
