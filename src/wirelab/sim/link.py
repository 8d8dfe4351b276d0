"""Ports and full-duplex point-to-point links (layer 1).

A link joins two ports; each direction is its own :class:`Channel` with a transmitter that
serialises one frame at a time at the link's rate, a bounded transmit queue (tail drop), the
propagation delay, an MTU, and seeded impairments. Serialisation counts what Ethernet really puts on
the wire for each frame: the frame, its 4-octet FCS, the 8-octet preamble and the 12-octet
inter-frame gap (IEEE 802.3), so 1 Gbit/s carries at most 81,274 full-size frames a second, as real
Ethernet does.

Corruption flips exactly one bit. Real Ethernet's FCS (CRC-32) catches every single-bit error, so by
default the receiving NIC drops a corrupted frame ("bad FCS") and nothing corrupted is delivered. With
``corrupt_past_fcs`` the flip happens *after* the FCS check (a faulty NIC or switch memory): it lands
in bytes an Internet checksum covers, so IP, ICMP, UDP or TCP must catch it — a single-bit error
always changes a one's complement sum. That promise holds end to end because a frame is corrupted at
most once (the network's links share a memory of the frames they corrupted: two flips could cancel
in the sum, as they sometimes do on real networks), and never so as to zero a UDP checksum.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from random import Random
from typing import TYPE_CHECKING, Final, Protocol

from wirelab.trace import Counters, Layer, Trace

if TYPE_CHECKING:
    from wirelab.sim.engine import Simulator

ETHERNET_OVERHEAD_OCTETS: Final = 4 + 8 + 12  # FCS, preamble + SFD, inter-frame gap
MIN_FRAME_OCTETS: Final = 60  # without FCS
CORRUPTED_MEMORY: Final = 100_000  # corrupted frames remembered (oldest forgotten first)
ETHERNET_HEADER_OCTETS: Final = 14
VLAN_TAG_OCTETS: Final = 4


class Node(Protocol):
    """Anything with ports: a host's or router's interfaces, a switch."""

    name: str

    def receive(self, port: Port, frame: bytes) -> None: ...


class Port:
    """One connector of a node. Frames sent on it go into the link's channel away from this port."""

    __slots__ = ("channel", "index", "name", "node", "taps")

    def __init__(self, node: Node, index: int, name: str | None = None) -> None:
        self.node = node
        self.index = index
        self.name = name or f"{node.name}:{index}"
        self.channel: Channel | None = None  # set when a link is attached
        self.taps: list[Callable[[int, bytes], None]] = []

    @property
    def connected(self) -> bool:
        return self.channel is not None

    def send(self, frame: bytes) -> bool:
        """Hand a frame to the link; False when it was not accepted (unplugged, queue full, too big)."""
        channel = self.channel
        if channel is None:
            return False
        return channel.transmit(frame)

    def __repr__(self) -> str:
        return f"Port({self.name})"


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """The properties of one direction of a link."""

    rate: int = 1_000_000_000  # bits per second
    delay: int = 0  # propagation, nanoseconds
    mtu: int = 1500  # largest IP packet (frame payload) the link takes
    queue_frames: int = 1000  # transmit queue, like Linux's default txqueuelen
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0  # probability that a frame is held back by ``reorder_delay``
    reorder_delay: int = 1_000_000
    corrupt: float = 0.0
    corrupt_past_fcs: bool = False

    def with_changes(self, **changes: object) -> ChannelConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


class Channel:
    """One direction of a link: a transmitter, its queue, the wire, and the receiving port."""

    __slots__ = (
        "_busy_until",
        "_deliver_frame",
        "_impaired",
        "_in_flight",
        "_random",
        "config",
        "corrupted",
        "counters",
        "destination",
        "name",
        "sim",
        "source",
        "trace",
        "up",
    )

    def __init__(
        self,
        sim: Simulator,
        source: Port,
        destination: Port,
        config: ChannelConfig,
        trace: Trace,
        counters: Counters,
    ) -> None:
        self.sim = sim
        self.source = source
        self.destination = destination
        self.name = f"{source.name}->{destination.name}"
        self.trace = trace
        self.counters = counters
        self.up = True
        # Frames this channel (or, when shared by the network, any channel) corrupted past the FCS:
        # they are never flipped a second time, so a single-bit error is all a checksum ever faces.
        self.corrupted: dict[bytes, None] = {}
        # The random stream is made when first drawn from (only impairments draw): a Mersenne Twister
        # holds ~2.5 KB, and most channels never need one. Its seed depends only on the simulator's
        # seed and the channel's name, so a stream made late draws exactly what one made here would.
        self._random: Random | None = None
        # Finish times of the frames queued or being serialised, oldest first; None while at most one
        # frame is in flight (then its finish time is _busy_until), so an idle channel holds no deque.
        self._in_flight: deque[int] | None = None
        self._busy_until = 0
        self._deliver_frame = self._deliver  # bound once: the hot path posts it for every frame
        self.configure(config)

    @property
    def random(self) -> Random:
        """This channel's own random stream, ``sim.random("channel <name>")``."""
        rng = self._random
        if rng is None:
            rng = self._random = self.sim.random(f"channel {self.name}")
        return rng

    @random.setter
    def random(self, rng: Random) -> None:
        self._random = rng

    def configure(self, config: ChannelConfig) -> None:
        if config.rate <= 0 or config.delay < 0 or config.mtu < 68 or config.queue_frames < 1:
            raise ValueError(f"{self.name}: impossible link settings {config}")
        self.config = config
        self._impaired = bool(config.loss or config.duplicate or config.reorder or config.corrupt)

    def serialisation_time(self, octets: int) -> int:
        """Nanoseconds to put a frame of ``octets`` (without FCS) on the wire, overhead included."""
        bits = (max(octets, MIN_FRAME_OCTETS) + ETHERNET_OVERHEAD_OCTETS) * 8
        return -(-bits * 1_000_000_000 // self.config.rate)

    def transmit(self, frame: bytes) -> bool:
        # The hot path of every simulation: one call per frame per link, so no helper calls and no
        # allocation beyond the event itself.
        if not self.up:
            return self._drop(frame, "link-down")
        config = self.config
        size = len(frame)
        payload = size - ETHERNET_HEADER_OCTETS
        if payload > config.mtu and not (payload - VLAN_TAG_OCTETS <= config.mtu and frame[12:14] == b"\x81\x00"):
            return self._drop(frame, "oversize", mtu=config.mtu, size=payload)
        sim = self.sim
        now = sim.now
        start = self._busy_until
        if start <= now:
            # Idle: nothing queued or on the wire. This frame is alone in flight.
            self._in_flight = None
            start = now
            in_flight = None
        else:
            in_flight = self._in_flight
            if in_flight is None:
                in_flight = self._in_flight = deque((start,))  # the one frame being serialised
            else:
                while in_flight[0] <= now:  # the last one finishes at _busy_until > now: never empties
                    in_flight.popleft()
            if len(in_flight) >= config.queue_frames:
                return self._drop(frame, "queue-full", queued=len(in_flight))
        octets = (size if size > MIN_FRAME_OCTETS else MIN_FRAME_OCTETS) + ETHERNET_OVERHEAD_OCTETS
        finish = start - (-octets * 8_000_000_000 // config.rate)  # serialisation_time(), inlined
        self._busy_until = finish
        if in_flight is not None:
            in_flight.append(finish)
        counters = self.counters
        counters["link.tx.frames"] += 1
        counters["link.tx.octets"] += size
        taps = self.source.taps
        if taps:
            for tap in taps:
                tap(start, frame)
        if not self._impaired:
            sim.post(finish + config.delay, self._deliver_frame, frame)
            return True
        return self._impair(frame, finish + config.delay)

    def _impair(self, frame: bytes, arrival: int) -> bool:
        config = self.config
        rng = self.random
        if config.loss and rng.random() < config.loss:
            self.counters["link.lost"] += 1
            if self.trace.enabled:
                self.trace.emit(self.sim.now, self.name, Layer.PHYSICAL, "link.lost", channel=self.name)
            return True  # the transmitter sent it; the wire lost it
        if config.reorder and rng.random() < config.reorder:
            arrival += config.reorder_delay
            self.counters["link.reordered"] += 1
        deliver = self._deliver
        if config.corrupt and rng.random() < config.corrupt and frame not in self.corrupted:
            # A frame already corrupted past the FCS upstream is not flipped again: two flips can cancel
            # in a one's complement sum, and the model promises that every corruption is caught.
            frame, good_fcs = self._flip_one_bit(frame, rng)
            if good_fcs:
                self._remember_corrupted(frame)
            self.counters["link.corrupted"] += 1
            if not good_fcs:
                deliver = self._deliver_bad_fcs
            if self.trace.enabled:
                self.trace.emit(
                    self.sim.now, self.name, Layer.PHYSICAL, "link.corrupted", channel=self.name, past_fcs=good_fcs
                )
        self.sim.post(arrival, deliver, frame)
        if config.duplicate and rng.random() < config.duplicate:
            self.counters["link.duplicated"] += 1
            self.sim.post(arrival, deliver, frame)
        return True

    def _flip_one_bit(self, frame: bytes, rng: Random) -> tuple[bytes, bool]:
        """Flip one bit; returns the frame and whether its FCS still looks good (past-FCS mode)."""
        start, end = 0, len(frame)
        past_fcs = False
        if self.config.corrupt_past_fcs:
            covered = _checksum_covered_span(frame)
            if covered is not None:
                start, end = covered
                past_fcs = True
        mutable = bytearray(frame)
        while True:
            bit = rng.randrange((end - start) * 8)
            position = start + bit // 8
            mutable[position] ^= 0x80 >> (bit % 8)
            if not past_fcs or not _zeroed_udp_checksum(mutable, start, position):
                return bytes(mutable), past_fcs
            # A UDP checksum with one bit set would become 0, "no checksum" (RFC 768), and the datagram
            # would pass unchecked: flip another bit instead (only that one position can do this).
            mutable[position] ^= 0x80 >> (bit % 8)

    def _remember_corrupted(self, frame: bytes) -> None:
        corrupted = self.corrupted
        corrupted[frame] = None
        if len(corrupted) > CORRUPTED_MEMORY:
            del corrupted[next(iter(corrupted))]

    def _deliver(self, frame: bytes) -> None:
        destination = self.destination
        self.counters["link.rx.frames"] += 1
        taps = destination.taps
        if taps:
            for tap in taps:
                tap(self.sim.now, frame)
        destination.node.receive(destination, frame)

    def _deliver_bad_fcs(self, frame: bytes) -> None:
        """The NIC computes the CRC-32, finds it wrong and discards the frame (IEEE 802.3 §3.2.9)."""
        for tap in self.destination.taps:
            tap(self.sim.now, frame)
        self.counters["link.rx.bad-fcs"] += 1
        if self.trace.enabled:
            self.trace.emit(
                self.sim.now, self.destination.name, Layer.PHYSICAL, "link.bad-fcs", port=self.destination.name
            )

    def _drop(self, frame: bytes, reason: str, **fields: object) -> bool:
        self.counters[f"link.drop.{reason}"] += 1
        if self.trace.enabled:
            self.trace.emit(
                self.sim.now, self.source.name, Layer.PHYSICAL, f"link.drop.{reason}", channel=self.name, **fields
            )
        return False


def _checksum_covered_span(frame: bytes) -> tuple[int, int] | None:
    """Octets of an IPv4 frame covered by an Internet checksum, or None if not an IPv4 frame.

    The IP header is covered by its own checksum; a TCP, ICMP or checksummed UDP payload by the
    transport checksum. (UDP with checksum 0 is covered only in its IP header.)
    """
    offset = ETHERNET_HEADER_OCTETS
    ethertype = frame[12:14]
    if ethertype == b"\x81\x00":
        offset += VLAN_TAG_OCTETS
        ethertype = frame[16:18]
    if ethertype != b"\x08\x00" or len(frame) < offset + 20:
        return None
    header_len = (frame[offset] & 0x0F) * 4
    total = int.from_bytes(frame[offset + 2 : offset + 4], "big")
    if header_len < 20 or total < header_len or offset + total > len(frame):
        return None
    protocol = frame[offset + 9]
    fragment = int.from_bytes(frame[offset + 6 : offset + 8], "big") & 0x3FFF
    end = offset + header_len
    if not fragment and protocol in (1, 6, 17):
        udp_unchecked = protocol == 17 and frame[end + 6 : end + 8] == b"\x00\x00"
        if not udp_unchecked:
            end = offset + total
    return offset, end


def _zeroed_udp_checksum(frame: bytearray, ip_start: int, position: int) -> bool:
    """Whether the flip at ``position`` landed in a UDP checksum and left it 0x0000."""
    if frame[ip_start + 9] != 17:
        return False
    checksum_at = ip_start + (frame[ip_start] & 0x0F) * 4 + 6
    return checksum_at <= position < checksum_at + 2 and frame[checksum_at : checksum_at + 2] == b"\x00\x00"


class Link:
    """A full-duplex cable between two ports: two independent channels."""

    def __init__(
        self,
        sim: Simulator,
        a: Port,
        b: Port,
        trace: Trace,
        counters: Counters,
        config: ChannelConfig | None = None,
        config_back: ChannelConfig | None = None,
        corrupted: dict[bytes, None] | None = None,
    ) -> None:
        if a.connected or b.connected:
            raise ValueError(f"port already connected: {a if a.connected else b}")
        if a.node is b.node:
            raise ValueError(f"a link from {a.node.name} to itself")
        forward = config or ChannelConfig()
        self.a, self.b = a, b
        self.name = f"{a.name}<->{b.name}"
        self.forward = Channel(sim, a, b, forward, trace, counters)
        self.backward = Channel(sim, b, a, config_back or forward, trace, counters)
        if corrupted is not None:  # shared by every link of a network (see Channel.corrupted)
            self.forward.corrupted = self.backward.corrupted = corrupted
        a.channel = self.forward
        b.channel = self.backward

    def set_up(self, up: bool) -> None:
        self.forward.up = self.backward.up = up

    def channel_from(self, port: Port) -> Channel:
        if port is self.a:
            return self.forward
        if port is self.b:
            return self.backward
        raise ValueError(f"{port} is not an end of {self.name}")
