"""IpNode alone, sans-IO: hand-made frames in, :meth:`IpNode.take_outbox` out, explicit ``now``.

Frames are built with the wire codecs and the answers parsed with them, so each test reads as the
exchange it pins: "who has 192.168.1.10? → 192.168.1.10 is at 02:00:00:00:00:0a". Grouped by
behaviour: ARP, echo, closed ports, a router's forwarding, a host that does not forward, and
malformed input (every drop counted as ``<protocol>.drop.<reason>``, nothing raised).
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wirelab.stack.node import IpNode
from wirelab.stack.reassembly import Reassembler
from wirelab.trace import Trace
from wirelab.wire.arp import ArpOperation, ArpPacket
from wirelab.wire.checksum import internet_checksum
from wirelab.wire.ethernet import EthernetHeader, EtherType
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType, TimeExceededCode, UnreachableCode
from wirelab.wire.ipaddr import address_value
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header, fragment
from wirelab.wire.mac import BROADCAST, ZERO, MacAddress
from wirelab.wire.tcp import MaxSegmentSize, TcpFlags, TcpHeader
from wirelab.wire.udp import UdpHeader

SECOND = 1_000_000_000

MY_MAC = MacAddress("02:00:00:00:00:0a")
MY_IP = IPv4Address("192.168.1.10")
PEER_MAC = MacAddress("02:00:00:00:00:0b")
PEER_IP = IPv4Address("192.168.1.11")
STRANGER_MAC = MacAddress("02:00:00:00:00:0c")
STRANGER_IP = IPv4Address("192.168.1.12")
LAN_BROADCAST = IPv4Address("192.168.1.255")

# A router between 192.168.1.0/24 (if0) and 10.0.0.0/24 (if1).
R0_MAC = MacAddress("02:00:00:00:01:00")
R1_MAC = MacAddress("02:00:00:00:01:01")
R0_IP = IPv4Address("192.168.1.1")
FAR_MAC = MacAddress("02:00:00:00:02:02")
FAR_IP = IPv4Address("10.0.0.2")


class Sent(NamedTuple):
    interface: int
    ethernet: EthernetHeader
    payload: bytes


# --- builders --------------------------------------------------------------------------------------------


def host(**options: object) -> IpNode:
    node = IpNode("h1", **options)  # type: ignore[arg-type]
    node.add_interface(MY_MAC, "192.168.1.10/24")
    return node


def host_knowing_peer(**options: object) -> IpNode:
    node = host(**options)
    node.interfaces[0].arp.update(PEER_IP, PEER_MAC, 0, create=True)
    return node


def router(egress_mtu: int = 1500) -> IpNode:
    node = IpNode("r1", forwarding=True)
    node.add_interface(R0_MAC, "192.168.1.1/24")
    node.add_interface(R1_MAC, "10.0.0.1/24", mtu=egress_mtu)
    node.interfaces[0].arp.update(MY_IP, MY_MAC, 0, create=True)
    node.interfaces[1].arp.update(FAR_IP, FAR_MAC, 0, create=True)
    return node


def arp_frame(packet: ArpPacket, dst: MacAddress = BROADCAST) -> bytes:
    return EthernetHeader(dst, packet.sender_mac, EtherType.ARP).emit(packet.emit())


def ip_frame(packet: bytes, dst: MacAddress = MY_MAC, src: MacAddress = PEER_MAC) -> bytes:
    return EthernetHeader(dst, src, EtherType.IPV4).emit(packet)


def ip_packet(
    protocol: int, payload: bytes, src: IPv4Address = PEER_IP, dst: IPv4Address = MY_IP, **fields: object
) -> bytes:
    return Ipv4Header(src, dst, protocol, **fields).emit(payload)  # type: ignore[arg-type]


def echo_request(src: IPv4Address = PEER_IP, dst: IPv4Address = MY_IP, **fields: object) -> bytes:
    return ip_packet(IpProtocol.ICMP, IcmpMessage.echo_request(0x1234, 7, b"abcdefgh").emit(), src, dst, **fields)


def udp_packet(
    dport: int = 9, src: IPv4Address = PEER_IP, dst: IPv4Address = MY_IP, data: bytes = b"hello, world"
) -> bytes:
    return ip_packet(IpProtocol.UDP, UdpHeader(40000, dport).emit(data, src, dst), src, dst)


def tcp_packet(segment: TcpHeader, data: bytes = b"", src: IPv4Address = PEER_IP, dst: IPv4Address = MY_IP) -> bytes:
    return ip_packet(IpProtocol.TCP, segment.emit(data, src, dst), src, dst)


def with_tcp_checksum(segment: bytes, src: IPv4Address = PEER_IP, dst: IPv4Address = MY_IP) -> bytes:
    """``segment`` with its checksum field recomputed (to build malformed-but-checksummed segments)."""
    zeroed = segment[:16] + b"\x00\x00" + segment[18:]
    checksum = internet_checksum(zeroed, address_value(src) + address_value(dst) + 6 + len(segment))
    return zeroed[:16] + checksum.to_bytes(2, "big") + zeroed[18:]


def outbox(node: IpNode) -> list[Sent]:
    return [Sent(index, *EthernetHeader.parse(frame)) for index, frame in node.take_outbox()]


def only_ip(node: IpNode) -> tuple[Sent, Ipv4Header, bytes]:
    """The one frame the node sent, an IPv4 packet: (frame, header, payload)."""
    frames = outbox(node)
    assert len(frames) == 1, frames
    assert frames[0].ethernet.ethertype == EtherType.IPV4
    header, payload = Ipv4Header.parse(frames[0].payload)
    return frames[0], header, payload


def only_icmp(node: IpNode) -> tuple[Sent, Ipv4Header, IcmpMessage]:
    frame, header, payload = only_ip(node)
    assert header.protocol == IpProtocol.ICMP
    return frame, header, IcmpMessage.parse(payload)


# --- ARP (RFC 826) ----------------------------------------------------------------------------------------


class TestArp:
    def test_answers_a_request_for_its_address(self) -> None:
        node = host()
        node.receive(0, arp_frame(ArpPacket.request(PEER_MAC, PEER_IP, MY_IP)), 0)
        [sent] = outbox(node)
        assert sent.interface == 0
        assert sent.ethernet == EthernetHeader(PEER_MAC, MY_MAC, EtherType.ARP)  # unicast back
        assert ArpPacket.parse(sent.payload) == ArpPacket(ArpOperation.REPLY, MY_MAC, MY_IP, PEER_MAC, PEER_IP)
        assert node.counters["arp.tx.reply"] == 1

    def test_the_target_learns_the_requester(self) -> None:
        # RFC 826: "If I am the target ... add the triplet <protocol type, sender protocol address,
        # sender hardware address> to the table" — it will almost surely talk back.
        node = host()
        node.receive(0, arp_frame(ArpPacket.request(PEER_MAC, PEER_IP, MY_IP)), 0)
        assert node.interfaces[0].arp.lookup(PEER_IP) == PEER_MAC

    def test_ignores_a_request_for_another_address(self) -> None:
        node = host()
        node.receive(0, arp_frame(ArpPacket.request(PEER_MAC, PEER_IP, STRANGER_IP)), 0)
        assert outbox(node) == []
        assert PEER_IP not in node.interfaces[0].arp  # not the target, sender unknown: nothing learned
        assert node.counters["arp.ignored.not-for-me"] == 1

    def test_a_request_for_another_address_still_refreshes_a_known_sender(self) -> None:
        # RFC 826's merge flag: a known sender's entry is updated whoever the target is.
        node = host_knowing_peer()
        moved = MacAddress("02:00:00:00:00:bb")
        node.receive(0, arp_frame(ArpPacket.request(moved, PEER_IP, STRANGER_IP)), 5 * SECOND)
        assert outbox(node) == []
        assert node.interfaces[0].arp.lookup(PEER_IP) == moved

    def test_a_reply_releases_the_packets_waiting_for_it(self) -> None:
        node = host()
        node.send_udp(PEER_IP, 40000, 9, b"queued")
        [request] = outbox(node)
        assert request.ethernet == EthernetHeader(BROADCAST, MY_MAC, EtherType.ARP)
        assert ArpPacket.parse(request.payload) == ArpPacket(ArpOperation.REQUEST, MY_MAC, MY_IP, ZERO, PEER_IP)
        node.receive(0, arp_frame(ArpPacket(ArpOperation.REPLY, PEER_MAC, PEER_IP, MY_MAC, MY_IP), MY_MAC), 1000)
        sent, header, payload = only_ip(node)
        assert sent.ethernet.dst == PEER_MAC
        assert UdpHeader.parse(payload, header.src, header.dst)[1] == b"queued"

    def test_retries_then_gives_up(self) -> None:
        node = host()
        node.send_udp(PEER_IP, 40000, 9, b"lost")
        requests = len(outbox(node))
        while (when := node.poll_at()) is not None:
            node.poll(when)
            requests += len(outbox(node))
        assert requests == 3
        assert node.counters["arp.resolution.failed"] == 1

    def test_a_probe_is_answered_but_teaches_nothing(self) -> None:
        # RFC 5227: "is anyone using 192.168.1.10?" from 0.0.0.0.
        node = host()
        node.receive(0, arp_frame(ArpPacket.probe(PEER_MAC, MY_IP)), 0)
        [sent] = outbox(node)
        assert ArpPacket.parse(sent.payload).operation == ArpOperation.REPLY
        assert IPv4Address("0.0.0.0") not in node.interfaces[0].arp

    def test_a_gratuitous_arp_claiming_my_address_is_a_conflict_not_an_update(self) -> None:
        node = host()
        node.receive(0, arp_frame(ArpPacket.gratuitous(STRANGER_MAC, MY_IP)), 0)
        assert outbox(node) == []
        assert node.counters["arp.conflict"] == 1
        assert MY_IP not in node.interfaces[0].arp

    def test_any_arp_with_my_address_as_sender_is_a_conflict(self) -> None:
        node = host()
        node.receive(0, arp_frame(ArpPacket.request(STRANGER_MAC, MY_IP, PEER_IP)), 0)
        assert node.counters["arp.conflict"] == 1


# --- ICMP echo (RFC 792, RFC 1122 §3.2.2.6) ----------------------------------------------------------------


    def test_a_static_entry_sends_the_packets_that_waited_for_the_address(self) -> None:
        # Queued while resolving, sent once the address is known, however it becomes known (Linux's
        # neigh_update flushes an entry's arp_queue when it turns valid, ``ip neigh replace`` included).
        node = host()
        node.send_udp(PEER_IP, 5000, 53, b"waiting")
        [request] = outbox(node)
        assert request.ethernet.ethertype == EtherType.ARP
        node.add_static_arp(PEER_IP, PEER_MAC)
        [sent] = outbox(node)
        assert (sent.ethernet.dst, sent.ethernet.ethertype) == (PEER_MAC, EtherType.IPV4)
        assert node.counters["arp.queue.released"] == 1


    def test_a_full_arp_queue_drops_its_oldest_packet_and_counts_it(self) -> None:
        node = host()
        limit = node.interfaces[0].arp.queue_limit
        for number in range(limit + 2):
            node.send_udp(PEER_IP, 5000, 53, bytes([number]))
        assert node.counters["arp.queue.dropped"] == 2
        node.add_static_arp(PEER_IP, PEER_MAC)
        sent = outbox(node)[1:]  # after the one ARP request: what waited, oldest first
        datagrams = [Ipv4Header.parse(frame.payload)[1] for frame in sent]  # UDP header + one octet
        assert [datagram[8] for datagram in datagrams] == list(range(2, limit + 2))


class TestEcho:
    def test_answers_an_echo_request_with_the_same_identifier_sequence_and_data(self) -> None:
        node = host_knowing_peer()
        node.receive(0, ip_frame(echo_request()), 0)
        sent, header, reply = only_icmp(node)
        assert sent.ethernet == EthernetHeader(PEER_MAC, MY_MAC, EtherType.IPV4)
        assert (header.src, header.dst, header.ttl) == (MY_IP, PEER_IP, 64)
        assert reply == IcmpMessage.echo_reply(0x1234, 7, b"abcdefgh")
        assert node.counters["icmp.echo.answered"] == 1

    def test_the_reply_waits_for_arp_when_the_asker_is_unknown(self) -> None:
        node = host()
        node.receive(0, ip_frame(echo_request()), 0)
        [request] = outbox(node)
        assert ArpPacket.parse(request.payload).target_ip == PEER_IP
        node.receive(0, arp_frame(ArpPacket(ArpOperation.REPLY, PEER_MAC, PEER_IP, MY_MAC, MY_IP), MY_MAC), 1)
        assert only_icmp(node)[2].type == IcmpType.ECHO_REPLY

    @pytest.mark.parametrize(
        ("destination", "link"),
        [
            pytest.param(LAN_BROADCAST, BROADCAST, id="directed broadcast"),
            pytest.param(IPv4Address("255.255.255.255"), BROADCAST, id="limited broadcast"),
            pytest.param(MY_IP, BROADCAST, id="my address in a link broadcast"),
        ],
    )
    def test_ignores_a_broadcast_echo_by_default(self, destination: IPv4Address, link: MacAddress) -> None:
        # Linux's icmp_echo_ignore_broadcasts = 1 (smurf amplification).
        node = host_knowing_peer()
        node.receive(0, ip_frame(echo_request(dst=destination), dst=link), 0)
        assert outbox(node) == []
        assert node.counters["icmp.echo.ignored-broadcast"] == 1

    def test_answers_a_broadcast_echo_from_its_own_address_when_allowed(self) -> None:
        node = host_knowing_peer(echo_ignore_broadcasts=False)
        node.receive(0, ip_frame(echo_request(dst=LAN_BROADCAST), dst=BROADCAST), 0)
        _, header, reply = only_icmp(node)
        assert header.src == MY_IP  # never from the broadcast address
        assert reply.type == IcmpType.ECHO_REPLY

    @pytest.mark.parametrize(
        "source",
        [
            pytest.param(LAN_BROADCAST, id="directed broadcast"),
            pytest.param(IPv4Address("255.255.255.255"), id="limited broadcast"),
            pytest.param(IPv4Address("224.0.0.1"), id="multicast"),
            pytest.param(IPv4Address("240.0.0.1"), id="class E"),
            pytest.param(IPv4Address("0.0.0.0"), id="unspecified"),
            pytest.param(IPv4Address("127.0.0.1"), id="loopback from the wire"),
        ],
    )
    def test_a_request_from_a_source_that_is_not_one_host_is_discarded(self, source: IPv4Address) -> None:
        # RFC 1122 §3.2.1.3: such a source is invalid and the datagram MUST be silently discarded;
        # answering a broadcast source would make every host on the LAN a smurf reflector.
        node = host_knowing_peer()
        node.set_gateway(R0_IP)  # so that no answer is missing merely for want of a route
        node.interfaces[0].arp.update(R0_IP, PEER_MAC, 0, create=True)
        node.receive(0, ip_frame(echo_request(src=source)), 0)
        assert node.take_outbox() == []

    def test_an_echo_reply_goes_to_the_applications_not_answered(self) -> None:
        node = host_knowing_peer()
        seen: list[IcmpMessage] = []
        node.handlers.icmp.append(lambda header, message, now: seen.append(message))
        node.receive(0, ip_frame(ip_packet(IpProtocol.ICMP, IcmpMessage.echo_reply(1, 2, b"x").emit())), 0)
        assert outbox(node) == []
        assert seen == [IcmpMessage.echo_reply(1, 2, b"x")]

    def test_an_echo_request_from_an_unroutable_source_is_dropped_not_raised(self) -> None:
        node = host()  # no default gateway: 8.8.8.8 is unreachable from here
        node.receive(0, ip_frame(echo_request(src=IPv4Address("8.8.8.8"))), 0)
        assert outbox(node) == []


# --- closed ports (RFC 1122 §3.2.2.1, RFC 9293 §3.10.7.1) --------------------------------------------------


class TestClosedPorts:
    def test_udp_to_a_closed_port_gets_port_unreachable_quoting_the_ip_header_and_8_octets(self) -> None:
        node = host_knowing_peer()
        packet = udp_packet(dport=9)
        node.receive(0, ip_frame(packet), 0)
        _, header, message = only_icmp(node)
        assert (header.src, header.dst) == (MY_IP, PEER_IP)
        assert (message.type, message.code) == (IcmpType.DEST_UNREACHABLE, UnreachableCode.PORT)
        assert message.quoted == packet[: 20 + 8]  # RFC 792: the internet header + 64 bits of data
        assert node.counters["udp.drop.no-port"] == 1
        assert node.counters["icmp.error.sent.3.3"] == 1

    def test_udp_to_an_open_port_is_delivered(self) -> None:
        node = host_knowing_peer()
        received: list[tuple[object, ...]] = []
        node.bind_udp(9, lambda *arguments: received.append(arguments))
        node.receive(0, ip_frame(udp_packet(dport=9)), 42)
        assert received == [(PEER_IP, 40000, MY_IP, 9, b"hello, world", 42)]
        assert outbox(node) == []

    def test_udp_broadcast_to_a_closed_port_gets_no_error(self) -> None:
        node = host_knowing_peer()
        node.receive(0, ip_frame(udp_packet(dport=9, dst=LAN_BROADCAST), dst=BROADCAST), 0)
        assert outbox(node) == []
        assert node.counters["icmp.error.suppressed.link-broadcast"] == 1

    def test_an_unknown_protocol_gets_protocol_unreachable(self) -> None:
        node = host_knowing_peer()
        packet = ip_packet(253, b"experimental")  # RFC 3692 experimentation
        node.receive(0, ip_frame(packet), 0)
        _, _, message = only_icmp(node)
        assert (message.type, message.code) == (IcmpType.DEST_UNREACHABLE, UnreachableCode.PROTOCOL)
        assert message.quoted == packet[:28]

    @pytest.mark.parametrize(
        ("flags", "data", "expected_ack"),
        [
            pytest.param(TcpFlags.SYN, b"", 1000 + 1, id="SYN"),
            pytest.param(TcpFlags.SYN, b"abc", 1000 + 1 + 3, id="SYN with data"),
            pytest.param(TcpFlags.FIN, b"", 1000 + 1, id="FIN"),
            pytest.param(TcpFlags.PSH, b"abcd", 1000 + 4, id="data without ACK"),
        ],
    )
    def test_a_segment_without_ack_gets_rst_ack_acknowledging_it(
        self, flags: TcpFlags, data: bytes, expected_ack: int
    ) -> None:
        # RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
        node = host_knowing_peer()
        node.receive(0, ip_frame(tcp_packet(TcpHeader(50000, 80, 1000, 0, flags, 65535), data)), 0)
        _, header, payload = only_ip(node)
        assert (header.src, header.dst, header.protocol) == (MY_IP, PEER_IP, IpProtocol.TCP)
        reset, reset_data = TcpHeader.parse(payload, header.src, header.dst)
        assert (reset.src_port, reset.dst_port) == (80, 50000)
        assert reset.flags == TcpFlags.RST | TcpFlags.ACK
        assert (reset.seq, reset.ack) == (0, expected_ack)
        assert reset_data == b""

    def test_the_acknowledgement_wraps_around_2_to_the_32(self) -> None:
        node = host_knowing_peer()
        node.receive(0, ip_frame(tcp_packet(TcpHeader(50000, 80, 0xFFFFFFFF, 0, TcpFlags.SYN))), 0)
        _, header, payload = only_ip(node)
        assert TcpHeader.parse(payload, header.src, header.dst)[0].ack == 0

    def test_a_segment_with_ack_gets_rst_at_that_sequence(self) -> None:
        # RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>.
        node = host_knowing_peer()
        node.receive(0, ip_frame(tcp_packet(TcpHeader(50000, 80, 1000, 777777, TcpFlags.ACK, 65535))), 0)
        _, header, payload = only_ip(node)
        reset, _ = TcpHeader.parse(payload, header.src, header.dst)
        assert reset.flags == TcpFlags.RST
        assert reset.seq == 777777

    def test_a_rst_gets_no_answer(self) -> None:
        node = host_knowing_peer()
        for flags in (TcpFlags.RST, TcpFlags.RST | TcpFlags.ACK):
            node.receive(0, ip_frame(tcp_packet(TcpHeader(50000, 80, 1000, 5, flags))), 0)
        assert outbox(node) == []
        assert node.counters["tcp.rx.no-connection"] == 2
        assert node.counters["tcp.tx.reset"] == 0

    def test_a_segment_from_an_unroutable_source_is_dropped_not_raised(self) -> None:
        node = host()
        far = IPv4Address("8.8.8.8")
        node.receive(0, ip_frame(tcp_packet(TcpHeader(50000, 80, 1, 0, TcpFlags.SYN), src=far)), 0)
        assert outbox(node) == []

    def test_port_unreachable_for_a_reassembled_datagram_quotes_its_head(self) -> None:
        node = host_knowing_peer()
        datagram = UdpHeader(40000, 9).emit(bytes(2000), PEER_IP, MY_IP)
        header = Ipv4Header(PEER_IP, MY_IP, IpProtocol.UDP, identification=99)
        for piece_header, piece in fragment(header, datagram, 1500):
            node.receive(0, ip_frame(piece_header.emit(piece)), 0)
        _, _, message = only_icmp(node)
        assert message.code == UnreachableCode.PORT
        quoted_offset = int.from_bytes(message.quoted[6:8], "big") & 0x1FFF
        assert quoted_offset == 0
        assert message.quoted[20:28] == datagram[:8]  # the UDP header: how the sender finds its socket


# --- a router (RFC 1812) --------------------------------------------------------------------------------


class TestRouterForwarding:
    def forward(self, node: IpNode, packet: bytes) -> list[Sent]:
        node.receive(0, ip_frame(packet, dst=R0_MAC, src=MY_MAC), 0)
        return outbox(node)

    def test_forwards_with_ttl_minus_one_and_a_checksum_equal_to_full_recomputation(self) -> None:
        header = Ipv4Header(MY_IP, FAR_IP, IpProtocol.UDP, ttl=64, identification=1234)
        payload = UdpHeader(1, 2).emit(b"through", MY_IP, FAR_IP)
        [sent] = self.forward(router(), header.emit(payload))
        assert sent.interface == 1
        assert sent.ethernet == EthernetHeader(FAR_MAC, R1_MAC, EtherType.IPV4)
        assert sent.payload[: 20 + len(payload)] == header._replace(ttl=63).emit(payload)

    @given(
        ttl=st.integers(min_value=2, max_value=255),
        identification=st.integers(min_value=0, max_value=0xFFFF),
        dscp=st.integers(min_value=0, max_value=63),
        dont_fragment=st.booleans(),
        payload=st.binary(max_size=64),
    )
    def test_the_incremental_checksum_always_equals_recomputation(
        self, ttl: int, identification: int, dscp: int, dont_fragment: bool, payload: bytes
    ) -> None:
        header = Ipv4Header(MY_IP, FAR_IP, 253, ttl, identification, dont_fragment, dscp=dscp)
        [sent] = self.forward(router(), header.emit(payload))
        assert sent.payload[: 20 + len(payload)] == header._replace(ttl=ttl - 1).emit(payload)

    @pytest.mark.parametrize(
        "identification",
        [
            pytest.param(44817, id="checksum 0x0000 before"),
            pytest.param(45073, id="checksum 0x0000 after"),
        ],
    )
    def test_rfc_1624_corner_cases(self, identification: int) -> None:
        # RFC 1624 §3: eqn. 2 (RFC 1141) gets these wrong (0xFFFF for 0x0000); eqn. 3 does not.
        header = Ipv4Header(MY_IP, FAR_IP, IpProtocol.UDP, ttl=64, identification=identification)
        payload = bytes(20)
        assert b"\x00\x00" in (header.emit(payload)[10:12], header._replace(ttl=63).emit(payload)[10:12])
        [sent] = self.forward(router(), header.emit(payload))
        assert sent.payload[:40] == header._replace(ttl=63).emit(payload)

    @pytest.mark.parametrize("ttl", [1, 0])
    def test_time_exceeded_when_the_ttl_would_reach_zero(self, ttl: int) -> None:
        node = router()
        packet = ip_packet(IpProtocol.UDP, UdpHeader(1, 2).emit(b"dying", MY_IP, FAR_IP), MY_IP, FAR_IP, ttl=ttl)
        [sent] = self.forward(node, packet)
        assert sent.interface == 0  # back towards the source, not onwards
        header, payload = Ipv4Header.parse(sent.payload)
        message = IcmpMessage.parse(payload)
        assert (header.src, header.dst) == (R0_IP, MY_IP)
        assert (message.type, message.code) == (IcmpType.TIME_EXCEEDED, TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT)
        assert message.quoted == packet[:28]
        assert node.counters["ip.forward.drop.ttl-expired"] == 1

    def test_net_unreachable_without_a_route(self) -> None:
        node = router()
        packet = ip_packet(IpProtocol.UDP, bytes(8), MY_IP, IPv4Address("172.16.0.1"))
        [sent] = self.forward(node, packet)
        message = IcmpMessage.parse(Ipv4Header.parse(sent.payload)[1])
        assert (message.type, message.code) == (IcmpType.DEST_UNREACHABLE, UnreachableCode.NET)
        assert message.quoted == packet[:28]
        assert node.counters["ip.forward.drop.no-route"] == 1

    def test_fragmentation_needed_with_the_next_hop_mtu_when_df_and_too_big(self) -> None:
        # RFC 1191: code 4 carries the MTU of the link that could not take it.
        node = router(egress_mtu=576)
        packet = ip_packet(IpProtocol.UDP, bytes(980), MY_IP, FAR_IP, dont_fragment=True)
        [sent] = self.forward(node, packet)
        assert sent.interface == 0
        message = IcmpMessage.parse(Ipv4Header.parse(sent.payload)[1])
        assert (message.type, message.code) == (IcmpType.DEST_UNREACHABLE, UnreachableCode.FRAGMENTATION_NEEDED)
        assert message.next_hop_mtu == 576
        assert message.quoted == packet[:28]

    def test_fragments_when_too_big_and_df_is_clear(self) -> None:
        node = router(egress_mtu=576)
        header = Ipv4Header(MY_IP, FAR_IP, IpProtocol.UDP, ttl=64, identification=77)
        payload = UdpHeader(1, 2).emit(bytes(index % 256 for index in range(1392)), MY_IP, FAR_IP)
        frames = self.forward(node, header.emit(payload))
        assert len(frames) == 3  # 552 + 552 + 296
        reassembler = Reassembler()
        whole = None
        for sent in frames:
            assert sent.interface == 1
            assert sent.ethernet.dst == FAR_MAC
            piece_header, piece = Ipv4Header.parse(sent.payload)
            assert piece_header.header_len + len(piece) <= 576
            assert piece_header.ttl == 63
            whole = reassembler.add(piece_header, piece, sent.payload, 0) or whole
        assert whole == (header._replace(ttl=63), payload)
        assert node.counters["ip.forward.fragmented"] == 1

    def test_a_link_broadcast_is_never_forwarded(self) -> None:
        # RFC 1812 §5.3.4.
        node = router()
        packet = ip_packet(IpProtocol.UDP, bytes(8), MY_IP, FAR_IP)
        node.receive(0, ip_frame(packet, dst=BROADCAST, src=MY_MAC), 0)
        assert outbox(node) == []
        assert node.counters["ip.forward.drop.link-broadcast"] == 1

    @pytest.mark.parametrize(
        ("source", "destination"),
        [
            pytest.param("192.168.1.10", "127.0.0.1", id="to loopback"),
            pytest.param("192.168.1.10", "0.1.2.3", id="to network 0"),
            pytest.param("192.168.1.10", "240.0.0.1", id="to class E"),
            pytest.param("127.0.0.1", "10.0.0.2", id="from loopback"),
            pytest.param("0.0.0.0", "10.0.0.2", id="from network 0"),
            pytest.param("224.0.0.5", "10.0.0.2", id="from multicast"),
        ],
    )
    def test_martian_addresses_are_never_forwarded(self, source: str, destination: str) -> None:
        node = router()
        node.set_gateway(FAR_IP)  # a default route: nothing is dropped merely for want of a route
        packet = ip_packet(IpProtocol.UDP, bytes(8), IPv4Address(source), IPv4Address(destination))
        assert [sent for sent in self.forward(node, packet) if sent.interface == 1] == []
        assert node.counters["ip.forwarded"] == 0

    def test_a_router_answers_for_its_other_interface(self) -> None:
        node = router()
        node.receive(0, ip_frame(echo_request(MY_IP, IPv4Address("10.0.0.1")), dst=R0_MAC, src=MY_MAC), 0)
        [sent] = outbox(node)
        header, payload = Ipv4Header.parse(sent.payload)
        assert sent.interface == 0
        assert (header.src, header.dst) == (IPv4Address("10.0.0.1"), MY_IP)
        assert IcmpMessage.parse(payload).type == IcmpType.ECHO_REPLY


class TestHostDoesNotForward:
    def test_a_packet_for_another_address_is_dropped_and_counted(self) -> None:
        node = host_knowing_peer()
        node.set_gateway(IPv4Address("192.168.1.1"))
        node.receive(0, ip_frame(ip_packet(IpProtocol.UDP, bytes(8), PEER_IP, FAR_IP)), 0)
        assert outbox(node) == []
        assert node.counters["ip.drop.not-for-me"] == 1

    def test_a_frame_for_another_mac_is_dropped_by_the_nic(self) -> None:
        node = host_knowing_peer()
        node.receive(0, ip_frame(echo_request(), dst=STRANGER_MAC), 0)
        assert outbox(node) == []
        assert node.counters["eth.drop.not-for-me"] == 1


# --- malformed input --------------------------------------------------------------------------------------


def _corrupt(data: bytes, index: int) -> bytes:
    mutable = bytearray(data)
    mutable[index] ^= 0x01
    return bytes(mutable)


def _ethernet(ethertype: EtherType, payload: bytes, dst: MacAddress = MY_MAC) -> bytes:
    return EthernetHeader(dst, PEER_MAC, ethertype).emit(payload, pad=False)


def _malformed_frames() -> list[object]:
    arp = ArpPacket.request(PEER_MAC, PEER_IP, MY_IP).emit()
    echo = echo_request()
    udp = udp_packet()
    icmp_payload = IcmpMessage.echo_request(1, 1, b"data").emit()
    udp_datagram = UdpHeader(40000, 9).emit(b"hello", PEER_IP, MY_IP)
    tcp_ok = TcpHeader(50000, 80, 1, 0, TcpFlags.SYN).emit(b"", PEER_IP, MY_IP)
    # MSS (kind 2) with length 3: the checksum is right, the option cannot be (RFC 9293 §3.1).
    with_mss = TcpHeader(50000, 80, 1, 0, TcpFlags.SYN, options=(MaxSegmentSize(1460),)).emit(b"", PEER_IP, MY_IP)
    assert with_mss[20:22] == b"\x02\x04"
    bad_option = with_tcp_checksum(with_mss[:21] + b"\x03" + with_mss[22:])
    short_offset = with_tcp_checksum(tcp_ok[:12] + b"\x40" + tcp_ok[13:])  # data offset 4 < 5
    cases = [
        ("runt frame", b"\x02\x00\x00\x00\x00\x0a\x02\x00", "ethernet.drop.truncated"),
        ("ARP cut short", _ethernet(EtherType.ARP, arp[:20] + MY_IP.packed), "arp.drop.truncated"),
        ("ARP for another hardware type", _ethernet(EtherType.ARP, b"\x00\x06" + arp[2:]), "arp.drop.unsupported"),
        ("ARP with operation 9", _ethernet(EtherType.ARP, arp[:6] + b"\x00\x09" + arp[8:]), "arp.drop.unsupported"),
        ("IPv4 shorter than a header", _ethernet(EtherType.IPV4, echo[:10]), "ipv4.drop.truncated"),
        ("IPv4 total length past the frame", _ethernet(EtherType.IPV4, echo[:-4]), "ipv4.drop.truncated"),
        ("IPv4 version 6", _ethernet(EtherType.IPV4, b"\x65" + echo[1:]), "ipv4.drop.bad-version"),
        ("IPv4 IHL 4", _ethernet(EtherType.IPV4, b"\x44" + echo[1:]), "ipv4.drop.bad-length"),
        ("IPv4 bad header checksum", _ethernet(EtherType.IPV4, _corrupt(echo, 11)), "ipv4.drop.bad-checksum"),
        ("ICMP bad checksum", _ethernet(EtherType.IPV4, _corrupt(echo, 30)), "icmp.drop.bad-checksum"),
        (
            "ICMP shorter than 8",
            _ethernet(EtherType.IPV4, ip_packet(IpProtocol.ICMP, icmp_payload[:4])),
            "icmp.drop.truncated",
        ),
        ("UDP bad checksum", _ethernet(EtherType.IPV4, _corrupt(udp, 30)), "udp.drop.bad-checksum"),
        (
            "UDP length past the datagram",
            _ethernet(EtherType.IPV4, ip_packet(IpProtocol.UDP, udp_datagram[:4] + b"\x00\x40" + udp_datagram[6:])),
            "udp.drop.truncated",
        ),
        (
            "UDP length under 8",
            _ethernet(EtherType.IPV4, ip_packet(IpProtocol.UDP, udp_datagram[:4] + b"\x00\x04" + udp_datagram[6:])),
            "udp.drop.bad-length",
        ),
        ("UDP shorter than 8", _ethernet(EtherType.IPV4, ip_packet(IpProtocol.UDP, b"\x01\x02")), "udp.drop.truncated"),
        (
            "TCP bad option length",
            _ethernet(EtherType.IPV4, ip_packet(IpProtocol.TCP, bad_option)),
            "tcp.drop.bad-option",
        ),
        (
            "TCP bad checksum",
            _ethernet(EtherType.IPV4, ip_packet(IpProtocol.TCP, _corrupt(tcp_ok, 5))),
            "tcp.drop.bad-checksum",
        ),
        (
            "TCP data offset 4",
            _ethernet(EtherType.IPV4, ip_packet(IpProtocol.TCP, short_offset)),
            "tcp.drop.bad-length",
        ),
        (
            "TCP shorter than 20",
            _ethernet(EtherType.IPV4, ip_packet(IpProtocol.TCP, tcp_ok[:12])),
            "tcp.drop.truncated",
        ),
        ("garbage", _ethernet(EtherType.IPV4, bytes(range(0xF0, 0x100)) * 3), "ipv4.drop.bad-version"),
    ]
    return [pytest.param(frame, counter, id=name) for name, frame, counter in cases]


class TestMalformed:
    @pytest.mark.parametrize(("frame", "counter"), _malformed_frames())
    def test_dropped_and_counted_never_raised(self, frame: bytes, counter: str) -> None:
        node = host_knowing_peer()
        node.receive(0, frame, 0)
        assert outbox(node) == []
        assert node.counters[counter] == 1
        drops = {name: value for name, value in node.counters.items() if ".drop." in name}
        assert drops == {counter: 1}

    def test_an_unknown_ethertype_is_dropped(self) -> None:
        node = host()
        node.receive(0, _ethernet(EtherType.IPV6, bytes(40)), 0)
        assert outbox(node) == []
        assert node.counters["eth.drop.unknown-ethertype"] == 1

    def test_a_frame_on_a_down_interface_is_dropped(self) -> None:
        node = host_knowing_peer()
        node.interfaces[0].up = False
        node.receive(0, ip_frame(echo_request()), 0)
        assert outbox(node) == []
        assert node.counters["eth.drop.interface-down"] == 1


# --- fuzzing: receive() never raises -------------------------------------------------------------------------

ADDRESSES = st.one_of(
    st.sampled_from(
        [
            MY_IP,
            R0_IP,
            PEER_IP,
            LAN_BROADCAST,
            FAR_IP,
            IPv4Address("10.0.0.1"),
            IPv4Address("0.0.0.0"),
            IPv4Address("255.255.255.255"),
            IPv4Address("127.0.0.1"),
            IPv4Address("224.0.0.1"),
            IPv4Address("240.0.0.1"),
        ]
    ),
    st.integers(min_value=0, max_value=2**32 - 1).map(IPv4Address),
)
# Mostly one of the fuzzed nodes' own addresses, so that frames get past "not for me".
TARGETS = st.one_of(
    st.sampled_from([MY_IP, R0_IP]), st.sampled_from([MY_IP, R0_IP, IPv4Address("10.0.0.1")]), ADDRESSES
)


def rarely(draw: st.DrawFn) -> bool:
    """About one time in five (not on 0: Hypothesis draws the simplest value, 0, very often)."""
    return draw(st.integers(min_value=0, max_value=4)) == 3


@st.composite
def arp_payloads(draw: st.DrawFn) -> bytes:
    """ARP-shaped payloads: mostly well-formed and aimed at the node; sometimes damaged or cut."""
    packet = ArpPacket(
        draw(st.sampled_from([ArpOperation.REQUEST, ArpOperation.REPLY])),
        draw(st.one_of(st.just(PEER_MAC), st.binary(min_size=6, max_size=6).map(MacAddress))),
        draw(ADDRESSES),
        draw(st.binary(min_size=6, max_size=6).map(MacAddress)),
        draw(TARGETS),
    ).emit()
    if rarely(draw):
        packet = draw(st.binary(min_size=8, max_size=8)) + packet[8:]  # any types, lengths, operation
    if rarely(draw):
        packet = packet[: draw(st.integers(min_value=0, max_value=len(packet)))]
    return packet + draw(st.binary(max_size=20))


@st.composite
def transport_payloads(draw: st.DrawFn, src: IPv4Address, dst: IPv4Address, protocol: int) -> bytes:
    """A payload with a correct checksum (so parsing goes past it), its fields otherwise random."""
    data = draw(st.binary(max_size=40))
    if protocol == IpProtocol.ICMP:
        common = st.sampled_from([IcmpType.ECHO_REQUEST, IcmpType.ECHO_REPLY, IcmpType.DEST_UNREACHABLE])
        kind = draw(st.one_of(common, st.sampled_from(list(IcmpType)), st.integers(min_value=0, max_value=255)))
        rest = draw(st.integers(min_value=0, max_value=2**32 - 1))
        return IcmpMessage(kind, draw(st.integers(min_value=0, max_value=255)), rest, data).emit()
    if protocol == IpProtocol.UDP:
        ports = st.integers(min_value=0, max_value=0xFFFF)
        return UdpHeader(draw(ports), draw(ports), draw(st.booleans())).emit(data, src, dst)
    if protocol == IpProtocol.TCP:
        head = bytearray(draw(st.binary(min_size=20, max_size=20)))
        options = draw(st.one_of(st.just(b""), st.binary(max_size=40)))
        options += bytes(-len(options) % 4)
        offset = 5 + len(options) // 4
        if rarely(draw):
            offset = draw(st.integers(min_value=0, max_value=15))
        head[12] = offset << 4 | head[12] & 0x0F
        return with_tcp_checksum(bytes(head) + options + data, src, dst)
    return data


@st.composite
def ipv4_payloads(draw: st.DrawFn) -> bytes:
    """IPv4-shaped payloads: a valid header with random fields and a checksummed transport, or junk."""
    if rarely(draw):
        return draw(st.binary(max_size=120))
    src, dst = draw(ADDRESSES), draw(TARGETS)
    protocol = draw(st.sampled_from([IpProtocol.ICMP, IpProtocol.UDP, IpProtocol.TCP, 0, 253]))
    fragmented = rarely(draw)
    header = Ipv4Header(
        src,
        dst,
        protocol,
        ttl=draw(st.integers(min_value=0, max_value=255)),
        identification=draw(st.integers(min_value=0, max_value=3)),
        dont_fragment=draw(st.booleans()),
        more_fragments=fragmented and draw(st.booleans()),
        fragment_offset=draw(st.sampled_from([0, 8, 1480, 65528])) if fragmented else 0,
        options=draw(st.sampled_from([b"", b"", b"\x94\x04\x00\x00", b"\x01\x01\x01\x00"])),
    )
    packet = header.emit(draw(transport_payloads(src, dst, protocol)))
    if rarely(draw):  # damage one octet somewhere
        index = draw(st.integers(min_value=0, max_value=len(packet) - 1))
        packet = packet[:index] + bytes([draw(st.integers(min_value=0, max_value=255))]) + packet[index + 1 :]
    if rarely(draw):
        packet = packet[: draw(st.integers(min_value=0, max_value=len(packet)))]
    return packet


FUZZ_FRAMES = st.one_of(
    st.tuples(st.just(EtherType.ARP), st.one_of(arp_payloads(), st.binary(max_size=80))),
    st.tuples(st.just(EtherType.IPV4), ipv4_payloads()),
)


def fuzzed_nodes() -> list[IpNode]:
    """A host with no route off its LAN, one with a default gateway, and a router that traces."""
    lan_only = host_knowing_peer()
    with_gateway = host_knowing_peer()
    with_gateway.set_gateway(R0_IP)
    with_gateway.interfaces[0].arp.update(R0_IP, PEER_MAC, 0, create=True)
    tracing = IpNode("r1", forwarding=True, trace=Trace(capacity=100))
    tracing.add_interface(R0_MAC, "192.168.1.1/24")
    tracing.add_interface(R1_MAC, "10.0.0.1/24", mtu=576)
    tracing.interfaces[0].arp.update(PEER_IP, PEER_MAC, 0, create=True)
    return [lan_only, with_gateway, tracing]


class TestFuzz:
    @settings(max_examples=300)
    @given(frames=st.lists(st.tuples(FUZZ_FRAMES, st.booleans()), min_size=1, max_size=4))
    def test_receive_never_raises(self, frames: list[tuple[tuple[EtherType, bytes], bool]]) -> None:
        for node in fuzzed_nodes():
            mac = node.interfaces[0].mac
            now = 0
            for (ethertype, payload), broadcast in frames:
                now += SECOND
                frame = EthernetHeader(BROADCAST if broadcast else mac, PEER_MAC, ethertype).emit(payload)
                node.receive(0, frame, now)
            # ... and neither do the timers the frames may have started (ARP retries, reassembly).
            for _ in range(5):
                when = node.poll_at()
                if when is None:
                    break
                node.poll(max(when, now))
            for _index, out in node.take_outbox():
                EthernetHeader.parse(out)  # whatever it sent is at least a frame

    @given(payload=st.binary(max_size=100), ethertype=st.sampled_from([EtherType.ARP, EtherType.IPV4]))
    def test_random_bytes_after_an_ethernet_header_never_raise(self, payload: bytes, ethertype: EtherType) -> None:
        for node in fuzzed_nodes():
            node.receive(0, EthernetHeader(node.interfaces[0].mac, PEER_MAC, ethertype).emit(payload), 0)
