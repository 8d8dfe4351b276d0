"""The course's layer 1-3 story, from cold caches, asserted from counters and captures.

Topology (as the course draws it)::

    a 192.168.1.10 ─┐                ┌─ c 10.0.0.20
    b 192.168.1.11 ─┤ sw1 ── r1 ── sw2
    d 192.168.1.12 ─┘   .1      .1
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from scapy.utils import rdpcap

from wirelab.sim.network import Network
from wirelab.wire.arp import ArpOperation, ArpPacket
from wirelab.wire.dissect import dissect
from wirelab.wire.ethernet import EtherType
from wirelab.wire.icmpv4 import IcmpMessage, IcmpType
from wirelab.wire.mac import BROADCAST

GATEWAY = IPv4Address("192.168.1.1")


@pytest.fixture
def lab() -> Network:
    net = Network(seed=1)
    sw1 = net.switch("sw1", ports=8)
    sw2 = net.switch("sw2", ports=8)
    r1 = net.router("r1")
    for name, address in (("a", "192.168.1.10/24"), ("b", "192.168.1.11/24"), ("d", "192.168.1.12/24")):
        net.link(net.host(name, address, gateway="192.168.1.1"), sw1, delay="10us")
    net.link(r1, sw1, address="192.168.1.1/24")
    net.link(r1, sw2, address="10.0.0.1/24")
    net.link(net.host("c", "10.0.0.20/24", gateway="10.0.0.1"), sw2, delay="10us")
    return net


def arps(frames: list[bytes]) -> list[ArpPacket]:
    return [d.network for d in map(dissect, frames) if isinstance(d.network, ArpPacket)]


def echoes(frames: list[bytes]) -> list[IcmpMessage]:
    return [d.transport for d in map(dissect, frames) if isinstance(d.transport, IcmpMessage)]


class TestPingOnTheSameLan:
    def test_one_arp_request_flooded_one_unicast_reply_then_echoes(self, lab: Network) -> None:
        at_a = lab.capture("a:eth0")
        at_b = lab.capture("b:eth0")
        at_d = lab.capture("d:eth0")
        at_router = lab.capture("r1:eth0")
        ping = lab.ping("a", "192.168.1.11", count=3)
        lab.run(until="10s")

        assert ping.received == 3 and ping.transmitted == 3
        # Exactly one ARP request, a broadcast, from a, asking for b.
        assert lab.counters["a"]["arp.tx.request"] == 1
        requests = [p for p in arps(at_a.frames()) if p.operation == ArpOperation.REQUEST]
        assert [(p.sender_ip, p.target_ip) for p in requests] == [
            (IPv4Address("192.168.1.10"), IPv4Address("192.168.1.11"))
        ]
        assert dissect(at_a.frames()[0]).ethernet.dst == BROADCAST  # type: ignore[union-attr]
        # The switch flooded it out of every other connected port (b, d, r1), and only that.
        switch = lab.counters["sw1"]
        assert switch["switch.flooded.broadcast"] == 1
        assert switch["switch.flooded.copies"] == 3
        for capture in (at_b, at_d, at_router):
            seen = [p.target_ip for p in arps(capture.frames()) if p.operation == ArpOperation.REQUEST]
            assert seen == [IPv4Address("192.168.1.11")]
        # One reply, unicast to a, from b.
        replies = [p for p in arps(at_a.frames()) if p.operation == ArpOperation.REPLY]
        assert len(replies) == 1 and replies[0].sender_ip == IPv4Address("192.168.1.11")
        reply_frame = next(f for f in at_a.frames() if dissect(f).network == replies[0])
        a_mac = lab["a"].interfaces[0].mac  # type: ignore[union-attr]
        assert dissect(reply_frame).ethernet.dst == a_mac  # type: ignore[union-attr]
        assert lab.counters["b"]["arp.tx.reply"] == 1
        # b learned a from the request (RFC 826: the target merges the sender), so b never asks.
        assert lab.counters["b"]["arp.tx.request"] == 0
        # d was not the target and did not know a: it learned nothing.
        assert lab["d"].stack.interfaces[0].arp.entries == {}  # type: ignore[union-attr]
        # The switch learned both MACs, on the right ports.
        table = {mac: port for mac, port, _age in lab["sw1"].mac_table()}  # type: ignore[union-attr]
        b_mac = lab["b"].interfaces[0].mac  # type: ignore[union-attr]
        assert table[a_mac] == 0 and table[b_mac] == 1
        # Then the echo exchange, seen only by a and b (known unicast is not flooded).
        kinds = [(m.type, m.sequence) for m in echoes(at_a.frames())]
        assert kinds == [(t, s) for s in (1, 2, 3) for t in (IcmpType.ECHO_REQUEST, IcmpType.ECHO_REPLY)]
        assert echoes(at_d.frames()) == [] and echoes(at_router.frames()) == []

    def test_the_trace_tells_the_course_story(self, lab: Network) -> None:
        lab.ping("a", "192.168.1.11", count=1)
        lab.run(until="5s")
        text = lab.trace.render(lab.trace.select(node="a"))
        assert "same LAN, deliver directly (ARP for 192.168.1.11)" in text
        assert "192.168.1.11 AND 255.255.255.0 = 192.168.1.0" in text
        assert "ARP request (broadcast): who has 192.168.1.11? tell 192.168.1.10" in text
        flooded = lab.trace.select(node="sw1", kind="switch.flooded")
        assert len(flooded) == 1 and flooded[0].fields["out_ports"] == [1, 2, 3]


class TestPingAcrossTheRouter:
    def test_a_arps_for_the_gateway_never_for_c(self, lab: Network) -> None:
        at_a = lab.capture("a:eth0")
        at_router_far = lab.capture("r1:eth1")
        ping = lab.ping("a", "10.0.0.20", count=2)
        lab.run(until="10s")

        assert ping.received == 2
        asked_by_a = {p.target_ip for p in arps(at_a.frames()) if p.operation == ArpOperation.REQUEST}
        assert asked_by_a == {GATEWAY}
        trace = lab.trace.render(lab.trace.select(node="a", kind="ip.route."))
        assert "another network, send to the gateway 192.168.1.1 (ARP for the gateway)" in trace
        # The router resolves c on its other side.
        far = [p for p in arps(at_router_far.frames()) if p.operation == ArpOperation.REQUEST]
        assert [(p.sender_ip, p.target_ip) for p in far] == [(IPv4Address("10.0.0.1"), IPv4Address("10.0.0.20"))]
        # Replies come back with TTL decremented once by the router.
        assert all(line.endswith("ms") and "ttl=63" in line for line in ping.lines[1:])
        assert lab.counters["r1"]["ip.forwarded"] == 4

    def test_traceroute_names_the_router(self, lab: Network) -> None:
        trace = lab.traceroute("a", "10.0.0.20")
        lab.run(until="60s")
        assert trace.done and trace.reached
        assert [set(hop.responders) for hop in trace.hops] == [{GATEWAY}, {IPv4Address("10.0.0.20")}]
        report = trace.report()
        assert report.splitlines()[1].startswith(" 1  192.168.1.1 ")
        assert lab.counters["r1"]["icmp.error.sent.11.0"] == 3
        assert lab.counters["c"]["icmp.error.sent.3.3"] == 3


class TestUnreachable:
    def test_no_arp_reply_means_host_unreachable_after_three_tries(self, lab: Network) -> None:
        ping = lab.ping("a", "192.168.1.99", count=1)
        lab.run(until="20s")
        assert lab.counters["a"]["arp.tx.request"] == 3
        times = [event.time for event in lab.trace.select(node="a", kind="arp.request.sent")]
        assert times == [0, 1_000_000_000, 2_000_000_000]  # at most one a second (RFC 1122)
        assert ping.received == 0 and ping.errors == 1
        assert "From 192.168.1.10 icmp_seq=1 Destination Host Unreachable" in ping.report()

    def test_no_route_is_network_unreachable(self) -> None:
        net = Network(seed=1)
        sw = net.switch("sw", ports=4)
        net.link(net.host("lonely", "192.168.5.5/24"), sw)
        ping = net.ping("lonely", "8.8.8.8", count=1)
        net.run(until="15s")
        assert ping.errors == 1 and "Network is unreachable" in ping.report()
        assert net.counters["lonely"]["ip.tx.no-route"] == 1


def test_the_capture_opens_in_scapy(lab: Network, tmp_path: object) -> None:
    capture = lab.capture(lab.links[0])
    lab.ping("a", "10.0.0.20", count=2)
    lab.run(until="5s")
    path = f"{tmp_path}/a.pcap"
    capture.write(path)
    packets = rdpcap(path)
    assert [bytes(p) for p in packets] == capture.frames()
    assert len(packets) == 6  # ARP request + reply, two echo requests + replies
    assert all(dissect(frame).ok for frame in capture.frames())
    assert dissect(capture.frames()[0]).ethernet.ethertype == EtherType.ARP  # type: ignore[union-attr]
