"""The learning switch (IEEE 802.1D §7-8): learn, forward, flood, filter, move, age, bound.

A five-port switch with recording nodes on ports 0-3 (port 4 left unplugged); frames are handed to the
switch as if they had arrived on a port, on the simulator's clock, and what each node then receives
is what the switch sent it.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from wirelab.apps.bulk import BulkSink, BulkSource
from wirelab.sim.engine import SECOND, Simulator
from wirelab.sim.link import Link, Port
from wirelab.sim.network import Network
from wirelab.sim.switch import MacTableChange, Switch
from wirelab.trace import Counters, Trace
from wirelab.wire.ethernet import MIN_FRAME_LEN, EthernetHeader, EtherType
from wirelab.wire.mac import BROADCAST, MacAddress

A = MacAddress("02:00:00:00:00:0a")
B = MacAddress("02:00:00:00:00:0b")
C = MacAddress("02:00:00:00:00:0c")
D = MacAddress("02:00:00:00:00:0d")
MULTICAST = MacAddress("01:00:5e:00:00:01")
AGING = 300 * SECOND


class Recorder:
    """The smallest Node: a name, and a receive() that keeps the frames."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = Port(self, 0)
        self.frames: list[bytes] = []

    def receive(self, port: Port, frame: bytes) -> None:
        self.frames.append(frame)


class Lab:
    def __init__(self, **options: int) -> None:
        self.sim = Simulator()
        self.counters = Counters()
        trace = Trace(enabled=False)
        self.switch = Switch(self.sim, "sw1", 5, trace, self.counters, **options)
        self.nodes = [Recorder(f"n{index}") for index in range(4)]
        for index, node in enumerate(self.nodes):
            Link(self.sim, self.switch.ports[index], node.port, trace, self.counters)

    def arrive(self, port: int, src: MacAddress, dst: MacAddress, tag: bytes = b"") -> None:
        """A frame from ``src`` to ``dst`` arrives on ``port`` now; the run delivers what it causes."""
        frame = EthernetHeader(dst, src, EtherType.IPV4).emit(tag)
        self.switch.receive(self.switch.ports[port], frame)
        self.sim.run()

    def at(self, when: int) -> Lab:
        self.sim.run(until=when)
        return self

    def received(self) -> list[int]:
        """Which nodes got a frame since the last call (and forget them)."""
        got = [index for index, node in enumerate(self.nodes) if node.frames]
        for node in self.nodes:
            node.frames.clear()
        return got

    def table(self) -> dict[MacAddress, int]:
        return {mac: port for mac, port, _age in self.switch.mac_table()}


class TestLearning:
    def test_the_source_is_learned_on_the_ingress_port(self) -> None:
        lab = Lab()
        lab.arrive(0, A, B)
        assert lab.table() == {A: 0}
        assert list(lab.switch.history) == [MacTableChange(0, "learned", A, 0)]
        assert lab.counters["switch.mac.learned"] == 1

    def test_a_multicast_source_is_not_learned(self) -> None:
        # A group address cannot be a source (802.1D §7.8): such a frame is invalid and discarded.
        lab = Lab()
        lab.arrive(0, MULTICAST, B)
        assert lab.table() == {}
        assert lab.counters["switch.drop.multicast-source"] == 1
        assert lab.received() == []

    def test_learning_refreshes_the_entry(self) -> None:
        lab = Lab()
        lab.arrive(0, A, BROADCAST)
        lab.at(200 * SECOND).arrive(0, A, BROADCAST)
        lab.received()
        lab.at(450 * SECOND).arrive(1, B, A)  # 250 s since A was last seen: still known
        assert lab.received() == [0]


class TestForwarding:
    def test_unknown_unicast_is_flooded_to_every_connected_port_but_the_ingress(self) -> None:
        lab = Lab()
        lab.arrive(1, A, B)
        assert lab.received() == [0, 2, 3]  # not 1 (ingress), and port 4 has no cable
        assert lab.counters["switch.flooded.unknown-unicast"] == 1
        assert lab.counters["switch.flooded.copies"] == 3

    def test_broadcast_is_flooded(self) -> None:
        lab = Lab()
        lab.arrive(2, B, A)  # the switch knows B: a broadcast still goes everywhere
        lab.received()
        lab.arrive(0, A, BROADCAST)
        assert lab.received() == [1, 2, 3]
        assert lab.counters["switch.flooded.broadcast"] == 1

    def test_multicast_is_flooded(self) -> None:
        lab = Lab()
        lab.arrive(3, A, MULTICAST)
        assert lab.received() == [0, 1, 2]
        assert lab.counters["switch.flooded.multicast"] == 1

    def test_a_known_unicast_goes_out_of_its_one_port(self) -> None:
        lab = Lab()
        lab.arrive(0, A, BROADCAST)  # the switch learns A on port 0
        lab.received()
        lab.arrive(2, C, A, b"to A")
        assert lab.received() == [0]
        assert lab.counters["switch.forwarded"] == 1
        # ... and the frame arrives unchanged.
        lab.arrive(2, C, A, b"again")
        assert lab.nodes[0].frames == [EthernetHeader(A, C, EtherType.IPV4).emit(b"again")]

    def test_a_conversation_stops_flooding_after_one_reply(self) -> None:
        lab = Lab()
        lab.arrive(0, A, B)  # A to B: B unknown, flooded
        assert lab.received() == [1, 2, 3]
        lab.arrive(1, B, A)  # B answers: A known, forwarded
        assert lab.received() == [0]
        lab.arrive(0, A, B)  # now B is known too
        assert lab.received() == [1]

    def test_a_frame_for_the_port_it_came_from_is_filtered(self) -> None:
        # A and C behind the same port (a hub, another switch): C's frame to A needs no forwarding.
        lab = Lab()
        lab.arrive(0, A, BROADCAST)
        lab.received()
        lab.arrive(0, C, A)
        assert lab.received() == []
        assert lab.counters["switch.filtered"] == 1
        assert lab.table() == {A: 0, C: 0}

    @pytest.mark.parametrize("size", [0, 13, 14, 42, 59])
    def test_a_runt_is_dropped(self, size: int) -> None:
        # IEEE 802.3: a frame shorter than 64 octets with its FCS (60 without) is a runt; a switch drops it
        # without learning its source. An unpadded ARP (42 octets) is one.
        lab = Lab()
        frame = EthernetHeader(BROADCAST, A, EtherType.ARP).emit(bytes(64), pad=False)[:size]
        lab.switch.receive(lab.switch.ports[0], frame)
        lab.sim.run()
        assert lab.received() == []
        assert lab.counters["switch.drop.runt"] == 1
        assert lab.counters["switch.rx"] == 0
        assert lab.table() == {}

    def test_a_minimum_size_frame_is_forwarded(self) -> None:
        lab = Lab()
        frame = EthernetHeader(BROADCAST, A, EtherType.ARP).emit(bytes(28))  # padded by the sender: 60 octets
        assert len(frame) == MIN_FRAME_LEN
        lab.switch.receive(lab.switch.ports[0], frame)
        lab.sim.run()
        assert lab.received() == [1, 2, 3]
        assert lab.counters["switch.drop.runt"] == 0


class TestMove:
    def test_a_mac_seen_on_another_port_moves(self) -> None:
        lab = Lab()
        lab.arrive(0, A, BROADCAST)
        lab.at(5 * SECOND).arrive(2, A, BROADCAST)  # unplugged and plugged in elsewhere
        assert lab.table() == {A: 2}
        assert lab.switch.history[-1] == MacTableChange(5 * SECOND, "moved", A, 2)
        lab.received()
        lab.arrive(1, B, A)
        assert lab.received() == [2]


class TestAgeing:
    def test_an_entry_is_used_until_300_s_then_forgotten(self) -> None:
        lab = Lab()
        lab.arrive(0, A, BROADCAST)
        lab.received()
        lab.at(AGING).arrive(1, B, A)  # exactly 300 s: still known
        assert lab.received() == [0]
        lab.at(AGING + 1).arrive(1, B, A)  # a frame *to* A does not refresh A
        assert lab.received() == [0, 2, 3]
        assert lab.counters["switch.mac.aged"] == 1
        assert lab.counters["switch.flooded.unknown-unicast"] == 1

    def test_mac_table_drops_aged_entries(self) -> None:
        lab = Lab()
        lab.arrive(0, A, BROADCAST)
        lab.at(100 * SECOND).arrive(1, B, BROADCAST)
        lab.at(AGING + 50 * SECOND)
        assert lab.table() == {B: 1}
        assert any(change.change == "aged" and change.mac == A for change in lab.switch.history)

    def test_the_aging_time_is_configurable(self) -> None:
        lab = Lab(aging_time=10 * SECOND)
        lab.arrive(0, A, BROADCAST)
        lab.received()
        lab.at(11 * SECOND).arrive(1, B, A)
        assert lab.received() == [0, 2, 3]


class TestBoundedTable:
    def test_a_full_table_does_not_learn_and_frames_to_the_unlearned_are_flooded(self) -> None:
        lab = Lab(table_size=2)
        lab.arrive(0, A, BROADCAST)
        lab.arrive(1, B, BROADCAST)
        now = lab.sim.now
        lab.arrive(2, C, BROADCAST)  # no room for C
        assert lab.table() == {A: 0, B: 1}
        assert lab.counters["switch.table-full"] == 1
        assert lab.switch.history[-1] == MacTableChange(now, "refused-full", C, 2)
        lab.received()
        lab.arrive(0, A, C)
        assert lab.received() == [1, 2, 3]  # C's frames keep being flooded (a MAC-flooding attack's aim)

    def test_aged_entries_make_room(self) -> None:
        lab = Lab(table_size=2)
        lab.arrive(0, A, BROADCAST)
        lab.arrive(1, B, BROADCAST)
        lab.at(AGING + 1).arrive(2, C, BROADCAST)
        assert lab.table() == {C: 2}
        assert lab.counters["switch.table-full"] == 0


class TestMacTable:
    def test_rows_are_mac_port_and_age_sorted_by_port_then_mac(self) -> None:
        lab = Lab()
        lab.arrive(3, D, BROADCAST)
        lab.at(1 * SECOND).arrive(1, C, BROADCAST)
        lab.at(2 * SECOND).arrive(1, A, BROADCAST)
        lab.at(3 * SECOND).arrive(0, B, BROADCAST)
        lab.at(10 * SECOND)
        assert lab.switch.mac_table() == [
            (B, 0, 7 * SECOND),
            (A, 1, 8 * SECOND),
            (C, 1, 9 * SECOND),
            (D, 3, 10 * SECOND),
        ]

    def test_an_empty_table(self) -> None:
        assert Lab().switch.mac_table() == []


class TestConstruction:
    def test_a_switch_needs_two_ports(self) -> None:
        with pytest.raises(ValueError, match="at least 2"):
            Switch(Simulator(), "tiny", 1, Trace(enabled=False), Counters())

    def test_free_port_is_the_first_unplugged_one(self) -> None:
        lab = Lab()
        assert lab.switch.free_port() is lab.switch.ports[4]
        Link(lab.sim, lab.switch.ports[4], Recorder("n4").port, Trace(enabled=False), lab.counters)
        with pytest.raises(ValueError, match="all 5 ports"):
            lab.switch.free_port()


class TestWhatIsOnTheWire:
    def test_every_frame_on_every_link_is_at_least_the_ethernet_minimum_padded_with_zeros(self) -> None:
        # What a real Ethernet carries: nothing under 60 octets before the FCS, so the switch's runt rule
        # never drops a frame a stack sent. ARP (28 octets of payload), a one-octet UDP datagram (29 with
        # its IPv4 header... 43 with Ethernet's) and a small last fragment, forwarded by a router, go out
        # padded to 60; TCP, ICMP errors and echoes are longer.
        net = Network(seed=3)
        lan1, lan2 = net.switch("sw1", ports=4), net.switch("sw2", ports=4)
        a = net.host("a", "192.168.1.10/24", gateway="192.168.1.1")
        b = net.host("b", "192.168.2.20/24", gateway="192.168.2.1")
        router = net.router("r")
        for node, switch in ((a, lan1), (b, lan2)):
            net.link(node, switch)
        net.link(router, lan1, address="192.168.1.1/24")
        net.link(router, lan2, address="192.168.2.1/24", mtu=576)
        captures = [net.capture(link) for link in net.links]
        BulkSink(b, 5001)
        BulkSource(a, IPv4Address("192.168.2.20"), 5001, bytes(3000))
        a.stack.send_udp(IPv4Address("192.168.2.20"), 4000, 9, b"x")  # to a closed port: ICMP back
        a.stack.send_udp(IPv4Address("192.168.2.20"), 4000, 9, bytes(560))  # 568 + 20: a 4-octet last fragment
        net.ping(a, "192.168.2.20", count=1)
        net.run(until="5s")
        frames = [frame for capture in captures for frame in capture.frames()]
        assert len(frames) > 20
        assert min(len(frame) for frame in frames) == MIN_FRAME_LEN
        for frame in frames:
            if frame[12:14] == b"\x08\x00":
                ip_end = 14 + int.from_bytes(frame[16:18], "big")
                assert frame[ip_end:] == bytes(len(frame) - ip_end)  # the padding is zeros
        assert sum(counters["switch.drop.runt"] for counters in net.counters.values()) == 0
