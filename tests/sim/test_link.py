"""Links (layer 1): serialisation with Ethernet's overhead, propagation, the transmit queue, the MTU,
link down, seeded impairments, and the FCS model of corruption.

Two recording nodes on either end of one link, on the simulator's clock; nothing else.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from itertools import pairwise

import pytest

from wirelab.sim.engine import MILLISECOND, Simulator
from wirelab.sim.link import ChannelConfig, Link, Port
from wirelab.trace import Counters, Trace
from wirelab.wire.arp import ArpPacket
from wirelab.wire.errors import Malformation, MalformedPacket
from wirelab.wire.ethernet import EthernetHeader, EtherType, VlanTag
from wirelab.wire.icmpv4 import IcmpMessage
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.mac import MacAddress
from wirelab.wire.tcp import TcpFlags, TcpHeader
from wirelab.wire.udp import UdpHeader

A_MAC = MacAddress("02:00:00:00:00:0a")
B_MAC = MacAddress("02:00:00:00:00:0b")
A_IP = IPv4Address("192.168.1.10")
B_IP = IPv4Address("192.168.1.11")


class Recorder:
    """The smallest Node: a name, and a receive() that writes down (time, frame)."""

    def __init__(self, sim: Simulator, name: str) -> None:
        self.sim = sim
        self.name = name
        self.port = Port(self, 0)
        self.received: list[tuple[int, bytes]] = []

    def receive(self, port: Port, frame: bytes) -> None:
        assert port is self.port
        self.received.append((self.sim.now, frame))


def wire(seed: int = 0, **config: object) -> tuple[Simulator, Recorder, Recorder, Link, Counters]:
    sim = Simulator(seed)
    a, b = Recorder(sim, "a"), Recorder(sim, "b")
    counters = Counters()
    link = Link(sim, a.port, b.port, Trace(enabled=False), counters, ChannelConfig(**config))  # type: ignore[arg-type]
    return sim, a, b, link, counters


def frame(number: int = 0, payload_len: int = 46) -> bytes:
    """An Ethernet frame whose payload starts with ``number`` (to follow it through the link)."""
    payload = number.to_bytes(4, "big") + bytes(max(0, payload_len - 4))
    return EthernetHeader(B_MAC, A_MAC, EtherType.IPV4).emit(payload[:payload_len], pad=False)


def numbers(received: list[tuple[int, bytes]]) -> list[int]:
    return [int.from_bytes(data[14:18], "big") for _, data in received]


# --- timing ------------------------------------------------------------------------------------------------


class TestTiming:
    def test_a_full_frame_takes_12304_ns_at_1_gbit(self) -> None:
        # 1500 octets of payload + 14 of header = 1514; + FCS 4, preamble 8, gap 12 = 1538 octets.
        sim, a, b, link, _ = wire(rate=1_000_000_000)
        full = frame(payload_len=1500)
        assert len(full) == 1514
        assert link.forward.serialisation_time(1514) == 1538 * 8 == 12_304
        assert a.port.send(full)
        sim.run()
        assert b.received == [(12_304, full)]

    def test_a_short_frame_is_padded_to_the_minimum_on_the_wire(self) -> None:
        _, _, _, link, _ = wire()
        assert link.forward.serialisation_time(20) == (60 + 24) * 8  # 672 ns

    def test_the_rate_scales_serialisation(self) -> None:
        sim, a, b, _, _ = wire(rate=10_000_000)
        a.port.send(frame(payload_len=1500))
        sim.run()
        assert b.received[0][0] == 1_230_400

    def test_propagation_delay_adds_to_serialisation(self) -> None:
        sim, a, b, _, _ = wire(delay=5 * MILLISECOND)
        a.port.send(frame(payload_len=1500))
        sim.run()
        assert b.received[0][0] == 12_304 + 5 * MILLISECOND

    def test_back_to_back_frames_queue_behind_each_other(self) -> None:
        sim, a, b, _, _ = wire(delay=1000)
        for number in range(3):
            assert a.port.send(frame(number, payload_len=1500))
        sim.run()
        assert [when for when, _ in b.received] == [12_304 + 1000, 24_608 + 1000, 36_912 + 1000]
        assert numbers(b.received) == [0, 1, 2]

    def test_a_frame_sent_on_an_idle_link_starts_at_once(self) -> None:
        sim, a, b, _, _ = wire()
        a.port.send(frame(0, payload_len=1500))
        sim.call_at(100_000, lambda _: a.port.send(frame(1, payload_len=1500)))
        sim.run()
        assert [when for when, _ in b.received] == [12_304, 100_000 + 12_304]

    def test_the_two_directions_are_independent(self) -> None:
        # Full duplex: b's frame does not wait for a's.
        sim, a, b, _, _ = wire()
        a.port.send(frame(1, payload_len=1500))
        b.port.send(frame(2, payload_len=1500))
        sim.run()
        assert a.received[0][0] == b.received[0][0] == 12_304


class TestQueueAndMtu:
    def test_tail_drop_when_the_queue_is_full(self) -> None:
        sim, a, b, _, counters = wire(queue_frames=3)
        accepted = [a.port.send(frame(number, payload_len=1500)) for number in range(5)]
        assert accepted == [True, True, True, False, False]
        assert counters["link.drop.queue-full"] == 2
        sim.run()
        assert numbers(b.received) == [0, 1, 2]  # the newest were dropped, not the oldest

    def test_the_queue_drains_as_frames_leave(self) -> None:
        sim, a, _, _, counters = wire(queue_frames=2)
        a.port.send(frame(0, payload_len=1500))
        a.port.send(frame(1, payload_len=1500))
        assert not a.port.send(frame(2, payload_len=1500))
        sim.run(until=12_304)  # the first is on the far side now
        assert a.port.send(frame(3, payload_len=1500))
        assert counters["link.drop.queue-full"] == 1

    def test_an_oversize_frame_is_dropped(self) -> None:
        sim, a, b, _, counters = wire(mtu=1500)
        assert not a.port.send(frame(payload_len=1501))
        assert counters["link.drop.oversize"] == 1
        assert a.port.send(frame(payload_len=1500))
        sim.run()
        assert len(b.received) == 1

    def test_a_vlan_tag_does_not_count_against_the_mtu(self) -> None:
        sim, a, b, _, counters = wire(mtu=1500)
        tagged = EthernetHeader(B_MAC, A_MAC, EtherType.IPV4, VlanTag(10)).emit(bytes(1500))
        assert len(tagged) == 1518
        assert a.port.send(tagged)
        sim.run()
        assert counters["link.drop.oversize"] == 0
        assert len(b.received) == 1

    def test_a_link_down_drops_everything_until_it_is_up(self) -> None:
        sim, a, b, link, counters = wire()
        link.set_up(False)
        assert not a.port.send(frame(0))
        assert not b.port.send(frame(1))
        assert counters["link.drop.link-down"] == 2
        link.set_up(True)
        assert a.port.send(frame(2))
        sim.run()
        assert numbers(b.received) == [2]
        assert a.received == []

    def test_counters(self) -> None:
        sim, a, _, _, counters = wire()
        a.port.send(frame(payload_len=100))
        a.port.send(frame(payload_len=200))
        sim.run()
        assert (counters["link.tx.frames"], counters["link.tx.octets"], counters["link.rx.frames"]) == (2, 328, 2)

    def test_impossible_settings_are_refused(self) -> None:
        with pytest.raises(ValueError, match="impossible"):
            wire(rate=0)
        with pytest.raises(ValueError, match="impossible"):
            wire(mtu=67)


# --- seeded impairments -----------------------------------------------------------------------------------

FRAMES = 10_000


def impaired(seed: int = 1, **config: object) -> tuple[list[tuple[int, bytes]], Counters]:
    sim, a, b, _, counters = wire(seed, queue_frames=FRAMES, **config)
    for number in range(FRAMES):
        a.port.send(frame(number))
    sim.run()
    return b.received, counters


class TestImpairments:
    def test_loss_rate_is_roughly_as_configured(self) -> None:
        received, counters = impaired(loss=0.1)
        assert 8_850 <= len(received) <= 9_150  # 10% of 10,000 ± 5 standard deviations (30)
        assert counters["link.lost"] == FRAMES - len(received)
        assert numbers(received) == sorted(numbers(received))  # loss alone never reorders

    def test_duplicate_rate_is_roughly_as_configured(self) -> None:
        received, counters = impaired(duplicate=0.05)
        assert 10_390 <= len(received) <= 10_610  # 5% ± 5 sd (22)
        assert counters["link.duplicated"] == len(received) - FRAMES
        assert set(numbers(received)) == set(range(FRAMES))

    def test_reorder_rate_is_roughly_as_configured(self) -> None:
        received, counters = impaired(reorder=0.1, reorder_delay=1 * MILLISECOND)
        assert 850 <= counters["link.reordered"] <= 1_150
        order = numbers(received)
        assert sorted(order) == list(range(FRAMES))  # nothing lost or added
        overtaken = sum(1 for earlier, later in pairwise(order) if earlier > later)
        assert overtaken > 0

    @pytest.mark.parametrize(
        "config",
        [
            pytest.param({"loss": 0.2}, id="loss"),
            pytest.param({"duplicate": 0.1}, id="duplicate"),
            pytest.param({"reorder": 0.2}, id="reorder"),
            pytest.param({"loss": 0.1, "duplicate": 0.1, "reorder": 0.1, "corrupt": 0.1}, id="everything"),
        ],
    )
    def test_the_same_seed_gives_the_same_run_and_another_seed_another(self, config: dict[str, float]) -> None:
        first, _ = impaired(seed=42, **config)
        again, _ = impaired(seed=42, **config)
        other, _ = impaired(seed=43, **config)
        assert first == again
        assert first != other

    def test_no_impairment_draws_nothing(self) -> None:
        received, counters = impaired()
        assert len(received) == FRAMES
        assert counters["link.lost"] == counters["link.duplicated"] == counters["link.reordered"] == 0


# --- corruption and the FCS ----------------------------------------------------------------------------------


def ip_frames() -> list[bytes]:
    """IPv4 frames with every kind of checksummed payload (padded to 60 octets where short)."""

    def ethernet(packet: bytes) -> bytes:
        return EthernetHeader(B_MAC, A_MAC, EtherType.IPV4).emit(packet)

    udp = UdpHeader(40000, 53).emit(b"a query of some length", A_IP, B_IP)
    tcp = TcpHeader(50000, 80, 1, 2, TcpFlags.ACK | TcpFlags.PSH, 65535).emit(b"GET / HTTP/1.1\r\n", A_IP, B_IP)
    icmp = IcmpMessage.echo_request(1, 1, b"ping data").emit()
    return [
        ethernet(Ipv4Header(A_IP, B_IP, IpProtocol.UDP).emit(udp)),
        ethernet(Ipv4Header(A_IP, B_IP, IpProtocol.TCP).emit(tcp)),
        ethernet(Ipv4Header(A_IP, B_IP, IpProtocol.ICMP).emit(icmp)),
        ethernet(Ipv4Header(A_IP, B_IP, IpProtocol.ICMP).emit(IcmpMessage.echo_request(1, 2).emit())),  # padded
    ]


def differing_bits(before: bytes, after: bytes) -> list[int]:
    assert len(before) == len(after)
    return [
        index * 8 + bit
        for index, (x, y) in enumerate(zip(before, after, strict=True))
        for bit in range(8)
        if (x ^ y) & (0x80 >> bit)
    ]


def checksum_error(frame_bytes: bytes) -> MalformedPacket | None:
    """What a receiving stack's checksums say about an IPv4 frame (None: it all verifies)."""
    try:
        header, payload = Ipv4Header.parse(frame_bytes[14:])
        if header.protocol == IpProtocol.UDP:
            UdpHeader.parse(payload, header.src, header.dst)
        elif header.protocol == IpProtocol.TCP:
            TcpHeader.parse(payload, header.src, header.dst)
        elif header.protocol == IpProtocol.ICMP:
            IcmpMessage.parse(payload)
    except MalformedPacket as error:
        return error
    return None


class TestCorruption:
    def test_by_default_a_corrupted_frame_fails_the_fcs_and_is_never_delivered(self) -> None:
        sim, a, b, _, counters = wire(corrupt=1.0)
        for data in ip_frames() * 25:
            a.port.send(data)
        sim.run()
        assert b.received == []
        assert counters["link.corrupted"] == counters["link.rx.bad-fcs"] == 100
        assert counters["link.rx.frames"] == 0

    def test_a_partial_corruption_rate_delivers_only_intact_frames(self) -> None:
        sim, a, b, _, counters = wire(seed=3, corrupt=0.3, queue_frames=2000)
        originals = set(ip_frames())
        for data in ip_frames() * 500:
            a.port.send(data)
        sim.run()
        assert all(data in originals for _, data in b.received)
        assert len(b.received) + counters["link.rx.bad-fcs"] == 2000
        assert 500 <= counters["link.rx.bad-fcs"] <= 700  # 30% ± 5 sd

    def test_past_the_fcs_exactly_one_bit_differs_in_checksummed_octets(self) -> None:
        sim, a, b, _, counters = wire(seed=9, corrupt=1.0, corrupt_past_fcs=True, queue_frames=1000)
        sent = ip_frames() * 200
        for data in sent:
            a.port.send(data)
        sim.run()
        assert counters["link.rx.bad-fcs"] == 0
        assert len(b.received) == len(sent)
        for original, (_, delivered) in zip(sent, b.received, strict=True):
            [bit] = differing_bits(original, delivered)
            total = int.from_bytes(original[16:18], "big")  # the IPv4 total length
            assert 14 * 8 <= bit < (14 + total) * 8  # never the MACs, EtherType or padding
            error = checksum_error(delivered)
            assert error is not None, f"bit {bit} of a {len(original)}-octet frame went unnoticed"
            assert error.reason in (
                Malformation.BAD_CHECKSUM,
                Malformation.TRUNCATED,
                Malformation.BAD_LENGTH,
                Malformation.BAD_VERSION,
            )

    def test_past_the_fcs_udp_without_checksum_is_hit_only_in_its_ip_header(self) -> None:
        udp = UdpHeader(40000, 53, no_checksum=True).emit(b"unprotected data", A_IP, B_IP)
        data = EthernetHeader(B_MAC, A_MAC, EtherType.IPV4).emit(Ipv4Header(A_IP, B_IP, IpProtocol.UDP).emit(udp))
        sim, a, b, _, _ = wire(seed=2, corrupt=1.0, corrupt_past_fcs=True, queue_frames=500)
        for _ in range(300):
            a.port.send(data)
        sim.run()
        for _, delivered in b.received:
            [bit] = differing_bits(data, delivered)
            assert 14 * 8 <= bit < 34 * 8
            assert checksum_error(delivered) is not None

    def test_past_the_fcs_a_non_ip_frame_still_fails_the_fcs(self) -> None:
        # ARP has no checksum of its own: the model falls back to a bad FCS rather than deliver it.
        arp = EthernetHeader(B_MAC, A_MAC, EtherType.ARP).emit(ArpPacket.request(A_MAC, A_IP, B_IP).emit())
        sim, a, b, _, counters = wire(corrupt=1.0, corrupt_past_fcs=True)
        for _ in range(10):
            a.port.send(arp)
        sim.run()
        assert b.received == []
        assert counters["link.rx.bad-fcs"] == 10

    def test_past_the_fcs_a_udp_checksum_of_one_bit_cannot_be_flipped_to_no_checksum(self) -> None:
        data = EthernetHeader(B_MAC, A_MAC, EtherType.IPV4).emit(
            Ipv4Header(A_IP, B_IP, IpProtocol.UDP).emit(udp_with_checksum_one())
        )
        sim, a, b, _, _ = wire(seed=4, corrupt=1.0, corrupt_past_fcs=True, queue_frames=3000)
        for _ in range(2000):
            a.port.send(data)
        sim.run()
        unnoticed = [delivered for _, delivered in b.received if checksum_error(delivered) is None]
        assert unnoticed == []


def udp_with_checksum_one() -> bytes:
    """A UDP datagram whose checksum field is 0x0001: two octets of data chosen to make it so."""
    plain = UdpHeader(40000, 53).emit(b"\x00\x00", A_IP, B_IP)
    folded_sum = ~int.from_bytes(plain[6:8], "big") & 0xFFFF
    assert folded_sum != 0xFFFF
    filler = 0xFFFE - folded_sum  # the sum becomes 0xFFFE, so the checksum is ~0xFFFE = 0x0001
    datagram = UdpHeader(40000, 53).emit(filler.to_bytes(2, "big"), A_IP, B_IP)
    assert datagram[6:8] == b"\x00\x01"
    return datagram
