"""Malformed frames injected at a host, a switch and a router: dropped with a counted reason, never raised."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wirelab.sim.network import Network
from wirelab.sim.node import SimNode
from wirelab.sim.switch import Switch
from wirelab.wire.arp import ArpPacket
from wirelab.wire.checksum import internet_checksum
from wirelab.wire.ethernet import EthernetHeader, EtherType
from wirelab.wire.icmpv4 import IcmpMessage
from wirelab.wire.ipv4 import Ipv4Header
from wirelab.wire.mac import BROADCAST, MacAddress
from wirelab.wire.tcp import TcpFlags, TcpHeader
from wirelab.wire.udp import UdpHeader

ATTACKER = MacAddress("02:aa:00:00:00:01")
SRC = IPv4Address("192.168.1.66")


def lab() -> tuple[Network, SimNode, Switch, SimNode]:
    net = Network(seed=1)
    sw = net.switch("sw", ports=4)
    host = net.host("h", "192.168.1.10/24", gateway="192.168.1.1")
    router = net.router("r")
    net.link(host, sw)
    net.link(router, sw, address="192.168.1.1/24")
    net.link(router, net.switch("far", ports=2), address="10.0.0.1/24")
    return net, host, sw, router


def ip_frame(node: SimNode, packet: bytes) -> bytes:
    return EthernetHeader(node.interfaces[0].mac, ATTACKER, EtherType.IPV4).emit(packet)


def ip_packet(node: SimNode, protocol: int, payload: bytes) -> bytes:
    destination = node.interfaces[0].ip
    assert destination is not None
    return Ipv4Header(SRC, destination, protocol).emit(payload)


def target(node: SimNode) -> IPv4Address:
    address = node.interfaces[0].ip
    assert address is not None
    return address


def corrupt(data: bytes, index: int) -> bytes:
    mutable = bytearray(data)
    mutable[index] ^= 0x01
    return bytes(mutable)


def tcp_with_bad_option(node: SimNode) -> bytes:
    good = TcpHeader(1234, 80, 1, 0, TcpFlags.SYN, 1000).emit(b"", SRC, target(node))
    # data offset 6 and an option whose length octet points past the header
    segment = bytearray(good[:12] + bytes([0x60]) + good[13:20] + b"\x02\x09\x05\xb4")
    segment[16:18] = b"\x00\x00"
    pseudo = int(SRC) + int(target(node)) + 6 + len(segment)
    segment[16:18] = internet_checksum(bytes(segment), pseudo).to_bytes(2, "big")
    return bytes(segment)


CASES = {
    "ethernet.drop.truncated": lambda node: node.interfaces[0].mac.packed + b"\x00\x01",
    "eth.drop.unknown-ethertype": lambda node: EthernetHeader(node.interfaces[0].mac, ATTACKER, 0x88B5).emit(b"x"),
    "arp.drop.unsupported": lambda node: EthernetHeader(BROADCAST, ATTACKER, EtherType.ARP).emit(
        b"\x00\x06" + ArpPacket.request(ATTACKER, SRC, target(node)).emit()[2:]
    ),
    "ipv4.drop.bad-version": lambda node: ip_frame(node, b"\x65" + ip_packet(node, 1, b"")[1:]),
    "ipv4.drop.bad-checksum": lambda node: ip_frame(node, corrupt(ip_packet(node, 1, b"abcd"), 8)),
    "ipv4.drop.truncated": lambda node: ip_frame(node, ip_packet(node, 1, b"a" * 40)[:30]),
    "icmp.drop.bad-checksum": lambda node: ip_frame(
        node, ip_packet(node, 1, corrupt(IcmpMessage.echo_request(1, 1, b"hi").emit(), 9))
    ),
    "udp.drop.bad-length": lambda node: ip_frame(
        node, ip_packet(node, 17, UdpHeader(1, 53).emit(b"data", SRC, target(node))[:4] + b"\x00\x03\x00\x00data")
    ),
    "tcp.drop.bad-option": lambda node: ip_frame(node, ip_packet(node, 6, tcp_with_bad_option(node))),
}


@pytest.mark.parametrize("counter", sorted(CASES))
def test_host_drops_and_counts(counter: str) -> None:
    net, host, _sw, _router = lab()
    frame = CASES[counter](host)
    host.receive(host.ports[0], frame)
    assert net.counters["h"][counter] == 1
    drops = net.trace.select(node="h")
    assert drops, "every drop is traced"


@pytest.mark.parametrize("counter", sorted(CASES))
def test_router_drops_and_counts(counter: str) -> None:
    net, _host, _sw, router = lab()
    frame = CASES[counter](router)
    router.receive(router.ports[0], frame)
    assert net.counters["r"][counter] == 1


def test_switch_drops_runts_and_forwards_what_it_cannot_judge() -> None:
    net, _host, sw, _router = lab()
    sw.receive(sw.ports[0], b"\x01\x02\x03")
    assert net.counters["sw"]["switch.drop.runt"] == 1
    # A switch does not look above layer 2: garbage behind a good Ethernet header is flooded on.
    sw.receive(sw.ports[3], EthernetHeader(BROADCAST, ATTACKER, EtherType.IPV4).emit(b"\xff" * 50))
    assert net.counters["sw"]["switch.flooded.broadcast"] == 1
    net.run(until="1s")  # and the host and router that receive it drop it, counted
    assert net.counters["h"]["ipv4.drop.bad-version"] == 1
    assert net.counters["r"]["ipv4.drop.bad-version"] == 1


@given(st.binary(max_size=200), st.sampled_from([b"\x08\x00", b"\x08\x06", b"\x81\x00", b"\x86\xdd"]))
def test_any_bytes_at_any_device_never_raise(payload: bytes, ethertype: bytes) -> None:
    net, host, sw, router = lab()
    for node in (host, router):
        frame = node.interfaces[0].mac.packed + ATTACKER.packed + ethertype + payload
        node.receive(node.ports[0], frame)
        node.receive(node.ports[0], BROADCAST.packed + ATTACKER.packed + ethertype + payload)
    sw.receive(sw.ports[0], payload)
    net.run(until="5s")


def test_a_host_discards_overlapping_fragments_counted_and_traced() -> None:
    # The teardrop attack's shape: [0, 24) then [16, 40) of one datagram. Linux since CVE-2018-5391
    # discards the whole datagram (IPSTATS_MIB_REASM_OVERLAPS); so does the host, in its own counters.
    net, host, _sw, _router = lab()
    header = Ipv4Header(SRC, target(host), 17, identification=99)
    data = bytes(range(48))
    for start, end, more in ((0, 24, True), (16, 40, True), (40, 48, False)):
        piece = header._replace(fragment_offset=start, more_fragments=more)
        host.receive(host.ports[0], ip_frame(host, piece.emit(data[start:end])))
    assert net.counters["h"]["ip.reassembly.overlap"] == 1
    assert net.counters["h"]["ip.reassembled"] == 0
    [event] = net.trace.select(node="h", kind="ip.reassembly.overlap")
    assert event.fields["identification"] == 99
